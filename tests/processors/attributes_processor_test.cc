#include "processors/attributes/attributes_processor.h"

#include <gtest/gtest.h>

#include "editing_test_support.h"

namespace otlpd::processors {
namespace {

using namespace testing;  // NOLINT: the test support's builders

// Every action at once, applied to span, log record and data point attributes alike.
constexpr char kEveryAction[] = R"(actions:
  - {key: ins, value: 1, action: insert}
  - {key: upd, value: updated, action: update}
  - {key: ups, from_attribute: src, action: upsert}
  - {key: del, action: delete}
  - {pattern: '^tmp\.', action: delete}
  - {key: pii, action: hash}
  - {key: url, pattern: '^(?P<scheme>\w+)://', action: extract}
  - {key: code, action: convert, converted_type: int}
)";
const Attrs kItemIn = {{"upd", str("old")},
                       {"src", str("s")},
                       {"del", str("x")},
                       {"tmp.a", i64(1)},
                       {"pii", str("john.doe@example.com")},
                       {"url", str("https://x")},
                       {"code", str("404")},
                       {"keep", boolean(true)}};
constexpr char kItemOut[] =
    "upd=\"updated\" src=\"s\" "
    "pii=\"836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f\" url=\"https://x\" "
    "code=404 keep=true ins=1 ups=\"s\" scheme=\"https\"";

class AttributesProcessorTest : public ::testing::Test {
 protected:
  Made make(std::string_view yaml, Signal signal) { return makeProcessor(*factory_, yaml, signal); }
  std::unique_ptr<pipeline::ProcessorFactory> factory_ =
      attributes::makeAttributesProcessorFactory();
};

TEST_F(AttributesProcessorTest, EveryActionOnSpansButNotOnEventsOrResources) {
  Made made = make(kEveryAction, Signal::kTraces);
  otlp::TracesRequest in;
  auto* rs = in.add_resource_spans();
  setAttributes(rs->mutable_resource()->mutable_attributes(), kItemIn);
  auto* ss = rs->add_scope_spans();
  setAttributes(ss->mutable_scope()->mutable_attributes(), kItemIn);
  for (int i = 0; i < 2; ++i) {
    auto* span = ss->add_spans();
    span->set_name("op");
    span->set_trace_id(std::string(16, 'a'));
    span->set_span_id(std::string(8, static_cast<char>('b' + i)));
    setAttributes(span->mutable_attributes(), kItemIn);
    auto* event = span->add_events();
    event->set_name("exception");
    setAttributes(event->mutable_attributes(), kItemIn);
  }
  otlp::TracesRequest out = runTraces(made, in);
  ASSERT_EQ(out.resource_spans_size(), 1);
  const auto& out_ss = out.resource_spans(0).scope_spans(0);
  ASSERT_EQ(out_ss.spans_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(render(out_ss.spans(i).attributes()), kItemOut);
    // The Collector's attributes processor leaves span event attributes alone.
    EXPECT_EQ(render(out_ss.spans(i).events(0).attributes()), render(kItemIn));
    EXPECT_EQ(out_ss.spans(i).span_id(), in.resource_spans(0).scope_spans(0).spans(i).span_id());
  }
  EXPECT_EQ(render(out.resource_spans(0).resource().attributes()), render(kItemIn));
  EXPECT_EQ(render(out_ss.scope().attributes()), render(kItemIn));
}

TEST_F(AttributesProcessorTest, EveryActionOnLogRecords) {
  Made made = make(kEveryAction, Signal::kLogs);
  otlp::LogsRequest in;
  auto* rl = in.add_resource_logs();
  setAttributes(rl->mutable_resource()->mutable_attributes(), kItemIn);
  auto* record = rl->add_scope_logs()->add_log_records();
  record->mutable_body()->set_string_value("body");
  record->set_severity_text("INFO");
  setAttributes(record->mutable_attributes(), kItemIn);
  otlp::LogsRequest out = runLogs(made, in);
  const auto& out_record = out.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(render(out_record.attributes()), kItemOut);
  EXPECT_EQ(out_record.body().string_value(), "body");
  EXPECT_EQ(out_record.severity_text(), "INFO");
  EXPECT_EQ(render(out.resource_logs(0).resource().attributes()), render(kItemIn));
}

TEST_F(AttributesProcessorTest, EveryActionOnDataPointsOfEveryMetricType) {
  Made made = make(kEveryAction, Signal::kMetrics);
  otlp::MetricsRequest in;
  auto* rm = in.add_resource_metrics();
  setAttributes(rm->mutable_resource()->mutable_attributes(), kItemIn);
  auto* sm = rm->add_scope_metrics();
  auto* gauge = sm->add_metrics();
  gauge->set_name("gauge");
  for (int i = 0; i < 2; ++i) {
    auto* dp = gauge->mutable_gauge()->add_data_points();
    dp->set_as_double(1.5 + i);
    setAttributes(dp->mutable_attributes(), kItemIn);
  }
  auto* sum = sm->add_metrics();
  sum->set_name("sum");
  sum->mutable_sum()->set_is_monotonic(true);
  setAttributes(sum->mutable_sum()->add_data_points()->mutable_attributes(), kItemIn);
  auto* histogram = sm->add_metrics();
  histogram->set_name("histogram");
  auto* hdp = histogram->mutable_histogram()->add_data_points();
  hdp->set_count(3);
  hdp->add_bucket_counts(3);
  setAttributes(hdp->mutable_attributes(), kItemIn);
  auto* exponential = sm->add_metrics();
  exponential->set_name("exponential");
  setAttributes(
      exponential->mutable_exponential_histogram()->add_data_points()->mutable_attributes(),
      kItemIn);
  auto* summary = sm->add_metrics();
  summary->set_name("summary");
  setAttributes(summary->mutable_summary()->add_data_points()->mutable_attributes(), kItemIn);

  otlp::MetricsRequest out = runMetrics(made, in);
  const auto& out_sm = out.resource_metrics(0).scope_metrics(0);
  ASSERT_EQ(out_sm.metrics_size(), 5);
  ASSERT_EQ(out_sm.metrics(0).gauge().data_points_size(), 2);
  EXPECT_EQ(render(out_sm.metrics(0).gauge().data_points(0).attributes()), kItemOut);
  EXPECT_EQ(render(out_sm.metrics(0).gauge().data_points(1).attributes()), kItemOut);
  EXPECT_EQ(out_sm.metrics(0).gauge().data_points(1).as_double(), 2.5);
  EXPECT_EQ(render(out_sm.metrics(1).sum().data_points(0).attributes()), kItemOut);
  EXPECT_TRUE(out_sm.metrics(1).sum().is_monotonic());
  EXPECT_EQ(render(out_sm.metrics(2).histogram().data_points(0).attributes()), kItemOut);
  EXPECT_EQ(out_sm.metrics(2).histogram().data_points(0).count(), 3u);
  EXPECT_EQ(render(out_sm.metrics(3).exponential_histogram().data_points(0).attributes()),
            kItemOut);
  EXPECT_EQ(render(out_sm.metrics(4).summary().data_points(0).attributes()), kItemOut);
  EXPECT_EQ(render(out.resource_metrics(0).resource().attributes()), render(kItemIn));
}

// Traces of several services, one span per entry: {service, span name, attributes}.
struct SpanSpec {
  std::string service;
  std::string name;
  Attrs attrs;
};
otlp::TracesRequest traces(const std::vector<SpanSpec>& spans) {
  otlp::TracesRequest req;
  for (const SpanSpec& s : spans) {
    auto* rs = req.add_resource_spans();
    setAttributes(rs->mutable_resource()->mutable_attributes(), {{"service.name", str(s.service)}});
    auto* span = rs->add_scope_spans()->add_spans();
    span->set_name(s.name);
    setAttributes(span->mutable_attributes(), s.attrs);
  }
  return req;
}
std::vector<std::string> spanAttributes(const otlp::TracesRequest& req) {
  std::vector<std::string> out;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) out.push_back(render(span.attributes()));
    }
  }
  return out;
}

