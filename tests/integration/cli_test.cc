// The command line of the real binary: help, the embedded default config, validation errors
// with their paths, and a graceful stop.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/strings.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

// A temp dir for config files, removed with the test.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "otlpd-cli-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  bool ok() const { return !path_.empty(); }
  std::string write(std::string_view name, std::string_view contents) const {
    const std::string file = strCat(path_, "/", name);
    std::ofstream(file) << contents;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The line of `output` that mentions `path` and `detail`, or "" if none does. Errors must be one
// per line so that both belong to the same error.
std::string lineWith(std::string_view output, std::string_view path, std::string_view detail) {
  std::istringstream in{std::string(output)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(path) != std::string::npos && line.find(detail) != std::string::npos) {
      return line;
    }
  }
  return {};
}

TEST(CliTest, HelpExitsZeroAndMentionsServe) {
  auto r = runOtlpd({"--help"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.cleanExit()) << r->status.toString() << "\n" << r->err;
  EXPECT_TRUE(absl::StrContains(r->out + r->err, "serve")) << r->out << r->err;
}

TEST(CliTest, ConfigDefaultPrintsYamlWithTheGrpcPort) {
  auto r = runOtlpd({"config", "default"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.cleanExit()) << r->status.toString() << "\n" << r->err;
  EXPECT_TRUE(absl::StrContains(r->out, "4317")) << r->out;
  YAML::Node root;
  try {
    root = YAML::Load(r->out);
  } catch (const YAML::Exception& e) {
    FAIL() << "`otlpd config default` is not YAML: " << e.what() << "\n" << r->out;
  }
  ASSERT_TRUE(root.IsMap()) << r->out;
  EXPECT_TRUE(root["receivers"].IsMap()) << r->out;
  EXPECT_TRUE(root["service"]["pipelines"].IsMap()) << r->out;
  // The viewer reads what the store writes: one directory for both.
  EXPECT_EQ(root["extensions"]["jaeger_query"]["store"]["directory"].as<std::string>(""),
            root["exporters"]["store"]["directory"].as<std::string>("-"))
      << r->out;
}

TEST(CliTest, ValidateAcceptsTheEmbeddedDefault) {
  auto printed = runOtlpd({"config", "default"});
  ASSERT_TRUE(printed.ok()) << printed.status();
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto r = runOtlpd({"validate", "--config", dir.write("default.yaml", printed->out)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.cleanExit()) << r->status.toString() << "\n" << r->out << r->err;
}

TEST(CliTest, ValidateAcceptsTheStandardConfig) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string config = OtlpdProcess::standardConfig();
  for (size_t at = config.find("@DIR@"); at != std::string::npos; at = config.find("@DIR@")) {
    config.replace(at, 5, dir.path());
  }
  auto r = runOtlpd({"validate", "--config", dir.write("good.yaml", config)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.cleanExit()) << r->status.toString() << "\n" << r->out << r->err;
}

TEST(CliTest, ValidateReportsEveryErrorWithItsPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string bad = dir.write("bad.yaml", R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", no_such_option: 1 }
exporters:
  teleporter: {}
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp/missing], exporters: [debug] }
    logs: { receivers: [otlp], exporters: [debug] }
)");
  auto r = runOtlpd({"validate", "--config", bad});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->status.exited) << r->status.toString();
  EXPECT_NE(r->status.code, 0) << "validate accepted a bad config:\n" << r->out << r->err;
  const std::string output = r->out + r->err;
  EXPECT_NE(lineWith(output, "exporters.teleporter", "teleporter"), "")
      << "no error for the unknown exporter type at exporters.teleporter:\n"
      << output;
  EXPECT_NE(lineWith(output, "service.pipelines.traces.receivers", "otlp/missing"), "")
      << "no error for the undefined receiver at service.pipelines.traces.receivers:\n"
      << output;
  EXPECT_NE(lineWith(output, "receivers.otlp.protocols.grpc.no_such_option", ""), "")
      << "no error for the unknown key at receivers.otlp.protocols.grpc.no_such_option:\n"
      << output;
}

// config_node.h promises line:column "when the YAML came from a file"; a wrong line is worse
// than none, so when one is printed it must be the offending key's.
TEST(CliTest, ValidateLineNumbersPointAtTheOffendingKey) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string bad = dir.write("bad.yaml", R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
exporters:
  teleporter: {}
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
)");
  auto r = runOtlpd({"validate", "--config", bad});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string output = r->out + r->err;
  const std::string line = lineWith(output, "exporters.teleporter", "teleporter");
  ASSERT_NE(line, "") << output;
  if (contains(line, "(line ")) {
    EXPECT_TRUE(contains(line, "(line 6:")) << "'teleporter' is on line 6 of the file: " << line;
  }
}

TEST(CliTest, ValidateOfMissingFileFails) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  auto r = runOtlpd({"validate", "--config", dir.path() + "/does-not-exist.yaml"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->status.cleanExit()) << r->out << r->err;
}

TEST(CliTest, SigtermStopsServeWithExitCodeZero) {
  auto p = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(p.ok()) << p.status();
  OtlpdProcess& process = **p;
  ASSERT_TRUE(process.running());
  // It is serving before it is asked to stop.
  auto health = httpRequest(process.healthEndpoint(), "GET", "/");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);

  const ExitStatus s = process.stop();
  EXPECT_TRUE(s.cleanExit()) << s.toString() << "\nstderr:\n" << process.stderrContents();
  EXPECT_FALSE(process.running());
  // The listeners are gone with it.
  EXPECT_FALSE(httpRequest(process.httpEndpoint(), "GET", "/").ok());
}

}  // namespace
}  // namespace otlpd::integration
