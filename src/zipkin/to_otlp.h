// Zipkin v2 spans → an encoded OTLP ExportTraceServiceRequest, written straight into wire bytes
// (otlp/wire_writer.h): no protobuf objects. The mapping (docs/INTEROP.md, "Zipkin"): spans are
// grouped by local service and instrumentation scope into resources and scopes; tags become
// attributes except those that carry OTLP fields back (status, scope, trace state, links, dropped
// counts, resource attributes); endpoints become network attributes; annotations become events.
// Pure.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "zipkin/span.h"

namespace otlpd::zipkin {

struct ToOtlpOptions {
  // The Collector's `parse_string_tags`: tags that read as an int, a double or a bool become
  // attributes of that type instead of strings.
  bool parse_string_tags = false;
};

// Appends the request encoding `spans` to `out`. InvalidArgument for a span that OTLP cannot
// carry (its message names the span); nothing is appended then.
absl::Status appendOtlpTraces(const SpanList& spans, const ToOtlpOptions& options,
                              std::string& out);

// The attribute a span gets when its Zipkin timestamp was absent (its start is then the epoch):
// the Collector's name, read back by the exporter.
inline constexpr std::string_view kStartTimeAbsentAttribute = "otel.zipkin.absentField.startTime";
// Zipkin's `shared` flag (a server span that joins its client's span id), kept as a bool attribute
// so that the exporter can write it back.
inline constexpr std::string_view kSharedAttribute = "zipkin.shared";

// Whether an attribute of this name describes the resource (service.*, host.*, k8s.*, …): the
// exporter writes resource attributes as tags, and the receiver moves such tags back.
bool isResourceAttribute(std::string_view key);

}  // namespace otlpd::zipkin
