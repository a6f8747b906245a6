#include "exporters/helper/queued_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "common/metrics_registry.h"
#include "exporters/helper/dead_letter.h"
#include "exporters/helper/write_ahead_log.h"
#include "pipeline/deferred_ack.h"

namespace otlpd::exporters::helper {
namespace {

namespace fs = std::filesystem;
using pipeline::Batch;
using pipeline::Signal;

class NoHost : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

Batch spans(std::string_view name, int n) {
  Batch b = Batch::create(Signal::kTraces);
  auto* ss = b.mutableTraces().add_resource_spans()->add_scope_spans();
  for (int i = 0; i < n; ++i) {
    auto* s = ss->add_spans();
    s->set_name(std::string(name) + "-" + std::to_string(i));
  }
  return b;
}

// Answers from a script (then OK), and remembers what it got.
class ScriptedSender : public Sender {
 public:
  SendResult send(const Batch& batch, absl::Duration) override {
    std::lock_guard lock(mu);
    ++attempts;
    SendResult r;
    if (!script.empty()) {
      r = script.front();
      script.pop_front();
    }
    if (r.status.ok()) {
      for (const auto& rs : batch.traces().resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& s : ss.spans()) delivered.push_back(s.name());
        }
      }
      ++requests;
    }
    return r;
  }
  std::string destination() const override { return "test://sink"; }

  std::mutex mu;
  std::deque<SendResult> script;
  std::vector<std::string> delivered;
  int attempts = 0;
  int requests = 0;
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/otlpd-helper-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

HelperConfig fastConfig() {
  HelperConfig c;
  c.timeout = absl::Seconds(1);
  c.retry.initial_interval = absl::Milliseconds(5);
  c.retry.max_interval = absl::Milliseconds(20);
  c.retry.max_elapsed_time = absl::Seconds(2);
  c.queue.num_consumers = 2;
  return c;
}

// A sending queue of one request, one consumer, that blocks instead of refusing when full.
HelperConfig blockingQueueOfOneRequest() {
  HelperConfig c = fastConfig();
  c.queue.queue_size = 1;
  c.queue.num_consumers = 1;
  c.queue.block_on_overflow = true;
  return c;
}

bool waitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return cond();
}

struct Fixture {
  explicit Fixture(HelperConfig config) {
    exporter =
        makeQueuedExporter(pipeline::CreateSettings{{"otlp", ""}, metrics}, Signal::kTraces,
                           std::move(config), [this]() -> absl::StatusOr<std::shared_ptr<Sender>> {
                             return std::shared_ptr<Sender>(sender);
                           });
  }
  size_t delivered() {
    std::lock_guard lock(sender->mu);
    return sender->delivered.size();
  }
  // The next `n` sends fail retryably (UNAVAILABLE).
  void failNextSends(int n) {
    std::lock_guard lock(sender->mu);
    for (int i = 0; i < n; ++i)
      sender->script.push_back({absl::UnavailableError("down"), {}, 0, ""});
  }
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<ScriptedSender> sender = std::make_shared<ScriptedSender>();
  std::unique_ptr<pipeline::Exporter> exporter;
  NoHost host;
};

TEST(QueuedExporter, RetriesRetryableErrorsUntilDelivered) {
  Fixture f(fastConfig());
  f.sender->script = {{absl::UnavailableError("down"), {}, 0, ""},
                      {absl::UnavailableError("down"), absl::Milliseconds(1), 0, ""}};
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("a", 3)).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 3; }));
  EXPECT_EQ(f.sender->attempts, 3);
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, PermanentErrorGoesToTheDeadLetterQueueWithoutRetry) {
  TempDir dir;
  HelperConfig c = fastConfig();
  c.dead_letter.directory = dir.path() + "/dlq";
  Fixture f(c);
  f.sender->script = {{absl::InvalidArgumentError("HTTP 400: bad"), {}, 0, ""}};
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("bad", 2)).ok());
  std::vector<DeadLetter> letters;
  EXPECT_TRUE(waitFor([&] {
    auto l = listDeadLetters(c.dead_letter.directory, true, nullptr);
    if (l.ok()) letters = *l;
    return letters.size() == 1;
  }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
  EXPECT_EQ(f.sender->attempts, 1);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].header.items, 2);
  EXPECT_EQ(letters[0].header.destination, "test://sink");
  EXPECT_NE(letters[0].header.reason.find("HTTP 400"), std::string::npos);
  auto batch = decodeDeadLetter(letters[0]);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->itemCount(), 2u);
}

