// OpenTelemetry → Prometheus names, as the OpenTelemetry specification ("Prometheus and
// OpenMetrics Compatibility") and the Collector's translator define them: metric names with unit
// and type suffixes, label names with invalid characters replaced, and the labels a resource
// becomes (job, instance, target_info). Pure; shared by the prometheus and
// prometheusremotewrite exporters.
#pragma once

#include <string>
#include <string_view>

namespace otlpd::prometheus {

// The OTLP metric kinds, as far as naming cares.
enum class MetricKind { kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };

struct NameOptions {
  // Prepended with '_' (the Collector's `namespace`); taken as written.
  std::string_view name_space;
  // Unit suffixes, `_total` for monotonic sums and `_ratio` for gauges of unit "1" (the
  // Collector's `add_metric_suffixes`); off, only invalid characters are replaced.
  bool add_suffixes = true;
};

// The Prometheus metric name of an OTLP metric (without the `_bucket`/`_sum`/`_count` a histogram
// or summary adds per series).
std::string metricName(std::string_view otel_name, std::string_view unit, MetricKind kind,
                       bool monotonic, const NameOptions& options);

// The unit suffix the name gets ("seconds", "bytes_per_second", "" when none), for OpenMetrics'
// `# UNIT` line.
std::string unitSuffix(std::string_view unit);

// A Prometheus label name for an attribute key: characters outside [a-zA-Z0-9_] become '_', a
// leading digit gets "key_", a single leading '_' gets "key" ("__" names are left alone).
std::string labelName(std::string_view key);
// Whether `key` is already a valid label name that labelName returns unchanged (the common case:
// no copy needed).
bool isPlainLabelName(std::string_view key);

// The characters Prometheus allows in metric names.
inline bool isMetricNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':';
}

// Resource attributes that name the target: `job` is service.namespace/service.name (or
// service.name alone), `instance` is service.instance.id.
inline constexpr std::string_view kServiceName = "service.name";
inline constexpr std::string_view kServiceNamespace = "service.namespace";
inline constexpr std::string_view kServiceInstanceId = "service.instance.id";
// The labels the Collector's exporters add for the instrumentation scope.
inline constexpr std::string_view kScopeNameLabel = "otel_scope_name";
inline constexpr std::string_view kScopeVersionLabel = "otel_scope_version";
inline constexpr std::string_view kTargetInfo = "target_info";

}  // namespace otlpd::prometheus
