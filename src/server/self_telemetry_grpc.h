// otlpd's own telemetry sent over OTLP/gRPC (`protocol: grpc` of the OpenTelemetry configuration
// schema's otlp exporter, as the Collector's service.telemetry takes it).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pipeline/signal.h"

namespace otlpd::server {

// A sender of encoded Export{Trace,Metrics}ServiceRequests to the signal's Export method at
// `endpoint` (host:port, or http://host:port for plaintext, https://host:port for TLS verified
// against the system's roots; `insecure` forces plaintext). Each call blocks its caller (the
// tracer's or a reader's own thread) for at most `timeout`. Calls carry the self-telemetry mark,
// so a receiving otlpd does not trace their ingest. `what` names the config key in errors.
absl::StatusOr<std::function<absl::Status(const std::string&)>> selfTelemetryGrpcSender(
    const std::string& endpoint, bool insecure, pipeline::Signal signal,
    std::chrono::milliseconds timeout, std::string_view what);

}  // namespace otlpd::server
