// Histogram shapes Prometheus understands: OTLP explicit buckets and exponential histograms as
// classic cumulative `le` buckets. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "prometheus/otlp_metrics_walk.h"

namespace otlpd::prometheus {

// Upper bounds (without +Inf) and the cumulative count at each, from explicit buckets: OTLP
// gives per-bucket counts, bounds.size() + 1 of them (a shorter list counts as zeros).
void cumulativeBuckets(const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                       std::vector<uint64_t>& cumulative);

// An exponential histogram as classic buckets: negative buckets (most negative first), the zero
// bucket (le = zero_threshold), then positive buckets, each with its upper bound
// base^(index+1) (base = 2^(2^-scale)) and the cumulative count; +Inf is the point's count.
void exponentialAsClassic(const ExponentialHistogramPoint& point, std::vector<double>& bounds,
                          std::vector<uint64_t>& cumulative);

}  // namespace otlpd::prometheus
