// otlpd traces itself into its own pipelines (service.telemetry.traces with the `pipelines`
// exporter): the real binary, a query API request carrying a W3C traceparent, then otlpd's own
// span found in its store under service.name = otlpd through the same query API. No network hop,
// and the self-pipeline's own work is never traced (no loops).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

constexpr std::string_view kConfig = R"(receivers:
  embedded/self: {}
exporters:
  store: { directory: "@DIR@/store", write_interval: 50ms }
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
    traces:
      level: basic
      processors:
        - batch: { exporter: { pipelines: { receiver: embedded/self } } }
  pipelines:
    traces/self: { receivers: [embedded/self], exporters: [store] }
)";

TEST(SelfTracingIntoPipelines, QuerySpanIsInTheStoreUnderServiceOtlpd) {
  auto otlpd = OtlpdProcess::start(std::string(kConfig));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string query = (*otlpd)->endpoint("jaeger_query");

  constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  constexpr std::string_view kParent = "00f067aa0ba902b7";
  auto answer = httpRequest(query, "GET", "/api/services",
                            {{"traceparent", strCat("00-", kTrace, "-", kParent, "-01")}});
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->status, 200);

  // The span reaches the store within the tracer's export interval plus the store's write.
  std::string found;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto trace = httpRequest(query, "GET", strCat("/api/traces/", kTrace), {});
    ASSERT_TRUE(trace.ok()) << trace.status();
    if (trace->status == 200 && trace->body.find("GET /api/services") != std::string::npos) {
      found = trace->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(found.empty()) << "otlpd's own query span never reached its store";
  EXPECT_NE(found.find(R"("serviceName":"otlpd")"), std::string::npos) << found;
  EXPECT_NE(found.find(strCat(R"("spanID":")", kParent)), std::string::npos)
      << "the caller's span is the parent: " << found;

  auto services = httpRequest(query, "GET", "/api/services", {});
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(services->body.find(R"("otlpd")"), std::string::npos) << services->body;

  // Spans went through the embedded receiver, none were lost or dropped.
  auto metrics = httpRequest((*otlpd)->metricsEndpoint(), "GET", "/metrics", {});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->body.find(R"(otlpd_selftrace_spans_total{outcome="dropped"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics->body.find(R"(otlpd_selftrace_spans_total{outcome="exported"})"),
            std::string::npos);
}

// The self pipeline forwards with otlp_http (batched, queued): its sends make no spans and carry
// the self-telemetry mark, so B sees A's query span but never a span of A's forwarding (a loop
// would add one per send, for ever).
TEST(SelfTracingIntoPipelines, ForwardingSelfTracesIsNeverTraced) {
  auto b = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string a_config = strCat(R"(receivers:
  embedded/self: {}
processors:
  batch: { timeout: 50ms }
exporters:
  otlp_http: { endpoint: "http://)",
                                      (*b)->httpEndpoint(), R"(" }
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
    traces:
      processors:
        - batch:
            schedule_delay: 200
            max_queue_size: 100
            exporter: { pipelines: { receiver: embedded/self } }
  pipelines:
    traces/self: { receivers: [embedded/self], processors: [batch], exporters: [otlp_http] }
)");
  auto a = OtlpdProcess::start(a_config);
  ASSERT_TRUE(a.ok()) << a.status();
  auto names = [&] {
    std::vector<std::string> out;
    for (const std::string& line : (*b)->readJsonLines("traces.jsonl")) {
      for (size_t at = line.find(R"("name":")"); at != std::string::npos;
           at = line.find(R"("name":")", at + 1)) {
        const size_t from = at + 8;
        out.push_back(line.substr(from, line.find('"', from) - from));
      }
    }
    return out;
  };
  for (int i = 0; i < 3; ++i) {
    auto answer = httpRequest((*a)->endpoint("jaeger_query"), "GET", "/api/services", {});
    ASSERT_TRUE(answer.ok()) << answer.status();
  }
  auto count = [](const std::vector<std::string>& seen, std::string_view name) {
    return std::count(seen.begin(), seen.end(), name);
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline && count(names(), "GET /api/services") < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Five more export intervals (schedule_delay): a loop would keep sending spans of its sends.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const std::vector<std::string> seen = names();
  EXPECT_EQ(count(seen, "GET /api/services"), 3);
  EXPECT_EQ(count(seen, "export traces"), 0);
}

TEST(SelfTracingIntoPipelines, ConfigMustNameAnEmbeddedReceiverOfATracesPipeline) {
  std::string config(kConfig);
  const std::string wrong = "receiver: embedded/self } }";
  config.replace(config.find(wrong), wrong.size(), "receiver: embedded/other } }");
  auto otlpd = OtlpdProcess::start(config);
  ASSERT_FALSE(otlpd.ok());
  EXPECT_NE(std::string(otlpd.status().message())
                .find("service.telemetry.traces.processors[0].batch.exporter.pipelines."
                      "receiver"),
            std::string::npos)
      << otlpd.status();
}

}  // namespace
}  // namespace otlpd::integration
