// Request latencies in an HDR-style log-linear histogram: fixed memory, O(1) record, and every
// recorded value is reproduced within 1/64 (1.6%) of itself, which is finer than the noise of a
// shared machine. Values are nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace otlpd::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t nanos);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }

  // The value at quantile `q` in [0, 1]: the smallest bucket bound such that at least q of the
  // recorded values are at or below it (clamped to the largest recorded value). 0 when empty.
  // Values below 128 ns are exact.
  uint64_t percentile(double q) const;

  // Bucket index of a value, and the largest value that maps to a bucket (exposed for tests).
  static size_t bucketOf(uint64_t nanos);
  static uint64_t bucketUpperBound(size_t bucket);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace otlpd::loadgen
