#include "processors/batch/batch_processor.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "pipeline/batch_ops.h"
#include "pipeline/deferred_ack.h"

namespace otlpd::processors::batch {
namespace {

struct BatchConfig {
  size_t send_batch_size = 8192;
  absl::Duration timeout = absl::Milliseconds(200);
  size_t send_batch_max_size = 0;  // 0: no upper bound
};

class BatchProcessor final : public pipeline::Processor, public pipeline::Flushable {
 public:
  // Every caller gets the result of the batch its items went out in (honest batching).
  bool passesBackpressure() const override { return true; }
  BatchProcessor(const pipeline::CreateSettings& settings, BatchConfig config,
                 std::shared_ptr<pipeline::Consumer> next)
      : config_(config),
        next_(std::move(next)),
        sent_by_size_(
            &settings.metrics.counter("otlpd_processor_batch_batch_send_size_trigger_total",
                                      "Batches sent because they reached send_batch_size.",
                                      {{"processor", settings.id.toString()}})),
        sent_by_timeout_(&settings.metrics.counter(
            "otlpd_processor_batch_timeout_trigger_send_total",
            "Batches sent because the timeout expired.", {{"processor", settings.id.toString()}})) {
  }

  ~BatchProcessor() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    timer_ = std::thread([this] { runTimer(); });
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    std::shared_ptr<Pending> last;
    {
      std::lock_guard lock(mutex_);
      if (!timer_.joinable()) return absl::OkStatus();
      stopping_ = true;
      last = std::move(pending_);
    }
    timer_wake_.notify_all();
    timer_.join();
    // Whoever waits on the last batch gets its real outcome, not a made-up one.
    if (last) flush(last);
    return absl::OkStatus();
  }

  // Sends the batch being filled now instead of at its timeout or size. Its callers, still
  // waiting in consume(), get the outcome (a refusal is theirs to retry, not the flush's).
  absl::Status flush(absl::Time) override {
    std::shared_ptr<Pending> due;
    {
      std::lock_guard lock(mutex_);
      due = std::move(pending_);
    }
    if (due) flush(due);
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    const size_t items = batch.itemCount();
    if (items >= config_.send_batch_size) {
      sent_by_size_->add();
      return send(std::move(batch));
    }
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      return send(std::move(batch));
    }
    if (!pending_) {
      pending_ = std::make_shared<Pending>();
      pending_->deadline = absl::Now() + config_.timeout;
      timer_wake_.notify_all();
    }
    std::shared_ptr<Pending> mine = pending_;
    mine->parts.push_back(std::move(batch));
    mine->items += items;
    // A receiver that can answer later (OTLP/gRPC: a DeferredAck scope) gets its answer when the
    // batch is sent, without its thread waiting here: that thread goes on to read the requests
    // that fill the batch (the receiver polls with one thread per two cores).
    pipeline::DeferredAck* const ack = pipeline::DeferredAck::current();
    if (ack != nullptr) mine->holds.push_back(ack->hold());
    const bool full = mine->items >= config_.send_batch_size;
    if (full) pending_.reset();
    lock.unlock();
    if (full) {
      sent_by_size_->add();
      flush(mine);
    }
    if (ack != nullptr) return absl::OkStatus();
    std::unique_lock outcome_lock(mine->outcome_mu);
    mine->outcome_ready.wait(outcome_lock, [&] { return mine->done; });
    return mine->result;
  }

 private:
  // A batch being filled; every caller whose items are in it waits for its outcome, in place or
  // through a hold on its deferred answer.
  struct Pending {
    std::vector<pipeline::Batch> parts;
    size_t items = 0;
    absl::Time deadline;
    // Pushed to under the processor's mutex until the batch is taken for sending, then final.
    std::vector<pipeline::DeferredAck::Done> holds;
    // The outcome, set once; its own lock, because it may be set after the processor is gone
    // (a consumer downstream releasing its hold during its own shutdown).
    std::mutex outcome_mu;
    std::condition_variable outcome_ready;
    bool done = false;
    absl::Status result;
  };

  absl::Status send(pipeline::Batch&& batch) {
    if (config_.send_batch_max_size == 0 || batch.itemCount() <= config_.send_batch_max_size) {
      return next_->consume(std::move(batch));
    }
    std::vector<pipeline::Batch> pieces = pipeline::splitBatch(batch, config_.send_batch_max_size);
    for (auto& piece : pieces) piece.reserveLike(batch);
    batch = pipeline::Batch::create(batch.signal());  // the pieces now hold the data
    absl::Status first_error;
    for (auto& piece : pieces) {
      absl::Status s = next_->consume(std::move(piece));
      if (!s.ok() && first_error.ok()) first_error = s;
    }
    return first_error;
  }

  // Sends the batch; its callers learn the outcome once what the batch went to is done with it
  // too: consumers downstream that answer later (the store's `durability: sync`) take their
  // holds on the batch's own deferred answer, which every caller of the batch waits for.
  void flush(const std::shared_ptr<Pending>& pending) {
    absl::Status sent;
    auto downstream = std::make_shared<pipeline::DeferredAck>();
    if (!pending->parts.empty()) {
      pipeline::Batch merged = pending->parts.size() == 1 ? std::move(pending->parts.front())
                                                          : pipeline::mergeBatches(pending->parts);
      if (pending->parts.size() > 1) merged.reserveLike(pending->parts.front());
      pending->parts.clear();
      pipeline::DeferredAck::Scope scope(*downstream);
      sent = send(std::move(merged));
    }
    downstream->whenReleased([pending, sent](const absl::Status& held) {
      const absl::Status result = sent.ok() ? held : sent;
      {
        std::lock_guard lock(pending->outcome_mu);
        pending->done = true;
        pending->result = result;
      }
      pending->outcome_ready.notify_all();
      for (auto& done : pending->holds) done(result);
      pending->holds.clear();
    });
  }

  void runTimer() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (!pending_) {
        timer_wake_.wait(lock);
        continue;
      }
      const absl::Time deadline = pending_->deadline;
      if (absl::Now() < deadline) {
        timer_wake_.wait_for(lock, absl::ToChronoNanoseconds(deadline - absl::Now()));
        continue;
      }
      std::shared_ptr<Pending> due = std::move(pending_);
      lock.unlock();
      sent_by_timeout_->add();
      flush(due);
      lock.lock();
    }
  }

  BatchConfig config_;
  std::shared_ptr<pipeline::Consumer> next_;
  common::Counter* sent_by_size_;
  common::Counter* sent_by_timeout_;
  std::mutex mutex_;
  std::condition_variable timer_wake_;
  std::shared_ptr<Pending> pending_;
  bool stopping_ = false;
  std::thread timer_;
};

class BatchProcessorFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "batch"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    BatchConfig c;
    c.send_batch_size = static_cast<size_t>(
        config.getInt("send_batch_size", static_cast<int64_t>(c.send_batch_size), 1));
    c.timeout = config.getDuration("timeout", c.timeout);
    c.send_batch_max_size = static_cast<size_t>(config.getInt("send_batch_max_size", 0, 0));
    if (c.send_batch_max_size != 0 && c.send_batch_max_size < c.send_batch_size) {
      config.addError("send_batch_max_size", "must be 0 or at least send_batch_size");
    }
    if (c.timeout <= absl::ZeroDuration()) config.addError("timeout", "must be greater than 0");
    return std::make_unique<BatchProcessor>(settings, c, std::move(next));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeBatchProcessorFactory() {
  return std::make_unique<BatchProcessorFactory>();
}

}  // namespace otlpd::processors::batch
