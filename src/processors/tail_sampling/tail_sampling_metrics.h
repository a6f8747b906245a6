// The tail_sampling processor's self-metrics (otlpd_processor_tail_sampling_*), looked up once so
// the hot path only adds to atomics.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/metrics_registry.h"
#include "processors/tail_sampling/policy.h"

namespace otlpd::processors::tail_sampling {

// What made a trace be decided.
enum class DecisionTrigger : uint8_t { kRoot, kDecisionWait, kEarly, kShutdown };
inline constexpr size_t kDecisionTriggers = 4;
// Why a trace was decided before its time.
enum class EarlyCause : uint8_t { kNumTraces, kBufferedBytes, kMemoryBudget };
inline constexpr size_t kEarlyCauses = 3;

class TailSamplingMetrics {
 public:
  TailSamplingMetrics(common::MetricsRegistry& registry, const std::string& processor,
                      const std::vector<std::string>& policy_names);

  // One policy's answer for one trace.
  void policyAnswer(size_t policy, Decision decision) {
    policy_answers_[policy * kDecisions + static_cast<size_t>(decision)]->add();
  }
  // The final decision, attributed to the policy that made it (npos: none did).
  void decided(size_t deciding_policy, bool kept, size_t spans) {
    const size_t row = deciding_policy < policies_ ? deciding_policy : policies_;
    Outcome& o = outcomes_[row * 2 + (kept ? 1 : 0)];
    o.traces->add();
    o.spans->add(spans);
  }
  // From the trace's end (its root's arrival, or its last span's when no root came) to the
  // decision, on the processor's monotonic clock.
  void decisionLatency(DecisionTrigger trigger, int64_t nanos);
  void early(EarlyCause cause) { early_[static_cast<size_t>(cause)]->add(); }
  void lateSpans(bool kept, size_t n) { (kept ? late_kept_ : late_dropped_)->add(n); }
  void invalidTraceIdSpans(size_t n) { invalid_->add(n); }
  void refusedSpans(size_t n) { refused_->add(n); }
  void forwardFailedSpans(size_t n) { forward_failed_->add(n); }
  void held(size_t traces, size_t spans, size_t bytes) {
    traces_held_->set(static_cast<double>(traces));
    spans_held_->set(static_cast<double>(spans));
    bytes_held_->set(static_cast<double>(bytes));
  }

  // Upper bounds (seconds) of the latency histogram's buckets, +Inf implied.
  static constexpr std::array<double, 13> kLatencyBounds = {0.05, 0.1, 0.25, 0.5, 1,  2,  2.5,
                                                            3,    5,   10,   30,  60, 120};

 private:
  static constexpr size_t kDecisions = 6;  // the values of Decision
  struct Outcome {
    common::Counter* traces;
    common::Counter* spans;
  };
  struct Histogram {
    std::array<common::Counter*, kLatencyBounds.size() + 1> buckets;  // cumulative, +Inf last
    common::Counter* count;
    common::Gauge* sum;
  };

  size_t policies_;
  std::vector<common::Counter*> policy_answers_;  // [policy][decision]
  std::vector<Outcome> outcomes_;                 // [policy or none][dropped, kept]
  std::array<Histogram, kDecisionTriggers> latency_;
  std::array<common::Counter*, kEarlyCauses> early_;
  common::Counter* late_kept_;
  common::Counter* late_dropped_;
  common::Counter* invalid_;
  common::Counter* refused_;
  common::Counter* forward_failed_;
  common::Gauge* traces_held_;
  common::Gauge* spans_held_;
  common::Gauge* bytes_held_;
};

}  // namespace otlpd::processors::tail_sampling
