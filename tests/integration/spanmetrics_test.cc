// The spanmetrics connector in the real binary: RED metrics computed before a sampler count every
// span sent, while the traces pipeline keeps only some; the last interval is flushed at shutdown.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

// The traces pipeline after the connector samples with `processor` (an id and its settings, as
// YAML under processors:), named `id` in the pipeline.
std::string configWith(std::string_view id, std::string_view processor) {
  return std::string(R"(
receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
processors:
)") + std::string(processor) +
         R"(
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
  file/metrics: { path: "@DIR@/metrics.jsonl" }
connectors:
  forward:
  spanmetrics:
    metrics_flush_interval: 200ms
    dimensions: [{name: http.method, default: GET}]
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces/in: { receivers: [otlp], exporters: [spanmetrics, forward] }
    traces/sampled: { receivers: [forward], processors: [)" +
         std::string(id) + R"(], exporters: [file/traces] }
    metrics: { receivers: [spanmetrics], exporters: [file/metrics] }
)";
}

void putString(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
               const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

std::string render(const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& kvs) {
  std::string out;
  for (const auto& kv : kvs) {
    out += (out.empty() ? "" : ",") + kv.key() + "=" + kv.value().string_value();
  }
  return out;
}

// Sends traces, stops otlpd, and checks that the metrics count every span sent while the traces
// exporter got only a sample: when `exact_sample`, exactly the spans marked sampled=yes.
void checkRedBeforeSampling(const std::string& config, bool exact_sample) {
  auto process = OtlpdProcess::start(config);
  ASSERT_TRUE(process.ok()) << process.status();
  std::mt19937_64 rng(12);
  std::map<std::string, uint64_t> expected;  // "service|span|status|method" -> calls
  size_t sent = 0, sampled = 0;
  for (int r = 0; r < 20; ++r) {
    otlp::TracesRequest req;
    for (const char* service : {"cart", "checkout"}) {
      auto* rs = req.add_resource_spans();
      putString(rs->mutable_resource()->mutable_attributes(), "service.name", service);
      auto* ss = rs->add_scope_spans();
      for (int i = 0; i < 50; ++i) {
        auto* span = ss->add_spans();
        std::string trace_id(16, '\0');
        for (char& c : trace_id) c = static_cast<char>(rng());
        trace_id[0] |= 1;
        span->set_trace_id(trace_id);
        span->set_span_id(trace_id.substr(0, 8));
        span->set_name(rng() % 2 ? "GET /cart" : "POST /order");
        span->set_kind(otlp::pb_trace::Span::SPAN_KIND_SERVER);
        span->set_start_time_unix_nano(1'700'000'000'000'000'000ULL);
        span->set_end_time_unix_nano(1'700'000'000'000'000'000ULL + rng() % 500'000'000);
        const bool error = rng() % 20 == 0;
        if (error) span->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
        const bool has_method = rng() % 3 != 0;
        if (has_method) putString(span->mutable_attributes(), "http.method", "POST");
        const bool keep = rng() % 10 == 0;
        if (keep) putString(span->mutable_attributes(), "sampled", "yes");
        sampled += keep ? 1 : 0;
        ++sent;
        ++expected[std::string(service) + "|" + span->name() + "|" +
                   (error ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET") + "|" +
                   (has_method ? "POST" : "GET")];
      }
    }
    auto res = httpRequest((*process)->httpEndpoint(), "POST", "/v1/traces",
                           {{"Content-Type", "application/x-protobuf"}}, req.SerializeAsString());
    ASSERT_TRUE(res.ok()) << res.status();
    ASSERT_EQ(res->status, 200) << res->body;
  }
  auto counted =
      (*process)->waitForMetric("otlpd_connector_spanmetrics_spans_total",
                                {{"connector", "spanmetrics"}}, static_cast<double>(sent));
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(*counted, static_cast<double>(sent));
  // Shutdown flushes the last interval: the last line holds every series, cumulatively.
  const ExitStatus exit = (*process)->stop();
  ASSERT_TRUE(exit.cleanExit()) << exit.toString() << (*process)->stderrContents();

  const std::vector<std::string> lines = (*process)->readJsonLines("metrics.jsonl");
  ASSERT_FALSE(lines.empty());
  otlp::MetricsRequest last;
  ASSERT_TRUE(otlp::parseOtlpJson(lines.back(), last).ok());
  std::map<std::string, uint64_t> got;
  uint64_t histogram_count = 0;
  for (const auto& rm : last.resource_metrics()) {
    const std::string service = render(rm.resource().attributes()).substr(13);  // service.name=
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        if (m.name() == "traces.span.metrics.duration") {
          for (const auto& p : m.histogram().data_points()) histogram_count += p.count();
          continue;
        }
        ASSERT_EQ(m.name(), "traces.span.metrics.calls");
        EXPECT_EQ(m.sum().aggregation_temporality(),
                  otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const auto& p : m.sum().data_points()) {
          std::map<std::string, std::string> a;
          for (const auto& kv : p.attributes()) a[kv.key()] = kv.value().string_value();
          EXPECT_EQ(a["service.name"], service);
          EXPECT_EQ(a["span.kind"], "SPAN_KIND_SERVER");
          got[service + "|" + a["span.name"] + "|" + a["status.code"] + "|" + a["http.method"]] +=
              static_cast<uint64_t>(p.as_int());
        }
      }
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(histogram_count, sent);
  // Only the sampled spans reached the traces exporter.
  size_t kept = 0;
  for (const std::string& line : (*process)->readJsonLines("traces.jsonl")) {
    otlp::TracesRequest t;
    ASSERT_TRUE(otlp::parseOtlpJson(line, t).ok());
    for (const auto& rs : t.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) kept += static_cast<size_t>(ss.spans_size());
    }
  }
  if (exact_sample) {
    EXPECT_EQ(kept, sampled);
  }
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, sent / 4);
}

TEST(SpanMetricsIntegration, RedBeforeSamplingCountsEverySpan) {
  // A filter dropping the spans not marked sampled=yes (about 1 in 10): a sampler whose choice
  // the test knows.
  checkRedBeforeSampling(configWith("filter/sample", R"(  filter/sample:
    traces:
      span: ['attributes["sampled"] != "yes"']
)"),
                         true);
}

TEST(SpanMetricsIntegration, RedBeforeProbabilisticSamplingCountsEverySpan) {
  checkRedBeforeSampling(configWith("probabilistic_sampler", R"(  probabilistic_sampler:
    sampling_percentage: 10
)"),
                         false);
}

}  // namespace
}  // namespace otlpd::integration