TEST(QueuedExporter, GivesUpAfterMaxElapsedTimeIntoTheDeadLetterQueue) {
  TempDir dir;
  HelperConfig c = fastConfig();
  c.retry.max_elapsed_time = absl::Milliseconds(60);
  c.dead_letter.directory = dir.path();
  Fixture f(c);
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("late", 1)).ok());
  EXPECT_TRUE(waitFor([&] {
    auto l = listDeadLetters(dir.path(), false, nullptr);
    return l.ok() && l->size() == 1 &&
           l->front().header.reason.find("max_elapsed_time") != std::string::npos;
  }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, FullQueueRefusesAsRetryableWhenNotBlocking) {
  HelperConfig c = fastConfig();
  c.queue.queue_size = 2;
  c.queue.num_consumers = 1;
  Fixture f(c);
  // The consumer is stuck retrying the first request, so the queue fills.
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_TRUE(f.exporter->consume(spans("q", 1)).ok());
  EXPECT_TRUE(f.exporter->consume(spans("q", 1)).ok());
  absl::Status s = f.exporter->consume(spans("q", 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();
  }
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 2; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

// Receivers refuse before reading while the queue's backpressure flag is up: with the requests
// sizer exactly while consume() would refuse any request, and down once a request leaves.
TEST(QueuedExporter, BackpressureIsUpExactlyWhileTheQueueRefuses) {
  HelperConfig c = fastConfig();
  c.queue.queue_size = 2;
  c.queue.num_consumers = 1;
  Fixture f(c);
  f.failNextSends(1000);
  auto* reporter = dynamic_cast<pipeline::BackpressureReporter*>(f.exporter.get());
  ASSERT_NE(reporter, nullptr);
  pipeline::BackpressureSet set;
  set.add(&reporter->backpressure());
  auto gate = set.makeGate();
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_TRUE(f.exporter->consume(spans("q", 1)).ok());
  EXPECT_FALSE(gate->closed()) << "room for one more request";
  EXPECT_TRUE(f.exporter->consume(spans("q", 1)).ok());
  EXPECT_TRUE(gate->closed());
  EXPECT_EQ(f.exporter->consume(spans("q", 1)).code(), absl::StatusCode::kUnavailable);
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();
  }
  auto* flushable = dynamic_cast<pipeline::Flushable*>(f.exporter.get());
  ASSERT_NE(flushable, nullptr);
  ASSERT_TRUE(flushable->flush(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_FALSE(gate->closed()) << "drained";
  EXPECT_TRUE(f.exporter->consume(spans("q", 1)).ok());
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

// A queue that makes callers wait instead of refusing never refuses early either.
TEST(QueuedExporter, BlockingQueueRaisesNoBackpressure) {
  Fixture f(blockingQueueOfOneRequest());
  f.failNextSends(3);
  auto* reporter = dynamic_cast<pipeline::BackpressureReporter*>(f.exporter.get());
  ASSERT_NE(reporter, nullptr);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_TRUE(f.exporter->consume(spans("b", 1)).ok());
  EXPECT_FALSE(reporter->backpressure().full());
  EXPECT_TRUE(f.exporter->consume(spans("b", 1)).ok());  // waits for the first to go
  EXPECT_FALSE(reporter->backpressure().full());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 2; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

// With a receiver that answers later (OTLP/gRPC), a full blocking queue takes the request and
// holds its OK until it fits, instead of waiting in consume(): the waiting thread was a gRPC
// polling thread, and every call behind it waited too.
TEST(QueuedExporter, BlockingQueueHoldsTheAnswerInsteadOfTheThread) {
  Fixture f(blockingQueueOfOneRequest());
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("h", 1)).ok());  // fills the queue; its sends fail
  auto deferred = std::make_shared<pipeline::DeferredAck>();
  {
    pipeline::DeferredAck::Scope scope(*deferred);
    const absl::Time before = absl::Now();
    EXPECT_TRUE(f.exporter->consume(spans("h", 1)).ok());
    EXPECT_LT(absl::Now() - before, absl::Milliseconds(500)) << "consume() waited";
  }
  ASSERT_TRUE(deferred->held());
  std::mutex mu;
  std::optional<absl::Status> answer;
  deferred->whenReleased([&](absl::Status s) {
    std::lock_guard lock(mu);
    answer = s;
  });
  absl::SleepFor(absl::Milliseconds(50));
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(answer.has_value()) << "answered while the first request still fills the queue";
  }
  {
    // Past twice the queue's size such a request is refused, retryably.
    auto beyond = std::make_shared<pipeline::DeferredAck>();
    pipeline::DeferredAck::Scope scope(*beyond);
    EXPECT_EQ(f.exporter->consume(spans("h", 1)).code(), absl::StatusCode::kUnavailable);
  }
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();
  }
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return answer.has_value();
  }));
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->ok()) << *answer;
  }
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 2; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

