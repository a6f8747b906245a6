// OTLP → Jaeger Thrift, the OpenTelemetry specification's Jaeger mapping (service.name → the
// process's serviceName, other resource attributes → process tags, kind → `span.kind`, status →
// `otel.status_code` / `error`, events → logs with an `event` field, links → FOLLOWS_FROM
// references). otlpd has no Jaeger exporter (Jaeger takes OTLP); this encoder feeds the load
// generator, the benchmarks and the tests with the bytes a Jaeger client sends. Pure.
#pragma once

#include <string>

#include "otlp/proto.h"

namespace otlpd::jaeger {

// One `jaeger.Batch` per ResourceSpans (Thrift batches carry one process), binary or compact.
std::string encodeThriftBatch(const ::opentelemetry::proto::trace::v1::ResourceSpans& resource,
                              bool compact);

// The agent's UDP packet: `Agent.emitBatch(batch)` as a ONEWAY message.
std::string encodeAgentEmitBatch(const ::opentelemetry::proto::trace::v1::ResourceSpans& resource,
                                 bool compact);

}  // namespace otlpd::jaeger
