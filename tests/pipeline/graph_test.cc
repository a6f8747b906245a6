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

// Passes every batch on to each output pipeline whose signal the pair supports (like forward, but
// it may also turn traces into "metrics" by relabelling: enough to see the wiring).
class TestConnector final : public Connector {
 public:
  TestConnector(std::string name, std::vector<ConnectorOutput> outputs, EventLog& log)
      : outputs(std::move(outputs)), name_(std::move(name)), log_(log) {}
  absl::Status start(Host&) override {
    log_.events.push_back("start " + name_);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    log_.events.push_back("stop " + name_);
    return absl::OkStatus();
  }
  std::shared_ptr<Consumer> input(Signal) override { return std::make_shared<Input>(*this); }
  std::vector<ConnectorOutput> outputs;

 private:
  struct Input final : Consumer {
    explicit Input(TestConnector& c) : connector(c) {}
    absl::Status consume(Batch&& batch) override {
      for (const auto& out : connector.outputs) {
        Batch copy = batch;
        if (absl::Status s = out.head->consume(std::move(copy)); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    TestConnector& connector;
  };
  std::string name_;
  EventLog& log_;
};

class TestConnectorFactory final : public ConnectorFactory {
 public:
  explicit TestConnectorFactory(EventLog& log) : log_(log) {}
  std::string_view type() const override { return "conn"; }
  bool supportsPair(Signal from, Signal to) const override {
    return from == to || (from == Signal::kTraces && to == Signal::kMetrics);
  }
  absl::StatusOr<std::unique_ptr<Connector>> create(
      const CreateSettings& settings, config::ConfigNode&, std::vector<Signal> in,
      std::vector<ConnectorOutput> out) const override {
    inputs = in;
    auto c = std::make_unique<TestConnector>(settings.id.toString(), std::move(out), log_);
    created.push_back(c.get());
    return c;
  }
  mutable std::vector<TestConnector*> created;
  mutable std::vector<Signal> inputs;

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
    auto c = std::make_unique<TestConnectorFactory>(log_);
    receivers_ = r.get();
    exporters_ = e.get();
    connectors_ = c.get();
    factories_.add(std::move(r));
    factories_.add(std::move(e));
    factories_.add(std::move(c));
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
  TestConnectorFactory* connectors_;
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

Batch twoSpans() {
  Batch batch = Batch::create(Signal::kTraces);
  auto* ss = batch.mutableTraces().add_resource_spans()->add_scope_spans();
  ss->add_spans();
  ss->add_spans();
  return batch;
}

TEST_F(GraphTest, ConnectorJoinsPipelinesAndStartsBetweenThem) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec/in: {}, rec/out: {}}
connectors: {conn: {}}
service:
  pipelines:
    traces/in: {receivers: [src], exporters: [conn, rec/in]}
    metrics/out: {receivers: [conn], exporters: [rec/out]}
    traces/out: {receivers: [conn], exporters: [rec/out]}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  ASSERT_EQ(connectors_->created.size(), 1u);
  EXPECT_EQ(connectors_->inputs, std::vector<Signal>{Signal::kTraces});
  ASSERT_EQ(connectors_->created[0]->outputs.size(), 2u);
  EXPECT_EQ(graph->counts().connectors, 1u);
  // The receiver feeds only traces/in: the connector is the other pipelines' receiver.
  ASSERT_EQ(receivers_->created.size(), 1u);
  EXPECT_EQ(receivers_->created[0]->next.metrics, nullptr);
  ASSERT_TRUE(receivers_->created[0]->next.traces->consume(twoSpans()).ok());
  size_t total = 0;
  for (auto* e : exporters_->created) total += e->received;
  EXPECT_EQ(total, 6u);  // rec/in, and through the connector rec/out for metrics and traces

  NullHost host;
  ASSERT_TRUE(graph->start(host).ok());
  ASSERT_TRUE(graph->shutdown().ok());
  auto at = [&](const std::string& event) {
    return std::find(log_.events.begin(), log_.events.end(), event) - log_.events.begin();
  };
  // Fed pipelines first, then the connector, then the pipeline feeding it; stop in reverse.
  EXPECT_LT(at("start rec/out/metrics"), at("start conn"));
  EXPECT_LT(at("start conn"), at("start rec/in/traces"));
  EXPECT_LT(at("start rec/in/traces"), at("start receiver"));
  EXPECT_LT(at("stop receiver"), at("stop rec/in/traces"));
  EXPECT_LT(at("stop rec/in/traces"), at("stop conn"));
  EXPECT_LT(at("stop conn"), at("stop rec/out/metrics"));
}

TEST_F(GraphTest, ConnectorChainsBuildInDependencyOrder) {
  // Pipelines are listed upstream first; the graph still builds the fed ones first.
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec: {}}
connectors: {conn/a: {}, conn/b: {}}
service:
  pipelines:
    traces/1: {receivers: [src], exporters: [conn/a]}
    traces/2: {receivers: [conn/a], exporters: [conn/b]}
    traces/3: {receivers: [conn/b], exporters: [rec]}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  ASSERT_TRUE(receivers_->created[0]->next.traces->consume(twoSpans()).ok());
  ASSERT_EQ(exporters_->created.size(), 1u);
  EXPECT_EQ(exporters_->created[0]->received, 2u);
}

TEST_F(GraphTest, ConnectorMisuseIsReportedWithPaths) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec: {}, conn/both: {}}
connectors: {conn/a: {}, conn/b: {}, conn/lonely: {}, conn/both: {}, conn/logs: {}}
service:
  pipelines:
    traces/1: {receivers: [src, conn/b], exporters: [conn/a, conn/lonely]}
    traces/2: {receivers: [conn/a], exporters: [conn/b, conn/both]}
    traces/3: {receivers: [conn/both], exporters: [rec]}
    metrics/1: {receivers: [src], exporters: [conn/logs]}
    logs/1: {receivers: [conn/logs], exporters: [rec]}
)");
  EXPECT_EQ(graph, nullptr);
  const std::string all = errors_.toString();
  EXPECT_THAT(all, HasSubstr("service.pipelines.traces/1.exporters[1]"));
  EXPECT_THAT(all, HasSubstr("connector 'conn/lonely' is used as an exporter but not as a "
                             "receiver in any pipeline"));
  EXPECT_THAT(all, HasSubstr("'conn/both' is defined both as a connector and as an exporter"));
  EXPECT_THAT(all, HasSubstr("connector 'conn/logs' cannot send metrics to any pipeline it feeds"));
  EXPECT_THAT(all, HasSubstr("connector 'conn/logs' cannot produce logs"));
}

TEST_F(GraphTest, ConnectorCycleIsRefused) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec: {}}
connectors: {conn/a: {}, conn/b: {}}
service:
  pipelines:
    traces/1: {receivers: [src, conn/b], exporters: [conn/a]}
    traces/2: {receivers: [conn/a], exporters: [conn/b, rec]}
)");
  EXPECT_EQ(graph, nullptr);
  EXPECT_THAT(errors_.toString(), HasSubstr("pipelines form a cycle"));
}

}  // namespace
}  // namespace otlpd::pipeline