// Without a sending queue the client's answer waits for the delivery. A receiver that answers
// later (OTLP/gRPC) has the answer held while a delivery thread sends and retries, instead of
// its consume() call waiting: that thread was a gRPC polling thread, and every call behind it
// waited too. Other callers still wait in consume().
HelperConfig noQueueOneDeliveryThread() {
  HelperConfig c = fastConfig();
  c.queue.enabled = false;
  c.queue.num_consumers = 1;
  return c;
}

struct HeldAnswer {
  std::shared_ptr<pipeline::DeferredAck> deferred = std::make_shared<pipeline::DeferredAck>();
  std::mutex mu;
  std::optional<absl::Status> answer;

  // consume() inside the ack's scope; the answer, once released, lands in `answer`.
  absl::Status consume(pipeline::Exporter& exporter, Batch batch) {
    absl::Status s;
    {
      pipeline::DeferredAck::Scope scope(*deferred);
      s = exporter.consume(std::move(batch));
    }
    if (deferred->held()) {
      deferred->whenReleased([this](absl::Status released) {
        std::lock_guard lock(mu);
        answer = released;
      });
    }
    return s;
  }
  std::optional<absl::Status> get() {
    std::lock_guard lock(mu);
    return answer;
  }
};

TEST(QueuedExporter, WithoutAQueueTheAnswerWaitsForTheDeliveryInsteadOfTheThread) {
  Fixture f(noQueueOneDeliveryThread());
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  HeldAnswer held;
  const absl::Time before = absl::Now();
  EXPECT_TRUE(held.consume(*f.exporter, spans("n", 2)).ok());
  EXPECT_LT(absl::Now() - before, absl::Milliseconds(500)) << "consume() waited";
  ASSERT_TRUE(held.deferred->held());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(held.get().has_value()) << "answered before the destination took the request";
  EXPECT_EQ(f.delivered(), 0u);
  {
    std::lock_guard lock(f.sender->mu);
    EXPECT_GE(f.sender->attempts, 2) << "the delivery thread retries meanwhile";
    f.sender->script.clear();
  }
  EXPECT_TRUE(waitFor([&] { return held.get().has_value(); }));
  ASSERT_TRUE(held.get().has_value());
  EXPECT_TRUE(held.get()->ok()) << *held.get();
  EXPECT_EQ(f.delivered(), 2u) << "answered OK only once delivered";

  // Without a deferred-ack scope (OTLP/HTTP) consume() itself waits for the delivery.
  EXPECT_TRUE(f.exporter->consume(spans("n", 1)).ok());
  EXPECT_EQ(f.delivered(), 3u);
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

// At shutdown a held request not delivered yet is answered UNAVAILABLE, so that its client sends
// it again: with no queue nothing was acknowledged, and nothing is dead-lettered or dropped.
TEST(QueuedExporter, WithoutAQueueHeldRequestsLeftAtShutdownAreToldToRetry) {
  HelperConfig c = noQueueOneDeliveryThread();
  c.retry.max_elapsed_time = absl::Seconds(30);
  Fixture f(c);
  f.failNextSends(100000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  HeldAnswer sending, waiting;
  ASSERT_TRUE(sending.consume(*f.exporter, spans("s", 1)).ok());  // the thread retries it
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(f.sender->mu);
    return f.sender->attempts >= 1;
  }));
  ASSERT_TRUE(waiting.consume(*f.exporter, spans("w", 1)).ok());  // waits for the thread
  ASSERT_TRUE(sending.deferred->held());
  ASSERT_TRUE(waiting.deferred->held());
  auto* flushable = dynamic_cast<pipeline::Flushable*>(f.exporter.get());
  ASSERT_NE(flushable, nullptr);
  EXPECT_EQ(flushable->flush(absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded)
      << "a flush waits for the held deliveries";
  ASSERT_TRUE(f.exporter->shutdown().ok());
  for (HeldAnswer* h : {&sending, &waiting}) {
    ASSERT_TRUE(waitFor([&] { return h->get().has_value(); }));
    EXPECT_EQ(h->get()->code(), absl::StatusCode::kUnavailable) << *h->get();
  }
  EXPECT_EQ(f.delivered(), 0u);
  for (const char* lost :
       {"otlpd_exporter_dropped_spans_total", "otlpd_exporter_send_failed_spans_total"}) {
    EXPECT_EQ(f.metrics.counter(lost, "", {{"exporter", "otlp"}}).value(), 0u) << lost;
  }
}

