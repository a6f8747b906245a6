// numeric_attribute, string_attribute, boolean_attribute: resource and span attributes, the
// missing-attribute behaviour, invert_match, and the attribute readers underneath.
#include "policies_test_support.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

// ---- the readers ----

TEST(TailSamplingAttributeReader, FindsTheFirstEntryOfAKeyAndDecodesScalars) {
  pbt::Span span;
  setAttributes(span.mutable_attributes(), {{"s", str("text")},
                                            {"i", i64(-42)},
                                            {"d", dbl(2.5)},
                                            {"b", boolean(true)},
                                            {"s", str("second")}});
  const std::string bytes = span.SerializeAsString();
  std::string_view value;
  ASSERT_TRUE(findAttribute(bytes, otlp::fields::kSpanAttributes, "s", value));
  AttributeScalar v = decodeScalar(value);
  EXPECT_EQ(v.kind, AttributeScalar::Kind::kString);
  EXPECT_EQ(v.str, "text");
  ASSERT_TRUE(findAttribute(bytes, otlp::fields::kSpanAttributes, "i", value));
  v = decodeScalar(value);
  EXPECT_EQ(v.kind, AttributeScalar::Kind::kInt);
  EXPECT_EQ(v.integer, -42);
  ASSERT_TRUE(findAttribute(bytes, otlp::fields::kSpanAttributes, "d", value));
  v = decodeScalar(value);
  EXPECT_EQ(v.kind, AttributeScalar::Kind::kDouble);
  EXPECT_EQ(v.dbl, 2.5);
  ASSERT_TRUE(findAttribute(bytes, otlp::fields::kSpanAttributes, "b", value));
  v = decodeScalar(value);
  EXPECT_EQ(v.kind, AttributeScalar::Kind::kBool);
  EXPECT_EQ(v.integer, 1);
  EXPECT_FALSE(findAttribute(bytes, otlp::fields::kSpanAttributes, "missing", value));
  // A prefix of a key is another key.
  EXPECT_FALSE(findAttribute(bytes, otlp::fields::kSpanAttributes, "", value));
}

TEST(TailSamplingAttributeReader, TraceStateMembers) {
  std::string_view v;
  EXPECT_TRUE(traceStateValue("a=1,b=2", "b", v));
  EXPECT_EQ(v, "2");
  EXPECT_TRUE(traceStateValue(" a=1 ,\tb=x=y ", "b", v));
  EXPECT_EQ(v, "x=y");
  EXPECT_FALSE(traceStateValue("ab=1,,=2,b", "b", v));
  EXPECT_FALSE(traceStateValue("", "b", v));
}

// ---- numeric_attribute ----

TEST(TailSamplingNumericAttribute, SpanOrResourceValueInRangeSamples) {
  auto p = onePolicy(
      "policies: [{name: p, type: numeric_attribute, numeric_attribute: {key: http.status_code, "
      "min_value: 500, max_value: 599}}]");
  TraceBuilder ok;
  setAttributes(ok.span().mutable_attributes(), {{"http.status_code", i64(200)}});
  EXPECT_EQ(decide(*p, ok.build()), Decision::kNotSampled);

  TraceBuilder failed;
  setAttributes(failed.span().mutable_attributes(), {{"http.status_code", i64(200)}});
  setAttributes(failed.span().mutable_attributes(), {{"http.status_code", i64(599)}});
  EXPECT_EQ(decide(*p, failed.build()), Decision::kSampled);

  TraceBuilder on_resource;
  on_resource.resource({{"http.status_code", i64(500)}}).spans(2);
  EXPECT_EQ(decide(*p, on_resource.build()), Decision::kSampled);

  // Doubles compare by value; strings and bools are no numbers.
  TraceBuilder as_double;
  setAttributes(as_double.span().mutable_attributes(), {{"http.status_code", dbl(503.0)}});
  EXPECT_EQ(decide(*p, as_double.build()), Decision::kSampled);
  TraceBuilder as_string;
  setAttributes(as_string.span().mutable_attributes(), {{"http.status_code", str("503")}});
  EXPECT_EQ(decide(*p, as_string.build()), Decision::kNotSampled);
}

