// service.telemetry.traces at `level: detailed`, exported over OTLP/gRPC (`protocol: grpc`) to a
// second otlpd (self-metrics too, by a periodic reader over gRPC): a sampled ingest request's trace
// holds a span per processor and exporter it went through, each under the one before; a query
// request's trace holds its phases. The level-basic side of the comparison is selftrace_test.cc (no
// stage spans there).
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

namespace v1 = ::opentelemetry::proto::trace::v1;

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

struct SeenSpan {
  std::string service, name, trace_id, span_id, parent_span_id;
};

std::vector<SeenSpan> readSpans(const OtlpdProcess& process) {
  std::vector<SeenSpan> spans;
  for (const std::string& line : process.readJsonLines("traces.jsonl")) {
    otlp::TracesRequest request;
    if (!otlp::parseOtlpJson(line, request).ok()) continue;
    for (const auto& rs : request.resource_spans()) {
      std::string service;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name") service = kv.value().string_value();
      }
      for (const auto& ss : rs.scope_spans()) {
        for (const v1::Span& s : ss.spans()) {
          spans.push_back(
              {service, s.name(), hex(s.trace_id()), hex(s.span_id()), hex(s.parent_span_id())});
        }
      }
    }
  }
  return spans;
}

// B's spans of `trace_id` once `count` of them are there (or 10 s passed).
std::vector<SeenSpan> waitForTrace(const OtlpdProcess& process, std::string_view trace_id,
                                   size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<SeenSpan> found;
  do {
    found.clear();
    for (SeenSpan& s : readSpans(process)) {
      if (s.trace_id == trace_id) found.push_back(std::move(s));
    }
    if (found.size() >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return found;
}

const SeenSpan* named(const std::vector<SeenSpan>& spans, std::string_view name) {
  for (const SeenSpan& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(SelfTracingDetailed, StagesAndQueryPhasesAreSpansExportedOverGrpc) {
  auto b = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(b.ok()) << b.status();

  const std::string a_config = strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
  zipkin: { endpoint: "127.0.0.1:0" }
processors:
  resource:
    attributes: [ { key: deployment.environment, value: test, action: upsert } ]
exporters:
  nop:
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry:
    metrics:
      address: "127.0.0.1:0"
      readers:
        - periodic:
            interval: 200
            exporter:
              otlp: { protocol: grpc, endpoint: ")",
                                      (*b)->grpcEndpoint(), R"(", insecure: true }
    traces:
      level: detailed
      sampler: { parent_based: { root: { always_on: {} } } }
      processors:
        - batch:
            schedule_delay: 100
            exporter:
              otlp: { protocol: grpc, endpoint: ")",
                                      (*b)->grpcEndpoint(), R"(", insecure: true }
  pipelines:
    traces: { receivers: [otlp, zipkin], processors: [resource], exporters: [nop] }
)");
  auto a = OtlpdProcess::start(a_config);
  ASSERT_TRUE(a.ok()) << a.status();

  // An ingest request the client sampled: ingest span → processor span → exporter span.
  constexpr std::string_view kIngestTrace = "0af7651916cd43dd8448eb211c80319c";
  constexpr std::string_view kIngestParent = "b7ad6b7169203331";
  const std::string body =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"client-svc"}}]},)"
      R"("scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b173",)"
      R"("name":"user-span","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000"}]}]}]})";
  auto ingested =
      httpRequest((*a)->httpEndpoint(), "POST", "/v1/traces",
                  {{"Content-Type", "application/json"},
                   {"traceparent", strCat("00-", kIngestTrace, "-", kIngestParent, "-01")}},
                  body);
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  EXPECT_EQ(ingested->status, 200) << ingested->body;

  const std::vector<SeenSpan> ingest = waitForTrace(**b, kIngestTrace, 3);
  const SeenSpan* server = named(ingest, "ingest traces");
  const SeenSpan* processor = named(ingest, "processor resource");
  const SeenSpan* exporter = named(ingest, "exporter nop");
  ASSERT_NE(server, nullptr) << "no ingest span of A arrived over gRPC";
  ASSERT_NE(processor, nullptr) << "level detailed: no span of the resource processor";
  ASSERT_NE(exporter, nullptr) << "level detailed: no span of the nop exporter";
  EXPECT_EQ(server->service, "otlpd");
  EXPECT_EQ(server->parent_span_id, kIngestParent);
  EXPECT_EQ(processor->parent_span_id, server->span_id);
  EXPECT_EQ(exporter->parent_span_id, processor->span_id);

  // The zipkin receiver's ingest continues its client's trace too, with the stages below it.
  constexpr std::string_view kZipkinTrace = "11111111111111112222222222222222";
  auto zipkin = httpRequest(
      (*a)->endpoint("zipkin.http"), "POST", "/api/v2/spans",
      {{"Content-Type", "application/json"},
       {"traceparent", strCat("00-", kZipkinTrace, "-", kIngestParent, "-01")}},
      R"([{"traceId":"5b8efff798038103d269b633813fc60d","id":"eee19b7ec3c1b174","name":"z",)"
      R"("timestamp":1700000000000000,"duration":1000,"localEndpoint":{"serviceName":"zk"}}])");
  ASSERT_TRUE(zipkin.ok()) << zipkin.status();
  EXPECT_EQ(zipkin->status, 202) << zipkin->body;
  const std::vector<SeenSpan> zipkin_trace = waitForTrace(**b, kZipkinTrace, 3);
  const SeenSpan* zipkin_ingest = named(zipkin_trace, "ingest traces");
  ASSERT_NE(zipkin_ingest, nullptr) << "no ingest span of the zipkin receiver";
  EXPECT_EQ(zipkin_ingest->parent_span_id, kIngestParent);
  const SeenSpan* zipkin_processor = named(zipkin_trace, "processor resource");
  ASSERT_NE(zipkin_processor, nullptr);
  EXPECT_EQ(zipkin_processor->parent_span_id, zipkin_ingest->span_id);

  // A query: the request's span and its phases below it.
  constexpr std::string_view kQueryTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto answer = httpRequest((*a)->endpoint("jaeger_query"), "GET",
                            "/api/traces?service=client-svc&lookback=1h",
                            {{"traceparent", strCat("00-", kQueryTrace, "-00f067aa0ba902b7-01")}});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200) << answer->body;
  const std::vector<SeenSpan> query = waitForTrace(**b, kQueryTrace, 4);
  const SeenSpan* request = named(query, "GET /api/traces");
  ASSERT_NE(request, nullptr);
  for (std::string_view phase : {"query find traces", "query fetch traces", "query encode"}) {
    const SeenSpan* s = named(query, phase);
    ASSERT_NE(s, nullptr) << "no span of the phase " << phase;
    EXPECT_EQ(s->parent_span_id, request->span_id) << phase;
  }

  // Self-metrics over gRPC too: B's file exporter has A's counters.
  bool metrics_arrived = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!metrics_arrived && std::chrono::steady_clock::now() < deadline) {
    for (const std::string& line : (*b)->readJsonLines("metrics.jsonl")) {
      if (line.find("otlpd_receiver_accepted_spans") != std::string::npos) metrics_arrived = true;
    }
    if (!metrics_arrived) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(metrics_arrived) << "A's self-metrics did not arrive over gRPC";
}

}  // namespace
}  // namespace otlpd::integration