// With the items sizer a request's size is not known ahead: the queue calls itself full when a
// request of every recent size would be refused, never while the usual one still fits.
TEST(QueuedExporter, ItemsSizerIsFullWhenNoRecentSizeFits) {
  HelperConfig c = fastConfig();
  c.queue.sizer = Sizer::kItems;
  c.queue.queue_size = 10;
  c.queue.num_consumers = 1;
  Fixture f(c);
  f.failNextSends(1000);
  auto* reporter = dynamic_cast<pipeline::BackpressureReporter*>(f.exporter.get());
  ASSERT_NE(reporter, nullptr);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_TRUE(f.exporter->consume(spans("i", 4)).ok());
  EXPECT_FALSE(reporter->backpressure().full()) << "6 left, requests of 4 fit";
  EXPECT_TRUE(f.exporter->consume(spans("i", 4)).ok());
  EXPECT_TRUE(reporter->backpressure().full()) << "2 left, the smallest recent request is 4";
  EXPECT_EQ(f.exporter->consume(spans("i", 4)).code(), absl::StatusCode::kUnavailable);
  // A smaller request is taken by consume() (it fits) and lowers the recent minimum.
  EXPECT_TRUE(f.exporter->consume(spans("i", 1)).ok());
  EXPECT_FALSE(reporter->backpressure().full()) << "1 left, a request of 1 fits";
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();
  }
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 9; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, BatchesInsideTheQueue) {
  HelperConfig c = fastConfig();
  c.queue.num_consumers = 1;
  c.queue.sizer = Sizer::kItems;
  c.queue.batch_min_size = 10;
  c.queue.flush_timeout = absl::Seconds(2);
  Fixture f(c);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f.exporter->consume(spans("b", 2)).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 10; }));
  EXPECT_EQ(f.sender->requests, 1);
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, FlushDeliversWhatTheQueueIsBatchingWithoutWaitingForMore) {
  HelperConfig c = fastConfig();
  c.queue.sizer = Sizer::kItems;
  c.queue.batch_min_size = 1000;
  c.queue.flush_timeout = absl::Hours(1);
  Fixture f(c);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  auto* flushable = dynamic_cast<pipeline::Flushable*>(f.exporter.get());
  ASSERT_NE(flushable, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f.exporter->consume(spans("b", 2)).ok());
  ASSERT_TRUE(flushable->flush(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(f.delivered(), 10u);  // before flush returned, not an hour later
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, FlushWaitsForRetriesAndHitsItsDeadlineWhileTheyFail) {
  HelperConfig c = fastConfig();
  c.retry.max_elapsed_time = absl::Minutes(5);
  Fixture f(c);
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  auto* flushable = dynamic_cast<pipeline::Flushable*>(f.exporter.get());
  ASSERT_TRUE(f.exporter->consume(spans("r", 3)).ok());
  const absl::Status stalled = flushable->flush(absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(stalled.code(), absl::StatusCode::kDeadlineExceeded) << stalled;
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();  // the destination recovers
  }
  ASSERT_TRUE(flushable->flush(absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(f.delivered(), 3u);
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(QueuedExporter, PartialSuccessIsCountedAndNotRetried) {
  Fixture f(fastConfig());
  f.sender->script = {{absl::OkStatus(), {}, 1, "one span was bad"}};
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("p", 3)).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 3; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
  EXPECT_EQ(f.sender->attempts, 1);
  const std::string text = f.metrics.renderPrometheus();
  EXPECT_NE(text.find("otlpd_exporter_partial_rejected_spans_total{exporter=\"otlp\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpd_exporter_sent_spans_total{exporter=\"otlp\"} 2"), std::string::npos);
}

TEST(QueuedExporter, PersistentQueueKeepsUndeliveredWorkAcrossRestarts) {
  TempDir dir;
  HelperConfig c = fastConfig();
  c.queue.storage = dir.path();
  c.retry.max_elapsed_time = absl::ZeroDuration();
  {
    Fixture f(c);
    f.failNextSends(100000);
    ASSERT_TRUE(f.exporter->start(f.host).ok());
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(f.exporter->consume(spans("d" + std::to_string(i), 1)).ok());
    ASSERT_TRUE(f.exporter->shutdown().ok());
    EXPECT_EQ(f.delivered(), 0u);
  }
  Fixture f(c);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 5; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
  // Everything acknowledged downstream: the log is empty and a third start sends nothing.
  Fixture again(c);
  ASSERT_TRUE(again.exporter->start(again.host).ok());
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(again.exporter->shutdown().ok());
  EXPECT_EQ(again.delivered(), 0u);
}

TEST(QueuedExporter, CircuitBreakerOpensAndRecovers) {
  HelperConfig c = fastConfig();
  c.queue.num_consumers = 1;
  c.breaker.enabled = true;
  c.breaker.consecutive_failures = 2;
  c.breaker.open_duration = absl::Milliseconds(100);
  Fixture f(c);
  f.sender->script = {{absl::UnavailableError("down"), {}, 0, ""},
                      {absl::UnavailableError("down"), {}, 0, ""}};
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(spans("cb", 1)).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 1; }));
  ASSERT_TRUE(f.exporter->shutdown().ok());
  const std::string text = f.metrics.renderPrometheus();
  for (const char* state : {"open", "half_open", "closed"}) {
    EXPECT_NE(text.find(std::string("otlpd_exporter_circuit_breaker_transitions_total{exporter="
                                    "\"otlp\",signal=\"traces\",state=\"") +
                        state + "\"} 1"),
              std::string::npos)
        << state << "\n"
        << text;
  }
}

TEST(QueuedExporter, AFailingDestinationHandsItsBatchesOverAndRecovers) {
  HelperConfig c = fastConfig();
  c.queue.num_consumers = 1;
  Fixture f(c);
  auto* failover = dynamic_cast<Failover*>(f.exporter.get());
  ASSERT_NE(failover, nullptr);
  std::mutex mu;
  std::vector<size_t> taken;
  bool accept = true;
  failover->setFailover([&](Batch&& b) {
    std::lock_guard lock(mu);
    if (!accept) return absl::UnavailableError("nobody healthy");
    taken.push_back(b.itemCount());
    return absl::OkStatus();
  });
  f.failNextSends(1000);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_FALSE(failover->failing());
  ASSERT_TRUE(f.exporter->consume(spans("a", 3)).ok());
  // Two failed attempts make it failing; the batch is then handed over, not retried further.
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return taken.size() == 1;
  }));
  EXPECT_TRUE(failover->failing());
  EXPECT_EQ(f.sender->attempts, Failover::kFailingAfter);
  // While failing, new batches go straight over (the probe a second aside).
  ASSERT_TRUE(f.exporter->consume(spans("b", 2)).ok());
  ASSERT_TRUE(f.exporter->consume(spans("c", 4)).ok());
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return taken.size() == 3;
  }));
  EXPECT_LE(f.sender->attempts, Failover::kFailingAfter + 1);
  EXPECT_EQ(f.metrics.counter("otlpd_exporter_failed_over_spans_total", "", {{"exporter", "otlp"}})
                .value(),
            9u);
  // Nobody to take it: the exporter keeps it and retries until the destination answers.
  {
    std::lock_guard lock(mu);
    accept = false;
  }
  {
    std::lock_guard lock(f.sender->mu);
    f.sender->script.clear();
  }
  ASSERT_TRUE(f.exporter->consume(spans("d", 5)).ok());
  EXPECT_TRUE(waitFor([&] { return f.delivered() == 5; }));
  EXPECT_FALSE(failover->failing()) << "a delivery ends the failing state";
  ASSERT_TRUE(f.exporter->shutdown().ok());
}

