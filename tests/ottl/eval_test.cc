// OTTL evaluation over encoded items: operators, paths of every context, editors, converters.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "ottl/functions_impl.h"
#include "ottl_test_support.h"

namespace otlpd::ottl {
namespace {

using testing::LogItem;
using testing::SpanItem;
namespace pb_common = otlp::pb_common;
namespace pb_trace = otlp::pb_trace;
namespace pb_logs = otlp::pb_logs;
namespace pb_metrics = otlp::pb_metrics;

std::string str(const pb_common::AnyValue* v) {
  return v ? v->string_value() : "<absent>";
}

// --- Operators ---------------------------------------------------------------------------------

TEST(OttlOperators, ComparisonRules) {
  SpanItem s;
  EXPECT_TRUE(s.is(R"(name == "GET /api/orders")"));
  EXPECT_TRUE(s.is(R"(name != "x")"));
  EXPECT_TRUE(s.is(R"(name > "GET /a" and name < "H")"));
  EXPECT_TRUE(s.is(R"(attributes["http.status_code"] == 200)"));
  EXPECT_TRUE(s.is(R"(attributes["http.status_code"] == 200.0)"));  // int vs double as doubles
  EXPECT_TRUE(s.is(R"(attributes["http.status_code"] >= 199.5)"));
  EXPECT_FALSE(s.is(R"(attributes["http.status_code"] == "200")"));  // different types
  EXPECT_TRUE(s.is(R"(attributes["http.status_code"] != "200")"));
  EXPECT_FALSE(s.is(R"(attributes["http.status_code"] < "300")"));
  EXPECT_TRUE(s.is(R"(attributes["missing"] == nil)"));
  EXPECT_FALSE(s.is(R"(attributes["missing"] != nil)"));
  EXPECT_FALSE(s.is(R"(attributes["missing"] == "")"));
  EXPECT_TRUE(s.is(R"(nil == nil)"));
  EXPECT_TRUE(s.is(R"(true > false)"));
  EXPECT_TRUE(s.is(R"(0x0102 == 0x0102 and 0x0102 < 0x0103)"));
  EXPECT_TRUE(s.is(R"(kind == SPAN_KIND_SERVER)"));
  EXPECT_TRUE(s.is(R"(status.code == STATUS_CODE_ERROR)"));
}

// Scalar attributes are read from their encoded AnyValue without decoding a value object: every
// kind compares as it does decoded (negative ints, doubles, bools, and a value holding two members,
// where the last wins as in protobuf).
TEST(OttlOperators, ScalarAttributesReadFromTheWireCompareAsDecoded) {
  SpanItem s;
  auto add = [&](const std::string& key) {
    auto* kv = s.span.add_attributes();
    kv->set_key(key);
    return kv->mutable_value();
  };
  add("neg")->set_int_value(-5);
  add("ratio")->set_double_value(0.25);
  add("flag")->set_bool_value(true);
  add("off")->set_bool_value(false);
  add("empty");
  // string_value then int_value in one AnyValue: protobuf keeps the last member of a oneof.
  auto* kv = s.span.add_attributes();
  kv->set_key("two");
  std::string any;
  any += "\x0a\x01x";  // string_value "x"
  any += "\x18\x07";   // int_value 7
  std::string encoded;
  kv->SerializeToString(&encoded);
  encoded += "\x12";
  encoded += static_cast<char>(any.size());
  encoded += any;
  s.span.mutable_attributes()->RemoveLast();
  ASSERT_TRUE(s.span.add_attributes()->ParseFromString(encoded));
  EXPECT_TRUE(s.is(R"(attributes["neg"] == -5)"));
  EXPECT_TRUE(s.is(R"(attributes["neg"] < 0)"));
  EXPECT_TRUE(s.is(R"(attributes["ratio"] == 0.25)"));
  EXPECT_TRUE(s.is(R"(attributes["flag"] == true)"));
  EXPECT_TRUE(s.is(R"(attributes["off"] == false)"));
  EXPECT_TRUE(s.is(R"(attributes["empty"] == nil)"));
  EXPECT_TRUE(s.is(R"(attributes["two"] == 7)"));
  EXPECT_TRUE(s.is(R"(IsInt(attributes["neg"]) and not IsString(attributes["flag"]))"));
}

TEST(OttlOperators, BooleanLogicAndPrecedence) {
  SpanItem s;
  EXPECT_TRUE(s.is(R"(true or false and false)"));  // and binds tighter
  EXPECT_FALSE(s.is(R"((true or false) and false)"));
  EXPECT_TRUE(s.is(R"(not false and true)"));
  EXPECT_FALSE(s.is(R"(not name == "GET /api/orders")"));
  EXPECT_TRUE(s.is(R"(not (name == "x" or kind == 1))"));
  // Short-circuit: the right side would fail (ConvertCase of an int) but is never evaluated.
  EXPECT_TRUE(s.is(R"(true or ConvertCase(attributes["http.status_code"], "upper") == "")"));
}

TEST(OttlOperators, Math) {
  SpanItem s;
  EXPECT_TRUE(s.is(R"(end_time_unix_nano - start_time_unix_nano == 250000)"));
  EXPECT_TRUE(s.is(R"(1 + 2 * 3 == 7 and (1 + 2) * 3 == 9 and 7 / 2 == 3 and -7 / 2 == -3)"));
  EXPECT_TRUE(s.is(R"(1.5 * 2.0 == 3.0)"));
  EXPECT_TRUE(s.is(R"(end_time - start_time == Duration("250us"))"));
  EXPECT_TRUE(s.is(R"(end_time - start_time > Duration("200us"))"));
  EXPECT_TRUE(s.is(R"(UnixNano(start_time + Duration("1us")) == 2000)"));
  EXPECT_TRUE(s.is(R"(-attributes["http.status_code"] == -200)"));
  s.open();
  auto c = parseCondition(R"(attributes["http.status_code"] / 0 == 1)", Context::kSpan);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.program->evaluate(s.item, s.state).status().message(), "column 32: division by zero");
}

// --- Paths -------------------------------------------------------------------------------------

TEST(OttlPaths, SpanReadAndWrite) {
  SpanItem s;
  EXPECT_TRUE(s.is(R"(trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10))"));
  EXPECT_TRUE(s.is(R"(trace_id.string == "0102030405060708090a0b0c0d0e0f10")"));
  EXPECT_TRUE(s.is(R"(span_id == SpanID("1112131415161718"))"));
  EXPECT_TRUE(s.is(R"(parent_span_id == SpanID(0x0000000000000000))"));  // unset = zeros
  EXPECT_TRUE(s.is(R"(parent_span_id.string == "")"));
  EXPECT_TRUE(s.is(R"(span.name == "GET /api/orders" and span.kind == 2)"));
  EXPECT_TRUE(s.is(R"(status.message == "boom" and start_time_unix_nano == 1000)"));
  EXPECT_TRUE(s.is(R"(resource.attributes["service.name"] == "checkout")"));
  EXPECT_TRUE(s.is(R"(instrumentation_scope.name == "io.opentelemetry.http")"));
  EXPECT_TRUE(s.is(R"(scope.version == "1.2.3" and scope.attributes["scope.attr"] == "s")"));
  EXPECT_TRUE(s.is(R"(dropped_attributes_count == 0 and trace_state == "")"));

  ASSERT_TRUE(s.run(R"(set(name, "renamed"))").ok());
  EXPECT_EQ(s.span.name(), "renamed");
  ASSERT_TRUE(s.run(R"(set(kind, SPAN_KIND_CLIENT))").ok());
  EXPECT_EQ(s.span.kind(), pb_trace::Span::SPAN_KIND_CLIENT);
  ASSERT_TRUE(s.run(R"(set(status.code, STATUS_CODE_OK))").ok());
  EXPECT_EQ(s.span.status().code(), pb_trace::Status::STATUS_CODE_OK);
  EXPECT_EQ(s.span.status().message(), "boom");
  ASSERT_TRUE(s.run(R"(set(status.message, "fine"))").ok());
  EXPECT_EQ(s.span.status().message(), "fine");
  ASSERT_TRUE(s.run(R"(set(end_time_unix_nano, 5000))").ok());
  EXPECT_EQ(s.span.end_time_unix_nano(), 5000u);
  ASSERT_TRUE(s.run(R"(set(span_id.string, "0000000000000001"))").ok());
  EXPECT_EQ(s.span.span_id(), std::string("\0\0\0\0\0\0\0\x01", 8));
  ASSERT_TRUE(s.run(R"(set(parent_span_id, SpanID(0x0102030405060708)))").ok());
  EXPECT_EQ(s.span.parent_span_id(), "\x01\x02\x03\x04\x05\x06\x07\x08");
  ASSERT_TRUE(s.run(R"(set(trace_state, "a=b"))").ok());
  EXPECT_EQ(s.span.trace_state(), "a=b");
  // A value of the wrong type leaves the field as it is, as the Collector's setters do.
  ASSERT_TRUE(s.run(R"(set(name, 12))").ok());
  EXPECT_EQ(s.span.name(), "renamed");
}

TEST(OttlPaths, NestedMapsAndSlices) {
  SpanItem s;
  auto* kv = s.span.add_attributes();
  kv->set_key("nested");
  auto* inner = kv->mutable_value()->mutable_kvlist_value()->add_values();
  inner->set_key("list");
  inner->mutable_value()->mutable_array_value()->add_values()->set_string_value("zero");
  inner->mutable_value()->mutable_array_value()->add_values()->set_int_value(1);
  EXPECT_TRUE(s.is(R"(attributes["nested"]["list"][0] == "zero")"));
  EXPECT_TRUE(s.is(R"(attributes["nested"]["list"][1] == 1)"));
  EXPECT_TRUE(s.is(R"(attributes["nested"]["missing"] == nil)"));
  EXPECT_TRUE(s.is(R"(attributes["missing"]["x"] == nil)"));
  ASSERT_TRUE(s.run(R"(set(attributes["nested"]["list"][1], "one"))").ok());
  ASSERT_TRUE(s.run(R"(set(attributes["nested"]["new"]["deep"], true))").ok());
  ASSERT_TRUE(s.run(R"(set(attributes["fresh"]["a"], 1))").ok());
  s.open();
  EXPECT_TRUE(*s.check(R"(attributes["nested"]["list"][1] == "one")", Context::kSpan));
  EXPECT_TRUE(*s.check(R"(attributes["nested"]["new"]["deep"] == true)", Context::kSpan));
  EXPECT_TRUE(*s.check(R"(attributes["fresh"]["a"] == 1)", Context::kSpan));
  // Indexing past the end of a list is an error.
  auto r = s.run(R"(set(attributes["x"], attributes["nested"]["list"][5]))");
  EXPECT_EQ(r.status().message(), "column 22: index 5 out of range (list of 2)");
}

TEST(OttlPaths, CacheKeepsValuesBetweenStatements) {
  SpanItem s;
  s.open();
  ASSERT_TRUE(s.Base::run(R"(set(cache["parts"], Split(name, " ")))", Context::kSpan).ok());
  ASSERT_TRUE(s.Base::run(R"(set(attributes["method"], cache["parts"][0]))", Context::kSpan).ok());
  s.span = s.sp.result();
  EXPECT_EQ(str(s.attr("method")), "GET");
  EXPECT_TRUE(*s.check(R"(Len(cache) == 1)", Context::kSpan));
}

TEST(OttlPaths, SpanEvent) {
  testing::Base b;
  pb_trace::Span span;
  span.set_name("parent");
  pb_trace::Span::Event event;
  event.set_name("exception");
  event.set_time_unix_nano(42);
  testing::putString(event.mutable_attributes(), "exception.message", "timeout");
  testing::Opened<pb_trace::Span> sp;
  testing::Opened<pb_trace::Span::Event> ev;
  b.openBase(Context::kSpanEvent);
  sp.open(span, 9);
  ev.open(event, 3);
  b.item.bind(Context::kSpan, sp.edit);
  b.item.bindMutable(Context::kSpanEvent, ev.edit);
  EXPECT_TRUE(
      *b.check(R"(name == "exception" and spanevent.time_unix_nano == 42)", Context::kSpanEvent));
  EXPECT_TRUE(*b.check(R"(span.name == "parent" and attributes["exception.message"] == "timeout")",
                       Context::kSpanEvent));
  EXPECT_TRUE(
      *b.check(R"(resource.attributes["service.name"] == "checkout")", Context::kSpanEvent));
  ASSERT_TRUE(b.run(R"(set(attributes["from.span"], span.name))", Context::kSpanEvent).ok());
  EXPECT_EQ(ev.result().attributes(1).value().string_value(), "parent");
  EXPECT_FALSE(parseStatement(R"(set(span.name, "x"))", Context::kSpanEvent).ok());
}

TEST(OttlPaths, LogRecord) {
  LogItem l;
  EXPECT_TRUE(l.is(R"(severity_number == SEVERITY_NUMBER_WARN and severity_text == "WARN")"));
  EXPECT_TRUE(l.is(
      R"(severity_number >= SEVERITY_NUMBER_INFO and severity_number < SEVERITY_NUMBER_ERROR)"));
  EXPECT_TRUE(l.is(R"(IsMatch(body, "password=") and log.time_unix_nano == 5000)"));
  EXPECT_TRUE(l.is(R"(trace_id == TraceID(0x00000000000000000000000000000000))"));
  ASSERT_TRUE(l.run(R"(set(body, "replaced"))").ok());
  EXPECT_EQ(l.log.body().string_value(), "replaced");
  ASSERT_TRUE(l.run(R"(set(severity_text, "ERROR"))").ok());
  ASSERT_TRUE(l.run(R"(set(severity_number, SEVERITY_NUMBER_ERROR))").ok());
  EXPECT_EQ(l.log.severity_number(), pb_logs::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(l.log.severity_text(), "ERROR");
  // A map body, indexed and edited.
  ASSERT_TRUE(l.run(R"(set(body, ParseJSON("{\"a\":{\"b\":1},\"c\":\"x\"}")))").ok());
  EXPECT_TRUE(l.is(R"(body["a"]["b"] == 1.0 and IsMap(body))"));
  ASSERT_TRUE(l.run(R"(set(body["c"], "y"))").ok());
  ASSERT_TRUE(l.run(R"(delete_key(body, "a"))").ok());
  ASSERT_EQ(l.log.body().kvlist_value().values_size(), 1);
  EXPECT_EQ(l.log.body().kvlist_value().values(0).value().string_value(), "y");
  ASSERT_TRUE(l.run(R"(set(trace_id.string, "0102030405060708090a0b0c0d0e0f10"))").ok());
  EXPECT_EQ(l.log.trace_id().size(), 16u);
}

TEST(OttlPaths, ResourceAndScopeContexts) {
  testing::Base b;
  b.openBase(Context::kResource);
  ASSERT_TRUE(
      b.run(R"(set(attributes["team"], "payments") where attributes["service.name"] == "checkout")",
            Context::kResource)
          .ok());
  EXPECT_EQ(b.r.result().attributes(2).value().string_value(), "payments");
  b.openBase(Context::kScope);
  ASSERT_TRUE(
      b.run(
           R"(set(version, "2.0") where name == "io.opentelemetry.http" and resource.attributes["deployment.environment"] == "prod")",
           Context::kScope)
          .ok());
  EXPECT_EQ(b.s.result().version(), "2.0");
}

TEST(OttlPaths, MetricAndDataPoint) {
  testing::Base b;
  pb_metrics::Metric metric;
  metric.set_name("http.server.duration");
  metric.set_unit("ms");
  auto* sum = metric.mutable_sum();
  sum->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  sum->set_is_monotonic(true);
  pb_metrics::NumberDataPoint point;
  point.set_as_int(7);
  point.set_time_unix_nano(99);
  testing::putString(point.mutable_attributes(), "route", "/a");
  testing::Opened<pb_metrics::Metric> m;
  testing::Opened<pb_metrics::NumberDataPoint> p;
  b.openBase(Context::kDataPoint);
  m.open(metric, 0);
  p.open(point, 7);
  b.item.bind(Context::kMetric, m.edit);
  b.item.bindMutable(Context::kDataPoint, p.edit);
  b.item.setMetricType(otlp::MetricType::kSum);
  EXPECT_TRUE(*b.check(R"(metric.name == "http.server.duration" and metric.unit == "ms")",
                       Context::kDataPoint));
  EXPECT_TRUE(*b.check(R"(metric.type == METRIC_DATA_TYPE_SUM and metric.is_monotonic == true)",
                       Context::kDataPoint));
  EXPECT_TRUE(*b.check(R"(metric.aggregation_temporality == AGGREGATION_TEMPORALITY_CUMULATIVE)",
                       Context::kDataPoint));
  EXPECT_TRUE(*b.check(R"(value_int == 7 and time_unix_nano == 99 and attributes["route"] == "/a")",
                       Context::kDataPoint));
  EXPECT_TRUE(*b.check(R"(count == nil and value_double == 0.0)", Context::kDataPoint));
  ASSERT_TRUE(b.run(R"(set(value_double, 1.5))", Context::kDataPoint).ok());
  pb_metrics::NumberDataPoint out = p.result();
  EXPECT_EQ(out.value_case(), pb_metrics::NumberDataPoint::kAsDouble);
  EXPECT_EQ(out.as_double(), 1.5);
  ASSERT_TRUE(b.run(R"(set(attributes["unit"], metric.unit))", Context::kDataPoint).ok());
  EXPECT_EQ(p.result().attributes(1).value().string_value(), "ms");

  // The metric context.
  b.openBase(Context::kMetric);
  m.open(metric, 0);
  b.item.bindMutable(Context::kMetric, m.edit);
  ASSERT_TRUE(
      b.run(R"(set(unit, "s") where name == "http.server.duration")", Context::kMetric).ok());
  ASSERT_TRUE(
      b.run(R"(set(aggregation_temporality, AGGREGATION_TEMPORALITY_DELTA))", Context::kMetric)
          .ok());
  pb_metrics::Metric changed = m.result();
  EXPECT_EQ(changed.unit(), "s");
  EXPECT_EQ(changed.sum().aggregation_temporality(), pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  EXPECT_TRUE(changed.sum().is_monotonic());
  EXPECT_FALSE(parseStatement(R"(set(type, 1))", Context::kMetric).ok());
}

// --- Editors -----------------------------------------------------------------------------------

TEST(OttlEditors, SetAndNil) {
  SpanItem s;
  ASSERT_TRUE(
      s.run(R"(set(attributes["env"], resource.attributes["deployment.environment"]))").ok());
  EXPECT_EQ(str(s.attr("env")), "prod");
  ASSERT_TRUE(s.run(R"(set(attributes["x"], attributes["missing"]))").ok());  // nil: no-op
  EXPECT_EQ(s.attr("x"), nullptr);
  ASSERT_TRUE(s.run(R"(set(attributes["b"], 0x0a0b))").ok());
  EXPECT_EQ(s.attr("b")->bytes_value(), "\x0a\x0b");
  ASSERT_TRUE(s.run(R"(set(attributes["l"], ["a", 1, true]))").ok());
  EXPECT_EQ(s.attr("l")->array_value().values_size(), 3);
  // `where` false: nothing happens.
  auto ran = s.run(R"(set(name, "no") where kind == SPAN_KIND_CLIENT)");
  ASSERT_TRUE(ran.ok());
  EXPECT_FALSE(*ran);
  EXPECT_EQ(s.span.name(), "GET /api/orders");
  // Replacing the whole map.
  ASSERT_TRUE(s.run(R"(set(attributes, ParseJSON("{\"only\":\"one\"}")))").ok());
  ASSERT_EQ(s.span.attributes_size(), 1);
  EXPECT_EQ(str(s.attr("only")), "one");
}

TEST(OttlEditors, DeleteAndKeep) {
  SpanItem s;
  ASSERT_TRUE(s.run(R"(delete_key(attributes, "http.url"))").ok());
  EXPECT_EQ(s.attr("http.url"), nullptr);
  EXPECT_EQ(s.span.attributes_size(), 2);
  ASSERT_TRUE(s.run(R"(delete_key(attributes, "absent"))").ok());
  EXPECT_EQ(s.span.attributes_size(), 2);

  SpanItem m;
  ASSERT_TRUE(m.run(R"(delete_matching_keys(attributes, "^http\\.(url|route)$"))").ok());
  ASSERT_EQ(m.span.attributes_size(), 1);
  EXPECT_EQ(m.span.attributes(0).key(), "http.status_code");

  SpanItem k;
  ASSERT_TRUE(k.run(R"(keep_keys(attributes, ["http.route", "nope"]))").ok());
  ASSERT_EQ(k.span.attributes_size(), 1);
  EXPECT_EQ(k.span.attributes(0).key(), "http.route");

  SpanItem km;
  ASSERT_TRUE(km.run(R"(keep_matching_keys(attributes, "status"))").ok());
  ASSERT_EQ(km.span.attributes_size(), 1);
  EXPECT_EQ(km.span.attributes(0).key(), "http.status_code");

  SpanItem all;
  ASSERT_TRUE(all.run(R"(keep_keys(attributes, []))").ok());
  EXPECT_EQ(all.span.attributes_size(), 0);
}

TEST(OttlEditors, ReplacePattern) {
  SpanItem s;
  ASSERT_TRUE(s.run(R"(replace_pattern(attributes["http.url"], "token=[^&]*", "token=***"))").ok());
  EXPECT_EQ(str(s.attr("http.url")), "https://shop/api/orders/7?token=***&x=1");
  ASSERT_TRUE(s.run(R"(replace_pattern(name, "^(\\w+) /api/(\\w+)$", "$2 via ${1}"))").ok());
  EXPECT_EQ(s.span.name(), "orders via GET");
  ASSERT_TRUE(s.run(R"q(replace_pattern(name, "(?P<first>\\w+)", "<$first>"))q").ok());
  EXPECT_EQ(s.span.name(), "<orders> <via> <GET>");
  ASSERT_TRUE(s.run(R"(replace_pattern(name, "via", "$$"))").ok());
  EXPECT_EQ(s.span.name(), "<orders> <$> <GET>");
  // With a hash function and a format.
  ASSERT_TRUE(
      s.run(R"(replace_pattern(attributes["http.route"], "\\{id\\}", "id", SHA256, "h:%s"))").ok());
  EXPECT_EQ(str(s.attr("http.route")),
            "/api/orders/h:a56145270ce6b3bebd1dd012b73948677dd618d496488bc608a3cb43ce3547dd");
  // Non-string targets are left alone.
  ASSERT_TRUE(s.run(R"(replace_pattern(attributes["http.status_code"], "2", "3"))").ok());
  EXPECT_EQ(s.attr("http.status_code")->int_value(), 200);
}

TEST(OttlEditors, ReplaceAllPatternsReplaceMatchAndAllMatches) {
  SpanItem s;
  ASSERT_TRUE(s.run(R"(replace_all_patterns(attributes, "value", "orders", "ORDERS"))").ok());
  EXPECT_EQ(str(s.attr("http.route")), "/api/ORDERS/{id}");
  EXPECT_EQ(str(s.attr("http.url")), "https://shop/api/ORDERS/7?token=abc&x=1");
  ASSERT_TRUE(s.run(R"(replace_all_patterns(attributes, "key", "^http\\.", "h."))").ok());
  EXPECT_NE(s.attr("h.route"), nullptr);
  EXPECT_EQ(s.attr("http.route"), nullptr);
  EXPECT_EQ(s.attr("h.status_code")->int_value(), 200);

  SpanItem m;
  ASSERT_TRUE(
      m.run(R"(replace_match(attributes["http.route"], "/api/*/{id}", "/api/{resource}/{id}"))")
          .ok());
  EXPECT_EQ(str(m.attr("http.route")), "/api/{resource}/{id}");
  ASSERT_TRUE(m.run(R"(replace_match(name, "POST *", "x"))").ok());
  EXPECT_EQ(m.span.name(), "GET /api/orders");
  ASSERT_TRUE(m.run(R"(replace_match(name, "GET ?api*", "get", SHA256))").ok());
  EXPECT_EQ(m.span.name(), sha256Hex("get"));

  SpanItem a;
  ASSERT_TRUE(a.run(R"(replace_all_matches(attributes, "https://*", "redacted"))").ok());
  EXPECT_EQ(str(a.attr("http.url")), "redacted");
  EXPECT_EQ(str(a.attr("http.route")), "/api/orders/{id}");
}

TEST(OttlEditors, TruncateAllAndLimit) {
  SpanItem s;
  testing::putString(s.span.mutable_attributes(), "utf8", "h\xc3\xa9llo");
  ASSERT_TRUE(s.run(R"(truncate_all(attributes, 2))").ok());
  EXPECT_EQ(str(s.attr("http.route")), "/a");
  EXPECT_EQ(str(s.attr("utf8")), "h");  // é is not cut in half
  EXPECT_EQ(s.attr("http.status_code")->int_value(), 200);

  SpanItem m;
  ASSERT_TRUE(m.run(R"(truncate_all(attributes, 6, false, "..."))").ok());
  EXPECT_EQ(str(m.attr("http.route")), "/ap...");

  SpanItem l;
  ASSERT_TRUE(l.run(R"(limit(attributes, 2, ["http.status_code"]))").ok());
  ASSERT_EQ(l.span.attributes_size(), 2);
  EXPECT_NE(l.attr("http.status_code"), nullptr);
  SpanItem l2;
  ASSERT_TRUE(l2.run(R"(limit(attributes, 10, []))").ok());
  EXPECT_EQ(l2.span.attributes_size(), 3);
}

TEST(OttlEditors, MergeMaps) {
  for (const auto& [strategy, route, added] :
       std::vector<std::tuple<std::string, std::string, bool>>{{"insert", "/api/orders/{id}", true},
                                                               {"update", "/new", false},
                                                               {"upsert", "/new", true}}) {
    SpanItem s;
    ASSERT_TRUE(
        s.run("merge_maps(attributes, "
              "ParseJSON(\"{\\\"http.route\\\":\\\"/new\\\",\\\"added\\\":\\\"y\\\"}\"), \"" +
              strategy + "\")")
            .ok());
    EXPECT_EQ(str(s.attr("http.route")), route) << strategy;
    EXPECT_EQ(s.attr("added") != nullptr, added) << strategy;
  }
}

TEST(OttlEditors, Flatten) {
  LogItem l;
  ASSERT_TRUE(
      l.run(
           R"(set(body, ParseJSON("{\"name\":\"test\",\"address\":{\"street\":\"first\",\"house\":1234},\"occupants\":[\"user 1\",\"user 2\"]}")))")
          .ok());
  ASSERT_TRUE(l.run(R"(flatten(body))").ok());
  std::map<std::string, std::string> got;
  for (const auto& kv : l.log.body().kvlist_value().values()) {
    got[kv.key()] = kv.value().has_string_value() ? kv.value().string_value()
                                                  : std::to_string(kv.value().double_value());
  }
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"name", "test"},
                                                     {"address.street", "first"},
                                                     {"address.house", "1234.000000"},
                                                     {"occupants.0", "user 1"},
                                                     {"occupants.1", "user 2"}}));
  LogItem p;
  ASSERT_TRUE(
      p.run(R"(set(body, ParseJSON("{\"0\":{\"1\":{\"2\":{\"3\":{\"4\":\"value\"}}}}}")))").ok());
  ASSERT_TRUE(p.run(R"(flatten(body, "app", 2))").ok());
  ASSERT_EQ(p.log.body().kvlist_value().values_size(), 1);
  EXPECT_EQ(p.log.body().kvlist_value().values(0).key(), "app.0.1.2");
  LogItem r;
  ASSERT_TRUE(
      r.run(
           R"(set(body, ParseJSON("{\"a\":{\"b\":\"first\"},\"a.b\":\"second\",\"o\":[\"u1\",\"u2\"]}")))")
          .ok());
  ASSERT_TRUE(r.run(R"(flatten(body, resolveConflicts=true))").ok());
  std::vector<std::string> keys;
  for (const auto& kv : r.log.body().kvlist_value().values()) keys.push_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a.b", "a.b.0", "o", "o.0"}));
}

// --- Converters --------------------------------------------------------------------------------

TEST(OttlConverters, Strings) {
  SpanItem s;
  ASSERT_TRUE(
      s.run(
           R"(set(attributes["c"], Concat([name, attributes["http.status_code"], 1.5, true, attributes["none"], span_id], "|")))")
          .ok());
  EXPECT_EQ(str(s.attr("c")), "GET /api/orders|200|1.5|true|<nil>|1112131415161718");
  EXPECT_TRUE(s.is(R"(ConvertCase(name, "upper") == "GET /API/ORDERS")"));
  EXPECT_TRUE(s.is(R"(ConvertCase(name, "lower") == "get /api/orders")"));
  EXPECT_TRUE(s.is(R"(ConvertCase("myMetricName", "snake") == "my_metric_name")"));
  EXPECT_TRUE(s.is(R"(ConvertCase("HTTPServerRequests", "snake") == "http_server_requests")"));
  EXPECT_TRUE(s.is(R"(ConvertCase("my_metric_name", "camel") == "MyMetricName")"));
  EXPECT_TRUE(s.is(R"(Substring("123456789", 0, 3) == "123" and Substring(name, 4, 4) == "/api")"));
  EXPECT_TRUE(s.is(R"(Split("a,b,,c", ",")[3] == "c" and Len(Split("a,b", ",")) == 2)"));
  EXPECT_TRUE(s.is(R"(Len(Split("héj", "")) == 3)"));
  EXPECT_TRUE(s.is(R"(IsMatch(name, "^GET") and not IsMatch(name, "^POST"))"));
  EXPECT_TRUE(s.is(R"(IsMatch(attributes["http.status_code"], "^2\\d\\d$"))"));  // as string
  EXPECT_FALSE(s.is(R"(IsMatch(attributes["missing"], ".*"))"));
  s.open();
  EXPECT_EQ(s.check(R"(Substring(name, 10, 10) == "")", Context::kSpan).status().message(),
            "column 1: Substring: range 10+10 is past the end of the string (15)");
  // A length near INT64_MAX is past the end too (b + n overflowed, and substr threw).
  EXPECT_EQ(s.check(R"(Substring(name, 3, 9223372036854775807) == "")", Context::kSpan)
                .status()
                .message(),
            "column 1: Substring: range 3+9223372036854775807 is past the end of the string (15)");
  EXPECT_EQ(s.check(R"(ConvertCase(attributes["http.status_code"], "upper") == "")", Context::kSpan)
                .status()
                .message(),
            "column 13: ConvertCase: expected a string, got int");
}

TEST(OttlConverters, TypesAndConversions) {
  SpanItem s;
  EXPECT_TRUE(s.is(R"(IsString(name) and not IsString(kind) and IsInt(kind) and not IsInt(name))"));
  EXPECT_TRUE(s.is(R"(IsMap(attributes) and not IsMap(name))"));
  EXPECT_TRUE(s.is(R"(Len(name) == 15 and Len(attributes) == 3)"));
  EXPECT_TRUE(s.is(R"(Int("42") == 42 and Int(3.9) == 3 and Int(true) == 1 and Int("x") == nil)"));
  EXPECT_TRUE(s.is(R"(Double("2.5") == 2.5 and Double(2) == 2.0 and Double(false) == 0.0)"));
  EXPECT_TRUE(s.is(R"(Double("nope") == nil)"));
  EXPECT_TRUE(s.is(R"(String(12) == "12" and String(true) == "true" and String(1.5) == "1.5")"));
  EXPECT_TRUE(
      s.is(R"(String(span_id) == "1112131415161718" and String(attributes["none"]) == nil)"));
  EXPECT_TRUE(s.is(R"(String(Split("a,b", ",")) == "[\"a\",\"b\"]")"));
  EXPECT_TRUE(s.is(
      R"(SHA256("name") == "82a3537ff0dbce7eec35d69edc3a189ee6f17d82f353a553f9aa96cb0be3ce89")"));
  EXPECT_TRUE(s.is(R"(FNV("name") == -4270347329889690746)"));
  EXPECT_TRUE(s.is(R"(ParseJSON("[1,\"a\"]")[1] == "a")"));
  EXPECT_TRUE(s.is(
      R"q(ExtractPatterns("GIT_SHA=abc123 x", "GIT_SHA=(?P<git_sha>\\w+)")["git_sha"] == "abc123")q"));
  EXPECT_TRUE(s.is(R"q(Len(ExtractPatterns("nothing", "x=(?P<x>\\w+)")) == 0)q"));
  EXPECT_TRUE(s.is(R"(TraceID("0102030405060708090a0b0c0d0e0f10") == trace_id)"));
  EXPECT_TRUE(
      s.is(R"(Duration("1h30m") == Duration("90m") and Duration("1.5s") > Duration("1s"))"));
  s.open();
  s.state.now_unix_nanos = 1700000000000000000;
  EXPECT_TRUE(*s.check(R"(UnixNano(Now()) == 1700000000000000000)", Context::kSpan));
  EXPECT_EQ(s.check(R"(SpanID("abc") == span_id)", Context::kSpan).status().message(),
            "column 1: SpanID: expects 8 bytes or 16 hex characters");
  EXPECT_EQ(s.check(R"(ParseJSON("{bad") == nil)", Context::kSpan).status().message().substr(0, 34),
            "column 1: ParseJSON: invalid JSON:");
  EXPECT_EQ(s.check(R"(Duration("5 parsecs") == nil)", Context::kSpan).status().message(),
            "column 1: unknown unit \" parsecs\" in duration \"5 parsecs\"");
}

TEST(OttlFunctionsImpl, GoReplaceSemantics) {
  re2::RE2 empty("x*");
  EXPECT_EQ(*replaceAllRegex(empty, "abc", "-"), "-a-b-c-");
  re2::RE2 a("a");
  EXPECT_EQ(replaceAllRegex(a, "bcd", "x"), std::nullopt);
  re2::RE2 groups("(a)(b)?");
  EXPECT_EQ(*replaceAllRegex(groups, "ac", "[$1|$2|$3|$x|${1}z|$1z]"), "[a||||az|]c");
  EXPECT_TRUE(globMatch("/user/*/list/*", "/user/12/list/34"));
  EXPECT_FALSE(globMatch("/user/*/list/*", "/users/12"));
  EXPECT_TRUE(globMatch("a?c[0-9][!x]\\*", "abc5y*"));
  EXPECT_EQ(*parseGoDuration("1h2m3.5s"), 3723500000000);
  EXPECT_EQ(*parseGoDuration("-2us"), -2000);
  EXPECT_EQ(*parseGoDuration("0"), 0);
  EXPECT_FALSE(parseGoDuration("1x").ok());
  EXPECT_EQ(asString(Value::ofDuration(3723500000000)), "1h2m3.5s");
}

TEST(OttlRobustness, DeepValuesAndOddInput) {
  SpanItem s;
  // A map nested beyond what values may hold is read as nothing rather than crashing.
  pb_common::AnyValue deep;
  pb_common::AnyValue* cur = &deep;
  for (int i = 0; i < 100; ++i) {
    auto* kv = cur->mutable_kvlist_value()->add_values();
    kv->set_key("k");
    cur = kv->mutable_value();
  }
  cur->set_string_value("bottom");
  auto* kv = s.span.add_attributes();
  kv->set_key("deep");
  *kv->mutable_value() = deep;
  testing::putString(s.span.mutable_attributes(), "empty", "");
  auto* bytes = s.span.add_attributes();
  bytes->set_key("bytes");
  bytes->mutable_value()->set_bytes_value("\xff\xfe");
  EXPECT_TRUE(s.is(R"(attributes["empty"] == "" and Len(attributes["empty"]) == 0)"));
  EXPECT_TRUE(s.is(R"(attributes["bytes"] == 0xfffe)"));
  // protobuf itself refuses to parse the result (too deep), so run without parsing it back.
  s.open();
  (void)s.check(R"(attributes["deep"]["k"]["k"] == nil)", Context::kSpan);
  (void)s.Base::run(R"(set(attributes["copy"], attributes["deep"]))", Context::kSpan);
  ASSERT_TRUE(s.Base::run(R"(truncate_all(attributes, 0))", Context::kSpan).ok());
  ASSERT_TRUE(
      s.Base::run(R"(replace_all_patterns(attributes, "value", "", "x"))", Context::kSpan).ok());
  std::string out;
  s.sp.edit.encode(out);
  EXPECT_FALSE(out.empty());
}

}  // namespace
}  // namespace otlpd::ottl
