// The sampler's decisions, mode by mode, on the cases the Collector's probabilistic sampler
// documents (tracestate in and out, fail_closed, sampling.priority, log attributes), the rate it
// achieves on 100,000 random trace ids, and the consistency property (what a lower probability
// keeps, a higher one keeps too).
#include "processors/probabilistic_sampler/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

std::string bytesFromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// R = 0x80000000000000: kept at 50%, not at 49%.
const std::string kHalfTraceId = bytesFromHex("fefefefefefefefefe80000000000000");
// R = 2^56 - 1: kept at every probability.
const std::string kImprobableTraceId = bytesFromHex("111111111111111111ffffffffffffff");
const std::string kZeroTraceId(16, '\0');
// Log tests keep views of these.
const std::string kF0 = bytesFromHex("fefefefefefefefefef0000000000000");
const std::string kB0 = bytesFromHex("fefefefefefefefefeb0000000000000");
const std::string kZeroRandomness = bytesFromHex("fefefefefefefefefe00000000000000");
const std::string kFe = bytesFromHex("fefefefefefefefefefefefefefefefe");

SamplerConfig config(Mode mode, float percentage, int precision = 4, bool fail_closed = true) {
  SamplerConfig c;
  c.mode = mode;
  c.sampling_percentage = percentage;
  c.sampling_precision = precision;
  c.fail_closed = fail_closed;
  return c;
}

struct SpanResult {
  bool sampled;
  std::string tracestate;  // what the span leaves with ("" when dropped)
  Policy policy;
  SamplerError error;
};

SpanResult span(const SamplerConfig& c, const std::string& trace_id, std::string_view tracestate,
                SpanPriority priority = SpanPriority::kDefer) {
  const Sampler sampler(c);
  TraceState scratch;
  std::string out = "junk";
  const SpanDecision d = sampler.decideSpan(trace_id, tracestate, priority, scratch, out);
  std::string leaves;
  if (d.sampled) leaves = d.tracestate_changed ? out : std::string(tracestate);
  return {d.sampled, leaves, d.policy, d.error};
}

// One case of the consistent modes: the expected tracestate per mode, "" meaning dropped.
struct ConsistentCase {
  const char* name;
  float percentage;
  int precision;
  std::string trace_id;
  const char* tracestate;
  const char* equalizing;
  const char* proportional;
};

