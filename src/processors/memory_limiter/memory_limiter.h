#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::memory_limiter {

// The Collector's memory_limiter keys, with two differences that keep data from being lost:
// refusals are retryable with a retry delay (gRPC UNAVAILABLE + RetryInfo, HTTP 503 +
// Retry-After), and the limit also drives byte-accurate admission at the receivers, which refuse
// a request before decoding it when telemetry in flight and queued would exceed the soft limit.
std::unique_ptr<pipeline::ProcessorFactory> makeMemoryLimiterFactory();

}  // namespace otlpd::processors::memory_limiter
