// otlpd traces itself (service.telemetry.traces): two processes, A (query API, an OTLP receiver
// forwarding with otlp_http) sending its own spans to B, which also traces itself into its own
// receiver. A query request carrying a W3C traceparent gets an otlpd span with that parent; an
// ingest request gets an ingest span continuing the client's trace; A's forward carries a
// traceparent whose trace B's ingest span continues; log lines inside spans carry the ids; and
// otlpd's own exports are never traced (no loops).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "common/strings.h"
#include "jaeger/from_otlp.h"
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

// Every span in B's traces.jsonl.
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

// Polls B's output until `match` finds a span (or 10 s pass).
std::optional<SeenSpan> waitForSpan(const OtlpdProcess& process,
                                    const std::function<bool(const SeenSpan&)>& match) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    for (const SeenSpan& s : readSpans(process)) {
      if (match(s)) return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string tracesConfig(const std::string& endpoint) {
  return strCat(R"(
    traces:
      level: basic
      sampler: { parent_based: { root: { always_on: {} } } }
      processors:
        - batch:
            exporter:
              otlp: { protocol: http/protobuf, endpoint: "http://)",
                endpoint, R"(" })");
}

TEST(SelfTracing, QueryIngestAndForwardingCarryTheTrace) {
  // B: listens where A points, traces itself into its own receiver.
  const std::string b_http = strCat("127.0.0.1:", freeLoopbackPort());
  std::string b_config = OtlpdProcess::standardConfigListeningOn("http", b_http);
  const std::string b_telemetry = R"(telemetry: { metrics: { address: "127.0.0.1:0" } })";
  ASSERT_NE(b_config.find(b_telemetry), std::string::npos);
  b_config.replace(
      b_config.find(b_telemetry), b_telemetry.size(),
      strCat("telemetry:\n    metrics: { address: \"127.0.0.1:0\" }", tracesConfig(b_http)));
  auto b = OtlpdProcess::start(b_config);
  ASSERT_TRUE(b.ok()) << b.status();

  const std::string a_config = strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
  jaeger:
    protocols:
      thrift_http: { endpoint: "127.0.0.1:0" }
exporters:
  otlp_http: { endpoint: "http://)",
                                      b_http, R"(", retry_on_failure: { enabled: false } }
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry:
    logs: { level: debug }
    metrics: { address: "127.0.0.1:0" })",
                                      tracesConfig(b_http), R"(
  pipelines:
    traces: { receivers: [otlp, jaeger], exporters: [otlp_http] }
)");
  auto a = OtlpdProcess::start(a_config);
  ASSERT_TRUE(a.ok()) << a.status();

  // 1. The query API continues the caller's trace.
  constexpr std::string_view kQueryTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  constexpr std::string_view kQueryParent = "00f067aa0ba902b7";
  auto answer = httpRequest((*a)->endpoint("jaeger_query"), "GET", "/api/services",
                            {{"traceparent", strCat("00-", kQueryTrace, "-", kQueryParent, "-01")},
                             {"tracestate", "rojo=00f067aa0ba902b7"}});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 200);
  auto query_span = waitForSpan(**b, [&](const SeenSpan& s) {
    return s.name == "GET /api/services" && s.trace_id == kQueryTrace;
  });
  ASSERT_TRUE(query_span.has_value()) << "B got no query span from A";
  EXPECT_EQ(query_span->service, "otlpd");
  EXPECT_EQ(query_span->parent_span_id, kQueryParent);

  // 2. An ingest request: A's ingest span continues the client's trace, and the forward to B
  // carries a traceparent that B's ingest span continues.
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

  auto a_ingest = waitForSpan(**b, [&](const SeenSpan& s) {
    return s.name == "ingest traces" && s.trace_id == kIngestTrace;
  });
  ASSERT_TRUE(a_ingest.has_value()) << "no ingest span of A in B";
  EXPECT_EQ(a_ingest->parent_span_id, kIngestParent);

  auto user = waitForSpan(**b, [](const SeenSpan& s) { return s.name == "user-span"; });
  ASSERT_TRUE(user.has_value()) << "the forwarded span did not arrive";
  auto export_span = waitForSpan(**b, [](const SeenSpan& s) { return s.name == "export traces"; });
  ASSERT_TRUE(export_span.has_value()) << "no client span of A's forward";
  auto b_ingest = waitForSpan(**b, [&](const SeenSpan& s) {
    return s.name == "ingest traces" && s.trace_id == export_span->trace_id;
  });
  ASSERT_TRUE(b_ingest.has_value()) << "B's ingest span does not continue A's forward";
  EXPECT_EQ(b_ingest->parent_span_id, export_span->span_id);

  // The jaeger receiver's Thrift/HTTP ingest continues its client's trace too.
  constexpr std::string_view kJaegerTrace = "11111111111111112222222222222222";
  v1::ResourceSpans jaeger_spans;
  auto* kv = jaeger_spans.mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("jaeger-client");
  v1::Span* js = jaeger_spans.add_scope_spans()->add_spans();
  js->set_trace_id(std::string(16, '\x05'));
  js->set_span_id(std::string(8, '\x06'));
  js->set_name("jaeger-user-span");
  js->set_start_time_unix_nano(1'700'000'000'000'000'000);
  js->set_end_time_unix_nano(1'700'000'000'001'000'000);
  auto thrift =
      httpRequest((*a)->endpoint("jaeger.thrift_http"), "POST", "/api/traces",
                  {{"Content-Type", "application/x-thrift"},
                   {"traceparent", strCat("00-", kJaegerTrace, "-", kIngestParent, "-01")}},
                  jaeger::encodeThriftBatch(jaeger_spans, false));
  ASSERT_TRUE(thrift.ok()) << thrift.status();
  EXPECT_EQ(thrift->status, 202) << thrift->body;
  auto jaeger_ingest = waitForSpan(**b, [&](const SeenSpan& s) {
    return s.name == "ingest traces" && s.trace_id == kJaegerTrace;
  });
  ASSERT_TRUE(jaeger_ingest.has_value()) << "no ingest span of A's jaeger receiver in B";
  EXPECT_EQ(jaeger_ingest->parent_span_id, kIngestParent);

  // 3. No loops: B traced only the forwarded ingests (one per export of A: the two requests
  // above, unless A's queue sent them together), never its own or A's span exports.
  auto bIngests = [&] {
    size_t n = 0;
    for (const SeenSpan& s : readSpans(**b)) {
      if (s.name == "ingest traces" && s.trace_id != kIngestTrace && s.trace_id != kJaegerTrace) {
        ++n;
      }
    }
    return n;
  };
  ASSERT_TRUE(waitForSpan(**b, [](const SeenSpan& s) { return s.name == "jaeger-user-span"; }));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (bIngests() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Two export intervals more: a loop would keep adding ingest spans.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const size_t b_ingests = bIngests();
  EXPECT_GE(b_ingests, 1u);
  EXPECT_LE(b_ingests, 2u);
  // Level basic: no spans of pipeline stages or query phases (selftrace_detailed_test.cc has
  // them at level detailed).
  for (const SeenSpan& s : readSpans(**b)) {
    EXPECT_FALSE(s.name.starts_with("exporter ") || s.name.starts_with("processor ") ||
                 s.name.starts_with("query "))
        << s.name;
  }

  // 4. A log line written inside a span carries its ids: A logs each query at debug level.
  (*a)->stop();
  const std::string a_log = (*a)->stderrContents();
  const size_t line_at = a_log.find("\"msg\":\"query request\"");
  ASSERT_NE(line_at, std::string::npos) << a_log.substr(0, 4000);
  const std::string line = a_log.substr(line_at, a_log.find('\n', line_at) - line_at);
  EXPECT_NE(line.find(strCat("\"trace_id\":\"", kQueryTrace, "\",\"span_id\":\"")),
            std::string::npos)
      << line;
}

}  // namespace
}  // namespace otlpd::integration