TEST(TailSamplingNumericAttribute, OneBoundLeavesTheOtherOpen) {
  auto min_only = onePolicy(
      "policies: [{name: p, type: numeric_attribute, numeric_attribute: {key: n, min_value: "
      "10}}]");
  auto max_only = onePolicy(
      "policies: [{name: p, type: numeric_attribute, numeric_attribute: {key: n, max_value: "
      "-10}}]");
  auto with = [](int64_t n) {
    TraceBuilder b;
    setAttributes(b.span().mutable_attributes(), {{"n", i64(n)}});
    return b.build();
  };
  EXPECT_EQ(decide(*min_only, with(9)), Decision::kNotSampled);
  EXPECT_EQ(decide(*min_only, with(INT64_MAX)), Decision::kSampled);
  EXPECT_EQ(decide(*max_only, with(-9)), Decision::kNotSampled);
  EXPECT_EQ(decide(*max_only, with(INT64_MIN)), Decision::kSampled);
}

TEST(TailSamplingNumericAttribute, MissingAttributeAndInvertMatch) {
  auto p = onePolicy(
      "policies: [{name: p, type: numeric_attribute, numeric_attribute: {key: n, min_value: 1, "
      "max_value: 5}}]");
  auto inverted = onePolicy(
      "policies: [{name: p, type: numeric_attribute, numeric_attribute: {key: n, min_value: 1, "
      "max_value: 5, invert_match: true}}]");
  TestTrace missing = TraceBuilder().spans(3).build();
  EXPECT_EQ(decide(*p, missing), Decision::kNotSampled);
  // Inverted, nothing matched: the Collector's "inverted sampled".
  EXPECT_EQ(decide(*inverted, missing), Decision::kInvertSampled);

  TraceBuilder in_range;
  in_range.span();
  setAttributes(in_range.span().mutable_attributes(), {{"n", i64(3)}});
  EXPECT_EQ(decide(*p, in_range.build()), Decision::kSampled);
  EXPECT_EQ(decide(*inverted, in_range.build()), Decision::kInvertNotSampled);

  TraceBuilder outside;
  setAttributes(outside.span().mutable_attributes(), {{"n", i64(6)}});
  EXPECT_EQ(decide(*inverted, outside.build()), Decision::kInvertSampled);
}

// ---- string_attribute ----

TEST(TailSamplingStringAttribute, ExactValuesOnSpansAndResources) {
  auto p = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: service.name, "
      "values: [checkout, payments]}}]");
  EXPECT_EQ(decide(*p, TraceBuilder().service("checkout").spans(2).build()), Decision::kSampled);
  EXPECT_EQ(decide(*p, TraceBuilder().service("checkout-v2").spans(2).build()),
            Decision::kNotSampled);
  // A trace across services: the second resource matches.
  TraceBuilder across;
  across.service("frontend").spans(2).service("payments").spans(1);
  EXPECT_EQ(decide(*p, across.build()), Decision::kSampled);
  // On a span.
  TraceBuilder on_span;
  setAttributes(on_span.span().mutable_attributes(), {{"service.name", str("payments")}});
  EXPECT_EQ(decide(*p, on_span.build()), Decision::kSampled);
  // Not a string: no match.
  TraceBuilder number;
  number.resource({{"service.name", i64(7)}}).spans(1);
  EXPECT_EQ(decide(*p, number.build()), Decision::kNotSampled);
}

TEST(TailSamplingStringAttribute, ManyValuesUseASet) {
  std::string values;
  for (int i = 0; i < 50; ++i) values += (i ? ", v" : "v") + std::to_string(i);
  auto p = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: k, "
      "values: [" +
      values + "]}}]");
  auto with = [](const std::string& v) {
    TraceBuilder b;
    setAttributes(b.span().mutable_attributes(), {{"k", str(v)}});
    return b.build();
  };
  EXPECT_EQ(decide(*p, with("v0")), Decision::kSampled);
  EXPECT_EQ(decide(*p, with("v49")), Decision::kSampled);
  EXPECT_EQ(decide(*p, with("v50")), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, with("v")), Decision::kNotSampled);
}

