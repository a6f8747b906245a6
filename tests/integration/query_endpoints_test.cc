// The query endpoints against the real binary: traces, logs and metrics sent over OTLP/HTTP land
// in the store, and every endpoint (otlpd's own, Jaeger API v3, Jaeger's dependencies and
// operations) answers exactly what tests/query/golden/*.json holds. OTLPD_UPDATE_GOLDEN=1
// rewrites those files (review the diff). Also: bad parameters (400 naming the parameter),
// limits, the scan-bytes cap, the UI files and HEAD.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
namespace pb_trace = otlp::pb_trace;
namespace pb_common = otlp::pb_common;

constexpr std::string_view kConfig = R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  store: { directory: "@DIR@/store", write_interval: 50ms }
extensions:
  jaeger_query:
    endpoint: "127.0.0.1:0"
    store: { directory: "@DIR@/store" }
    @EXTRA@
service:
  extensions: [jaeger_query]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
    logs: { receivers: [otlp], exporters: [store] }
    metrics: { receivers: [otlp], exporters: [store] }
)";

std::string configWith(std::string_view extra) {
  std::string c(kConfig);
  c.replace(c.find("@EXTRA@"), 7, extra);
  return c;
}

// 2025-01-01T00:00:00Z: fixed times make the answers stable.
constexpr uint64_t kT0 = 1735689600ULL * 1000000000ULL;
constexpr uint64_t kMs = 1000000ULL;
constexpr std::string_view kTraceA = "0af7651916cd43dd8448eb211c80319c";
constexpr std::string_view kTraceB = "0af7651916cd43dd8448eb211c8031bb";
constexpr std::string_view kTraceC = "0af7651916cd43dd8448eb211c8031cc";
// start/end (µs) around every item of the data set.
const std::string kWindow = "start=" + std::to_string(kT0 / 1000 - 1000000) +
                            "&end=" + std::to_string(kT0 / 1000 + 60000000);

void setAttr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* attrs, std::string key,
             std::string value) {
  auto* kv = attrs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}
void setIntAttr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* attrs, std::string key,
                int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_int_value(value);
}

struct SpanSpec {
  std::string_view trace, id, parent;
  std::string_view name;
  pb_trace::Span::SpanKind kind;
  uint64_t start_ms, end_ms;  // after kT0
  bool error;
};

void addSpan(pb_trace::ScopeSpans* ss, const SpanSpec& s) {
  auto* span = ss->add_spans();
  span->set_trace_id(bytesFromHex(s.trace));
  span->set_span_id(bytesFromHex(s.id));
  if (!s.parent.empty()) span->set_parent_span_id(bytesFromHex(s.parent));
  span->set_name(std::string(s.name));
  span->set_kind(s.kind);
  span->set_start_time_unix_nano(kT0 + s.start_ms * kMs);
  span->set_end_time_unix_nano(kT0 + s.end_ms * kMs);
  if (s.error) {
    span->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
    span->mutable_status()->set_message("failed");
  }
}

pb_trace::ScopeSpans* serviceSpans(otlp::TracesRequest& r, std::string_view service) {
  auto* rs = r.add_resource_spans();
  setAttr(rs->mutable_resource()->mutable_attributes(), "service.name", std::string(service));
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("app");
  return ss;
}

otlp::TracesRequest traces() {
  otlp::TracesRequest r;
  auto* frontend = serviceSpans(r, "frontend");
  addSpan(frontend, {kTraceA, "1000000000000001", "", "GET /checkout",
                     pb_trace::Span::SPAN_KIND_SERVER, 0, 100, false});
  setIntAttr(frontend->mutable_spans(0)->mutable_attributes(), "http.status_code", 200);
  addSpan(frontend, {kTraceA, "1000000000000002", "1000000000000001", "POST /charge",
                     pb_trace::Span::SPAN_KIND_CLIENT, 10, 60, false});
  addSpan(frontend, {kTraceB, "2000000000000001", "", "GET /home", pb_trace::Span::SPAN_KIND_SERVER,
                     1000, 1020, false});
  auto* payments = serviceSpans(r, "payments");
  addSpan(payments, {kTraceA, "1000000000000003", "1000000000000002", "charge",
                     pb_trace::Span::SPAN_KIND_SERVER, 15, 55, true});
  addSpan(payments, {kTraceA, "1000000000000004", "1000000000000003", "SELECT cards",
                     pb_trace::Span::SPAN_KIND_CLIENT, 20, 30, false});
  addSpan(payments, {kTraceC, "3000000000000001", "", "refund", pb_trace::Span::SPAN_KIND_SERVER,
                     2000, 2005, true});
  setIntAttr(payments->mutable_spans(2)->mutable_attributes(), "http.status_code", 500);
  return r;
}

