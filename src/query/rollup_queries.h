// RED metrics, their time series and service dependencies answered from the store's per-minute
// rollups (store/rollup.h) instead of the spans: the cost grows with services × operations ×
// minutes, not with traffic. Pure: fed rollup segments, they answer JSON. Minutes are whole: a
// window counts every minute it overlaps.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/rollup.h"
#include "store/rollup_metrics.h"

namespace otlpd::query {

// The minutes [first, last] a window [start_ns, end_ns) overlaps.
struct MinuteRange {
  int64_t first = 0, last = -1;
  static MinuteRange of(int64_t start_unix_nano, int64_t end_unix_nano);
  bool contains(int64_t minute) const { return minute >= first && minute <= last; }
};

// A request is a SERVER or CONSUMER span, or a root span (as RedAggregator counts them).
bool isRequest(const store::SpanRollup& row);

// The numbers of RedAggregator (analytics.h) from rollups: per service, or per operation of
// `service`.
class RollupRed {
 public:
  RollupRed(std::optional<std::string> service, MinuteRange minutes, size_t max_groups);
  void add(const store::RollupSegment& segment);
  // [{service, operation?, requests, errors, ratePerSecond, errorRate, p50, p95, p99}] (µs).
  nlohmann::json finish(double window_seconds) const;
  bool truncated() const { return truncated_; }

 private:
  struct Group {
    uint64_t requests = 0, errors = 0;
    store::LatencyHistogram latency;
  };
  std::optional<std::string> service_;
  MinuteRange minutes_;
  size_t max_groups_;
  bool truncated_ = false;
  std::map<std::string, Group> groups_;
};

// RED over time: per service (or per operation of `service`), one point per `step_minutes`
// (steps are multiples of it since the epoch). Rows of whole hours are welcome when the step is
// a multiple of 60.
class RollupRedSeries {
 public:
  RollupRedSeries(std::optional<std::string> service, MinuteRange minutes, int64_t step_minutes,
                  size_t max_groups);
  void add(const store::RollupSegment& segment);
  // [{service, operation?, points: [{time µs, requests, errors, p50, p95, p99}]}] by group; a
  // step without requests has no point.
  nlohmann::json finish() const;
  bool truncated() const { return truncated_; }

 private:
  struct Point {
    uint64_t requests = 0, errors = 0;
    store::LatencyHistogram latency;
  };
  std::optional<std::string> service_;
  MinuteRange minutes_;
  int64_t step_;
  size_t max_groups_;
  bool truncated_ = false;
  std::map<std::string, std::map<int64_t, Point>> groups_;  // by step start minute
};

// [{parent, child, callCount}] sorted by parent then child (Jaeger's dependency links).
class RollupDependencies {
 public:
  explicit RollupDependencies(MinuteRange minutes) : minutes_(minutes) {}
  void add(const store::RollupSegment& segment);
  nlohmann::json finish() const;

 private:
  MinuteRange minutes_;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> edges_;
};

// Jaeger's Service Performance Monitoring (the Monitor tab: /api/metrics/calls, errors,
// latencies) from the rollups: what Jaeger computes with PromQL over spanmetrics, as a
// MetricFamily in protobuf JSON. Point t (every `step` from end − lookback to end) covers the
// minutes that start in [t − ratePer, t).
struct SpmQuery {
  enum class Metric { kCalls, kErrors, kLatencies };
  Metric metric = Metric::kCalls;
  std::vector<std::string> services;
  bool group_by_operation = false;
  std::vector<int32_t> kinds;  // OTLP SpanKind values counted
  int64_t end_ms = 0, lookback_ms = 0, step_ms = 0, rate_per_ms = 0;
  double quantile = 0.95;  // kLatencies
};

class RollupSpm {
 public:
  explicit RollupSpm(SpmQuery query);
  // The minutes the answer needs.
  MinuteRange minutes() const;
  void add(const store::RollupSegment& segment);
  // {"name","type":"GAUGE","help","metrics":[{"labels":[{"name","value"}],
  //  "metricPoints":[{"gaugeValue":{"doubleValue"},"timestamp"}]}]}
  nlohmann::json finish() const;

 private:
  struct Minute {
    uint64_t calls = 0, errors = 0;
    store::LatencyHistogram latency;
  };
  SpmQuery q_;
  // (service, operation or "") → minute → numbers.
  std::map<std::pair<std::string, std::string>, std::map<int64_t, Minute>> groups_;
};

// The rollups of a window as spanmetrics-named OTLP metrics (store/rollup_metrics.h), one point per
// series and step: steps of `step_minutes` start at `origin_minute` + multiples of it (0: since
// the epoch), cut to the window. Delta: a point holds its step; cumulative: the totals from the
// window's start.
class RollupSpanMetrics {
 public:
  RollupSpanMetrics(std::optional<std::string> service, MinuteRange minutes, int64_t step_minutes,
                    int64_t origin_minute, store::SpanMetricsOptions options);
  void add(const store::RollupSegment& segment);
  // Series × steps with calls.
  size_t points() const;
  // Points end at `now` at the latest.
  otlp::MetricsRequest finish(int64_t now_unix_nano) const;

 private:
  std::optional<std::string> service_;
  MinuteRange minutes_;
  int64_t step_;
  int64_t origin_;
  store::SpanMetricsOptions options_;
  // key → step start minute → totals.
  std::map<store::SpanSeriesKey, std::map<int64_t, store::SpanSeriesTotals>> series_;
};

// Protobuf JSON of a google.protobuf.Timestamp: RFC 3339 in UTC, with 0, 3, 6 or 9 fractional
// digits.
std::string protoJsonTimestamp(int64_t unix_nanos);

}  // namespace otlpd::query
