// Aggregations behind the otlpd query endpoints and Jaeger's dependencies: trace summaries,
// service dependencies, RED metrics, log and metric shaping. Pure: fed OTLP messages, they
// answer JSON; the caller does the store I/O. Every collection is capped so that a query's
// memory stays bounded whatever the store holds.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "otlp/proto.h"
#include "query/otlp_values.h"

namespace otlpd::query {

// The facts of a span the aggregations use.
struct SpanFacts {
  std::string trace_id;  // raw bytes
  std::string span_id;
  std::string parent_span_id;
  std::string service;  // resource service.name
  std::string name;
  int kind = 0;  // OTLP SpanKind
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  bool error = false;  // status code ERROR
};

// Calls `fn` for every span of `request` with its resource's service.name ("" when none).
void forEachSpan(const otlp::TracesRequest& request,
                 const std::function<void(const SpanFacts&)>& fn);

// What a trace is, from its spans: the numbers of otlpd's and Jaeger's trace summaries.
struct TraceSummary {
  struct ServiceCount {
    uint64_t spans = 0, errors = 0;
  };
  std::string trace_id;  // raw bytes
  int64_t start_unix_nano = 0, end_unix_nano = 0;
  uint64_t spans = 0, errors = 0;
  uint64_t orphans = 0;  // spans whose parent is not among the trace's spans
  std::string root_service, root_name;
  std::map<std::string, ServiceCount> services;  // by name
};
// One per trace of `spans` (any order, several traces), newest trace start first. The root is
// the earliest span without a parent, else the earliest span.
std::vector<TraceSummary> summarizeTraces(const std::vector<SpanFacts>& spans);

// One summary per trace of `spans` (any order, several traces), newest trace start first:
// {traceID, rootService, rootName, startTime µs, duration µs, spanCount, errorCount,
//  services:[{name, spanCount, errorCount}] by name}. The root is the earliest span without a
// parent, else the earliest span.
nlohmann::json traceSummaries(const std::vector<SpanFacts>& spans);

// Calls between services: a span whose parent (same trace) belongs to another service counts
// one call parent service → child service.
class DependencyGraph {
 public:
  explicit DependencyGraph(size_t max_spans) : max_spans_(max_spans) {}
  void add(const SpanFacts& span);
  // [{parent, child, callCount}] sorted by parent then child.
  nlohmann::json finish() const;
  // More spans came than max_spans: the rest were not counted.
  bool truncated() const { return truncated_; }

 private:
  // Trace id (16 bytes) and span id (8 bytes) packed: fixed size keeps each span at ~40 bytes.
  using SpanKey = std::array<uint64_t, 3>;
  static SpanKey keyOf(const std::string& trace_id, const std::string& span_id);
  uint32_t intern(const std::string& service);

  size_t max_spans_;
  bool truncated_ = false;
  std::vector<std::string> services_;
  std::unordered_map<std::string, uint32_t> service_ids_;
  absl::flat_hash_map<SpanKey, uint32_t> span_service_;
  // (trace id + parent span id, child service) of spans with a parent.
  std::vector<std::pair<SpanKey, uint32_t>> children_;
};

// Rate, errors and duration percentiles of requests, per service or, when `service` is given, per
// operation of that service. A request is a SERVER or CONSUMER span, or a root span.
class RedAggregator {
 public:
  RedAggregator(std::optional<std::string> service, size_t max_groups);
  void add(const SpanFacts& span);
  // [{service, operation?, requests, errors, ratePerSecond, errorRate, p50, p95, p99}] by
  // service / operation; rates over `window_seconds`.
  nlohmann::json finish(double window_seconds) const;
  bool truncated() const { return truncated_; }

  // Durations kept per group for the percentiles; past it a uniform sample (reservoir) of them.
  static constexpr size_t kMaxSamplesPerGroup = 10000;