otlp::LogsRequest logs() {
  otlp::LogsRequest r;
  auto scopeFor = [&](std::string_view service) {
    auto* rl = r.add_resource_logs();
    setAttr(rl->mutable_resource()->mutable_attributes(), "service.name", std::string(service));
    auto* sl = rl->add_scope_logs();
    sl->mutable_scope()->set_name("app.logger");
    sl->mutable_scope()->set_version("1.0");
    return sl;
  };
  auto* frontend = scopeFor("frontend");
  auto* l1 = frontend->add_log_records();
  l1->set_time_unix_nano(kT0 + 5 * kMs);
  l1->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_INFO);
  l1->set_severity_text("INFO");
  l1->mutable_body()->set_string_value("checkout started");
  l1->set_trace_id(bytesFromHex(kTraceA));
  l1->set_span_id(bytesFromHex("1000000000000001"));
  setAttr(l1->mutable_attributes(), "user.id", "u-42");
  auto* l4 = frontend->add_log_records();
  l4->set_time_unix_nano(kT0 + 3000 * kMs);
  l4->set_observed_time_unix_nano(kT0 + 3500 * kMs);
  l4->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_DEBUG);
  l4->set_severity_text("DEBUG");
  l4->mutable_body()->set_string_value("Cache miss for key cart:42");
  auto* payments = scopeFor("payments");
  auto* l2 = payments->add_log_records();
  l2->set_time_unix_nano(kT0 + 40 * kMs);
  l2->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_WARN);
  l2->set_severity_text("WARN");
  l2->mutable_body()->set_string_value("card declined");
  l2->set_trace_id(bytesFromHex(kTraceA));
  l2->set_span_id(bytesFromHex("1000000000000003"));
  auto* l3 = payments->add_log_records();
  l3->set_time_unix_nano(kT0 + 2001 * kMs);
  l3->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_ERROR);
  l3->set_severity_text("ERROR");
  auto* kvs = l3->mutable_body()->mutable_kvlist_value()->mutable_values();
  setIntAttr(kvs, "code", 42);
  setAttr(kvs, "reason", "refund failed");
  l3->set_trace_id(bytesFromHex(kTraceC));
  l3->set_span_id(bytesFromHex("3000000000000001"));
  l3->set_event_name("refund.failed");
  return r;
}

