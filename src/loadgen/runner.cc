#include "loadgen/runner.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "loadgen/rate_limiter.h"

namespace otlpd::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// Distinct error messages beyond this many are counted together as "(other errors)": messages
// can carry per-request details, and the map must not grow with the run.
constexpr size_t kMaxDistinctErrors = 20;

class Tally {
 public:
  void sent(int64_t items) {
    std::lock_guard lock(mu_);
    ++c_.requests_sent;
    c_.items_sent += items;
  }

  void done(int64_t items, const SendResult& r, Clock::duration latency) {
    std::lock_guard lock(mu_);
    switch (r.outcome) {
      case Outcome::kAcknowledged: {
        const int64_t rejected = std::clamp<int64_t>(r.rejected_items, 0, items);
        ++c_.requests_acknowledged;
        c_.items_acknowledged += items - rejected;
        c_.items_rejected += rejected;
        break;
      }
      case Outcome::kRefused:
        ++c_.requests_refused;
        c_.items_refused += items;
        break;
      case Outcome::kFailed:
        ++c_.requests_failed;
        c_.items_failed += items;
        break;
    }
    if (r.answered) {
      latency_.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));
    }
    if (!r.error.empty()) {
      auto it = errors_.find(r.error);
      if (it != errors_.end()) {
        ++it->second;
      } else if (errors_.size() < kMaxDistinctErrors) {
        errors_.emplace(r.error, 1);
      } else {
        ++errors_["(other errors)"];
      }
    }
    last_done_ = Clock::now();
    cv_.notify_all();
  }

  Counters counters() {
    std::lock_guard lock(mu_);
    return c_;
  }

  // Waits until fewer than `limit` requests are in flight or `deadline` passes.
  bool waitForSlot(size_t limit, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline,
                          [&] { return c_.requestsInFlight() < static_cast<int64_t>(limit); });
  }

  void fill(Report& report) {
    std::lock_guard lock(mu_);
    report.counters = c_;
    report.latency = latency_;
    report.errors = errors_;
  }

  std::optional<Clock::time_point> lastDone() {
    std::lock_guard lock(mu_);
    return last_done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Counters c_;
  LatencyHistogram latency_;
  std::map<std::string, int64_t> errors_;
  std::optional<Clock::time_point> last_done_;
};

// Copies of request bodies whose ids are renewed for each send (--unique-ids): one per request
// in flight, reused. A send takes one and its completion gives it back.
class RenewedBodies {
 public:
  explicit RenewedBodies(uint64_t salt) : next_mask_(salt) {}

  EncodedRequest* take(const EncodedRequest& original) {
    std::unique_ptr<EncodedRequest> copy;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        copy = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!copy) {
      copy = std::make_unique<EncodedRequest>();
      copy->renewed_per_send = true;
    }
    copy->body.assign(original.body);  // reuses the copy's capacity
    copy->items = original.items;
    copy->encoded_bytes = original.encoded_bytes;
    renewIds(copy->body, original.id_places, nextMask());
    std::lock_guard lock(mu_);
    in_flight_.push_back(std::move(copy));
    return in_flight_.back().get();
  }

  void giveBack(const EncodedRequest* body) {
    std::lock_guard lock(mu_);
    const auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                                 [&](const auto& b) { return b.get() == body; });
    if (it == in_flight_.end()) return;
    free_.push_back(std::move(*it));
    in_flight_.erase(it);
  }

 private:
  // splitmix64: a different 64-bit mask per send, never 0 in practice.
  uint64_t nextMask() {
    uint64_t z = (next_mask_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  uint64_t next_mask_;  // only the sending thread calls take()
  std::mutex mu_;
  std::vector<std::unique_ptr<EncodedRequest>> free_, in_flight_;
};

}  // namespace

void run(const RunOptions& o, Sender& sender, const RequestSet& requests, Report& report) {
  Tally tally;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      o.duration ? start + std::chrono::duration_cast<Clock::duration>(*o.duration)
                 : Clock::time_point::max();
  std::optional<TokenBucket> bucket;
  if (o.rate > 0) {
    // One request of burst: smooth pacing, yet a batch larger than a second's worth still goes.
    const double batch = static_cast<double>(requests.variants.front().items);
    bucket.emplace(o.rate, batch, start);
  }
  Clock::time_point next_progress = start + std::chrono::seconds(1);
  int64_t items_at_last_progress = 0;
  auto maybeProgress = [&](Clock::time_point now) {
    if (now < next_progress) return;
    // Advanced even without a callback: the loops below wait until next_progress, and a time in
    // the past would make them spin.
    const Clock::time_point interval_start = next_progress - std::chrono::seconds(1);
    next_progress = now + std::chrono::seconds(1);
    if (!o.progress) return;
    const Counters c = tally.counters();
    const double interval = std::chrono::duration<double>(now - interval_start).count();
    o.progress(c, std::chrono::duration<double>(now - start).count(),
               static_cast<double>(c.items_acknowledged - items_at_last_progress) /
                   std::max(interval, 1e-3));
    items_at_last_progress = c.items_acknowledged;
  };
  auto stopped = [&](Clock::time_point now) {
    return now >= end || (o.stop != nullptr && o.stop->load(std::memory_order_relaxed));
  };

  int64_t items_sent = 0;
  size_t next_variant = 0;
  // Outlives every completion: the drain below waits for all of them.
  RenewedBodies renewed(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32));
  for (;;) {
    Clock::time_point now = Clock::now();
    maybeProgress(now);
    if (stopped(now)) break;
    if (o.count && items_sent >= *o.count) break;
    // Wake at least every 100 ms to print progress and notice a stop.
    const Clock::time_point wake =
        std::min({end, next_progress, now + std::chrono::milliseconds(100)});
    if (!tally.waitForSlot(o.concurrency, wake)) continue;

    const EncodedRequest* request = &requests.variants[next_variant];
    if (o.count && requests.tail && *o.count - items_sent < static_cast<int64_t>(request->items)) {
      request = &*requests.tail;
    } else {
      next_variant = (next_variant + 1) % requests.variants.size();
    }
    if (bucket) {
      const Clock::time_point send_at =
          now + bucket->acquire(static_cast<double>(request->items), now);
      bool interrupted = false;
      while ((now = Clock::now()) < send_at) {
        maybeProgress(now);
        if (stopped(now)) {
          interrupted = true;
          break;
        }
        std::this_thread::sleep_until(
            std::min({send_at, end, next_progress, now + std::chrono::milliseconds(100)}));
      }
      if (interrupted) break;
    }
    const int64_t items = static_cast<int64_t>(request->items);
    items_sent += items;
    tally.sent(items);
    const EncodedRequest* body = request->id_places.empty() ? nullptr : renewed.take(*request);
    const Clock::time_point sent_at = Clock::now();
    sender.send(body != nullptr ? *body : *request,
                [&tally, &renewed, body, items, sent_at](const SendResult& r) {
                  if (body != nullptr) renewed.giveBack(body);
                  tally.done(items, r, Clock::now() - sent_at);
                });
  }

  // Drain. Every sender bounds each request by its timeout, so this ends; returning earlier
  // would leave callbacks that touch `tally` after it is gone.
  while (!tally.waitForSlot(1, Clock::now() + std::chrono::milliseconds(100))) {
    maybeProgress(Clock::now());
  }
  tally.fill(report);
  const Clock::time_point finished = tally.lastDone().value_or(Clock::now());
  report.elapsed_seconds = std::chrono::duration<double>(std::max(finished, start) - start).count();
}

}  // namespace otlpd::loadgen
