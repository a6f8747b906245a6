// OTLP spans → Zipkin v2 spans, as the OpenTelemetry specification's Zipkin exporter mapping
// says (service name from the resource, kind, status as `otel.status_code` and `error` tags,
// events as annotations, attributes as string tags, remote endpoint by the specification's
// ranking for client and producer spans), with the Collector's conventions where the
// specification leaves a field open (links as `otlp.link.N` tags, INTERNAL as `span.kind`,
// trace state as `w3c.tracestate`). Writes Zipkin JSON (v2) or zipkin.proto's ListOfSpans.
// docs/INTEROP.md lists what is lost. Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlp/proto.h"

namespace otlpd::zipkin {

struct OutEndpoint {
  std::string service_name;
  std::string ipv4, ipv6;  // text
  int32_t port = 0;
  bool empty() const { return service_name.empty() && ipv4.empty() && ipv6.empty() && port == 0; }
};

struct OutSpan {
  std::string trace_id, id, parent_id;  // raw bytes: 8 or 16, 8, 0 or 8
  std::string kind;                     // "CLIENT"… or empty
  std::string name;
  uint64_t timestamp_us = 0, duration_us = 0;  // 0: absent
  OutEndpoint local, remote;
  std::vector<std::pair<uint64_t, std::string>> annotations;
  std::vector<std::pair<std::string, std::string>> tags;
  bool shared = false;
};

struct FromOtlpOptions {
  // The Collector's `default_service_name`: the local endpoint of spans whose resource has no
  // service.name.
  std::string default_service_name = "<missing service name>";
};

// Calls `fn` with every span of `request`, converted.
void forEachZipkinSpan(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                       const std::function<void(const OutSpan&)>& fn);

// One span as a Zipkin v2 JSON object.
void appendSpanJson(const OutSpan& span, std::string& out);
// One span as a zipkin.proto3.Span message (no tag, no length).
void appendSpanProto(const OutSpan& span, std::string& out);

// The whole request as a Zipkin v2 JSON list / a ListOfSpans message; the span count in `spans`.
std::string toZipkinJson(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                         size_t* spans = nullptr);
std::string toZipkinProto(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                          size_t* spans = nullptr);

}  // namespace otlpd::zipkin
