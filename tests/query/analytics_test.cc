// The pure aggregations: trace summaries, dependencies, RED, logs, metrics.
#include "query/analytics.h"

#include <gtest/gtest.h>

namespace otlpd::query {
namespace {

using json = nlohmann::json;
namespace pb_trace = otlp::pb_trace;

SpanFacts span(std::string trace, std::string id, std::string parent, std::string service,
               std::string name, int kind, int64_t start_us, int64_t end_us, bool error = false) {
  SpanFacts f;
  f.trace_id = std::move(trace);
  f.span_id = std::move(id);
  f.parent_span_id = std::move(parent);
  f.service = std::move(service);
  f.name = std::move(name);
  f.kind = kind;
  f.start_unix_nano = start_us * 1000;
  f.end_unix_nano = end_us * 1000;
  f.error = error;
  return f;
}

constexpr int kServer = pb_trace::Span::SPAN_KIND_SERVER;
constexpr int kClient = pb_trace::Span::SPAN_KIND_CLIENT;

TEST(TraceSummariesTest, RootServicesAndOrder) {
  const std::string a(16, 'a'), b(16, 'b');
  std::vector<SpanFacts> spans = {
      span(a, "2", "1", "db", "query", kServer, 120, 130, true),
      span(a, "1", "", "web", "GET /", kServer, 100, 200),
      span(b, "9", "8", "web", "late child", kClient, 300, 310),  // parent never arrived
      span(b, "7", "6", "web", "orphan", kClient, 250, 260),
  };
  json out = traceSummaries(spans);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["traceID"], "62626262626262626262626262626262");
  EXPECT_EQ(out[0]["rootName"], "orphan");  // no parentless span: the earliest
  EXPECT_EQ(out[0]["startTime"], 250);
  EXPECT_EQ(out[0]["duration"], 60);
  EXPECT_EQ(out[1]["rootService"], "web");
  EXPECT_EQ(out[1]["rootName"], "GET /");
  EXPECT_EQ(out[1]["spanCount"], 2);
  EXPECT_EQ(out[1]["errorCount"], 1);
  EXPECT_EQ(out[1]["services"], json::parse(R"([{"name":"db","spanCount":1,"errorCount":1},
                                               {"name":"web","spanCount":1,"errorCount":0}])"));
}

TEST(TraceSummariesTest, OrphansAreSpansWhoseParentIsMissing) {
  const std::string a(16, 'a'), b(16, 'b');
  std::vector<SpanFacts> spans = {
      span(a, "2", "1", "db", "query", kServer, 120, 130),
      span(a, "1", "", "web", "GET /", kServer, 100, 200),
      span(a, "3", "1", "web", "cache", kClient, 110, 115),
      span(b, "9", "8", "web", "late child", kClient, 300, 310),  // 8 never arrived
      span(b, "7", "6", "web", "orphan", kClient, 250, 260),      // 6 neither
      span(b, "5", "7", "web", "under the orphan", kClient, 251, 252),
  };
  const std::vector<TraceSummary> out = summarizeTraces(spans);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].trace_id, b);
  EXPECT_EQ(out[0].orphans, 2u);
  EXPECT_EQ(out[0].spans, 3u);
  EXPECT_EQ(out[1].orphans, 0u);
  EXPECT_EQ(out[1].root_name, "GET /");
  EXPECT_EQ(out[1].start_unix_nano, 100'000);
  EXPECT_EQ(out[1].end_unix_nano, 200'000);
}

TEST(DependencyGraphTest, CountsCallsAcrossServices) {
  const std::string t(16, 't');
  DependencyGraph g(100);
  g.add(span(t, "c", "b", "db", "q", kServer, 3, 4));  // before its parent: order does not matter
  g.add(span(t, "a", "", "web", "GET", kServer, 1, 9));
  g.add(span(t, "b", "a", "web", "call", kClient, 2, 5));
  g.add(span(t, "d", "b", "db", "q", kServer, 3, 4));
  g.add(span(t, "e", "zz", "db", "q", kServer, 3, 4));  // unknown parent
  EXPECT_EQ(g.finish(), json::parse(R"([{"parent":"web","child":"db","callCount":2}])"));
  EXPECT_FALSE(g.truncated());
  DependencyGraph small(1);
  small.add(span(t, "a", "", "web", "GET", kServer, 1, 9));
  small.add(span(t, "b", "a", "db", "q", kServer, 1, 9));
  EXPECT_TRUE(small.truncated());
}

TEST(RedAggregatorTest, RequestsErrorsPercentiles) {
  const std::string t(16, 't');
  RedAggregator red(std::nullopt, 10);
  for (int i = 1; i <= 100; ++i) {
    red.add(span(t, std::to_string(i), "parent", "web", "GET", kServer, 0, i * 10, i % 10 == 0));
  }
  red.add(span(t, "x", "p", "web", "call", kClient, 0, 5));  // client child: not a request
  red.add(span(t, "r", "", "batch", "job", kClient, 0, 7));  // root: a request
  json out = red.finish(10);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["service"], "batch");
  EXPECT_EQ(out[1]["requests"], 100);
  EXPECT_EQ(out[1]["errors"], 10);
  EXPECT_DOUBLE_EQ(out[1]["ratePerSecond"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(out[1]["errorRate"].get<double>(), 0.1);
  EXPECT_EQ(out[1]["p50"], 500);
  EXPECT_EQ(out[1]["p95"], 950);
  EXPECT_EQ(out[1]["p99"], 990);

  RedAggregator ops(std::string("web"), 1);
  ops.add(span(t, "1", "", "web", "GET", kServer, 0, 1));
  ops.add(span(t, "2", "", "web", "POST", kServer, 0, 1));
  ops.add(span(t, "3", "", "other", "GET", kServer, 0, 1));
  json o = ops.finish(1);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0]["operation"], "GET");
  EXPECT_TRUE(ops.truncated());
}

