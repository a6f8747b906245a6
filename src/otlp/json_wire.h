// OTLP/JSON straight to and from the protobuf wire format: the fast path of the JSON codec.
//
// The decoder reads JSON with simdjson's On-Demand API and writes protobuf wire bytes as it goes
// (no DOM, no protobuf message, no reflection per field), so a JSON request joins the protobuf
// path's wire view (pipeline::Batch::fromWire). The encoder reads wire bytes and writes OTLP/JSON.
// Both walk tables built once from the generated descriptors, so they know exactly the fields the
// protobuf messages have; they follow the rules of json_codec.h (the reflection codec, kept as
// the reference and for the rare inputs named below), and are proven equal to it by
// tests/otlp/json_wire_test.cc and fuzz/otlp_json_fuzzer.cc.
#pragma once

#include <google/protobuf/descriptor.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace otlpd::otlp {

// Decodes OTLP/JSON for a message of type `type` (normally
// Export{Trace,Metrics,Logs}ServiceRequest) into protobuf wire bytes appended to `out`. Accepts and
// refuses exactly what parseOtlpJson() does, with the same error messages (errors found by the JSON
// syntax check may name another fault than parseOtlpJson's, which checks all syntax first); the
// bytes parse to the message parseOtlpJson() yields. A document that repeats the key of a singular
// message field (which merges, and may conflict with a oneof set in the first occurrence) is
// decoded through parseOtlpJson(). On error `out` holds a partial result.
absl::Status otlpJsonToWire(const google::protobuf::Descriptor& type, std::string_view json,
                            std::string& out);
// As above, for text in a buffer of which `readable` bytes (from json.data(), at least json.size())
// may be read: with SIMDJSON_PADDING (64) bytes to spare the text is read in place, not copied.
absl::Status otlpJsonToWire(const google::protobuf::Descriptor& type, std::string_view json,
                            size_t readable, std::string& out);
// As above; for a traces request, sets `vouched_items` to its span count when the decoder can vouch
// that the wire view (wire_view.h) would find the bytes valid: every span passes validation.h's
// rules and nothing is nested deeper than the view reads. The receiver then skips the view's walk
// (Ingestor::exportRequest's `vouched_items`). Left empty otherwise (and for other signals).
absl::Status otlpJsonToWire(const google::protobuf::Descriptor& type, std::string_view json,
                            size_t readable, std::string& out,
                            std::optional<size_t>* vouched_items);

// Appends the OTLP/JSON of the wire-encoded message `wire` of type `type` to `out`, exactly as
// appendOtlpJson() would write the parsed message. Returns false (and leaves `out` as it was)
// for bytes it does not interpret the way protobuf's parser would: malformed or unusual bytes
// (groups), or a singular message field repeated (which protobuf merges); callers then parse and
// use appendOtlpJson().
bool appendOtlpJsonFromWire(const google::protobuf::Descriptor& type, std::string_view wire,
                            std::string& out);

}  // namespace otlpd::otlp
