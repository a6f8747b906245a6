#include "query/jaeger_json.h"

#include <gtest/gtest.h>

#include <string>

#include "query/jaeger_api.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

const std::string kTrace = bytes({0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb,
                                  0x21, 0x1c, 0x80, 0x31, 0x9c});
const std::string kRoot = bytes({1, 2, 3, 4, 5, 6, 7, 8});
const std::string kChild = bytes({0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18});

void setString(otlp::pb_common::KeyValue* kv, std::string key, std::string value) {
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}

otlp::TracesRequest sample() {
  otlp::TracesRequest request;
  auto* rs = request.add_resource_spans();
  setString(rs->mutable_resource()->add_attributes(), "service.name", "checkout");
  setString(rs->mutable_resource()->add_attributes(), "host.name", "h1");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  ss->mutable_scope()->set_version("1.2");
  auto* root = ss->add_spans();
  root->set_trace_id(kTrace);
  root->set_span_id(kRoot);
  root->set_name("GET /cart");
  root->set_kind(otlp::pb_trace::Span::SPAN_KIND_SERVER);
  root->set_start_time_unix_nano(1'700'000'000'123'456'789ULL);
  root->set_end_time_unix_nano(1'700'000'000'125'456'789ULL);
  auto* a = root->add_attributes();
  a->set_key("http.status_code");
  a->mutable_value()->set_int_value(200);
  a = root->add_attributes();
  a->set_key("ratio");
  a->mutable_value()->set_double_value(0.5);
  a = root->add_attributes();
  a->set_key("cached");
  a->mutable_value()->set_bool_value(true);
  setString(root->add_attributes(), "http.method", "GET");
  auto* event = root->add_events();
  event->set_name("exception");
  event->set_time_unix_nano(1'700'000'000'124'000'000ULL);
  setString(event->add_attributes(), "exception.message", "boom");
  root->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);

  auto* child = ss->add_spans();
  child->set_trace_id(kTrace);
  child->set_span_id(kChild);
  child->set_parent_span_id(kRoot);
  child->set_name("SELECT");
  child->set_start_time_unix_nano(1'700'000'000'124'000'000ULL);
  child->set_end_time_unix_nano(1'700'000'000'124'500'999ULL);

  // A second resource in the same trace: its own process.
  auto* rs2 = request.add_resource_spans();
  setString(rs2->mutable_resource()->add_attributes(), "service.name", "db");
  auto* other = rs2->add_scope_spans()->add_spans();
  other->set_trace_id(kTrace);
  other->set_span_id(bytes({9, 9, 9, 9, 9, 9, 9, 9}));
  other->set_parent_span_id(kChild);
  other->set_name("query");
  auto* link = other->add_links();
  link->set_trace_id(bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}));
  link->set_span_id(bytes({0, 0, 0, 0, 0, 0, 0, 6}));
  return request;
}

const json* findTag(const json& tags, std::string_view key) {
  for (const auto& t : tags) {
    if (t["key"] == key) return &t;
  }
  return nullptr;
}

TEST(QueryJaegerJson, GroupsSpansIntoOneTraceWithProcesses) {
  json traces = toJaegerTraces(sample());
  ASSERT_EQ(traces.size(), 1u);
  const json& trace = traces[0];
  EXPECT_EQ(trace["traceID"], "0af7651916cd43dd8448eb211c80319c");
  ASSERT_EQ(trace["spans"].size(), 3u);
  EXPECT_TRUE(trace["warnings"].is_null());
  ASSERT_EQ(trace["processes"].size(), 2u);
  EXPECT_EQ(trace["processes"]["p1"]["serviceName"], "checkout");
  EXPECT_EQ(trace["processes"]["p1"]["tags"],
            json::parse(R"([{"key":"host.name","type":"string","value":"h1"}])"));
  EXPECT_EQ(trace["processes"]["p2"]["serviceName"], "db");
  EXPECT_EQ(trace["spans"][0]["processID"], "p1");
  EXPECT_EQ(trace["spans"][1]["processID"], "p1");
  EXPECT_EQ(trace["spans"][2]["processID"], "p2");
}

TEST(QueryJaegerJson, ReferencesAndIds) {
  json spans = toJaegerTraces(sample())[0]["spans"];
  EXPECT_EQ(spans[0]["spanID"], "0102030405060708");
  EXPECT_EQ(spans[0]["traceID"], "0af7651916cd43dd8448eb211c80319c");
  EXPECT_TRUE(spans[0]["references"].empty());
  EXPECT_EQ(spans[1]["references"], json::parse(R"([{"refType":"CHILD_OF",
      "traceID":"0af7651916cd43dd8448eb211c80319c","spanID":"0102030405060708"}])"));
  ASSERT_EQ(spans[2]["references"].size(), 2u);
  EXPECT_EQ(spans[2]["references"][0]["spanID"], "a1b2c3d4e5f60718");
  EXPECT_EQ(spans[2]["references"][1], json::parse(R"({"refType":"FOLLOWS_FROM",
      "traceID":"00000000000000000000000000000005","spanID":"0000000000000006"})"));
}

