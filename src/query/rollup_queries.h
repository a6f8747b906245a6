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

}  // namespace otlpd::query
