// ottl_condition: span and span event conditions over the wire bytes, ORed; error_mode.
#include "policies_test_support.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

TEST(TailSamplingOttlCondition, AnySpanConditionOnAnySpanSamples) {
  auto p = onePolicy(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      span:
        - 'attributes["http.route"] == "/checkout"'
        - 'resource.attributes["service.name"] == "payments" and kind == SPAN_KIND_SERVER'
)");
  TraceBuilder none;
  none.service("payments");
  setAttributes(none.span().mutable_attributes(), {{"http.route", str("/cart")}});
  none.span().set_kind(pbt::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(decide(*p, none.build()), Decision::kNotSampled);

  TraceBuilder route;
  route.service("frontend").spans(2);
  setAttributes(route.span().mutable_attributes(), {{"http.route", str("/checkout")}});
  EXPECT_EQ(decide(*p, route.build()), Decision::kSampled);

  TraceBuilder server;
  server.service("frontend").span().set_kind(pbt::Span::SPAN_KIND_SERVER);
  server.service("payments").span().set_kind(pbt::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(decide(*p, server.build()), Decision::kSampled);
}

TEST(TailSamplingOttlCondition, SpanEventConditions) {
  auto p = onePolicy(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      spanevent: ['name == "exception" and attributes["exception.type"] == "Timeout"']
)");
  TraceBuilder other;
  pbt::Span& s = other.span();
  auto* e = s.add_events();
  e->set_name("exception");
  setAttributes(e->mutable_attributes(), {{"exception.type", str("NullPointer")}});
  s.add_events()->set_name("log");
  EXPECT_EQ(decide(*p, other.build()), Decision::kNotSampled);

  TraceBuilder timeout;
  timeout.spans(2);
  pbt::Span& t = timeout.span();
  t.add_events()->set_name("log");
  auto* ex = t.add_events();
  ex->set_name("exception");
  setAttributes(ex->mutable_attributes(), {{"exception.type", str("Timeout")}});
  EXPECT_EQ(decide(*p, timeout.build()), Decision::kSampled);
}

TEST(TailSamplingOttlCondition, ConditionsSeeTheTraceTheirSpanBelongsTo) {
  // The resource of each span is its own, also when a trace spans several resources and scopes.
  auto p = onePolicy(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      span: ['resource.attributes["service.name"] == "b" and name == "second"']
)");
  TraceBuilder b;
  b.service("a");
  b.span("first");
  b.span("second");
  b.service("b");
  b.span("first");
  EXPECT_EQ(decide(*p, b.build()), Decision::kNotSampled);
  b.span("second");
  EXPECT_EQ(decide(*p, b.build()), Decision::kSampled);
}

TEST(TailSamplingOttlCondition, ErrorModePropagateFailsIgnoreGoesOn) {
  const char* conditions = R"(
      span:
        - 'attributes["n"] / 0 == 1'
        - 'name == "keep"'
)";
  auto propagate = onePolicy(std::string(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:)") + conditions);
  auto ignore = onePolicy(std::string(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      error_mode: ignore)") +
                          conditions);
  TraceBuilder b;
  pbt::Span& s = b.span("keep");
  setAttributes(s.mutable_attributes(), {{"n", i64(4)}});
  TestTrace t = b.build();
  EXPECT_EQ(decide(*propagate, t), Decision::kError);
  EXPECT_EQ(decide(*ignore, t), Decision::kSampled);
  // combine() lets the other policies decide when one failed.
  std::vector<Decision> decisions = {decide(*propagate, t), Decision::kSampled};
  EXPECT_TRUE(combine(decisions).sampled);
}

TEST(TailSamplingOttlCondition, MissingAttributeIsNilNotAnError) {
  auto p = onePolicy(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      span: ['attributes["absent"] == "x"', 'attributes["absent"] == nil and name == "op"']
)");
  EXPECT_EQ(decide(*p, TraceBuilder().spans(1).build()), Decision::kSampled);
}

TEST(TailSamplingOttlCondition, NowComesFromTheEngine) {
  auto p = onePolicy(R"(
policies:
  - name: p
    type: ottl_condition
    ottl_condition:
      span: ['end_time < Now() - Duration("1h")']
)");
  TestTrace t = TraceBuilder().spans(1).build();  // ends 1 ms after kNow
  EXPECT_EQ(decide(*p, t, kNow), Decision::kNotSampled);
  EXPECT_EQ(decide(*p, t, kNow + 2 * 3600 * kSecond), Decision::kSampled);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
