// The probabilistic_sampler as wire editors (otlp/wire_edit.h): spans and log records decided one
// by one and their sampling information written back, for the runs of editing processors that
// share one walk of a request; and the fast span path (span_rewriter.h) with the same decisions,
// for when the sampler walks alone. Each keeps its batch's decision counts for the processor's
// counters. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "otlp/wire_edit.h"
#include "processors/probabilistic_sampler/sampler.h"

namespace otlpd::processors::probabilistic_sampler {

// Decisions of one batch by policy and outcome, and errors by reason.
struct DecisionCounts {
  static size_t index(Policy policy, bool sampled) {
    return static_cast<size_t>(policy) * 2 + (sampled ? 1 : 0);
  }
  void add(const Decision& d) {
    ++decisions[index(d.policy, d.sampled)];
    if (d.error != SamplerError::kNone) ++errors[static_cast<size_t>(d.error)];
  }
  std::array<uint64_t, kPolicyCount * 2> decisions{};
  std::array<uint64_t, kSamplerErrorCount> errors{};
};

class SpanSamplingEditor final : public otlp::TracesEditor {
 public:
  explicit SpanSamplingEditor(const Sampler& sampler) : sampler_(sampler) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editSpan(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                otlp::MessageEdit& span) override;

  DecisionCounts counts;

 private:
  const Sampler& sampler_;
  TraceState scratch_;
  std::string new_trace_state_;
};

class LogSamplingEditor final : public otlp::LogsEditor {
 public:
  // `config` supplies the attribute names (from_attribute, sampling_priority).
  LogSamplingEditor(const Sampler& sampler, const SamplerConfig& config)
      : sampler_(sampler), config_(config) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editLogRecord(const otlp::MessageEdit& resource, const otlp::MessageEdit& scope,
                     otlp::MessageEdit& record) override;

  DecisionCounts counts;

 private:
  const Sampler& sampler_;
  const SamplerConfig& config_;
  std::string source_;
};

// The fast path: the spans of an encoded traces request decided and rewritten in one walk that
// reads only what the decision needs (span_rewriter.h). Same output as rewriteTraces with a
// SpanSamplingEditor.
absl::StatusOr<otlp::RewriteResult> sampleSpans(std::string_view request, const Sampler& sampler,
                                                DecisionCounts& counts);

}  // namespace otlpd::processors::probabilistic_sampler
