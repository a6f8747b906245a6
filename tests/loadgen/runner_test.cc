#include "loadgen/runner.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "otlp/proto.h"

namespace otlpd::loadgen {
namespace {

RequestSet smallRequests(size_t batch, size_t tail) {
  RequestSetOptions o;
  o.shape = Shape::kMinimal;
  o.batch = batch;
  o.variants = 2;
  o.tail_items = tail;
  o.base_time_unix_nano = 1'750'000'000'000'000'000ULL;
  auto set = buildRequestSet(o);
  EXPECT_TRUE(set.ok()) << set.status();
  return std::move(*set);
}

// Completes every request at once, with the result `answer` gives for the n-th request.
class ImmediateSender final : public Sender {
 public:
  explicit ImmediateSender(std::function<SendResult(int n, const EncodedRequest&)> answer)
      : answer_(std::move(answer)) {}
  void send(const EncodedRequest& request, std::function<void(SendResult)> done) override {
    done(answer_(n_++, request));
  }

 private:
  std::function<SendResult(int, const EncodedRequest&)> answer_;
  int n_ = 0;
};

SendResult acked(int64_t rejected = 0) {
  SendResult r;
  r.outcome = Outcome::kAcknowledged;
  r.answered = true;
  r.rejected_items = rejected;
  return r;
}

TEST(RunnerTest, CountBoundedRunSendsExactlyTheCountWithASmallerLastRequest) {
  const RequestSet requests = smallRequests(100, 50);
  std::vector<size_t> sizes;
  ImmediateSender sender([&](int, const EncodedRequest& r) {
    sizes.push_back(r.items);
    return acked();
  });
  RunOptions o;
  o.count = 250;
  Report report;
  run(o, sender, requests, report);
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 50}));
  EXPECT_EQ(report.counters.items_sent, 250);
  EXPECT_EQ(report.counters.items_acknowledged, 250);
  EXPECT_EQ(report.counters.requests_sent, 3);
  EXPECT_EQ(report.counters.requests_acknowledged, 3);
  EXPECT_EQ(report.latency.count(), 3u);
}

// --unique-ids: the same variant sent again carries other ids (a renewed copy of its body).
TEST(RunnerTest, UniqueIdsRenewTheIdsOfEverySend) {
  RequestSetOptions ro;
  ro.batch = 20;
  ro.variants = 1;
  ro.base_time_unix_nano = 1'750'000'000'000'000'000ULL;
  ro.unique_ids = true;
  auto requests = buildRequestSet(ro);
  ASSERT_TRUE(requests.ok()) << requests.status();
  std::vector<std::string> bodies;
  ImmediateSender sender([&](int, const EncodedRequest& r) {
    bodies.push_back(r.body);
    return acked();
  });
  RunOptions o;
  o.count = 100;
  Report report;
  run(o, sender, *requests, report);
  ASSERT_EQ(bodies.size(), 5u);
  std::set<std::string> span_ids;
  for (const std::string& body : bodies) {
    EXPECT_NE(body, requests->variants[0].body);
    EXPECT_EQ(body.size(), requests->variants[0].body.size());
    otlp::TracesRequest r;
    ASSERT_TRUE(r.ParseFromString(body));
    for (const auto& span : r.resource_spans(0).scope_spans(0).spans()) {
      span_ids.insert(span.span_id());
    }
  }
  EXPECT_EQ(span_ids.size(), 100u);
  EXPECT_EQ(report.counters.items_acknowledged, 100);
}

