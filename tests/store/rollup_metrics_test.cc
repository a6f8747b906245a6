#include "store/rollup_metrics.h"

#include <gtest/gtest.h>

#include "../connectors/spanmetrics/spanmetrics_test_support.h"
#include "connectors/spanmetrics/aggregator.h"
#include "rollup_metrics_test_support.h"
#include "store/otlp_columns.h"

namespace otlpd::store {
namespace {

using testing::readSpanMetrics;
using testing::SeriesName;
using testing::SeriesNumbers;
using testing::spanMetricsRequests;

constexpr int64_t kBase = 1'700'000'000'000'000'000;

// What the spanmetrics connector computes for `requests` (cumulative, default buckets).
std::map<SeriesName, SeriesNumbers> fromConnector(
    const std::vector<otlp::TracesRequest>& requests) {
  connectors::spanmetrics::Aggregator aggregator(connectors::spanmetrics::testing::configFrom(""));
  for (const auto& r : requests) {
    EXPECT_TRUE(aggregator.add(r.SerializeAsString(), absl::FromUnixNanos(kBase)).ok());
  }
  otlp::MetricsRequest out;
  EXPECT_TRUE(out.ParseFromString(aggregator.flush(absl::FromUnixNanos(kBase + 3600e9)).request));
  return readSpanMetrics(out);
}

// The store's rollups of the same spans (one record batch per request, as the store writes
// them), as metrics.
SpanMetricsTotals rollupTotals(const std::vector<otlp::TracesRequest>& requests,
                               const SpanMetricsOptions& options) {
  SpanRollupBuilder builder({});
  SpanMetricsTotals totals;
  for (const auto& r : requests) {
    ColumnTable table(&fieldsFor(pipeline::Signal::kTraces));
    TimeRange range;
    appendTraces(r, table, range);
    builder.addBatch(table, 0);
    totals.add(builder.take(), options);
  }
  return totals;
}

otlp::MetricsRequest asRequest(const SpanMetricsTotals& totals, const SpanMetricsOptions& options) {
  std::vector<SpanMetricPoint> points;
  for (const auto& [key, t] : totals.series()) points.push_back({key, kBase, kBase + 60, t});
  return spanMetricsRequest(points, options);
}

TEST(RollupMetrics, EqualTheSpanmetricsConnectorOnTheSameSpans) {
  auto requests = spanMetricsRequests(1, 40, 250, kBase, 30, /*clear_of_bounds=*/true);
  // Spans without service.name: the connector skips them, so do the metrics of the rollups.
  otlp::TracesRequest anonymous = requests.front();
  anonymous.mutable_resource_spans(0)->mutable_resource()->clear_attributes();
  requests.push_back(anonymous);
  const SpanMetricsOptions options;
  const SpanMetricsTotals totals = rollupTotals(requests, options);
  EXPECT_EQ(totals.skipped(), 250u);
  const auto got = readSpanMetrics(asRequest(totals, options));
  const auto want = fromConnector(requests);
  ASSERT_EQ(got.size(), want.size());
  uint64_t calls = 0;
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(std::get<0>(name) + " " + std::get<1>(name) + " " + std::get<2>(name) + " " +
                 std::get<3>(name));
    auto it = got.find(name);
    ASSERT_NE(it, got.end());
    const SeriesNumbers& g = it->second;
    EXPECT_EQ(g.calls, w.calls);
    EXPECT_EQ(g.count, w.count);
    // No duration is within 2% of a bound: every bucket count is exact.
    EXPECT_EQ(g.buckets, w.buckets);
    EXPECT_EQ(g.bounds, w.bounds);
    EXPECT_NEAR(g.sum, w.sum, 1e-9 * w.sum + 1e-9);
    calls += g.calls;
  }
  EXPECT_EQ(calls, 40u * 250u);
}

TEST(RollupMetrics, BucketsDifferOnlyBySpansWithinOnePercentOfABound) {
  // Durations anywhere, many close to the bounds (2 ms, 4 ms … are near the median).
  const auto requests = spanMetricsRequests(2, 40, 250, kBase, 30, /*clear_of_bounds=*/false);
  const SpanMetricsOptions options;
  const auto got = readSpanMetrics(asRequest(rollupTotals(requests, options), options));
  const auto want = fromConnector(requests);
  // Spans within 1% of a bound, per series: the most re-bucketing may move.
  std::map<SeriesName, uint64_t> near;
  for (const auto& r : requests) {
    const std::string service = r.resource_spans(0).resource().attributes(0).value().string_value();
    for (const auto& s : r.resource_spans(0).scope_spans(0).spans()) {
      const double d = static_cast<double>(s.end_time_unix_nano() - s.start_time_unix_nano());
      for (uint64_t b : options.explicit_bounds_ns) {
        if (std::abs(d - static_cast<double>(b)) <= 0.01 * static_cast<double>(b)) {
          ++near[{service, s.name(), std::string(spanKindName(s.kind())),
                  std::string(statusCodeName(s.status().code()))}];
        }
      }
    }
  }
  uint64_t moved = 0, total_near = 0;
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    const SeriesNumbers& g = got.at(name);
    EXPECT_EQ(g.calls, w.calls);  // counts stay exact
    ASSERT_EQ(g.buckets.size(), w.buckets.size());
    uint64_t diff = 0;
    for (size_t i = 0; i < w.buckets.size(); ++i) {
      diff +=
          g.buckets[i] > w.buckets[i] ? g.buckets[i] - w.buckets[i] : w.buckets[i] - g.buckets[i];
    }
    // A moved span is one too many in one bucket and one too few in its neighbour.
    EXPECT_LE(diff, 2 * near[name]);
    moved += diff / 2;
    total_near += near[name];
  }
  EXPECT_GT(total_near, 0u);  // the test saw spans near bounds
  EXPECT_LE(moved, total_near);
}