TEST(WriteAheadLog, ReplaysUnacknowledgedRecordsAndIgnoresATornTail) {
  TempDir dir;
  {
    auto wal = WriteAheadLog::open(dir.path(), FsyncPolicy::kNever);
    ASSERT_TRUE(wal.ok());
    auto a = (*wal)->append("alpha");
    auto b = (*wal)->append("beta");
    auto c = (*wal)->append("gamma");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    (*wal)->ack(*b);
  }
  // A crash mid-append leaves a partial record behind.
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().extension() == ".wal") {
      FILE* f = std::fopen(e.path().c_str(), "ab");
      std::fwrite("\x10\x00\x00\x00garbage", 1, 11, f);
      std::fclose(f);
    }
  }
  auto wal = WriteAheadLog::open(dir.path(), FsyncPolicy::kAlways);
  ASSERT_TRUE(wal.ok());
  auto recovered = (*wal)->takeRecovered();
  ASSERT_EQ(recovered.size(), 2u);
  EXPECT_EQ(recovered[0].payload, "alpha");
  EXPECT_EQ(recovered[1].payload, "gamma");
  auto d = (*wal)->append("delta");
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, recovered[1].id);
  for (const auto& r : recovered) (*wal)->ack(r.id);
  (*wal)->ack(*d);
  wal->reset();
  auto reopened = WriteAheadLog::open(dir.path(), FsyncPolicy::kNever);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->takeRecovered().empty());
}

TEST(DeadLetterWriter, RefusesWhenFull) {
  TempDir dir;
  auto w = DeadLetterWriter::open(dir.path(), 300);
  ASSERT_TRUE(w.ok());
  DeadLetterHeader h;
  h.time = absl::Now();
  h.exporter = "otlp";
  h.reason = "permanent error: \"quoted\"\n";
  h.items = 1;
  ASSERT_TRUE((*w)->write(h, spans("x", 1)).ok());
  absl::Status s;
  for (int i = 0; i < 10 && s.ok(); ++i) s = (*w)->write(h, spans("x", 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  auto letters = listDeadLetters(dir.path(), true, nullptr);
  ASSERT_TRUE(letters.ok());
  ASSERT_FALSE(letters->empty());
  EXPECT_EQ(letters->front().header.reason, h.reason);
}

}  // namespace
}  // namespace otlpd::exporters::helper