constexpr char kDeleteActions[] = R"(
actions:
  - key: credit_card
    action: delete
  - key: duplicate_key
    action: delete
)";

TEST_F(AttributesProcessorTest, CollectorExampleExcludeMulti) {
  Made made = make(std::string(R"(
exclude:
  match_type: strict
  services: ["svcA", "svcB"]
  attributes:
    - {key: env, value: "dev"}
    - {key: test_request}
)") + kDeleteActions,
                   Signal::kTraces);
  otlp::TracesRequest out = runTraces(
      made,
      traces({{"svcB",
               "s1",
               {{"env", str("dev")}, {"test_request", i64(123)}, {"credit_card", i64(1234)}}},
              {"svcA", "s2", {{"env", str("dev")}, {"test_request", boolean(false)}}},
              {"svcB",
               "s3",
               {{"env", i64(1)}, {"test_request", str("dev")}, {"credit_card", i64(1234)}}},
              {"svcC",
               "s4",
               {{"env", str("dev")}, {"test_request", boolean(false)}, {"credit_card", i64(1)}}}}));
  EXPECT_EQ(spanAttributes(out),
            (std::vector<std::string>{
                "env=\"dev\" test_request=123 credit_card=1234", "env=\"dev\" test_request=false",
                "env=1 test_request=\"dev\"", "env=\"dev\" test_request=false"}));
}

