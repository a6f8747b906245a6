#include "connectors/spanmetrics/spanmetrics_connector.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "pipeline/factory.h"
#include "server/builtin_components.h"
#include "spanmetrics_test_support.h"

namespace otlpd::connectors::spanmetrics {
namespace {

using testing::encode;
using testing::kT0;
using testing::readMetrics;
using testing::TestSpan;

// A metrics pipeline's head: keeps what it gets and says when something arrived.
class Sink final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(mu_);
    EXPECT_EQ(batch.signal(), pipeline::Signal::kMetrics);
    batches_.push_back(std::move(batch));
    arrived_.notify_all();
    return status_;
  }
  bool waitFor(size_t n, absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                             [&] { return batches_.size() >= n; });
  }
  std::vector<pipeline::Batch> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  void refuse(absl::Status s) {
    std::lock_guard lock(mu_);
    status_ = std::move(s);
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<pipeline::Batch> batches_;
  absl::Status status_;
};

struct NoHost final : pipeline::Host {
  void publishEndpoint(const std::string&, const std::string&) override {}
};

struct Fixture {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<Sink> a = std::make_shared<Sink>();
  std::shared_ptr<Sink> b = std::make_shared<Sink>();
  config::ConfigErrors errors;

  absl::StatusOr<std::unique_ptr<pipeline::Connector>> create(const std::string& yaml) {
    auto factory = makeSpanMetricsFactory();
    auto root = config::parseYaml(yaml, "test");
    EXPECT_TRUE(root.ok());
    config::ConfigNode node(*root, "connectors.spanmetrics", errors);
    return factory->create(pipeline::CreateSettings{{"spanmetrics", ""}, metrics}, node,
                           {pipeline::Signal::kTraces},
                           {{"metrics/a", pipeline::Signal::kMetrics, a},
                            {"metrics/b", pipeline::Signal::kMetrics, b}});
  }
};

pipeline::Batch tracesBatch(const std::string& bytes, size_t spans) {
  return pipeline::Batch::fromWire(pipeline::Signal::kTraces,
                                   pipeline::WireBytes::fromString(bytes), spans);
}

TEST(SpanMetricsConnector, FactoryJoinsTracesToMetrics) {
  auto factory = makeSpanMetricsFactory();
  EXPECT_EQ(factory->type(), "spanmetrics");
  EXPECT_EQ(factory->kind(), pipeline::ComponentKind::kConnector);
  EXPECT_TRUE(factory->supportsPair(pipeline::Signal::kTraces, pipeline::Signal::kMetrics));
  EXPECT_FALSE(factory->supportsPair(pipeline::Signal::kTraces, pipeline::Signal::kTraces));
  EXPECT_FALSE(factory->supportsPair(pipeline::Signal::kMetrics, pipeline::Signal::kTraces));
  EXPECT_FALSE(factory->supportsPair(pipeline::Signal::kLogs, pipeline::Signal::kMetrics));
  // The builtin list knows it, by the Collector's new name too.
  pipeline::FactoryRegistry registry;
  server::registerBuiltinComponents(registry);
  EXPECT_NE(registry.find(pipeline::ComponentKind::kConnector, "spanmetrics"), nullptr);
  EXPECT_NE(registry.find(pipeline::ComponentKind::kConnector, "span_metrics"), nullptr);
}

TEST(SpanMetricsConnector, FlushHandsTheMetricsToEveryOutput) {
  Fixture f;
  auto connector = f.create("");
  ASSERT_TRUE(connector.ok()) << connector.status();
  ASSERT_TRUE(f.errors.empty()) << f.errors.toString();
  EXPECT_EQ((*connector)->input(pipeline::Signal::kMetrics), nullptr);
  auto input = (*connector)->input(pipeline::Signal::kTraces);
  ASSERT_NE(input, nullptr);
  EXPECT_FALSE(input->mutatesData());
  const std::string bytes = encode({{{{"service.name", "s"}}, {TestSpan{}, TestSpan{}}}});
  ASSERT_TRUE(input->consume(tracesBatch(bytes, 2)).ok());
  // A batch a processor decoded counts the same.
  pipeline::Batch decoded = pipeline::Batch::create(pipeline::Signal::kTraces);
  ASSERT_TRUE(decoded.mutableTraces().ParseFromString(bytes));
  ASSERT_TRUE(input->consume(std::move(decoded)).ok());
  auto* c = static_cast<SpanMetricsConnector*>(connector->get());
  ASSERT_TRUE(c->flushNow().ok());
  for (const auto& sink : {f.a, f.b}) {
    auto batches = sink->batches();
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].itemCount(), 2u);  // one calls point, one duration point
    ASSERT_TRUE(batches[0].wireBytes().has_value());
    auto got = readMetrics(std::string(*batches[0].wireBytes()));
    ASSERT_EQ(got.series.size(), 1u);
    EXPECT_EQ(got.series.begin()->second.calls, 4u);
  }
  const std::string scrape = f.metrics.renderPrometheus();
  EXPECT_NE(scrape.find("otlpd_connector_spanmetrics_spans_total{connector=\"spanmetrics\"} 4"),
            std::string::npos)
      << scrape;
  EXPECT_NE(scrape.find("otlpd_connector_spanmetrics_series{connector=\"spanmetrics\"} 1"),
            std::string::npos);
  EXPECT_NE(scrape.find("otlpd_connector_spanmetrics_flushes_total{connector=\"spanmetrics\"} 2"),
            std::string::npos);
}