TEST(Sampler, ConsistentModesOnTracestate) {
  const ConsistentCase cases[] = {
      {"100 percent", 100, 4, kHalfTraceId, "", "ot=th:0", "ot=th:0"},
      {"200 percent is 100", 200, 4, kHalfTraceId, "", "ot=th:0", "ot=th:0"},
      {"50 percent", 50, 4, kHalfTraceId, "", "ot=th:8", "ot=th:8"},
      {"49 percent", 49, 4, kHalfTraceId, "", "", ""},
      {"25 percent kept", 25, 4, bytesFromHex("ddddddddddddddddddc0000000000000"), "", "ot=th:c",
       "ot=th:c"},
      {"25 percent dropped", 25, 4, bytesFromHex("ddddddddddddddddddb0000000000000"), "", "", ""},
      {"1 percent, rv, full precision", 1, 14, kHalfTraceId, "ot=rv:FD70A3D70A3D71",
       "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71", "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"},
      {"1 percent, rv one below", 1, 14, kHalfTraceId, "ot=rv:FD70A3D70A3D70", "", ""},
      // At precision 4 the threshold rounds down to fd70a (kept); at 3 up to fd71 (dropped).
      {"1 percent, rv, precision 4", 1, 4, kHalfTraceId, "ot=rv:FD70A3D70A3D71",
       "ot=rv:FD70A3D70A3D71;th:fd70a", "ot=rv:FD70A3D70A3D71;th:fd70a"},
      {"1 percent, rv, precision 3", 1, 3, kHalfTraceId, "ot=rv:FD70A3D70A3D71", "", ""},
      {"1 percent, trace id", 1, 4, bytesFromHex("a0a0a0a0a0a0a0a0a0fe000000000000"), "",
       "ot=th:fd70a", "ot=th:fd70a"},
      // The rv decides, not the trace id; th's trailing zeros go when it is written anew.
      {"arriving 50 percent with rv", 50, 4, kHalfTraceId, "ot=rv:90000000000000;th:80000000000000",
       "ot=rv:90000000000000;th:8", ""},
      {"arriving 50 percent at 25, dropped", 25, 4, kHalfTraceId, "ot=th:8", "", ""},
      {"arriving 50 percent at 25, kept", 25, 4, bytesFromHex("ffffffffffffffffffffffffffffffff"),
       "ot=th:8", "ot=th:c", "ot=th:e"},
      {"equalizing keeps the arriving threshold", 50, 4, kHalfTraceId, "ot=rv:c0000000000000;th:8",
       "ot=rv:c0000000000000;th:8", "ot=rv:c0000000000000;th:c"},
      {"40 percent precision 3 with rv", 40, 3, kHalfTraceId, "ot=rv:a0000000000000",
       "ot=rv:a0000000000000;th:99a", "ot=rv:a0000000000000;th:99a"},
      {"arriving 50 at 40 precision 6", 40, 6, bytesFromHex("a0a0a0a0a0a0a0a0a0d0000000000000"),
       "ot=th:8", "ot=th:99999a", "ot=th:cccccd"},
      {"arriving 50 at 40, partly kept", 40, 3, bytesFromHex("a0a0a0a0a0a0a0a0a0b0000000000000"),
       "ot=th:8", "ot=th:99a", ""},
      {"arriving 50 at 40, dropped", 40, 3, bytesFromHex("a0a0a0a0a0a0a0a0a080000000000000"),
       "ot=th:8", "", ""},
      {"tiny probability", 100 * 0x1p-14f, 4, kImprobableTraceId, "ot=th:fffc", "ot=th:fffc",
       "ot=th:fffffff"},
      // 2^-53 arriving times 0.0625% is below 2^-56: proportional keeps nothing.
      {"probability underflow", 0x1p-4f, 4, kImprobableTraceId, "ot=th:fffffffffffff8",
       "ot=th:fffffffffffff8", ""},
      // docs/SAMPLING.md's example: 10% behind a 50% sampler keeps 5%.
      {"10 percent behind 50", 10, 4, kImprobableTraceId, "ot=th:8", "ot=th:e666", "ot=th:f3333"},
      {"other vendors stay", 50, 4, kHalfTraceId, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
       "ot=th:8,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
       "ot=th:8,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
  };
  for (const ConsistentCase& c : cases) {
    SCOPED_TRACE(c.name);
    const SpanResult eq =
        span(config(Mode::kEqualizing, c.percentage, c.precision), c.trace_id, c.tracestate);
    EXPECT_EQ(eq.sampled, *c.equalizing != '\0');
    EXPECT_EQ(eq.tracestate, c.equalizing);
    EXPECT_EQ(eq.error, SamplerError::kNone);
    const SpanResult pr =
        span(config(Mode::kProportional, c.percentage, c.precision), c.trace_id, c.tracestate);
    EXPECT_EQ(pr.sampled, *c.proportional != '\0');
    EXPECT_EQ(pr.tracestate, c.proportional);
    EXPECT_EQ(pr.error, SamplerError::kNone);
  }
}

TEST(Sampler, PolicyNamesTheSourceOfRandomness) {
  EXPECT_EQ(span(config(Mode::kProportional, 50), kHalfTraceId, "").policy, Policy::kTraceIdW3C);
  EXPECT_EQ(span(config(Mode::kProportional, 50), kHalfTraceId, "ot=rv:90000000000000").policy,
            Policy::kSamplingRandomness);
  EXPECT_EQ(span(config(Mode::kHashSeed, 50), kHalfTraceId, "").policy, Policy::kTraceIdHash);
  EXPECT_EQ(span(config(Mode::kHashSeed, 50), kZeroTraceId, "").policy, Policy::kMissingRandomness);
  EXPECT_EQ(span(config(Mode::kHashSeed, 0), kHalfTraceId, "").policy, Policy::kSamplingPriority);
}

TEST(Sampler, InconsistentArrivingThresholdIsErased) {
  // rv 0x40… could not have passed th 8 (50%): the threshold is a lie.
  for (Mode mode : {Mode::kEqualizing, Mode::kProportional}) {
    const SpanResult open = span(config(mode, 100, 4, /*fail_closed=*/false), kHalfTraceId,
                                 "ot=rv:40000000000000;th:8");
    EXPECT_TRUE(open.sampled);
    EXPECT_EQ(open.tracestate, "ot=rv:40000000000000;th:0");
    EXPECT_EQ(open.error, SamplerError::kInconsistentThreshold);
    const SpanResult closed =
        span(config(mode, 100, 4, /*fail_closed=*/true), kHalfTraceId, "ot=rv:40000000000000;th:8");
    EXPECT_FALSE(closed.sampled);
    EXPECT_EQ(closed.error, SamplerError::kInconsistentThreshold);
    // The trace id's randomness can be just as inconsistent.
    EXPECT_FALSE(
        span(config(mode, 100), bytesFromHex("ffffffffffffffffff70000000000000"), "ot=th:8")
            .sampled);
  }
}

TEST(Sampler, MissingRandomnessFollowsFailClosed) {
  for (Mode mode : {Mode::kHashSeed, Mode::kEqualizing, Mode::kProportional}) {
    SCOPED_TRACE(static_cast<int>(mode));
    for (float percentage : {62.0f, 100.0f}) {
      const SpanResult closed = span(config(mode, percentage, 4, true), kZeroTraceId, "");
      EXPECT_FALSE(closed.sampled);
      EXPECT_EQ(closed.error, SamplerError::kMissingRandomness);
      EXPECT_EQ(closed.policy, Policy::kMissingRandomness);
      const SpanResult open = span(config(mode, percentage, 4, false), kZeroTraceId, "");
      EXPECT_TRUE(open.sampled);
      EXPECT_EQ(open.error, SamplerError::kMissingRandomness);
    }
    // At 0% there is nothing to decide, so no error either way.
    const SpanResult never = span(config(mode, 0, 4, false), kZeroTraceId, "");
    EXPECT_FALSE(never.sampled);
    EXPECT_EQ(never.error, SamplerError::kNone);
  }
  // A trace id of the wrong length is no randomness either.
  EXPECT_EQ(span(config(Mode::kProportional, 100), std::string(8, '\1'), "").error,
            SamplerError::kMissingRandomness);
  // Fail open, the consistent modes say so: 100%.
  EXPECT_EQ(span(config(Mode::kProportional, 50, 4, false), kZeroTraceId, "").tracestate,
            "ot=th:0");
}

TEST(Sampler, UnreadableTracestateFollowsFailClosed) {
  for (Mode mode : {Mode::kHashSeed, Mode::kEqualizing, Mode::kProportional}) {
    for (const char* bad :
         {"ot=rv:abababababababab", "ot=th:abababababababab", "ot=th:-1", "Not A Tracestate"}) {
      SCOPED_TRACE(bad);
      const SpanResult closed = span(config(mode, 100, 4, true), kHalfTraceId, bad);
      EXPECT_FALSE(closed.sampled);
      EXPECT_EQ(closed.error, SamplerError::kInvalidTraceState);
      const SpanResult open = span(config(mode, 100, 4, false), kHalfTraceId, bad);
      EXPECT_TRUE(open.sampled);
      EXPECT_EQ(open.tracestate, bad);  // left as it came
    }
  }
}

TEST(Sampler, HashSeedWritesRandomnessAndThreshold) {
  SamplerConfig c = config(Mode::kHashSeed, 10);
  c.hash_seed = 4312;
  const Sampler sampler(c);
  std::mt19937_64 rng(5);
  int kept = 0;
  TraceState scratch;
  std::string out;
  while (kept < 20) {
    std::string id(16, '\0');
    for (char& ch : id) ch = static_cast<char>(rng());
    const SpanDecision d = sampler.decideSpan(id, "", SpanPriority::kDefer, scratch, out);
    if (!d.sampled) continue;
    ++kept;
    ASSERT_TRUE(d.tracestate_changed);
    // rv: the hash as 56 bits, so that consistent samplers downstream agree; th: 10% in 14 bits.
    EXPECT_EQ(out, strCat("ot=rv:", rvalue(hashSeedRandomness(id, 4312)), ";th:e668"));
    TraceState written;
    ASSERT_EQ(written.parse(out), TraceStateError::kNone);
    EXPECT_TRUE(written.threshold().shouldSample(written.randomness()));
  }
  // 100% says th:0.
  EXPECT_EQ(span(config(Mode::kHashSeed, 100), kHalfTraceId, "vendor=x").tracestate,
            strCat("ot=rv:", rvalue(hashSeedRandomness(kHalfTraceId, 0)), ";th:0,vendor=x"));
}

TEST(Sampler, HashSeedLeavesConsistentSamplingInformationAlone) {
  for (const char* ts : {"ot=rv:f2341234123412", "ot=th:8"}) {
    const SpanResult closed = span(config(Mode::kHashSeed, 100, 4, true), kHalfTraceId, ts);
    EXPECT_FALSE(closed.sampled);
    const SpanResult open = span(config(Mode::kHashSeed, 100, 4, false), kHalfTraceId, ts);
    EXPECT_TRUE(open.sampled);
    EXPECT_EQ(open.tracestate, ts);
    EXPECT_EQ(open.error, *ts == 'o' && ts[3] == 'r' ? SamplerError::kRandomnessInUse
                                                     : SamplerError::kThresholdInUse);
  }
  // Without a trace id the Collector still writes what it tested with: every probability.
  EXPECT_EQ(span(config(Mode::kHashSeed, 50, 4, false), kZeroTraceId, "").tracestate,
            "ot=rv:ffffffffffffff;th:0");
}

TEST(Sampler, SamplingPriorityOverridesEverything) {
  for (Mode mode : {Mode::kHashSeed, Mode::kEqualizing, Mode::kProportional}) {
    // > 0 keeps at 0% (and says 100%), 0 drops at 100%.
    const SpanResult must = span(config(mode, 0), kHalfTraceId, "", SpanPriority::kMustSample);
    EXPECT_TRUE(must.sampled);
    EXPECT_EQ(must.tracestate, "ot=th:0");
    EXPECT_EQ(must.policy, Policy::kSamplingPriority);
    EXPECT_TRUE(span(config(mode, 1), kHalfTraceId, "", SpanPriority::kMustSample).sampled);
    EXPECT_FALSE(span(config(mode, 100), kHalfTraceId, "", SpanPriority::kDoNotSample).sampled);
    EXPECT_FALSE(span(config(mode, 99), kHalfTraceId, "", SpanPriority::kDoNotSample).sampled);
    // After fail_closed: a span without randomness is kept when its priority says so.
    EXPECT_TRUE(
        span(config(mode, 50, 4, true), kZeroTraceId, "", SpanPriority::kMustSample).sampled);
  }
  // A higher arriving threshold is not lowered by a priority keep.
  EXPECT_EQ(
      span(config(Mode::kEqualizing, 1), kImprobableTraceId, "ot=th:8", SpanPriority::kMustSample)
          .tracestate,
      "ot=th:8");
}

TEST(Sampler, SpanPriorityValues) {
  EXPECT_EQ(spanPriorityOfInt(2), SpanPriority::kMustSample);
  EXPECT_EQ(spanPriorityOfInt(0), SpanPriority::kDoNotSample);
  EXPECT_EQ(spanPriorityOfInt(-1), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfDouble(1), SpanPriority::kMustSample);
  EXPECT_EQ(spanPriorityOfDouble(0), SpanPriority::kDoNotSample);
  EXPECT_EQ(spanPriorityOfDouble(-1), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfDouble(std::nan("")), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString("1"), SpanPriority::kMustSample);
  EXPECT_EQ(spanPriorityOfString("0.5"), SpanPriority::kMustSample);
  EXPECT_EQ(spanPriorityOfString("0.0"), SpanPriority::kDoNotSample);
  EXPECT_EQ(spanPriorityOfString("0"), SpanPriority::kDoNotSample);
  EXPECT_EQ(spanPriorityOfString("-0.5"), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString("NaN"), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString("yes"), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString(" 1"), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString("1 "), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString(""), SpanPriority::kDefer);
  EXPECT_EQ(spanPriorityOfString("1e999"), SpanPriority::kDefer);  // out of range
}

// The share of 100,000 random trace ids kept, against the probability the threshold stands for.
TEST(Sampler, AchievedRateOnRandomTraceIds) {
  constexpr int kIds = 100000;
  std::mt19937_64 rng(2024);
  std::vector<std::string> ids(kIds, std::string(16, '\0'));
  for (std::string& id : ids) {
    for (char& c : id) c = static_cast<char>(rng());
  }
  for (Mode mode : {Mode::kHashSeed, Mode::kEqualizing, Mode::kProportional}) {
    for (float percentage : {1.0f, 10.0f, 33.3f, 50.0f, 90.0f}) {
      SCOPED_TRACE(testing::Message()
                   << "mode " << static_cast<int>(mode) << " at " << percentage << "%");
      SamplerConfig c = config(mode, percentage);
      c.hash_seed = 17;
      const Sampler sampler(c);
      TraceState scratch;
      std::string out;
      int kept = 0;
      for (const std::string& id : ids) {
        kept += sampler.decideSpan(id, "", SpanPriority::kDefer, scratch, out).sampled ? 1 : 0;
      }
      const double p = percentage / 100.0;
      const double sigma = std::sqrt(p * (1 - p) / kIds);
      // 5 sigma of chance, plus the rounding of 4 hex digits (or 14 bits) of threshold.
      EXPECT_NEAR(static_cast<double>(kept) / kIds, p, 5 * sigma + 1.0 / 16384);
    }
  }
}

TEST(Sampler, ConsistencyLowerProbabilityKeepsASubset) {
  std::mt19937_64 rng(99);
  for (Mode mode : {Mode::kHashSeed, Mode::kEqualizing, Mode::kProportional}) {
    SamplerConfig low = config(mode, 10);
    SamplerConfig high = config(mode, 50);
    low.hash_seed = high.hash_seed = 123;
    const Sampler lower(low);
    const Sampler higher(high);
    TraceState scratch;
    std::string out;
    int kept_low = 0;
    for (int i = 0; i < 20000; ++i) {
      std::string id(16, '\0');
      for (char& c : id) c = static_cast<char>(rng());
      const bool at_low = lower.decideSpan(id, "", SpanPriority::kDefer, scratch, out).sampled;
      const bool at_high = higher.decideSpan(id, "", SpanPriority::kDefer, scratch, out).sampled;
      if (at_low) {
        ++kept_low;
        ASSERT_TRUE(at_high) << "kept at 10% but not at 50%";
      }
    }
    EXPECT_GT(kept_low, 1500);
  }
}

TEST(Sampler, ProportionalTiersMultiply) {
  // A span kept by a 50% proportional stage and then a 20% one says 10%, and the share of spans
  // kept through both tiers is 10%.
  const Sampler first(config(Mode::kProportional, 50));
  const Sampler second(config(Mode::kProportional, 20));
  std::mt19937_64 rng(1);
  TraceState scratch;
  std::string after_first;
  std::string after_second;
  int kept = 0;
  constexpr int kIds = 50000;
  for (int i = 0; i < kIds; ++i) {
    std::string id(16, '\0');
    for (char& c : id) c = static_cast<char>(rng());
    if (!first.decideSpan(id, "", SpanPriority::kDefer, scratch, after_first).sampled) continue;
    const SpanDecision d =
        second.decideSpan(id, after_first, SpanPriority::kDefer, scratch, after_second);
    if (!d.sampled) continue;
    ++kept;
    ASSERT_EQ(after_second, "ot=th:e666");
  }
  EXPECT_NEAR(static_cast<double>(kept) / kIds, 0.1, 0.007);
}

// --- log records ------------------------------------------------------------------------------

LogDecision logRecord(const SamplerConfig& c, const LogRecordInput& in) {
  return Sampler(c).decideLogRecord(in);
}

TEST(SamplerLogs, ByTraceIdInHashSeedMode) {
  SamplerConfig c = config(Mode::kHashSeed, 100);
  c.hash_seed = 22;
  LogRecordInput in;
  in.trace_id = kHalfTraceId;
  const LogDecision d = logRecord(c, in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.policy, Policy::kTraceIdHash);
  EXPECT_EQ(d.threshold, "0");
  EXPECT_EQ(d.randomness, rvalue(hashSeedRandomness(kHalfTraceId, 22)));
}

TEST(SamplerLogs, ByRecordAttribute) {
  SamplerConfig c = config(Mode::kHashSeed, 100);
  c.attribute_source = AttributeSource::kRecord;
  c.from_attribute = "veryrandom";
  c.hash_seed = 49;
  LogRecordInput in;
  in.trace_id = kHalfTraceId;  // ignored with attribute_source record
  in.source_attribute = "1234";
  const LogDecision d = logRecord(c, in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.policy, Policy::kAttribute);
  EXPECT_EQ(d.randomness, rvalue(hashSeedRandomness("1234", 49)));
  EXPECT_EQ(d.threshold, "0");
  // No attribute: no randomness.
  in.source_attribute.reset();
  EXPECT_FALSE(logRecord(c, in).sampled);
  EXPECT_EQ(logRecord(c, in).error, SamplerError::kMissingRandomness);
  in.source_attribute = "";  // zero bytes are no randomness either
  EXPECT_EQ(logRecord(c, in).error, SamplerError::kMissingRandomness);
  // With attribute_source traceID, the attribute stands in for an absent trace id.
  c.attribute_source = AttributeSource::kTraceId;
  in.trace_id = kZeroTraceId;
  in.source_attribute = "1234";
  EXPECT_EQ(logRecord(c, in).policy, Policy::kAttribute);
  EXPECT_TRUE(logRecord(c, in).sampled);
}

TEST(SamplerLogs, RecordAttributeRateAndConsistency) {
  SamplerConfig c = config(Mode::kHashSeed, 30);
  c.attribute_source = AttributeSource::kRecord;
  c.from_attribute = "log.id";
  const Sampler sampler(c);
  int kept = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string id = strCat("log-", i);
    LogRecordInput in;
    in.source_attribute = id;
    const bool first = sampler.decideLogRecord(in).sampled;
    ASSERT_EQ(sampler.decideLogRecord(in).sampled, first);  // the same record, the same answer
    kept += first ? 1 : 0;
  }
  EXPECT_NEAR(kept / 100000.0, 0.3, 0.008);
}

