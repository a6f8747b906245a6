#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::jaeger_query {

// Jaeger's classic HTTP JSON query API (what Grafana's Jaeger data source calls) over the local
// store written by the `store` exporter.
std::unique_ptr<pipeline::ExtensionFactory> makeJaegerQueryFactory();

}  // namespace otlpd::extensions::jaeger_query
