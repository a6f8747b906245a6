// The transform processor on the Collector's documented examples (its README's configuration),
// on all three signals: flat statement lists with inferred contexts, groups with contexts and
// conditions, resource contexts, error modes, and config errors.
#include "processors/transform/transform_processor.h"

#include <gtest/gtest.h>

#include "ottl_processor_support.h"

namespace otlpd::processors::transform {
namespace {

using ottl_testing::find;
using ottl_testing::ProcessorHarness;
using ottl_testing::putString;
namespace pb_logs = otlp::pb_logs;
namespace pb_metrics = otlp::pb_metrics;

TEST(TransformProcessor, ReadmeTraceStatements) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
error_mode: ignore
trace_statements:
  - keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
  - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
  - limit(span.attributes, 100, [])
  - truncate_all(span.attributes, 4096)
)yaml",
                     pipeline::Signal::kTraces);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();
  otlp::TracesRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_name("run");
  putString(span->mutable_attributes(), "service.name", "app");
  putString(span->mutable_attributes(), "http.method", "GET");
  putString(span->mutable_attributes(), "process.command_line",
            "app --user=bob --password=hunter2 --verbose");
  putString(span->mutable_attributes(), "cloud.region", std::string(5000, 'r'));
  ottl_testing::Run r = h.run(req, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const auto& attrs = r.out->traces().resource_spans(0).scope_spans(0).spans(0).attributes();
  ASSERT_EQ(attrs.size(), 3);
  EXPECT_EQ(find(attrs, "http.method"), nullptr);
  EXPECT_EQ(find(attrs, "process.command_line")->string_value(),
            "app --user=bob --password=***--verbose");
  EXPECT_EQ(find(attrs, "cloud.region")->string_value().size(), 4096u);
}

TEST(TransformProcessor, ReadmeMetricStatements) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
metric_statements:
  - context: resource
    statements:
      - keep_keys(resource.attributes, ["host.name"])
      - truncate_all(resource.attributes, 4096)
  - context: metric
    statements:
      - set(metric.description, "Sum") where metric.type == METRIC_DATA_TYPE_SUM
      - set(metric.unit, "1") where metric.name == "system.processes.count"
  - context: datapoint
    conditions:
      - metric.name == "system.processes.count"
    statements:
      - set(datapoint.attributes["status"], "running")
      - set(value_int, value_int * 2)
)yaml",
                     pipeline::Signal::kMetrics);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();
  otlp::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  putString(rm->mutable_resource()->mutable_attributes(), "host.name", "h1");
  putString(rm->mutable_resource()->mutable_attributes(), "os.type", "linux");
  auto* sm = rm->add_scope_metrics();
  auto* count = sm->add_metrics();
  count->set_name("system.processes.count");
  count->mutable_sum()->add_data_points()->set_as_int(21);
  auto* gauge = sm->add_metrics();
  gauge->set_name("system.cpu.utilization");
  gauge->mutable_gauge()->add_data_points()->set_as_double(0.5);
  ottl_testing::Run r = h.run(req, 2);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const auto& out_rm = r.out->metrics().resource_metrics(0);
  ASSERT_EQ(out_rm.resource().attributes_size(), 1);
  EXPECT_EQ(out_rm.resource().attributes(0).key(), "host.name");
  const auto& metrics = out_rm.scope_metrics(0).metrics();
  EXPECT_EQ(metrics[0].description(), "Sum");
  EXPECT_EQ(metrics[0].unit(), "1");
  EXPECT_EQ(metrics[0].sum().data_points(0).as_int(), 42);
  EXPECT_EQ(find(metrics[0].sum().data_points(0).attributes(), "status")->string_value(),
            "running");
  EXPECT_EQ(metrics[1].description(), "");
  EXPECT_EQ(metrics[1].gauge().data_points(0).attributes_size(), 0);
}

TEST(TransformProcessor, ReadmeLogStatements) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
log_statements:
  - context: resource
    statements:
      - keep_keys(resource.attributes, ["service.name", "service.namespace", "cloud.region"])
  - context: log
    error_mode: ignore
    statements:
      - set(log.body, log.attributes["http.route"])
      - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
      - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
      - set(log.attributes["severity"], ConvertCase(log.severity_text, "lower"))
)yaml",
                     pipeline::Signal::kLogs);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();
  otlp::LogsRequest req;
  auto* rl = req.add_resource_logs();
  putString(rl->mutable_resource()->mutable_attributes(), "service.name", "api");
  putString(rl->mutable_resource()->mutable_attributes(), "k8s.pod.uid", "1234");
  auto* log = rl->add_scope_logs()->add_log_records();
  log->set_severity_text("WARN");
  log->mutable_body()->set_string_value("request");
  putString(log->mutable_attributes(), "http.route", "/user/7/list/9");
  putString(log->mutable_attributes(), "http.target", "/account/1234/home");
  ottl_testing::Run r = h.run(req, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const auto& out_rl = r.out->logs().resource_logs(0);
  EXPECT_EQ(out_rl.resource().attributes_size(), 1);
  const auto& out = out_rl.scope_logs(0).log_records(0);
  EXPECT_EQ(out.body().string_value(), "/user/7/list/9");
  EXPECT_EQ(find(out.attributes(), "http.route")->string_value(), "/user/{userId}/list/{listId}");
  EXPECT_EQ(find(out.attributes(), "http.target")->string_value(), "/account/{accountId}/home");
  EXPECT_EQ(find(out.attributes(), "severity")->string_value(), "warn");
}

