// The policies with state or sub-policies: rate_limiting (spans per wall-clock second),
// bytes_limiting (token bucket), and, drop, composite (budgets per second) — time comes in as
// `now`, so every test is exact.
#include "policies_test_support.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

// ---- rate_limiting ----

TEST(TailSamplingRateLimiting, SpansPerSecondWithinEachSecond) {
  auto p = onePolicy(
      "policies: [{name: p, type: rate_limiting, rate_limiting: {spans_per_second: 10}}]");
  TestTrace four = TraceBuilder(1).spans(4).build();
  TestTrace three = TraceBuilder(2).spans(3).build();
  TestTrace eleven = TraceBuilder(3).spans(11).build();
  const int64_t s0 = kNow;
  EXPECT_EQ(decide(*p, four, s0), Decision::kSampled);                  // 4
  EXPECT_EQ(decide(*p, four, s0 + 100 * kMs), Decision::kSampled);      // 8
  EXPECT_EQ(decide(*p, four, s0 + 200 * kMs), Decision::kNotSampled);   // 12 > 10: nothing taken
  EXPECT_EQ(decide(*p, three, s0 + 300 * kMs), Decision::kNotSampled);  // 11 > 10
  TestTrace two = TraceBuilder(4).spans(2).build();
  EXPECT_EQ(decide(*p, two, s0 + 999 * kMs), Decision::kSampled);  // exactly 10
  // The next second starts from zero.
  EXPECT_EQ(decide(*p, four, s0 + kSecond), Decision::kSampled);
  EXPECT_EQ(decide(*p, four, s0 + kSecond + 1), Decision::kSampled);
  EXPECT_EQ(decide(*p, three, s0 + 2 * kSecond - 1), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, three, s0 + 5 * kSecond), Decision::kSampled);
  // A trace larger than the limit never passes.
  EXPECT_EQ(decide(*p, eleven, s0 + 10 * kSecond), Decision::kNotSampled);
}

TEST(TailSamplingRateLimiting, HoldsTheRateOverManySeconds) {
  auto p = onePolicy(
      "policies: [{name: p, type: rate_limiting, rate_limiting: {spans_per_second: 100}}]");
  TestTrace t = TraceBuilder().spans(10).build();
  // 1000 traces of 10 spans per second for 5 seconds: 10 traces (100 spans) kept per second.
  int kept = 0;
  for (int second = 0; second < 5; ++second) {
    for (int i = 0; i < 1000; ++i) {
      if (decide(*p, t, kNow + second * kSecond + i * kMs) == Decision::kSampled) ++kept;
    }
  }
  EXPECT_EQ(kept, 50);
}

// ---- bytes_limiting ----

TEST(TailSamplingBytesLimiting, BucketStartsFullAndRefillsAtTheRate) {
  auto p = onePolicy(
      "policies: [{name: p, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000, "
      "burst_capacity: 3000}}]");
  TestTrace t = TraceBuilder().spans(5).build();
  const int64_t size = static_cast<int64_t>(t.encodedBytes());
  ASSERT_GT(size, 100);
  ASSERT_LT(size, 1000);
  // The full bucket holds floor(3000 / size) traces at once.
  const int64_t fit = 3000 / size;
  for (int64_t i = 0; i < fit; ++i) EXPECT_EQ(decide(*p, t, kNow), Decision::kSampled) << i;
  EXPECT_EQ(decide(*p, t, kNow), Decision::kNotSampled);
  // Left: 3000 - fit*size < size. After `size` ms, `size` bytes more have come in.
  const int64_t left = 3000 - fit * size;
  const int64_t wait_ms = size - left;  // 1 byte per ms
  EXPECT_EQ(decide(*p, t, kNow + (wait_ms - 1) * kMs), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, t, kNow + wait_ms * kMs), Decision::kSampled);
  // A long pause refills only up to the burst capacity.
  for (int64_t i = 0; i < fit; ++i) {
    EXPECT_EQ(decide(*p, t, kNow + 3600 * kSecond), Decision::kSampled) << i;
  }
  EXPECT_EQ(decide(*p, t, kNow + 3600 * kSecond), Decision::kNotSampled);
}

TEST(TailSamplingBytesLimiting, DefaultBurstIsTwiceTheRateAndBigTracesNeverPass) {
  auto p = onePolicy(
      "policies: [{name: p, type: bytes_limiting, bytes_limiting: {bytes_per_second: 500}}]");
  TestTrace t = TraceBuilder().spans(3).build();
  const int64_t size = static_cast<int64_t>(t.encodedBytes());
  const int64_t fit = 1000 / size;
  for (int64_t i = 0; i < fit; ++i) EXPECT_EQ(decide(*p, t, kNow), Decision::kSampled);
  EXPECT_EQ(decide(*p, t, kNow), Decision::kNotSampled);

  auto tiny = onePolicy(
      "policies: [{name: p, type: bytes_limiting, bytes_limiting: {bytes_per_second: 10, "
      "burst_capacity: 20}}]");
  EXPECT_EQ(decide(*tiny, t, kNow), Decision::kNotSampled);
  EXPECT_EQ(decide(*tiny, t, kNow + 3600 * kSecond), Decision::kNotSampled);
}

