#include "exporters/helper/queued_exporter.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "exporters/helper/dead_letter.h"
#include "exporters/helper/write_ahead_log.h"
#include "pipeline/batch_ops.h"
#include "pipeline/deferred_ack.h"
#include "pipeline/extension_directory.h"

namespace otlpd::exporters::helper {
namespace {

using pipeline::Signal;

bool isRetryable(const absl::Status& status) {
  return !status.ok() && status.code() != absl::StatusCode::kInvalidArgument;
}

double random01() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Component ids may hold '/', which must not become a path separator.
std::string pathSafe(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c == '/' || c == '\\' || c == ' ') c = '_';
  }
  return out;
}

class QueuedExporter final : public pipeline::Exporter,
                             public pipeline::Flushable,
                             public pipeline::BackpressureReporter,
                             public Failover {
 public:
  void setFailover(std::function<absl::Status(pipeline::Batch&&)> take_over) override {
    failover_ = std::move(take_over);
    handed_over_ = &metrics_.counter(
        strCat("otlpd_exporter_failed_over_", pipeline::itemName(signal_), "_total"),
        strCat("Items handed to another destination while this one kept failing (",
               pipeline::itemName(signal_), ")."),
        {{"exporter", id_}});
  }
  bool failing() const override {
    return consecutive_failures_.load(std::memory_order_relaxed) >= kFailingAfter;
  }

  QueuedExporter(const pipeline::CreateSettings& settings, Signal signal, HelperConfig config,
                 SenderFactory sender_factory, HelperHooks hooks)
      : id_(settings.id.toString()),
        settings_id_(settings.id),
        signal_(signal),
        cfg_(std::move(config)),
        sender_factory_(std::move(sender_factory)),
        now_(hooks.now ? hooks.now : [] { return absl::Now(); }),
        metrics_(settings.metrics),
        breaker_(cfg_.breaker) {
    const std::string item(pipeline::itemName(signal));
    const common::Labels by_exporter = {{"exporter", id_}};
    labels_ = {{"exporter", id_}, {"signal", std::string(pipeline::signalName(signal))}};
    sent_ =
        &metrics_.counter(strCat("otlpd_exporter_sent_", item, "_total"),
                          strCat("Items delivered to the destination (", item, ")."), by_exporter);
    send_failed_ = &metrics_.counter(
        strCat("otlpd_exporter_send_failed_", item, "_total"),
        strCat("Items that could not be delivered and went to the dead-letter queue or were "
               "dropped (",
               item, ")."),
        by_exporter);
    enqueue_failed_ = &metrics_.counter(
        strCat("otlpd_exporter_enqueue_failed_", item, "_total"),
        strCat("Items refused because the sending queue was full; the sender was asked to retry (",
               item, ")."),
        by_exporter);
    partial_rejected_ = &metrics_.counter(
        strCat("otlpd_exporter_partial_rejected_", item, "_total"),
        strCat("Items the destination refused in a partial success (", item, ")."), by_exporter);
    dropped_ = &metrics_.counter(
        strCat("otlpd_exporter_dropped_", item, "_total"),
        strCat("Items lost: undeliverable and no room in (or no) dead-letter queue (", item, ")."),
        by_exporter);
    retries_ = &metrics_.counter("otlpd_exporter_retries_total",
                                 "Export attempts that failed and were retried.", labels_);
  }

  ~QueuedExporter() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    auto sender = sender_factory_();
    if (!sender.ok()) return sender.status();
    sender_ = *std::move(sender);
    if (!cfg_.dead_letter.directory.empty()) {
      auto dlq = DeadLetterWriter::open(cfg_.dead_letter.directory, cfg_.dead_letter.max_bytes);
      if (!dlq.ok()) return dlq.status();
      dlq_ = *std::move(dlq);
    }
    if (cfg_.queue.enabled && (!cfg_.queue.storage.empty() || cfg_.queue.storage_extension)) {
      std::string dir;
      FsyncPolicy fsync = cfg_.queue.fsync;
      if (const auto& ref = cfg_.queue.storage_extension) {
        if (!ref->storage) {
          return absl::FailedPreconditionError(
              strCat("sending_queue.storage: extension ", ref->id.toString(), " is not bound"));
        }
        // Named as the Collector names the queue's client: one per exporter and signal.
        auto client = ref->storage->clientDirectory(pipeline::ComponentKind::kExporter,
                                                    settings_id_, pipeline::signalName(signal_));
        if (!client.ok()) return client.status();
        dir = *std::move(client);
        fsync = ref->storage->fsyncEachWrite() ? FsyncPolicy::kAlways : FsyncPolicy::kInterval;
      } else {
        dir = strCat(cfg_.queue.storage, "/", pathSafe(id_), "/", pipeline::signalName(signal_));
      }
      if (cfg_.queue.durability) fsync = *cfg_.queue.durability;
      auto wal = WriteAheadLog::open(dir, fsync);
      if (!wal.ok()) return wal.status();
      wal_ = *std::move(wal);
      recover();
    }
    registerGauges();
    for (int i = 0; i < cfg_.queue.num_consumers; ++i) {
      if (cfg_.queue.enabled) {
        consumers_.emplace_back([this] { consumerLoop(); });
      } else {
        consumers_.emplace_back([this] { heldDeliveryLoop(); });
      }
    }
    started_ = true;
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || !started_) {
        stopping_ = true;
        return absl::OkStatus();
      }
      stopping_ = true;
      // In-memory work gets one bounded chance to go out; what cannot is dead-lettered.
      drain_deadline_ = now_() + std::max(cfg_.timeout, absl::Seconds(1));
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    wake_.notify_all();
    finished_.notify_all();
    for (std::thread& t : consumers_) t.join();
    consumers_.clear();
    std::deque<HeldAck> held;
    std::deque<HeldDelivery> undelivered;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
      undelivered.swap(held_deliveries_);
      for (const HeldDelivery& d : undelivered) unfinished_.erase(d.seq);
    }
    // Not acknowledged yet: the client is told to send them again (a resend may duplicate what
    // went out during the drain, never lose it).
    const absl::Status retry =
        absl::UnavailableError(strCat("exporter ", id_, " is shutting down; retry"));
    for (HeldAck& h : held) h.done(retry);
    for (HeldDelivery& d : undelivered) d.done(retry);
    for (uint64_t id : gauge_ids_) metrics_.removeCallback(id);
    gauge_ids_.clear();
    if (wal_ && !queue_.empty()) {
      logging::info("persistent queue keeps undelivered requests for the next start",
                    {{"exporter", id_},
                     {"signal", pipeline::signalName(signal_)},
                     {"requests", queue_.size()}});
    }
    queue_.clear();
    wal_.reset();
    sender_.reset();
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    if (batch.empty()) return absl::OkStatus();
    if (!cfg_.queue.enabled) {
      if (pipeline::DeferredAck* deferred = pipeline::DeferredAck::current()) {
        if (absl::Status taken = holdForDelivery(batch, *deferred); !absl::IsAborted(taken)) {
          return taken;
        }
      }
      return deliverNow(std::move(batch));
    }
    const int64_t size = sizeOf(batch);
    const int64_t items = static_cast<int64_t>(batch.itemCount());
    // block_on_overflow with a receiver that answers later (OTLP/gRPC): the request is queued
    // past the limit and its OK held until it fits, instead of this thread waiting. A waiting
    // thread here was a gRPC polling thread (one on 2 cores), and every call behind it waited.
    pipeline::DeferredAck::Done held_until_it_fits;
    {
      std::unique_lock lock(mu_);
      recent_sizes_.add(static_cast<size_t>(size));
      for (;;) {
        if (stopping_) return absl::UnavailableError("exporter is shutting down");
        // One request larger than the whole queue still goes alone, or it could never pass.
        if (used_ == 0 || used_ + size <= cfg_.queue.queue_size) break;
        const auto refuse = [&] {
          enqueue_failed_->add(static_cast<uint64_t>(items));
          updateBackpressure();
          return absl::UnavailableError(strCat("sending queue of exporter ", id_, " is full"));
        };
        if (!cfg_.queue.block_on_overflow) return refuse();
        if (pipeline::DeferredAck* deferred = pipeline::DeferredAck::current()) {
          // Bounded as the store's queue is: past twice the size, refused (retryable).
          if (used_ + size > 2 * cfg_.queue.queue_size) return refuse();
          held_until_it_fits = deferred->hold();
          break;
        }
        not_full_.wait(lock);
      }
      used_ += size;
      admitted_ += size;
      updateBackpressure();
    }
    uint64_t wal_id = 0;
    if (wal_) {
      // A receiver that answers later (OTLP/gRPC) gets its OK after the log's sync without a
      // thread waiting for it here.
      pipeline::DeferredAck* deferred = pipeline::DeferredAck::current();
      pipeline::DeferredAck::Done hold = deferred != nullptr ? deferred->hold() : nullptr;
      auto id = hold ? wal_->appendThenSyncLater(encodeBatch(batch), hold)
                     : wal_->append(encodeBatch(batch));
      if (!id.ok() && hold) hold(id.status());  // not taken by the log
      if (!id.ok()) {
        if (held_until_it_fits) held_until_it_fits(id.status());
        held_until_it_fits = nullptr;
        release(size);
        logging::error("persistent queue write failed",
                       {{"exporter", id_}, {"error", id.status()}});
        return absl::UnavailableError(id.status().message());
      }
      wal_id = *id;
    }
    std::vector<pipeline::DeferredAck::Done> fitting;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(Item{std::move(batch), wal_id, size, items, next_seq_});
      unfinished_.insert(next_seq_++);
      if (held_until_it_fits) {
        held_.push_back(HeldAck{admitted_, std::move(held_until_it_fits)});
        fitting = fittingAcksLocked();  // requests may have left meanwhile
      }
    }
    not_empty_.notify_one();
    for (auto& done : fitting) done(absl::OkStatus());
    return absl::OkStatus();
  }

  pipeline::BackpressureSource& backpressure() override { return backpressure_; }

  // Waits until every request queued before the call is finished with: delivered, or given up
  // (dead-lettered or dropped, and counted) under the retry policy. Batching inside the queue
  // stops waiting for min_size meanwhile. A destination that keeps failing holds the flush until
  // retry_on_failure gives up, or `deadline`.
  absl::Status flush(absl::Time deadline) override {
    std::unique_lock lock(mu_);
    if (!started_ || stopping_) {
      // Without a queue nothing outlives a shutdown's answers: nothing is left to wait for.
      if (!cfg_.queue.enabled) return absl::OkStatus();
      return absl::UnavailableError("the exporter is not running");
    }
    const uint64_t target = next_seq_;
    ++flushing_;
    not_empty_.notify_all();  // a consumer collecting a batch sends what it has
    const bool done = finished_.wait_until(lock, absl::ToChronoTime(deadline), [&] {
      return stopping_ || unfinished_.empty() || *unfinished_.begin() >= target;
    });
    --flushing_;
    if (stopping_) return absl::UnavailableError("the exporter is shutting down");
    if (!done) {
      const auto left = std::distance(unfinished_.begin(), unfinished_.lower_bound(target));
      return absl::DeadlineExceededError(
          strCat(left, " requests queued before the flush are not delivered yet (destination ",
                 sender_ ? sender_->destination() : "", ")"));
    }
    return absl::OkStatus();
  }

 private:
  struct Item {
    pipeline::Batch batch;
    uint64_t wal_id;
    int64_t size;
    int64_t items;
    uint64_t seq;  // the order queued, for flush()
  };
  // kUnanswered: interrupted by shutdown while its client still waits for the answer (no sending
  // queue), which then tells it to send the request again instead of dead-lettering it.
  enum class Outcome { kDone, kKeepOnDisk, kUnanswered };

  int64_t sizeOf(const pipeline::Batch& batch) const {
    switch (cfg_.queue.sizer) {
      case Sizer::kRequests:
        return 1;
      case Sizer::kItems:
        return static_cast<int64_t>(batch.itemCount());
      case Sizer::kBytes:
        if (auto wire = batch.wireBytes()) return static_cast<int64_t>(wire->size());
        return static_cast<int64_t>(batch.request().ByteSizeLong());
    }
    return 1;
  }

  void release(int64_t size) {
    std::vector<pipeline::DeferredAck::Done> fitting;
    {
      std::lock_guard lock(mu_);
      used_ -= size;
      released_ += size;
      updateBackpressure();
      if (!held_.empty()) fitting = fittingAcksLocked();
    }
    not_full_.notify_all();
    for (auto& done : fitting) done(absl::OkStatus());
  }

  // The held acknowledgements whose requests now fit in the queue, oldest first. Called with
  // mu_ held; the callbacks are called without it.
  std::vector<pipeline::DeferredAck::Done> fittingAcksLocked() {
    std::vector<pipeline::DeferredAck::Done> fitting;
    while (!held_.empty() && held_.front().admitted_through - released_ <= cfg_.queue.queue_size) {
      fitting.push_back(std::move(held_.front().done));
      held_.pop_front();
    }
    return fitting;
  }

  // Full (receivers refuse before reading) while a request of any recent size would be refused:
  // with the `requests` sizer exactly when consume() refuses every request. A queue that blocks
  // instead of refusing (block_on_overflow), or none at all, is never full. Called with mu_ held.
  void updateBackpressure() {
    if (!cfg_.queue.enabled || cfg_.queue.block_on_overflow) return;
    backpressure_.setFull(used_ > 0 && used_ + static_cast<int64_t>(recent_sizes_.value()) >
                                           cfg_.queue.queue_size);
  }

  void registerGauges() {
    gauge_ids_.push_back(metrics_.callbackGauge(
        "otlpd_exporter_queue_size", "Requests, items or bytes (per sizer) held by the queue.",
        labels_, [this] {
          std::lock_guard lock(mu_);
          return static_cast<double>(used_);
        }));
    metrics_.gauge("otlpd_exporter_queue_capacity", "Capacity of the sending queue.", labels_)
        .set(static_cast<double>(cfg_.queue.queue_size));
    if (cfg_.breaker.enabled) {
      gauge_ids_.push_back(metrics_.callbackGauge(
          "otlpd_exporter_circuit_breaker_state",
          "Circuit breaker state: 0 closed, 1 open, 2 half-open.", labels_, [this] {
            std::lock_guard lock(breaker_mu_);
            return static_cast<double>(breaker_.state(now_()));
          }));
    }
    if (wal_) {
      gauge_ids_.push_back(metrics_.callbackGauge(
          "otlpd_exporter_persistent_queue_bytes", "Bytes of the persistent queue on disk.",
          labels_, [this] { return static_cast<double>(wal_ ? wal_->diskBytes() : 0); }));
    }
  }

  // Replays what a previous run acknowledged but did not deliver.
  void recover() {
    std::vector<WriteAheadLog::Record> records = wal_->takeRecovered();
    int64_t items_total = 0;
    for (WriteAheadLog::Record& r : records) {
      auto batch = decodeBatch(signal_, r.payload);
      if (!batch.ok()) {
        logging::error("persistent queue record does not decode; dropped",
                       {{"exporter", id_}, {"id", r.id}});
        dropped_->add();
        wal_->ack(r.id);
        continue;
      }
      const int64_t size = sizeOf(*batch);
      const int64_t items = static_cast<int64_t>(batch->itemCount());
      if (used_ > 0 && used_ + size > cfg_.queue.queue_size) {
        // The queue was made smaller since these were acknowledged: they are still ours.
        deadLetter(*batch, items, "queue_overflow",
                   "persistent queue recovered more than queue_size holds", false);
        wal_->ack(r.id);
        continue;
      }
      used_ += size;
      updateBackpressure();
      items_total += items;
      queue_.push_back(Item{*std::move(batch), r.id, size, items, next_seq_});
      unfinished_.insert(next_seq_++);
    }
    if (!records.empty()) {
      logging::info("persistent queue recovered undelivered requests",
                    {{"exporter", id_},
                     {"signal", pipeline::signalName(signal_)},
                     {"requests", queue_.size()},
                     {"items", items_total}});
    }
  }

  void consumerLoop() {
    for (;;) {
      std::vector<Item> work;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        // The persistent queue keeps its backlog for the next start instead of draining it.
        if (queue_.empty() || (stopping_ && wal_)) return;
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
        collectBatch(lock, work);
      }
      process(work);
    }
  }

  // Batching inside the queue: merge queued requests up to min_size, waiting at most
  // flush_timeout for more, never beyond max_size.
  void collectBatch(std::unique_lock<std::mutex>& lock, std::vector<Item>& work) {
    const int64_t min = cfg_.queue.batch_min_size, max = cfg_.queue.batch_max_size;
    if (min <= 0) return;
    int64_t acc = work.front().size;
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(cfg_.queue.flush_timeout);
    while (acc < min && !stopping_) {
      if (!queue_.empty()) {
        if (max > 0 && acc + queue_.front().size > max) break;
        acc += queue_.front().size;
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
        continue;
      }
      if (flushing_ > 0) break;  // a flush waits: send what there is
      if (not_empty_.wait_until(lock, deadline) == std::cv_status::timeout && queue_.empty()) break;
    }
  }

  void process(std::vector<Item>& work) {
    int64_t items = 0, size = 0;
    for (const Item& i : work) {
      items += i.items;
      size += i.size;
    }
    pipeline::Batch batch = work.front().batch;
    if (work.size() > 1) {
      std::vector<pipeline::Batch> parts;
      parts.reserve(work.size());
      for (const Item& i : work) parts.push_back(i.batch);
      batch = pipeline::mergeBatches(parts);
    }
    const Outcome outcome = deliver(batch, items);
    if (wal_ && outcome == Outcome::kDone) {
      for (const Item& i : work) wal_->ack(i.wal_id);
    }
    {
      std::lock_guard lock(mu_);
      for (const Item& i : work) unfinished_.erase(i.seq);
    }
    finished_.notify_all();
    work.clear();
    release(size);
  }

  // Without a sending queue, a receiver that answers later (OTLP over gRPC or HTTP, Zipkin, Jaeger
  // Thrift/HTTP) has its request delivered by one of num_consumers threads while its answer is
  // held (pipeline::DeferredAck) until the request is delivered or dead-lettered, as deliverNow()
  // would have answered it: the thread that waited in consume() through the retries was a gRPC
  // polling thread (one on 2 cores) or an HTTP I/O thread, and every call behind it waited too.
  // Aborted when every thread is busy and as many requests wait already: the caller then delivers
  // in place, as before. Moves from `batch` only when taken.
  absl::Status holdForDelivery(pipeline::Batch& batch, pipeline::DeferredAck& deferred) {
    {
      std::lock_guard lock(mu_);
      if (!started_) return absl::AbortedError("not started");
      if (stopping_) return absl::UnavailableError("exporter is shutting down");
      if (held_deliveries_.size() >= static_cast<size_t>(cfg_.queue.num_consumers)) {
        return absl::AbortedError("every delivery thread is busy");
      }
      held_deliveries_.push_back(HeldDelivery{std::move(batch), deferred.hold(), next_seq_});
      unfinished_.insert(next_seq_++);
    }
    not_empty_.notify_one();
    return absl::OkStatus();
  }

  void heldDeliveryLoop() {
    for (;;) {
      std::optional<HeldDelivery> d;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [this] { return !held_deliveries_.empty() || stopping_; });
        // What is not started at shutdown is answered UNAVAILABLE there (nothing was acked).
        if (stopping_) return;
        d.emplace(std::move(held_deliveries_.front()));
        held_deliveries_.pop_front();
      }
      const Outcome outcome =
          deliver(d->batch, static_cast<int64_t>(d->batch.itemCount()), /*client_waits=*/true);
      {
        std::lock_guard lock(mu_);
        unfinished_.erase(d->seq);
      }
      finished_.notify_all();
      d->done(answerFor(outcome));
    }
  }

  absl::Status deliverNow(pipeline::Batch&& batch) {
    // Without a queue the caller waits for the outcome; undeliverable data still ends in the
    // dead-letter queue rather than back with a client that may not retry.
    return answerFor(
        deliver(batch, static_cast<int64_t>(batch.itemCount()), /*client_waits=*/true));
  }

  // The answer to a client that waited for its request's delivery (no sending queue): OK once
  // delivered or dead-lettered; interrupted by shutdown, retryable: a resend may duplicate what
  // went out in part, never lose it.
  absl::Status answerFor(Outcome outcome) const {
    if (outcome != Outcome::kUnanswered) return absl::OkStatus();
    return absl::UnavailableError(strCat("exporter ", id_, " shut down before delivery; retry"));
  }

  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  bool pastDrainDeadline() {
    std::lock_guard lock(mu_);
    return stopping_ && now_() >= drain_deadline_;
  }

  // Waits `d`, or less when shutdown starts; false when interrupted.
  bool sleepFor(absl::Duration d) {
    std::unique_lock lock(mu_);
    return !wake_.wait_for(lock, absl::ToChronoNanoseconds(d), [this] { return stopping_; });
  }

  // Waits until the breaker lets a request through; false when shutdown interrupted the wait.
  bool passBreaker() {
    if (!cfg_.breaker.enabled) return true;
    for (;;) {
      absl::Duration wait;
      {
        std::lock_guard lock(breaker_mu_);
        const uint64_t before = breaker_.transitions();
        const bool allowed = breaker_.allow(now_());
        noteTransition(before);
        if (allowed) return true;
        const absl::Time reopen = breaker_.reopensAt();
        // Half-open with the probe out: look again soon.
        wait = reopen == absl::InfinitePast() ? absl::Milliseconds(20)
                                              : std::max(reopen - now_(), absl::Milliseconds(1));
      }
      // Shutting down: an open breaker will not close in time for the drain.
      if (!sleepFor(std::min(wait, absl::Seconds(1)))) return false;
    }
  }

  void breakerOutcome(bool failure) {
    if (!cfg_.breaker.enabled) return;
    std::lock_guard lock(breaker_mu_);
    const uint64_t before = breaker_.transitions();
    if (failure) {
      breaker_.onFailure(now_());
    } else {
      breaker_.onSuccess(now_());
    }
    noteTransition(before);
  }

  // Called with breaker_mu_ held.
  void noteTransition(uint64_t before) {
    if (breaker_.transitions() == before) return;
    const std::string_view state = breakerStateName(breaker_.state(now_()));
    common::Labels labels = labels_;
    labels.emplace_back("state", std::string(state));
    metrics_
        .counter("otlpd_exporter_circuit_breaker_transitions_total",
                 "Circuit breaker state changes, by the state entered.", labels)
        .add();
    logging::warn("circuit breaker state changed", {{"exporter", id_},
                                                    {"signal", pipeline::signalName(signal_)},
                                                    {"state", state},
                                                    {"destination", sender_->destination()}});
  }

  // What happens to work that shutdown interrupted.
  Outcome interrupted(const pipeline::Batch& batch, int64_t items, std::string_view last_error,
                      bool client_waits) {
    if (wal_) return Outcome::kKeepOnDisk;
    if (client_waits) return Outcome::kUnanswered;
    deadLetter(batch, items, "shutdown",
               strCat("shut down before delivery; last error: ", last_error), false);
    return Outcome::kDone;
  }

  // Offers the batch to the failover target; true when it took it.
  bool handOver(const pipeline::Batch& batch, int64_t items) {
    if (!failover_) return false;
    pipeline::Batch copy = batch;
    if (!failover_(std::move(copy)).ok()) return false;
    handed_over_->add(static_cast<uint64_t>(items));
    return true;
  }

  // While failing, one real attempt a second probes the destination; the rest is handed over.
  bool probeDue() {
    const absl::Time now = now_();
    std::lock_guard lock(breaker_mu_);
    if (now - last_probe_ < absl::Seconds(1)) return false;
    last_probe_ = now;
    return true;
  }

  Outcome deliver(const pipeline::Batch& original, int64_t original_items,
                  bool client_waits = false) {
    const absl::Time start = now_();
    std::string last_error = "none (not attempted)";
    // What is left to deliver: the whole batch, until a sender reports partial progress.
    pipeline::Batch batch = original;
    int64_t items = original_items;
    for (int retry = 0;; ++retry) {
      if (pastDrainDeadline() || (wal_ && stopping())) {
        return interrupted(batch, items, last_error, client_waits);
      }
      if (failover_ && failing() && !probeDue() && handOver(batch, items)) return Outcome::kDone;
      if (!passBreaker()) return interrupted(batch, items, last_error, client_waits);
      SendResult r = sender_->send(batch, cfg_.timeout);
      if (r.rejected) {
        // Refused for good while the rest went (or may still go): only that part is kept.
        const auto rejected = static_cast<int64_t>(r.rejected->itemCount());
        partial_rejected_->add(static_cast<uint64_t>(rejected));
        deadLetter(*r.rejected, rejected, "rejected",
                   strCat("destination refused: ", r.rejected_message), false);
        items = std::max<int64_t>(items - rejected, 0);
        r.rejected_items = 0;
      }
      if (!r.status.ok() && r.remaining && isRetryable(r.status)) {
        const auto left = static_cast<int64_t>(r.remaining->itemCount());
        sent_->add(static_cast<uint64_t>(std::max<int64_t>(items - left, 0)));
        batch = *std::move(r.remaining);
        items = left;
      }
      if (r.status.ok()) {
        consecutive_failures_.store(0, std::memory_order_relaxed);
        breakerOutcome(false);
        const int64_t rejected = std::clamp<int64_t>(r.rejected_items, 0, items);
        sent_->add(static_cast<uint64_t>(items - rejected));
        if (r.rejected_items > 0) {
          partial_rejected_->add(static_cast<uint64_t>(r.rejected_items));
          logging::warn("destination accepted part of a request",
                        {{"exporter", id_},
                         {"destination", sender_->destination()},
                         {"rejected", r.rejected_items},
                         {"message", r.rejected_message}});
          // Kept for inspection; marked partial so a replay does not duplicate what was taken.
          deadLetter(
              batch, r.rejected_items, "partial_success",
              strCat("partial success: ", r.rejected_items, " rejected: ", r.rejected_message),
              true, /*count_failed=*/false);
        }
        return Outcome::kDone;
      }
      last_error = r.status.ToString();
      if (r.status.code() == absl::StatusCode::kInvalidArgument) {
        // The destination answered: it is healthy, the data is not.
        consecutive_failures_.store(0, std::memory_order_relaxed);
        breakerOutcome(false);
        deadLetter(batch, items, "permanent", strCat("permanent error: ", last_error), false);
        return Outcome::kDone;
      }
      breakerOutcome(true);
      consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
      if (failing() && handOver(batch, items)) return Outcome::kDone;
      if (!cfg_.retry.enabled) {
        deadLetter(batch, items, "retry_disabled",
                   strCat("retry_on_failure disabled; error: ", last_error), false);
        return Outcome::kDone;
      }
      const absl::Duration delay =
          throttledDelay(cfg_.retry, backoffDelay(cfg_.retry, retry, random01()), r.retry_after);
      if (cfg_.retry.max_elapsed_time > absl::ZeroDuration() &&
          now_() + delay - start > cfg_.retry.max_elapsed_time) {
        deadLetter(batch, items, "max_elapsed_time",
                   strCat("gave up after ", absl::FormatDuration(now_() - start),
                          " (max_elapsed_time); last error: ", last_error),
                   false);
        return Outcome::kDone;
      }
      retries_->add();
      warnRateLimited(last_error, delay, r.retry_after.has_value());
      if (!sleepFor(delay)) return interrupted(batch, items, last_error, client_waits);
    }
  }

  void deadLetter(const pipeline::Batch& batch, int64_t items, std::string_view kind,
                  std::string reason, bool partial, bool count_failed = true) {
    if (count_failed) send_failed_->add(static_cast<uint64_t>(items));
    absl::Status s = absl::FailedPreconditionError("no dead_letter_queue configured");
    if (dlq_) {
      DeadLetterHeader h;
      h.time = absl::Now();
      h.exporter = id_;
      h.destination = sender_ ? sender_->destination() : "";
      h.signal = signal_;
      h.reason = reason;
      h.items = items;
      h.partial = partial;
      s = dlq_->write(h, batch);
    }
    if (s.ok()) {
      metrics_
          .counter(strCat("otlpd_exporter_dead_letter_", pipeline::itemName(signal_), "_total"),
                   "Items written to the dead-letter queue, by reason.",
                   {{"exporter", id_}, {"reason", std::string(kind)}})
          .add(static_cast<uint64_t>(items));
      logging::warn("request written to the dead-letter queue",
                    {{"exporter", id_}, {"items", items}, {"reason", reason}});
      return;
    }
    if (partial) return;  // the rest was delivered; the rejection is already counted
    dropped_->add(static_cast<uint64_t>(items));
    logging::error("request dropped: undeliverable and not dead-lettered",
                   {{"exporter", id_}, {"items", items}, {"reason", reason}, {"error", s}});
  }

  void warnRateLimited(const std::string& error, absl::Duration delay, bool server_asked) {
    const int64_t now = absl::GetCurrentTimeNanos();
    int64_t last = last_warning_ns_.load(std::memory_order_relaxed);
    if (now - last < 1'000'000'000 ||
        !last_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      return;
    }
    logging::warn("export failed, will retry", {{"exporter", id_},
                                                {"destination", sender_->destination()},
                                                {"error", error},
                                                {"delay", absl::FormatDuration(delay)},
                                                {"delay_from_server", server_asked}});
  }

  const std::string id_;
  const pipeline::ComponentId settings_id_;  // the id as parsed, for storage client names
  const Signal signal_;
  const HelperConfig cfg_;
  SenderFactory sender_factory_;
  std::function<absl::Time()> now_;
  common::MetricsRegistry& metrics_;
  common::Labels labels_;

  std::shared_ptr<Sender> sender_;
  std::unique_ptr<WriteAheadLog> wal_;
  std::unique_ptr<DeadLetterWriter> dlq_;

  std::mutex mu_;
  std::condition_variable not_empty_, not_full_, wake_;
  std::condition_variable finished_;  // requests left unfinished_
  std::deque<Item> queue_;
  uint64_t next_seq_ = 0;
  std::set<uint64_t> unfinished_;  // seqs of requests queued or in flight
  int flushing_ = 0;               // flush() calls waiting
  int64_t used_ = 0;               // queued and in flight, in sizer units
  // block_on_overflow: acknowledgements held until the units admitted up to their request
  // (admitted_ after it, counted since the start) minus those released fit the queue.
  struct HeldAck {
    int64_t admitted_through;
    pipeline::DeferredAck::Done done;
  };
  std::deque<HeldAck> held_;
  // No sending queue: requests waiting for a delivery thread, their answers held.
  struct HeldDelivery {
    pipeline::Batch batch;
    pipeline::DeferredAck::Done done;
    uint64_t seq;
  };
  std::deque<HeldDelivery> held_deliveries_;
  int64_t admitted_ = 0, released_ = 0;
  pipeline::RecentMinimum recent_sizes_;  // of requests offered, in sizer units
  pipeline::BackpressureSource backpressure_;
  bool stopping_ = false;
  bool started_ = false;
  absl::Time drain_deadline_ = absl::InfiniteFuture();
  std::vector<std::thread> consumers_;
  std::vector<uint64_t> gauge_ids_;

  std::mutex breaker_mu_;
  CircuitBreaker breaker_;
  absl::Time last_probe_ = absl::InfinitePast();  // under breaker_mu_

  std::function<absl::Status(pipeline::Batch&&)> failover_;  // set before start()
  common::Counter* handed_over_ = nullptr;
  std::atomic<int> consecutive_failures_{0};

  common::Counter* sent_;
  common::Counter* send_failed_;
  common::Counter* enqueue_failed_;
  common::Counter* partial_rejected_;
  common::Counter* dropped_;
  common::Counter* retries_;
  std::atomic<int64_t> last_warning_ns_{0};
};

}  // namespace

std::unique_ptr<pipeline::Exporter> makeQueuedExporter(const pipeline::CreateSettings& settings,
                                                       pipeline::Signal signal, HelperConfig config,
                                                       SenderFactory sender_factory,
                                                       HelperHooks hooks) {
  if (config.queue.storage_extension && config.queue.storage_node && settings.extensions) {
    std::shared_ptr<pipeline::StorageRef> ref = config.queue.storage_extension;
    settings.extensions->use(
        ref->id, *config.queue.storage_node, "storage", "storage extension",
        [ref](const std::shared_ptr<pipeline::Extension>& extension) {
          auto* typed = dynamic_cast<pipeline::StorageExtension*>(extension.get());
          if (typed == nullptr) return false;
          ref->storage = std::shared_ptr<pipeline::StorageExtension>(extension, typed);
          return true;
        });
  }
  config.queue.storage_node.reset();  // its error list lives only while the graph is built
  return std::make_unique<QueuedExporter>(settings, signal, std::move(config),
                                          std::move(sender_factory), std::move(hooks));
}

}  // namespace otlpd::exporters::helper
