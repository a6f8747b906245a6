// What the prometheus exporter serves: exact text and OpenMetrics renderings, delta → cumulative,
// out-of-order and repeated points, expiration, stale points, type conflicts, Accept negotiation.
#include "prometheus/exposition_store.h"

#include <gtest/gtest.h>

#include "metrics_fixture.h"

namespace otlpd::prometheus {
namespace {

using testing::addNumber;
using testing::RequestBuilder;
namespace pbm = testing::pbm;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ULL;  // ns
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

std::string render(ExpositionStore& store, ExpositionFormat format = ExpositionFormat::kText004,
                   absl::Time now = kNow) {
  std::string out;
  store.render(format, now, out);
  return out;
}

RequestBuilder sample() {
  RequestBuilder b;
  b.resource({{"service.name", "api"}, {"service.instance.id", "i-1"}, {"region", "eu"}});
  b.scope("meter", "1.0");
  auto* c = b.metric("http.requests", "{request}", "Requests \"served\"\nby the API");
  c->mutable_sum()->set_is_monotonic(true);
  c->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  addNumber(c->mutable_sum()->mutable_data_points(), 10, kT0, {{"code", "200"}}, kT0 - 1000);
  addNumber(c->mutable_sum()->mutable_data_points(), 2, kT0, {{"code", "5\"0\\0"}}, kT0 - 1000);
  auto* h = b.metric("rpc.duration", "s");
  h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_time_unix_nano(kT0);
  hp->set_count(3);
  hp->set_sum(0.75);
  hp->add_explicit_bounds(0.1);
  hp->add_explicit_bounds(1);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(2);
  hp->add_bucket_counts(0);
  return b;
}

TEST(ExpositionStore, RendersTheTextFormat) {
  ExpositionStore store({});
  ASSERT_TRUE(store.add(sample().bytes(), kNow).ok());
  EXPECT_EQ(
      render(store),
      "# HELP http_requests_total Requests \"served\"\\nby the API\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\",instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\"} 10\n"
      "http_requests_total{code=\"5\\\"0\\\\0\",instance=\"i-1\",job=\"api\",otel_scope_name="
      "\"meter\",otel_scope_version=\"1.0\"} 2\n"
      "# TYPE rpc_duration_seconds histogram\n"
      "rpc_duration_seconds_bucket{instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\",le=\"0.1\"} 1\n"
      "rpc_duration_seconds_bucket{instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\",le=\"1\"} 3\n"
      "rpc_duration_seconds_bucket{instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\",le=\"+Inf\"} 3\n"
      "rpc_duration_seconds_sum{instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\"} 0.75\n"
      "rpc_duration_seconds_count{instance=\"i-1\",job=\"api\",otel_scope_name=\"meter\","
      "otel_scope_version=\"1.0\"} 3\n"
      "# HELP target_info Target metadata\n"
      "# TYPE target_info gauge\n"
      "target_info{instance=\"i-1\",job=\"api\",region=\"eu\"} 1\n");
  EXPECT_EQ(store.seriesCount(), 4u);
}

TEST(ExpositionStore, RendersOpenMetricsWithTimestampsAndConstLabels) {
  StoreOptions o;
  o.send_timestamps = true;
  o.labels.extra_labels = {{"env", "prod"}};
  o.labels.scope_labels = true;
  ExpositionStore store(o);
  RequestBuilder b;
  b.resource({{"service.name", "api"}});
  auto* c = b.metric("io.sent", "By");
  c->mutable_sum()->set_is_monotonic(true);
  c->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
  addNumber(c->mutable_sum()->mutable_data_points(), 1024, kT0 + 123'000'000);
  ASSERT_TRUE(store.add(b.bytes(), kNow).ok());
  EXPECT_EQ(render(store, ExpositionFormat::kOpenMetrics100),
            "# TYPE io_sent_bytes counter\n"
            "# UNIT io_sent_bytes bytes\n"
            "io_sent_bytes_total{env=\"prod\",job=\"api\"} 1024 1700000000.123\n"
            "# EOF\n");
  EXPECT_EQ(render(store),
            "# TYPE io_sent_bytes_total counter\n"
            "io_sent_bytes_total{env=\"prod\",job=\"api\"} 1024 1700000000123\n");
}

RequestBuilder deltaPoint(double value, uint64_t start, uint64_t time) {
  RequestBuilder b;
  auto* c = b.metric("jobs.done");
  c->mutable_sum()->set_is_monotonic(true);
  c->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
  addNumber(c->mutable_sum()->mutable_data_points(), value, time, {}, start);
  return b;
}

TEST(ExpositionStore, AccumulatesDeltasIntoCumulativeCounters) {
  ExpositionStore store({});
  const uint64_t s = 1'000'000'000;
  ASSERT_TRUE(store.add(deltaPoint(3, kT0, kT0 + s).bytes(), kNow).ok());
  ASSERT_TRUE(store.add(deltaPoint(4, kT0 + s, kT0 + 2 * s).bytes(), kNow).ok());
  ASSERT_TRUE(store.add(deltaPoint(4, kT0 + s, kT0 + 2 * s).bytes(), kNow).ok());  // repeated
  ASSERT_TRUE(store.add(deltaPoint(9, kT0, kT0 + s / 2).bytes(), kNow).ok());      // older
  ASSERT_TRUE(
      store.add(deltaPoint(1, kT0 + 5 * s, kT0 + 6 * s).bytes(), kNow).ok());  // after a gap
  EXPECT_EQ(render(store), "# TYPE jobs_done_total counter\njobs_done_total 8\n");
  EXPECT_EQ(store.counters().dropped_points, 2u);
  // Overlapping start: the producer restarted; the count starts again.
  ASSERT_TRUE(store.add(deltaPoint(2, kT0 + 6 * s - 10, kT0 + 7 * s).bytes(), kNow).ok());
  EXPECT_EQ(render(store), "# TYPE jobs_done_total counter\njobs_done_total 2\n");
}

TEST(ExpositionStore, AccumulatesDeltaHistograms) {
  ExpositionStore store({});
  for (int i = 0; i < 2; ++i) {
    RequestBuilder b;
    auto* h = b.metric("wait", "ms");
    h->mutable_histogram()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_DELTA);
    auto* p = h->mutable_histogram()->add_data_points();
    p->set_start_time_unix_nano(kT0 + i * 10);
    p->set_time_unix_nano(kT0 + (i + 1) * 10);
    p->set_count(2);
    p->set_sum(5);
    p->add_explicit_bounds(10);
    p->add_bucket_counts(1);
    p->add_bucket_counts(1);
    ASSERT_TRUE(store.add(b.bytes(), kNow).ok());
  }
  EXPECT_EQ(render(store),
            "# TYPE wait_milliseconds histogram\n"
            "wait_milliseconds_bucket{le=\"10\"} 2\n"
            "wait_milliseconds_bucket{le=\"+Inf\"} 4\n"
            "wait_milliseconds_sum 10\n"
            "wait_milliseconds_count 4\n");
}

TEST(ExpositionStore, ExpiresSeriesNotUpdatedAndDropsStaleOnes) {
  StoreOptions o;
  o.expiration = absl::Minutes(1);
  ExpositionStore store(o);
  RequestBuilder a;
  addNumber(a.metric("g")->mutable_gauge()->mutable_data_points(), 1, kT0, {{"k", "old"}});
  ASSERT_TRUE(store.add(a.bytes(), kNow).ok());
  RequestBuilder b;
  addNumber(b.metric("g")->mutable_gauge()->mutable_data_points(), 2, kT0, {{"k", "new"}});
  ASSERT_TRUE(store.add(b.bytes(), kNow + absl::Seconds(50)).ok());
  EXPECT_EQ(render(store, ExpositionFormat::kText004, kNow + absl::Seconds(59)),
            "# TYPE g gauge\ng{k=\"old\"} 1\ng{k=\"new\"} 2\n");
  EXPECT_EQ(render(store, ExpositionFormat::kText004, kNow + absl::Seconds(61)),
            "# TYPE g gauge\ng{k=\"new\"} 2\n");
  EXPECT_EQ(store.counters().expired_series, 1u);
  RequestBuilder c;
  addNumber(c.metric("g")->mutable_gauge()->mutable_data_points(), 0, kT0 + 1, {{"k", "new"}})
      ->set_flags(1);
  ASSERT_TRUE(store.add(c.bytes(), kNow + absl::Seconds(62)).ok());
  EXPECT_EQ(render(store, ExpositionFormat::kText004, kNow + absl::Seconds(62)), "");
}

TEST(ExpositionStore, NameUsedWithAnotherTypeIsDropped) {
  ExpositionStore store({});
  RequestBuilder b;
  addNumber(b.metric("x")->mutable_gauge()->mutable_data_points(), 1, kT0);
  auto* s = b.metric("x");
  s->mutable_summary()->add_data_points()->set_time_unix_nano(kT0);
  ASSERT_TRUE(store.add(b.bytes(), kNow).ok());
  EXPECT_EQ(render(store), "# TYPE x gauge\nx 1\n");
  EXPECT_EQ(store.counters().dropped_points, 1u);
}

TEST(ExpositionStore, NegotiatesTheFormat) {
  const std::string prometheus_accept =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  EXPECT_EQ(negotiateFormat(prometheus_accept, true), ExpositionFormat::kOpenMetrics100);
  EXPECT_EQ(negotiateFormat(prometheus_accept, false), ExpositionFormat::kText004);
  EXPECT_EQ(negotiateFormat("text/plain", true), ExpositionFormat::kText004);
  EXPECT_EQ(negotiateFormat("", true), ExpositionFormat::kText004);
}

}  // namespace
}  // namespace otlpd::prometheus
