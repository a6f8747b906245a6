// The OpenTelemetry → Prometheus name translation table (docs/PROMETHEUS.md), label
// sanitizing and float formatting as Prometheus writes floats.
#include "prometheus/otel_names.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "prometheus/float_format.h"

namespace otlpd::prometheus {
namespace {

struct NameCase {
  std::string_view otel_name;
  std::string_view unit;
  MetricKind kind;
  bool monotonic;
  std::string_view expected;
};

TEST(OtelNames, TranslationTable) {
  const NameCase cases[] = {
      {"http.server.request.duration", "s", MetricKind::kHistogram, false,
       "http_server_request_duration_seconds"},
      {"http.server.active_requests", "{request}", MetricKind::kSum, false,
       "http_server_active_requests"},
      {"http.requests", "{request}", MetricKind::kSum, true, "http_requests_total"},
      {"http.requests.total", "", MetricKind::kSum, true, "http_requests_total"},
      {"system.memory.usage", "By", MetricKind::kSum, false, "system_memory_usage_bytes"},
      {"system.network.io", "By", MetricKind::kSum, true, "system_network_io_bytes_total"},
      {"network.throughput", "By/s", MetricKind::kGauge, false,
       "network_throughput_bytes_per_second"},
      {"requests.rate", "1/s", MetricKind::kGauge, false, "requests_rate_per_second"},
      {"requests_per_second", "1/s", MetricKind::kGauge, false, "requests_per_second"},
      {"cpu.utilization", "1", MetricKind::kGauge, false, "cpu_utilization_ratio"},
      {"cpu.utilization", "1", MetricKind::kSum, false, "cpu_utilization"},
      {"disk.ratio.used", "1", MetricKind::kGauge, false, "disk_used_ratio"},
      {"latency", "ms", MetricKind::kSummary, false, "latency_milliseconds"},
      {"latency_milliseconds", "ms", MetricKind::kGauge, false, "latency_milliseconds"},
      {"temperature", "Cel", MetricKind::kGauge, false, "temperature_celsius"},
      {"errors", "%", MetricKind::kGauge, false, "errors_percent"},
      {"odd.unit", "furlongs", MetricKind::kGauge, false, "odd_unit_furlongs"},
      {"queue.age", "min", MetricKind::kGauge, false, "queue_age_minutes"},
      {"memory", "MiBy", MetricKind::kGauge, false, "memory_mebibytes"},
      {"frequency", "Hz", MetricKind::kGauge, false, "frequency_hertz"},
      {"2xx.responses", "", MetricKind::kSum, true, "_2xx_responses_total"},
      {"weird--name__with  spaces", "", MetricKind::kGauge, false, "weird_name_with_spaces"},
      {"ns:colons.kept", "", MetricKind::kGauge, false, "ns:colons_kept"},
      {"ünïcode.name", "", MetricKind::kGauge, false, "n_code_name"},
      {"bytes.in", "By/mo", MetricKind::kSum, true, "bytes_in_per_month_total"},
  };
  for (const NameCase& c : cases) {
    EXPECT_EQ(metricName(c.otel_name, c.unit, c.kind, c.monotonic, {}), c.expected)
        << c.otel_name << " [" << c.unit << "]";
  }
}

TEST(OtelNames, NamespaceAndNoSuffixes) {
  NameOptions ns{"otel", true};
  EXPECT_EQ(metricName("http.requests", "1", MetricKind::kSum, true, ns),
            "otel_http_requests_total");
  EXPECT_EQ(metricName("2xx", "", MetricKind::kGauge, false, ns), "otel_2xx");
  NameOptions plain{"", false};
  EXPECT_EQ(metricName("http.server.duration", "s", MetricKind::kHistogram, false, plain),
            "http_server_duration");
  EXPECT_EQ(metricName("http.requests", "", MetricKind::kSum, true, plain), "http_requests");
  EXPECT_EQ(metricName("9lives", "", MetricKind::kGauge, false, plain), "_9lives");
  EXPECT_EQ(metricName("keep__double", "", MetricKind::kGauge, false, plain), "keep__double");
  NameOptions plain_ns{"app", false};
  EXPECT_EQ(metricName("a.b", "s", MetricKind::kGauge, false, plain_ns), "app_a_b");
}

TEST(OtelNames, UnitSuffix) {
  EXPECT_EQ(unitSuffix("s"), "seconds");
  EXPECT_EQ(unitSuffix("By/s"), "bytes_per_second");
  EXPECT_EQ(unitSuffix("1"), "");
  EXPECT_EQ(unitSuffix("{packets}"), "");
  EXPECT_EQ(unitSuffix(""), "");
}

TEST(OtelNames, LabelNames) {
  EXPECT_EQ(labelName("http.method"), "http_method");
  EXPECT_EQ(labelName("service_name"), "service_name");
  EXPECT_EQ(labelName("2fa"), "key_2fa");
  EXPECT_EQ(labelName("_private"), "key_private");
  EXPECT_EQ(labelName("__reserved"), "__reserved");
  EXPECT_EQ(labelName("k8s.pod-name"), "k8s_pod_name");
  EXPECT_EQ(labelName("grüße"), "gr__e");  // one '_' per character, not per byte
  EXPECT_EQ(labelName("a:b"), "a_b");      // colons are for metric names only
  EXPECT_TRUE(isPlainLabelName("abc_1"));
  EXPECT_FALSE(isPlainLabelName("a.b"));
  EXPECT_FALSE(isPlainLabelName("1a"));
}

TEST(FloatFormat, AsGoFormatsShortestG) {
  EXPECT_EQ(formatFloat(0), "0");
  EXPECT_EQ(formatFloat(0.5), "0.5");
  EXPECT_EQ(formatFloat(1), "1");
  EXPECT_EQ(formatFloat(-2.25), "-2.25");
  EXPECT_EQ(formatFloat(100), "100");
  EXPECT_EQ(formatFloat(100000), "100000");
  EXPECT_EQ(formatFloat(1e6), "1e+06");
  EXPECT_EQ(formatFloat(1234567), "1.234567e+06");
  EXPECT_EQ(formatFloat(0.0001), "0.0001");
  EXPECT_EQ(formatFloat(0.00001), "1e-05");
  EXPECT_EQ(formatFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatFloat(1e100), "1e+100");
  EXPECT_EQ(formatFloat(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatFloat(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatFloat(std::nan("")), "NaN");
}

}  // namespace
}  // namespace otlpd::prometheus
