// Bounds the Zipkin decoders hold every request to, whatever it declares.
#pragma once

#include <cstddef>
#include <cstdint>

namespace otlpd::zipkin {

// Timestamps and durations are microseconds; more than this (the year 2255) is a value in another
// unit (nanoseconds are ~1000× larger) and would overflow OTLP's nanoseconds when added.
inline constexpr uint64_t kMaxMicros = 9'000'000'000'000'000;
// Nesting of JSON a request may have (a span is 3 levels deep; tags and endpoints 4).
inline constexpr size_t kMaxJsonDepth = 64;

}  // namespace otlpd::zipkin
