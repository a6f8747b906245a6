// readPolicies (config errors with their paths), combine() precedence, and the policies over the
// trace as a whole: always_sample, latency, status_code, probabilistic, span_count, trace_state.
#include <cfloat>
#include <random>

#include "policies_test_support.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

// ---- combine ----

FinalDecision combined(std::initializer_list<Decision> ds) {
  std::vector<Decision> v(ds);
  return combine(v);
}

TEST(TailSamplingCombine, NothingSampledDrops) {
  EXPECT_FALSE(combined({}).sampled);
  EXPECT_EQ(combined({}).deciding_policy, static_cast<size_t>(-1));
  EXPECT_FALSE(combined({Decision::kNotSampled, Decision::kNotSampled}).sampled);
  EXPECT_FALSE(combined({Decision::kError}).sampled);
}

TEST(TailSamplingCombine, AnySampledKeepsAndNamesTheFirstSampler) {
  FinalDecision d = combined({Decision::kNotSampled, Decision::kSampled, Decision::kSampled});
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 1u);
  d = combined({Decision::kError, Decision::kNotSampled, Decision::kSampled});
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 2u);
}

TEST(TailSamplingCombine, DropBeatsEverything) {
  FinalDecision d = combined({Decision::kSampled, Decision::kInvertNotSampled,
                              Decision::kInvertSampled, Decision::kDropped});
  EXPECT_FALSE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 3u);
}

TEST(TailSamplingCombine, InvertNotSampledBeatsSampled) {
  FinalDecision d = combined({Decision::kSampled, Decision::kInvertNotSampled});
  EXPECT_FALSE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 1u);
}

TEST(TailSamplingCombine, InvertSampledKeepsUnlessAPolicySaidNotSampled) {
  FinalDecision d = combined({Decision::kInvertSampled});
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 0u);
  // The Collector's rule: an inverted "sample" does not outvote a plain "not sampled"...
  EXPECT_FALSE(combined({Decision::kInvertSampled, Decision::kNotSampled}).sampled);
  // ...but a plain "sample" does.
  d = combined({Decision::kInvertSampled, Decision::kNotSampled, Decision::kSampled});
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.deciding_policy, 2u);
}

// ---- readPolicies: errors with their paths ----

TEST(TailSamplingReadPolicies, NoPoliciesIsNoError) {
  ReadResult r = readYaml("decision_wait: 10s\n");
  EXPECT_EQ(r.errors, "");
  EXPECT_TRUE(r.policies.empty());
}

TEST(TailSamplingReadPolicies, KeepsNamesTypesAndOrder) {
  ReadResult r = readYaml(R"(
policies:
  - {name: a, type: always_sample}
  - {name: b, type: latency, latency: {threshold_ms: 10}}
  - name: c
    type: status_code
    status_code: {status_codes: [ERROR]}
)");
  ASSERT_EQ(r.errors, "");
  ASSERT_EQ(r.policies.size(), 3u);
  EXPECT_EQ(r.policies[0].name, "a");
  EXPECT_EQ(r.policies[0].type, "always_sample");
  EXPECT_EQ(r.policies[1].name, "b");
  EXPECT_EQ(r.policies[1].type, "latency");
  EXPECT_EQ(r.policies[2].type, "status_code");
  for (const NamedPolicy& p : r.policies) EXPECT_NE(p.policy, nullptr);
}

