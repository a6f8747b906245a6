// Splitting encoded requests item by item and building new requests from the pieces, without
// decoding: what regrouping by trace id (tail sampling, load balancing) needs. The three OTLP
// export requests share one shape — request { repeated Resource* = 1 }, Resource* { resource = 1;
// repeated Scope* = 2; schema_url = 3 }, Scope* { scope = 1; repeated item = 2; schema_url = 3 } —
// so one walker and one builder serve traces, metrics and logs. Pure and free of I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "otlp/wire_edit.h"

namespace otlpd::otlp {

// One item (span, log record or metric) of a request with the messages around it. An envelope is
// every field of the Resource*/Scope* message except its repeated children, raw (tags included):
// what a builder writes back around the items. Views stay valid while the walk runs (envelopes
// whose fields were not adjacent are joined in the walker's arena).
struct ItemSlice {
  std::string_view resource_envelope;
  std::string_view scope_envelope;
  std::string_view item;    // the item message's bytes (no tag, no length)
  uint32_t resource_index;  // ordinal of the Resource* message in the request
  uint32_t scope_index;     // ordinal of the Scope* message in the request (counted over all)
};

// Walks a request and calls visit for each item, in order. Malformed bytes give
// InvalidArgument (items visited before the fault have been visited).
class ItemWalker {
 public:
  absl::Status walk(std::string_view request, absl::FunctionRef<void(const ItemSlice&)> visit);

 private:
  std::string_view envelope(std::string_view message, uint32_t children_field);
  ByteArena arena_;
  std::vector<std::string_view> parts_;
};

// The trace id of a span, or of a log record (empty when absent).
inline std::string_view spanTraceId(std::string_view span) {
  return wire::lastLengthDelimited(span, fields::kSpanTraceId);
}
inline std::string_view logTraceId(std::string_view log_record) {
  return wire::lastLengthDelimited(log_record, fields::kLogTraceId);
}

// The data points of an encoded Metric (what OTLP counts as a metrics request's items).
size_t metricPointCount(std::string_view metric);

// The value of the string attribute `key` in a raw resource envelope (e.g. "service.name"), or
// empty when absent or not a string.
std::string_view resourceStringAttribute(std::string_view resource_envelope, std::string_view key);

// Builds one export request from items and their envelopes. Items that follow one another under
// equal envelopes (same bytes) share one Resource*/Scope* message; a resource envelope equal to
// an earlier one of the request is joined to it. Added views must stay valid until finish(),
// which copies everything once into the result.
class RequestBuilder {
 public:
  void add(std::string_view resource_envelope, std::string_view scope_envelope,
           std::string_view item);
  void add(const ItemSlice& slice) {
    add(slice.resource_envelope, slice.scope_envelope, slice.item);
  }
  size_t items() const { return items_; }
  bool empty() const { return items_ == 0; }
  // The encoded Export*ServiceRequest; the builder is empty again afterwards (and keeps its
  // capacity for the next request).
  std::string finish();
  void finishInto(std::string& out);

 private:
  struct Scope {
    std::string_view envelope;
    std::vector<std::string_view> items;
    size_t size = 0;  // bytes of the encoded Scope* message body
  };
  struct Resource {
    std::string_view envelope;
    std::vector<Scope> scopes;
    size_t size = 0;  // bytes of the encoded Resource* message body
  };
  std::vector<Resource> resources_;
  size_t used_resources_ = 0;  // resources_[0, used_) are in use; the rest keep capacity
  size_t items_ = 0;
};

}  // namespace otlpd::otlp
