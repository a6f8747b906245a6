// The filter processor on the Collector's documented examples (its README's `filter/ottl`
// configuration), on all three signals, and its config errors.
#include "processors/filter/filter_processor.h"

#include <gtest/gtest.h>

#include "ottl_processor_support.h"

namespace otlpd::processors::filter {
namespace {

using ottl_testing::ProcessorHarness;
using ottl_testing::putString;
namespace pb_trace = otlp::pb_trace;
namespace pb_metrics = otlp::pb_metrics;
namespace pb_logs = otlp::pb_logs;

// The README's example configuration.
constexpr char kReadmeConfig[] = R"yaml(
error_mode: ignore
traces:
  span:
    - 'attributes["container.name"] == "app_container_1"'
    - 'resource.attributes["host.name"] == "localhost"'
    - 'name == "app_3"'
  spanevent:
    - 'attributes["grpc"] == true'
    - 'IsMatch(name, ".*grpc.*")'
metrics:
  metric:
    - 'name == "my.metric" and resource.attributes["my_label"] == "abc123"'
    - 'type == METRIC_DATA_TYPE_HISTOGRAM'
  datapoint:
    - 'metric.type == METRIC_DATA_TYPE_SUMMARY'
    - 'resource.attributes["service.name"] == "my_service_name"'
logs:
  log_record:
    - 'IsMatch(body, ".*password.*")'
    - 'severity_number < SEVERITY_NUMBER_WARN'
)yaml";

TEST(FilterProcessor, ReadmeExampleOnTraces) {
  auto factory = makeFilterProcessorFactory();
  ProcessorHarness h(*factory, kReadmeConfig, pipeline::Signal::kTraces);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();

  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  putString(rs->mutable_resource()->mutable_attributes(), "host.name", "web-1");
  auto* ss = rs->add_scope_spans();
  auto add = [&](const std::string& name) {
    auto* s = ss->add_spans();
    s->set_name(name);
    s->set_trace_id(std::string(16, '\1'));
    s->set_span_id(std::string(8, '\2'));
    return s;
  };
  putString(add("app_1")->mutable_attributes(), "container.name", "app_container_1");  // dropped
  add("app_2");                                                                        // kept
  add("app_3");                                                                        // dropped
  auto* with_events = add("app_4");                                                    // kept
  auto* e1 = with_events->add_events();
  e1->set_name("grpc.call");  // dropped: name matches .*grpc.*
  auto* e2 = with_events->add_events();
  e2->set_name("flag");
  auto* flag = e2->add_attributes();
  flag->set_key("grpc");
  flag->mutable_value()->set_bool_value(true);  // dropped
  auto* e3 = with_events->add_events();
  e3->set_name("cache.miss");  // kept
  // A second resource on localhost: all its spans go, and the resource with them.
  auto* local = req.add_resource_spans();
  putString(local->mutable_resource()->mutable_attributes(), "host.name", "localhost");
  local->add_scope_spans()->add_spans()->set_name("app_5");

  ottl_testing::Run r = h.run(req, 5);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const otlp::TracesRequest& out = r.out->traces();
  ASSERT_EQ(out.resource_spans_size(), 1);
  const auto& spans = out.resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(spans.size(), 2);
  EXPECT_EQ(spans[0].name(), "app_2");
  EXPECT_EQ(spans[1].name(), "app_4");
  ASSERT_EQ(spans[1].events_size(), 1);
  EXPECT_EQ(spans[1].events(0).name(), "cache.miss");
  EXPECT_EQ(r.out->itemCount(), 2u);
}

TEST(FilterProcessor, ReadmeExampleOnMetrics) {
  auto factory = makeFilterProcessorFactory();
  ProcessorHarness h(*factory, kReadmeConfig, pipeline::Signal::kMetrics);
  ASSERT_TRUE(h.errors().empty()) << h.errors().toString();
  otlp::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  putString(rm->mutable_resource()->mutable_attributes(), "my_label", "abc123");
  auto* sm = rm->add_scope_metrics();
  auto* m1 = sm->add_metrics();  // dropped by name + resource label
  m1->set_name("my.metric");
  m1->mutable_gauge()->add_data_points()->set_as_int(1);
  auto* m2 = sm->add_metrics();  // dropped: a histogram
  m2->set_name("latency");
  m2->mutable_histogram()->add_data_points()->set_count(3);
  auto* m3 = sm->add_metrics();  // summary: every point dropped, so the metric goes too
  m3->set_name("quantiles");
  m3->mutable_summary()->add_data_points()->set_count(1);
  auto* m4 = sm->add_metrics();  // kept
  m4->set_name("requests");
  m4->mutable_sum()->add_data_points()->set_as_int(5);
  m4->mutable_sum()->add_data_points()->set_as_int(6);

  ottl_testing::Run r = h.run(req, 5);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const auto& metrics = r.out->metrics().resource_metrics(0).scope_metrics(0).metrics();
  ASSERT_EQ(metrics.size(), 1);
  EXPECT_EQ(metrics[0].name(), "requests");
  EXPECT_EQ(metrics[0].sum().data_points_size(), 2);

  // A resource named my_service_name loses every data point, and so every metric.
  otlp::MetricsRequest all;
  auto* rm2 = all.add_resource_metrics();
  putString(rm2->mutable_resource()->mutable_attributes(), "service.name", "my_service_name");
  auto* g = rm2->add_scope_metrics()->add_metrics();
  g->set_name("g");
  g->mutable_gauge()->add_data_points()->set_as_double(1);
  ottl_testing::Run r2 = h.run(all, 1);
  ASSERT_TRUE(r2.status.ok());
  EXPECT_FALSE(r2.out);  // nothing left to pass on
}

TEST(FilterProcessor, ReadmeExampleOnLogs) {
  auto factory = makeFilterProcessorFactory();
  ProcessorHarness h(*factory, kReadmeConfig, pipeline::Signal::kLogs);
  otlp::LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  auto add = [&](const std::string& body, pb_logs::SeverityNumber sev) {
    auto* l = sl->add_log_records();
    l->mutable_body()->set_string_value(body);
    l->set_severity_number(sev);
  };
  add("login ok", pb_logs::SEVERITY_NUMBER_WARN);           // kept
  add("password=hunter2", pb_logs::SEVERITY_NUMBER_ERROR);  // dropped: body
  add("cache warmed", pb_logs::SEVERITY_NUMBER_INFO);       // dropped: below WARN
  add("disk full", pb_logs::SEVERITY_NUMBER_FATAL);         // kept
  ottl_testing::Run r = h.run(req, 4);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_TRUE(r.out);
  const auto& logs = r.out->logs().resource_logs(0).scope_logs(0).log_records();
  ASSERT_EQ(logs.size(), 2);
  EXPECT_EQ(logs[0].body().string_value(), "login ok");
  EXPECT_EQ(logs[1].body().string_value(), "disk full");
}

TEST(FilterProcessor, NothingMatchesPassesTheBatchOnUnchanged) {
  auto factory = makeFilterProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(
traces:
  span: ['attributes["http.route"] == "/health"']
)yaml",
                     pipeline::Signal::kTraces);
  otlp::TracesRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_name("GET");
  putString(s->mutable_attributes(), "http.route", "/api");
  ottl_testing::Run r = h.run(req, 1);
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.out);
  EXPECT_EQ(r.out->traces().SerializeAsString(), req.SerializeAsString());
}