TEST(TailSamplingBytesLimiting, AClockSteppingBackRefillsNothing) {
  auto p = onePolicy(
      "policies: [{name: p, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1000, "
      "burst_capacity: 1000}}]");
  TestTrace t = TraceBuilder().spans(4).build();
  const int64_t size = static_cast<int64_t>(t.encodedBytes());
  const int64_t fit = 1000 / size;
  for (int64_t i = 0; i < fit; ++i) EXPECT_EQ(decide(*p, t, kNow), Decision::kSampled);
  EXPECT_EQ(decide(*p, t, kNow - 3600 * kSecond), Decision::kNotSampled);
  // Back at kNow, still nothing has been earned; a second later the bucket is full again.
  EXPECT_EQ(decide(*p, t, kNow), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, t, kNow + kSecond), Decision::kSampled);
}

// ---- and / drop ----

TEST(TailSamplingAnd, SampledOnlyWhenEverySubPolicySamples) {
  auto p = onePolicy(R"(
policies:
  - name: slow-errors
    type: and
    and:
      and_sub_policy:
        - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}
        - {name: s, type: latency, latency: {threshold_ms: 100}}
)");
  auto trace = [](bool error, int64_t ms) {
    TraceBuilder b;
    pbt::Span& s = b.span();
    s.set_end_time_unix_nano(s.start_time_unix_nano() + static_cast<uint64_t>(ms * kMs));
    if (error) s.mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
    return b.build();
  };
  EXPECT_EQ(decide(*p, trace(true, 150)), Decision::kSampled);
  EXPECT_EQ(decide(*p, trace(true, 50)), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, trace(false, 150)), Decision::kNotSampled);
}

TEST(TailSamplingAnd, InvertedSubDecisionsCountAsPlainAndLaterPoliciesAreNotAsked) {
  auto p = onePolicy(R"(
policies:
  - name: not-team-a-limited
    type: and
    and:
      and_sub_policy:
        - {name: t, type: string_attribute, string_attribute: {key: team, values: [a], invert_match: true}}
        - {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 2}}
)");
  TestTrace team_a = TraceBuilder(1).resource({{"team", str("a")}}).spans(1).build();
  TestTrace team_b = TraceBuilder(2).resource({{"team", str("b")}}).spans(1).build();
  // team a is refused by the first sub-policy: the rate limiter does not count it.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(decide(*p, team_a), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, team_b), Decision::kSampled);
  EXPECT_EQ(decide(*p, team_b), Decision::kSampled);
  EXPECT_EQ(decide(*p, team_b), Decision::kNotSampled);  // 2 spans this second
}

TEST(TailSamplingDrop, DropsWhenEverySubPolicyMatches) {
  ReadResult r = readYaml(R"(
policies:
  - {name: all, type: always_sample}
  - name: no-health-checks
    type: drop
    drop:
      drop_sub_policy:
        - {name: route, type: string_attribute, string_attribute: {key: url.path, values: [/health, /metrics], enabled_regex_matching: true}}
        - {name: quick, type: latency, latency: {upper_threshold_ms: 1000}}
)");
  ASSERT_EQ(r.errors, "");
  auto with = [](const std::string& path, int64_t ms) {
    TraceBuilder b;
    pbt::Span& s = b.span();
    setAttributes(s.mutable_attributes(), {{"url.path", str(path)}});
    s.set_end_time_unix_nano(s.start_time_unix_nano() + static_cast<uint64_t>(ms * kMs));
    return b.build();
  };
  TestTrace health = with("/health", 5);
  EXPECT_EQ(decide(*r.policies[1].policy, health), Decision::kDropped);
  FinalDecision d = decideAll(r.policies, health);
  EXPECT_FALSE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 1u);
  // A slow health check is kept, as is any other route.
  EXPECT_EQ(decide(*r.policies[1].policy, with("/health", 2000)), Decision::kNotSampled);
  EXPECT_TRUE(decideAll(r.policies, with("/health", 2000)).sampled);
  EXPECT_TRUE(decideAll(r.policies, with("/orders", 5)).sampled);
}

// ---- composite ----

const char* kComposite = R"(
policies:
  - name: composite
    type: composite
    composite:
      max_total_spans_per_second: 100
      policy_order: [errors, slow, rest]
      composite_sub_policy:
        - {name: rest, type: always_sample}
        - {name: slow, type: latency, latency: {threshold_ms: 1000}}
        - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      rate_allocation:
        - {policy: errors, percent: 50}
        - {policy: slow, percent: 20}
)";

TestTrace tenSpans(uint64_t n, bool error, bool slow) {
  TraceBuilder b(n);
  for (int i = 0; i < 10; ++i) {
    pbt::Span& s = b.span();
    if (error && i == 0) s.mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
    if (slow && i == 0) s.set_end_time_unix_nano(s.start_time_unix_nano() + 2 * kSecond);
  }
  return b.build();
}