TEST(TailSamplingReadPolicies, UnknownTypeMissingTypeAndMissingName) {
  ReadResult r = readYaml(R"(
policies:
  - {name: a, type: sometimes_sample}
  - {name: b}
  - {type: always_sample}
)");
  EXPECT_TRUE(r.policies.empty());
  EXPECT_NE(r.errors.find("processors.tail_sampling.policies[0].type (line 3:21): unknown policy "
                          "type \"sometimes_sample\" (expected one of always_sample, latency"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("processors.tail_sampling.policies[1].type"), std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("processors.tail_sampling.policies[2].name"), std::string::npos)
      << r.errors;
}

TEST(TailSamplingReadPolicies, DuplicateNamesUnknownKeysAndMisplacedSections) {
  ReadResult r = readYaml(R"(
policies:
  - {name: a, type: always_sample}
  - {name: a, type: always_sample}
  - {name: b, type: always_sample, sample_everything: true}
  - {name: c, type: boolean_attribute, string_attribute: {key: k, values: [v]}}
  - {name: d, type: latency, latency: {threshold_ms: 5, lower: 1}}
)");
  ASSERT_EQ(r.policies.size(), 1u) << r.errors;
  EXPECT_EQ(r.policies[0].name, "a");
  EXPECT_NE(r.errors.find("policies[1].name (line 4:12): duplicate policy name \"a\""),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("policies[2].sample_everything (line 5:36): unknown key"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("policies[3].string_attribute (line 6:58): configures a policy of type "
                          "string_attribute, but this policy's type is boolean_attribute"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("policies[4].latency.lower (line 7:57): unknown key"), std::string::npos)
      << r.errors;
}

TEST(TailSamplingReadPolicies, MissingKeysOfEachTypeAreReported) {
  struct Case {
    const char* policy;
    const char* expected_path;
  };
  const Case cases[] = {
      {"{name: p, type: latency}", "policies[0].latency.threshold_ms"},
      {"{name: p, type: latency, latency: {threshold_ms: 100, upper_threshold_ms: 50}}",
       "policies[0].latency.upper_threshold_ms"},
      {"{name: p, type: numeric_attribute, numeric_attribute: {key: k}}",
       "policies[0].numeric_attribute.min_value"},
      {"{name: p, type: numeric_attribute, numeric_attribute: {min_value: 1}}",
       "policies[0].numeric_attribute.key"},
      {"{name: p, type: numeric_attribute, numeric_attribute: {key: k, min_value: 5, "
       "max_value: 1}}",
       "policies[0].numeric_attribute.max_value"},
      {"{name: p, type: string_attribute, string_attribute: {key: k}}",
       "policies[0].string_attribute.values"},
      {"{name: p, type: boolean_attribute, boolean_attribute: {key: k}}",
       "policies[0].boolean_attribute.value"},
      {"{name: p, type: status_code, status_code: {}}", "policies[0].status_code.status_codes"},
      {"{name: p, type: status_code, status_code: {status_codes: [ERROR, FAILED]}}",
       "policies[0].status_code.status_codes[1]"},
      {"{name: p, type: probabilistic, probabilistic: {hash_salt: s}}",
       "policies[0].probabilistic.sampling_percentage"},
      {"{name: p, type: probabilistic, probabilistic: {sampling_percentage: -1}}",
       "policies[0].probabilistic.sampling_percentage"},
      {"{name: p, type: rate_limiting, rate_limiting: {}}",
       "policies[0].rate_limiting.spans_per_second"},
      {"{name: p, type: rate_limiting, rate_limiting: {spans_per_second: 0}}",
       "policies[0].rate_limiting.spans_per_second"},
      {"{name: p, type: bytes_limiting, bytes_limiting: {burst_capacity: 10}}",
       "policies[0].bytes_limiting.bytes_per_second"},
      {"{name: p, type: span_count, span_count: {}}", "policies[0].span_count.min_spans"},
      {"{name: p, type: span_count, span_count: {min_spans: 5, max_spans: 2}}",
       "policies[0].span_count.max_spans"},
      {"{name: p, type: trace_state, trace_state: {values: [a]}}", "policies[0].trace_state.key"},
      {"{name: p, type: trace_state, trace_state: {key: k}}", "policies[0].trace_state.values"},
      {"{name: p, type: ottl_condition, ottl_condition: {error_mode: ignore}}",
       "policies[0].ottl_condition.span"},
      {"{name: p, type: ottl_condition, ottl_condition: {error_mode: loud, span: ['name == "
       "\"x\"']}}",
       "policies[0].ottl_condition.error_mode"},
      {"{name: p, type: and, and: {}}", "policies[0].and.and_sub_policy"},
      {"{name: p, type: drop, drop: {drop_sub_policy: []}}", "policies[0].drop.drop_sub_policy"},
      {"{name: p, type: composite, composite: {composite_sub_policy: [{name: a, type: "
       "always_sample}]}}",
       "policies[0].composite.max_total_spans_per_second"},
  };
  for (const Case& c : cases) {
    ReadResult r = readYaml(std::string("policies:\n  - ") + c.policy + "\n");
    EXPECT_TRUE(r.policies.empty()) << c.policy;
    EXPECT_NE(r.errors.find(std::string("processors.tail_sampling.") + c.expected_path),
              std::string::npos)
        << c.policy << "\n"
        << r.errors;
  }
}

TEST(TailSamplingReadPolicies, BadRegexAndBadOttlAreReportedWhereWritten) {
  ReadResult r = readYaml(R"(
policies:
  - name: routes
    type: string_attribute
    string_attribute:
      key: http.route
      values: [/ok, "/bad(", /fine]
      enabled_regex_matching: true
  - name: ottl
    type: ottl_condition
    ottl_condition:
      span: ['attributes["x"] == ', 'name == "ok"']
)");
  EXPECT_TRUE(r.policies.empty());
  EXPECT_NE(r.errors.find("processors.tail_sampling.policies[0].string_attribute.values[1] (line "
                          "7:21): invalid regular expression \"/bad(\": missing )"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("processors.tail_sampling.policies[1].ottl_condition.span[0] (line "
                          "12:14): invalid OTTL condition"),
            std::string::npos)
      << r.errors;
}

TEST(TailSamplingReadPolicies, NestedPoliciesReportTheirPathsAndWhereTheyMayNotBe) {
  ReadResult r = readYaml(R"(
policies:
  - name: both
    type: and
    and:
      and_sub_policy:
        - {name: s, type: status_code, status_code: {status_codes: [ERROR]}}
        - {name: n, type: composite, composite: {}}
        - {name: l, type: latency, latency: {threshold: 5}}
  - name: d
    type: drop
    drop:
      drop_sub_policy:
        - {name: x, type: and, and: {and_sub_policy: [{name: y, type: always_sample}]}}
)");
  EXPECT_TRUE(r.policies.empty());
  EXPECT_NE(r.errors.find("policies[0].and.and_sub_policy[1].type (line 8:27): a policy of type "
                          "composite cannot be used in an and policy"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("policies[0].and.and_sub_policy[2].latency.threshold (line 9:46): "
                          "unknown key"),
            std::string::npos)
      << r.errors;
  EXPECT_NE(r.errors.find("policies[1].drop.drop_sub_policy[0].type"), std::string::npos)
      << r.errors;
  // The section of a misplaced type is not also an "unknown key".
  EXPECT_EQ(r.errors.find("and_sub_policy[1].composite"), std::string::npos) << r.errors;
}

TEST(TailSamplingReadPolicies, ValidPoliciesAreKeptBesideInvalidOnes) {
  ReadResult r = readYaml(R"(
policies:
  - {name: good, type: always_sample}
  - {name: bad, type: latency, latency: {threshold_ms: x}}
)");
  ASSERT_EQ(r.policies.size(), 1u);
  EXPECT_EQ(r.policies[0].name, "good");
  EXPECT_NE(r.errors.find("policies[1].latency.threshold_ms"), std::string::npos) << r.errors;
}

// ---- always_sample ----

TEST(TailSamplingAlwaysSample, SamplesEveryTrace) {
  auto p = onePolicy("policies: [{name: all, type: always_sample}]");
  EXPECT_EQ(decide(*p, TraceBuilder(1).spans(1).build()), Decision::kSampled);
  EXPECT_EQ(decide(*p, TraceBuilder(2).spans(0).build()), Decision::kSampled);
}

// ---- latency ----

TestTrace traceLasting(int64_t first_start, std::vector<std::pair<int64_t, int64_t>> spans) {
  TraceBuilder b;
  for (auto [start, end] : spans) {
    pbt::Span& s = b.span();
    s.set_start_time_unix_nano(static_cast<uint64_t>(first_start + start));
    s.set_end_time_unix_nano(static_cast<uint64_t>(first_start + end));
  }
  return b.build();
}

TEST(TailSamplingLatency, DurationIsLatestEndMinusEarliestStartAcrossSpans) {
  auto p = onePolicy("policies: [{name: slow, type: latency, latency: {threshold_ms: 100}}]");
  // No span lasts 100 ms, but the trace does: from the first start to the last end.
  EXPECT_EQ(
      decide(*p, traceLasting(kNow, {{0, 40 * kMs}, {30 * kMs, 60 * kMs}, {90 * kMs, 100 * kMs}})),
      Decision::kSampled);
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 40 * kMs}, {50 * kMs, 99 * kMs}})),
            Decision::kNotSampled);
  // Spans in any order.
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{90 * kMs, 150 * kMs}, {10 * kMs, 20 * kMs}})),
            Decision::kSampled);
}