TEST(RollupMetrics, ExplicitBucketsAreUpperInclusiveAndReBucketingIsAdditive) {
  const std::vector<uint64_t> bounds = {10, 100};
  EXPECT_EQ(explicitBucketOf(0, bounds), 0u);
  EXPECT_EQ(explicitBucketOf(10, bounds), 0u);
  EXPECT_EQ(explicitBucketOf(11, bounds), 1u);
  EXPECT_EQ(explicitBucketOf(100, bounds), 1u);
  EXPECT_EQ(explicitBucketOf(101, bounds), 2u);
  EXPECT_EQ(explicitBucketOf(-5, bounds), 0u);

  // Two halves re-bucketed and added equal the whole re-bucketed: what lets the receiver and
  // the query add up totals and subtract earlier ones.
  const auto requests = spanMetricsRequests(3, 20, 100, kBase, 10, false);
  const SpanMetricsOptions options;
  const std::vector<otlp::TracesRequest> first(requests.begin(), requests.begin() + 7);
  const std::vector<otlp::TracesRequest> second(requests.begin() + 7, requests.end());
  SpanMetricsTotals sum = rollupTotals(first, options);
  sum.add(rollupTotals(second, options));
  const SpanMetricsTotals whole = rollupTotals(requests, options);
  ASSERT_EQ(sum.series().size(), whole.series().size());
  for (const auto& [key, t] : whole.series()) {
    const SpanSeriesTotals& s = sum.series().at(key);
    EXPECT_EQ(s.calls, t.calls);
    EXPECT_EQ(s.buckets, t.buckets);
  }
  SpanMetricsTotals rest = whole;
  rest.subtract(rollupTotals(first, options));
  const SpanMetricsTotals second_only = rollupTotals(second, options);
  for (const auto& [key, t] : rest.series()) {
    auto it = second_only.series().find(key);
    const uint64_t calls = it == second_only.series().end() ? 0 : it->second.calls;
    EXPECT_EQ(t.calls, calls);
  }
}

TEST(RollupMetrics, NamesUnitsAndExcludedDimensions) {
  SpanMetricsOptions options;
  options.metrics_namespace = "";
  options.seconds = true;
  options.exclude_status_code = true;
  options.delta = true;
  const auto requests = spanMetricsRequests(4, 4, 50, kBase, 1, false);
  const otlp::MetricsRequest req = asRequest(rollupTotals(requests, options), options);
  ASSERT_GT(req.resource_metrics_size(), 0);
  const auto& rm = req.resource_metrics(0);
  EXPECT_EQ(rm.resource().attributes(0).key(), "service.name");
  const auto& sm = rm.scope_metrics(0);
  EXPECT_EQ(sm.scope().name(), "otlpd.store.rollups");
  ASSERT_EQ(sm.metrics_size(), 2);
  EXPECT_EQ(sm.metrics(0).name(), "calls");
  EXPECT_TRUE(sm.metrics(0).sum().is_monotonic());
  EXPECT_EQ(sm.metrics(0).sum().aggregation_temporality(),
            otlp::pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_EQ(sm.metrics(1).name(), "duration");
  EXPECT_EQ(sm.metrics(1).unit(), "s");
  const auto& p = sm.metrics(1).histogram().data_points(0);
  EXPECT_EQ(p.explicit_bounds(0), 0.002);  // 2 ms in seconds
  for (const auto& kv : p.attributes()) EXPECT_NE(kv.key(), "status.code");
  EXPECT_EQ(p.attributes_size(), 3);
  EXPECT_EQ(p.bucket_counts_size(), 17);

  options.histogram_disabled = true;
  const otlp::MetricsRequest calls_only = asRequest(rollupTotals(requests, options), options);
  EXPECT_EQ(calls_only.resource_metrics(0).scope_metrics(0).metrics_size(), 1);
}

}  // namespace
}  // namespace otlpd::store
