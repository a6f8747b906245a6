#include "processors/common/match_properties.h"

#include <gtest/gtest.h>

#include "editing_test_support.h"

namespace otlpd::processors {
namespace {

using testing::Attrs;
using testing::boolean;
using testing::dbl;
using testing::i64;
using testing::setAttributes;
using testing::str;
namespace fields = otlp::fields;

// A message's bytes kept alive beside the edit view over them.
struct Opened {
  std::string bytes;
  otlp::MessageEdit edit;
};
std::unique_ptr<Opened> open(const google::protobuf::Message& m, uint32_t attributes_field) {
  auto o = std::make_unique<Opened>();
  o->bytes = m.SerializeAsString();
  EXPECT_EQ(o->edit.open(o->bytes, attributes_field), otlp::wire::Stop::kNone);
  return o;
}

struct Parsed {
  std::optional<MatchProperties> properties;
  std::string errors;
};
Parsed parse(std::string_view yaml, pipeline::Signal signal = pipeline::Signal::kTraces) {
  config::ConfigErrors errors;
  auto node = config::parseYaml(yaml, "test");
  EXPECT_TRUE(node.ok());
  config::ConfigNode cfg(*node, "processors.attributes.include", errors);
  Parsed p{MatchProperties::read(cfg, signal), ""};
  p.errors = errors.toString();
  return p;
}

std::unique_ptr<Opened> resource(const Attrs& attrs) {
  otlp::pb_resource::Resource r;
  setAttributes(r.mutable_attributes(), attrs);
  return open(r, fields::kResourceAttributes);
}
std::unique_ptr<Opened> scope(std::string name, std::optional<std::string> version) {
  otlp::pb_common::InstrumentationScope s;
  s.set_name(std::move(name));
  if (version) s.set_version(*version);
  return open(s, fields::kScopeAttributes);
}
std::unique_ptr<Opened> span(std::string name, int kind, const Attrs& attrs) {
  otlp::pb_trace::Span s;
  s.set_name(std::move(name));
  s.set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(kind));
  setAttributes(s.mutable_attributes(), attrs);
  return open(s, fields::kSpanAttributes);
}
std::unique_ptr<Opened> logRecord(otlp::pb_common::AnyValue body, std::string severity_text,
                                  int severity_number, const Attrs& attrs) {
  otlp::pb_logs::LogRecord r;
  *r.mutable_body() = std::move(body);
  r.set_severity_text(std::move(severity_text));
  r.set_severity_number(static_cast<otlp::pb_logs::SeverityNumber>(severity_number));
  setAttributes(r.mutable_attributes(), attrs);
  return open(r, fields::kLogAttributes);
}
std::unique_ptr<Opened> metric(std::string name) {
  otlp::pb_metrics::Metric m;
  m.set_name(std::move(name));
  m.mutable_gauge()->add_data_points()->set_as_int(1);
  return open(m, 0);
}

TEST(MatchPropertiesTest, ServicesStrictAndRegexp) {
  auto strict = parse("match_type: strict\nservices: [svcA, svcB]");
  ASSERT_TRUE(strict.properties) << strict.errors;
  EXPECT_TRUE(strict.properties->matchesResource(resource({{"service.name", str("svcA")}})->edit));
  EXPECT_FALSE(strict.properties->matchesResource(resource({{"service.name", str("svcC")}})->edit));
  EXPECT_FALSE(
      strict.properties->matchesResource(resource({{"service.name", str("svcAA")}})->edit));
  // A resource without service.name is "<nil-service-name>".
  auto nil = parse("match_type: strict\nservices: ['<nil-service-name>']");
  EXPECT_TRUE(nil.properties->matchesResource(resource({})->edit));

  auto re = parse("match_type: regexp\nservices: ['auth.*', 'login.*']");
  ASSERT_TRUE(re.properties) << re.errors;
  EXPECT_TRUE(re.properties->matchesResource(resource({{"service.name", str("authsvc")}})->edit));
  // Go's MatchString finds the pattern anywhere.
  EXPECT_TRUE(re.properties->matchesResource(resource({{"service.name", str("my-login")}})->edit));
  EXPECT_FALSE(re.properties->matchesResource(resource({{"service.name", str("shop")}})->edit));
}

TEST(MatchPropertiesTest, SpanNamesAndKinds) {
  auto names = parse("match_type: regexp\nspan_names: ['^login']");
  ASSERT_TRUE(names.properties);
  EXPECT_TRUE(names.properties->matchesSpan(span("login user", 1, {})->edit));
  EXPECT_FALSE(names.properties->matchesSpan(span("user login", 1, {})->edit));

  auto kinds = parse("match_type: strict\nspan_kinds: [SPAN_KIND_SERVER, SPAN_KIND_CONSUMER]");
  ASSERT_TRUE(kinds.properties) << kinds.errors;
  EXPECT_TRUE(kinds.properties->matchesSpan(span("a", 2, {})->edit));
  EXPECT_TRUE(kinds.properties->matchesSpan(span("a", 5, {})->edit));
  EXPECT_FALSE(kinds.properties->matchesSpan(span("a", 3, {})->edit));
  EXPECT_FALSE(kinds.properties->matchesSpan(span("a", 0, {})->edit));

  auto kinds_re = parse("match_type: regexp\nspan_kinds: ['CLIENT|PRODUCER']");
  ASSERT_TRUE(kinds_re.properties);
  EXPECT_TRUE(kinds_re.properties->matchesSpan(span("a", 3, {})->edit));
  EXPECT_TRUE(kinds_re.properties->matchesSpan(span("a", 4, {})->edit));
  EXPECT_FALSE(kinds_re.properties->matchesSpan(span("a", 1, {})->edit));
}

TEST(MatchPropertiesTest, AttributesStrictCompareTypeAndValue) {
  auto p = parse(R"(match_type: strict
attributes:
  - {key: env, value: dev}
  - {key: test_request}
  - {key: code, value: 123}
)");
  ASSERT_TRUE(p.properties) << p.errors;
  auto& mp = *p.properties;
  EXPECT_TRUE(mp.matchesSpan(
      span("s", 1, {{"env", str("dev")}, {"test_request", boolean(false)}, {"code", i64(123)}})
          ->edit));
  // 123 must be an int, "dev" a string; every listed attribute must be there.
  EXPECT_FALSE(mp.matchesSpan(
      span("s", 1, {{"env", str("dev")}, {"test_request", i64(1)}, {"code", str("123")}})->edit));
  EXPECT_FALSE(mp.matchesSpan(span("s", 1, {{"env", str("dev")}, {"code", i64(123)}})->edit));
  EXPECT_FALSE(mp.matchesSpan(span("s", 1, {})->edit));

  auto d =
      parse("match_type: strict\nattributes: [{key: ratio, value: 0.5}, {key: ok, value: false}]");
  ASSERT_TRUE(d.properties);
  EXPECT_TRUE(
      d.properties->matchesSpan(span("s", 1, {{"ratio", dbl(0.5)}, {"ok", boolean(false)}})->edit));
  EXPECT_FALSE(
      d.properties->matchesSpan(span("s", 1, {{"ratio", dbl(0.5)}, {"ok", str("false")}})->edit));
}

TEST(MatchPropertiesTest, AttributesRegexpMatchValuesAsStrings) {
  auto p = parse(R"(match_type: regexp
attributes:
  - {key: db.statement, value: 'SELECT \* FROM USERS.*'}
)");
  ASSERT_TRUE(p.properties) << p.errors;
  EXPECT_TRUE(p.properties->matchesSpan(
      span("s", 1, {{"db.statement", str("SELECT * FROM USERS WHERE id=1")}})->edit));
  EXPECT_FALSE(p.properties->matchesSpan(
      span("s", 1, {{"db.statement", str("SELECT * FROM ORDERS")}})->edit));

  // Ints, doubles and bools are matched as Go formats them; other kinds never match.
  auto n = parse("match_type: regexp\nattributes: [{key: v, value: '^(200|true|0\\.5)$'}]");
  ASSERT_TRUE(n.properties) << n.errors;
  EXPECT_TRUE(n.properties->matchesSpan(span("s", 1, {{"v", i64(200)}})->edit));
  EXPECT_TRUE(n.properties->matchesSpan(span("s", 1, {{"v", boolean(true)}})->edit));
  EXPECT_TRUE(n.properties->matchesSpan(span("s", 1, {{"v", dbl(0.5)}})->edit));
  EXPECT_FALSE(n.properties->matchesSpan(span("s", 1, {{"v", testing::bytes("200")}})->edit));
}

TEST(MatchPropertiesTest, ResourcesAndLibraries) {
  auto r = parse("match_type: strict\nresources: [{key: host.type, value: n1-standard-1}]");
  ASSERT_TRUE(r.properties) << r.errors;
  EXPECT_TRUE(r.properties->matchesResource(resource({{"host.type", str("n1-standard-1")}})->edit));
  EXPECT_FALSE(r.properties->matchesResource(resource({{"host.type", str("n2")}})->edit));
  EXPECT_FALSE(r.properties->matchesResource(resource({})->edit));

  // Version: absent matches any, "" only an empty version, a value only itself.
  auto any = parse("match_type: strict\nlibraries: [{name: mongo-java-driver}]");
  auto empty = parse("match_type: strict\nlibraries: [{name: mongo-java-driver, version: ''}]");
  auto v = parse("match_type: strict\nlibraries: [{name: mongo-java-driver, version: 3.8.0}]");
  ASSERT_TRUE(any.properties && empty.properties && v.properties);
  auto blank = scope("mongo-java-driver", std::nullopt);
  auto v380 = scope("mongo-java-driver", "3.8.0");
  auto other = scope("jdbc", "3.8.0");
  EXPECT_TRUE(any.properties->matchesScope(blank->edit));
  EXPECT_TRUE(any.properties->matchesScope(v380->edit));
  EXPECT_FALSE(any.properties->matchesScope(other->edit));
  EXPECT_TRUE(empty.properties->matchesScope(blank->edit));
  EXPECT_FALSE(empty.properties->matchesScope(v380->edit));
  EXPECT_FALSE(v.properties->matchesScope(blank->edit));
  EXPECT_TRUE(v.properties->matchesScope(v380->edit));
}

TEST(MatchPropertiesTest, LogBodiesSeverityTextAndNumber) {
  using pipeline::Signal;
  auto bodies = parse("match_type: regexp\nlog_bodies: ['AUTH.*']", Signal::kLogs);
  ASSERT_TRUE(bodies.properties) << bodies.errors;
  EXPECT_TRUE(bodies.properties->matchesLogRecord(logRecord(str("AUTH ok"), "", 0, {})->edit));
  EXPECT_FALSE(bodies.properties->matchesLogRecord(logRecord(str("auth ok"), "", 0, {})->edit));
  // Bodies of other kinds are matched as their string form.
  auto n = parse("match_type: strict\nlog_bodies: ['42']", Signal::kLogs);
  EXPECT_TRUE(n.properties->matchesLogRecord(logRecord(i64(42), "", 0, {})->edit));

  auto texts = parse("match_type: regexp\nlog_severity_texts: ['debug.*']", Signal::kLogs);
  ASSERT_TRUE(texts.properties);
  EXPECT_TRUE(texts.properties->matchesLogRecord(logRecord(str(""), "debug2", 6, {})->edit));
  EXPECT_FALSE(texts.properties->matchesLogRecord(logRecord(str(""), "info", 9, {})->edit));

  auto number = parse("match_type: strict\nlog_severity_number: {min: WARN, match_undefined: true}",
                      Signal::kLogs);
  ASSERT_TRUE(number.properties) << number.errors;
  EXPECT_TRUE(number.properties->matchesLogRecord(logRecord(str(""), "", 13, {})->edit));
  EXPECT_TRUE(number.properties->matchesLogRecord(logRecord(str(""), "", 21, {})->edit));
  EXPECT_FALSE(number.properties->matchesLogRecord(logRecord(str(""), "", 9, {})->edit));
  EXPECT_TRUE(number.properties->matchesLogRecord(logRecord(str(""), "", 0, {})->edit));
  auto number9 = parse("match_type: strict\nlog_severity_number: {min: 9}", Signal::kLogs);
  ASSERT_TRUE(number9.properties) << number9.errors;
  EXPECT_TRUE(number9.properties->matchesLogRecord(logRecord(str(""), "", 9, {})->edit));
  EXPECT_FALSE(number9.properties->matchesLogRecord(logRecord(str(""), "", 0, {})->edit));
  EXPECT_EQ(parseSeverityNumber("info2"), 10);
  EXPECT_EQ(parseSeverityNumber("FATAL4"), 24);
  EXPECT_EQ(parseSeverityNumber("LOUD"), std::nullopt);
  EXPECT_EQ(parseSeverityNumber("25"), std::nullopt);
}

TEST(MatchPropertiesTest, MetricNames) {
  auto p = parse("match_type: regexp\nmetric_names: ['^http\\.']", pipeline::Signal::kMetrics);
  ASSERT_TRUE(p.properties) << p.errors;
  EXPECT_TRUE(p.properties->matchesMetric(metric("http.server.duration")->edit));
  EXPECT_FALSE(p.properties->matchesMetric(metric("rpc.server.duration")->edit));
}

TEST(MatchPropertiesTest, IncludeThenExclude) {
  config::ConfigErrors errors;
  auto node = config::parseYaml(R"(
include: {match_type: strict, services: [svcA, svcB]}
exclude: {match_type: strict, attributes: [{key: redact_trace, value: false}]}
)",
                                "t");
  config::ConfigNode cfg(*node, "processors.attributes", errors);
  MatchConfig match = MatchConfig::read(cfg, pipeline::Signal::kTraces);
  ASSERT_TRUE(errors.empty()) << errors.toString();
  ASSERT_FALSE(match.empty());
  auto process = [&](std::string service, const Attrs& attrs) {
    MatchConfig::Cursor cursor(match);
    auto r = resource({{"service.name", str(std::move(service))}});
    auto s = scope("lib", std::nullopt);
    cursor.enterResource(r->edit);
    cursor.enterScope(s->edit);
    return cursor.processSpan(span("op", 1, attrs)->edit);
  };
  // The Collector's attributes/selectiveprocessing example.
  EXPECT_TRUE(process("svcB", {{"env", str("production")}, {"redact_trace", str("false")}}));
  EXPECT_TRUE(process("svcA", {{"env", str("staging")}, {"redact_trace", boolean(true)}}));
  EXPECT_FALSE(process("svcB", {{"env", str("production")}, {"redact_trace", boolean(false)}}));
  EXPECT_FALSE(process("svcC", {{"env", str("dev")}}));

