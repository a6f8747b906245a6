// Converting OTLP export requests between the protobuf encoding and OTLP/JSON.
#pragma once

#include <string>
#include <string_view>

#include "otlpd/collector.h"
#include "otlpd/status.h"

namespace otlpd {

// An encoded Export{Trace,Metrics,Logs}ServiceRequest as OTLP/JSON (hex ids, as the spec says).
Result<std::string> otlpToJson(Signal signal, std::string_view protobuf);
// OTLP/JSON as the encoded request.
Result<std::string> otlpFromJson(Signal signal, std::string_view json);

}  // namespace otlpd
