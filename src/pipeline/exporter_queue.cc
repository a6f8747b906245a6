#include "pipeline/exporter_queue.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "pipeline/deferred_ack.h"

namespace otlpd::pipeline {
namespace {

// What a queued batch costs: its reservation (arena blocks plus string contents, which live on
// the heap, or the encoded bytes it keeps) where the receiver made one, else at least the arena
// blocks and encoded bytes it holds.
size_t queuedBytes(const Batch& batch) {
  return std::max<size_t>({batch.reservedBytes(), batch.heldBytes(), 1});
}

bool retryable(const absl::Status& s) {
  return s.code() != absl::StatusCode::kInvalidArgument &&
         s.code() != absl::StatusCode::kFailedPrecondition;
}

class QueuedExporter final : public Exporter, public Flushable, public BackpressureReporter {
 public:
  QueuedExporter(std::unique_ptr<Exporter> inner, std::string id, Signal signal,
                 common::MetricsRegistry& metrics, ExporterQueueOptions options)
      : inner_(std::move(inner)),
        id_(std::move(id)),
        signal_(signal),
        options_(options),
        metrics_(metrics) {
    const common::Labels labels = {{"exporter", id_}, {"signal", std::string(signalName(signal))}};
    const std::string item(itemName(signal));
    failed_ = &metrics.counter(strCat("otlpd_exporter_send_failed_", item, "_total"),
                               "Acknowledged items an exporter could not deliver (permanent "
                               "error, or still queued when the shutdown deadline passed).",
                               labels);
    sent_ = &metrics.counter(strCat("otlpd_exporter_sent_", item, "_total"),
                             "Items an exporter delivered.", labels);
    refused_ = &metrics.counter(strCat("otlpd_exporter_enqueue_failed_", item, "_total"),
                                "Items refused because the exporter's queue was full; the "
                                "client was told to retry.",
                                labels);
    size_gauge_ = metrics.callbackGauge("otlpd_exporter_queue_size_bytes",
                                        "Bytes waiting in an exporter's queue.", labels, [this] {
                                          std::lock_guard lock(mutex_);
                                          return static_cast<double>(queued_bytes_);
                                        });
    metrics.gauge("otlpd_exporter_queue_capacity_bytes", "Capacity of an exporter's queue.", labels)
        .set(static_cast<double>(options_.capacity_bytes));
  }

  ~QueuedExporter() override {
    (void)shutdown();
    metrics_.removeCallback(size_gauge_);
  }

  absl::Status start(Host& host) override {
    if (absl::Status s = inner_->start(host); !s.ok()) return s;
    std::lock_guard lock(mutex_);
    stopping_ = false;
    worker_ = std::thread([this] { run(); });
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (!worker_.joinable()) return absl::OkStatus();
      stopping_ = true;
      drain_deadline_ = absl::Now() + options_.drain_timeout;
    }
    wake_.notify_all();
    drained_.notify_all();
    worker_.join();
    std::deque<Queued> left;
    std::deque<HeldAck> held;
    {
      std::lock_guard lock(mutex_);
      left.swap(queue_);
      held.swap(held_);
      queued_bytes_ = 0;
      updateBackpressure();
    }
    // Not acknowledged yet: the client is told to send them again (the batches may have been
    // exported; a resend is a duplicate, never a loss).
    for (HeldAck& h : held) {
      h.done(absl::UnavailableError(strCat("exporter ", id_, " is shutting down; retry")));
    }
    // Held acknowledgements belong to the last batches queued; the others were acknowledged.
    size_t dropped = 0;
    for (size_t i = 0; i + held.size() < left.size(); ++i) dropped += left[i].batch.itemCount();
    if (dropped > 0) {
      failed_->add(dropped);
      logging::error("exporter did not drain before the shutdown deadline; items dropped",
                     {{"exporter", id_}, {"signal", signalName(signal_)}, {"items", dropped}});
    }
    return inner_->shutdown();
  }

  absl::Status consume(Batch&& batch) override {
    const size_t bytes = queuedBytes(batch);
    {
      std::unique_lock lock(mutex_);
      recent_sizes_.add(bytes);
      // An empty queue takes any batch, so one larger than the capacity is not refused forever.
      const auto refuse = [&] {
        refused_->add(batch.itemCount());
        updateBackpressure();
        return absl::UnavailableError(strCat("exporter ", id_, " is behind: its queue of ",
                                             options_.capacity_bytes >> 20,
                                             " MiB is full; retry later"));
      };
      if (!queue_.empty() && queued_bytes_ + bytes > options_.capacity_bytes) {
        if (!options_.block_on_overflow || queued_bytes_ + bytes > 2 * options_.capacity_bytes) {
          return refuse();
        }
        if (DeferredAck* deferred = DeferredAck::current()) {
          // Queued now, in order; the OK waits until the bytes up to this batch fit.
          enqueueLocked(std::move(batch), bytes);
          held_.push_back(HeldAck{enqueued_bytes_, deferred->hold()});
          lock.unlock();
          wake_.notify_all();
          return absl::OkStatus();
        }
        // Bounded: an exporter that stays stuck (a full disk) must not hold a receiver's
        // handler threads for good; past the wait the request is refused as without blocking.
        const bool fits = drained_.wait_for(
            lock, absl::ToChronoMilliseconds(options_.longest_wait_in_place), [&] {
              return stopping_ || queue_.empty() ||
                     queued_bytes_ + bytes <= options_.capacity_bytes;
            });
        if (stopping_) return absl::UnavailableError(strCat("exporter ", id_, " is stopping"));
        if (!fits) return refuse();
      }
      enqueueLocked(std::move(batch), bytes);
    }
    wake_.notify_all();
    return absl::OkStatus();
  }