otlp::MetricsRequest metrics() {
  namespace pm = otlp::pb_metrics;
  otlp::MetricsRequest r;
  auto scopeFor = [&](std::string_view service) {
    auto* rm = r.add_resource_metrics();
    setAttr(rm->mutable_resource()->mutable_attributes(), "service.name", std::string(service));
    return rm->add_scope_metrics();
  };
  auto* frontend = scopeFor("frontend");
  auto* gauge = frontend->add_metrics();
  gauge->set_name("queue.depth");
  gauge->set_unit("{items}");
  gauge->set_description("Items waiting");
  const double a[] = {3, 5, 4}, b[] = {1, 0, 2};
  for (int i = 0; i < 3; ++i) {
    for (auto [queue, v] : {std::pair{"a", a[i]}, std::pair{"b", b[i]}}) {
      auto* p = gauge->mutable_gauge()->add_data_points();
      p->set_time_unix_nano(kT0 + (10 + 10 * i) * 1000 * kMs);
      p->set_as_double(v);
      setAttr(p->mutable_attributes(), "queue", queue);
    }
  }
  auto* hist = frontend->add_metrics();
  hist->set_name("http.server.duration");
  hist->set_unit("ms");
  auto* h = hist->mutable_histogram();
  h->set_aggregation_temporality(pm::AGGREGATION_TEMPORALITY_DELTA);
  const std::pair<uint64_t, double> counts[] = {{4, 100}, {2, 30}, {0, 0}};
  for (int i = 0; i < 3; ++i) {
    auto* p = h->add_data_points();
    p->set_time_unix_nano(kT0 + (10 + 10 * i) * 1000 * kMs);
    p->set_count(counts[i].first);
    p->set_sum(counts[i].second);
  }
  auto* payments = scopeFor("payments");
  auto* sum = payments->add_metrics();
  sum->set_name("http.server.requests");
  sum->set_unit("{request}");
  sum->mutable_sum()->set_is_monotonic(true);
  sum->mutable_sum()->set_aggregation_temporality(pm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  for (int i = 0; i < 3; ++i) {
    auto* p = sum->mutable_sum()->add_data_points();
    p->set_time_unix_nano(kT0 + (10 + 10 * i) * 1000 * kMs);
    p->set_as_int(10 * (i + 1));
    setAttr(p->mutable_attributes(), "http.route", "/charge");
  }
  return r;
}

fs::path goldenDir() {
  // The binary lives in <build>/tests; the sources are the build dir's parent or found upwards.
  std::error_code ec;
  fs::path dir = fs::canonical("/proc/self/exe", ec).parent_path();
  for (int i = 0; i < 5 && !dir.empty(); ++i, dir = dir.parent_path()) {
    if (fs::is_directory(dir / "tests/query/golden")) return dir / "tests/query/golden";
    if (fs::is_directory(dir / "src/query") && fs::is_directory(dir / "tests")) {
      return dir / "tests/query/golden";
    }
  }
  return "tests/query/golden";
}

void send(const OtlpdProcess& p, std::string_view path, const google::protobuf::Message& m) {
  auto sent = httpRequest(p.httpEndpoint(), "POST", path,
                          {{"Content-Type", "application/x-protobuf"}}, m.SerializeAsString());
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_EQ(sent->status, 200) << sent->body;
}

HttpResult get(const std::string& endpoint, std::string_view target,
               std::string_view method = "GET", const HeaderList& headers = {}) {
  auto res = httpRequest(endpoint, method, target, headers);
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? *res : HttpResult{};
}

json getJson(const std::string& endpoint, std::string_view target) {
  HttpResult res = get(endpoint, target);
  EXPECT_TRUE(contains(res.header("content-type"), "application/json")) << target;
  json out = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(out.is_discarded()) << target << ": " << res.body;
  return {{"status", res.status}, {"body", out}};
}

// Polls `target` until `ready` holds for its body (the store writes every 50 ms), bounded.
json waitFor(const std::string& endpoint, const std::string& target,
             const std::function<bool(const json&)>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = getJson(endpoint, target);
    if (ready(last["body"])) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

// scannedBytes depends on compression; the golden files hold "<bytes>" when it was non-zero.
void normalise(json& v) {
  if (v.is_object()) {
    for (auto& [key, value] : v.items()) {
      if (key == "scannedBytes" && value.is_number() && value.get<uint64_t>() > 0) {
        value = "<bytes>";
      } else {
        normalise(value);
      }
    }
  } else if (v.is_array()) {
    for (auto& e : v) normalise(e);
  }
}

void expectGolden(const std::string& endpoint, const std::string& name, const std::string& target) {
  json answer = getJson(endpoint, target);
  normalise(answer);
  const json actual = {{"target", target}, {"status", answer["status"]}, {"body", answer["body"]}};
  const fs::path file = goldenDir() / (name + ".json");
  if (std::getenv("OTLPD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(file) << actual.dump(2) << "\n";
    return;
  }
  std::ifstream in(file);
  ASSERT_TRUE(in) << "missing " << file << "; run with OTLPD_UPDATE_GOLDEN=1";
  std::stringstream text;
  text << in.rdbuf();
  const json expected = json::parse(text.str(), nullptr, false);
  EXPECT_EQ(actual, expected) << name << "\nactual:\n" << actual.dump(2);
}

class QueryEndpointsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto p = OtlpdProcess::start(configWith(""));
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = p->release();
    send(*process_, "/v1/traces", traces());
    send(*process_, "/v1/logs", logs());
    send(*process_, "/v1/metrics", metrics());
    query_ = process_->endpoint("jaeger_query");
    waitFor(query_, "/api/otlpd/logs?limit=10",
            [](const json& b) { return b["data"].size() == 4; });
    waitFor(query_, "/api/otlpd/metrics?" + kWindow,
            [](const json& b) { return b["data"].size() == 3; });
    waitFor(query_, "/api/v3/services", [](const json& b) { return b["services"].size() == 2; });
  }
  static void TearDownTestSuite() {
    if (process_ != nullptr) {
      EXPECT_TRUE(process_->stop().cleanExit()) << process_->stderrContents();
    }
    delete process_;
    process_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(process_, nullptr); }

  static OtlpdProcess* process_;
  static std::string query_;
};
OtlpdProcess* QueryEndpointsTest::process_ = nullptr;
std::string QueryEndpointsTest::query_;

TEST_F(QueryEndpointsTest, TraceSummariesMatchGolden) {
  expectGolden(query_, "summaries_all", "/api/otlpd/trace-summaries?" + kWindow);
  expectGolden(query_, "summaries_payments_limit1",
               "/api/otlpd/trace-summaries?service=payments&limit=1&" + kWindow);
  expectGolden(query_, "summaries_tags",
               "/api/otlpd/trace-summaries?tags=%7B%22http.status_code%22%3A500%7D&" + kWindow);
  expectGolden(query_, "summaries_min_duration",
               "/api/otlpd/trace-summaries?minDuration=90ms&" + kWindow);
  expectGolden(query_, "summaries_operation",
               "/api/otlpd/trace-summaries?service=frontend&operation=GET%20%2Fhome&" + kWindow);
}

TEST_F(QueryEndpointsTest, LogsMatchGolden) {
  expectGolden(query_, "logs_all", "/api/otlpd/logs?" + kWindow);
  expectGolden(query_, "logs_min_warn", "/api/otlpd/logs?severity=warn&" + kWindow);
  expectGolden(query_, "logs_of_trace", "/api/otlpd/logs?traceID=" + std::string(kTraceA));
  expectGolden(query_, "logs_body", "/api/otlpd/logs?body=CACHE%20MISS&" + kWindow);
  expectGolden(query_, "logs_span", "/api/otlpd/logs?spanID=1000000000000003&" + kWindow);
  expectGolden(query_, "logs_limit", "/api/otlpd/logs?limit=2&service=payments&" + kWindow);
}

TEST_F(QueryEndpointsTest, MetricsMatchGolden) {
  expectGolden(query_, "metrics_catalog", "/api/otlpd/metrics?" + kWindow);
  expectGolden(query_, "metrics_catalog_payments",
               "/api/otlpd/metrics?service=payments&" + kWindow);
  expectGolden(query_, "series_gauge", "/api/otlpd/metrics/series?name=queue.depth&" + kWindow);
  expectGolden(
      query_, "series_gauge_tag",
      "/api/otlpd/metrics/series?name=queue.depth&tags=%7B%22queue%22%3A%22b%22%7D&" + kWindow);
  expectGolden(query_, "series_histogram",
               "/api/otlpd/metrics/series?name=http.server.duration&" + kWindow);
  expectGolden(query_, "series_sum",
               "/api/otlpd/metrics/series?name=http.server.requests&" + kWindow);
  expectGolden(query_, "series_limit",
               "/api/otlpd/metrics/series?name=queue.depth&limit=1&" + kWindow);
}

TEST_F(QueryEndpointsTest, RedAndDependenciesMatchGolden) {
  expectGolden(query_, "red_services", "/api/otlpd/red?" + kWindow);
  expectGolden(query_, "red_operations", "/api/otlpd/red?service=payments&" + kWindow);
  expectGolden(
      query_, "dependencies",
      "/api/dependencies?endTs=" + std::to_string(kT0 / 1000000 + 60000) + "&lookback=120000");
}

// Jaeger's Monitor tab (Service Performance Monitoring) from the rollups.
TEST_F(QueryEndpointsTest, JaegerMetricsMatchGolden) {
  const std::string window = "&endTs=" + std::to_string(kT0 / 1000000 + 120000) +
                             "&lookback=240000&step=60000&ratePer=120000";
  expectGolden(query_, "spm_calls",
               "/api/metrics/calls?service=frontend&service=payments" + window);
  expectGolden(query_, "spm_errors_by_operation",
               "/api/metrics/errors?service=payments&groupByOperation=true" + window);
  expectGolden(query_, "spm_latencies",
               "/api/metrics/latencies?service=frontend&service=payments&quantile=0.95" + window);
  expectGolden(query_, "spm_calls_client_kind",
               "/api/metrics/calls?service=frontend&spanKind=client&spanKind=internal" + window);
  expectGolden(query_, "spm_minstep", "/api/metrics/minstep");
}

TEST_F(QueryEndpointsTest, JaegerV3MatchesGolden) {
  const std::string min = "2024-12-31T23:59:00Z", max = "2025-01-01T00:01:00Z";
  expectGolden(query_, "v3_services", "/api/v3/services");
  expectGolden(query_, "v3_operations", "/api/v3/operations?service=frontend");
  expectGolden(query_, "v3_operations_server",
               "/api/v3/operations?service=payments&span_kind=server");
  expectGolden(query_, "v3_traces",
               "/api/v3/traces?query.service_name=payments&query.start_time_min=" + min +
                   "&query.start_time_max=" + max + "&query.search_depth=1");
  expectGolden(query_, "v3_traces_duration",
               "/api/v3/traces?query.service_name=frontend&query.duration_min=15ms&"
               "query.duration_max=25ms&query.start_time_min=" +
                   min + "&query.start_time_max=" + max);
  expectGolden(query_, "v3_trace_by_id", "/api/v3/traces/" + std::string(kTraceB));
  expectGolden(query_, "v3_trace_missing", "/api/v3/traces/00000000000000000000000000000abc");
  expectGolden(query_, "v3_traces_none",
               "/api/v3/traces?query.service_name=nobody&query.start_time_min=" + min);
}

// Jaeger 2.19+ spellings (camelCase canonical, snake_case deprecated aliases) and the summary
// search Jaeger UI 2.20 uses.
TEST_F(QueryEndpointsTest, JaegerV3CamelCaseAndTraceSummariesMatchGolden) {
  const std::string min = "2024-12-31T23:59:00Z", max = "2025-01-01T00:01:00Z";
  expectGolden(query_, "v3_trace_summaries",
               "/api/v3/trace-summaries?query.serviceName=frontend&query.startTimeMin=" + min +
                   "&query.startTimeMax=" + max + "&query.searchDepth=20");
  expectGolden(query_, "v3_trace_summaries_none",
               "/api/v3/trace-summaries?query.serviceName=nobody&query.startTimeMin=" + min);
  // The same search in both spellings gives the same answer.
  const json camel = getJson(
      query_, "/api/v3/traces?query.serviceName=payments&query.startTimeMin=" + min +
                  "&query.startTimeMax=" + max + "&query.searchDepth=1&query.rawTraces=true");
  const json snake = getJson(
      query_, "/api/v3/traces?query.service_name=payments&query.start_time_min=" + min +
                  "&query.start_time_max=" + max + "&query.search_depth=1&query.raw_traces=true");
  EXPECT_EQ(camel, snake);
  EXPECT_EQ(camel["status"], 200);
  // A window in 2030 finds nothing (camelCase names were once ignored).
  const json future = getJson(query_,
                              "/api/v3/traces?query.serviceName=frontend&query.startTimeMin="
                              "2030-01-01T00:00:00Z&query.startTimeMax=2030-01-02T00:00:00Z");
  EXPECT_EQ(future["status"], 404) << future.dump();
  expectGolden(query_, "v3_trace_by_id_window",
               "/api/v3/traces/" + std::string(kTraceB) + "?startTime=" + min + "&endTime=" + max);
}

TEST_F(QueryEndpointsTest, JaegerClassicMatchesGolden) {
  expectGolden(query_, "classic_traces_by_ids",
               "/api/traces?traceID=" + std::string(kTraceA) + "&traceID=" + std::string(kTraceB));
  expectGolden(query_, "classic_traces_by_ids_missing",
               "/api/traces?traceID=00000000000000000000000000000abc");
  std::string many = "/api/traces?";
  for (int i = 0; i < 101; ++i) many += "traceID=" + std::string(kTraceA) + "&";
  const json too_many = getJson(query_, many);
  EXPECT_EQ(too_many["status"], 400);
  EXPECT_TRUE(contains(too_many["body"]["errors"][0]["msg"].get<std::string>(), "'traceID'"))
      << too_many.dump();
  expectGolden(query_, "classic_operations_kinds", "/api/operations?service=payments");
  expectGolden(query_, "classic_operations_server",
               "/api/operations?service=payments&spanKind=server");
  expectGolden(query_, "classic_service_operations", "/api/services/frontend/operations");
  expectGolden(query_, "classic_search", "/api/traces?service=frontend&limit=1&" + kWindow);
}

TEST_F(QueryEndpointsTest, BadParametersAreNamed) {
  struct Case {
    std::string target;
    std::string parameter;
  };
  const Case cases[] = {
      {"/api/otlpd/trace-summaries?limit=0", "limit"},
      {"/api/otlpd/trace-summaries?limit=abc", "limit"},
      {"/api/otlpd/trace-summaries?start=yesterday", "start"},
      {"/api/otlpd/trace-summaries?end=-5", "end"},
      {"/api/otlpd/trace-summaries?lookback=forever", "lookback"},
      {"/api/otlpd/trace-summaries?minDuration=fast", "minDuration"},
      {"/api/otlpd/trace-summaries?maxDuration=1x", "maxDuration"},
      {"/api/otlpd/trace-summaries?tags=%5B1%2C2%5D", "tags"},
      {"/api/otlpd/trace-summaries?tags=%7Bbad", "tags"},
      {"/api/otlpd/trace-summaries?start=2000&end=1000", "start"},
      {"/api/otlpd/logs?severity=LOUD", "severity"},
      {"/api/otlpd/logs?severity=25", "severity"},
      {"/api/otlpd/logs?traceID=xyz", "traceID"},
      {"/api/otlpd/logs?spanID=123", "spanID"},
      {"/api/otlpd/logs?limit=-1", "limit"},
      {"/api/otlpd/metrics?end=1.5", "end"},
      {"/api/otlpd/metrics/series", "name"},
      {"/api/otlpd/metrics/series?name=x&limit=none", "limit"},
      {"/api/otlpd/metrics/series?name=x&tags=1", "tags"},
      {"/api/otlpd/red?start=abc", "start"},
      {"/api/otlpd/red?lookback=1y", "lookback"},
  };
  for (const Case& c : cases) {
    json answer = getJson(query_, c.target);
    EXPECT_EQ(answer["status"], 400) << c.target << ": " << answer.dump();
    const json& body = answer["body"];
    EXPECT_TRUE(body["data"].is_null()) << c.target;
    ASSERT_TRUE(body["errors"].is_array() && body["errors"].size() == 1) << body.dump();
    EXPECT_EQ(body["errors"][0]["code"], 400);
    EXPECT_TRUE(contains(body["errors"][0]["msg"].get<std::string>(), "'" + c.parameter + "'"))
        << c.target << ": " << body.dump();
  }
  const Case v3_cases[] = {
      {"/api/v3/traces?query.service_name=x&query.start_time_min=yesterday",
       "query.start_time_min"},
      {"/api/v3/traces?query.service_name=x&query.start_time_max=2025-13-01T00:00:00Z",
       "query.start_time_max"},
      {"/api/v3/traces?query.service_name=x&query.duration_min=fast", "query.duration_min"},
      {"/api/v3/traces?query.service_name=x&query.search_depth=0", "query.search_depth"},
      {"/api/v3/traces?query.service_name=x&query.attributes=nope", "query.attributes"},
      {"/api/v3/traces", "query.serviceName"},
      {"/api/v3/trace-summaries?query.serviceName=x&query.startTimeMin=soon", "query.startTimeMin"},
      {"/api/v3/traces?query.serviceName=x&query.colour=red", "query.colour"},
      {"/api/v3/services?verbose=1", "verbose"},
      {"/api/v3/operations", "service"},
      {"/api/v3/operations?service=x&span_kind=sideways", "span_kind"},
      {"/api/v3/traces/not-hex", "trace_id"},
  };
  for (const Case& c : v3_cases) {
    json answer = getJson(query_, c.target);
    EXPECT_EQ(answer["status"], 400) << c.target;
    EXPECT_EQ(answer["body"]["error"]["httpCode"], 400) << answer.dump();
    EXPECT_TRUE(
        contains(answer["body"]["error"]["message"].get<std::string>(), "'" + c.parameter + "'"))
        << c.target << ": " << answer.dump();
  }
  const Case classic_cases[] = {
      {"/api/dependencies?endTs=abc", "endTs"},
      {"/api/dependencies?lookback=-1", "lookback"},
      {"/api/traces?service=frontend&minDuration=soon", "minDuration"},
      {"/api/traces?traceID=xyz", "traceID"},
      {"/api/operations?service=x&spanKind=sideways", "spanKind"},
      {"/api/metrics/calls", "service"},
      {"/api/metrics/calls?service=x&colour=red", "colour"},
      {"/api/metrics/calls?service=x&spanKind=sideways", "spanKind"},
      {"/api/metrics/calls?service=x&lookback=99999999999", "lookback"},
      {"/api/metrics/calls?service=x&lookback=3600000&step=1", "step"},
      {"/api/metrics/errors?service=x&groupByOperation=maybe", "groupByOperation"},
      {"/api/metrics/latencies?service=x", "quantile"},
      {"/api/metrics/latencies?service=x&quantile=1.5", "quantile"},
      {"/api/metrics/minstep?x=1", "x"},
  };
  for (const Case& c : classic_cases) {
    json answer = getJson(query_, c.target);
    EXPECT_EQ(answer["status"], 400) << c.target;
    EXPECT_TRUE(
        contains(answer["body"]["errors"][0]["msg"].get<std::string>(), "'" + c.parameter + "'"))
        << c.target << ": " << answer.dump();
  }
  EXPECT_EQ(getJson(query_, "/api/otlpd/nope")["status"], 404);
  EXPECT_EQ(getJson(query_, "/api/v3/nope")["status"], 404);
  // Ids never become file names: a path-like id is just a malformed id.
  EXPECT_EQ(getJson(query_, "/api/traces/..%2F..%2Fetc%2Fpasswd")["status"], 400);
  EXPECT_EQ(getJson(query_, "/api/v3/traces/..%2F..%2Fetc")["status"], 400);
}

TEST_F(QueryEndpointsTest, LimitsAreCapped) {
  json body = getJson(query_, "/api/otlpd/trace-summaries?limit=1000000&" + kWindow)["body"];
  EXPECT_EQ(body["limit"], 1000);  // max_results
  EXPECT_EQ(body["data"].size(), 3u);
  EXPECT_EQ(body["truncated"], false);
  body = getJson(query_, "/api/otlpd/trace-summaries?limit=2&" + kWindow)["body"];
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][0]["traceID"], kTraceC);  // newest first
  EXPECT_EQ(body["data"][1]["traceID"], kTraceB);
}