TEST(TailSamplingLatency, ThresholdIsInclusiveInWholeMilliseconds) {
  auto p = onePolicy("policies: [{name: slow, type: latency, latency: {threshold_ms: 100}}]");
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 100 * kMs}})), Decision::kSampled);
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 100 * kMs - 1}})), Decision::kNotSampled);
}

TEST(TailSamplingLatency, UpperBoundExcludesTheLowerAndIncludesTheUpper) {
  auto p = onePolicy(
      "policies: [{name: mid, type: latency, latency: {threshold_ms: 100, upper_threshold_ms: "
      "200}}]");
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 100 * kMs}})), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 101 * kMs}})), Decision::kSampled);
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 200 * kMs}})), Decision::kSampled);
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 201 * kMs}})), Decision::kNotSampled);
  // The whole trace counts: a first span inside the window does not decide alone.
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 150 * kMs}, {100 * kMs, 300 * kMs}})),
            Decision::kNotSampled);
}

TEST(TailSamplingLatency, SpansWithoutTimesDoNotCount) {
  auto p = onePolicy("policies: [{name: slow, type: latency, latency: {threshold_ms: 100}}]");
  TraceBuilder b;
  b.span().set_start_time_unix_nano(0);  // would make the trace decades long
  pbt::Span& ended = b.span();
  ended.set_end_time_unix_nano(ended.start_time_unix_nano() + 5 * kMs);
  EXPECT_EQ(decide(*p, b.build()), Decision::kNotSampled);
  TraceBuilder none;
  none.span().clear_end_time_unix_nano();
  EXPECT_EQ(decide(*p, none.build()), Decision::kNotSampled);
}

