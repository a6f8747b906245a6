#include "exporters/file/file_exporter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "common/compression.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "pipeline/batch.h"

namespace otlpd::exporters::file {
namespace {

namespace fs = std::filesystem;
using pipeline::Batch;
using pipeline::Signal;

class NullHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

std::string readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Spans of `resources` resources; resource i has service.name "svc<i>" and, when `segments` names
// one, the grouping attribute.
Batch traces(const std::vector<std::string>& segments, int spans_per_resource = 2) {
  Batch b = Batch::create(Signal::kTraces);
  for (size_t r = 0; r < segments.size(); ++r) {
    auto* rs = b.mutableTraces().add_resource_spans();
    auto* name = rs->mutable_resource()->add_attributes();
    name->set_key("service.name");
    name->mutable_value()->set_string_value("svc" + std::to_string(r));
    if (!segments[r].empty()) {
      auto* seg = rs->mutable_resource()->add_attributes();
      seg->set_key("fileexporter.path_segment");
      seg->mutable_value()->set_string_value(segments[r]);
    }
    auto* ss = rs->add_scope_spans();
    for (int i = 0; i < spans_per_resource; ++i) {
      auto* span = ss->add_spans();
      span->set_trace_id(std::string(16, static_cast<char>(r + 1)));
      span->set_span_id(std::string(8, static_cast<char>(i + 1)));
      span->set_name("op" + std::to_string(i));
    }
  }
  return b;
}

// Splits length-prefixed records (4-byte big-endian length, then the bytes).
std::vector<std::string> records(std::string_view bytes) {
  std::vector<std::string> out;
  while (bytes.size() >= 4) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) << 24) |
                       (static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 16) |
                       (static_cast<uint32_t>(static_cast<uint8_t>(bytes[2])) << 8) |
                       static_cast<uint32_t>(static_cast<uint8_t>(bytes[3]));
    EXPECT_LE(n, bytes.size() - 4);
    out.emplace_back(bytes.substr(4, n));
    bytes.remove_prefix(4 + std::min<size_t>(n, bytes.size() - 4));
  }
  EXPECT_TRUE(bytes.empty()) << "trailing bytes";
  return out;
}

class FileExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("otlpd-file-exporter-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string at(const std::string& name) const { return (dir_ / name).string(); }

  // The options as read from `yaml` (with @DIR@ replaced), and the errors as text.
  // `yaml` with @DIR@ replaced by the test's directory, parsed.
  YAML::Node parse(std::string yaml) const {
    for (size_t p; (p = yaml.find("@DIR@")) != std::string::npos;) {
      yaml.replace(p, 5, dir_.string());
    }
    auto node = config::parseYaml(yaml, "t.yaml");
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? *node : YAML::Node();
  }

  std::pair<FileExporterOptions, std::string> options(const std::string& yaml) {
    config::ConfigErrors errors;
    config::ConfigNode cfg(parse(yaml), "exporters.file", errors);
    FileExporterOptions o = readFileExporterOptions(cfg);
    cfg.rejectUnknownKeys();
    return {o, errors.toString()};
  }

  std::unique_ptr<pipeline::Exporter> make(const std::string& yaml) {
    config::ConfigErrors errors;
    config::ConfigNode cfg(parse(yaml), "exporters.file", errors);
    auto e = makeFileExporterFactory()->create(pipeline::CreateSettings{{"file", ""}, metrics_},
                                               cfg, Signal::kTraces);
    cfg.rejectUnknownKeys();
    EXPECT_TRUE(errors.empty()) << errors.toString();
    EXPECT_TRUE(e.ok());
    EXPECT_TRUE((*e)->start(host_).ok());
    return *std::move(e);
  }

  uint64_t counter(const std::string& name) {
    std::istringstream text(metrics_.renderPrometheus());
    for (std::string line; std::getline(text, line);) {
      if (line.starts_with(name + "{") || line.starts_with(name + " ")) {
        return std::stoull(line.substr(line.rfind(' ') + 1));
      }
    }
    return 0;
  }

  fs::path dir_;
  common::MetricsRegistry metrics_;
  NullHost host_;
};

TEST_F(FileExporterTest, DefaultsAreTheCollectors) {
  auto [o, errors] = options("{ path: out.json }");
  EXPECT_EQ(errors, "");
  EXPECT_FALSE(o.append);
  EXPECT_EQ(o.format, FileFormat::kJson);
  EXPECT_FALSE(o.zstd);
  EXPECT_EQ(o.flush_interval, absl::Seconds(1));
  EXPECT_FALSE(o.rotation.has_value());
  EXPECT_FALSE(o.group_by);
  EXPECT_EQ(o.group_attribute, "fileexporter.path_segment");
  EXPECT_EQ(o.max_open_files, 100);

  // `rotation:` alone turns rotation on with its defaults.
  auto [r, r_errors] = options("{ path: out.json, rotation: }");
  EXPECT_EQ(r_errors, "");
  ASSERT_TRUE(r.rotation.has_value());
  EXPECT_EQ(r.rotation->max_megabytes, 100);
  EXPECT_EQ(r.rotation->max_backups, 100);
  EXPECT_EQ(r.rotation->max_days, 0);
  EXPECT_FALSE(r.rotation->localtime);
}

