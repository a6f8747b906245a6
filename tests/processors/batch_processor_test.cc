#include "processors/batch/batch_processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "pipeline/deferred_ack.h"
#include "processors/memory_limiter/memory_limiter.h"

namespace otlpd::processors {
namespace {

using pipeline::Batch;
using pipeline::Signal;

class RecordingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(Batch&& batch) override {
    std::lock_guard lock(mutex);
    sizes.push_back(batch.itemCount());
    return result;
  }
  std::mutex mutex;
  std::vector<size_t> sizes;
  absl::Status result;
};

class NullHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

Batch spans(size_t n) {
  Batch b = Batch::create(Signal::kTraces);
  auto* ss = b.mutableTraces().add_resource_spans()->add_scope_spans();
  for (size_t i = 0; i < n; ++i) ss->add_spans();
  return b;
}

class BatchProcessorTest : public ::testing::Test {
 protected:
  std::unique_ptr<pipeline::Processor> make(const std::string& yaml) {
    auto factory = batch::makeBatchProcessorFactory();
    auto node = *config::parseYaml(yaml.empty() ? "{}" : yaml, "t");
    config::ConfigNode cfg(node, "processors.batch", errors_);
    auto p = factory->create(pipeline::CreateSettings{{"batch", ""}, metrics_}, cfg,
                             Signal::kTraces, next_);
    EXPECT_TRUE(p.ok());
    EXPECT_TRUE(errors_.empty()) << errors_.toString();
    EXPECT_TRUE((*p)->start(host_).ok());
    return *std::move(p);
  }
  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors_;
  NullHost host_;
  std::shared_ptr<RecordingConsumer> next_ = std::make_shared<RecordingConsumer>();
};

TEST_F(BatchProcessorTest, CallersWaitForTheBatchAndGetTheDownstreamResult) {
  auto p = make("send_batch_size: 10\ntimeout: 10s\n");
  next_->result = absl::UnavailableError("downstream down");
  std::atomic<int> failures{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 5; ++i) {
    senders.emplace_back([&] {
      if (!p->consume(spans(2)).ok()) ++failures;
    });
  }
  for (auto& t : senders) t.join();
  // Five callers of 2 spans filled one batch of 10; every caller saw the downstream error.
  EXPECT_EQ(failures.load(), 5);
  ASSERT_EQ(next_->sizes.size(), 1u);
  EXPECT_EQ(next_->sizes[0], 10u);
  EXPECT_TRUE(p->shutdown().ok());
}

// A caller whose receiver answers later (a DeferredAck scope, as OTLP/gRPC opens) is not kept
// waiting: consume() returns at once, one thread fills the whole batch, and each caller's answer
// comes with the batch's outcome.
TEST_F(BatchProcessorTest, ACallerThatCanBeAnsweredLaterDoesNotWaitForTheBatch) {
  auto p = make("send_batch_size: 10\ntimeout: 10s\n");
  next_->result = absl::UnavailableError("downstream down");
  std::vector<std::shared_ptr<pipeline::DeferredAck>> acks;
  std::vector<absl::Status> answers(5, absl::UnknownError("not answered"));
  for (int i = 0; i < 5; ++i) {  // all on this one thread
    acks.push_back(std::make_shared<pipeline::DeferredAck>());
    pipeline::DeferredAck::Scope scope(*acks.back());
    EXPECT_TRUE(p->consume(spans(2)).ok());
    EXPECT_TRUE(acks.back()->held());
  }
  for (int i = 0; i < 5; ++i) {
    acks[static_cast<size_t>(i)]->whenReleased(
        [&answers, i](const absl::Status& s) { answers[static_cast<size_t>(i)] = s; });
  }
  ASSERT_EQ(next_->sizes.size(), 1u);
  EXPECT_EQ(next_->sizes[0], 10u);
  for (const auto& a : answers) EXPECT_TRUE(absl::IsUnavailable(a)) << a;
  EXPECT_TRUE(p->shutdown().ok());
}

// What the batch was sent to may answer later too (the store with `durability: sync`): every
// caller of the batch, held or waiting in place, is answered only once that consumer is done.
class HoldingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(Batch&& batch) override {
    std::lock_guard lock(mutex);
    sizes.push_back(batch.itemCount());
    if (pipeline::DeferredAck* ack = pipeline::DeferredAck::current()) holds.push_back(ack->hold());
    return absl::OkStatus();
  }
  std::mutex mutex;
  std::vector<size_t> sizes;
  std::vector<pipeline::DeferredAck::Done> holds;
};