TEST(PercentileTest, NearestRank) {
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({7}, 99), 7);
  EXPECT_EQ(percentile({5, 1, 4, 2, 3}, 50), 3);
  EXPECT_EQ(percentile({5, 1, 4, 2, 3}, 100), 5);
}

TEST(LogRecordJsonTest, Shape) {
  otlp::pb_resource::Resource resource;
  auto* kv = resource.add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("svc");
  otlp::pb_common::InstrumentationScope scope;
  scope.set_name("lib");
  otlp::pb_logs::LogRecord r;
  r.set_observed_time_unix_nano(1234567);
  r.set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_ERROR);
  r.mutable_body()->mutable_array_value()->add_values()->set_int_value(3);
  r.set_trace_id(std::string(16, '\x01'));
  json j = logRecordJson(resource, scope, r);
  EXPECT_EQ(j["time"], 1234);  // observed time when time is unset
  EXPECT_EQ(j["timeUnixNano"], "0");
  EXPECT_EQ(j["observedTimeUnixNano"], "1234567");
  EXPECT_EQ(j["body"], json::parse("[3]"));
  EXPECT_EQ(j["service"], "svc");
  EXPECT_EQ(j["traceID"], "01010101010101010101010101010101");
  EXPECT_EQ(j["spanID"], "");
  EXPECT_EQ(j["scope"], json::parse(R"({"name":"lib","version":""})"));
  EXPECT_TRUE(logBodyContains(r, "3"));
  EXPECT_FALSE(logBodyContains(r, "4"));
}

TEST(MetricsTest, CatalogAndSeries) {
  otlp::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  auto* kv = rm->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("svc");
  auto* sm = rm->add_scope_metrics();
  auto* h = sm->add_metrics();
  h->set_name("latency");
  h->set_unit("ms");
  for (int i = 0; i < 3; ++i) {
    auto* p = h->mutable_summary()->add_data_points();
    p->set_time_unix_nano(static_cast<uint64_t>(3 - i) * 1000);
    p->set_count(static_cast<uint64_t>(i));
    p->set_sum(10.0 * i);
    auto* a = p->add_attributes();
    a->set_key("route");
    a->mutable_value()->set_string_value(i == 2 ? "/b" : "/a");
  }
  MetricCatalog catalog(10);
  catalog.add(req);
  EXPECT_EQ(catalog.finish(), json::parse(R"([{"name":"latency","type":"summary","unit":"ms",
      "description":"","services":["svc"],"attributeKeys":["route"]}])"));
  SeriesBuilder series(10, 10, 100);
  series.add(req, "latency", {});
  json s = series.finish();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]["attributes"], json::parse(R"({"route":"/a"})"));
  EXPECT_EQ(s[0]["points"], json::parse("[[2,10.0]]"));  // the count-0 point has no mean
  EXPECT_EQ(s[1]["points"], json::parse("[[1,10.0]]"));
  SeriesBuilder one(1, 10, 100);
  one.add(req, "latency", {{"route", "/b"}});
  EXPECT_EQ(one.finish().size(), 1u);
  EXPECT_FALSE(one.truncated());
}

}  // namespace
}  // namespace otlpd::query
