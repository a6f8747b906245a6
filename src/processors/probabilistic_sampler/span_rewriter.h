// The probabilistic_sampler's fast path over an encoded traces request: one walk that reads of
// each span only its trace id, its trace_state and whether an attribute is `sampling.priority`
// (by its key, without decoding the other attributes), drops the spans the decider drops and
// rewrites the trace_state of the kept ones it changes. Everything else is copied as bytes
// (adjacent unchanged pieces in one copy); resources and scopes left without spans are removed,
// as otlp::rewriteTraces removes them, and a changed trace_state is written where the field was,
// so the result is byte for byte what the generic MessageEdit path gives. Pure.
#pragma once

#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "otlp/wire_edit.h"
#include "processors/probabilistic_sampler/sampler.h"

namespace otlpd::processors::probabilistic_sampler {

// What the decider sees of a span.
struct SpanFields {
  std::string_view trace_id;
  std::string_view trace_state;
  SpanPriority priority = SpanPriority::kDefer;
};

// What becomes of it: dropped, kept as is, or kept with `*new_trace_state` (valid until the next
// call) as its trace_state.
struct SpanVerdict {
  bool keep = true;
  const std::string* new_trace_state = nullptr;
};

// sampling.priority among the span's attributes (the first entry with that key, as the
// Collector's attribute map finds it), from the encoded values of its `attributes` fields.
SpanPriority spanPriorityOfAttribute(std::string_view encoded_any_value);

// Reads a span's SpanFields from its encoded bytes; false when malformed.
bool readSpanFields(std::string_view span, SpanFields& out);

// Rewrites `request` (an ExportTraceServiceRequest). InvalidArgument when malformed.
absl::StatusOr<otlp::RewriteResult> rewriteSpans(
    std::string_view request, absl::FunctionRef<SpanVerdict(const SpanFields&)> decide);

}  // namespace otlpd::processors::probabilistic_sampler
