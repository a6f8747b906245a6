// Validation of OTLP requests, pure and free of I/O. Invalid items are removed from the request
// in place and counted; the rest stays, so a receiver can accept it and answer with an OTLP
// partial success that says what was rejected and why.
#pragma once

#include <cstddef>
#include <string>

#include "otlp/proto.h"

namespace otlpd::otlp {

struct ValidationResult {
  size_t rejected = 0;        // spans, data points or log records removed
  std::string error_message;  // English, empty when nothing was rejected
};

// Spans: trace_id of 16 bytes and span_id of 8 bytes, neither all zero; parent_span_id empty or
// 8 bytes; links with ids of the right length; end time not before start time.
ValidationResult validateTraces(TracesRequest& request);
// Data points: the metric has a name; histogram bucket_counts is empty or explicit_bounds + 1
// long, bounds strictly increasing, counts adding up to count; exponential histogram buckets
// adding up to count; summary quantiles within [0, 1]; exemplar ids of the right length.
ValidationResult validateMetrics(MetricsRequest& request);
// Log records: trace_id empty or 16 bytes, span_id empty or 8 bytes; severity_number in range.
ValidationResult validateLogs(LogsRequest& request);

}  // namespace otlpd::otlp
