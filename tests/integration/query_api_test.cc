// The jaeger_query extension against the real binary: spans sent over OTLP/HTTP land in the
// store, and Jaeger's classic JSON API (what Grafana's Jaeger data source calls) finds them.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

using json = nlohmann::json;

constexpr std::string_view kConfig = R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  store: { directory: "@DIR@/store", write_interval: 50ms }
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
)";

constexpr std::string_view kTraceHex = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kService = "query-api-svc";

otlp::TracesRequest threeSpans() {
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  otlp::TracesRequest request;
  auto* rs = request.add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value(std::string(kService));
  auto* ss = rs->add_scope_spans();
  const char* names[] = {"GET /checkout", "charge card", "SELECT orders"};
  const char* ids[] = {"1111111111111111", "2222222222222222", "3333333333333333"};
  for (int i = 0; i < 3; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(bytesFromHex(kTraceHex));
    span->set_span_id(bytesFromHex(ids[i]));
    if (i > 0) span->set_parent_span_id(bytesFromHex(ids[0]));
    span->set_name(names[i]);
    span->set_kind(i == 0 ? otlp::pb_trace::Span::SPAN_KIND_SERVER
                          : otlp::pb_trace::Span::SPAN_KIND_CLIENT);
    span->set_start_time_unix_nano(now + i * 1000000ULL);
    span->set_end_time_unix_nano(now + (i + 1) * 5000000ULL);
    auto* a = span->add_attributes();
    a->set_key("attempt");
    a->mutable_value()->set_int_value(i);
  }
  return request;
}

json getJson(const std::string& endpoint, std::string_view target, int expected_status) {
  auto res = httpRequest(endpoint, "GET", target);
  EXPECT_TRUE(res.ok()) << res.status();
  if (!res.ok()) return nullptr;
  EXPECT_EQ(res->status, expected_status) << target << ": " << res->body;
  EXPECT_TRUE(contains(res->header("content-type"), "application/json"));
  json out = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(out.is_discarded()) << res->body;
  return out;
}

TEST(QueryApiTest, JaegerApiServesStoredTraces) {
  auto process = OtlpdProcess::start(kConfig);
  ASSERT_TRUE(process.ok()) << process.status();
  const std::string query = (*process)->endpoint("jaeger_query");
  ASSERT_FALSE(query.empty());

  auto sent =
      httpRequest((*process)->httpEndpoint(), "POST", "/v1/traces",
                  {{"Content-Type", "application/x-protobuf"}}, threeSpans().SerializeAsString());
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->status, 200) << sent->body;

  // The store writes every 50ms; poll, bounded.
  json services;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (true) {
    services = getJson(query, "/api/services", 200);
    if (services.is_object() && services["data"].is_array() && !services["data"].empty()) break;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(services["data"], json::array({kService})) << services.dump();
  EXPECT_EQ(services["total"], 1);
  EXPECT_TRUE(services["errors"].is_null());

  json ops = getJson(query, "/api/services/query-api-svc/operations", 200);
  EXPECT_EQ(ops["data"], json::parse(R"(["GET /checkout","SELECT orders","charge card"])"));

  json byId = getJson(query, "/api/traces/" + std::string(kTraceHex), 200);
  ASSERT_EQ(byId["data"].size(), 1u) << byId.dump();
  const json& trace = byId["data"][0];
  EXPECT_EQ(trace["traceID"], kTraceHex);
  ASSERT_EQ(trace["spans"].size(), 3u);
  EXPECT_EQ(trace["processes"]["p1"]["serviceName"], kService);
  for (const json& span : trace["spans"]) {
    EXPECT_EQ(span["processID"], "p1");
    if (span["spanID"] == "1111111111111111") {
      EXPECT_TRUE(span["references"].empty());
      EXPECT_EQ(span["operationName"], "GET /checkout");
    } else {
      ASSERT_EQ(span["references"].size(), 1u);
      EXPECT_EQ(span["references"][0]["refType"], "CHILD_OF");
      EXPECT_EQ(span["references"][0]["spanID"], "1111111111111111");
      EXPECT_EQ(span["references"][0]["traceID"], kTraceHex);
    }
  }

  // Search: by service finds the whole trace; even when only one span matches the operation.
  json found = getJson(query, "/api/traces?service=query-api-svc&lookback=1h&limit=20", 200);
  ASSERT_EQ(found["data"].size(), 1u) << found.dump();
  EXPECT_EQ(found["data"][0]["spans"].size(), 3u);
  found = getJson(query, "/api/traces?service=query-api-svc&operation=charge%20card", 200);
  ASSERT_EQ(found["data"].size(), 1u) << found.dump();
  EXPECT_EQ(found["data"][0]["spans"].size(), 3u);
  found = getJson(query, "/api/traces?service=no-such-service", 200);
  EXPECT_TRUE(found["data"].empty());
  found = getJson(query, "/api/traces?service=query-api-svc&minDuration=1h", 200);
  EXPECT_TRUE(found["data"].empty());

  json missing = getJson(query, "/api/traces/00000000000000000000000000000abc", 404);
  EXPECT_EQ(missing["errors"][0]["code"], 404);
  json malformed = getJson(query, "/api/traces/not-a-trace-id", 400);
  EXPECT_TRUE(contains(malformed["errors"][0]["msg"].get<std::string>(), "traceID"));
  json badLimit = getJson(query, "/api/traces?service=query-api-svc&limit=many", 400);
  EXPECT_TRUE(contains(badLimit["errors"][0]["msg"].get<std::string>(), "limit"));

  EXPECT_TRUE((*process)->stop().cleanExit()) << (*process)->stderrContents();
}

}  // namespace
}  // namespace otlpd::integration
