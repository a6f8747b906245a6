// Jaeger → OTLP, the translation the OpenTelemetry Collector's Jaeger receiver makes (and the
// OpenTelemetry specification's Jaeger mapping read backwards), written straight into the bytes
// of an ExportTraceServiceRequest: no protobuf objects, so the receiver hands the pipeline a wire
// batch. docs/INTEROP.md ("Jaeger") lists what maps to what. Pure.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "jaeger/model.h"

namespace otlpd::jaeger {

// Bytes written through raw pointers: room is made once per field and the field stored without
// a call per piece (std::string's append of small pieces was a sixth of the translation). The
// memory is kept from one request to the next.
class WireBuffer {
 public:
  // At least `n` writable bytes after the used ones; commit() says how many were written.
  char* room(size_t n) {
    if (bytes_.size() - used_ < n) bytes_.resize(std::max(bytes_.size() * 2, used_ + n + 256));
    return bytes_.data() + used_;
  }
  void commit(const char* end) { used_ = static_cast<size_t>(end - bytes_.data()); }
  void append(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    used_ += s.size();
  }
  void push_back(char c) {
    *room(1) = c;
    ++used_;
  }
  size_t size() const { return used_; }
  bool empty() const { return used_ == 0; }
  char* data() { return bytes_.data(); }
  void clear() { used_ = 0; }
  std::string_view view() const { return {bytes_.data(), used_}; }

 private:
  std::string bytes_;
  size_t used_ = 0;
};

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
    WireBuffer spans;  // encoded ScopeSpans.spans fields
  };
  void writeResource(const Batch& batch, const Process* process, WireBuffer& out);
  // Appends the span to its scope group's buffer.
  void writeSpan(const Batch& batch, const Span& span);
  ScopeGroup& scopeGroup(std::string_view name, std::string_view version);

  size_t invalid_spans_ = 0;
  std::vector<ScopeGroup> scopes_;
  size_t scopes_used_ = 0;
  std::vector<const Tag*> kept_;           // attributes of the item being written
  std::vector<Tag> resource_tags_;         // a resource's attributes before writing
  WireBuffer resource_;                    // an encoded Resource
  std::vector<uint8_t> special_of_;        // per tag of the span being written: its Special
  std::string exporter_version_;           // storage for a translated resource attribute
  std::vector<int32_t> group_of_;          // per span process: its resource group
  std::vector<WireBuffer> scope_headers_;  // encoded InstrumentationScope per scope group
  std::vector<size_t> scope_sizes_;
};

}  // namespace otlpd::jaeger
