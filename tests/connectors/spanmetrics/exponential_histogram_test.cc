#include "connectors/spanmetrics/exponential_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace otlpd::connectors::spanmetrics {
namespace {

// Bucket i at scale s holds (2^(i/2^s), 2^((i+1)/2^s)]: checked against the definition with
// long double arithmetic, not against the code's own formula.
bool inBucket(double v, int32_t index, int scale) {
  const long double exponent = std::pow(2.0L, -scale);
  const long double low = std::pow(2.0L, index * exponent);
  const long double high = std::pow(2.0L, (index + 1) * exponent);
  return low < v && v <= high;
}

TEST(ExponentialHistogram, IndexFollowsTheDefinitionAtEveryScale) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exponent(-20, 40);
  for (int scale : {-4, -1, 0, 1, 3, 8, 20}) {
    for (int i = 0; i < 2000; ++i) {
      const double v = std::exp2(exponent(rng));
      const int32_t index = ExponentialHistogram::indexOf(v, scale);
      EXPECT_TRUE(inBucket(v, index, scale)) << v << " scale " << scale << " index " << index;
    }
  }
}

TEST(ExponentialHistogram, PowersOfTwoCloseTheBucketBelow) {
  // 2^k is the inclusive upper bound of its bucket.
  EXPECT_EQ(ExponentialHistogram::indexOf(1.0, 0), -1);
  EXPECT_EQ(ExponentialHistogram::indexOf(2.0, 0), 0);
  EXPECT_EQ(ExponentialHistogram::indexOf(4.0, 0), 1);
  EXPECT_EQ(ExponentialHistogram::indexOf(4.0, 1), 3);
  EXPECT_EQ(ExponentialHistogram::indexOf(4.0, -1), 0);
  EXPECT_EQ(ExponentialHistogram::indexOf(8.0, -1), 1);
  EXPECT_EQ(ExponentialHistogram::indexOf(0.5, 2), -5);
}

TEST(ExponentialHistogram, StartsFineAndCoarsensOnlyAsNeeded) {
  ExponentialHistogram h(4);
  h.record(1.5);
  EXPECT_EQ(h.scale(), ExponentialHistogram::kMaxScale);
  ASSERT_EQ(h.counts().size(), 1u);
  h.record(3.0);  // twice as large: needs about 2^20 buckets at scale 20
  EXPECT_LE(h.counts().size(), 4u);
  EXPECT_EQ(h.count(), 2u);
  uint64_t total = 0;
  for (uint64_t c : h.counts()) total += c;
  EXPECT_EQ(total, 2u);
  // Both values in their buckets at the scale reached, and one scale finer would not fit.
  EXPECT_TRUE(inBucket(1.5, h.offset() + 0, h.scale()) || inBucket(1.5, h.offset() + 1, h.scale()));
  const int32_t finer_low = ExponentialHistogram::indexOf(1.5, h.scale() + 1);
  const int32_t finer_high = ExponentialHistogram::indexOf(3.0, h.scale() + 1);
  EXPECT_GT(finer_high - finer_low + 1, 4);
}

TEST(ExponentialHistogram, KeepsEveryCountThroughDownscales) {
  std::mt19937_64 rng(9);
  ExponentialHistogram h(160);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) {
    const double v = std::exp2(std::uniform_real_distribution<double>(-10, 25)(rng));
    values.push_back(v);
    h.record(v);
  }
  h.record(0.0);
  EXPECT_EQ(h.count(), 5001u);
  EXPECT_EQ(h.zeroCount(), 1u);
  ASSERT_LE(h.counts().size(), 160u);
  std::vector<uint64_t> expected(h.counts().size(), 0);
  for (double v : values) {
    const int32_t i = ExponentialHistogram::indexOf(v, h.scale());
    ASSERT_TRUE(inBucket(v, i, h.scale()));
    ASSERT_GE(i, h.offset());
    ASSERT_LT(i - h.offset(), static_cast<int32_t>(expected.size()));
    ++expected[static_cast<size_t>(i - h.offset())];
  }
  EXPECT_EQ(h.counts(), expected);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.scale(), ExponentialHistogram::kMaxScale);
  EXPECT_TRUE(h.counts().empty());
}

}  // namespace
}  // namespace otlpd::connectors::spanmetrics
