// The jaegerremotesampling extension (file source, HTTP): /sampling?service= answers the
// strategies file, a changed file is served after the reload interval, a broken one keeps the
// previous strategies (counted), and a missing service parameter is a 400.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/strings.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

void writeFile(const std::string& path, std::string_view text) {
  std::ofstream(path + ".tmp") << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

TEST(JaegerRemoteSampling, AFileThatCannotBeReadFailsTheStart) {
  auto otlpd = OtlpdProcess::start(R"(receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } }
exporters:
  nop:
extensions:
  jaegerremotesampling:
    source: { file: "@DIR@/strategies.json", reload_interval: 100ms }
    http: { endpoint: "127.0.0.1:0" }
service:
  extensions: [jaegerremotesampling]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)",
                                   std::chrono::seconds(20));
  // The file must exist at start: the config names it in the process's own directory, so the
  // first start fails and says why.
  ASSERT_FALSE(otlpd.ok());
  EXPECT_NE(std::string(otlpd.status().message()).find("strategies.json"), std::string::npos)
      << otlpd.status();
}

TEST(JaegerRemoteSampling, AnswersAndReloads) {
  char dir_template[] = "/tmp/otlpd-sampling-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string file = strCat(dir_template, "/strategies.json");
  writeFile(file, R"({"service_strategies": [{"service": "foo", "type": "probabilistic",
    "param": 0.8}], "default_strategy": {"type": "probabilistic", "param": 0.5}})");
  auto otlpd = OtlpdProcess::start(strCat(R"(receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } }
exporters:
  nop:
extensions:
  jaegerremotesampling:
    source: { file: ")",
                                          file, R"(", reload_interval: 100ms }
    http: { endpoint: "127.0.0.1:0" }
service:
  extensions: [jaegerremotesampling]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)"));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->endpoint("jaegerremotesampling");
  ASSERT_FALSE(endpoint.empty());
  auto rate = [&](std::string_view service) -> double {
    auto answer = httpRequest(endpoint, "GET", strCat("/sampling?service=", service));
    if (!answer.ok() || answer->status != 200) return -1;
    return nlohmann::json::parse(answer->body)["probabilisticSampling"]["samplingRate"]
        .get<double>();
  };
  EXPECT_EQ(rate("foo"), 0.8);
  EXPECT_EQ(rate("other"), 0.5);
  auto missing = httpRequest(endpoint, "GET", "/sampling");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 400);

  // A changed file is served after the next reload; a broken one keeps the last good strategies.
  writeFile(file, R"({"service_strategies": [{"service": "foo", "type": "probabilistic",
    "param": 0.25}]})");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (rate("foo") != 0.25 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(rate("foo"), 0.25);
  writeFile(file, "{ broken");
  auto failures = (*otlpd)->waitForMetric("otlpd_jaegerremotesampling_reload_failures_total",
                                          {{"extension", "jaegerremotesampling"}}, 1);
  ASSERT_TRUE(failures.ok()) << failures.status();
  EXPECT_EQ(*failures, 1) << "a broken file is counted once, not at every interval";
  EXPECT_EQ(rate("foo"), 0.25);
  std::remove(file.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace otlpd::integration
