// OTLP → remote-write series: names, labels (job/instance, scope, collisions, external labels,
// resource_to_telemetry), histogram/exponential/summary series, target_info, stale markers,
// delta points refused, timestamp order, and the passthrough encoding that carries series back.
#include "prometheus/series_translator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "metrics_fixture.h"

namespace otlpd::prometheus {
namespace {

using testing::addNumber;
using testing::RequestBuilder;

// Series as "labels" text → samples, for comparisons.
std::map<std::string, std::vector<remote_write::Sample>> dump(const SeriesTranslator& t) {
  std::map<std::string, std::vector<remote_write::Sample>> out;
  std::vector<remote_write::Chunk> chunks;
  for (uint32_t i = 0; i < t.series().size(); ++i) {
    chunks.push_back({i, 0, static_cast<uint32_t>(t.series()[i].samples.size())});
  }
  auto decoded = remote_write::decodeRequest(remote_write::encodeRequest(t.series(), chunks));
  EXPECT_TRUE(decoded.ok());
  for (const auto& d : *decoded) {
    std::string key;
    for (const auto& [n, v] : d.labels) key += n + "=" + v + ",";
    out[key] = d.samples;
  }
  return out;
}

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ULL;  // ns
constexpr int64_t kT0ms = 1'700'000'000'000;

TEST(SeriesTranslator, NumbersWithJobInstanceScopeAndExternalLabels) {
  RequestBuilder b;
  b.resource({{"service.name", "checkout"},
              {"service.namespace", "shop"},
              {"service.instance.id", "pod-1"},
              {"host.name", "h1"}});
  b.scope("io.opentelemetry.http", "1.2.0");
  auto* m = b.metric("http.server.requests", "{request}");
  m->mutable_sum()->set_is_monotonic(true);
  m->mutable_sum()->set_aggregation_temporality(testing::pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  addNumber(m->mutable_sum()->mutable_data_points(), 7, kT0 + 2'000'000'000,
            {{"http.method", "GET"}, {"http_method", "X"}});
  addNumber(m->mutable_sum()->mutable_data_points(), 5, kT0 + 1'000'000'000,
            {{"http.method", "GET"}, {"http_method", "X"}});  // older: sorted first

  SeriesOptions o;
  o.labels.extra_labels = {{"cluster", "eu"}, {"job", "ignored-as-set"}};
  SeriesTranslator t(o);
  ASSERT_TRUE(t.add(b.bytes()).ok());
  t.finish();
  auto series = dump(t);
  const std::string key =
      "__name__=http_server_requests_total,cluster=eu,http_method=GET;X,instance=pod-1,"
      "job=shop/checkout,otel_scope_name=io.opentelemetry.http,otel_scope_version=1.2.0,";
  ASSERT_TRUE(series.count(key)) << ::testing::PrintToString(series);
  EXPECT_EQ(series[key], (std::vector<remote_write::Sample>{{5, kT0ms + 1000}, {7, kT0ms + 2000}}));
  // target_info at the latest timestamp of the resource's samples.
  const std::string info =
      "__name__=target_info,cluster=eu,host_name=h1,instance=pod-1,job=shop/checkout,";
  ASSERT_TRUE(series.count(info)) << ::testing::PrintToString(series);
  EXPECT_EQ(series[info], (std::vector<remote_write::Sample>{{1, kT0ms + 2000}}));
  EXPECT_EQ(series.size(), 2u);
  EXPECT_EQ(t.sampleCount(), 3u);
}

TEST(SeriesTranslator, HistogramsExponentialHistogramsAndSummaries) {
  namespace pbm = testing::pbm;
  RequestBuilder b;
  b.resource({{"service.name", "api"}});
  auto* h = b.metric("rpc.duration", "ms");
  h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_time_unix_nano(kT0);
  hp->set_count(6);
  hp->set_sum(42.5);
  for (double bound : {10.0, 100.0}) hp->add_explicit_bounds(bound);
  for (uint64_t c : {1, 2, 3}) hp->add_bucket_counts(c);

  auto* e = b.metric("size", "By");
  e->mutable_exponential_histogram()->set_aggregation_temporality(
      pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* ep = e->mutable_exponential_histogram()->add_data_points();
  ep->set_time_unix_nano(kT0);
  ep->set_count(7);
  ep->set_sum(20);
  ep->set_scale(0);  // base 2
  ep->set_zero_count(1);
  ep->mutable_positive()->set_offset(1);  // (2,4], (4,8]
  ep->mutable_positive()->add_bucket_counts(2);
  ep->mutable_positive()->add_bucket_counts(3);
  ep->mutable_negative()->set_offset(0);  // [-2,-1)
  ep->mutable_negative()->add_bucket_counts(1);

  auto* s = b.metric("latency", "s");
  auto* sp = s->mutable_summary()->add_data_points();
  sp->set_time_unix_nano(kT0);
  sp->set_count(3);
  sp->set_sum(1.5);
  auto* q = sp->add_quantile_values();
  q->set_quantile(0.99);
  q->set_value(0.9);

  SeriesTranslator t({});
  ASSERT_TRUE(t.add(b.bytes()).ok());
  t.finish();
  auto series = dump(t);
  auto at = [&](const std::string& key) -> double {
    EXPECT_TRUE(series.count(key)) << key << " in " << ::testing::PrintToString(series);
    return series.count(key) ? series[key][0].value : -1;
  };
  EXPECT_EQ(at("__name__=rpc_duration_milliseconds_bucket,job=api,le=10,"), 1);
  EXPECT_EQ(at("__name__=rpc_duration_milliseconds_bucket,job=api,le=100,"), 3);
  EXPECT_EQ(at("__name__=rpc_duration_milliseconds_bucket,job=api,le=+Inf,"), 6);
  EXPECT_EQ(at("__name__=rpc_duration_milliseconds_sum,job=api,"), 42.5);
  EXPECT_EQ(at("__name__=rpc_duration_milliseconds_count,job=api,"), 6);
  EXPECT_EQ(at("__name__=size_bytes_bucket,job=api,le=-1,"), 1);
  EXPECT_EQ(at("__name__=size_bytes_bucket,job=api,le=0,"), 2);
  EXPECT_EQ(at("__name__=size_bytes_bucket,job=api,le=4,"), 4);
  EXPECT_EQ(at("__name__=size_bytes_bucket,job=api,le=8,"), 7);
  EXPECT_EQ(at("__name__=size_bytes_bucket,job=api,le=+Inf,"), 7);
  EXPECT_EQ(at("__name__=size_bytes_count,job=api,"), 7);
  EXPECT_EQ(at("__name__=latency_seconds,job=api,quantile=0.99,"), 0.9);
  EXPECT_EQ(at("__name__=latency_seconds_sum,job=api,"), 1.5);
  EXPECT_EQ(at("__name__=latency_seconds_count,job=api,"), 3);
  EXPECT_EQ(series.size(), 15u);  // 5 + 7 + 3; no target_info: the resource has only service.name
}

TEST(SeriesTranslator, DeltaIsRefusedStaleIsMarkedResourceAttributesBecomeLabels) {
  namespace pbm = testing::pbm;
  RequestBuilder b;
  b.resource({{"service.name", "api"}, {"k8s.pod.name", "p"}});
  auto* d = b.metric("deltas");
  d->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
  d->mutable_sum()->set_is_monotonic(true);
  addNumber(d->mutable_sum()->mutable_data_points(), 1, kT0);
  auto* g = b.metric("temp", "Cel");
  addNumber(g->mutable_gauge()->mutable_data_points(), 21.5, kT0, {{"room", "a"}});
  addNumber(g->mutable_gauge()->mutable_data_points(), 0, kT0 + 1'000'000, {{"room", "b"}})
      ->set_flags(1);  // no recorded value

  SeriesOptions o;
  o.labels.resource_to_telemetry = true;
  o.target_info = false;
  o.names.name_space = "app";
  SeriesTranslator t(o);
  ASSERT_TRUE(t.add(b.bytes()).ok());
  t.finish();
  EXPECT_EQ(t.unsupportedPoints(), 1u);
  auto series = dump(t);
  ASSERT_EQ(series.size(), 2u) << ::testing::PrintToString(series);
  const std::string a = "__name__=app_temp_celsius,job=api,k8s_pod_name=p,room=a,service_name=api,";
  ASSERT_TRUE(series.count(a)) << ::testing::PrintToString(series);
  EXPECT_EQ(series[a][0].value, 21.5);
  const auto& stale =
      series["__name__=app_temp_celsius,job=api,k8s_pod_name=p,room=b,service_name=api,"];
  ASSERT_EQ(stale.size(), 1u);
  uint64_t bits;
  std::memcpy(&bits, &stale[0].value, 8);
  EXPECT_EQ(bits, kStaleNaNBits);
}

TEST(SeriesTranslator, PassthroughCarriesSeriesBackExactly) {
  RequestBuilder b;
  b.resource({{"service.name", "api"}, {"host.name", "h"}});
  auto* g = b.metric("queue.depth", "{item}");
  addNumber(g->mutable_gauge()->mutable_data_points(), 3, kT0, {{"q", "x"}});
  addNumber(g->mutable_gauge()->mutable_data_points(), 4, kT0 + 5'000'000, {{"q", "x"}});
  SeriesOptions o;
  o.labels.extra_labels = {{"replica", "r1"}};
  o.names.name_space = "ns";
  SeriesTranslator first(o);
  ASSERT_TRUE(first.add(b.bytes()).ok());
  first.finish();
  std::vector<remote_write::Chunk> all;
  for (uint32_t i = 0; i < first.series().size(); ++i) {
    all.push_back({i, 0, static_cast<uint32_t>(first.series()[i].samples.size())});
  }
  size_t points = 0;
  const std::string otlp = encodeSeriesAsOtlp(first.series(), all, &points);
  EXPECT_EQ(points, first.sampleCount());
  // The bytes are a valid OTLP request...
  otlp::MetricsRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(otlp));
  EXPECT_EQ(parsed.resource_metrics(0).scope_metrics(0).scope().name(), kSeriesPassthroughScope);
  // ...that translates (with the same options) to the same series, untouched.
  SeriesTranslator second(o);
  ASSERT_TRUE(second.add(otlp).ok());
  second.finish();
  EXPECT_EQ(dump(second), dump(first));
}

}  // namespace
}  // namespace otlpd::prometheus

namespace otlpd::prometheus {
namespace {

// What a reused translator sends after clear() + add(): the series of that batch only (samples of
// earlier batches gone, series it does not have not sent), whatever it kept from before.
std::map<std::string, std::vector<remote_write::Sample>> sent(const SeriesTranslator& t) {
  std::map<std::string, std::vector<remote_write::Sample>> out;
  for (const auto& request : remote_write::packRequests(t.series(), 1 << 20)) {
    auto decoded = remote_write::decodeRequest(remote_write::encodeRequest(t.series(), request));
    EXPECT_TRUE(decoded.ok());
    for (const auto& d : *decoded) {
      std::string key;
      for (const auto& [n, v] : d.labels) key += n + "=" + v + ",";
      EXPECT_FALSE(out.contains(key)) << key;
      out[key] = d.samples;
    }
  }
  return out;
}

std::string gaugeBatch(const std::vector<std::pair<std::string, double>>& points, uint64_t t) {
  RequestBuilder b;
  b.resource({{"service.name", "svc"}});
  auto* m = b.metric("queue.depth");
  for (const auto& [route, value] : points) {
    addNumber(m->mutable_gauge()->mutable_data_points(), value, t, {{"route", route}});
  }
  return b.bytes();
}

TEST(SeriesTranslator, ReusedAcrossBatchesSendsOnlyEachBatchsSeries) {
  SeriesOptions o;
  o.target_info = false;
  SeriesTranslator t(o);
  ASSERT_TRUE(t.add(gaugeBatch({{"/a", 1}, {"/b", 2}}, kT0)).ok());
  t.finish();
  EXPECT_EQ(sent(t).size(), 2u);
  t.clear();
  ASSERT_TRUE(t.add(gaugeBatch({{"/c", 4}, {"/a", 3}}, kT0 + 1'000'000'000)).ok());
  t.finish();
  EXPECT_EQ(t.sampleCount(), 2u);
  const std::map<std::string, std::vector<remote_write::Sample>> expected = {
      {"__name__=queue_depth,job=svc,route=/a,", {{3, kT0ms + 1000}}},
      {"__name__=queue_depth,job=svc,route=/c,", {{4, kT0ms + 1000}}}};
  EXPECT_EQ(sent(t), expected);

  // Batches of series never seen again: the kept ones stay bounded, and each batch is sent whole.
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<std::pair<std::string, double>> points;
    for (int i = 0; i < 1500; ++i) {
      points.push_back({"/b" + std::to_string(batch) + "/" + std::to_string(i), i});
    }
    t.clear();
    ASSERT_TRUE(t.add(gaugeBatch(points, kT0)).ok());
    t.finish();
    const auto out = sent(t);
    ASSERT_EQ(out.size(), 1500u);
    EXPECT_EQ(out.at("__name__=queue_depth,job=svc,route=/b" + std::to_string(batch) + "/7,"),
              (std::vector<remote_write::Sample>{{7, kT0ms}}));
    EXPECT_LE(t.series().size(), 3 * 1500u);  // up to twice the last batch kept, and this one
  }
}

}  // namespace
}  // namespace otlpd::prometheus
