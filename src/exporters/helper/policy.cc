#include "exporters/helper/policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace otlpd::exporters::helper {

absl::Duration backoffDelay(const RetryConfig& config, int retry, double random01) {
  double seconds = absl::ToDoubleSeconds(config.initial_interval) *
                   std::pow(std::max(config.multiplier, 1.0), std::max(retry, 0));
  seconds = std::min(seconds, absl::ToDoubleSeconds(config.max_interval));
  const double f = std::clamp(config.randomization_factor, 0.0, 1.0);
  // Jitter spreads around the interval; it may exceed max_interval by the factor, as the
  // Collector's backoff does, so the cap does not collapse every exporter onto one instant.
  seconds *= 1.0 - f + 2.0 * f * std::clamp(random01, 0.0, 1.0);
  return absl::Seconds(std::max(seconds, 0.0));
}

absl::Duration throttledDelay(const RetryConfig& config, absl::Duration backoff,
                              std::optional<absl::Duration> server_hint) {
  if (!server_hint) return backoff;
  return std::min(std::max(*server_hint, absl::ZeroDuration()), config.max_interval * 10);
}

std::optional<absl::Duration> parseRetryAfter(std::string_view value, absl::Time now) {
  std::string_view v = toStd(absl::StripAsciiWhitespace(toAbsl(value)));
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec != std::errc() || ptr != v.data() + v.size()) {
      // More digits than fit: the server wants a very long wait.
      return absl::Hours(24 * 365);
    }
    return absl::Seconds(seconds);
  }
  // RFC 9110 §5.6.7: IMF-fixdate, then the two obsolete forms recipients must accept.
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // Sun, 06 Nov 1994 08:49:37 GMT
      "%A, %d-%b-%y %H:%M:%S GMT",  // Sunday, 06-Nov-94 08:49:37 GMT
      "%a %b %e %H:%M:%S %Y",       // Sun Nov  6 08:49:37 1994
  };
  for (const char* format : kFormats) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(format, toAbsl(v), absl::UTCTimeZone(), &t, &err)) {
      return std::max(t - now, absl::ZeroDuration());
    }
  }
  return std::nullopt;
}

bool CircuitBreaker::allow(absl::Time now) {
  if (!config_.enabled) return true;
  switch (state(now)) {
    case State::kClosed:
      return true;
    case State::kOpen:
      return false;
    case State::kHalfOpen:
      if (state_ == State::kOpen) transition(State::kHalfOpen, now);
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return true;
}

void CircuitBreaker::onSuccess(absl::Time now) {
  if (!config_.enabled) return;
  consecutive_failures_ = 0;
  record(false);
  if (state_ == State::kHalfOpen) {
    probe_in_flight_ = false;
    transition(State::kClosed, now);
  }
}

void CircuitBreaker::onFailure(absl::Time now) {
  if (!config_.enabled) return;
  ++consecutive_failures_;
  record(true);
  if (state_ == State::kHalfOpen) {
    probe_in_flight_ = false;
    transition(State::kOpen, now);
    return;
  }
  if (state_ != State::kClosed) return;
  const bool too_many_in_a_row =
      config_.consecutive_failures > 0 && consecutive_failures_ >= config_.consecutive_failures;
  const bool ratio_reached = config_.failure_ratio > 0 && seen_ >= config_.window &&
                             failures_in_window_ >= config_.failure_ratio * config_.window;
  if (too_many_in_a_row || ratio_reached) transition(State::kOpen, now);
}

CircuitBreaker::State CircuitBreaker::state(absl::Time now) const {
  if (state_ == State::kOpen && now >= opened_at_ + config_.open_duration) return State::kHalfOpen;
  return state_;
}

void CircuitBreaker::transition(State to, absl::Time now) {
  if (to == state_) return;
  state_ = to;
  ++transitions_;
  if (to == State::kOpen) opened_at_ = now;
  if (to == State::kClosed) {
    // A fresh start: the failures that opened the breaker must not reopen it at once.
    consecutive_failures_ = 0;
    std::fill(ring_.begin(), ring_.end(), 0);
    seen_ = 0;
    failures_in_window_ = 0;
  }
}

void CircuitBreaker::record(bool failure) {
  if (config_.window <= 0) return;
  if (ring_.empty()) ring_.assign(static_cast<size_t>(config_.window), 0);
  failures_in_window_ -= ring_[ring_pos_];
  ring_[ring_pos_] = failure ? 1 : 0;
  failures_in_window_ += ring_[ring_pos_];
  ring_pos_ = (ring_pos_ + 1) % ring_.size();
  seen_ = std::min(seen_ + 1, config_.window);
}

std::string_view breakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

}  // namespace otlpd::exporters::helper
