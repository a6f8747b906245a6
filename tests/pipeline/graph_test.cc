#include "pipeline/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "otlp/proto.h"
#include "pipeline/authenticator.h"
#include "selftrace/tracer.h"

namespace otlpd::pipeline {
namespace {

using ::testing::HasSubstr;

// Records lifecycle events in one shared log so tests can check start/stop order.
struct EventLog {
  std::vector<std::string> events;
};

class RecordingExporter final : public Exporter, public Flushable, public BackpressureReporter {
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
  absl::Status flush(absl::Time) override {
    log_.events.push_back("flush " + name_);
    return flush_result;
  }
  BackpressureSource& backpressure() override { return source; }
  const std::string& name() const { return name_; }
  size_t received = 0;
  absl::Status flush_result;
  BackpressureSource source;

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
class TestConnector final : public Connector, public Flushable {
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
  absl::Status flush(absl::Time) override {
    log_.events.push_back("flush " + name_);
    return absl::OkStatus();
  }
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

  std::unique_ptr<Graph> build(const std::string& yaml, bool trace_stages = false) {
    auto root = config::parseYaml(yaml, "test");
    EXPECT_TRUE(root.ok()) << root.status();
    config::ConfigNode root_node(*root, "", errors_);
    config::ConfigNode service = root_node.child("service");
    auto graph = Graph::build(root_node, service, factories_, metrics_, nullptr, trace_stages);
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

// service.telemetry.traces.level: detailed — a sampled request's trace shows every exporter (and
// processor) it passed, each a child of the request's span, with the items it took. Built
// without trace_stages (level basic), the same request yields only its own span.
TEST_F(GraphTest, TracedStagesAreSpansInsideASampledRequest) {
  constexpr std::string_view kConfig = R"(
receivers: {src: {}}
exporters: {rec/a: {}, rec/b: {}}
service:
  pipelines:
    traces: {receivers: [src], exporters: [rec/a, rec/b]}
)";
  auto run = [&](bool trace_stages) {
    std::vector<::opentelemetry::proto::trace::v1::Span> spans;
    std::mutex mu;
    selftrace::TracerOptions options;
    options.detailed = true;
    options.send = [&](const std::string& body) {
      otlp::TracesRequest request;
      EXPECT_TRUE(request.ParseFromString(body));
      std::lock_guard lock(mu);
      for (const auto& s : request.resource_spans(0).scope_spans(0).spans()) spans.push_back(s);
      return absl::OkStatus();
    };
    receivers_->created.clear();
    auto graph = build(std::string(kConfig), trace_stages);
    EXPECT_NE(graph, nullptr) << errors_.toString();
    if (graph == nullptr) return spans;
    {
      selftrace::Tracer tracer(std::move(options), metrics_);
      selftrace::Tracer::install(&tracer);
      {
        auto request = selftrace::ScopedSpan::server(
            "ingest traces",
            [](std::string_view) -> std::optional<std::string_view> { return std::nullopt; });
        Batch batch = Batch::create(Signal::kTraces);
        auto* ss = batch.mutableTraces().add_resource_spans()->add_scope_spans();
        ss->add_spans();
        ss->add_spans();
        EXPECT_TRUE(receivers_->created.back()->next.traces->consume(std::move(batch)).ok());
      }
      selftrace::Tracer::install(nullptr);
    }  // exports what is queued
    return spans;
  };
  auto basic = run(false);
  ASSERT_EQ(basic.size(), 1u);
  EXPECT_EQ(basic[0].name(), "ingest traces");

  auto detailed = run(true);
  ASSERT_EQ(detailed.size(), 3u);
  EXPECT_EQ(detailed[0].name(), "exporter rec/a");
  EXPECT_EQ(detailed[1].name(), "exporter rec/b");
  EXPECT_EQ(detailed[2].name(), "ingest traces");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(detailed[i].parent_span_id(), detailed[2].span_id());
    EXPECT_EQ(detailed[i].trace_id(), detailed[2].trace_id());
    ASSERT_EQ(detailed[i].attributes_size(), 1);
    EXPECT_EQ(detailed[i].attributes(0).key(), "otlpd.items");
    EXPECT_EQ(detailed[i].attributes(0).value().int_value(), 2);
  }
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

// Authenticator references: an extension that is an authenticator, one that is not, and
// components that name one under `auth.authenticator`.
class TestAuthenticator final : public Extension, public ServerAuthenticator {
 public:
  TestAuthenticator(std::string name, EventLog& log) : name_(std::move(name)), log_(log) {}
  absl::Status start(Host&) override {
    log_.events.push_back("start " + name_);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    log_.events.push_back("stop " + name_);
    return absl::OkStatus();
  }
  absl::StatusOr<AuthAttributes> authenticate(HeaderLookup) const override {
    return AuthAttributes{{"subject", name_}};
  }
  std::string challenge() const override { return "Test"; }

