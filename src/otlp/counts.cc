#include "otlp/counts.h"

namespace otlpd::otlp {

size_t countSpans(const TracesRequest& request) {
  size_t n = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += static_cast<size_t>(ss.spans_size());
  }
  return n;
}

size_t countDataPoints(const pb_metrics::Metric& metric) {
  switch (metric.data_case()) {
    case pb_metrics::Metric::kGauge:
      return static_cast<size_t>(metric.gauge().data_points_size());
    case pb_metrics::Metric::kSum:
      return static_cast<size_t>(metric.sum().data_points_size());
    case pb_metrics::Metric::kHistogram:
      return static_cast<size_t>(metric.histogram().data_points_size());
    case pb_metrics::Metric::kExponentialHistogram:
      return static_cast<size_t>(metric.exponential_histogram().data_points_size());
    case pb_metrics::Metric::kSummary:
      return static_cast<size_t>(metric.summary().data_points_size());
    case pb_metrics::Metric::DATA_NOT_SET:
      return 0;
  }
  return 0;
}

size_t countDataPoints(const MetricsRequest& request) {
  size_t n = 0;
  for (const auto& rm : request.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) n += countDataPoints(m);
    }
  }
  return n;
}

size_t countLogRecords(const LogsRequest& request) {
  size_t n = 0;
  for (const auto& rl : request.resource_logs()) {
    for (const auto& sl : rl.scope_logs()) n += static_cast<size_t>(sl.log_records_size());
  }
  return n;
}

}  // namespace otlpd::otlp