TEST_F(FileExporterTest, ACollectorConfigWithEveryKeyIsRead) {
  auto [o, errors] = options(R"(
path: ./data/out.json
format: proto
compression: zstd
flush_interval: 5s
rotation: { max_megabytes: 10, max_days: 3, max_backups: 3, localtime: true }
group_by: { enabled: false, resource_attribute: tenant, max_open_files: 7 }
create_directory: true
directory_permissions: "0700"
)");
  EXPECT_EQ(errors, "");
  EXPECT_EQ(o.format, FileFormat::kProto);
  EXPECT_TRUE(o.zstd);
  EXPECT_EQ(o.flush_interval, absl::Seconds(5));
  ASSERT_TRUE(o.rotation.has_value());
  EXPECT_EQ(o.rotation->max_megabytes, 10);
  EXPECT_EQ(o.rotation->max_days, 3);
  EXPECT_EQ(o.rotation->max_backups, 3);
  EXPECT_TRUE(o.rotation->localtime);
  EXPECT_EQ(o.group_attribute, "tenant");
  EXPECT_EQ(o.max_open_files, 7);
  EXPECT_EQ(o.directory_permissions, 0700u);
}

TEST_F(FileExporterTest, InvalidCombinationsAreRefusedAsTheCollectorRefusesThem) {
  EXPECT_NE(options("{}").second.find("exporters.file.path"), std::string::npos);
  EXPECT_NE(options("{ path: x, format: yaml }").second.find("must be json or proto"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, compression: gzip }").second.find("only zstd"), std::string::npos);
  EXPECT_NE(options("{ path: x, append: true, compression: zstd }").second.find("compression"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, append: true, rotation: {} }").second.find("rotation"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, group_by: { enabled: true } }").second.find("exactly one *"),
            std::string::npos);
  EXPECT_NE(options("{ path: '*/x', group_by: { enabled: true } }").second.find("must not start"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, directory_permissions: '0755' }").second.find("create_directory"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, create_directory: true, directory_permissions: '0999' }")
                .second.find("octal"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, encoding: otlp_encoding }").second.find("not supported"),
            std::string::npos);
  EXPECT_NE(options("{ path: x, rotation: { max_size: 3 } }").second.find("unknown key"),
            std::string::npos);
}

TEST_F(FileExporterTest, JsonLinesTruncateAtStartUnlessAppendIsSet) {
  std::ofstream(at("out.json")) << "old line\n";
  auto e = make("{ path: @DIR@/out.json }");
  ASSERT_TRUE(e->consume(traces({"", ""})).ok());
  ASSERT_TRUE(e->consume(traces({""})).ok());
  const std::string text = readAll(at("out.json"));
  EXPECT_EQ(text.find("old line"), std::string::npos);
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  otlp::TracesRequest first;
  ASSERT_TRUE(otlp::parseOtlpJson(lines[0], first).ok());
  EXPECT_EQ(first.resource_spans_size(), 2);
  ASSERT_TRUE(e->shutdown().ok());

  std::ofstream(at("kept.json")) << "old line\n";
  auto appending = make("{ path: @DIR@/kept.json, append: true }");
  ASSERT_TRUE(appending->consume(traces({""})).ok());
  EXPECT_TRUE(readAll(at("kept.json")).starts_with("old line\n{"));
}

TEST_F(FileExporterTest, ProtoAndCompressedRecordsAreLengthPrefixed) {
  const Batch batch = traces({"", ""}, 3);
  const std::string expected = batch.request().SerializeAsString();

  auto proto = make("{ path: @DIR@/out.pb, format: proto }");
  ASSERT_TRUE(proto->consume(traces({"", ""}, 3)).ok());
  ASSERT_TRUE(proto->consume(traces({"", ""}, 3)).ok());
  std::vector<std::string> plain = records(readAll(at("out.pb")));
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0], expected);
  EXPECT_EQ(plain[1], expected);

  auto zstd = make("{ path: @DIR@/out.pb.zst, format: proto, compression: zstd }");
  ASSERT_TRUE(zstd->consume(traces({"", ""}, 3)).ok());
  std::vector<std::string> compressed = records(readAll(at("out.pb.zst")));
  ASSERT_EQ(compressed.size(), 1u);
  std::string out;
  ASSERT_TRUE(common::decompress(common::Compression::kZstd, compressed[0], 1 << 20, out).ok());
  EXPECT_EQ(out, expected);

  // JSON with compression is length-prefixed too (no newline inside compressed bytes).
  auto json_zstd = make("{ path: @DIR@/out.json.zst, compression: zstd }");
  ASSERT_TRUE(json_zstd->consume(traces({""})).ok());
  std::vector<std::string> json_records = records(readAll(at("out.json.zst")));
  ASSERT_EQ(json_records.size(), 1u);
  ASSERT_TRUE(common::decompress(common::Compression::kZstd, json_records[0], 1 << 20, out).ok());
  otlp::TracesRequest parsed;
  EXPECT_TRUE(otlp::parseOtlpJson(out, parsed).ok()) << out;
}