TEST(SamplerLogs, ConsistentModesUseTraceIdAndAttributes) {
  // Proportional 50% of an arriving 25%: 12.5%, th e.
  LogRecordInput in;
  in.trace_id = kF0;
  in.threshold = "c";
  LogDecision d = logRecord(config(Mode::kProportional, 50), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.threshold, "e");
  EXPECT_EQ(d.randomness, "");  // consistent modes do not write randomness
  EXPECT_EQ(d.policy, Policy::kTraceIdW3C);
  // Inconsistent arriving threshold, fail closed.
  in.trace_id = kB0;
  d = logRecord(config(Mode::kEqualizing, 50), in);
  EXPECT_FALSE(d.sampled);
  EXPECT_EQ(d.error, SamplerError::kInconsistentThreshold);
  // sampling.randomness wins over the trace id.
  in = LogRecordInput{};
  in.trace_id = kZeroRandomness;
  in.randomness = "e0000000000000";
  d = logRecord(config(Mode::kEqualizing, 25), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.policy, Policy::kSamplingRandomness);
  EXPECT_EQ(d.threshold, "c");
  // Unreadable sampling attributes.
  in.randomness = "e0";
  d = logRecord(config(Mode::kEqualizing, 25), in);
  EXPECT_FALSE(d.sampled);
  EXPECT_EQ(d.error, SamplerError::kInvalidTraceState);
  d = logRecord(config(Mode::kEqualizing, 25, 4, /*fail_closed=*/false), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.threshold, "");  // left alone
}

