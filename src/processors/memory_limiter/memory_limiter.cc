#include "processors/memory_limiter/memory_limiter.h"

#include <malloc.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/process_memory.h"
#include "common/strings.h"

namespace otlpd::processors::memory_limiter {
namespace {

struct Limits {
  size_t hard = 0;  // limit_mib / limit_percentage
  size_t soft = 0;  // hard - spike: above it, data is refused
  absl::Duration check_interval = absl::Seconds(1);
};

class MemoryLimiter final : public pipeline::Processor, public pipeline::BackpressureReporter {
 public:
  MemoryLimiter(const pipeline::CreateSettings& settings, Limits limits,
                std::shared_ptr<pipeline::Consumer> next)
      : id_(settings.id.toString()),
        limits_(limits),
        next_(std::move(next)),
        refused_(&settings.metrics.counter(
            "otlpd_memory_limiter_refused_batches_total",
            "Batches refused because process memory was above the soft limit.",
            {{"processor", id_}})) {}

  ~MemoryLimiter() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    check();
    checker_ = std::thread([this] { run(); });
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (checker_.joinable()) checker_.join();
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    if (above_soft_limit_.load(std::memory_order_relaxed)) {
      refused_->add();
      return absl::UnavailableError(strCat("memory usage is above the soft limit of ",
                                           limits_.soft >> 20, " MiB; retry later"));
    }
    return next_->consume(std::move(batch));
  }

  // Above the soft limit every batch is refused: receivers refuse before reading meanwhile.
  pipeline::BackpressureSource& backpressure() override { return backpressure_; }
  bool passesBackpressure() const override { return true; }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, absl::ToChronoMilliseconds(limits_.check_interval));
      if (stopping_) break;
      lock.unlock();
      check();
      lock.lock();
    }
  }

  void check() {
    std::optional<size_t> rss = common::residentBytes();
    if (!rss) return;
    if (*rss > limits_.soft) {
      // glibc keeps freed memory; hand it back before deciding we are still over the limit.
      ::malloc_trim(0);
      rss = common::residentBytes().value_or(*rss);
    }
    const bool above = *rss > limits_.soft;
    backpressure_.setFull(above);  // check() runs on one thread at a time (start, then run())
    if (above != above_soft_limit_.exchange(above)) {
      logging::log(
          above ? logging::Level::kWarn : logging::Level::kInfo,
          above ? "memory above soft limit: refusing data" : "memory back below soft limit",
          {{"processor", id_}, {"rss_bytes", *rss}, {"soft_limit_bytes", limits_.soft}});
    }
  }

  std::string id_;
  Limits limits_;
  std::shared_ptr<pipeline::Consumer> next_;
  common::Counter* refused_;
  std::atomic<bool> above_soft_limit_{false};
  pipeline::BackpressureSource backpressure_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread checker_;
};

class MemoryLimiterFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "memory_limiter"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    Limits limits;
    limits.check_interval = config.getDuration("check_interval", absl::ZeroDuration());
    if (limits.check_interval <= absl::ZeroDuration()) {
      config.addError("check_interval", "is required and must be greater than 0 (e.g. 1s)");
    }
    const int64_t limit_mib = config.getInt("limit_mib", 0, 0);
    const int64_t limit_pct = config.getInt("limit_percentage", 0, 0, 100);
    const int64_t spike_mib = config.getInt("spike_limit_mib", 0, 0);
    const int64_t spike_pct = config.getInt("spike_limit_percentage", 0, 0, 100);
    if (limit_mib > 0) {
      limits.hard = static_cast<size_t>(limit_mib) << 20;
    } else if (limit_pct > 0) {
      const size_t total = common::availableMemoryBytes().value_or(0);
      limits.hard = total / 100 * static_cast<size_t>(limit_pct);
    } else {
      config.addError("limit_mib", "set limit_mib or limit_percentage");
      return std::make_unique<MemoryLimiter>(settings, limits, std::move(next));
    }
    size_t spike = limits.hard / 5;  // the Collector's default: 20% of the limit
    if (spike_mib > 0) spike = static_cast<size_t>(spike_mib) << 20;
    if (spike_pct > 0) spike = limits.hard / 100 * static_cast<size_t>(spike_pct);
    if (spike >= limits.hard) {
      config.addError(spike_mib > 0 ? "spike_limit_mib" : "spike_limit_percentage",
                      "must be less than the limit");
      spike = limits.hard / 5;
    }
    limits.soft = limits.hard - spike;
    if (settings.memory != nullptr) {
      // The limits are for the whole process. Telemetry gets the soft limit less what the
      // process uses without any (code, threads: its RSS now) and less half the spike
      // allowance, which stays free for what the budget cannot see: data in flight inside the
      // transports (HTTP/2 windows of refused streams) and allocator slack. Never less than a
      // quarter of the soft limit.
      const size_t baseline = common::residentBytes().value_or(0);
      const size_t reserved = baseline + spike / 2;
      const size_t budget =
          std::max(limits.soft > reserved ? limits.soft - reserved : 0, limits.soft / 4);
      // Several limiters (one per pipeline) share the service's budget: the tightest wins.
      const size_t current = settings.memory->limit();
      if (current == 0 || budget < current) settings.memory->setLimit(budget);
    }
    return std::make_unique<MemoryLimiter>(settings, limits, std::move(next));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeMemoryLimiterFactory() {
  return std::make_unique<MemoryLimiterFactory>();
}

}  // namespace otlpd::processors::memory_limiter
