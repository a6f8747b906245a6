// The pure core of the spanmetrics connector: R.E.D. aggregates (calls, duration histograms) per
// resource and dimension set, read from encoded ExportTraceServiceRequests without decoding them,
// and written out as an encoded ExportMetricsServiceRequest when flushed. No I/O, no threads of
// its own; the time is passed in, so tests control it.
//
// add() may run on many threads at once: each call reads its request and pre-aggregates it into
// thread-local scratch without any lock, then takes the lock only to add one entry per series it
// touched. flush() holds the lock only to copy the counters out; encoding happens after, so
// add() never waits for an encoder or for whatever consumes the metrics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "connectors/spanmetrics/config.h"

namespace otlpd::common {
class Counter;
}

namespace otlpd::connectors::spanmetrics {

// Self-metrics the aggregator counts into; a null member is not counted.
struct AggregatorCounters {
  common::Counter* spans = nullptr;                  // spans aggregated
  common::Counter* spans_without_service = nullptr;  // skipped: no service.name on the resource
  common::Counter* overflow_spans = nullptr;  // counted in an overflow series (cardinality limit)
  // Series removed: with a resource evicted from a full resource_metrics_cache_size (after their
  // last export), with a resource past metrics_expiration, or alone past series_expiration.
  common::Counter* removed_by_resource_cache = nullptr;
  common::Counter* removed_by_metrics_expiration = nullptr;
  common::Counter* removed_by_series_expiration = nullptr;
};

struct AggregatorState;  // the series and resources, behind the aggregator's lock

struct FlushedMetrics {
  std::string request;     // an encoded ExportMetricsServiceRequest; empty when nothing to send
  size_t data_points = 0;  // calls points + duration points
};

class Aggregator {
 public:
  // The attribute a series of a resource over aggregation_cardinality_limit carries instead of
  // its dimensions (OpenTelemetry's metrics SDK uses the same one).
  static constexpr std::string_view kOverflowAttribute = "otel.metric.overflow";
  // The instrumentation scope of the metrics, as the Collector names it.
  static constexpr std::string_view kScopeName = "spanmetricsconnector";

  explicit Aggregator(Config config, AggregatorCounters counters = {});
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // Aggregates the spans of an encoded ExportTraceServiceRequest seen at `now`. Malformed bytes
  // give InvalidArgument; the spans read before the fault are not counted either.
  absl::Status add(std::string_view traces_request, absl::Time now);

  // The metrics as of `now`, then the state moves on: with delta temporality the counts start
  // again from zero; exemplars are cleared; resources evicted from the resource cache have been
  // exported for the last time. What expired (metrics_expiration, series_expiration) is removed
  // first and not exported.
  FlushedMetrics flush(absl::Time now);

  size_t seriesCount() const;
  size_t resourceCount() const;
  const Config& config() const { return config_; }

 private:
  const Config config_;
  AggregatorCounters counters_;
  std::vector<std::string> default_values_;  // AnyValue bytes of each dimension's default
  std::unique_ptr<AggregatorState> state_;
};

}  // namespace otlpd::connectors::spanmetrics