TEST_F(FileExporterTest, RotationRenamesWithATimestampAndKeepsMaxBackups) {
  auto e = make("{ path: @DIR@/data.json, rotation: { max_megabytes: 1, max_backups: 2 } }");
  // ~300 KB per line: a new file every 3–4 batches.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(e->consume(traces({""}, 3000)).ok());
  std::vector<std::string> backups;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name == "data.json") continue;
    backups.push_back(name);
    // data-2022-09-14T05-02-14.173.json
    EXPECT_TRUE(name.starts_with("data-") && name.ends_with(".json")) << name;
    EXPECT_EQ(name.size(), std::string("data-2022-09-14T05-02-14.173.json").size()) << name;
    EXPECT_LE(fs::file_size(entry.path()), size_t{1} << 20) << name;
  }
  // Backups made within one millisecond share a name; at most two are kept either way.
  EXPECT_GE(backups.size(), 1u);
  EXPECT_LE(backups.size(), 2u);
  EXPECT_LE(fs::file_size(at("data.json")), size_t{1} << 20);
  EXPECT_GT(fs::file_size(at("data.json")), 0u);
}

TEST_F(FileExporterTest, BackupsOlderThanMaxDaysAreRemoved) {
  std::ofstream(at("data-2001-01-01T00-00-00.000.json")) << "ancient\n";
  std::ofstream(at("data-2999-01-01T00-00-00.000.json")) << "future\n";
  std::ofstream(at("unrelated-2001-01-01T00-00-00.000.json")) << "not ours\n";
  auto e = make("{ path: @DIR@/data.json, rotation: { max_megabytes: 1, max_days: 1 } }");
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(e->consume(traces({""}, 3000)).ok());
  EXPECT_FALSE(fs::exists(at("data-2001-01-01T00-00-00.000.json")));
  EXPECT_TRUE(fs::exists(at("data-2999-01-01T00-00-00.000.json")));
  EXPECT_TRUE(fs::exists(at("unrelated-2001-01-01T00-00-00.000.json")));
}

TEST_F(FileExporterTest, GroupByWritesOneFilePerAttributeValueAndCountsTheRest) {
  auto e = make(
      "{ path: '@DIR@/tenants/*/traces.json', create_directory: true, "
      "group_by: { enabled: true, max_open_files: 2 } }");
  ASSERT_TRUE(e->consume(traces({"alpha", "beta", "alpha", ""}, 2)).ok());
  ASSERT_TRUE(e->consume(traces({"gamma", "alpha"}, 1)).ok());

  auto spansIn = [&](const std::string& tenant) {
    size_t spans = 0;
    std::vector<std::string> lines =
        absl::StrSplit(readAll(at("tenants/" + tenant + "/traces.json")), '\n', absl::SkipEmpty());
    for (const std::string& line : lines) {
      otlp::TracesRequest r;
      EXPECT_TRUE(otlp::parseOtlpJson(line, r).ok()) << line;
      for (const auto& rs : r.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) spans += ss.spans_size();
      }
    }
    return spans;
  };
  EXPECT_EQ(spansIn("alpha"), 5u);  // 2 + 2 in the first batch (one line), 1 in the second
  EXPECT_EQ(spansIn("beta"), 2u);
  EXPECT_EQ(spansIn("gamma"), 1u);
  EXPECT_EQ(counter("otlpd_exporter_file_ungrouped_items_total"), 2u);
}

TEST_F(FileExporterTest, AGroupNeverLeavesThePathBeforeTheStar) {
  auto e = make("{ path: '@DIR@/out/*.json', group_by: { enabled: true } }");
  fs::create_directories(dir_ / "out");
  ASSERT_TRUE(e->consume(traces({"../../escaped", "./a/../../b", "/abs/c"})).ok());
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), dir_).string();
    EXPECT_TRUE(relative.starts_with("out/")) << relative;
  }
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "escaped.json"));
}

}  // namespace
}  // namespace otlpd::exporters::file