  BackpressureSource& backpressure() override { return backpressure_; }

  bool mutatesData() const override { return inner_->mutatesData(); }

  // Waits until the worker is past every batch queued before the call, then lets the inner
  // exporter flush what it holds (the store its open rows).
  absl::Status flush(absl::Time deadline) override {
    {
      std::unique_lock lock(mutex_);
      const uint64_t target = enqueued_;
      const bool done = drained_.wait_until(lock, absl::ToChronoTime(deadline),
                                            [&] { return finished_ >= target || stopping_; });
      if (stopping_) return absl::UnavailableError("the exporter is shutting down");
      if (!done) {
        return absl::DeadlineExceededError(
            strCat(target - finished_, " batches queued before the flush are not exported yet"));
      }
    }
    if (auto* inner = dynamic_cast<Flushable*>(inner_.get())) return inner->flush(deadline);
    return absl::OkStatus();
  }

 private:
  // Full (receivers refuse before reading) while a batch of any recent size would be refused.
  // Called with mutex_ held.
  void updateBackpressure() {
    const size_t room =
        options_.block_on_overflow ? 2 * options_.capacity_bytes : options_.capacity_bytes;
    backpressure_.setFull(!queue_.empty() && queued_bytes_ + recent_sizes_.value() > room);
  }

  void enqueueLocked(Batch&& batch, size_t bytes) {
    queued_bytes_ += bytes;
    enqueued_bytes_ += bytes;
    queue_.push_back(Queued{std::move(batch), bytes});
    ++enqueued_;
    updateBackpressure();
  }

  // The held acknowledgements whose batches now fit in the queue, oldest first; called with
  // mutex_ held, the callbacks are called without it.
  std::vector<DeferredAck::Done> fittingAcksLocked() {
    std::vector<DeferredAck::Done> fitting;
    while (!held_.empty() &&
           held_.front().queued_through - dequeued_bytes_ <= options_.capacity_bytes) {
      fitting.push_back(std::move(held_.front().done));
      held_.pop_front();
    }
    return fitting;
  }

  void run() {
    common::nameThisThread("q:" + id_);
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      Batch batch = queue_.front().batch;
      lock.unlock();
      const bool delivered = exportWithRetry(batch);
      lock.lock();
      // Stopped by the shutdown deadline: the batch stays at the front, so that shutdown()
      // counts it with the rest of the queue (and a held acknowledgement behind it is not sent).
      if (!delivered) return;
      // The size counted when queued: a batch still in wire form grows once it is decoded.
      queued_bytes_ -= queue_.front().bytes;
      dequeued_bytes_ += queue_.front().bytes;
      queue_.pop_front();
      updateBackpressure();
      ++finished_;
      drained_.notify_all();
      if (!held_.empty()) {
        std::vector<DeferredAck::Done> fitting = fittingAcksLocked();
        lock.unlock();
        for (DeferredAck::Done& done : fitting) done(absl::OkStatus());
        lock.lock();
      }
    }
  }

  // Returns whether the batch was delivered or given up as permanent; false when the shutdown
  // deadline stopped the retries (the batch is then counted with the rest of the queue).
  bool exportWithRetry(const Batch& batch) {
    absl::Duration backoff = absl::Milliseconds(100);
    for (;;) {
      absl::Status s = inner_->consume(Batch(batch));
      if (s.ok()) {
        sent_->add(batch.itemCount());
        return true;
      }
      if (!retryable(s)) {
        failed_->add(batch.itemCount());
        logging::error("exporter rejected data permanently; items dropped",
                       {{"exporter", id_}, {"items", batch.itemCount()}, {"error", s}});
        return true;
      }
      std::unique_lock lock(mutex_);
      if (stopping_ && absl::Now() >= drain_deadline_) return false;
      wake_.wait_for(lock, absl::ToChronoMilliseconds(backoff));
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }

  std::unique_ptr<Exporter> inner_;
  std::string id_;
  Signal signal_;
  ExporterQueueOptions options_;
  common::MetricsRegistry& metrics_;
  uint64_t size_gauge_ = 0;
  common::Counter* failed_;
  common::Counter* sent_;
  common::Counter* refused_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;       // a batch left the queue
  uint64_t enqueued_ = 0, finished_ = 0;  // batches queued and done with, ever
  struct Queued {
    Batch batch;
    size_t bytes;
  };
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  // block_on_overflow: acknowledgements held until the bytes queued up to their batch (counted
  // since the start, as enqueued_bytes_ was after it) minus those that left fit the capacity.
  struct HeldAck {
    uint64_t queued_through;
    DeferredAck::Done done;
  };
  std::deque<HeldAck> held_;
  uint64_t enqueued_bytes_ = 0, dequeued_bytes_ = 0;
  RecentMinimum recent_sizes_;  // of batches offered, for updateBackpressure()
  BackpressureSource backpressure_;
  bool stopping_ = false;
  absl::Time drain_deadline_;
  std::thread worker_;
};

}  // namespace

std::unique_ptr<Exporter> makeQueuedExporter(std::unique_ptr<Exporter> inner, std::string id,
                                             Signal signal, common::MetricsRegistry& metrics,
                                             ExporterQueueOptions options) {
  return std::make_unique<QueuedExporter>(std::move(inner), std::move(id), signal, metrics,
                                          options);
}

}  // namespace otlpd::pipeline
