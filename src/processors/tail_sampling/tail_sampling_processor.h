// The Collector's tail_sampling processor (traces): spans are held per trace in their wire form
// and the trace is decided by its policies as soon as it is complete — its root span arrived and
// `root_grace` passed without another span — or `decision_wait` after its first span at the
// latest. Kept traces go on to the next consumer; late spans follow their trace's decision.
// The engine (engine.h) does the work; this adds the clock, the lock, the decision thread and
// the hand-over to the next consumer.
//
// What consume() answers: OK once the request's spans are buffered (the trace is decided later,
// so a failure of the next consumer after the decision cannot reach the sender: it is counted
// in otlpd_processor_tail_sampling_forward_failed_spans_total and logged). A request that holds
// only late spans of kept traces is passed on at once and gets the next consumer's answer.
// kResourceExhausted / kUnavailable (retryable) when the request cannot be buffered within the
// bounds even after deciding every held trace early.
//
// Shutdown decides every held trace with the policies and passes the kept ones on (the
// exporters stop after the processors), unless `drop_pending_traces_on_shutdown` is set.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/factory.h"
#include "processors/tail_sampling/engine.h"

namespace otlpd::processors::tail_sampling {

// Time as the processor reads it; tests move it by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() override;
  static SystemClock* instance();
};

struct ProcessorOptions {
  Clock* clock = nullptr;  // null: the system clock
  // Without the decision thread, decisions happen only when runDecisions() is called (tests).
  bool decision_thread = true;
};

class TailSamplingProcessor final : public pipeline::Processor {
 public:
  // Reads the config (errors go to config.errors() with their paths).
  static std::unique_ptr<TailSamplingProcessor> create(const pipeline::CreateSettings& settings,
                                                       config::ConfigNode& config,
                                                       std::shared_ptr<pipeline::Consumer> next,
                                                       ProcessorOptions options = {});
  TailSamplingProcessor(const pipeline::CreateSettings& settings, EngineConfig config,
                        std::vector<NamedPolicy> policies, std::shared_ptr<pipeline::Consumer> next,
                        ProcessorOptions options);
  ~TailSamplingProcessor() override;

  absl::Status start(pipeline::Host& host) override;
  absl::Status shutdown() override;
  absl::Status consume(pipeline::Batch&& batch) override;

  // Decides what is due now and passes the kept traces on; returns how many traces were decided.
  size_t runDecisions();

  size_t tracesHeld() const;
  size_t bytesHeld() const;

 private:
  void run();
  void forward(std::vector<Output>& outputs);
  absl::Status forwardOne(Output& output);

  std::string id_;
  std::shared_ptr<pipeline::Consumer> next_;
  pipeline::MemoryBudget* budget_;
  Clock* clock_;
  bool decision_thread_;
  std::unique_ptr<TailSamplingMetrics> metrics_;

  mutable std::mutex mutex_;  // guards engine_ and the flags below
  std::unique_ptr<Engine> engine_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::condition_variable wake_;
  std::thread decider_;
  // Rate-limits the forward-failure log; 0 lets the first failure log (now - 0 cannot overflow).
  std::atomic<int64_t> last_failure_log_nanos_{0};
};

std::unique_ptr<pipeline::ProcessorFactory> makeTailSamplingFactory();

}  // namespace otlpd::processors::tail_sampling