TEST_F(AttributesProcessorTest, CollectorExampleIncludeServicesRegexp) {
  Made made = make(std::string(R"(
include:
  match_type: regexp
  services: ["auth.*", "login.*"]
)") + kDeleteActions,
                   Signal::kTraces);
  otlp::TracesRequest out =
      runTraces(made, traces({{"authsvc", "a", {{"credit_card", i64(1)}, {"x", i64(1)}}},
                              {"loginsvc", "b", {{"duplicate_key", i64(1)}}},
                              {"shop", "c", {{"credit_card", i64(1)}}}}));
  EXPECT_EQ(spanAttributes(out), (std::vector<std::string>{"x=1", "", "credit_card=1"}));
}

TEST_F(AttributesProcessorTest, CollectorExampleSelectiveProcessing) {
  Made made = make(std::string(R"(
include:
  match_type: strict
  services: ["svcA", "svcB"]
exclude:
  match_type: strict
  attributes:
    - { key: redact_trace, value: false}
)") + kDeleteActions,
                   Signal::kTraces);
  otlp::TracesRequest out = runTraces(
      made,
      traces({{"svcB",
               "1",
               {{"env", str("production")},
                {"credit_card", i64(1234)},
                {"redact_trace", str("false")}}},
              {"svcA",
               "2",
               {{"env", str("staging")}, {"redact_trace", boolean(true)}, {"credit_card", i64(1)}}},
              {"svcB",
               "3",
               {{"env", str("production")},
                {"credit_card", i64(1234)},
                {"redact_trace", boolean(false)}}},
              {"svcC", "4", {{"env", str("dev")}, {"credit_card", i64(1)}}}}));
  EXPECT_EQ(
      spanAttributes(out),
      (std::vector<std::string>{
          "env=\"production\" redact_trace=\"false\"", "env=\"staging\" redact_trace=true",
          "env=\"production\" credit_card=1234 redact_trace=false", "env=\"dev\" credit_card=1"}));
}

TEST_F(AttributesProcessorTest, CollectorExampleRegexpServicesAndSpanNames) {
  Made made = make(R"(
include:
  match_type: regexp
  services: ["auth.*"]
exclude:
  match_type: regexp
  span_names: ["login.*"]
actions:
  - key: password
    action: update
    value: "obfuscated"
  - key: token
    action: delete
)",
                   Signal::kTraces);
  otlp::TracesRequest out =
      runTraces(made, traces({{"auth", "verify", {{"password", str("pw")}, {"token", str("t")}}},
                              {"auth", "login", {{"password", str("pw")}, {"token", str("t")}}},
                              {"shop", "verify", {{"password", str("pw")}, {"token", str("t")}}}}));
  EXPECT_EQ(spanAttributes(out),
            (std::vector<std::string>{"password=\"obfuscated\"", "password=\"pw\" token=\"t\"",
                                      "password=\"pw\" token=\"t\""}));
}

