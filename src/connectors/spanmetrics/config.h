// The spanmetrics connector's settings, with the OpenTelemetry Collector's keys and defaults
// (contrib connector/spanmetricsconnector). Pure: read from a ConfigNode, errors reported there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "config/config_node.h"

namespace otlpd::connectors::spanmetrics {

// An extra dimension: looked up in the span's attributes, then in its resource's; `default_value`
// when in neither; without a default the dimension is left out of that series.
struct Dimension {
  std::string name;
  std::optional<std::string> default_value;
};

enum class HistogramKind { kExplicit, kExponential };
enum class DurationUnit { kMilliseconds, kSeconds };

struct Config {
  // histogram.*
  bool histogram_disabled = false;
  HistogramKind histogram_kind = HistogramKind::kExplicit;
  DurationUnit unit = DurationUnit::kMilliseconds;
  // Upper bounds of the explicit buckets in nanoseconds, ascending (the Collector's default:
  // 2ms 4ms 6ms 8ms 10ms 50ms 100ms 200ms 400ms 800ms 1s 1400ms 2s 5s 10s 15s).
  std::vector<uint64_t> explicit_bounds_ns;
  int exponential_max_size = 160;

  std::vector<Dimension> dimensions;
  // Which of the four standard dimensions are left out (exclude_dimensions).
  bool exclude_service_name = false;
  bool exclude_span_name = false;
  bool exclude_span_kind = false;
  bool exclude_status_code = false;

  // Accepted for Collector configs and checked, but it bounds nothing: in the Collector it sizes a
  // cache of attribute maps whose evictions never change the output, and otlpd keeps each
  // series' attributes with the series. aggregation_cardinality_limit bounds series.
  size_t dimensions_cache_size = 1000;
  // The most resources held; when full, the least recently seen one is exported once more at
  // the next flush and then forgotten with its series.
  size_t resource_metrics_cache_size = 1000;
  // Per resource, the most series, the overflow series included; 0: no limit.
  size_t aggregation_cardinality_limit = 0;
  // Resource attributes that identify a resource; empty: all of them.
  std::vector<std::string> resource_metrics_key_attributes;

  bool delta = false;  // aggregation_temporality
  absl::Duration flush_interval = absl::Seconds(60);
  absl::Duration metrics_expiration = absl::ZeroDuration();  // per resource; 0: never
  absl::Duration series_expiration = absl::ZeroDuration();   // per series; 0: never

  bool exemplars_enabled = false;
  size_t exemplars_max_per_data_point = 5;

  std::string metrics_namespace = "traces.span.metrics";

  // The metric names: "<namespace>.calls" and "<namespace>.duration" (bare without a namespace).
  std::string callsMetricName() const;
  std::string durationMetricName() const;
  std::string_view unitName() const { return unit == DurationUnit::kSeconds ? "s" : "ms"; }
  // Nanoseconds per unit (1e6 for ms, 1e9 for s).
  double nanosPerUnit() const { return unit == DurationUnit::kSeconds ? 1e9 : 1e6; }
};

// Reads the connector's config; every problem goes to config.errors() with its path.
Config parseConfig(config::ConfigNode& config);

}  // namespace otlpd::connectors::spanmetrics
