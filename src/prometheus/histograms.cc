#include "prometheus/histograms.h"

#include <cmath>

namespace otlpd::prometheus {
namespace {

// base^index for base = 2^(2^-scale).
double power(int32_t scale, int64_t index) {
  return std::exp2(std::ldexp(static_cast<double>(index), -scale));
}

}  // namespace

void cumulativeBuckets(const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                       std::vector<uint64_t>& cumulative) {
  cumulative.clear();
  uint64_t acc = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (i < counts.size()) acc += counts[i];
    cumulative.push_back(acc);
  }
}

void exponentialAsClassic(const ExponentialHistogramPoint& p, std::vector<double>& bounds,
                          std::vector<uint64_t>& cumulative) {
  bounds.clear();
  cumulative.clear();
  uint64_t acc = 0;
  // Negative value v falls in bucket i when |v| is in (base^i, base^(i+1)]: v < -base^i.
  for (size_t j = p.negative.counts.size(); j-- > 0;) {
    acc += p.negative.counts[j];
    bounds.push_back(
        -power(p.scale, static_cast<int64_t>(p.negative.offset) + static_cast<int64_t>(j)));
    cumulative.push_back(acc);
  }
  acc += p.zero_count;
  bounds.push_back(p.zero_threshold);
  cumulative.push_back(acc);
  for (size_t j = 0; j < p.positive.counts.size(); ++j) {
    acc += p.positive.counts[j];
    bounds.push_back(
        power(p.scale, static_cast<int64_t>(p.positive.offset) + static_cast<int64_t>(j) + 1));
    cumulative.push_back(acc);
  }
}

}  // namespace otlpd::prometheus
