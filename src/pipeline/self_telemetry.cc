#include "pipeline/self_telemetry.h"

namespace otlpd::pipeline {

const std::shared_ptr<const RequestMetadata>& selfTelemetryMetadata() {
  static const std::shared_ptr<const RequestMetadata> kSelf = [] {
    auto metadata = std::make_shared<RequestMetadata>();
    metadata->add(kSelfTelemetryKey, "1");
    return metadata;
  }();
  return kSelf;
}

}  // namespace otlpd::pipeline