TEST_F(BatchProcessorTest, CallersAreAnsweredWhenTheConsumerDownstreamLetsGo) {
  auto holding = std::make_shared<HoldingConsumer>();
  auto node = *config::parseYaml("send_batch_size: 4\ntimeout: 10s\n", "t");
  config::ConfigNode cfg(node, "processors.batch", errors_);
  auto created = batch::makeBatchProcessorFactory()->create(
      pipeline::CreateSettings{{"batch", ""}, metrics_}, cfg, Signal::kTraces, holding);
  ASSERT_TRUE(created.ok());
  auto& p = *created;
  ASSERT_TRUE(p->start(host_).ok());
  auto held = std::make_shared<pipeline::DeferredAck>();
  absl::Status held_answer = absl::UnknownError("not answered");
  {
    pipeline::DeferredAck::Scope scope(*held);
    ASSERT_TRUE(p->consume(spans(2)).ok());
  }
  held->whenReleased([&](const absl::Status& s) { held_answer = s; });
  std::atomic<bool> in_place_answered{false};
  std::thread in_place([&] {  // no scope: waits in consume()
    EXPECT_TRUE(p->consume(spans(2)).ok());
    in_place_answered = true;
  });
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(holding->mutex);
      if (!holding->holds.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(in_place_answered.load()) << "answered before the consumer downstream let go";
  EXPECT_EQ(held_answer.code(), absl::StatusCode::kUnknown) << held_answer;
  std::vector<pipeline::DeferredAck::Done> holds;
  {
    std::lock_guard lock(holding->mutex);
    ASSERT_EQ(holding->sizes.size(), 1u);
    EXPECT_EQ(holding->sizes[0], 4u);
    holds.swap(holding->holds);
  }
  ASSERT_EQ(holds.size(), 1u);
  holds[0](absl::OkStatus());
  in_place.join();
  EXPECT_TRUE(in_place_answered.load());
  EXPECT_TRUE(held_answer.ok()) << held_answer;
  EXPECT_TRUE(p->shutdown().ok());
}

TEST_F(BatchProcessorTest, TimeoutSendsAPartialBatch) {
  auto p = make("send_batch_size: 1000\ntimeout: 50ms\n");
  const absl::Time start = absl::Now();
  EXPECT_TRUE(p->consume(spans(3)).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(40));
  ASSERT_EQ(next_->sizes.size(), 1u);
  EXPECT_EQ(next_->sizes[0], 3u);
  EXPECT_TRUE(p->shutdown().ok());
}

TEST_F(BatchProcessorTest, FlushSendsTheOpenBatchBeforeItsTimeout) {
  auto p = make("send_batch_size: 1000\ntimeout: 1h\n");
  auto* flushable = dynamic_cast<pipeline::Flushable*>(p.get());
  ASSERT_NE(flushable, nullptr);
  std::atomic<bool> returned{false};
  absl::Status result = absl::UnknownError("not returned");
  std::thread caller([&] {
    result = p->consume(spans(3));
    returned = true;
  });
  // The caller waits for its batch (an hour without a flush); flush until it is in and sent.
  for (int i = 0; i < 10000 && !returned; ++i) {
    EXPECT_TRUE(flushable->flush(absl::Now() + absl::Seconds(1)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  caller.join();
  EXPECT_TRUE(result.ok());
  ASSERT_EQ(next_->sizes.size(), 1u);
  EXPECT_EQ(next_->sizes[0], 3u);
  EXPECT_TRUE(p->shutdown().ok());
}

TEST_F(BatchProcessorTest, LargeBatchesAreSplitAtTheMaximum) {
  auto p = make("send_batch_size: 4\nsend_batch_max_size: 5\n");
  EXPECT_TRUE(p->consume(spans(12)).ok());
  EXPECT_EQ(next_->sizes, (std::vector<size_t>{5, 5, 2}));
  EXPECT_TRUE(p->shutdown().ok());
}

TEST_F(BatchProcessorTest, InvalidConfigIsReported) {
  auto factory = batch::makeBatchProcessorFactory();
  auto node = *config::parseYaml("send_batch_size: 10\nsend_batch_max_size: 5\ntimeout: 0s\n", "t");
  config::ConfigNode cfg(node, "processors.batch", errors_);
  ASSERT_TRUE(
      factory
          ->create(pipeline::CreateSettings{{"batch", ""}, metrics_}, cfg, Signal::kTraces, next_)
          .ok());
  EXPECT_EQ(errors_.size(), 2u) << errors_.toString();
}

TEST(MemoryLimiter, SetsTheBudgetToTheSoftLimitAndRequiresALimit) {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::MemoryBudget budget;
  auto factory = memory_limiter::makeMemoryLimiterFactory();
  auto next = std::make_shared<RecordingConsumer>();
  {
    config::ConfigErrors errors;
    auto node =
        *config::parseYaml("check_interval: 1s\nlimit_mib: 100\nspike_limit_mib: 20\n", "t");
    config::ConfigNode cfg(node, "processors.memory_limiter", errors);
    ASSERT_TRUE(factory
                    ->create(pipeline::CreateSettings{{"memory_limiter", ""}, metrics, &budget},
                             cfg, Signal::kTraces, next)
                    .ok());
    EXPECT_TRUE(errors.empty()) << errors.toString();
    // The soft limit (100 - 20 MiB) less what this process already uses and half the spike.
    EXPECT_LT(budget.limit(), size_t{70} << 20);
    EXPECT_GE(budget.limit(), size_t{20} << 20);
  }
  {
    config::ConfigErrors errors;
    auto node = *config::parseYaml("limit_mib: 0\n", "t");
    config::ConfigNode cfg(node, "processors.memory_limiter", errors);
    (void)factory->create(pipeline::CreateSettings{{"memory_limiter", ""}, metrics, &budget}, cfg,
                          Signal::kTraces, next);
    EXPECT_EQ(errors.size(), 2u) << errors.toString();  // check_interval and the limit
  }
}

TEST(MemoryLimiter, RefusesRetryablyAboveTheSoftLimit) {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  auto factory = memory_limiter::makeMemoryLimiterFactory();
  auto next = std::make_shared<RecordingConsumer>();
  config::ConfigErrors errors;
  // A 1 MiB limit: this test process is always above it.
  auto node = *config::parseYaml("check_interval: 10ms\nlimit_mib: 1\n", "t");
  config::ConfigNode cfg(node, "processors.memory_limiter", errors);
  auto p = factory->create(pipeline::CreateSettings{{"memory_limiter", ""}, metrics}, cfg,
                           Signal::kTraces, next);
  ASSERT_TRUE(p.ok());
  NullHost host;
  ASSERT_TRUE((*p)->start(host).ok());
  absl::Status s = (*p)->consume(spans(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(next->sizes.empty());
  // Receivers refuse before reading meanwhile, and what follows the limiter counts too.
  auto* reporter = dynamic_cast<pipeline::BackpressureReporter*>(p->get());
  ASSERT_NE(reporter, nullptr);
  EXPECT_TRUE(reporter->backpressure().full());
  EXPECT_TRUE((*p)->passesBackpressure());
  EXPECT_TRUE((*p)->shutdown().ok());
}

}  // namespace
}  // namespace otlpd::processors
