#include "connectors/spanmetrics/config.h"

#include <set>

#include "common/strings.h"

namespace otlpd::connectors::spanmetrics {
namespace {

constexpr uint64_t kNanosPerMilli = 1'000'000;

std::vector<uint64_t> defaultBoundsNs() {
  // The Collector's default buckets, in milliseconds.
  constexpr uint64_t kMillis[] = {2,   4,   6,    8,    10,   50,   100,   200,
                                  400, 800, 1000, 1400, 2000, 5000, 10000, 15000};
  std::vector<uint64_t> out;
  for (uint64_t ms : kMillis) out.push_back(ms * kNanosPerMilli);
  return out;
}

void readHistogram(config::ConfigNode histogram, Config& c) {
  c.histogram_disabled = histogram.getBool("disable", false);
  const std::string unit = histogram.getString("unit", "ms");
  if (unit == "ms") {
    c.unit = DurationUnit::kMilliseconds;
  } else if (unit == "s") {
    c.unit = DurationUnit::kSeconds;
  } else {
    histogram.addError("unit", strCat("must be ms or s, got '", unit, "'"));
  }
  // `explicit:` or `exponential:` written without settings still picks that kind.
  const YAML::Node& yaml = histogram.yaml();
  const bool has_explicit = yaml.IsMap() && yaml["explicit"].IsDefined();
  const bool has_exponential = yaml.IsMap() && yaml["exponential"].IsDefined();
  if (has_explicit && has_exponential) {
    histogram.addError("exponential", "use either explicit or exponential buckets, not both");
  }
  c.explicit_bounds_ns = defaultBoundsNs();
  if (has_exponential) {
    c.histogram_kind = HistogramKind::kExponential;
    config::ConfigNode exponential = histogram.child("exponential");
    // 0 is the Collector's "unset": its default.
    c.exponential_max_size = static_cast<int>(exponential.getInt("max_size", 160, 0, 1 << 20));
    if (c.exponential_max_size == 0) c.exponential_max_size = 160;
    if (c.exponential_max_size < 2) {
      exponential.addError("max_size", "must be at least 2");
      c.exponential_max_size = 160;
    }
    exponential.rejectUnknownKeys();
  }
  if (has_explicit) {
    config::ConfigNode explicit_node = histogram.child("explicit");
    if (explicit_node.has("buckets")) {
      std::vector<std::string> texts = explicit_node.getStringList("buckets");
      std::vector<uint64_t> bounds;
      bool ok = true;
      for (size_t i = 0; i < texts.size(); ++i) {
        absl::StatusOr<absl::Duration> d = config::parseDuration(texts[i]);
        const std::string key = strCat("buckets[", i, "]");
        if (!d.ok()) {
          explicit_node.addError(key, std::string(d.status().message()));
          ok = false;
          continue;
        }
        const int64_t ns = absl::ToInt64Nanoseconds(*d);
        if (!bounds.empty() && static_cast<uint64_t>(ns) <= bounds.back()) {
          explicit_node.addError(key, "buckets must be in increasing order without repeats");
          ok = false;
        }
        bounds.push_back(static_cast<uint64_t>(ns));
      }
      if (ok) c.explicit_bounds_ns = std::move(bounds);
    }
    explicit_node.rejectUnknownKeys();
  }
  histogram.rejectUnknownKeys();
}

void readDimensions(config::ConfigNode& config, Config& c) {
  std::set<std::string, std::less<>> names = {"service.name", "span.name", "span.kind",
                                              "status.code"};
  std::vector<config::ConfigNode> items = config.getMappingList("dimensions");
  for (config::ConfigNode& item : items) {
    Dimension d;
    d.name = item.getString("name", "");
    if (item.has("default")) d.default_value = item.getString("default", "");
    if (d.name.empty()) {
      item.addError("name", "is required");
    } else if (!names.insert(d.name).second) {
      item.addError("name", strCat("duplicate dimension name ", d.name,
                                   " (service.name, span.name, span.kind and status.code are "
                                   "always dimensions)"));
    } else {
      c.dimensions.push_back(std::move(d));
    }
    item.rejectUnknownKeys();
  }
  for (const std::string& name : config.getStringList("exclude_dimensions")) {
    // As in the Collector, only the four standard dimensions can be excluded.
    if (name == "service.name") c.exclude_service_name = true;
    if (name == "span.name") c.exclude_span_name = true;
    if (name == "span.kind") c.exclude_span_kind = true;
    if (name == "status.code") c.exclude_status_code = true;
  }
}

}  // namespace

std::string Config::callsMetricName() const {
  return metrics_namespace.empty() ? "calls" : metrics_namespace + ".calls";
}

std::string Config::durationMetricName() const {
  return metrics_namespace.empty() ? "duration" : metrics_namespace + ".duration";
}

Config parseConfig(config::ConfigNode& config) {
  Config c;
  readHistogram(config.child("histogram"), c);
  readDimensions(config, c);

  c.dimensions_cache_size = static_cast<size_t>(
      config.getInt("dimensions_cache_size", static_cast<int64_t>(c.dimensions_cache_size), 1));
  c.resource_metrics_cache_size = static_cast<size_t>(config.getInt(
      "resource_metrics_cache_size", static_cast<int64_t>(c.resource_metrics_cache_size), 1));
  c.aggregation_cardinality_limit =
      static_cast<size_t>(config.getInt("aggregation_cardinality_limit", 0, 0));
  c.resource_metrics_key_attributes = config.getStringList("resource_metrics_key_attributes");

  const std::string temporality =
      config.getString("aggregation_temporality", "AGGREGATION_TEMPORALITY_CUMULATIVE");
  if (temporality == "AGGREGATION_TEMPORALITY_DELTA") {
    c.delta = true;
  } else if (temporality != "AGGREGATION_TEMPORALITY_CUMULATIVE") {
    config.addError("aggregation_temporality",
                    strCat("must be AGGREGATION_TEMPORALITY_CUMULATIVE or "
                           "AGGREGATION_TEMPORALITY_DELTA, got '",
                           temporality, "'"));
  }

  c.flush_interval = config.getDuration("metrics_flush_interval", c.flush_interval);
  if (c.flush_interval <= absl::ZeroDuration()) {
    config.addError("metrics_flush_interval", "must be greater than 0 (e.g. 15s)");
    c.flush_interval = absl::Seconds(60);
  }
  c.metrics_expiration = config.getDuration("metrics_expiration", c.metrics_expiration);
  c.series_expiration = config.getDuration("series_expiration", c.series_expiration);

  config::ConfigNode exemplars = config.child("exemplars");
  c.exemplars_enabled = exemplars.getBool("enabled", false);
  c.exemplars_max_per_data_point = static_cast<size_t>(exemplars.getInt(
      "max_per_data_point", static_cast<int64_t>(c.exemplars_max_per_data_point), 1));
  exemplars.rejectUnknownKeys();

  c.metrics_namespace = config.getString("namespace", c.metrics_namespace);

  // Keys of the Collector's connector that otlpd does not implement: said plainly rather than
  // "unknown key", so a ported config tells its author what to change.
  for (std::string_view key : {"events", "calls_dimensions", "include_instrumentation_scope",
                               "metric_timestamp_cache_size", "add_resource_attributes",
                               "enable_metrics_sampling_method"}) {
    if (config.getYaml(key)) {
      config.addError(key, "is a Collector setting otlpd's spanmetrics connector does not support");
    }
  }
  config.rejectUnknownKeys();
  return c;
}

}  // namespace otlpd::connectors::spanmetrics
