#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/compression.h"
#include "exporters/helper/sender.h"
#include "pipeline/factory.h"

namespace otlpd::exporters::otlp_grpc {

// The `otlp_grpc` exporter (alias `otlp`, the Collector's name): OTLP/gRPC to another collector
// or a vendor, through the exporter helper (queue, retry, circuit breaker, dead letters).
std::unique_ptr<pipeline::ExporterFactory> makeOtlpGrpcExporterFactory();

// A bare OTLP/gRPC sender (no queue, no retry) for tools such as `otlpd dlq replay`. `endpoint`
// is host:port (plaintext) or https://host:port (TLS with the system roots).
absl::StatusOr<std::shared_ptr<helper::Sender>> makeOtlpGrpcSender(pipeline::Signal signal,
                                                                   const std::string& endpoint,
                                                                   common::Compression compression);

}  // namespace otlpd::exporters::otlp_grpc
