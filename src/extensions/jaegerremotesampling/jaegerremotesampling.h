#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::jaegerremotesampling {

// The Collector's jaegerremotesampling extension, file source and HTTP endpoint: Jaeger's
// sampling strategies file served at `GET /sampling?service=` (and `/api/sampling`, the Jaeger
// collector's path), reloaded every `source.reload_interval`.
std::unique_ptr<pipeline::ExtensionFactory> makeJaegerRemoteSamplingFactory();

}  // namespace otlpd::extensions::jaegerremotesampling