 private:
  std::string name_;
  EventLog& log_;
};

// "tauth" is an authenticator; "user" is an extension that uses one (as jaeger_query does) and is
// none itself.
class TestExtensionFactory final : public ExtensionFactory {
 public:
  TestExtensionFactory(std::string_view type, EventLog& log) : type_(type), log_(log) {}
  std::string_view type() const override { return type_; }
  absl::StatusOr<std::unique_ptr<Extension>> create(const CreateSettings& settings,
                                                    config::ConfigNode& config) const override {
    if (type_ == "tauth") return std::make_unique<TestAuthenticator>(settings.id.toString(), log_);
    refs.push_back(readServerAuthenticator(config, settings));
    last_settings = settings.extensions;
    return std::make_unique<RecordingUser>(settings.id.toString(), log_);
  }
  mutable std::vector<ServerAuthRef> refs;
  mutable ExtensionDirectory* last_settings = nullptr;

 private:
  struct RecordingUser final : Extension {
    RecordingUser(std::string n, EventLog& l) : name(std::move(n)), log(l) {}
    absl::Status start(Host&) override {
      log.events.push_back("start " + name);
      return absl::OkStatus();
    }
    absl::Status shutdown() override {
      log.events.push_back("stop " + name);
      return absl::OkStatus();
    }
    std::string name;
    EventLog& log;
  };
  std::string type_;
  EventLog& log_;
};

class AuthGraphTest : public GraphTest {
 protected:
  AuthGraphTest() {
    auto a = std::make_unique<TestExtensionFactory>("tauth", log_);
    auto u = std::make_unique<TestExtensionFactory>("user", log_);
    users_ = u.get();
    factories_.add(std::move(a));
    factories_.add(std::move(u));
  }
  TestExtensionFactory* users_;
};

constexpr const char* kPipeline = R"(
receivers: {src: {}}
exporters: {rec: {}}
)";

TEST_F(AuthGraphTest, BindsReferencesWhateverTheOrderAndStartsAuthenticatorsFirst) {
  auto graph = build(std::string(kPipeline) + R"(
extensions:
  user: {auth: {authenticator: tauth/b}}
  tauth/a: {}
  tauth/b: {}
service:
  extensions: [user, tauth/a, tauth/b]
  pipelines: {traces: {receivers: [src], exporters: [rec]}}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  ASSERT_EQ(users_->refs.size(), 1u);
  ASSERT_NE(users_->refs[0], nullptr);
  ASSERT_NE(users_->refs[0]->authenticator, nullptr);
  auto verdict = users_->refs[0]->authenticator->authenticate(
      [](std::string_view) { return std::optional<std::string_view>(); });
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(verdict->at(0).second, "tauth/b");
  NullHost host;
  ASSERT_TRUE(graph->start(host).ok());
  ASSERT_TRUE(graph->shutdown().ok());
  // The authenticator in use starts before the extension that uses it and stops after it.
  EXPECT_EQ(log_.events, (std::vector<std::string>{"start tauth/b", "start user", "start tauth/a",
                                                   "start rec/traces", "start receiver",
                                                   "stop receiver", "stop rec/traces",
                                                   "stop tauth/a", "stop user", "stop tauth/b"}));

  // A component created while the graph runs (a load-balancing backend) is bound at once.
  config::ConfigErrors errors;
  config::ConfigNode later(YAML::Load("auth: {authenticator: tauth/a}"), "later", errors);
  ServerAuthRef ref = readServerAuthenticator(
      later, CreateSettings{ComponentId{"x", ""}, metrics_, nullptr, users_->last_settings});
  ASSERT_NE(ref, nullptr);
  EXPECT_NE(ref->authenticator, nullptr);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  config::ConfigNode wrong(YAML::Load("auth: {authenticator: user}"), "wrong", errors);
  ref = readServerAuthenticator(
      wrong, CreateSettings{ComponentId{"x", ""}, metrics_, nullptr, users_->last_settings});
  EXPECT_EQ(ref->authenticator, nullptr);
  EXPECT_EQ(errors.toString(),
            "wrong.auth.authenticator (line 1:23): extension 'user' (type user) is not a server "
            "authenticator");
}

TEST_F(AuthGraphTest, ReferencesToNothingOrToTheWrongKindAreErrorsWithTheirPaths) {
  auto graph = build(std::string(kPipeline) + R"(
extensions:
  user/missing: {auth: {authenticator: tauth/nowhere}}
  user/disabled: {auth: {authenticator: tauth/off}}
  user/wrong: {auth: {authenticator: user/missing}}
  user/bad: {auth: {authenticator: "/x"}}
  user/empty: {auth: {}}
  user/extra: {auth: {authenticator: tauth, mode: x}}
  tauth: {}
  tauth/off: {}
service:
  extensions: [user/missing, user/disabled, user/wrong, user/bad, user/empty, user/extra, tauth]
  pipelines: {traces: {receivers: [src], exporters: [rec]}}
)");
  EXPECT_EQ(graph, nullptr);
  // Errors in the reference itself come as each extension is read; what it names is checked
  // once every extension exists.
  EXPECT_EQ(errors_.toString(),
            "extensions.user/bad.auth.authenticator (line 9:36): component id '/x' must start "
            "with a letter type made of letters, digits and _\n"
            "extensions.user/empty.auth.authenticator (line 10:22): is required: the id of an "
            "authenticator extension\n"
            "extensions.user/extra.auth.mode (line 11:45): unknown key\n"
            "extensions.user/missing.auth.authenticator (line 6:40): server authenticator "
            "'tauth/nowhere' is not defined in extensions\n"
            "extensions.user/disabled.auth.authenticator (line 7:41): server authenticator "
            "'tauth/off' is defined but not enabled: add it to service.extensions\n"
            "extensions.user/wrong.auth.authenticator (line 8:38): extension 'user/missing' (type "
            "user) is not a server authenticator");
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

TEST_F(GraphTest, FlushAsksUpstreamFirstAndStopsAtAMissedDeadline) {
  auto graph = build(R"(
receivers: {src: {}}
exporters: {rec/in: {}, rec/out: {}}
connectors: {conn: {}}
service:
  pipelines:
    traces/in: {receivers: [src], exporters: [conn, rec/in]}
    metrics/out: {receivers: [conn], exporters: [rec/out]}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  EXPECT_EQ(graph->flush(absl::InfiniteFuture()).code(), absl::StatusCode::kFailedPrecondition);
  NullHost host;
  ASSERT_TRUE(graph->start(host).ok());
  log_.events.clear();
  ASSERT_TRUE(graph->flush(absl::InfiniteFuture()).ok());
  // The connector hands on what it holds before the pipeline it feeds is flushed; receivers run
  // on untouched.
  EXPECT_EQ(log_.events, (std::vector<std::string>{"flush rec/in/traces", "flush conn",
                                                   "flush rec/out/metrics"}));

  log_.events.clear();
  exporters_->created[1]->flush_result = absl::DeadlineExceededError("still sending");
  const absl::Status s = graph->flush(absl::InfiniteFuture());
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("exporter rec/in (traces)"));
  EXPECT_EQ(log_.events, std::vector<std::string>{"flush rec/in/traces"});
  ASSERT_TRUE(graph->shutdown().ok());
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

namespace otlpd::pipeline {
namespace {

// A processor that passes its next consumer's backpressure on or not (`passes`), and may have a
// source of its own (`own`), like memory_limiter.
class TestProcessor final : public Processor, public BackpressureReporter {
 public:
  TestProcessor(bool passes, std::shared_ptr<Consumer> next) : passes_(passes), next_(next) {}
  absl::Status start(Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(Batch&& batch) override { return next_->consume(std::move(batch)); }
  bool passesBackpressure() const override { return passes_; }
  BackpressureSource& backpressure() override { return source; }
  BackpressureSource source;

 private:
  bool passes_;
  std::shared_ptr<Consumer> next_;
};

// Like TestProcessor, without a source of its own.
class PlainProcessor final : public Processor {
 public:
  PlainProcessor(bool passes, std::shared_ptr<Consumer> next) : passes_(passes), next_(next) {}
  absl::Status start(Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(Batch&& batch) override { return next_->consume(std::move(batch)); }
  bool passesBackpressure() const override { return passes_; }

 private:
  bool passes_;
  std::shared_ptr<Consumer> next_;
};

class TestProcessorFactory final : public ProcessorFactory {
 public:
  std::string_view type() const override { return "proc"; }
  bool supports(Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<Processor>> create(const CreateSettings& settings,
                                                    config::ConfigNode& config, Signal signal,
                                                    std::shared_ptr<Consumer> next) const override {
    const bool passes = config.getBool("passes", false);
    if (!config.getBool("own", false)) return std::make_unique<PlainProcessor>(passes, next);
    auto p = std::make_unique<TestProcessor>(passes, next);
    with_source[settings.id.toString() + "/" + std::string(signalName(signal))] = p.get();
    return p;
  }
  mutable std::map<std::string, TestProcessor*> with_source;
};

class BackpressureGraphTest : public GraphTest {
 protected:
  BackpressureGraphTest() {
    auto p = std::make_unique<TestProcessorFactory>();
    processors_ = p.get();
    factories_.add(std::move(p));
  }
  TestProcessorFactory* processors_;
};

// The combination rules as the graph applies them: a pipeline's fan-out passes on every
// exporter's flag, several pipelines of one receiver add up, a processor that may drop a whole
// batch hides what lies beyond it, and a processor's own flag counts wherever it stands.
TEST_F(BackpressureGraphTest, GatesCombineTheStagesARequestWouldReach) {
  auto graph = build(R"(
receivers: {src: {}, src/2: {}}
processors:
  proc/pass: {passes: true}
  proc/drop: {passes: false}
  proc/limit: {passes: true, own: true}
exporters: {rec/a: {}, rec/b: {}, rec/c: {}}
service:
  pipelines:
    traces: {receivers: [src], processors: [proc/pass], exporters: [rec/a, rec/b]}
    traces/2: {receivers: [src, src/2], processors: [proc/drop], exporters: [rec/c]}
    metrics: {receivers: [src], processors: [proc/limit, proc/drop], exporters: [rec/a]}
)");
  ASSERT_NE(graph, nullptr) << errors_.toString();
  ASSERT_EQ(exporters_->created.size(), 4u);
  std::map<std::string, RecordingExporter*> by_name;
  for (auto* e : exporters_->created) by_name[e->name()] = e;
  RecordingExporter* a_traces = by_name["rec/a/traces"];
  RecordingExporter* b_traces = by_name["rec/b/traces"];
  RecordingExporter* c_traces = by_name["rec/c/traces"];
  RecordingExporter* a_metrics = by_name["rec/a/metrics"];
  ASSERT_TRUE(a_traces && b_traces && c_traces && a_metrics);
  ASSERT_EQ(processors_->with_source.count("proc/limit/metrics"), 1u);
  BackpressureSource& limit = processors_->with_source["proc/limit/metrics"]->source;

  ASSERT_EQ(receivers_->created.size(), 2u);
  const SignalConsumers& src = receivers_->created[0]->next;
  const SignalConsumers& src2 = receivers_->created[1]->next;
  const auto& traces_gate = src.backpressure[static_cast<size_t>(Signal::kTraces)];
  const auto& metrics_gate = src.backpressure[static_cast<size_t>(Signal::kMetrics)];
  ASSERT_NE(traces_gate, nullptr);
  ASSERT_NE(metrics_gate, nullptr);
  EXPECT_EQ(src.backpressure[static_cast<size_t>(Signal::kLogs)], nullptr);
  // src/2 feeds only traces/2, where proc/drop may answer OK without rec/c: nothing to say ahead.
  EXPECT_EQ(src2.backpressure[static_cast<size_t>(Signal::kTraces)], nullptr);

  EXPECT_FALSE(traces_gate->closed());
  a_traces->source.setFull(true);
  EXPECT_TRUE(traces_gate->closed());
  EXPECT_FALSE(metrics_gate->closed()) << "another signal's exporter instance";
  a_traces->source.setFull(false);
  b_traces->source.setFull(true);
  EXPECT_TRUE(traces_gate->closed()) << "any exporter of the fan-out";
  b_traces->source.setFull(false);
  c_traces->source.setFull(true);
  EXPECT_FALSE(traces_gate->closed()) << "beyond a processor that may drop the batch";
  c_traces->source.setFull(false);

  a_metrics->source.setFull(true);
  EXPECT_FALSE(metrics_gate->closed()) << "beyond a processor that may drop the batch";
  limit.setFull(true);
  EXPECT_TRUE(metrics_gate->closed()) << "the processor's own flag";
  limit.setFull(false);
  a_metrics->source.setFull(false);
  EXPECT_FALSE(metrics_gate->closed());
}

}  // namespace
}  // namespace otlpd::pipeline
