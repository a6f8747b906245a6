#include "loadgen/rate_limiter.h"

#include <gtest/gtest.h>

namespace otlpd::loadgen {
namespace {

using Clock = TokenBucket::Clock;
using std::chrono::milliseconds;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(TokenBucketTest, FullBucketSendsAtOnceThenPacesByRate) {
  const Clock::time_point t0{};
  TokenBucket bucket(1000, 100, t0);  // 1000 items/s, burst of one 100-item request
  EXPECT_EQ(bucket.acquire(100, t0), Clock::duration::zero());
  // The next 100 items need 100 ms of refill.
  EXPECT_NEAR(seconds(bucket.acquire(100, t0)), 0.1, 1e-9);
  // A caller that slept until then owes nothing more for those, and waits another 100 ms for the
  // following request.
  EXPECT_NEAR(seconds(bucket.acquire(100, t0 + milliseconds(100))), 0.1, 1e-9);
}

TEST(TokenBucketTest, LongRunRateIsExactWhateverTheBatch) {
  const Clock::time_point t0{};
  TokenBucket bucket(5000, 1000, t0);
  Clock::time_point now = t0;
  double sent = 0;
  // A caller that always sleeps exactly as told, sending 1000-item requests.
  for (int i = 0; i < 100; ++i) {
    now += bucket.acquire(1000, now);
    sent += 1000;
  }
  // 100k items at 5k/s: the first request rides on the initial burst, so 99k items of waiting.
  EXPECT_NEAR(seconds(now - t0), 99000.0 / 5000.0, 1e-6);
  EXPECT_EQ(sent, 100000);
}

TEST(TokenBucketTest, IdleTimeRefillsOnlyUpToTheBurst) {
  const Clock::time_point t0{};
  TokenBucket bucket(100, 50, t0);
  EXPECT_EQ(bucket.acquire(50, t0), Clock::duration::zero());
  // An hour idle refills 50 tokens, not 360000.
  const Clock::time_point later = t0 + std::chrono::hours(1);
  EXPECT_EQ(bucket.acquire(50, later), Clock::duration::zero());
  EXPECT_NEAR(seconds(bucket.acquire(50, later)), 0.5, 1e-9);
}

TEST(TokenBucketTest, RequestLargerThanBurstGoesIntoDebt) {
  const Clock::time_point t0{};
  TokenBucket bucket(10, 10, t0);
  // 100 items with 10 in the bucket: 90 owed at 10/s.
  EXPECT_NEAR(seconds(bucket.acquire(100, t0)), 9.0, 1e-9);
  // Even after paying that off, the next item waits its own 0.1 s.
  EXPECT_NEAR(seconds(bucket.acquire(1, t0 + std::chrono::seconds(9))), 0.1, 1e-9);
}

}  // namespace
}  // namespace otlpd::loadgen
