// Jaeger → OTLP, the translation the OpenTelemetry Collector's Jaeger receiver makes (and the
// OpenTelemetry specification's Jaeger mapping read backwards), written straight into the bytes
// of an ExportTraceServiceRequest: no protobuf objects, so the receiver hands the pipeline a wire
// batch. docs/INTEROP.md ("Jaeger") lists what maps to what. Pure.
#pragma once

#include <string>
#include <vector>

#include "jaeger/model.h"

namespace otlpd::jaeger {

class OtlpTranslator {
 public:
  // Replaces `out` with the encoded ExportTraceServiceRequest of `batch` and returns the number
  // of spans in it (blank spans are skipped). Strings that are not valid UTF-8 get U+FFFD for
  // each bad byte, so the request is always valid protobuf.
  size_t translate(const Batch& batch, std::string& out);
  // Of the last translate()'s spans, those OTLP validation rejects (a zero trace or span id, an
  // end before the start). With none, the bytes need no further check (see receivers/jaeger).
  size_t invalidSpans() const { return invalid_spans_; }

 private:
  struct ScopeGroup {
    std::string_view name;
    std::string_view version;
    std::string spans;  // encoded ScopeSpans.spans fields
  };
  void writeResource(const Batch& batch, const Process* process, std::string& out);
  // Appends the span to its scope group's buffer.
  void writeSpan(const Batch& batch, const Span& span);
  ScopeGroup& scopeGroup(std::string_view name, std::string_view version);

  size_t invalid_spans_ = 0;
  std::vector<ScopeGroup> scopes_;
  size_t scopes_used_ = 0;
  std::vector<const Tag*> kept_;            // attributes of the item being written
  std::vector<Tag> resource_tags_;          // a resource's attributes before writing
  std::string resource_;                    // an encoded Resource
  std::string span_;                        // one encoded span, before its scope is known
  std::string exporter_version_;            // storage for a translated resource attribute
  std::vector<int32_t> group_of_;           // per span process: its resource group
  std::vector<std::string> scope_headers_;  // encoded InstrumentationScope per scope group
  std::vector<size_t> scope_sizes_;
};

}  // namespace otlpd::jaeger
