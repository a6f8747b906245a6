// The tail_sampling processor as the service builds it: its config keys, the factory, the real
// policies read from YAML, and the decision thread on the real clock.
#include "processors/tail_sampling/tail_sampling_processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "config/loader.h"
#include "engine_test_support.h"
#include "server/builtin_components.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace engine_testing;  // NOLINT

struct Made {
  std::unique_ptr<TailSamplingProcessor> processor;
  std::string errors;
};

class TailSamplingProcessorTest : public ::testing::Test {
 protected:
  Made make(std::string_view yaml, ProcessorOptions options = {}) {
    Made made;
    auto node = config::parseYaml(yaml, "test");
    if (!node.ok()) {
      made.errors = std::string(node.status().message());
      return made;
    }
    config::ConfigErrors errors;
    config::ConfigNode cfg(*node, "processors.tail_sampling", errors);
    made.processor = TailSamplingProcessor::create(
        pipeline::CreateSettings{{"tail_sampling", ""}, metrics_, &budget_}, cfg, next_, options);
    cfg.rejectUnknownKeys();
    made.errors = errors.toString();
    return made;
  }
  Made makeManual(std::string_view yaml) { return make(yaml, ProcessorOptions{&clock_, false}); }

  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::MemoryBudget budget_;
  ManualClock clock_;
  std::shared_ptr<RecordingConsumer> next_ = std::make_shared<RecordingConsumer>();
};

constexpr const char* kAlways = "policies: [{name: all, type: always_sample}]\n";

TEST_F(TailSamplingProcessorTest, RegisteredForTracesOnly) {
  pipeline::FactoryRegistry registry;
  server::registerBuiltinComponents(registry);
  const pipeline::Factory* f = registry.find(pipeline::ComponentKind::kProcessor, "tail_sampling");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->supports(pipeline::Signal::kTraces));
  EXPECT_FALSE(f->supports(pipeline::Signal::kMetrics));
  EXPECT_FALSE(f->supports(pipeline::Signal::kLogs));
}

TEST_F(TailSamplingProcessorTest, EveryKeyIsRead) {
  Made made = makeManual(
      "decision_wait: 10s\n"
      "num_traces: 100\n"
      "expected_new_traces_per_sec: 10\n"
      "decision_cache: {sampled_cache_size: 1000, non_sampled_cache_size: 2000}\n"
      "root_grace: 500ms\n"
      "max_buffered_bytes: 1048576\n"
      "drop_pending_traces_on_shutdown: false\n" +
      std::string(kAlways));
  EXPECT_EQ(made.errors, "");
  ASSERT_NE(made.processor, nullptr);
  // root_grace 500ms.
  ASSERT_TRUE(made.processor->consume(wireBatch(request({{.trace = 1, .span = 1}}))).ok());
  clock_.advance(absl::Milliseconds(499));
  EXPECT_EQ(made.processor->runDecisions(), 0u);
  clock_.advance(absl::Milliseconds(1));
  EXPECT_EQ(made.processor->runDecisions(), 1u);
  // decision_wait 10s.
  ASSERT_TRUE(
      made.processor->consume(wireBatch(request({{.trace = 2, .span = 2, .parent = 1}}))).ok());
  clock_.advance(absl::Milliseconds(9999));
  EXPECT_EQ(made.processor->runDecisions(), 0u);
  clock_.advance(absl::Milliseconds(1));
  EXPECT_EQ(made.processor->runDecisions(), 1u);
  // num_traces 100.
  for (uint64_t t = 10; t < 111; ++t) {
    ASSERT_TRUE(
        made.processor->consume(wireBatch(request({{.trace = t, .span = 2, .parent = 1}}))).ok());
  }
  EXPECT_EQ(made.processor->tracesHeld(), 100u);
}

TEST_F(TailSamplingProcessorTest, DefaultsAreTheCollectorsPlusOurs) {
  Made made = makeManual(kAlways);
  EXPECT_EQ(made.errors, "");
  ASSERT_TRUE(made.processor->consume(wireBatch(request({{.trace = 1, .span = 1}}))).ok());
  ASSERT_TRUE(
      made.processor->consume(wireBatch(request({{.trace = 2, .span = 2, .parent = 1}}))).ok());
  clock_.advance(absl::Milliseconds(1999));
  EXPECT_EQ(made.processor->runDecisions(), 0u);
  clock_.advance(absl::Milliseconds(1));
  EXPECT_EQ(made.processor->runDecisions(), 1u);  // root_grace 2s
  clock_.advance(absl::Seconds(28));
  EXPECT_EQ(made.processor->runDecisions(), 1u);  // decision_wait 30s
}

// Whether `errors` has a line for `path` (its position follows) with `message`.
bool hasError(const std::string& errors, const std::string& path, const std::string& message) {
  std::istringstream lines(errors);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(path + " (", 0) == 0 && line.find(message) != std::string::npos) return true;
  }
  return false;
}

TEST_F(TailSamplingProcessorTest, ConfigErrorsNameTheirPath) {
  const std::string p = "processors.tail_sampling.";
  const std::string policies = kAlways;
  EXPECT_TRUE(hasError(make("decision_wait: 0s\n" + policies).errors, p + "decision_wait",
                       "must be greater than 0"));
  EXPECT_TRUE(hasError(make("num_traces: 0\n" + policies).errors, p + "num_traces", ""));
  EXPECT_TRUE(hasError(make("decision_cache: {sampled_cache_size: -1}\n" + policies).errors,
                       p + "decision_cache.sampled_cache_size", ""));
  EXPECT_TRUE(hasError(make("decision_cache: {size: 1}\n" + policies).errors,
                       p + "decision_cache.size", "unknown key"));
  EXPECT_TRUE(
      hasError(make("max_buffered_bytes: 100\n" + policies).errors, p + "max_buffered_bytes", ""));
  EXPECT_TRUE(hasError(make("root_grace: soon\n" + policies).errors, p + "root_grace", ""));
  EXPECT_TRUE(hasError(make("decision_wait: 5s\n").errors, p + "policies",
                       "at least one policy is required"));
  EXPECT_TRUE(
      hasError(make("sample_first: true\n" + policies).errors, p + "sample_first", "unknown key"));
  EXPECT_EQ(make(policies).errors, "");
}

