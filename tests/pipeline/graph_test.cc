#include "pipeline/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/metrics_registry.h"
#include "config/loader.h"

namespace otlpd::pipeline {
namespace {

using ::testing::HasSubstr;

// Records lifecycle events in one shared log so tests can check start/stop order.
struct EventLog {
  std::vector<std::string> events;
};

class RecordingExporter final : public Exporter {
 public:
  RecordingExporter(std::string name, EventLog& log) : name_(std::move(name)), log_(log) {}
  absl::Status start(Host&) override {
    log_.events.push_back("start " + name_);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    log_.events.push_back("stop " + name_);
    return absl::OkStatus();
  }
  absl::Status consume(Batch&& batch) override {
    received += batch.itemCount();
    return absl::OkStatus();
  }
  size_t received = 0;

 private:
  std::string name_;
  EventLog& log_;
};

class TestExporterFactory final : public ExporterFactory {
 public:
  explicit TestExporterFactory(EventLog& log) : log_(log) {}
  std::string_view type() const override { return "rec"; }
  bool supports(Signal s) const override { return s != Signal::kLogs; }
  // Synchronous delivery keeps these tests free of waiting; exporter_queue_test covers queues.
  bool queuesInternally() const override { return true; }
  absl::StatusOr<std::unique_ptr<Exporter>> create(const CreateSettings& settings,
                                                   config::ConfigNode& config,
                                                   Signal signal) const override {
    config.getString("label", "");
    auto e = std::make_unique<RecordingExporter>(
        settings.id.toString() + "/" + std::string(signalName(signal)), log_);
    created.push_back(e.get());
    return e;
  }
  mutable std::vector<RecordingExporter*> created;

 private:
  EventLog& log_;
};

class TestReceiver final : public Receiver {
 public:
  TestReceiver(SignalConsumers next, EventLog& log) : next(std::move(next)), log_(log) {}
  absl::Status start(Host&) override {
    log_.events.push_back("start receiver");
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    log_.events.push_back("stop receiver");
    return absl::OkStatus();
  }
  SignalConsumers next;

 private:
  EventLog& log_;
};

class TestReceiverFactory final : public ReceiverFactory {
 public:
  explicit TestReceiverFactory(EventLog& log) : log_(log) {}
  std::string_view type() const override { return "src"; }
  bool supports(Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<Receiver>> create(const CreateSettings&, config::ConfigNode&,
                                                   SignalConsumers next) const override {
    auto r = std::make_unique<TestReceiver>(std::move(next), log_);
    created.push_back(r.get());
    return r;
  }
  mutable std::vector<TestReceiver*> created;

 private:
  EventLog& log_;
};

class NullHost final : public Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

class GraphTest : public ::testing::Test {
 protected:
  GraphTest() {
    auto r = std::make_unique<TestReceiverFactory>(log_);
    auto e = std::make_unique<TestExporterFactory>(log_);
    receivers_ = r.get();
    exporters_ = e.get();
    factories_.add(std::move(r));
    factories_.add(std::move(e));
  }

  std::unique_ptr<Graph> build(const std::string& yaml) {
    auto root = config::parseYaml(yaml, "test");
    EXPECT_TRUE(root.ok()) << root.status();
    config::ConfigNode root_node(*root, "", errors_);
    config::ConfigNode service = root_node.child("service");
    auto graph = Graph::build(root_node, service, factories_, metrics_);
    service.rejectUnknownKeys();
    root_node.rejectUnknownKeys();
    return graph;
  }

  EventLog log_;
  TestReceiverFactory* receivers_;
  TestExporterFactory* exporters_;
  FactoryRegistry factories_;
  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors_;
};

TEST_F(GraphTest, SharesOneReceiverAndFansOutToEveryExporter) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec/a: {}, rec/b: {label: x}}
service:
  pipelines:
    traces: {receivers: [src], exporters: [rec/a, rec/b]}
    traces/2: {receivers: [src], exporters: [rec/a]}
    metrics: {receivers: [src], exporters: [rec/b]}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  ASSERT_EQ(receivers_->created.size(), 1u);
  // rec/a serves two traces pipelines with one instance; rec/b one for traces, one for metrics.
  ASSERT_EQ(exporters_->created.size(), 3u);
  TestReceiver* receiver = receivers_->created[0];
  ASSERT_NE(receiver->next.traces, nullptr);
  ASSERT_NE(receiver->next.metrics, nullptr);
  EXPECT_EQ(receiver->next.logs, nullptr);

  Batch batch = Batch::create(Signal::kTraces);
  auto* ss = batch.mutableTraces().add_resource_spans()->add_scope_spans();
  ss->add_spans();
  ss->add_spans();
  ASSERT_TRUE(receiver->next.traces->consume(std::move(batch)).ok());
  size_t total = 0;
  for (auto* e : exporters_->created) total += e->received;
  // Two pipelines reach rec/a (2 spans each) and one reaches rec/b/traces.
  EXPECT_EQ(total, 6u);
}

TEST_F(GraphTest, StartsDownstreamFirstAndStopsInReverse) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec: {}}
service: {pipelines: {traces: {receivers: [src], exporters: [rec]}}}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  NullHost host;
  ASSERT_TRUE(graph->start(host).ok());
  ASSERT_TRUE(graph->shutdown().ok());
  EXPECT_EQ(log_.events, (std::vector<std::string>{"start rec/traces", "start receiver",
                                                   "stop receiver", "stop rec/traces"}));
}

TEST_F(GraphTest, ReportsEveryConfigErrorAtOnce) {
  auto graph = build(R"(
receivers: {src: {}, bogus: {}}
exporters: {rec: {colour: red}}
service:
  pipelines:
    traces: {receivers: [src, missing], exporters: [rec]}
    logs: {receivers: [src], exporters: [rec]}
    metrics: {receivers: [], exporters: []}
    profiles: {receivers: [src], exporters: [rec]}
  extra: 1
)");
  EXPECT_EQ(graph, nullptr);
  const std::string all = errors_.toString();
  EXPECT_THAT(all, HasSubstr("receivers.bogus (line 2:22): unknown receiver type 'bogus'"));
  EXPECT_THAT(all, HasSubstr("exporters.rec.colour (line 3:19): unknown key"));
  EXPECT_THAT(all, HasSubstr("receiver 'missing' is used but not defined in receivers"));
  EXPECT_THAT(all, HasSubstr("exporter 'rec' does not support logs"));
  EXPECT_THAT(all, HasSubstr("service.pipelines.metrics.receivers"));
  EXPECT_THAT(all, HasSubstr("a pipeline needs at least one exporter"));
  EXPECT_THAT(all, HasSubstr("service.pipelines.profiles"));
  EXPECT_THAT(all, HasSubstr("service.extra (line 10:3): unknown key"));
}

}  // namespace
}  // namespace otlpd::pipeline
