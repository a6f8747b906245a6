// The mark of otlpd's own telemetry (service.telemetry) as it travels: a request header on the
// network, one shared metadata object on batches in otlpd's own pipelines. otlpd never traces the
// handling of anything that carries it, so self-telemetry cannot trace itself (no loops).
#pragma once

#include <memory>
#include <string_view>

#include "pipeline/request_metadata.h"

namespace otlpd::pipeline {

inline constexpr std::string_view kSelfTelemetryKey = "x-otlpd-self-telemetry";

// The one metadata object of otlpd's own telemetry entering its pipelines. One shared object, so
// merging such batches keeps it (mergeBatches keeps metadata that every part shares).
const std::shared_ptr<const RequestMetadata>& selfTelemetryMetadata();

// Whether a batch with this metadata is otlpd's own telemetry (null: no).
inline bool isSelfTelemetry(const RequestMetadata* metadata) {
  return metadata != nullptr && metadata->first(kSelfTelemetryKey).has_value();
}

}  // namespace otlpd::pipeline
