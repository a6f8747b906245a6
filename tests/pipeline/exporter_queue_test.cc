#include "pipeline/exporter_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "common/metrics_registry.h"
#include "pipeline/deferred_ack.h"
#include "pipeline/fanout.h"

namespace otlpd::pipeline {
namespace {

class NullHost final : public Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

// An exporter that blocks while `gate` is closed and answers with `results` in turn.
class ScriptedExporter final : public Exporter {
 public:
  absl::Status start(Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(Batch&& batch) override {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return open; });
    ++attempts;
    absl::Status result = results.empty() ? absl::OkStatus() : results.front();
    if (!results.empty()) results.erase(results.begin());
    if (result.ok()) delivered += batch.itemCount();
    changed.notify_all();
    return result;
  }
  void setOpen(bool value) {
    std::lock_guard lock(mutex);
    open = value;
    changed.notify_all();
  }
  bool waitForDelivered(size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return delivered >= n; });
  }
  std::mutex mutex;
  std::condition_variable changed;
  bool open = true;
  std::vector<absl::Status> results;
  size_t delivered = 0;
  int attempts = 0;
};

Batch spans(size_t n) {
  Batch b = Batch::create(Signal::kTraces);
  auto* ss = b.mutableTraces().add_resource_spans()->add_scope_spans();
  for (size_t i = 0; i < n; ++i) ss->add_spans()->set_name("span");
  return b;
}

class ExporterQueueTest : public ::testing::Test {
 protected:
  std::shared_ptr<Exporter> queued(ScriptedExporter*& raw, ExporterQueueOptions options = {}) {
    auto inner = std::make_unique<ScriptedExporter>();
    raw = inner.get();
    std::shared_ptr<Exporter> e =
        makeQueuedExporter(std::move(inner), "scripted", Signal::kTraces, metrics_, options);
    EXPECT_TRUE(e->start(host_).ok());
    return e;
  }
  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  NullHost host_;
};

TEST_F(ExporterQueueTest, AStalledExporterDoesNotHoldUpTheOthers) {
  ScriptedExporter* stalled = nullptr;
  ScriptedExporter* healthy = nullptr;
  auto slow = queued(stalled);
  auto fast = queued(healthy);
  stalled->setOpen(false);
  auto fan = fanOut({slow, fast});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fan->consume(spans(2)).ok());
  EXPECT_TRUE(healthy->waitForDelivered(6));
  EXPECT_EQ(stalled->delivered, 0u);
  stalled->setOpen(true);
  EXPECT_TRUE(stalled->waitForDelivered(6));
  EXPECT_TRUE(slow->shutdown().ok());
  EXPECT_TRUE(fast->shutdown().ok());
}

TEST_F(ExporterQueueTest, FlushWaitsForWhatWasQueuedAndHitsItsDeadlineWhenStalled) {
  ScriptedExporter* inner = nullptr;
  auto e = queued(inner);
  auto* flushable = dynamic_cast<Flushable*>(e.get());
  ASSERT_NE(flushable, nullptr);
  inner->setOpen(false);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->consume(spans(2)).ok());
  EXPECT_EQ(flushable->flush(absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  inner->setOpen(true);
  ASSERT_TRUE(flushable->flush(absl::Now() + absl::Seconds(30)).ok());
  {
    std::lock_guard lock(inner->mutex);
    EXPECT_EQ(inner->delivered, 6u);  // all of it, by the time flush returned
  }
  EXPECT_TRUE(e->shutdown().ok());
}

// The queue's own count of a batch: the capacity of exactly one such batch.
size_t bytesOf(const Batch& b) {
  return std::max<size_t>({b.reservedBytes(), b.heldBytes(), 1});
}

// block_on_overflow with room for one batch of spans(1): the next one overflows.
ExporterQueueOptions blockingWithRoomForOneBatch() {
  ExporterQueueOptions options;
  options.capacity_bytes = bytesOf(spans(1));
  options.block_on_overflow = true;
  return options;
}

// What a deferred acknowledgement was answered with, once it was.
struct Answer {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<absl::Status> status;
  void set(absl::Status s) {
    std::lock_guard lock(mu);
    status = std::move(s);
    cv.notify_all();
  }
  std::optional<absl::Status> waitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, timeout, [&] { return status.has_value(); });
    return status;
  }
};

