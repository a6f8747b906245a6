#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace otlpd::store {

// Rotation and retention read time only through this, so tests move time by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time now() = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time now() override { return absl::Now(); }
  static SystemClock* instance() {
    static SystemClock clock;
    return &clock;
  }
};

}  // namespace otlpd::store
