// The Zipkin encodings a collector accepts, read into a SpanList (span.h): the v2 JSON list
// (POST /api/v2/spans, application/json), the v2 protobuf ListOfSpans (application/x-protobuf,
// zipkin.proto), and the legacy v1 JSON list (POST /api/v1/spans), converted to v2 spans as
// Zipkin's own V1SpanConverter does. Errors are InvalidArgument with a message a client can act
// on ("span 3: traceId …"). Unknown fields are skipped, as Zipkin's server does. Pure.
//
// The JSON readers keep views into a per-thread parser: `out` is valid until the same thread
// reads the next request.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "zipkin/span.h"

namespace otlpd::zipkin {

// `json` is copied into a padded buffer only when `capacity` (the bytes allocated behind
// json.data(), e.g. std::string::capacity()) leaves less than simdjson's padding after it.
absl::Status readJsonV2(std::string_view json, size_t capacity, SpanList& out);
absl::Status readJsonV1(std::string_view json, size_t capacity, SpanList& out);
absl::Status readProto(std::string_view bytes, SpanList& out);
// v1 spans in Thrift's binary protocol (zipkinCore.thrift): a list<Span>, or one Span; converted
// to v2 spans as readJsonV1 does. Lengths and counts are checked against the bytes that remain.
absl::Status readThriftV1(std::string_view bytes, SpanList& out);

}  // namespace otlpd::zipkin