// A tiny max_scan_mib: the answer holds what the first batch had, flagged as truncated.
TEST(QueryEndpointsLimitTest, ScanCapTruncatesAndUiIsServed) {
  char tmpl[] = "/tmp/otlpd-ui-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string ui_dir = tmpl;
  std::ofstream(ui_dir + "/index.html") << "<!doctype html><title>otlpd</title>";
  std::ofstream(ui_dir + "/app.js") << "console.log('otlpd');";
  auto p = OtlpdProcess::start(
      configWith("max_scan_mib: 0.00001\n    ui: { directory: \"" + ui_dir + "\" }"));
  ASSERT_TRUE(p.ok()) << p.status();
  OtlpdProcess& process = **p;
  const std::string query = process.endpoint("jaeger_query");

  otlp::TracesRequest first, second;
  addSpan(serviceSpans(first, "frontend"), {kTraceA, "1000000000000001", "", "first",
                                            pb_trace::Span::SPAN_KIND_SERVER, 0, 10, false});
  addSpan(serviceSpans(second, "frontend"), {kTraceB, "2000000000000001", "", "second",
                                             pb_trace::Span::SPAN_KIND_SERVER, 1000, 1010, false});
  send(process, "/v1/traces", first);
  waitFor(query, "/api/otlpd/trace-summaries?" + kWindow,
          [](const json& b) { return b["data"].size() == 1; });
  send(process, "/v1/traces", second);
  json answer = waitFor(query, "/api/otlpd/trace-summaries?" + kWindow, [](const json& b) {
    return b["data"].size() == 1 && b["data"][0]["traceID"] == kTraceB;
  });
  const json& body = answer["body"];
  ASSERT_EQ(body["data"].size(), 1u) << body.dump();
  EXPECT_EQ(body["data"][0]["traceID"], kTraceB);  // the newest batch is read first
  EXPECT_EQ(body["truncated"], true);
  EXPECT_GT(body["scannedBytes"].get<uint64_t>(), 0u);

  // Jaeger classic reports a partial answer in `errors` next to the data.
  json classic = getJson(query, "/api/traces?service=frontend&" + kWindow)["body"];
  EXPECT_EQ(classic["data"].size(), 1u);
  ASSERT_TRUE(classic["errors"].is_array()) << classic.dump();
  EXPECT_EQ(classic["errors"][0]["code"], 206);

  // The UI: every non-/api/ GET goes to the assets, revalidated by ETag on every load.
  HttpResult index = get(query, "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(contains(index.header("content-type"), "text/html"));
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  EXPECT_TRUE(contains(index.body, "<title>otlpd</title>"));
  HttpResult route = get(query, "/search?service=x");
  EXPECT_EQ(route.status, 200);
  EXPECT_TRUE(contains(route.body, "<title>otlpd</title>"));
  HttpResult script = get(query, "/static/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_TRUE(contains(script.header("content-type"), "javascript"));
  EXPECT_EQ(script.header("cache-control"), "no-cache");
  const std::string etag = script.header("etag");
  EXPECT_EQ(etag.size(), 18u) << etag;
  HttpResult unchanged = get(query, "/static/app.js", "GET", {{"If-None-Match", etag}});
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_TRUE(unchanged.body.empty());
  EXPECT_EQ(get(query, "/static/app.js", "GET", {{"If-None-Match", "\"0\""}}).status, 200);
  EXPECT_EQ(get(query, "/static/../../etc/passwd").status, 404);
  EXPECT_EQ(get(query, "/no-such-page").status, 404);
  HttpResult head = get(query, "/", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // HEAD carries the Content-Length of the GET.
  EXPECT_EQ(head.header("content-length"), std::to_string(index.body.size()));
  HttpResult head_api = get(query, "/api/v3/services", "HEAD");
  EXPECT_EQ(head_api.status, 200);
  EXPECT_EQ(head_api.header("content-length"),
            std::to_string(get(query, "/api/v3/services").body.size()));
  EXPECT_EQ(get(query, "/api/v3/services", "POST").status, 405);

  EXPECT_TRUE(process.stop().cleanExit()) << process.stderrContents();
  std::error_code ec;
  fs::remove_all(ui_dir, ec);
}

}  // namespace
}  // namespace otlpd::integration
