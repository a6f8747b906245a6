#include "loadgen/rate_limiter.h"

#include <algorithm>

namespace otlpd::loadgen {

TokenBucket::TokenBucket(double items_per_second, double burst, Clock::time_point now)
    : rate_(items_per_second), burst_(burst), tokens_(burst), last_(now) {}

TokenBucket::Clock::duration TokenBucket::acquire(double items, Clock::time_point now) {
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  tokens_ -= items;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / rate_));
}

}  // namespace otlpd::loadgen
