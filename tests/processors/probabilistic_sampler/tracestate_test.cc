// W3C tracestate with the OpenTelemetry entry: parse and serialize round trips (other vendors'
// entries and unknown `ot` sub-keys kept), normalization, and every malformed form refused.
#include "processors/probabilistic_sampler/tracestate.h"

#include <gtest/gtest.h>

#include <string>

#include "common/strings.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

std::string roundTrip(std::string_view text) {
  TraceState ts;
  const TraceStateError e = ts.parse(text);
  if (e != TraceStateError::kNone) return strCat("error: ", traceStateErrorMessage(e));
  std::string out;
  ts.serialize(out);
  return out;
}

TraceStateError parseError(std::string_view text) {
  TraceState ts;
  return ts.parse(text);
}

TEST(TraceState, EmptyIsEmpty) {
  TraceState ts;
  ASSERT_EQ(ts.parse(""), TraceStateError::kNone);
  EXPECT_FALSE(ts.hasThreshold());
  EXPECT_FALSE(ts.hasRandomness());
  EXPECT_EQ(roundTrip(""), "");
}

TEST(TraceState, ReadsThresholdAndRandomness) {
  TraceState ts;
  ASSERT_EQ(ts.parse("ot=th:c;rv:9b8233f7e3a151"), TraceStateError::kNone);
  ASSERT_TRUE(ts.hasThreshold());
  EXPECT_EQ(ts.threshold().tvalue(), "c");
  ASSERT_TRUE(ts.hasRandomness());
  EXPECT_EQ(ts.randomness().value, 0x9b8233f7e3a151ULL);
}

TEST(TraceState, RoundTripsKeepOtherVendorsAndOtelKeys) {
  // Already in the canonical order: unchanged.
  EXPECT_EQ(roundTrip("ot=rv:9b8233f7e3a151;th:8"), "ot=rv:9b8233f7e3a151;th:8");
  EXPECT_EQ(roundTrip("ot=th:0,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
            "ot=th:0,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(roundTrip("congo=t61rcWkgMzE"), "congo=t61rcWkgMzE");
  // The `ot` entry goes first, its rv before th before the rest; other entries keep their order.
  EXPECT_EQ(roundTrip("rojo=00f067aa0ba902b7,ot=xy:1;th:c;rv:00000000000001,congo=x"),
            "ot=rv:00000000000001;th:c;xy:1,rojo=00f067aa0ba902b7,congo=x");
  // Multi-tenant keys and values with inner blanks and punctuation pass through.
  EXPECT_EQ(roundTrip("fw529a3039@dt=1 2;3,tenant_1@sys-a=v.v"),
            "fw529a3039@dt=1 2;3,tenant_1@sys-a=v.v");
  // What was not changed is written as it came: an upper-case rv, a th with trailing zeros.
  EXPECT_EQ(roundTrip("ot=rv:FD70A3D70A3D71;th:80000000000000"),
            "ot=rv:FD70A3D70A3D71;th:80000000000000");
}

TEST(TraceState, NormalizesBlanksAndEmptyMembers) {
  EXPECT_EQ(roundTrip(" ot=th:8 ,\t, vendor=value "), "ot=th:8,vendor=value");
  EXPECT_EQ(roundTrip(",,,"), "");
}

TEST(TraceState, SetValuesAreWrittenCanonically) {
  TraceState ts;
  ASSERT_EQ(ts.parse("ot=rv:FD70A3D70A3D71;th:80000000000000,vendor=x"), TraceStateError::kNone);
  ts.setThreshold(*probabilityToThreshold(0.01, 4));
  std::string out;
  ts.serialize(out);
  EXPECT_EQ(out, "ot=rv:FD70A3D70A3D71;th:fd70a,vendor=x");

  ASSERT_EQ(ts.parse("vendor=x"), TraceStateError::kNone);
  ts.setRandomness(Randomness{0x123});
  ts.setThreshold(Threshold::always());
  out.clear();
  ts.serialize(out);
  EXPECT_EQ(out, "ot=rv:00000000000123;th:0,vendor=x");

  ASSERT_EQ(ts.parse("ot=th:8,vendor=x"), TraceStateError::kNone);
  ts.clearThreshold();
  out.clear();
  ts.serialize(out);
  EXPECT_EQ(out, "vendor=x");  // nothing left in `ot`: no entry
}

TEST(TraceState, RepeatedOtEntryReplacesTheEarlierOne) {
  EXPECT_EQ(roundTrip("ot=th:8;xy:1,ot=th:c"), "ot=th:c");
}

TEST(TraceState, MalformedOtelValues) {
  EXPECT_EQ(parseError("ot=th:"), TraceStateError::kTValue);
  EXPECT_EQ(parseError("ot=th:abababababababab"), TraceStateError::kTValue);
  EXPECT_EQ(parseError("ot=th:-1"), TraceStateError::kTValue);
  EXPECT_EQ(parseError("ot=rv:1234"), TraceStateError::kRValue);
  EXPECT_EQ(parseError("ot=rv:abababababababab"), TraceStateError::kRValue);
  EXPECT_EQ(parseError("ot=rv:zzzzzzzzzzzzzz"), TraceStateError::kRValue);
  EXPECT_EQ(parseError("ot=th:8;"), TraceStateError::kSyntax);  // empty member
  EXPECT_EQ(parseError("ot=th"), TraceStateError::kSyntax);     // no colon
  EXPECT_EQ(parseError("ot=TH:8"), TraceStateError::kSyntax);   // keys are lower case
  EXPECT_EQ(parseError("ot=1x:8"), TraceStateError::kSyntax);   // and start with a letter
  EXPECT_EQ(parseError("ot=th:8 "), TraceStateError::kNone);    // W3C blanks are trimmed
  EXPECT_EQ(parseError("ot=th:8;x y:1"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("ot=xy:a+b"), TraceStateError::kSyntax);  // value characters
  // An entry's value holds at most 256 characters, the `ot` one included.
  EXPECT_EQ(parseError(strCat("ot=xy:", std::string(254, 'a'))), TraceStateError::kSyntax);
  EXPECT_EQ(parseError(strCat("ot=xy:", std::string(253, 'a'))), TraceStateError::kNone);
}

TEST(TraceState, MalformedW3CLists) {
  EXPECT_EQ(parseError("novalue"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("=v"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("Upper=v"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("1a=v"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("a=b=c"), TraceStateError::kSyntax);  // '=' not allowed in values
  EXPECT_EQ(parseError("a="), TraceStateError::kSyntax);     // empty value
  EXPECT_EQ(parseError("@sys=v"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("t@1sys=v"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError("a=\x01"), TraceStateError::kSyntax);
  EXPECT_EQ(parseError(strCat("t@", std::string(15, 's'), "=v")), TraceStateError::kSize);
  EXPECT_EQ(parseError(strCat("a=", std::string(257, 'v'))), TraceStateError::kSyntax);
  std::string many;
  for (int i = 0; i < 33; ++i) many += strCat("k", i, "=v,");
  EXPECT_EQ(parseError(many), TraceStateError::kSize);
  many.clear();
  for (int i = 0; i < 32; ++i) many += strCat("k", i, "=v,");
  EXPECT_EQ(parseError(many), TraceStateError::kNone);
  EXPECT_EQ(parseError(strCat("a=", std::string(1023, 'v'))),
            TraceStateError::kSize);  // > 1024 bytes
}

}  // namespace
}  // namespace otlpd::processors::probabilistic_sampler