// Consumes `batch` as the OTLP/gRPC receiver does, in a deferred-ack scope; `answer` gets the
// acknowledgement when it is sent. Returns consume()'s status and whether a hold was taken.
std::pair<absl::Status, bool> consumeDeferred(Exporter& e, Batch batch, Answer& answer) {
  auto deferred = std::make_shared<DeferredAck>();
  absl::Status s;
  {
    DeferredAck::Scope scope(*deferred);
    s = e.consume(std::move(batch));
  }
  const bool held = deferred->held();
  if (s.ok()) deferred->whenReleased([&answer](absl::Status st) { answer.set(std::move(st)); });
  return {s, held};
}

TEST_F(ExporterQueueTest, BlockOnOverflowHoldsTheAcknowledgementUntilTheBatchFits) {
  ScriptedExporter* stalled = nullptr;
  ExporterQueueOptions options = blockingWithRoomForOneBatch();
  auto e = queued(stalled, options);
  stalled->setOpen(false);
  Answer first, second, third;
  ASSERT_TRUE(consumeDeferred(*e, spans(1), first).first.ok());
  EXPECT_EQ(first.waitFor(std::chrono::seconds(5)).value_or(absl::UnknownError("none")),
            absl::OkStatus());  // it fit: acknowledged at once
  // The queue is full: the next batch is taken, its OK held back.
  auto [status, held] = consumeDeferred(*e, spans(1), second);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(held);
  EXPECT_FALSE(second.waitFor(std::chrono::milliseconds(100)).has_value());
  // Past twice the capacity it refuses, as without block_on_overflow.
  EXPECT_EQ(consumeDeferred(*e, spans(1), third).first.code(), absl::StatusCode::kUnavailable);
  stalled->setOpen(true);
  EXPECT_EQ(second.waitFor(std::chrono::seconds(10)).value_or(absl::UnknownError("none")),
            absl::OkStatus());
  EXPECT_TRUE(stalled->waitForDelivered(2));
  EXPECT_TRUE(e->shutdown().ok());
  EXPECT_EQ(stalled->delivered, 2u);
}

