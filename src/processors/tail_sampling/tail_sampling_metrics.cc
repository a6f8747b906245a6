#include "processors/tail_sampling/tail_sampling_metrics.h"

#include <cstdio>

namespace otlpd::processors::tail_sampling {
namespace {

constexpr const char* kPrefix = "otlpd_processor_tail_sampling_";

std::string name(const char* suffix) {
  return std::string(kPrefix) + suffix;
}

const char* decisionName(size_t d) {
  switch (static_cast<Decision>(d)) {
    case Decision::kNotSampled:
      return "not_sampled";
    case Decision::kSampled:
      return "sampled";
    case Decision::kInvertNotSampled:
      return "inverted_not_sampled";
    case Decision::kInvertSampled:
      return "inverted_sampled";
    case Decision::kDropped:
      return "dropped";
    case Decision::kError:
      return "error";
  }
  return "unknown";
}

const char* triggerName(size_t t) {
  switch (static_cast<DecisionTrigger>(t)) {
    case DecisionTrigger::kRoot:
      return "root";
    case DecisionTrigger::kDecisionWait:
      return "decision_wait";
    case DecisionTrigger::kEarly:
      return "early";
    case DecisionTrigger::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

const char* causeName(size_t c) {
  switch (static_cast<EarlyCause>(c)) {
    case EarlyCause::kNumTraces:
      return "num_traces";
    case EarlyCause::kBufferedBytes:
      return "max_buffered_bytes";
    case EarlyCause::kMemoryBudget:
      return "memory_budget";
  }
  return "unknown";
}

std::string boundLabel(double bound) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", bound);
  return text;
}

}  // namespace

TailSamplingMetrics::TailSamplingMetrics(common::MetricsRegistry& registry,
                                         const std::string& processor,
                                         const std::vector<std::string>& policy_names)
    : policies_(policy_names.size()) {
  const common::Labels id = {{"processor", processor}};
  for (const std::string& policy : policy_names) {
    for (size_t d = 0; d < kDecisions; ++d) {
      policy_answers_.push_back(&registry.counter(
          name("policy_evaluations_total"),
          "Traces each policy evaluated, by the policy's answer (before the policies' answers are "
          "combined).",
          {{"processor", processor}, {"policy", policy}, {"result", decisionName(d)}}));
    }
  }
  for (size_t p = 0; p <= policies_; ++p) {
    // Traces no policy decided are dropped; they are counted under policy="".
    const std::string policy = p < policies_ ? policy_names[p] : "";
    for (const char* decision : {"dropped", "kept"}) {
      const common::Labels labels = {
          {"processor", processor}, {"policy", policy}, {"decision", decision}};
      outcomes_.push_back(Outcome{
          &registry.counter(name("traces_total"),
                            "Traces decided, by decision and the policy that decided (\"\" when "
                            "no policy sampled the trace).",
                            labels),
          &registry.counter(name("spans_total"),
                            "Spans of decided traces, by decision and the policy that decided.",
                            labels)});
    }
  }
  for (size_t t = 0; t < kDecisionTriggers; ++t) {
    Histogram& h = latency_[t];
    for (size_t b = 0; b <= kLatencyBounds.size(); ++b) {
      h.buckets[b] = &registry.counter(
          name("decision_latency_seconds_bucket"),
          "Decisions by the time from the trace's end (its root span's arrival, or its last "
          "span's) to the decision; cumulative buckets.",
          {{"processor", processor},
           {"trigger", triggerName(t)},
           {"le", b < kLatencyBounds.size() ? boundLabel(kLatencyBounds[b]) : "+Inf"}});
    }
    const common::Labels labels = {{"processor", processor}, {"trigger", triggerName(t)}};
    h.count = &registry.counter(name("decision_latency_seconds_count"),
                                "Traces decided, by what made the decision happen.", labels);
    h.sum = &registry.gauge(name("decision_latency_seconds_sum"),
                            "Sum of the decision latencies, in seconds.", labels);
  }
  for (size_t c = 0; c < kEarlyCauses; ++c) {
    early_[c] = &registry.counter(name("early_decisions_total"),
                                  "Traces decided before their time to make room, by the bound "
                                  "that was reached.",
                                  {{"processor", processor}, {"cause", causeName(c)}});
  }
  const char* late_help = "Spans that arrived after their trace was decided and followed it.";
  late_kept_ = &registry.counter(name("late_spans_total"), late_help,
                                 {{"processor", processor}, {"decision", "kept"}});
  late_dropped_ = &registry.counter(name("late_spans_total"), late_help,
                                    {{"processor", processor}, {"decision", "dropped"}});
  invalid_ =
      &registry.counter(name("invalid_trace_id_spans_total"),
                        "Spans dropped because their trace id is not 16 bytes or is zero.", id);
  refused_ = &registry.counter(
      name("refused_spans_total"),
      "Spans refused (retryably) because they could not be buffered within the bounds.", id);
  forward_failed_ = &registry.counter(
      name("forward_failed_spans_total"),
      "Spans of kept traces the next consumer failed to take after the decision (lost).", id);
  traces_held_ =
      &registry.gauge(name("traces_held"), "Traces buffered and waiting for a decision.", id);
  spans_held_ = &registry.gauge(name("spans_held"), "Spans buffered.", id);
  bytes_held_ = &registry.gauge(
      name("bytes_held"),
      "Memory held for buffered spans (span bytes, per-trace records, envelopes).", id);
}

void TailSamplingMetrics::decisionLatency(DecisionTrigger trigger, int64_t nanos) {
  Histogram& h = latency_[static_cast<size_t>(trigger)];
  const double seconds = nanos > 0 ? static_cast<double>(nanos) / 1e9 : 0.0;
  for (size_t b = 0; b < kLatencyBounds.size(); ++b) {
    if (seconds <= kLatencyBounds[b]) h.buckets[b]->add();
  }
  h.buckets[kLatencyBounds.size()]->add();
  h.count->add();
  h.sum->add(seconds);
}

}  // namespace otlpd::processors::tail_sampling