TEST_F(AttributesProcessorTest, CollectorExampleExcludeResourcesAndLibraries) {
  Made by_resource = make(std::string(R"(
exclude:
  match_type: strict
  resources:
    - {key: host.type, value: "n1-standard-1"}
)") + kDeleteActions,
                          Signal::kTraces);
  Made by_library = make(std::string(R"(
exclude:
  match_type: strict
  libraries:
    - {name: "mongo-java-driver", version: "3.8.0"}
)") + kDeleteActions,
                         Signal::kTraces);
  otlp::TracesRequest in;
  for (const char* host : {"n1-standard-1", "n2-standard-4"}) {
    auto* rs = in.add_resource_spans();
    setAttributes(rs->mutable_resource()->mutable_attributes(), {{"host.type", str(host)}});
    for (const char* version : {"3.8.0", "4.0.0"}) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("mongo-java-driver");
      ss->mutable_scope()->set_version(version);
      setAttributes(ss->add_spans()->mutable_attributes(), {{"credit_card", i64(1)}});
    }
  }
  EXPECT_EQ(spanAttributes(runTraces(by_resource, in)),
            (std::vector<std::string>{"credit_card=1", "credit_card=1", "", ""}));
  EXPECT_EQ(spanAttributes(runTraces(by_library, in)),
            (std::vector<std::string>{"credit_card=1", "", "credit_card=1", ""}));
}

TEST_F(AttributesProcessorTest, SpanKindsAndAttributeRegexp) {
  Made made = make(R"(
include:
  match_type: regexp
  span_kinds: [SERVER]
  attributes:
    - {key: db.statement, value: 'SELECT \* FROM USERS.*'}
actions:
  - key: db.statement
    action: update
    value: "SELECT * FROM USERS [obfuscated]"
)",
                   Signal::kTraces);
  otlp::TracesRequest in;
  auto* ss = in.add_resource_spans()->add_scope_spans();
  for (int kind : {2, 3}) {
    auto* span = ss->add_spans();
    span->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(kind));
    setAttributes(span->mutable_attributes(),
                  {{"db.statement", str("SELECT * FROM USERS WHERE id = 7")}});
  }
  EXPECT_EQ(spanAttributes(runTraces(made, in)),
            (std::vector<std::string>{"db.statement=\"SELECT * FROM USERS [obfuscated]\"",
                                      "db.statement=\"SELECT * FROM USERS WHERE id = 7\""}));
}

otlp::LogsRequest logs(const std::vector<std::pair<std::string, std::string>>& body_and_severity) {
  otlp::LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  for (const auto& [body, severity] : body_and_severity) {
    auto* r = sl->add_log_records();
    r->mutable_body()->set_string_value(body);
    r->set_severity_text(severity);
    setAttributes(r->mutable_attributes(), {{"password", str("pw")}, {"token", str("t")}});
  }
  return req;
}
std::vector<std::string> logAttributes(const otlp::LogsRequest& req) {
  std::vector<std::string> out;
  for (const auto& record : req.resource_logs(0).scope_logs(0).log_records()) {
    out.push_back(render(record.attributes()));
  }
  return out;
}

constexpr char kObfuscate[] = R"(
actions:
  - key: password
    action: update
    value: "obfuscated"
  - key: token
    action: delete
)";

TEST_F(AttributesProcessorTest, CollectorExampleLogBodyRegexp) {
  Made made =
      make(std::string("include:\n  match_type: regexp\n  log_bodies: [\"AUTH.*\"]\n") + kObfuscate,
           Signal::kLogs);
  EXPECT_EQ(logAttributes(runLogs(made, logs({{"AUTH failed", "info"}, {"GET /", "info"}}))),
            (std::vector<std::string>{"password=\"obfuscated\"", "password=\"pw\" token=\"t\""}));
}

TEST_F(AttributesProcessorTest, CollectorExampleLogSeverityRegexp) {
  Made made =
      make(std::string("include:\n  match_type: regexp\n  log_severity_texts: [\"debug.*\"]\n") +
               kObfuscate,
           Signal::kLogs);
  EXPECT_EQ(logAttributes(runLogs(made, logs({{"a", "debug2"}, {"b", "info"}}))),
            (std::vector<std::string>{"password=\"obfuscated\"", "password=\"pw\" token=\"t\""}));
}