TEST(TailSamplingLatency, EndBeforeStartIsNotSlow) {
  auto p = onePolicy("policies: [{name: slow, type: latency, latency: {threshold_ms: 0}}]");
  // threshold 0: every trace with timed spans is at least 0 ms long...
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{0, 0}})), Decision::kSampled);
  // ...except one whose clock ran backwards.
  EXPECT_EQ(decide(*p, traceLasting(kNow, {{10 * kMs, 0}})), Decision::kNotSampled);
}

// ---- status_code ----

TEST(TailSamplingStatusCode, AnySpanWithAListedCodeSamples) {
  auto p = onePolicy(
      "policies: [{name: errors, type: status_code, status_code: {status_codes: [ERROR]}}]");
  TraceBuilder ok;
  ok.spans(3);
  ok.span().mutable_status()->set_code(pbt::Status::STATUS_CODE_OK);
  EXPECT_EQ(decide(*p, ok.build()), Decision::kNotSampled);

  TraceBuilder failed;
  failed.spans(3);
  failed.span().mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
  failed.spans(2);
  EXPECT_EQ(decide(*p, failed.build()), Decision::kSampled);
}

TEST(TailSamplingStatusCode, UnsetIsAbsentStatusOrCodeZero) {
  auto p = onePolicy(
      "policies: [{name: unset, type: status_code, status_code: {status_codes: [UNSET, OK]}}]");
  TraceBuilder absent;
  absent.span();
  EXPECT_EQ(decide(*p, absent.build()), Decision::kSampled);
  TraceBuilder message_only;
  message_only.span().mutable_status()->set_message("no code");
  EXPECT_EQ(decide(*p, message_only.build()), Decision::kSampled);
  TraceBuilder error;
  error.span().mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(decide(*p, error.build()), Decision::kNotSampled);
}