TEST(TailSamplingStringAttribute, RegexesMatchAnywhereInTheValue) {
  auto p = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: http.route, values: "
      "['/v1/name/.+', ^/health$], enabled_regex_matching: true, cache_max_size: 10}}]");
  auto with = [](const std::string& route) {
    TraceBuilder b;
    setAttributes(b.span().mutable_attributes(), {{"http.route", str(route)}});
    return b.build();
  };
  EXPECT_EQ(decide(*p, with("/v1/name/42")), Decision::kSampled);
  // Unanchored, as Go's regexp.MatchString.
  EXPECT_EQ(decide(*p, with("/api/v1/name/42/items")), Decision::kSampled);
  EXPECT_EQ(decide(*p, with("/v1/name/")), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, with("/health")), Decision::kSampled);
  EXPECT_EQ(decide(*p, with("/healthz")), Decision::kNotSampled);
  // Without regex matching the same values are literal.
  auto literal = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: http.route, values: "
      "['/v1/name/.+']}}]");
  EXPECT_EQ(decide(*literal, with("/v1/name/42")), Decision::kNotSampled);
  EXPECT_EQ(decide(*literal, with("/v1/name/.+")), Decision::kSampled);
}

TEST(TailSamplingStringAttribute, MissingAttributeAndInvertMatch) {
  auto p = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: team, values: "
      "[a]}}]");
  auto inverted = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: team, values: [a], "
      "invert_match: true}}]");
  TestTrace missing = TraceBuilder().service("svc").spans(2).build();
  EXPECT_EQ(decide(*p, missing), Decision::kNotSampled);
  EXPECT_EQ(decide(*inverted, missing), Decision::kInvertSampled);
  TestTrace team_a = TraceBuilder().resource({{"team", str("a")}}).spans(2).build();
  EXPECT_EQ(decide(*p, team_a), Decision::kSampled);
  EXPECT_EQ(decide(*inverted, team_a), Decision::kInvertNotSampled);
  TestTrace team_b = TraceBuilder().resource({{"team", str("b")}}).spans(2).build();
  EXPECT_EQ(decide(*inverted, team_b), Decision::kInvertSampled);
}

// ---- boolean_attribute ----

TEST(TailSamplingBooleanAttribute, MatchesBoolValuesOnly) {
  auto p = onePolicy(
      "policies: [{name: p, type: boolean_attribute, boolean_attribute: {key: app.force_sample, "
      "value: true}}]");
  auto with = [](const processors::testing::pbc::AnyValue& v) {
    TraceBuilder b;
    b.span();
    setAttributes(b.span().mutable_attributes(), {{"app.force_sample", v}});
    return b.build();
  };
  EXPECT_EQ(decide(*p, with(boolean(true))), Decision::kSampled);
  EXPECT_EQ(decide(*p, with(boolean(false))), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, with(str("true"))), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, with(i64(1))), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, TraceBuilder().spans(2).build()), Decision::kNotSampled);
  EXPECT_EQ(
      decide(*p, TraceBuilder().resource({{"app.force_sample", boolean(true)}}).spans(1).build()),
      Decision::kSampled);

  auto want_false = onePolicy(
      "policies: [{name: p, type: boolean_attribute, boolean_attribute: {key: app.force_sample, "
      "value: false, invert_match: true}}]");
  EXPECT_EQ(decide(*want_false, with(boolean(false))), Decision::kInvertNotSampled);
  EXPECT_EQ(decide(*want_false, with(boolean(true))), Decision::kInvertSampled);
  EXPECT_EQ(decide(*want_false, TraceBuilder().spans(1).build()), Decision::kInvertSampled);
}

TEST(TailSamplingAttributes, EventAndScopeAttributesAreNotLookedAt) {
  auto p = onePolicy(
      "policies: [{name: p, type: string_attribute, string_attribute: {key: k, values: [v]}}]");
  TraceBuilder b;
  pbt::Span& span = b.span();
  setAttributes(span.add_events()->mutable_attributes(), {{"k", str("v")}});
  EXPECT_EQ(decide(*p, b.build()), Decision::kNotSampled);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