  config::ConfigNode none(*config::parseYaml("{}", "t"), "p", errors);
  EXPECT_TRUE(MatchConfig::read(none, pipeline::Signal::kTraces).empty());
}

TEST(MatchPropertiesTest, ConfigErrorsPerSignal) {
  using pipeline::Signal;
  auto error = [](std::string_view yaml, Signal signal) { return parse(yaml, signal).errors; };
  EXPECT_NE(error("match_type: strict\nlog_bodies: [a]", Signal::kTraces)
                .find("log_bodies should not be specified for trace spans"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nmetric_names: [a]", Signal::kTraces)
                .find("metric_names should not be specified"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nlog_severity_number: {min: 1}", Signal::kTraces)
                .find("log_severity_number should not"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict", Signal::kTraces).find("at least one of"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nspan_kinds: [server]", Signal::kTraces)
                .find("span_kinds string must match one of the standard span kinds"),
            std::string::npos);
  EXPECT_EQ(error("match_type: regexp\nspan_kinds: [server]", Signal::kTraces), "");
  EXPECT_NE(error("match_type: strict\nservices: [a]", Signal::kLogs)
                .find("are not valid for log records"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nlog_bodies: []", Signal::kLogs).find("at least one of"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nattributes: [{key: a}]", Signal::kMetrics)
                .find("are not valid for metrics"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nlibraries: [{name: a}]", Signal::kMetrics)
                .find("are not valid for metrics"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict", Signal::kMetrics)
                .find("at least one of \"metric_names\" or \"resources\""),
            std::string::npos);
  EXPECT_EQ(error("match_type: strict\nresources: [{key: a}]", Signal::kMetrics), "");
  EXPECT_NE(error("match_type: exact\nservices: [a]", Signal::kTraces)
                .find("unrecognized match_type: 'exact', valid types are: [regexp strict]"),
            std::string::npos);
  EXPECT_NE(error("services: [a]", Signal::kTraces).find("unrecognized match_type: ''"),
            std::string::npos);
  EXPECT_NE(error("match_type: regexp\nspan_names: ['(']", Signal::kTraces)
                .find("include.span_names (line 2:"),
            std::string::npos);
  EXPECT_NE(error("match_type: regexp\nattributes: [{key: a, value: 1}]", Signal::kTraces)
                .find("only supports Str"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nattributes: [{value: 1}]", Signal::kTraces)
                .find("can't have empty key"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nservices: [a]\nspan_name: [b]", Signal::kTraces)
                .find("include.span_name (line 3:1): unknown key"),
            std::string::npos);
  EXPECT_NE(error("match_type: strict\nlog_severity_number: {min: LOUD}", Signal::kLogs)
                .find("unknown severity"),
            std::string::npos);
  EXPECT_EQ(error("match_type: regexp\nregexp: {cacheenabled: true, cachemaxnumentries: 10}\n"
                  "services: [a]",
                  Signal::kTraces),
            "");
}

}  // namespace
}  // namespace otlpd::processors