TEST(TransformProcessor, FlatStatementsInferTheirContextAndRunInOrder) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
trace_statements:
  - set(resource.attributes["deployment.environment"], "prod")
  - set(span.attributes["env"], resource.attributes["deployment.environment"])
  - set(spanevent.attributes["span"], span.name) where spanevent.name == "exception"
  - set(scope.version, "2")
)yaml",
                     pipeline::Signal::kTraces);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* ss = rs->add_scope_spans();
  auto* span = ss->add_spans();
  span->set_name("checkout");
  span->add_events()->set_name("exception");
  span->add_events()->set_name("log");
  ottl_testing::Run r = h.run(req, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  const auto& out = r.out->traces().resource_spans(0);
  EXPECT_EQ(find(out.resource().attributes(), "deployment.environment")->string_value(), "prod");
  EXPECT_EQ(out.scope_spans(0).scope().version(), "2");
  const auto& s = out.scope_spans(0).spans(0);
  EXPECT_EQ(find(s.attributes(), "env")->string_value(), "prod");  // the resource group ran first
  EXPECT_EQ(find(s.events(0).attributes(), "span")->string_value(), "checkout");
  EXPECT_EQ(s.events(1).attributes_size(), 0);
}

TEST(TransformProcessor, GroupConditionsSelectItems) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
trace_statements:
  - context: span
    conditions:
      - kind == SPAN_KIND_SERVER
      - attributes["force"] == true
    statements:
      - set(attributes["selected"], true)
)yaml",
                     pipeline::Signal::kTraces);
  otlp::TracesRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  ss->add_spans()->set_kind(otlp::pb_trace::Span::SPAN_KIND_SERVER);
  ss->add_spans()->set_kind(otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  auto* forced = ss->add_spans();
  auto* kv = forced->add_attributes();
  kv->set_key("force");
  kv->mutable_value()->set_bool_value(true);
  ottl_testing::Run r = h.run(req, 3);
  ASSERT_TRUE(r.status.ok()) << r.status;
  const auto& spans = r.out->traces().resource_spans(0).scope_spans(0).spans();
  EXPECT_NE(find(spans[0].attributes(), "selected"), nullptr);
  EXPECT_EQ(find(spans[1].attributes(), "selected"), nullptr);
  EXPECT_NE(find(spans[2].attributes(), "selected"), nullptr);
}

TEST(TransformProcessor, ErrorModes) {
  auto factory = makeTransformProcessorFactory();
  otlp::LogsRequest req;
  auto* log = req.add_resource_logs()->add_scope_logs()->add_log_records();
  log->mutable_body()->set_int_value(7);
  const std::string statements = R"yaml(
log_statements:
  - set(log.attributes["upper"], ConvertCase(log.body, "upper"))
  - set(log.attributes["after"], "yes")
)yaml";
  {
    ProcessorHarness h(*factory, statements, pipeline::Signal::kLogs);
    ottl_testing::Run r = h.run(req, 1);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(r.out);
  }
  ProcessorHarness h(*factory, "error_mode: silent" + statements, pipeline::Signal::kLogs);
  ottl_testing::Run r = h.run(req, 1);
  ASSERT_TRUE(r.status.ok()) << r.status;
  const auto& out = r.out->logs().resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(find(out.attributes(), "upper"), nullptr);
  EXPECT_EQ(find(out.attributes(), "after")->string_value(), "yes");  // went on with the next
}

TEST(TransformProcessor, ConfigErrorsAtTheirPositions) {
  auto factory = makeTransformProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(trace_statements:
  - set(attributes["x"], 1)
  - context: span
    statements:
      - set(attributes["a"], "b") where nme == 1
      - set(resource.attributes["a"], "b")
  - context: log
    statements: ['set(name, "x")']
  - context: span
    conditions: ['name == "a"']
  - 42
metric_statements:
  - set(datapoint.attributes["x"], Foo())
log_statements: 'set(log.body, "x")'
)yaml",
                     pipeline::Signal::kTraces);
  EXPECT_EQ(h.errors().toString(),
            "processors.p.trace_statements[0] (line 2:5): invalid OTTL statement "
            "\"set(attributes[\"x\"], 1)\": column 1: cannot infer the context: prefix paths with "
            "their context (resource, scope, span, spanevent), e.g. span.attributes[\"key\"]\n"
            "processors.p.trace_statements[1].statements[0] (line 5:9): invalid OTTL statement "
            "\"set(attributes[\"a\"], \"b\") where nme == 1\": column 33: unknown path nme in the "
            "span context\n"
            "processors.p.trace_statements[1].statements[1] (line 6:9): invalid OTTL statement "
            "\"set(resource.attributes[\"a\"], \"b\")\": column 5: cannot change "
            "resource.attributes in the span context; use a statement in the resource context\n"
            "processors.p.trace_statements[2].context (line 7:14): unknown context \"log\" for "
            "trace_statements (use one of resource, scope, span, spanevent)\n"
            "processors.p.trace_statements[3].statements (line 9:5): a group needs at least one "
            "statement\n"
            "processors.p.trace_statements[4] (line 11:5): invalid OTTL statement \"42\": column "
            "1: a statement starts with an editor call such as set(...)\n"
            "processors.p.metric_statements[0] (line 13:5): invalid OTTL statement "
            "\"set(datapoint.attributes[\"x\"], Foo())\": column 32: converter Foo is not "
            "supported\n"
            "processors.p.log_statements (line 14:17): must be a list of statements or of "
            "{context, statements} groups");
}

}  // namespace
}  // namespace otlpd::processors::transform