TEST_F(ExporterQueueTest, BlockOnOverflowWithoutADeferredAckWaitsInPlace) {
  ScriptedExporter* stalled = nullptr;
  ExporterQueueOptions options = blockingWithRoomForOneBatch();
  auto e = queued(stalled, options);
  stalled->setOpen(false);
  ASSERT_TRUE(e->consume(spans(1)).ok());
  std::atomic<bool> returned{false};
  absl::Status waited;
  std::thread caller([&] {
    waited = e->consume(spans(1));  // an OTLP/HTTP handler: no scope, so it blocks
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned.load());
  stalled->setOpen(true);
  caller.join();
  EXPECT_TRUE(waited.ok()) << waited;
  EXPECT_TRUE(stalled->waitForDelivered(2));
  EXPECT_TRUE(e->shutdown().ok());
}

// A caller that waits in place is refused once its wait is over: an exporter stuck for good must
// not keep a receiver's handler threads.
TEST_F(ExporterQueueTest, BlockOnOverflowInPlaceGivesUpAfterItsLongestWait) {
  ScriptedExporter* stalled = nullptr;
  ExporterQueueOptions options = blockingWithRoomForOneBatch();
  options.longest_wait_in_place = absl::Milliseconds(100);
  auto e = queued(stalled, options);
  stalled->setOpen(false);
  ASSERT_TRUE(e->consume(spans(1)).ok());
  const auto before = std::chrono::steady_clock::now();
  const absl::Status s = e->consume(spans(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_GE(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(100));
  stalled->setOpen(true);
  EXPECT_TRUE(e->shutdown().ok());
  EXPECT_EQ(stalled->delivered, 1u);
}

TEST_F(ExporterQueueTest, AtShutdownAHeldAcknowledgementIsAnsweredRetryably) {
  ScriptedExporter* failing = nullptr;
  ExporterQueueOptions options = blockingWithRoomForOneBatch();
  options.drain_timeout = absl::Milliseconds(50);
  auto e = queued(failing, options);
  {
    std::lock_guard lock(failing->mutex);
    failing->results.assign(1000, absl::UnavailableError("downstream is down"));
  }
  Answer first, second;
  ASSERT_TRUE(consumeDeferred(*e, spans(1), first).first.ok());
  ASSERT_TRUE(consumeDeferred(*e, spans(1), second).second);
  EXPECT_TRUE(e->shutdown().ok());
  const auto answer = second.waitFor(std::chrono::seconds(5));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->code(), absl::StatusCode::kUnavailable) << *answer;
  EXPECT_EQ(failing->delivered, 0u);
}

TEST_F(ExporterQueueTest, AFullQueueRefusesRetryably) {
  ScriptedExporter* stalled = nullptr;
  ExporterQueueOptions options;
  options.capacity_bytes = 1;  // one batch at a time
  auto e = queued(stalled, options);
  stalled->setOpen(false);
  // The first batch fits (an empty queue takes anything) and stays counted while the worker is
  // stuck exporting it, so the next one finds the queue full.
  ASSERT_TRUE(e->consume(spans(1)).ok());
  absl::Status s = e->consume(spans(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  stalled->setOpen(true);
  EXPECT_TRUE(e->shutdown().ok());
  EXPECT_EQ(stalled->delivered, 1u);
}

// The queue's backpressure flag (receivers refuse before reading while it is up) is up exactly
// while a batch of the recent sizes would be refused, and down again once the queue drains.
TEST_F(ExporterQueueTest, BackpressureIsUpWhileABatchOfTheRecentSizesWouldBeRefused) {
  ScriptedExporter* stalled = nullptr;
  ExporterQueueOptions options;
  const size_t one = std::max(spans(1).heldBytes(), size_t{1});  // as the queue counts it
  options.capacity_bytes = 2 * one + one / 2;  // room for two batches of this size, not three
  auto e = queued(stalled, options);
  auto* reporter = dynamic_cast<BackpressureReporter*>(e.get());
  ASSERT_NE(reporter, nullptr);
  BackpressureSet set;
  set.add(&reporter->backpressure());
  auto gate = set.makeGate();
  stalled->setOpen(false);
  EXPECT_FALSE(gate->closed());
  ASSERT_TRUE(e->consume(spans(1)).ok());
  EXPECT_FALSE(gate->closed()) << "room for another batch: a request must not be refused early";
  ASSERT_TRUE(e->consume(spans(1)).ok());
  EXPECT_TRUE(gate->closed()) << "a third batch of this size would be refused";
  EXPECT_EQ(e->consume(spans(1)).code(), absl::StatusCode::kUnavailable);
  stalled->setOpen(true);
  // flush() returns once the worker is past both batches, i.e. the queue is empty.
  auto* flushable = dynamic_cast<Flushable*>(e.get());
  ASSERT_NE(flushable, nullptr);
  ASSERT_TRUE(flushable->flush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_FALSE(gate->closed()) << "drained";
  EXPECT_TRUE(e->consume(spans(1)).ok());
  EXPECT_TRUE(e->shutdown().ok());
  EXPECT_EQ(stalled->delivered, 3u);
}

TEST_F(ExporterQueueTest, RetriesRetryableFailuresAndDropsPermanentOnesVisibly) {
  ScriptedExporter* inner = nullptr;
  auto e = queued(inner);
  {
    std::lock_guard lock(inner->mutex);
    inner->results = {absl::UnavailableError("disk full"), absl::UnavailableError("disk full"),
                      absl::OkStatus(), absl::InvalidArgumentError("bad data")};
  }
  ASSERT_TRUE(e->consume(spans(3)).ok());
  EXPECT_TRUE(inner->waitForDelivered(3));
  EXPECT_EQ(inner->attempts, 3);  // two retries, then delivered
  ASSERT_TRUE(e->consume(spans(4)).ok());
  EXPECT_TRUE(e->shutdown().ok());
  EXPECT_EQ(inner->delivered, 3u);
  const std::string scrape = metrics_.renderPrometheus();
  EXPECT_NE(scrape.find(
                R"(otlpd_exporter_send_failed_spans_total{exporter="scripted",signal="traces"} 4)"),
            std::string::npos)
      << scrape;
  EXPECT_NE(
      scrape.find(R"(otlpd_exporter_sent_spans_total{exporter="scripted",signal="traces"} 3)"),
      std::string::npos);
}

}  // namespace
}  // namespace otlpd::pipeline
