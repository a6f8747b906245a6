#include "processors/resourcedetection/resourcedetection_processor.h"

#include <gtest/gtest.h>

#include <future>
#include <map>

#include "../enrich_test_support.h"

namespace otlpd::processors::resourcedetection {
namespace {

using pipeline::Signal;
using testing::flat;
using testing::Harness;
using testing::putString;
using Lines = std::vector<std::string>;

HostSources fakeHost(std::map<std::string, std::string> env, bool dns_works = true) {
  HostSources sources;
  sources.getenv = [env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  sources.systemFacts = [dns_works](bool want_fqdn) {
    SystemFacts f;
    if (want_fqdn && dns_works) f.fqdn = "node-7.dc1.example.com";
    f.os_hostname = "node-7";
    f.machine_id = "0123abcd";
    f.sysname = "Linux";
    f.machine = "aarch64";
    return f;
  };
  return sources;
}

otlp::TracesRequest traces() {
  otlp::TracesRequest r;
  auto* rs = r.add_resource_spans();
  putString(rs->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  putString(rs->mutable_resource()->mutable_attributes(), "host.name", "sdk-host");
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_name("GET /cart");
  span->set_trace_id(std::string(16, '\1'));
  span->set_span_id(std::string(8, '\2'));
  putString(span->mutable_attributes(), "http.method", "GET");
  r.add_resource_spans()->add_scope_spans()->add_spans()->set_name("no resource attributes");
  return r;
}

TEST(ResourceDetectionProcessorTest, EnvDetectorWithoutOverrideKeepsWhatTheResourceHas) {
  // The Collector's README example: detectors [env], timeout 2s, override false.
  Harness h(makeResourceDetectionFactory(
      fakeHost({{"OTEL_RESOURCE_ATTRIBUTES", "host.name=env-host,team=payments"}})));
  ASSERT_EQ(h.create("detectors: [env]\ntimeout: 2s\noverride: false\n", Signal::kTraces), "");
  otlp::TracesRequest in = traces();
  otlp::TracesRequest out = h.run(Signal::kTraces, in);
  ASSERT_EQ(out.resource_spans_size(), 2);
  EXPECT_EQ(flat(out.resource_spans(0).resource().attributes()),
            (Lines{"host.name=sdk-host", "service.name=checkout", "team=payments"}));
  EXPECT_EQ(flat(out.resource_spans(1).resource().attributes()),
            (Lines{"host.name=env-host", "team=payments"}));
  // Spans are untouched.
  EXPECT_EQ(out.resource_spans(0).scope_spans(0).SerializeAsString(),
            in.resource_spans(0).scope_spans(0).SerializeAsString());
}

TEST(ResourceDetectionProcessorTest, OverrideIsTheDefault) {
  Harness h(makeResourceDetectionFactory(fakeHost(
      {{"OTEL_RESOURCE_ATTRIBUTES", "host.name=env-host"}, {"OTEL_SERVICE_NAME", "cart"}})));
  ASSERT_EQ(h.create("detectors: [env]\n", Signal::kTraces), "");
  otlp::TracesRequest out = h.run(Signal::kTraces, traces());
  EXPECT_EQ(flat(out.resource_spans(0).resource().attributes()),
            (Lines{"host.name=env-host", "service.name=cart"}));
}

TEST(ResourceDetectionProcessorTest, SystemDetectorOnLogsAndMetrics) {
  Harness logs(makeResourceDetectionFactory(fakeHost({})));
  const std::string config =
      "detectors: [system]\n"
      "system:\n"
      "  hostname_sources: [os]\n"
      "  resource_attributes:\n"
      "    host.id: {enabled: true}\n"
      "    host.arch:\n"
      "      enabled: true\n"
      "    os.type:\n"
      "      enabled: false\n";
  ASSERT_EQ(logs.create(config, Signal::kLogs), "");
  otlp::LogsRequest lr;
  auto* rl = lr.add_resource_logs();
  putString(rl->mutable_resource()->mutable_attributes(), "service.name", "api");
  rl->add_scope_logs()->add_log_records()->mutable_body()->set_string_value("hello");
  otlp::LogsRequest lout = logs.run(Signal::kLogs, lr);
  EXPECT_EQ(flat(lout.resource_logs(0).resource().attributes()),
            (Lines{"host.arch=arm64", "host.id=0123abcd", "host.name=node-7", "service.name=api"}));
  EXPECT_EQ(lout.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "hello");

  Harness metrics(makeResourceDetectionFactory(fakeHost({})));
  ASSERT_EQ(metrics.create("detectors: [system]\n", Signal::kMetrics), "");
  otlp::MetricsRequest mr;
  auto* m = mr.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("requests");
  m->mutable_sum()->add_data_points()->set_as_int(3);
  otlp::MetricsRequest mout = metrics.run(Signal::kMetrics, mr);
  EXPECT_EQ(flat(mout.resource_metrics(0).resource().attributes()),
            (Lines{"host.name=node-7.dc1.example.com", "os.type=linux"}));
  EXPECT_EQ(mout.resource_metrics(0).scope_metrics(0).metrics(0).sum().data_points(0).as_int(), 3);
}

TEST(ResourceDetectionProcessorTest, DetectorsAreMergedInOrder) {
  Harness h(makeResourceDetectionFactory(
      fakeHost({{"OTEL_RESOURCE_ATTRIBUTES", "host.name=env-host"}}, /*dns_works=*/false)));
  ASSERT_EQ(h.create("detectors: [env, system]\n", Signal::kTraces), "");
  otlp::TracesRequest out = h.run(Signal::kTraces, traces());
  EXPECT_EQ(flat(out.resource_spans(1).resource().attributes()),
            (Lines{"host.name=env-host", "os.type=linux"}));
}

TEST(ResourceDetectionProcessorTest, AFailingDetectorLeavesTheOthers) {
  Harness h(makeResourceDetectionFactory(
      fakeHost({{"OTEL_RESOURCE_ATTRIBUTES", "broken"}, {"OTEL_SERVICE_NAME", "x"}})));
  ASSERT_EQ(h.create("detectors: [env, system]\n", Signal::kTraces), "");
  otlp::TracesRequest out = h.run(Signal::kTraces, traces());
  EXPECT_EQ(flat(out.resource_spans(1).resource().attributes()),
            (Lines{"host.name=node-7.dc1.example.com", "os.type=linux"}));
}

TEST(ResourceDetectionProcessorTest, NothingDetectedPassesTheBatchOnUnchanged) {
  Harness h(makeResourceDetectionFactory(fakeHost({})));
  ASSERT_EQ(h.create("detectors: [env]\n", Signal::kTraces), "");
  otlp::TracesRequest in = traces();
  EXPECT_EQ(h.run(Signal::kTraces, in).SerializeAsString(), in.SerializeAsString());
}

TEST(ResourceDetectionProcessorTest, TheSystemDetectorGivesUpAfterTheTimeout) {
  HostSources slow = fakeHost({{"OTEL_SERVICE_NAME", "svc"}});
  auto gate = std::make_shared<std::promise<void>>();
  std::shared_future<void> opened = gate->get_future().share();
  slow.systemFacts = [opened](bool) {
    opened.wait();
    return SystemFacts{};
  };
  Harness h(makeResourceDetectionFactory(slow));
  ASSERT_EQ(h.create("detectors: [system, env]\ntimeout: 50ms\n", Signal::kTraces), "");
  gate->set_value();
  otlp::TracesRequest out = h.run(Signal::kTraces, traces());
  EXPECT_EQ(flat(out.resource_spans(1).resource().attributes()), (Lines{"service.name=svc"}));
}

TEST(ResourceDetectionProcessorTest, ConfigErrorsNameWhatIsWrong) {
  Harness h(makeResourceDetectionFactory(fakeHost({})));
  std::string errors = h.create(
      "detectors: [env, ec2, gcp]\n"
      "timeout: 0s\n"
      "system:\n"
      "  hostname_sources: [os, cname]\n"
      "  resource_attributes:\n"
      "    host.nme: {enabled: true}\n"
      "refresh: 1s\n",
      Signal::kTraces, /*start=*/false);
  EXPECT_NE(errors.find("unknown detector(s) ec2, gcp"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.timeout"), std::string::npos) << errors;
  EXPECT_NE(errors.find("cname"), std::string::npos) << errors;
  EXPECT_NE(errors.find("processors.x.system.resource_attributes.host.nme"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("processors.x.refresh"), std::string::npos) << errors;
}

}  // namespace
}  // namespace otlpd::processors::resourcedetection
