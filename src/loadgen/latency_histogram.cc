#include "loadgen/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace otlpd::loadgen {
namespace {

// Values below 2^7 get a bucket each; above, every power of two is split into 64 buckets.
constexpr unsigned kLinearBits = 7;
constexpr uint64_t kLinear = 1u << kLinearBits;  // 128
constexpr uint64_t kSubBuckets = kLinear / 2;    // 64
constexpr size_t kBuckets = kLinear + (64 - kLinearBits) * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

size_t LatencyHistogram::bucketOf(uint64_t v) {
  if (v < kLinear) return v;
  const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - kLinearBits;  // >= 1
  const uint64_t mantissa = v >> shift;                                           // [64, 127]
  return kLinear + (shift - 1) * kSubBuckets + (mantissa - kSubBuckets);
}

uint64_t LatencyHistogram::bucketUpperBound(size_t bucket) {
  if (bucket < kLinear) return bucket;
  const unsigned shift = static_cast<unsigned>((bucket - kLinear) / kSubBuckets) + 1;
  const uint64_t mantissa = (bucket - kLinear) % kSubBuckets + kSubBuckets;
  const uint64_t lower = mantissa << shift;
  const uint64_t width = uint64_t{1} << shift;
  // The top bucket's bound would overflow.
  return lower > UINT64_MAX - width ? UINT64_MAX : lower + width - 1;
}

void LatencyHistogram::record(uint64_t nanos) {
  ++buckets_[bucketOf(nanos)];
  ++count_;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value we want, 1-based: p50 of 2 values is the 1st, p100 the last.
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(bucketUpperBound(i), min_, max_);
  }
  return max_;
}

}  // namespace otlpd::loadgen