TEST(SamplerLogs, HashSeedLeavesArrivingRandomnessAlone) {
  LogRecordInput in;
  in.trace_id = kHalfTraceId;
  in.randomness = "f2341234123412";
  LogDecision d = logRecord(config(Mode::kHashSeed, 100, 4, /*fail_closed=*/false), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.error, SamplerError::kRandomnessInUse);
  EXPECT_EQ(d.threshold, "");
  EXPECT_EQ(d.randomness, "");
  d = logRecord(config(Mode::kHashSeed, 100), in);
  EXPECT_FALSE(d.sampled);
}

TEST(SamplerLogs, SamplingPriorityAttribute) {
  LogRecordInput in;
  in.trace_id = kHalfTraceId;
  // A percentage of its own: 10.125% at precision 6 over an explicit randomness, from 0%.
  in.randomness = "e6147c00000000";
  in.priority = 10.125;
  LogDecision d = logRecord(config(Mode::kHashSeed, 0, 6), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.threshold, "e6147b");
  EXPECT_EQ(d.policy, Policy::kSamplingPriority);
  // >= 100 keeps, 0 drops, negative leaves the configured percentage.
  in = LogRecordInput{};
  in.trace_id = kHalfTraceId;
  in.priority = 100;
  EXPECT_TRUE(logRecord(config(Mode::kProportional, 0), in).sampled);
  in.priority = 150;
  EXPECT_TRUE(logRecord(config(Mode::kProportional, 0), in).sampled);
  in.priority = 0;
  EXPECT_FALSE(logRecord(config(Mode::kProportional, 100), in).sampled);
  in.priority = -5;
  EXPECT_TRUE(logRecord(config(Mode::kProportional, 100), in).sampled);
  EXPECT_FALSE(logRecord(config(Mode::kProportional, 0), in).sampled);
  // A lower probability than the arriving one is applied; the arriving threshold stays.
  in = LogRecordInput{};
  in.trace_id = kFe;
  in.threshold = "c";
  in.priority = 37;
  d = logRecord(config(Mode::kEqualizing, 50), in);
  EXPECT_TRUE(d.sampled);
  EXPECT_EQ(d.threshold, "");
  // Priority decides after fail_closed.
  in = LogRecordInput{};
  in.priority = 100;
  EXPECT_TRUE(logRecord(config(Mode::kProportional, 50), in).sampled);
}

}  // namespace
}  // namespace otlpd::processors::probabilistic_sampler
