// OTLP/JSON: the OTLP specification's JSON encoding of the protobuf messages. It is proto3 JSON
// with OTLP's own rules (hex trace/span ids, integer enums), so protobuf's JsonStringToMessage
// cannot be used as is. The codec works over reflection, so one implementation serves every
// signal and every message of the protocol. The hot paths (the OTLP/HTTP and embedded receivers,
// the JSON exporters) use the direct codec of json_wire.h instead, which is proven equal to this
// one (tests/otlp/json_wire_test.cc, fuzz/otlp_json_fuzzer.cc); this one remains the reference,
// the fallback for the inputs json_wire.h names, and the codec of cold paths.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace otlpd::otlp {

// Parses OTLP/JSON into `message` (cleared first), which may be any OTLP message (normally
// Export{Trace,Metrics,Logs}ServiceRequest). As a lenient receiver it also accepts the original
// snake_case keys, enum value names, and 64-bit integers as numbers; unknown keys are ignored.
// On error returns InvalidArgument with a message that names the JSON path, e.g.
// "resourceSpans[0].scopeSpans[1].spans[3].traceId: ...", and leaves `message` partly filled.
absl::Status parseOtlpJson(std::string_view json, google::protobuf::Message& message);

// Serialises `message` as OTLP/JSON: lowerCamelCase keys, enums as integers, trace/span ids as
// lowercase hex, other bytes as base64, 64-bit integers as decimal strings, non-finite doubles as
// "NaN"/"Infinity"/"-Infinity", default values omitted (fields with explicit presence, such as
// oneof members and `optional` fields, are written whenever they are set).
std::string toOtlpJson(const google::protobuf::Message& message);
// As toOtlpJson(), appending to `out` so that callers can reuse one buffer.
void appendOtlpJson(const google::protobuf::Message& message, std::string& out);

}  // namespace otlpd::otlp
