#include "connectors/spanmetrics/exponential_histogram.h"

#include <algorithm>
#include <cmath>

namespace otlpd::connectors::spanmetrics {

int32_t ExponentialHistogram::indexOf(double value, int scale) {
  // value = m * 2^e with m in [1, 2).
  int exp = 0;
  const double frac = std::frexp(value, &exp);  // frac in [0.5, 1)
  const int32_t e = exp - 1;
  const bool power_of_two = frac == 0.5;
  if (scale <= 0) {
    // Buckets span 2^-scale powers of two; an exact power of two closes the bucket below it.
    const int shift = -scale;
    return power_of_two ? (e - 1) >> shift : e >> shift;
  }
  if (power_of_two) return (e << scale) - 1;
  // log2(value) * 2^scale = e * 2^scale + log2(m) * 2^scale; the fraction part is in (0, 1), so
  // the bucket (upper bounds inclusive) is its floor.
  const double fraction = std::log2(frac * 2) * std::ldexp(1.0, scale);
  return (e << scale) + static_cast<int32_t>(std::floor(fraction));
}

void ExponentialHistogram::clear() {
  scale_ = kMaxScale;
  zero_count_ = 0;
  count_ = 0;
  sum_ = 0;
  offset_ = 0;
  counts_.clear();
}

void ExponentialHistogram::fit(int32_t low, int32_t high) {
  int change = 0;
  while (scale_ - change > kMinScale &&
         static_cast<int64_t>(high >> change) - (low >> change) + 1 > max_size_) {
    ++change;
  }
  if (change == 0) return;
  if (!counts_.empty()) {
    const int32_t new_offset = offset_ >> change;
    const int32_t last = offset_ + static_cast<int32_t>(counts_.size()) - 1;
    std::vector<uint64_t> merged(static_cast<size_t>((last >> change) - new_offset + 1), 0);
    for (size_t i = 0; i < counts_.size(); ++i) {
      merged[static_cast<size_t>(((offset_ + static_cast<int32_t>(i)) >> change) - new_offset)] +=
          counts_[i];
    }
    counts_ = std::move(merged);
    offset_ = new_offset;
  }
  scale_ -= change;
}

void ExponentialHistogram::record(double value) {
  ++count_;
  if (!(value > 0) || !std::isfinite(value)) {
    ++zero_count_;
    return;
  }
  sum_ += value;
  int32_t index = indexOf(value, scale_);
  if (counts_.empty()) {
    offset_ = index;
    counts_.assign(1, 1);
    return;
  }
  const int32_t last = offset_ + static_cast<int32_t>(counts_.size()) - 1;
  if (index < offset_ || index > last) {
    const int old_scale = scale_;
    fit(std::min(offset_, index), std::max(last, index));
    // Buckets at a coarser scale are unions of whole buckets of the finer one.
    index >>= old_scale - scale_;
    const int32_t new_last = offset_ + static_cast<int32_t>(counts_.size()) - 1;
    if (index < offset_) {
      counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - index), 0);
      offset_ = index;
    } else if (index > new_last) {
      counts_.resize(static_cast<size_t>(index - offset_ + 1), 0);
    }
  }
  ++counts_[static_cast<size_t>(index - offset_)];
}

}  // namespace otlpd::connectors::spanmetrics
