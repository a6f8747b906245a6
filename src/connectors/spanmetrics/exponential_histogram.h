// A base-2 exponential histogram of non-negative values, as OTLP's ExponentialHistogram data point
// describes it: bucket `i` at scale `s` holds values in (2^(i/2^s), 2^((i+1)/2^s)]. It starts at
// the finest scale (20) and halves its resolution whenever the values seen would need more than
// `max_size` buckets, so it always holds the finest scale that fits them. Pure.
#pragma once

#include <cstdint>
#include <vector>

namespace otlpd::connectors::spanmetrics {

class ExponentialHistogram {
 public:
  static constexpr int kMaxScale = 20;
  static constexpr int kMinScale = -10;

  explicit ExponentialHistogram(int max_size) : max_size_(max_size) {}

  // Negative and NaN values count as zero (span durations are never negative).
  void record(double value);
  void clear();

  int scale() const { return scale_; }
  uint64_t zeroCount() const { return zero_count_; }
  int32_t offset() const { return offset_; }
  // Counts of the positive buckets offset(), offset()+1, ...
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

  // The bucket index of a positive finite value at `scale`.
  static int32_t indexOf(double value, int scale);

 private:
  // Makes room so that buckets [low, high] fit in max_size_, lowering the scale as needed.
  void fit(int32_t low, int32_t high);

  int max_size_;
  int scale_ = kMaxScale;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
  int32_t offset_ = 0;
  std::vector<uint64_t> counts_;
};

}  // namespace otlpd::connectors::spanmetrics