TEST(FilterProcessor, ErrorModes) {
  auto factory = makeFilterProcessorFactory();
  otlp::TracesRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_name("GET");
  auto* kv = s->add_attributes();
  kv->set_key("n");
  kv->mutable_value()->set_int_value(3);
  // ConvertCase of an int fails at run time.
  const std::string conditions = R"yaml(
traces:
  span: ['ConvertCase(attributes["n"], "upper") == "X"', 'name == "GET"']
)yaml";
  {
    ProcessorHarness h(*factory, conditions, pipeline::Signal::kTraces);  // propagate by default
    ottl_testing::Run r = h.run(req, 1);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status.message(),
              "filter: condition \"ConvertCase(attributes[\"n\"], \"upper\") == \"X\"\": column "
              "13: ConvertCase: expected a string, got int");
  }
  for (const char* mode : {"ignore", "silent"}) {
    ProcessorHarness h(*factory, std::string("error_mode: ") + mode + conditions,
                       pipeline::Signal::kTraces);
    ottl_testing::Run r = h.run(req, 1);
    EXPECT_TRUE(r.status.ok()) << mode;
    EXPECT_FALSE(r.out) << mode;  // the failing condition counts as false; the next one matches
    EXPECT_NE(
        h.metrics().renderPrometheus().find("otlpd_processor_errors_total{processor=\"filter\"} 1"),
        std::string::npos)
        << h.metrics().renderPrometheus();
  }
}

TEST(FilterProcessor, ConfigErrorsAtTheirPositions) {
  auto factory = makeFilterProcessorFactory();
  ProcessorHarness h(*factory, R"yaml(traces:
  span:
    - 'name == "a"'
    - 'nme == "a"'
  spanevent: ['IsMatch(name, "(")']
  include: {match_type: strict}
logs:
  log_record: ['severity_number < SEVERITY_NUMBER_WARNING']
metrics:
  metric: ['HasAttrOnDatapoint("k", "v")']
  datapoints: []
)yaml",
                     pipeline::Signal::kTraces);
  EXPECT_EQ(h.errors().toString(),
            "processors.p.traces.span[1] (line 4:7): invalid OTTL condition \"nme == \"a\"\": "
            "column 1: unknown path nme in the span context\n"
            "processors.p.traces.spanevent[0] (line 5:15): invalid OTTL condition \"IsMatch(name, "
            "\"(\")\": column 15: invalid regex \"(\" in IsMatch: missing ): (\n"
            "processors.p.traces.include (line 6:12): the legacy filter configuration "
            "(include/exclude, match_type) is not supported; write OTTL conditions under "
            "traces.span instead\n"
            "processors.p.metrics.metric[0] (line 10:12): invalid OTTL condition "
            "\"HasAttrOnDatapoint(\"k\", \"v\")\": column 1: converter HasAttrOnDatapoint is not "
            "supported\n"
            "processors.p.metrics.datapoints (line 11:3): unknown key\n"
            "processors.p.logs.log_record[0] (line 8:16): invalid OTTL condition "
            "\"severity_number < SEVERITY_NUMBER_WARNING\": column 19: unknown enum "
            "SEVERITY_NUMBER_WARNING in the log context");
}

}  // namespace
}  // namespace otlpd::processors::filter