// ---- probabilistic ----

TEST(TailSamplingProbabilistic, HashIsFnv1a64) {
  // Published FNV-1a 64-bit test vectors.
  EXPECT_EQ(fnv1a64(kFnvOffset64, ""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64(kFnvOffset64, "a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64(kFnvOffset64, "foobar"), 0x85944171f73967e8ULL);
  // Hashing in pieces is hashing the concatenation (salt, then trace id).
  EXPECT_EQ(fnv1a64(fnv1a64(kFnvOffset64, "foo"), "bar"), 0x85944171f73967e8ULL);
}

TEST(TailSamplingProbabilistic, ThresholdIsTheRatioOfTheFullRange) {
  EXPECT_EQ(probabilityThreshold(0), 0u);
  EXPECT_EQ(probabilityThreshold(-0.5), 0u);
  EXPECT_EQ(probabilityThreshold(1), UINT64_MAX);
  EXPECT_EQ(probabilityThreshold(1.5), UINT64_MAX);
  // (2^64 - 1) / 2 = 2^63 - 0.5: 64 significant bits, truncated.
  EXPECT_EQ(probabilityThreshold(0.5), 0x7fffffffffffffffULL);
  EXPECT_EQ(probabilityThreshold(0.25), 0x3fffffffffffffffULL);
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
  // x87 long double rounds products to 64 significant bits to nearest-even, exactly as the
  // Collector's big.Float of precision 64 does: the two must agree on every ratio.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> ratio(0, 1);
  for (int i = 0; i < 100000; ++i) {
    const double r = i < 100 ? i / 100.0 : ratio(rng);
    const long double product = static_cast<long double>(UINT64_MAX) * static_cast<long double>(r);
    const uint64_t expected =
        product >= 18446744073709551616.0L ? UINT64_MAX : static_cast<uint64_t>(product);
    ASSERT_EQ(probabilityThreshold(r), expected) << r;
  }
#endif
}

int sampledOf(Policy& p, int traces, uint64_t seed) {
  std::mt19937_64 rng(seed);
  int sampled = 0;
  std::string id(16, '\0');
  std::vector<SpanPiece> none;
  for (int i = 0; i < traces; ++i) {
    const uint64_t hi = rng(), lo = rng();
    for (int b = 0; b < 8; ++b) {
      id[b] = static_cast<char>(hi >> (56 - 8 * b));
      id[8 + b] = static_cast<char>(lo >> (56 - 8 * b));
    }
    if (p.evaluate(TraceView{id, none, 0, 0}, kNow) == Decision::kSampled) ++sampled;
  }
  return sampled;
}

TEST(TailSamplingProbabilistic, SamplesThePercentageOfTraces) {
  const int n = 100000;
  for (double pct : {0.0, 1.0, 10.0, 25.0, 33.0, 100.0}) {
    auto p = onePolicy(
        "policies: [{name: p, type: probabilistic, probabilistic: "
        "{sampling_percentage: " +
        std::to_string(pct) + "}}]");
    const double got = 100.0 * sampledOf(*p, n, 1) / n;
    EXPECT_NEAR(got, pct, 0.3) << pct;
  }
  auto all = onePolicy(
      "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 150}}]");
  EXPECT_EQ(sampledOf(*all, 1000, 2), 1000);
}

TEST(TailSamplingProbabilistic, TheDecisionDependsOnTraceIdAndSaltOnly) {
  auto a = onePolicy(
      "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50}}]");
  auto b = onePolicy(
      "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50, "
      "hash_salt: default-hash-seed}}]");
  auto salted = onePolicy(
      "policies: [{name: p, type: probabilistic, probabilistic: {sampling_percentage: 50, "
      "hash_salt: other}}]");
  int same = 0, differs = 0;
  for (uint64_t n = 1; n <= 2000; ++n) {
    TestTrace t = TraceBuilder(n).spans(1 + n % 3).build();
    const Decision da = decide(*a, t);
    EXPECT_EQ(da, decide(*b, t));                  // the default salt is the Collector's
    EXPECT_EQ(da, decide(*a, t, kNow + kSecond));  // no state, no clock
    (da == decide(*salted, t) ? same : differs)++;
  }
  // Another salt picks an independent half.
  EXPECT_GT(differs, 800);
  EXPECT_GT(same, 800);
  // The policy's decision is FNV-1a(salt + trace id) <= threshold.
  TestTrace t = TraceBuilder(42).spans(1).build();
  const uint64_t h = fnv1a64(fnv1a64(kFnvOffset64, "default-hash-seed"), t.view().trace_id);
  EXPECT_EQ(decide(*a, t),
            h <= probabilityThreshold(0.5) ? Decision::kSampled : Decision::kNotSampled);
}

// ---- span_count ----

TEST(TailSamplingSpanCount, BoundsAreInclusiveAndMaxZeroIsUnbounded) {
  auto p = onePolicy(
      "policies: [{name: p, type: span_count, span_count: {min_spans: 2, max_spans: 4}}]");
  EXPECT_EQ(decide(*p, TraceBuilder().spans(1).build()), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, TraceBuilder().spans(2).build()), Decision::kSampled);
  EXPECT_EQ(decide(*p, TraceBuilder().spans(4).build()), Decision::kSampled);
  EXPECT_EQ(decide(*p, TraceBuilder().spans(5).build()), Decision::kNotSampled);
  auto min_only = onePolicy("policies: [{name: p, type: span_count, span_count: {min_spans: 3}}]");
  EXPECT_EQ(decide(*min_only, TraceBuilder().spans(2).build()), Decision::kNotSampled);
  EXPECT_EQ(decide(*min_only, TraceBuilder().spans(300).build()), Decision::kSampled);
}

// ---- trace_state ----

TEST(TailSamplingTraceState, MatchesAValueOfTheKeyInAnySpan) {
  auto p = onePolicy(
      "policies: [{name: p, type: trace_state, trace_state: {key: vendor, values: [gold, "
      "silver]}}]");
  TraceBuilder none;
  none.span().set_trace_state("other=gold");
  none.span().set_trace_state("vendor=bronze,x=gold");
  EXPECT_EQ(decide(*p, none.build()), Decision::kNotSampled);

  TraceBuilder match;
  match.span();
  match.span().set_trace_state("ot=th:8, vendor=silver ,rojo=00f067aa0ba902b7");
  EXPECT_EQ(decide(*p, match.build()), Decision::kSampled);

  TraceBuilder prefix;
  prefix.span().set_trace_state("vendorx=gold,vendor=goldish");
  EXPECT_EQ(decide(*p, prefix.build()), Decision::kNotSampled);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

// One policy of every type, for the bad-input tests.
const char* kEveryType = R"(
policies:
  - {name: a, type: always_sample}
  - {name: b, type: latency, latency: {threshold_ms: 10}}
  - {name: c, type: numeric_attribute, numeric_attribute: {key: n, min_value: 1}}
  - {name: d, type: probabilistic, probabilistic: {sampling_percentage: 50}}
  - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}
  - {name: f, type: string_attribute, string_attribute: {key: s, values: [x.*], enabled_regex_matching: true}}
  - {name: g, type: rate_limiting, rate_limiting: {spans_per_second: 100}}
  - {name: h, type: bytes_limiting, bytes_limiting: {bytes_per_second: 100000}}
  - {name: i, type: span_count, span_count: {min_spans: 2}}
  - {name: j, type: trace_state, trace_state: {key: k, values: [v]}}
  - {name: k, type: boolean_attribute, boolean_attribute: {key: b, value: true}}
  - {name: l, type: ottl_condition, ottl_condition: {error_mode: ignore, span: ['name == "x"'], spanevent: ['name == "y"']}}
  - {name: m, type: and, and: {and_sub_policy: [{name: x, type: always_sample}]}}
  - {name: n, type: drop, drop: {drop_sub_policy: [{name: x, type: span_count, span_count: {min_spans: 1000}}]}}
  - name: o
    type: composite
    composite:
      max_total_spans_per_second: 100
      composite_sub_policy: [{name: x, type: always_sample}]
)";

TEST(TailSamplingBadInput, MalformedSpanBytesAreReadAsFarAsTheyGo) {
  ReadResult r = readYaml(kEveryType);
  ASSERT_EQ(r.errors, "");
  ASSERT_EQ(r.policies.size(), 15u);
  // A real span, then every truncation of it and of its envelopes, then random bytes.
  TraceBuilder b;
  b.resource({{"n", i64(5)}, {"s", str("xyz")}});
  pbt::Span& s = b.span("x");
  setAttributes(s.mutable_attributes(), {{"b", boolean(true)}, {"n", i64(3)}});
  s.set_trace_state("k=v");
  s.mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
  s.add_events()->set_name("y");
  TestTrace whole = b.build();
  const SpanPiece piece = whole.view().spans[0];
  std::mt19937_64 rng(3);
  std::vector<std::string> garbage;
  for (int i = 0; i < 200; ++i) {
    std::string g(rng() % 64, '\0');
    for (char& c : g) c = static_cast<char>(rng());
    garbage.push_back(std::move(g));
  }
  std::vector<SpanPiece> pieces;
  for (size_t cut = 0; cut <= piece.span.size(); ++cut) {
    pieces.push_back({piece.resource_envelope, piece.scope_envelope, piece.span.substr(0, cut)});
  }
  for (size_t cut = 0; cut <= piece.resource_envelope.size(); ++cut) {
    pieces.push_back({piece.resource_envelope.substr(0, cut), piece.scope_envelope, piece.span});
  }
  for (const std::string& g : garbage) pieces.push_back({g, g, g});
  for (const SpanPiece& p : pieces) {
    const SpanPiece one[] = {p};
    const TraceView view{"0123456789abcdef", one, p.span.size(), 0};
    for (NamedPolicy& policy : r.policies) {
      const Decision d = policy.policy->evaluate(view, kNow);
      EXPECT_LE(static_cast<int>(d), static_cast<int>(Decision::kError));
    }
  }
  // Whole bytes still decide as usual afterwards.
  const TraceView view = whole.view();
  EXPECT_EQ(r.policies[4].policy->evaluate(view, kNow), Decision::kSampled);   // ERROR
  EXPECT_EQ(r.policies[9].policy->evaluate(view, kNow), Decision::kSampled);   // k=v
  EXPECT_EQ(r.policies[10].policy->evaluate(view, kNow), Decision::kSampled);  // b=true
  EXPECT_EQ(r.policies[11].policy->evaluate(view, kNow), Decision::kSampled);  // name x
  EXPECT_EQ(r.policies[2].policy->evaluate(view, kNow), Decision::kSampled);   // n in range
}

TEST(TailSamplingBadInput, AHundredThousandSpanTraceIsOneTrace) {
  TraceBuilder b;
  for (int i = 0; i < 100000; ++i) {
    pbt::Span& s = b.span();
    s.set_start_time_unix_nano(static_cast<uint64_t>(kNow + i * kMs));
    s.set_end_time_unix_nano(static_cast<uint64_t>(kNow + i * kMs + 1));
  }
  TestTrace t = b.build();
  ASSERT_EQ(t.spans(), 100000u);
  auto latency = onePolicy("policies: [{name: s, type: latency, latency: {threshold_ms: 99999}}]");
  EXPECT_EQ(decide(*latency, t), Decision::kSampled);  // 99,999 ms and a nanosecond
  auto shorter = onePolicy(
      "policies: [{name: s, type: latency, latency: {threshold_ms: 1, upper_threshold_ms: "
      "99998}}]");
  EXPECT_EQ(decide(*shorter, t), Decision::kNotSampled);
  auto rate = onePolicy(
      "policies: [{name: r, type: rate_limiting, rate_limiting: {spans_per_second: 99999}}]");
  EXPECT_EQ(decide(*rate, t), Decision::kNotSampled);
  auto count =
      onePolicy("policies: [{name: c, type: span_count, span_count: {max_spans: 100000}}]");
  EXPECT_EQ(decide(*count, t), Decision::kSampled);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