// The three policies, read from YAML as a user writes them, through the engine.
TEST_F(TailSamplingProcessorTest, RealPoliciesDecideThroughTheEngine) {
  Made made = makeManual(
      "policies:\n"
      "  - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}\n"
      "  - {name: slow, type: latency, latency: {threshold_ms: 500}}\n"
      "  - {name: none-sampled, type: probabilistic, probabilistic: {sampling_percentage: 0}}\n");
  ASSERT_EQ(made.errors, "");
  const int64_t t0 = 1'700'000'000'000'000'000;
  ASSERT_TRUE(made.processor
                  ->consume(wireBatch(request({
                      // 1: an error in a child.
                      {.trace = 1, .span = 2, .parent = 1, .error = true},
                      {.trace = 1, .span = 1},
                      // 2: 800 ms from the first start to the last end.
                      {.trace = 2,
                       .span = 2,
                       .parent = 1,
                       .start_unix_nanos = t0,
                       .end_unix_nanos = t0 + 100'000'000},
                      {.trace = 2,
                       .span = 1,
                       .start_unix_nanos = t0 + 50'000'000,
                       .end_unix_nanos = t0 + 800'000'000},
                      // 3: neither.
                      {.trace = 3, .span = 1},
                  })))
                  .ok());
  clock_.advance(absl::Seconds(2));
  EXPECT_EQ(made.processor->runDecisions(), 3u);
  EXPECT_EQ(next_->spansOf(1), 2u);
  EXPECT_EQ(next_->spansOf(2), 2u);
  EXPECT_EQ(next_->spansOf(3), 0u);
  auto count = [&](const char* policy, const char* decision) {
    return metrics_
        .counter("otlpd_processor_tail_sampling_traces_total", "",
                 {{"processor", "tail_sampling"}, {"policy", policy}, {"decision", decision}})
        .value();
  };
  EXPECT_EQ(count("errors", "kept"), 1u);
  EXPECT_EQ(count("slow", "kept"), 1u);
  EXPECT_EQ(count("", "dropped"), 1u);
}

TEST_F(TailSamplingProcessorTest, DecisionThreadDecidesOnTheRealClock) {
  Made made = make("root_grace: 50ms\n" + std::string(kAlways));
  ASSERT_EQ(made.errors, "");
  struct NoHost final : pipeline::Host {
    void publishEndpoint(const std::string&, const std::string&) override {}
  } host;
  ASSERT_TRUE(made.processor->start(host).ok());
  ASSERT_TRUE(made.processor
                  ->consume(wireBatch(
                      request({{.trace = 1, .span = 2, .parent = 1}, {.trace = 1, .span = 1}})))
                  .ok());
  // No sleep decides anything: the test waits (up to 10 s) for what the thread does.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (next_->spansOf(1) < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(next_->spansOf(1), 2u);
  // A trace without its root is held until shutdown, which decides it.
  ASSERT_TRUE(
      made.processor->consume(wireBatch(request({{.trace = 2, .span = 2, .parent = 1}}))).ok());
  EXPECT_EQ(made.processor->tracesHeld(), 1u);
  ASSERT_TRUE(made.processor->shutdown().ok());
  EXPECT_EQ(next_->spansOf(2), 1u);
  EXPECT_EQ(budget_.inUse(), 0u);
}

TEST_F(TailSamplingProcessorTest, ConcurrentSendersAndTheDecisionThreadLoseNothing) {
  Made made = make("root_grace: 5ms\nnum_traces: 300\n" + std::string(kAlways));
  ASSERT_EQ(made.errors, "");
  struct NoHost final : pipeline::Host {
    void publishEndpoint(const std::string&, const std::string&) override {}
  } host;
  ASSERT_TRUE(made.processor->start(host).ok());
  // 4 senders, 250 traces each, every trace in 3 requests (children, children, root); some
  // decided by the thread, some early (num_traces), some at shutdown, some late.
  std::vector<std::thread> senders;
  std::atomic<size_t> failures{0};
  for (uint64_t sender = 0; sender < 4; ++sender) {
    senders.emplace_back([&, sender] {
      for (uint64_t i = 0; i < 250; ++i) {
        const uint64_t t = sender * 1000 + i + 1;
        for (int part = 0; part < 3; ++part) {
          std::vector<SpanSpec> spans;
          for (uint64_t s = 0; s < 3; ++s) {
            const uint64_t id = 2 + static_cast<uint64_t>(part) * 3 + s;
            spans.push_back({.trace = t, .span = id, .parent = part == 2 && s == 2 ? 0u : 1u});
          }
          if (!made.processor->consume(wireBatch(request(spans))).ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  ASSERT_TRUE(made.processor->shutdown().ok());
  EXPECT_EQ(failures.load(), 0u);
  EXPECT_EQ(next_->spans, 4u * 250 * 9);
  for (uint64_t sender = 0; sender < 4; ++sender) {
    for (uint64_t i = 0; i < 250; ++i) EXPECT_EQ(next_->spansOf(sender * 1000 + i + 1), 9u);
  }
  EXPECT_EQ(budget_.inUse(), 0u);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
