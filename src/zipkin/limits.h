// Bounds the Zipkin decoders hold every request to, whatever it declares.
#pragma once

#include <cstdint>

namespace otlpd::zipkin {

// Timestamps and durations are microseconds; more than this (the year 2255) is a value in another
// unit (nanoseconds are ~1000× larger) and would overflow OTLP's nanoseconds when added.
inline constexpr uint64_t kMaxMicros = 9'000'000'000'000'000;

}  // namespace otlpd::zipkin
