#include <gtest/gtest.h>

#include "exporters/helper/policy.h"

namespace otlpd::exporters::helper {
namespace {

TEST(Backoff, GrowsByMultiplierUpToMaxInterval) {
  RetryConfig c;
  c.randomization_factor = 0;
  EXPECT_EQ(backoffDelay(c, 0, 0.3), absl::Seconds(5));
  EXPECT_EQ(backoffDelay(c, 1, 0.3), absl::Milliseconds(7500));
  EXPECT_EQ(backoffDelay(c, 2, 0.3), absl::Milliseconds(11250));
  EXPECT_EQ(backoffDelay(c, 20, 0.3), absl::Seconds(30));
}

TEST(Backoff, JitterStaysWithinTheRandomizationFactor) {
  RetryConfig c;
  c.initial_interval = absl::Seconds(10);
  EXPECT_EQ(backoffDelay(c, 0, 0.0), absl::Seconds(5));
  EXPECT_EQ(backoffDelay(c, 0, 0.5), absl::Seconds(10));
  EXPECT_LE(backoffDelay(c, 0, 0.999999), absl::Seconds(15));
}

TEST(Backoff, ServerHintWinsButIsCapped) {
  RetryConfig c;
  EXPECT_EQ(throttledDelay(c, absl::Seconds(5), absl::Seconds(2)), absl::Seconds(2));
  EXPECT_EQ(throttledDelay(c, absl::Seconds(5), std::nullopt), absl::Seconds(5));
  EXPECT_EQ(throttledDelay(c, absl::Seconds(5), absl::Hours(10)), absl::Seconds(300));
}

TEST(RetryAfter, SecondsAndHttpDates) {
  const absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(parseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now), absl::Seconds(10));
  EXPECT_EQ(parseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now), absl::Seconds(60));
  EXPECT_EQ(parseRetryAfter("Sun Nov  6 08:49:39 1994", now), absl::Seconds(2));
  // A date in the past means now.
  EXPECT_EQ(parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(parseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(parseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(parseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(parseRetryAfter("99999999999999999999999", now), absl::Hours(24 * 365));
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresAndHalfOpensAfterCoolDown) {
  CircuitBreakerConfig c;
  c.enabled = true;
  c.consecutive_failures = 3;
  c.open_duration = absl::Seconds(10);
  CircuitBreaker b(c);
  absl::Time t = absl::FromUnixSeconds(1000);
  using S = CircuitBreaker::State;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow(t));
    b.onFailure(t);
  }
  EXPECT_EQ(b.state(t), S::kClosed);
  ASSERT_TRUE(b.allow(t));
  b.onFailure(t);
  EXPECT_EQ(b.state(t), S::kOpen);
  EXPECT_FALSE(b.allow(t + absl::Seconds(9)));
  EXPECT_EQ(b.state(t + absl::Seconds(10)), S::kHalfOpen);
  // One probe at a time.
  EXPECT_TRUE(b.allow(t + absl::Seconds(10)));
  EXPECT_FALSE(b.allow(t + absl::Seconds(10)));
  // The probe fails: open again, with a new cool-down.
  b.onFailure(t + absl::Seconds(11));
  EXPECT_EQ(b.state(t + absl::Seconds(12)), S::kOpen);
  EXPECT_FALSE(b.allow(t + absl::Seconds(20)));
  EXPECT_TRUE(b.allow(t + absl::Seconds(21)));
  b.onSuccess(t + absl::Seconds(21));
  EXPECT_EQ(b.state(t + absl::Seconds(21)), S::kClosed);
  EXPECT_EQ(b.transitions(), 5u);  // open, half, open, half, closed
}

TEST(CircuitBreaker, SuccessResetsTheConsecutiveCount) {
  CircuitBreakerConfig c;
  c.enabled = true;
  c.consecutive_failures = 2;
  CircuitBreaker b(c);
  const absl::Time t = absl::FromUnixSeconds(1);
  b.onFailure(t);
  b.onSuccess(t);
  b.onFailure(t);
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);
}

TEST(CircuitBreaker, OpensOnFailureRatioOverAFullWindow) {
  CircuitBreakerConfig c;
  c.enabled = true;
  c.consecutive_failures = 0;
  c.failure_ratio = 0.5;
  c.window = 4;
  CircuitBreaker b(c);
  const absl::Time t = absl::FromUnixSeconds(1);
  b.onFailure(t);
  b.onSuccess(t);
  b.onFailure(t);
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);  // window not full yet
  b.onSuccess(t);
  b.onFailure(t);  // window: S F S F → 2/4
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kOpen);
}

TEST(CircuitBreaker, DisabledAlwaysAllows) {
  CircuitBreaker b(CircuitBreakerConfig{});
  const absl::Time t = absl::FromUnixSeconds(1);
  for (int i = 0; i < 100; ++i) b.onFailure(t);
  EXPECT_TRUE(b.allow(t));
  EXPECT_EQ(b.state(t), CircuitBreaker::State::kClosed);
}

}  // namespace
}  // namespace otlpd::exporters::helper