TEST(QueryJaegerJson, MicrosecondTimes) {
  json spans = toJaegerTraces(sample())[0]["spans"];
  EXPECT_EQ(spans[0]["startTime"], 1'700'000'000'123'456LL);
  EXPECT_EQ(spans[0]["duration"], 2000);
  EXPECT_EQ(spans[1]["duration"], 500);  // 500.999 µs truncates
  EXPECT_EQ(spans[2]["duration"], 0);
  ASSERT_EQ(spans[0]["logs"].size(), 1u);
  EXPECT_EQ(spans[0]["logs"][0]["timestamp"], 1'700'000'000'124'000LL);
  EXPECT_EQ(spans[0]["logs"][0]["fields"], json::parse(R"([
      {"key":"event","type":"string","value":"exception"},
      {"key":"exception.message","type":"string","value":"boom"}])"));
}

TEST(QueryJaegerJson, TagTypes) {
  json tags = toJaegerTraces(sample())[0]["spans"][0]["tags"];
  ASSERT_NE(findTag(tags, "http.status_code"), nullptr);
  EXPECT_EQ(*findTag(tags, "http.status_code"),
            json::parse(R"({"key":"http.status_code","type":"int64","value":200})"));
  EXPECT_EQ(*findTag(tags, "ratio"),
            json::parse(R"({"key":"ratio","type":"float64","value":0.5})"));
  EXPECT_EQ(*findTag(tags, "cached"),
            json::parse(R"({"key":"cached","type":"bool","value":true})"));
  EXPECT_EQ((*findTag(tags, "http.method"))["type"], "string");
  EXPECT_EQ((*findTag(tags, "span.kind"))["value"], "server");
  EXPECT_EQ((*findTag(tags, "otel.scope.name"))["value"], "lib");
  EXPECT_EQ((*findTag(tags, "otel.status_code"))["value"], "ERROR");
  EXPECT_EQ(*findTag(tags, "error"), json::parse(R"({"key":"error","type":"bool","value":true})"));
}

TEST(QueryJaegerJson, SeparateTraceIdsMakeSeparateTraces) {
  otlp::TracesRequest request = sample();
  request.mutable_resource_spans(1)->mutable_scope_spans(0)->mutable_spans(0)->set_trace_id(
      bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}));
  json traces = toJaegerTraces(request);
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[1]["traceID"], "00000000000000000000000000000007");
  EXPECT_EQ(traces[1]["processes"]["p1"]["serviceName"], "db");
  EXPECT_EQ(traces[1]["spans"][0]["processID"], "p1");
}

TEST(QueryJaegerJson, ParsesTraceIds) {
  EXPECT_EQ(parseTraceIdHex("0AF7651916CD43DD8448EB211C80319C"), kTrace);
  EXPECT_EQ(parseTraceIdHex("5"), bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}));
  EXPECT_FALSE(parseTraceIdHex(""));
  EXPECT_FALSE(parseTraceIdHex("xyz"));
  EXPECT_FALSE(parseTraceIdHex("000"));
  EXPECT_FALSE(parseTraceIdHex(std::string(33, 'a')));
}

TEST(QueryJaegerJson, ParsesDurations) {
  EXPECT_EQ(parseDurationMicros("1h"), 3'600'000'000LL);
  EXPECT_EQ(parseDurationMicros("1m30s"), 90'000'000LL);
  EXPECT_EQ(parseDurationMicros("100ms"), 100'000);
  EXPECT_EQ(parseDurationMicros("1.5s"), 1'500'000);
  EXPECT_EQ(parseDurationMicros("250us"), 250);
  EXPECT_FALSE(parseDurationMicros("10"));
  EXPECT_FALSE(parseDurationMicros("abc"));
  EXPECT_FALSE(parseDurationMicros("-1s"));
  EXPECT_FALSE(parseDurationMicros(""));
}

TEST(QueryJaegerJson, EnvelopeAndErrors) {
  EXPECT_EQ(dumpJson(jaegerEnvelope(json::array({"a", "b"}), 2)),
            R"({"data":["a","b"],"errors":null,"limit":0,"offset":0,"total":2})");
  json e = jaegerError(404, "trace not found");
  EXPECT_TRUE(e["data"].is_null());
  EXPECT_EQ(e["errors"][0]["code"], 404);
  EXPECT_EQ(e["errors"][0]["msg"], "trace not found");
}

TEST(QueryJaegerApi, RejectsBadParametersWithoutAStore) {
  JaegerApi api({"/nonexistent/otlpd-query-test", 20});
  ApiResponse r = api.handle("/api/traces/zz-not-hex", 0);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("traceID"), std::string::npos);
  r = api.handle("/api/traces?service=a&limit=x", 0);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'limit'"), std::string::npos);
  r = api.handle("/api/traces?service=a&lookback=forever", 0);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'lookback'"), std::string::npos);
  r = api.handle("/api/traces?limit=1", 0);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'service'"), std::string::npos);
  r = api.handle("/api/services", 0);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"data":[],"errors":null,"limit":0,"offset":0,"total":0})");
  EXPECT_EQ(api.handle("/api/traces/0123", 0).status, 404);
  EXPECT_EQ(api.handle("/api/nothing", 0).status, 404);
}

TEST(QueryJaegerApi, UrlDecodes) {
  EXPECT_EQ(urlDecode("GET%20%2Fx+y", true), "GET /x y");
  EXPECT_EQ(urlDecode("a+b%2", false), "a+b%2");
}

}  // namespace
}  // namespace otlpd::query
