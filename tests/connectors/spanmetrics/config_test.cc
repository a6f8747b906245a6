#include "connectors/spanmetrics/config.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace otlpd::connectors::spanmetrics {
namespace {

struct Parsed {
  Config config;
  std::string errors;
};

Parsed parse(const std::string& yaml) {
  config::ConfigErrors errors;
  auto root = config::parseYaml(yaml, "test");
  EXPECT_TRUE(root.ok()) << root.status();
  config::ConfigNode node(*root, "connectors.spanmetrics", errors);
  Parsed p{parseConfig(node), ""};
  p.errors = errors.toString();
  return p;
}

TEST(SpanMetricsConfig, DefaultsAreTheCollectors) {
  const Parsed p = parse("{}");
  ASSERT_EQ(p.errors, "");
  const Config& c = p.config;
  EXPECT_FALSE(c.histogram_disabled);
  EXPECT_EQ(c.histogram_kind, HistogramKind::kExplicit);
  EXPECT_EQ(c.unit, DurationUnit::kMilliseconds);
  const std::vector<uint64_t> ms = {2,   4,   6,    8,    10,   50,   100,   200,
                                    400, 800, 1000, 1400, 2000, 5000, 10000, 15000};
  ASSERT_EQ(c.explicit_bounds_ns.size(), ms.size());
  for (size_t i = 0; i < ms.size(); ++i) EXPECT_EQ(c.explicit_bounds_ns[i], ms[i] * 1'000'000);
  EXPECT_EQ(c.exponential_max_size, 160);
  EXPECT_TRUE(c.dimensions.empty());
  EXPECT_EQ(c.dimensions_cache_size, 1000u);
  EXPECT_EQ(c.resource_metrics_cache_size, 1000u);
  EXPECT_EQ(c.aggregation_cardinality_limit, 0u);
  EXPECT_FALSE(c.delta);
  EXPECT_EQ(c.flush_interval, absl::Seconds(60));
  EXPECT_EQ(c.metrics_expiration, absl::ZeroDuration());
  EXPECT_EQ(c.series_expiration, absl::ZeroDuration());
  EXPECT_FALSE(c.exemplars_enabled);
  EXPECT_EQ(c.exemplars_max_per_data_point, 5u);
  EXPECT_EQ(c.callsMetricName(), "traces.span.metrics.calls");
  EXPECT_EQ(c.durationMetricName(), "traces.span.metrics.duration");
}

TEST(SpanMetricsConfig, EveryKey) {
  const Parsed p = parse(R"(
histogram:
  unit: s
  explicit:
    buckets: [100us, 1ms, 2ms, 6ms, 10ms, 100ms, 250ms]
dimensions:
  - name: http.method
    default: GET
  - name: http.status_code
exclude_dimensions: ['status.code', span.kind]
dimensions_cache_size: 5000
resource_metrics_cache_size: 20
aggregation_cardinality_limit: 100
resource_metrics_key_attributes: [service.name, telemetry.sdk.language]
aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA
metrics_flush_interval: 15s
metrics_expiration: 5m
series_expiration: 1m
exemplars:
  enabled: true
  max_per_data_point: 3
namespace: span.metrics
)");
  ASSERT_EQ(p.errors, "");
  const Config& c = p.config;
  EXPECT_EQ(c.unit, DurationUnit::kSeconds);
  EXPECT_EQ(c.unitName(), "s");
  EXPECT_EQ(c.explicit_bounds_ns, (std::vector<uint64_t>{100'000, 1'000'000, 2'000'000, 6'000'000,
                                                         10'000'000, 100'000'000, 250'000'000}));
  ASSERT_EQ(c.dimensions.size(), 2u);
  EXPECT_EQ(c.dimensions[0].name, "http.method");
  EXPECT_EQ(c.dimensions[0].default_value, "GET");
  EXPECT_EQ(c.dimensions[1].name, "http.status_code");
  EXPECT_FALSE(c.dimensions[1].default_value.has_value());
  EXPECT_TRUE(c.exclude_status_code);
  EXPECT_TRUE(c.exclude_span_kind);
  EXPECT_FALSE(c.exclude_service_name);
  EXPECT_FALSE(c.exclude_span_name);
  EXPECT_EQ(c.dimensions_cache_size, 5000u);
  EXPECT_EQ(c.resource_metrics_cache_size, 20u);
  EXPECT_EQ(c.aggregation_cardinality_limit, 100u);
  EXPECT_EQ(c.resource_metrics_key_attributes,
            (std::vector<std::string>{"service.name", "telemetry.sdk.language"}));
  EXPECT_TRUE(c.delta);
  EXPECT_EQ(c.flush_interval, absl::Seconds(15));
  EXPECT_EQ(c.metrics_expiration, absl::Minutes(5));
  EXPECT_EQ(c.series_expiration, absl::Minutes(1));
  EXPECT_TRUE(c.exemplars_enabled);
  EXPECT_EQ(c.exemplars_max_per_data_point, 3u);
  EXPECT_EQ(c.callsMetricName(), "span.metrics.calls");
}

TEST(SpanMetricsConfig, ExponentialHistogram) {
  Parsed p = parse("histogram: {exponential: {max_size: 80}}");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.config.histogram_kind, HistogramKind::kExponential);
  EXPECT_EQ(p.config.exponential_max_size, 80);
  // Written without settings, it is still chosen, with the default size.
  p = parse("histogram:\n  exponential:\n");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.config.histogram_kind, HistogramKind::kExponential);
  EXPECT_EQ(p.config.exponential_max_size, 160);
}

