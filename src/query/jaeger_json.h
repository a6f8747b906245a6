// OTLP spans → Jaeger's classic query JSON (the shape of jaeger-query's /api/traces, which
// Grafana's Jaeger data source reads). Pure: no I/O.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/proto.h"
#include "query/otlp_values.h"

namespace otlpd::query {

// Go-style durations as Jaeger takes them ("1h", "1m30s", "100ms", "250us", "1.5s") → µs;
// nullopt when malformed or negative.
std::optional<int64_t> parseDurationMicros(std::string_view text);

// Every span of `request`, grouped by trace id (traces in order of first appearance, spans in
// request order), as Jaeger trace objects: {traceID, spans, processes, warnings}. One process per
// distinct resource (p1, p2, ... per trace), its tags the resource attributes but service.name.
nlohmann::json toJaegerTraces(const otlp::TracesRequest& request);

// "server", "client", "producer", "consumer", "internal"; "" for unspecified / unknown.
std::string_view spanKindText(int otlp_kind);
// The inverse (any case; "unspecified" and "" give 0); nullopt when unknown.
std::optional<int> parseSpanKind(std::string_view text);

// Jaeger's response envelope: {"data":data,"total":total,"limit":0,"offset":0,"errors":null}.
nlohmann::json jaegerEnvelope(nlohmann::json data, size_t total);
// {"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":code,"msg":msg}]}.
nlohmann::json jaegerError(int code, std::string_view msg);

// Serializes without throwing (invalid UTF-8 is replaced).
std::string dumpJson(const nlohmann::json& json);

}  // namespace otlpd::query
