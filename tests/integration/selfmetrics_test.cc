// otlpd pushes its own metrics as OTLP (service.telemetry.metrics.readers, periodic): process A
// pushes to process B's OTLP/HTTP receiver, and into its own metrics pipeline through an
// `embedded` receiver, under the Collector's names (collector_names); B's and A's file exporters
// show the metric with A's value. A pull reader keeps the /metrics endpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

// The value of `name`'s point whose attributes include receiver=otlp, transport=http, in any
// line of `file` from service.name = otlpd; -1 when none.
double acceptedSpans(const OtlpdProcess& process, std::string_view file, std::string_view name) {
  double value = -1;
  for (const std::string& line : process.readJsonLines(std::string(file))) {
    otlp::MetricsRequest request;
    if (!otlp::parseOtlpJson(line, request).ok()) continue;
    for (const auto& rm : request.resource_metrics()) {
      bool otlpd = false;
      for (const auto& kv : rm.resource().attributes()) {
        otlpd |= kv.key() == "service.name" && kv.value().string_value() == "otlpd";
      }
      if (!otlpd) continue;
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          if (m.name() != name || !m.has_sum()) continue;
          EXPECT_TRUE(m.sum().is_monotonic());
          for (const auto& p : m.sum().data_points()) {
            bool http = false, otlp_receiver = false;
            for (const auto& kv : p.attributes()) {
              http |= kv.key() == "transport" && kv.value().string_value() == "http";
              otlp_receiver |= kv.key() == "receiver" && kv.value().string_value() == "otlp";
            }
            if (http && otlp_receiver) {
              value = p.has_as_double() ? p.as_double() : static_cast<double>(p.as_int());
            }
          }
        }
      }
    }
  }
  return value;
}

double waitForAcceptedSpans(const OtlpdProcess& process, std::string_view file,
                            std::string_view name, double want) {
  double value = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    value = acceptedSpans(process, file, name);
    if (value == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return value;
}

TEST(SelfMetricsPush, PeriodicReaderPushesToAnotherOtlpdAndIntoItsOwnPipeline) {
  auto b = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(b.ok()) << b.status();

  const std::string a_config = strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
  embedded/selfmetrics: {}
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
  file/metrics: { path: "@DIR@/metrics.jsonl" }
service:
  telemetry:
    metrics:
      collector_names: true
      readers:
        - pull: { exporter: { prometheus: { host: 127.0.0.1, port: 0 } } }
        - periodic:
            interval: 200
            exporter: { otlp: { protocol: http/protobuf, endpoint: "http://)",
                                      (*b)->httpEndpoint(), R"(/v1/metrics" } }
        - periodic:
            interval: 200ms
            exporter: { pipelines: { receiver: embedded/selfmetrics } }
  pipelines:
    traces: { receivers: [otlp], exporters: [file/traces] }
    metrics/self: { receivers: [embedded/selfmetrics], exporters: [file/metrics] }
)");
  auto a = OtlpdProcess::start(a_config);
  ASSERT_TRUE(a.ok()) << a.status();

  const std::string body =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
      R"("spanId":"eee19b7ec3c1b173","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})";
  auto sent = httpRequest((*a)->httpEndpoint(), "POST", "/v1/traces",
                          {{"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->status, 200) << sent->body;

  // B received A's self-metrics over OTLP/HTTP, under the Collector's name.
  EXPECT_EQ(waitForAcceptedSpans(**b, "metrics.jsonl", "otelcol_receiver_accepted_spans", 1), 1);
  // A's own metrics pipeline got them through the embedded receiver, no network hop.
  EXPECT_EQ(waitForAcceptedSpans(**a, "metrics.jsonl", "otelcol_receiver_accepted_spans", 1), 1);
  // The pull reader serves /metrics, under otlpd's own names.
  auto scraped = httpRequest((*a)->metricsEndpoint(), "GET", "/metrics", {});
  ASSERT_TRUE(scraped.ok()) << scraped.status();
  EXPECT_NE(scraped->body.find(
                R"(otlpd_receiver_accepted_spans_total{receiver="otlp",transport="http"} 1)"),
            std::string::npos)
      << scraped->body.substr(0, 2000);
  EXPECT_NE(scraped->body.find(R"(otlpd_selfmetrics_exports_total{outcome="exported"})"),
            std::string::npos);
}

}  // namespace
}  // namespace otlpd::integration