TEST(SpanMetricsConfig, ErrorsNameTheirKeys) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"histogram: {explicit: {buckets: [1ms]}, exponential: {max_size: 10}}",
       "connectors.spanmetrics.histogram.exponential (line 1:54): use either explicit or "
       "exponential buckets, not both"},
      {"histogram: {unit: us}",
       "connectors.spanmetrics.histogram.unit (line 1:19): must be ms or "
       "s, got 'us'"},
      {"histogram: {explicit: {buckets: [2ms, 1ms]}}",
       "connectors.spanmetrics.histogram.explicit.buckets[1]"},
      {"histogram: {explicit: {buckets: [2ms, soon]}}", "invalid duration 'soon'"},
      {"histogram: {exponential: {max_size: 1}}", "histogram.exponential.max_size"},
      {"dimensions: [{name: service.name}]", "duplicate dimension name service.name"},
      {"dimensions: [{name: a}, {name: a}]", "connectors.spanmetrics.dimensions[1].name"},
      {"dimensions: [{default: x}]", "dimensions[0].name (line 1:14): is required"},
      {"dimensions: [{name: a, defualt: x}]", "dimensions[0].defualt (line 1:24): unknown key"},
      {"dimensions_cache_size: 0", "dimensions_cache_size (line 1:24): must be between 1"},
      {"aggregation_cardinality_limit: -1", "aggregation_cardinality_limit"},
      {"aggregation_temporality: DELTA",
       "must be AGGREGATION_TEMPORALITY_CUMULATIVE or "
       "AGGREGATION_TEMPORALITY_DELTA, got 'DELTA'"},
      {"metrics_flush_interval: 0s", "metrics_flush_interval (line 1:25): must be greater than 0"},
      {"metrics_expiration: forever", "metrics_expiration"},
      {"exemplars: {enabled: yes please}", "exemplars.enabled"},
      {"exemplars: {max_per_data_point: 0}", "exemplars.max_per_data_point"},
      {"events: {enabled: true}",
       "events (line 1:9): is a Collector setting otlpd's spanmetrics connector does not support"},
      {"calls_dimensions: []", "calls_dimensions"},
      {"histogram: {dimensions: []}", "histogram.dimensions (line 1:13): unknown key"},
      {"flush_interval: 1s", "connectors.spanmetrics.flush_interval (line 1:1): unknown key"},
  };
  for (const Case& c : cases) {
    const Parsed p = parse(c.yaml);
    EXPECT_NE(p.errors.find(c.error), std::string::npos) << c.yaml << "\n got: " << p.errors;
  }
}

}  // namespace
}  // namespace otlpd::connectors::spanmetrics