TEST(TailSamplingComposite, EachSubPolicyHasItsShareOfTheTotal) {
  auto p = onePolicy(kComposite);
  TestTrace error = tenSpans(1, true, false);
  TestTrace slow = tenSpans(2, false, true);
  TestTrace plain = tenSpans(3, false, false);
  // errors: 50 spans/s; slow: 20; rest (no allocation): an equal share, 100/3 = 33.
  int errors_kept = 0, slow_kept = 0, plain_kept = 0;
  for (int i = 0; i < 20; ++i) {
    if (decide(*p, plain, kNow + i) == Decision::kSampled) ++plain_kept;
  }
  EXPECT_EQ(plain_kept, 3);  // 30 of 33
  for (int i = 0; i < 20; ++i) {
    if (decide(*p, slow, kNow + 100 + i) == Decision::kSampled) ++slow_kept;
  }
  // 2 in slow's own budget, then "rest" has 3 spans left: none fits.
  EXPECT_EQ(slow_kept, 2);
  for (int i = 0; i < 20; ++i) {
    if (decide(*p, error, kNow + 200 + i) == Decision::kSampled) ++errors_kept;
  }
  // 5 in the errors' budget (50); the total is then 30 + 20 + 50 = 100.
  EXPECT_EQ(errors_kept, 5);
  // A new second: budgets start again.
  EXPECT_EQ(decide(*p, error, kNow + kSecond), Decision::kSampled);
  EXPECT_EQ(decide(*p, plain, kNow + kSecond), Decision::kSampled);
}

TEST(TailSamplingComposite, OverItsBudgetATraceFallsToTheNextSubPolicy) {
  auto p = onePolicy(kComposite);
  TestTrace error = tenSpans(1, true, false);
  int kept = 0;
  for (int i = 0; i < 20; ++i) {
    if (decide(*p, error, kNow + i) == Decision::kSampled) ++kept;
  }
  // errors' 50 spans, then "rest" takes 30 of its 33 ("slow" does not sample these traces).
  EXPECT_EQ(kept, 8);
}

TEST(TailSamplingComposite, TheTotalCapsSharesThatAddUpToMore) {
  auto p = onePolicy(R"(
policies:
  - name: c
    type: composite
    composite:
      max_total_spans_per_second: 30
      composite_sub_policy:
        - {name: a, type: always_sample}
        - {name: b, type: always_sample}
      rate_allocation:
        - {policy: a, percent: 100}
        - {policy: b, percent: 100}
)");
  TestTrace t = TraceBuilder().spans(10).build();
  int kept = 0;
  for (int i = 0; i < 10; ++i) {
    if (decide(*p, t, kNow + i) == Decision::kSampled) ++kept;
  }
  EXPECT_EQ(kept, 3);
}

TEST(TailSamplingComposite, ConfigErrorsNameTheSubPolicies) {
  ReadResult r = readYaml(R"(
policies:
  - name: c
    type: composite
    composite:
      max_total_spans_per_second: 30
      policy_order: [a, nope, a]
      composite_sub_policy:
        - {name: a, type: always_sample}
        - {name: a, type: and, and: {and_sub_policy: [{name: x, type: always_sample}]}}
        - {type: always_sample}
      rate_allocation:
        - {policy: ghost, percent: 10}
        - {policy: a, percent: 120}
)");
  EXPECT_TRUE(r.policies.empty());
  for (const char* expected : {
           "policies[0].composite.composite_sub_policy[1] (line 10:11): duplicate sub-policy "
           "name \"a\"",
           "policies[0].composite.composite_sub_policy[2].name",
           "policies[0].composite.rate_allocation[1].percent",
       }) {
    EXPECT_NE(r.errors.find(expected), std::string::npos) << expected << "\n" << r.errors;
  }
}

TEST(TailSamplingComposite, PolicyOrderAndAllocationsMustNameSubPolicies) {
  ReadResult r = readYaml(R"(
policies:
  - name: c
    type: composite
    composite:
      max_total_spans_per_second: 30
      policy_order: [a, nope, a]
      composite_sub_policy:
        - {name: a, type: always_sample}
        - {name: b, type: always_sample}
      rate_allocation:
        - {policy: ghost, percent: 10}
        - {policy: b, percent: 10}
        - {policy: b, percent: 20}
)");
  EXPECT_TRUE(r.policies.empty());
  for (const char* expected : {
           "policies[0].composite.policy_order[1] (line 7:25): no composite_sub_policy is named "
           "\"nope\"",
           "policies[0].composite.policy_order[2] (line 7:31): \"a\" is listed twice",
           "policies[0].composite.rate_allocation[0].policy (line 12:20): no "
           "composite_sub_policy is named \"ghost\"",
           "policies[0].composite.rate_allocation[2].policy (line 14:20): \"b\" has more than "
           "one rate_allocation",
       }) {
    EXPECT_NE(r.errors.find(expected), std::string::npos) << expected << "\n" << r.errors;
  }
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