TEST_F(AttributesProcessorTest, LogSeverityNumber) {
  Made made = make(std::string("exclude:\n  match_type: strict\n  log_severity_number: {min: "
                               "WARN, match_undefined: true}\n") +
                       kObfuscate,
                   Signal::kLogs);
  otlp::LogsRequest in = logs({{"a", ""}, {"b", ""}, {"c", ""}});
  auto* records = in.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records();
  records->Mutable(0)->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_INFO);
  records->Mutable(1)->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(logAttributes(runLogs(made, in)),
            (std::vector<std::string>{"password=\"obfuscated\"", "password=\"pw\" token=\"t\"",
                                      "password=\"pw\" token=\"t\""}));
}

TEST_F(AttributesProcessorTest, MetricNamesSelectWhichMetricsPointsChange) {
  Made made = make(R"(
include:
  match_type: strict
  metric_names: [http.server.duration]
actions:
  - {key: http.route, action: delete}
)",
                   Signal::kMetrics);
  otlp::MetricsRequest in;
  auto* sm = in.add_resource_metrics()->add_scope_metrics();
  for (const char* name : {"http.server.duration", "rpc.server.duration"}) {
    auto* m = sm->add_metrics();
    m->set_name(name);
    setAttributes(m->mutable_histogram()->add_data_points()->mutable_attributes(),
                  {{"http.route", str("/a")}, {"code", i64(200)}});
  }
  otlp::MetricsRequest out = runMetrics(made, in);
  const auto& metrics = out.resource_metrics(0).scope_metrics(0).metrics();
  EXPECT_EQ(render(metrics[0].histogram().data_points(0).attributes()), "code=200");
  EXPECT_EQ(render(metrics[1].histogram().data_points(0).attributes()),
            "http.route=\"/a\" code=200");
}

TEST_F(AttributesProcessorTest, MetricResourcesSelectWhichResourcesPointsChange) {
  Made made = make(R"(
exclude:
  match_type: strict
  resources: [{key: env, value: test}]
actions:
  - {key: a, action: delete}
)",
                   Signal::kMetrics);
  otlp::MetricsRequest in;
  for (const char* env : {"test", "prod"}) {
    auto* rm = in.add_resource_metrics();
    setAttributes(rm->mutable_resource()->mutable_attributes(), {{"env", str(env)}});
    auto* m = rm->add_scope_metrics()->add_metrics();
    m->set_name("m");
    setAttributes(m->mutable_gauge()->add_data_points()->mutable_attributes(), {{"a", i64(1)}});
  }
  otlp::MetricsRequest out = runMetrics(made, in);
  EXPECT_EQ(
      render(
          out.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0).attributes()),
      "a=1");
  EXPECT_EQ(
      render(
          out.resource_metrics(1).scope_metrics(0).metrics(0).gauge().data_points(0).attributes()),
      "");
}

TEST_F(AttributesProcessorTest, NothingToChangeForwardsTheBatchAsItWas) {
  Made made = make("actions: [{key: absent, action: delete}]", Signal::kTraces);
  otlp::TracesRequest in = traces({{"svc", "op", {{"a", i64(1)}}}});
  otlp::TracesRequest out = runTraces(made, in);
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString());
}

TEST_F(AttributesProcessorTest, ConfigErrors) {
  EXPECT_EQ(configErrors(*factory_, "{}"),
            "processors.attributes.actions (line 1:1): missing required field \"actions\"");
  // Which match properties a signal takes depends on the pipeline it is in.
  const char* services =
      "include: {match_type: strict, services: [a]}\n"
      "actions: [{key: a, action: delete}]";
  EXPECT_EQ(configErrors(*factory_, services, Signal::kTraces), "");
  EXPECT_NE(configErrors(*factory_, services, Signal::kLogs)
                .find("processors.attributes.include (line 1:10): services, span_names, "
                      "span_kinds and metric_names are not valid for log records"),
            std::string::npos);
  EXPECT_NE(configErrors(*factory_, services, Signal::kMetrics).find("not valid for metrics"),
            std::string::npos);
  EXPECT_NE(configErrors(*factory_,
                         "exclude: {match_type: strict}\nactions: [{key: a, action: "
                         "delete}]")
                .find("processors.attributes.exclude"),
            std::string::npos);
  EXPECT_NE(configErrors(*factory_, "actions: [{key: a, action: delete}]\nincludes: {}")
                .find("processors.attributes.includes (line 2:1): unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace otlpd::processors
