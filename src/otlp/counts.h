// Item counts of OTLP requests, as the Collector counts them: spans, metric data points (every
// point of every metric type), log records.
#pragma once

#include <cstddef>

#include "otlp/proto.h"

namespace otlpd::otlp {

size_t countSpans(const TracesRequest& request);
size_t countDataPoints(const pb_metrics::Metric& metric);
size_t countDataPoints(const MetricsRequest& request);
size_t countLogRecords(const LogsRequest& request);

}  // namespace otlpd::otlp
