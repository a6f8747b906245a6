#include "loadgen/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace otlpd::loadgen {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(0.999), 100u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_EQ(h.percentile(0.0), 1u);
}

TEST(LatencyHistogramTest, BucketsCoverEveryValueAndAreTight) {
  const uint64_t values[] = {0, 127, 128, 129, 255, 256, 1'000'000, 123'456'789, UINT64_MAX};
  for (uint64_t v : values) {
    const size_t b = LatencyHistogram::bucketOf(v);
    EXPECT_GE(LatencyHistogram::bucketUpperBound(b), v) << v;
    if (b > 0) {
      EXPECT_LT(LatencyHistogram::bucketUpperBound(b - 1), v) << v;
    }
    EXPECT_LE(static_cast<double>(LatencyHistogram::bucketUpperBound(b) - v),
              static_cast<double>(v) / 64.0 + 1)
        << v;
  }
}

// Against exact percentiles of a sorted sample: within 1/64 relative.
TEST(LatencyHistogramTest, PercentilesMatchSortedSampleWithinResolution) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(2e6), 0.8);  // ~2 ms median, long tail
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact =
        values[static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1];
    const double got = static_cast<double>(h.percentile(q));
    EXPECT_NEAR(got, static_cast<double>(exact), static_cast<double>(exact) / 64.0) << q;
    EXPECT_GE(got, static_cast<double>(exact)) << q;  // bounds never under-report
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.percentile(1.0), values.back());
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (int i = 0; i < 99; ++i) a.record(1000);
  b.record(5'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_NEAR(static_cast<double>(a.percentile(0.5)), 1000, 1000 / 64.0);
  EXPECT_EQ(a.percentile(0.999), 5'000'000u);
  EXPECT_EQ(a.max(), 5'000'000u);
}

}  // namespace
}  // namespace otlpd::loadgen
