// Token bucket that paces requests to an item rate.
#pragma once

#include <chrono>

namespace otlpd::loadgen {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `items_per_second` > 0. `burst` is the bucket's capacity in items: how far ahead of the
  // average the sender may get after an idle spell; it starts full.
  TokenBucket(double items_per_second, double burst, Clock::time_point now);

  // Takes `items` tokens at `now` and returns how long the caller must wait before sending them
  // (zero when the bucket held enough). The bucket may go into debt, so a request larger than the
  // burst still goes out, just later, and the long-run rate stays exact whatever the batch size.
  Clock::duration acquire(double items, Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace otlpd::loadgen
