#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::receivers::prometheus {

// `prometheus`: scrapes Prometheus /metrics endpoints with the Collector's `config.scrape_configs`
// (docs/PROMETHEUS.md). Metrics pipelines only.
std::unique_ptr<pipeline::ReceiverFactory> makePrometheusReceiverFactory();

}  // namespace otlpd::receivers::prometheus
