#include "selfmetrics/periodic_reader.h"

#include <gtest/gtest.h>

#include <map>

#include "otlp/proto.h"

namespace otlpd::selfmetrics {
namespace {

TEST(CollectorName, ComponentMetricsTakeTheCollectorsNames) {
  EXPECT_EQ(collectorName("otlpd_receiver_accepted_spans_total", true),
            "otelcol_receiver_accepted_spans");
  EXPECT_EQ(collectorName("otlpd_exporter_sent_log_records_total", true),
            "otelcol_exporter_sent_log_records");
  EXPECT_EQ(collectorName("otlpd_exporter_queue_size", false), "otelcol_exporter_queue_size");
  EXPECT_EQ(collectorName("otlpd_processor_dropped_items_total", true),
            "otelcol_processor_dropped_items");
  // Not a counter: a `_total` in a gauge's name is its own.
  EXPECT_EQ(collectorName("otlpd_exporter_odd_total", false), "otelcol_exporter_odd_total");
  // otlpd's other metrics have no Collector counterpart and keep their names.
  EXPECT_EQ(collectorName("otlpd_memory_budget_in_use_bytes", false),
            "otlpd_memory_budget_in_use_bytes");
  EXPECT_EQ(collectorName("process_cpu_seconds_total", true), "process_cpu_seconds_total");
}

TEST(SelfMetricsEncoder, CountersBecomeCumulativeSumsOfServiceOtlpd) {
  common::MetricsRegistry registry(common::MetricsRegistry::ProcessMetrics::kExclude);
  registry
      .counter("otlpd_receiver_accepted_spans_total", "Items.",
               {{"receiver", "otlp"}, {"transport", "grpc"}})
      .add(7);
  registry.gauge("otlpd_exporter_queue_size", "Size.", {{"exporter", "otlp"}}).set(3);
  for (bool collector_names : {false, true}) {
    SelfMetricsEncoder encoder(collector_names);
    auto body = encoder.encode(registry.renderPrometheus(), 1'700'000'000'000);
    ASSERT_TRUE(body.ok()) << body.status();
    otlp::MetricsRequest request;
    ASSERT_TRUE(request.ParseFromString(*body));
    ASSERT_EQ(request.resource_metrics_size(), 1);
    const auto& rm = request.resource_metrics(0);
    ASSERT_GE(rm.resource().attributes_size(), 1);
    EXPECT_EQ(rm.resource().attributes(0).key(), "service.name");
    EXPECT_EQ(rm.resource().attributes(0).value().string_value(), "otlpd");
    std::map<std::string, const opentelemetry::proto::metrics::v1::Metric*> by_name;
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) by_name[m.name()] = &m;
    }
    EXPECT_FALSE(by_name.contains("up")) << "no scrape report series";
    const std::string sum_name =
        collector_names ? "otelcol_receiver_accepted_spans" : "otlpd_receiver_accepted_spans_total";
    const std::string gauge_name =
        collector_names ? "otelcol_exporter_queue_size" : "otlpd_exporter_queue_size";
    ASSERT_TRUE(by_name.contains(sum_name));
    const auto& sum = by_name[sum_name]->sum();
    EXPECT_TRUE(sum.is_monotonic());
    EXPECT_EQ(sum.aggregation_temporality(),
              opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
    ASSERT_EQ(sum.data_points_size(), 1);
    EXPECT_EQ(sum.data_points(0).as_double(), 7);
    ASSERT_TRUE(by_name.contains(gauge_name));
    ASSERT_EQ(by_name[gauge_name]->gauge().data_points_size(), 1);
    EXPECT_EQ(by_name[gauge_name]->gauge().data_points(0).as_double(), 3);
  }
}

}  // namespace
}  // namespace otlpd::selfmetrics
