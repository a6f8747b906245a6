#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/compression.h"
#include "exporters/helper/sender.h"
#include "exporters/otlp_http/config.h"
#include "pipeline/factory.h"

namespace otlpd::exporters::otlp_http {

// The `otlp_http` exporter (alias `otlphttp`, the Collector's name): OTLP/HTTP with protobuf or
// JSON bodies to another collector or a vendor, through the exporter helper (queue, retry,
// circuit breaker, dead letters).
std::unique_ptr<pipeline::ExporterFactory> makeOtlpHttpExporterFactory();

// A bare OTLP/HTTP sender (no queue, no retry) for tools such as `otlpd dlq replay`. `base_url`
// is http(s)://host:port[/prefix]; the signal's path is appended. TLS uses the system roots.
absl::StatusOr<std::shared_ptr<helper::Sender>> makeOtlpHttpSender(pipeline::Signal signal,
                                                                   const std::string& base_url,
                                                                   Encoding encoding,
                                                                   common::Compression compression);

}  // namespace otlpd::exporters::otlp_http
