// Cutting an encoded export request into one request per backend by routing key, from the wire
// bytes (otlp/wire_split.h): nothing is decoded, items and their resource/scope envelopes are
// copied once into the backends' requests. Pure: the ring says which backend owns a key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "exporters/loadbalancing/hash_ring.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_split.h"
#include "pipeline/signal.h"

namespace otlpd::exporters::loadbalancing {

// The Collector's `routing_key` values.
enum class RoutingKey {
  kTraceId,   // "traceID": spans and log records by their trace id
  kService,   // "service": by the resource's service.name
  kResource,  // "resource": by the resource's attributes
  kMetric,    // "metric": by metric name
  kStreamId,  // "streamID": by metric stream (resource, scope, metric identity, point attributes)
};

std::string_view routingKeyName(RoutingKey key);
std::optional<RoutingKey> parseRoutingKey(std::string_view name);
// traces: traceID, service; logs: traceID, service, resource; metrics: service, resource,
// metric, streamID — as the Collector's README lists them.
bool routingKeyValidFor(RoutingKey key, pipeline::Signal signal);
// traceID for traces and logs, service for metrics.
RoutingKey defaultRoutingKey(pipeline::Signal signal);

// A hash of a set of attributes (encoded KeyValue messages) that does not depend on their order.
uint64_t attributeSetHash(const std::vector<std::string_view>& keyvalues);
// The hash `resource` routing uses: the attribute set of the envelope's Resource.
uint64_t resourceAttributesHash(std::string_view resource_envelope);

// One backend's part of a request.
struct Share {
  std::string request;  // the encoded Export*ServiceRequest (empty when it has no items)
  size_t items = 0;     // spans, metric data points or log records
};

struct RegroupResult {
  // Set when every item belongs to one backend: the request goes there as it is, and no share
  // was built.
  std::optional<size_t> whole;
  // Log records (or spans) without a trace id under traceID routing: they have no key, and go
  // together to the backend the caller named.
  size_t unkeyed_items = 0;
};

// Not thread-safe: one per thread (it keeps its buffers between requests, so a warm regrouper
// allocates little).
class Regrouper {
 public:
  Regrouper(pipeline::Signal signal, RoutingKey key) : signal_(signal), key_(key) {}

  // Cuts `request` by the ring's owners: shares is resized to ring.size() and share i holds what
  // backend i gets (unless result.whole is set). Items without a key go to `unkeyed_backend`.
  // The ring must not be empty. Malformed bytes give InvalidArgument.
  absl::Status regroup(std::string_view request, const HashRing& ring, size_t unkeyed_backend,
                       std::vector<Share>& shares, RegroupResult& result);

 private:
  struct Routed {
    std::string_view resource_envelope;
    std::string_view scope_envelope;
    std::string_view item;
    uint32_t backend;
    uint32_t items;
  };
  // Splits a metric's data points by stream owner (streamID), adding one Routed per backend.
  void routeMetricStreams(const otlp::ItemSlice& slice, const HashRing& ring);

  const pipeline::Signal signal_;
  const RoutingKey key_;
  otlp::ItemWalker walker_;
  std::vector<Routed> routed_;
  std::vector<otlp::RequestBuilder> builders_;
  otlp::ByteArena arena_;  // metrics rebuilt with part of their points (streamID)
  // Per-resource and per-scope hashes, computed once per Resource*/Scope* message.
  uint32_t cached_resource_ = UINT32_MAX, cached_scope_ = UINT32_MAX;
  uint64_t resource_hash_ = 0, scope_hash_ = 0;
  size_t resource_backend_ = 0;
  // Spans of a trace usually follow one another: the last trace id's owner.
  std::string_view last_trace_id_;
  size_t last_trace_backend_ = 0;
  std::string metric_head_, data_head_, rebuilt_;
  std::vector<std::string_view> points_;
  std::vector<std::string_view> keyvalues_;
  std::vector<uint32_t> point_backends_;
};

// Data points in an encoded Metric (every point of every metric type).
size_t countMetricPoints(std::string_view metric);

}  // namespace otlpd::exporters::loadbalancing
