// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
// headers, parsed and formatted as the specification says, for otlpd's traces of its own work.
// Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otlpd::selftrace {

struct SpanContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  uint8_t flags = 0;
  std::string trace_state;  // the validated tracestate header, or empty

  bool sampled() const { return (flags & 0x01) != 0; }
  // Both ids not all zero.
  bool valid() const;
};

// A `traceparent` value: version-traceid-parentid-flags in lowercase hex. Version 00 is exactly
// 55 characters; a later version may carry more after a '-' (ignored, as the specification asks of
// a version we do not know); version ff, uppercase hex, and all-zero ids are invalid: nullopt.
// Surrounding spaces and tabs (HTTP's optional whitespace) are ignored.
std::optional<SpanContext> parseTraceparent(std::string_view header);

// The version 00 form of `context`'s ids and flags.
std::string formatTraceparent(const SpanContext& context);

// A `tracestate` value: nullopt when it breaks the grammar (a key or value outside it, a key given
// twice, more than 32 list members); else the members joined by ',' without the optional
// whitespace and empty members.
std::optional<std::string> parseTracestate(std::string_view header);

// A tracestate to send: at most 32 members and 512 characters. Over 512, every member longer than
// 128 characters goes first, then members from the end, as the specification suggests.
std::string limitTracestate(std::string_view tracestate);

// Lowercase hex of bytes.
std::string toHex(const uint8_t* bytes, size_t n);

}  // namespace otlpd::selftrace