TEST(SpanMetricsConnector, FlushThreadRunsEveryInterval) {
  Fixture f;
  auto connector = f.create("metrics_flush_interval: 20ms");
  ASSERT_TRUE(connector.ok());
  NoHost host;
  ASSERT_TRUE((*connector)->start(host).ok());
  auto input = (*connector)->input(pipeline::Signal::kTraces);
  ASSERT_TRUE(
      input->consume(tracesBatch(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), 1)).ok());
  EXPECT_TRUE(f.a->waitFor(2, absl::Seconds(10)));
  ASSERT_TRUE((*connector)->shutdown().ok());
}

TEST(SpanMetricsConnector, ShutdownFlushesOnceAndRefusesLaterSpans) {
  Fixture f;
  auto connector = f.create("");  // 60s: only shutdown flushes within the test
  ASSERT_TRUE(connector.ok());
  NoHost host;
  ASSERT_TRUE((*connector)->start(host).ok());
  auto input = (*connector)->input(pipeline::Signal::kTraces);
  ASSERT_TRUE(
      input->consume(tracesBatch(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), 1)).ok());
  EXPECT_TRUE(f.a->batches().empty());
  ASSERT_TRUE((*connector)->shutdown().ok());
  ASSERT_EQ(f.a->batches().size(), 1u);
  ASSERT_EQ(f.b->batches().size(), 1u);
  ASSERT_TRUE((*connector)->shutdown().ok());  // idempotent
  EXPECT_EQ(f.a->batches().size(), 1u);
  EXPECT_EQ(
      input->consume(tracesBatch(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), 1)).code(),
      absl::StatusCode::kUnavailable);
}

TEST(SpanMetricsConnector, RefusedMetricsAreCountedAndTheOtherOutputStillGetsThem) {
  Fixture f;
  auto connector = f.create("");
  ASSERT_TRUE(connector.ok());
  f.a->refuse(absl::UnavailableError("queue full"));
  auto input = (*connector)->input(pipeline::Signal::kTraces);
  ASSERT_TRUE(
      input->consume(tracesBatch(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), 1)).ok());
  auto* c = static_cast<SpanMetricsConnector*>(connector->get());
  EXPECT_EQ(c->flushNow().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(f.b->batches().size(), 1u);
  EXPECT_NE(f.metrics.renderPrometheus().find(
                "otlpd_connector_spanmetrics_flush_failures_total{connector=\"spanmetrics\"} 1"),
            std::string::npos);
  // Nothing new and nothing held: an empty aggregator sends nothing.
  Fixture empty;
  auto idle = empty.create("");
  ASSERT_TRUE(static_cast<SpanMetricsConnector*>(idle->get())->flushNow().ok());
  EXPECT_TRUE(empty.a->batches().empty());
}

TEST(SpanMetricsConnector, ConfigErrorsGoToTheConfig) {
  Fixture f;
  auto connector = f.create("metrics_flush_interval: -1s\nbogus: 1");
  EXPECT_FALSE(f.errors.empty());
  EXPECT_NE(f.errors.toString().find("connectors.spanmetrics.bogus"), std::string::npos);
}

TEST(SpanMetricsConnector, RefusesSignalsItDoesNotJoin) {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors;
  auto root = config::parseYaml("{}", "test");
  config::ConfigNode node(*root, "connectors.spanmetrics", errors);
  auto factory = makeSpanMetricsFactory();
  auto logs_in = factory->create(pipeline::CreateSettings{{"spanmetrics", ""}, metrics}, node,
                                 {pipeline::Signal::kLogs}, {});
  EXPECT_FALSE(logs_in.ok());
  auto traces_out = factory->create(pipeline::CreateSettings{{"spanmetrics", ""}, metrics}, node,
                                    {pipeline::Signal::kTraces},
                                    {{"traces/x", pipeline::Signal::kTraces, nullptr}});
  EXPECT_FALSE(traces_out.ok());
}

}  // namespace
}  // namespace otlpd::connectors::spanmetrics
