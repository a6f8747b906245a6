#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::zipkin {

// The Collector's `zipkin` exporter: traces as Zipkin v2 JSON or protobuf, POSTed to a Zipkin
// collector's /api/v2/spans (`endpoint` is the whole URL), through the exporter helper (queue,
// retry, circuit breaker, dead letters).
std::unique_ptr<pipeline::ExporterFactory> makeZipkinExporterFactory();

}  // namespace otlpd::exporters::zipkin