 private:
  struct Group {
    uint64_t requests = 0;
    uint64_t errors = 0;
    std::vector<int64_t> durations_us;
  };
  std::optional<std::string> service_;
  size_t max_groups_;
  bool truncated_ = false;
  std::map<std::string, Group> groups_;
  std::minstd_rand rng_{42};
};

// Nearest-rank percentile (0 < p ≤ 100) of unsorted values; 0 when empty.
int64_t percentile(std::vector<int64_t> values, double p);

// A log record of the logs endpoint: {time µs, timeUnixNano, observedTimeUnixNano,
// severityNumber, severityText, body, service, traceID, spanID, attributes, resource, scope,
// eventName}. `body` is the string, or the JSON value of a non-string body.
nlohmann::json logRecordJson(const otlp::pb_resource::Resource& resource,
                             const otlp::pb_common::InstrumentationScope& scope,
                             const otlp::pb_logs::LogRecord& record);
// time, else observed time, in ns.
int64_t logTimeNanos(const otlp::pb_logs::LogRecord& record);
// Case-insensitive substring test of `needle` (already lower-case) in the body's text.
bool logBodyContains(const otlp::pb_logs::LogRecord& record, std::string_view lower_needle);

// "gauge", "sum", "histogram", "exponential_histogram", "summary"; "" when no data.
std::string_view metricType(const otlp::pb_metrics::Metric& metric);

// The metrics catalog: one entry per metric name.
class MetricCatalog {
 public:
  explicit MetricCatalog(size_t max_metrics) : max_metrics_(max_metrics) {}
  void add(const otlp::MetricsRequest& request);
  // [{name, type, unit, description, services, attributeKeys}] by name.
  nlohmann::json finish() const;
  bool truncated() const { return truncated_; }

  static constexpr size_t kMaxServicesPerMetric = 256;
  static constexpr size_t kMaxKeysPerMetric = 256;

 private:
  struct Entry {
    std::string type, unit, description;
    std::set<std::string> services;
    std::set<std::string> attribute_keys;
  };
  size_t max_metrics_;
  bool truncated_ = false;
  std::map<std::string, Entry> entries_;
};

// The time series of one metric: one per (service, point attributes).
class SeriesBuilder {
 public:
  SeriesBuilder(size_t max_series, size_t max_points_per_series, size_t max_points_in_all)
      : max_series_(max_series),
        max_points_(max_points_per_series),
        max_total_points_(max_points_in_all) {}
  // Adds the points of metrics named `name` in `request` (other metrics are ignored). Points
  // whose attributes lack one of `tags` (compared as text) are left out.
  void add(const otlp::MetricsRequest& request, const std::string& name,
           const std::vector<std::pair<std::string, std::string>>& tags);
  // [{name, type, unit, service, attributes, points:[[µs, value]...] oldest first}] by service
  // then attributes.
  nlohmann::json finish() const;
  bool truncated() const { return truncated_; }
  size_t seriesCount() const { return series_.size(); }

 private:
  struct Series {
    std::string type, unit, service;
    nlohmann::json attributes;
    std::vector<std::pair<int64_t, double>> points;
  };
  size_t max_series_;
  size_t max_points_;
  size_t max_total_points_;
  size_t total_points_ = 0;
  bool truncated_ = false;
  std::string name_;
  std::map<std::string, Series> series_;  // key: service + '\0' + attributes JSON
};

// The plotted value of a data point: the value of a gauge / sum point, the mean (sum / count) of a
// histogram, exponential histogram or summary point; nullopt when it has none (count 0).
std::optional<double> pointValue(const otlp::pb_metrics::NumberDataPoint& p);
std::optional<double> pointValue(const otlp::pb_metrics::HistogramDataPoint& p);
std::optional<double> pointValue(const otlp::pb_metrics::ExponentialHistogramDataPoint& p);
std::optional<double> pointValue(const otlp::pb_metrics::SummaryDataPoint& p);

}  // namespace otlpd::query
