// OTLP ids, resources and attribute values in the forms the query answers use (hex ids, plain
// JSON values), shared by the Jaeger shapes (jaeger_json) and otlpd's own (analytics). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/proto.h"

namespace otlpd::query {

// Lower-case hex of raw id bytes.
std::string hexId(std::string_view bytes);

// A Jaeger trace id as typed by a user (1 to 32 hex digits, any case) → its 16 raw bytes
// (left-padded with zeros); nullopt when malformed or all zeros.
std::optional<std::string> parseTraceIdHex(std::string_view hex);
// A span id of exactly 16 hex digits (any case) → its 8 raw bytes; nullopt when malformed.
std::optional<std::string> parseSpanIdHex(std::string_view hex);

// The resource's service.name (a string attribute); `fallback` when it has none.
std::string serviceNameOf(const otlp::pb_resource::Resource& resource,
                          std::string_view fallback = {});

// How anyValueJson writes a double that is NaN or infinite.
enum class NonFinite {
  kString,  // "NaN", "Infinity", "-Infinity"
  kNull,    // null
};

// An AnyValue as plain JSON: strings, bools, numbers (non-finite doubles as `non_finite` says),
// bytes as base64, arrays and key/value lists nested.
nlohmann::json anyValueJson(const otlp::pb_common::AnyValue& value,
                            NonFinite non_finite = NonFinite::kString);
// Attributes as a {key: value} object.
nlohmann::json attributesJson(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attributes,
    NonFinite non_finite = NonFinite::kString);

}  // namespace otlpd::query
