#include "processors/tail_sampling/tail_sampling_processor.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/strings.h"

namespace otlpd::processors::tail_sampling {
namespace {

// Decisions per round of the decision thread, so a burst of due traces does not hold the lock
// (and the receivers) for long.
constexpr size_t kTracesPerRound = 4096;
// The decision thread looks at least this often, so a root seen while it sleeps towards a later
// deadline is decided at most this late.
constexpr int64_t kMaxSleepNanos = 50'000'000;
constexpr int64_t kFailureLogIntervalNanos = 10'000'000'000;

}  // namespace

Instant SystemClock::now() {
  const auto mono = std::chrono::steady_clock::now().time_since_epoch();
  return Instant{std::chrono::duration_cast<std::chrono::nanoseconds>(mono).count(),
                 absl::GetCurrentTimeNanos()};
}

SystemClock* SystemClock::instance() {
  static SystemClock clock;
  return &clock;
}

TailSamplingProcessor::TailSamplingProcessor(const pipeline::CreateSettings& settings,
                                             EngineConfig config, std::vector<NamedPolicy> policies,
                                             std::shared_ptr<pipeline::Consumer> next,
                                             ProcessorOptions options)
    : id_(settings.id.toString()),
      next_(std::move(next)),
      budget_(settings.memory),
      clock_(options.clock != nullptr ? options.clock : SystemClock::instance()),
      decision_thread_(options.decision_thread) {
  std::vector<std::string> names;
  for (const NamedPolicy& p : policies) names.push_back(p.name);
  metrics_ = std::make_unique<TailSamplingMetrics>(settings.metrics, id_, names);
  engine_ = std::make_unique<Engine>(config, std::move(policies), metrics_.get(), budget_);
}

TailSamplingProcessor::~TailSamplingProcessor() {
  (void)shutdown();
}

absl::Status TailSamplingProcessor::start(pipeline::Host&) {
  if (decision_thread_ && !decider_.joinable()) decider_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

absl::Status TailSamplingProcessor::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return absl::OkStatus();
    stopping_ = true;
  }
  wake_.notify_all();
  if (decider_.joinable()) decider_.join();
  std::vector<Output> decided;
  {
    std::lock_guard lock(mutex_);
    engine_->decideAll(clock_->now(), decided);
    stopped_ = true;
  }
  forward(decided);
  return absl::OkStatus();
}

absl::Status TailSamplingProcessor::consume(pipeline::Batch&& batch) {
  std::string serialized;
  std::string_view request;
  if (auto wire = batch.wireBytes()) {
    request = *wire;
  } else {
    // Decoded batches (OTLP/JSON, merged ones) are grouped in their encoded form too.
    if (!batch.request().SerializeToString(&serialized)) {
      return absl::InternalError("tail_sampling: cannot encode the batch");
    }
    request = serialized;
  }
  // Cutting the request into spans needs no lock; the buffers are reused per thread.
  thread_local ParsedRequest parsed;
  if (absl::Status s = parsed.parse(request); !s.ok()) return s;
  if (parsed.spans().empty()) return absl::OkStatus();

  Engine::IngestResult result;
  std::vector<Output> decided;
  absl::Status status;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      return absl::UnavailableError("tail_sampling: the processor is shut down; retry later");
    }
    status = engine_->ingest(parsed, clock_->now(), result, decided);
  }
  // Traces decided early to make room for this request (their spans came in earlier requests).
  forward(decided);
  if (!status.ok()) return status;
  absl::Status late_status;
  for (Output& late : result.late) {
    if (absl::Status s = forwardOne(late); !s.ok() && late_status.ok()) late_status = s;
  }
  // Only late spans of kept traces (and maybe dropped ones) in the request: nothing was
  // buffered, so the sender can be told and retry.
  if (result.buffered == 0) return late_status;
  return absl::OkStatus();
}

size_t TailSamplingProcessor::runDecisions() {
  std::vector<Output> decided;
  size_t count;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return 0;
    count = engine_->decideDue(clock_->now(), decided);
  }
  forward(decided);
  return count;
}

size_t TailSamplingProcessor::tracesHeld() const {
  std::lock_guard lock(mutex_);
  return engine_->tracesHeld();
}

size_t TailSamplingProcessor::bytesHeld() const {
  std::lock_guard lock(mutex_);
  return engine_->bytesHeld();
}

