// Pure decisions of the exporter helper: how long to wait before the next attempt, what a
// server's Retry-After means, and whether the circuit breaker lets a request through. No I/O and
// no clock of their own: callers pass the time in, so tests drive them with a fake clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace otlpd::exporters::helper {

struct RetryConfig {
  bool enabled = true;
  absl::Duration initial_interval = absl::Seconds(5);
  absl::Duration max_interval = absl::Seconds(30);
  // Zero: never give up.
  absl::Duration max_elapsed_time = absl::Seconds(300);
  double multiplier = 1.5;
  // Each wait is drawn from [d·(1−f), d·(1+f)] so that exporters that failed together do not
  // retry together.
  double randomization_factor = 0.5;
};

// The wait before attempt `retry` + 1 (retry 0 follows the first failure). `random01` is a
// uniform draw from [0, 1) supplied by the caller; 0.5 gives the unjittered interval.
absl::Duration backoffDelay(const RetryConfig& config, int retry, double random01);

// The wait a server asked for, when it asked: the server's hint wins over our own backoff (OTLP
// throttling), but never beyond max_interval × 10, so that a broken header cannot park an
// exporter for a day; what is left of max_elapsed_time still bounds it.
absl::Duration throttledDelay(const RetryConfig& config, absl::Duration backoff,
                              std::optional<absl::Duration> server_hint);

// HTTP Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime form). A date
// in the past gives zero. nullopt when the value is neither.
std::optional<absl::Duration> parseRetryAfter(std::string_view value, absl::Time now);

struct CircuitBreakerConfig {
  bool enabled = false;
  // Opens after this many failures in a row (0: this rule is off).
  int consecutive_failures = 5;
  // Or when, among the last `window` outcomes (and at least `window` seen), the share of failures
  // reaches this ratio (0: this rule is off).
  double failure_ratio = 0;
  int window = 20;
  // How long it stays open before one probe is let through (half-open).
  absl::Duration open_duration = absl::Seconds(30);
};

// closed → open (failures) → half-open (after open_duration, one probe at a time) → closed when
// the probe succeeds, open again when it fails. Not thread-safe; the owner locks.
class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  explicit CircuitBreaker(CircuitBreakerConfig config) : config_(config) {}

  // Whether a request may go now. In half-open only one probe is outstanding at a time; the
  // caller that got true must report its outcome.
  bool allow(absl::Time now);
  void onSuccess(absl::Time now);
  void onFailure(absl::Time now);
  // The state at `now` (an open breaker whose cool-down has passed reads as half-open).
  State state(absl::Time now) const;
  // When an open breaker will let a probe through; InfinitePast when not open.
  absl::Time reopensAt() const {
    return state_ == State::kOpen ? opened_at_ + config_.open_duration : absl::InfinitePast();
  }
  uint64_t transitions() const { return transitions_; }

 private:
  void transition(State to, absl::Time now);
  void record(bool failure);

  CircuitBreakerConfig config_;
  State state_ = State::kClosed;
  absl::Time opened_at_ = absl::InfinitePast();
  bool probe_in_flight_ = false;
  int consecutive_failures_ = 0;
  // The last `window` outcomes, 1 = failure.
  std::vector<uint8_t> ring_;
  size_t ring_pos_ = 0;
  int seen_ = 0;
  int failures_in_window_ = 0;
  uint64_t transitions_ = 0;
};

std::string_view breakerStateName(CircuitBreaker::State state);

}  // namespace otlpd::exporters::helper