TEST(RunnerTest, OutcomesAndPartialSuccessAreCountedApart) {
  const RequestSet requests = smallRequests(100, 0);
  ImmediateSender sender([](int n, const EncodedRequest&) {
    SendResult r;
    switch (n % 3) {
      case 0:
        return acked(/*rejected=*/10);
      case 1:
        r.outcome = Outcome::kRefused;
        r.answered = true;
        r.error = "HTTP 503: busy";
        return r;
      default:
        r.outcome = Outcome::kFailed;
        r.error = "connect: Connection refused";
        return r;
    }
  });
  RunOptions o;
  o.count = 600;
  Report report;
  run(o, sender, requests, report);
  const Counters& c = report.counters;
  EXPECT_EQ(c.items_sent, 600);
  EXPECT_EQ(c.items_acknowledged, 180);
  EXPECT_EQ(c.items_rejected, 20);
  EXPECT_EQ(c.items_refused, 200);
  EXPECT_EQ(c.items_failed, 200);
  EXPECT_EQ(c.items_acknowledged + c.items_rejected + c.items_refused + c.items_failed,
            c.items_sent);
  EXPECT_EQ(report.latency.count(), 4u);  // failures without an answer have no latency
  EXPECT_EQ(report.errors.at("HTTP 503: busy"), 2);
  EXPECT_EQ(report.errors.at("connect: Connection refused"), 2);
}

// Holds requests until a worker thread completes them, to see how many were in flight.
class QueueSender final : public Sender {
 public:
  QueueSender()
      : worker_([this] {
          std::unique_lock lock(mu_);
          for (;;) {
            cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;
            auto done = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            lock.lock();
            // Before done(): the runner may send the next request from inside it.
            --in_flight_;
            lock.unlock();
            done(acked());
            lock.lock();
          }
        }) {}
  ~QueueSender() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void send(const EncodedRequest&, std::function<void(SendResult)> done) override {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(done));
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    cv_.notify_all();
  }
  int maxInFlight() {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(SendResult)>> queue_;
  int in_flight_ = 0, max_in_flight_ = 0;
  bool stop_ = false;
  std::thread worker_;
};

TEST(RunnerTest, ConcurrencyBoundsRequestsInFlight) {
  const RequestSet requests = smallRequests(10, 0);
  QueueSender sender;
  RunOptions o;
  o.count = 400;
  o.concurrency = 3;
  Report report;
  run(o, sender, requests, report);
  EXPECT_EQ(report.counters.items_acknowledged, 400);
  EXPECT_LE(sender.maxInFlight(), 3);
  EXPECT_GE(sender.maxInFlight(), 1);
}

TEST(RunnerTest, RateLimitPacesTheRun) {
  const RequestSet requests = smallRequests(100, 0);
  ImmediateSender sender([](int, const EncodedRequest&) { return acked(); });
  RunOptions o;
  o.count = 500;
  o.rate = 2000;  // the first request rides on the burst, the other 400 items take 0.2 s
  Report report;
  run(o, sender, requests, report);
  EXPECT_EQ(report.counters.items_acknowledged, 500);
  EXPECT_GE(report.elapsed_seconds, 0.19);
}

TEST(RunnerTest, DurationStopsAnUnboundedRun) {
  const RequestSet requests = smallRequests(100, 0);
  ImmediateSender sender([](int, const EncodedRequest&) { return acked(); });
  RunOptions o;
  o.duration = std::chrono::milliseconds(200);
  o.rate = 1000;
  Report report;
  run(o, sender, requests, report);
  // 100 at once, then 100 every 100 ms: 2 or 3 requests in 200 ms.
  EXPECT_GE(report.counters.requests_sent, 2);
  EXPECT_LE(report.counters.requests_sent, 3);
  EXPECT_EQ(report.counters.requestsInFlight(), 0);
}

TEST(RunnerTest, StopFlagEndsTheRun) {
  const RequestSet requests = smallRequests(100, 0);
  std::atomic<bool> stop{false};
  ImmediateSender sender([&](int n, const EncodedRequest&) {
    if (n == 4) stop = true;
    return acked();
  });
  RunOptions o;
  o.stop = &stop;
  o.duration = std::chrono::seconds(30);
  Report report;
  run(o, sender, requests, report);
  EXPECT_EQ(report.counters.requests_sent, 5);
}

}  // namespace
}  // namespace otlpd::loadgen
