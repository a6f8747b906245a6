#include "processors/probabilistic_sampler/sampling_editors.h"

#include "otlp/value.h"
#include "processors/probabilistic_sampler/span_rewriter.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

constexpr std::string_view kThresholdAttribute = "sampling.threshold";
constexpr std::string_view kRandomnessAttribute = "sampling.randomness";
constexpr std::string_view kSpanPriorityAttribute = "sampling.priority";

}  // namespace

bool SpanSamplingEditor::editSpan(const otlp::MessageEdit&, const otlp::MessageEdit&,
                                  otlp::MessageEdit& span) {
  SpanFields fields;
  if (span.changed() || !readSpanFields(span.bytes(), fields)) {
    // An editor before this one changed the span: read it through the edit.
    fields.trace_id = span.lengthDelimited(otlp::fields::kSpanTraceId);
    fields.trace_state = span.lengthDelimited(otlp::fields::kSpanTraceState);
    fields.priority = SpanPriority::kDefer;
    otlp::AttributeList& attributes = span.attributes();
    if (std::optional<size_t> i = attributes.find(kSpanPriorityAttribute)) {
      fields.priority = spanPriorityOfAttribute(attributes.encodedValue(*i));
    }
  }
  const SpanDecision d = sampler_.decideSpan(fields.trace_id, fields.trace_state, fields.priority,
                                             scratch_, new_trace_state_);
  counts.add(d);
  if (!d.sampled) return false;
  if (d.tracestate_changed) {
    if (new_trace_state_.empty()) {
      span.clearField(otlp::fields::kSpanTraceState);
    } else {
      span.setLengthDelimited(otlp::fields::kSpanTraceState, new_trace_state_);
    }
  }
  return true;
}

bool LogSamplingEditor::editLogRecord(const otlp::MessageEdit&, const otlp::MessageEdit&,
                                      otlp::MessageEdit& record) {
  otlp::AttributeList& attributes = record.attributes();
  LogRecordInput in;
  in.trace_id = record.lengthDelimited(otlp::fields::kLogTraceId);
  const std::optional<size_t> threshold_at = attributes.find(kThresholdAttribute);
  if (threshold_at) in.threshold = attributes.stringValue(*threshold_at);
  if (std::optional<size_t> i = attributes.find(kRandomnessAttribute)) {
    in.randomness = attributes.stringValue(*i);
  }
  if (!config_.from_attribute.empty()) {
    if (std::optional<size_t> i = attributes.find(config_.from_attribute)) {
      const otlp::Value value = attributes.value(*i);
      source_ =
          value.kind() == otlp::Value::Kind::kBytes ? value.str() : otlp::valueAsString(value);
      in.source_attribute = source_;
    }
  }
  if (!config_.sampling_priority.empty()) {
    if (std::optional<size_t> i = attributes.find(config_.sampling_priority)) {
      const otlp::Value value = attributes.value(*i);
      if (value.kind() == otlp::Value::Kind::kDouble) in.priority = value.dbl();
      if (value.kind() == otlp::Value::Kind::kInt) {
        in.priority = static_cast<double>(value.integer());
      }
    }
  }
  const LogDecision d = sampler_.decideLogRecord(in);
  counts.add(d);
  if (!d.sampled) return false;
  if (!d.randomness.empty()) {
    attributes.put(kRandomnessAttribute, otlp::Value::ofString(d.randomness));
  }
  if (!d.threshold.empty()) {
    // An inconsistent threshold was erased before the new one is written (it then comes last,
    // as in the Collector).
    if (d.error == SamplerError::kInconsistentThreshold && threshold_at) {
      attributes.erase(*threshold_at);
    }
    attributes.put(kThresholdAttribute, otlp::Value::ofString(d.threshold));
  }
  return true;
}

absl::StatusOr<otlp::RewriteResult> sampleSpans(std::string_view request, const Sampler& sampler,
                                                DecisionCounts& counts) {
  TraceState scratch;
  std::string new_trace_state;
  return rewriteSpans(request, [&](const SpanFields& span) {
    const SpanDecision d = sampler.decideSpan(span.trace_id, span.trace_state, span.priority,
                                              scratch, new_trace_state);
    counts.add(d);
    return SpanVerdict{d.sampled, d.tracestate_changed ? &new_trace_state : nullptr};
  });
}

}  // namespace otlpd::processors::probabilistic_sampler