void TailSamplingProcessor::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const Instant now = clock_->now();
    std::vector<Output> decided;
    const size_t count = engine_->decideDue(now, decided, kTracesPerRound);
    const int64_t next = engine_->nextDeadline();
    if (!decided.empty()) {
      lock.unlock();
      forward(decided);
      lock.lock();
    }
    if (count == kTracesPerRound) continue;  // more are due
    const int64_t sleep =
        next == INT64_MAX ? kMaxSleepNanos
                          : std::clamp<int64_t>(next - now.mono_nanos, 1'000'000, kMaxSleepNanos);
    wake_.wait_for(lock, std::chrono::nanoseconds(sleep), [this] { return stopping_; });
  }
}

void TailSamplingProcessor::forward(std::vector<Output>& outputs) {
  for (Output& output : outputs) (void)forwardOne(output);
}

absl::Status TailSamplingProcessor::forwardOne(Output& output) {
  const size_t spans = output.spans;
  const size_t bytes = output.request.size();
  pipeline::Batch batch = pipeline::Batch::fromWire(
      pipeline::Signal::kTraces, pipeline::WireBytes::fromString(std::move(output.request)), spans);
  if (budget_ != nullptr) batch.attachReservation(budget_->forceReserve(bytes));
  absl::Status status = next_->consume(std::move(batch));
  if (status.ok()) return status;
  metrics_->forwardFailedSpans(spans);
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_failure_log_nanos_.load(std::memory_order_relaxed);
  if (now - last >= kFailureLogIntervalNanos &&
      last_failure_log_nanos_.compare_exchange_strong(last, now)) {
    logging::log(logging::Level::kWarn,
                 "tail_sampling: the next consumer refused spans of kept traces; they are lost "
                 "(counted in otlpd_processor_tail_sampling_forward_failed_spans_total)",
                 {{"processor", id_}, {"spans", spans}, {"error", status}});
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// Config and factory

std::unique_ptr<TailSamplingProcessor> TailSamplingProcessor::create(
    const pipeline::CreateSettings& settings, config::ConfigNode& config,
    std::shared_ptr<pipeline::Consumer> next, ProcessorOptions options) {
  EngineConfig c;
  c.decision_wait = config.getDuration("decision_wait", c.decision_wait);
  if (c.decision_wait <= absl::ZeroDuration()) {
    config.addError("decision_wait", "must be greater than 0");
    c.decision_wait = absl::Seconds(30);
  }
  c.root_grace = config.getDuration("root_grace", c.root_grace);
  c.num_traces = static_cast<size_t>(
      config.getInt("num_traces", static_cast<int64_t>(c.num_traces), 1, int64_t{1} << 32));
  c.expected_new_traces_per_sec =
      static_cast<size_t>(config.getInt("expected_new_traces_per_sec", 0, 0, int64_t{1} << 32));
  config::ConfigNode cache = config.child("decision_cache");
  c.sampled_cache_size = static_cast<size_t>(cache.getInt(
      "sampled_cache_size", static_cast<int64_t>(c.sampled_cache_size), 0, int64_t{1} << 28));
  c.non_sampled_cache_size = static_cast<size_t>(
      cache.getInt("non_sampled_cache_size", static_cast<int64_t>(c.non_sampled_cache_size), 0,
                   int64_t{1} << 28));
  cache.rejectUnknownKeys();
  c.max_buffered_bytes = static_cast<size_t>(config.getInt(
      "max_buffered_bytes", static_cast<int64_t>(c.max_buffered_bytes), int64_t{1} << 16));
  c.drop_pending_traces_on_shutdown = config.getBool("drop_pending_traces_on_shutdown", false);
  const size_t errors_before = config.errors().size();
  std::vector<NamedPolicy> policies = readPolicies(config);
  if (policies.empty() && config.errors().size() == errors_before) {
    config.addError("policies", "at least one policy is required");
  }
  return std::make_unique<TailSamplingProcessor>(settings, c, std::move(policies), std::move(next),
                                                 options);
}

namespace {

class TailSamplingFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "tail_sampling"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kTraces;
  }
  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    return std::unique_ptr<pipeline::Processor>(
        TailSamplingProcessor::create(settings, config, std::move(next)));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeTailSamplingFactory() {
  return std::make_unique<TailSamplingFactory>();
}

}  // namespace otlpd::processors::tail_sampling
