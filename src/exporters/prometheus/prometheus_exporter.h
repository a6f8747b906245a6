#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::prometheus {

// The `prometheus` exporter: serves the metrics it is sent on `endpoint` at /metrics for
// Prometheus to scrape (text format 0.0.4, or OpenMetrics 1.0 by Accept with
// enable_open_metrics), names and labels translated as docs/PROMETHEUS.md says.
std::unique_ptr<pipeline::ExporterFactory> makePrometheusExporterFactory();

}  // namespace otlpd::exporters::prometheus
