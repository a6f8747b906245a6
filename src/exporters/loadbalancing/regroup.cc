#include "exporters/loadbalancing/regroup.h"

#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::exporters::loadbalancing {
namespace {

namespace wire = otlp::wire;
namespace fields = otlp::fields;
using pipeline::Signal;

// Resource { attributes = 1 } inside a resource envelope's `resource = 1`; InstrumentationScope
// { name = 1; version = 2; attributes = 3 } inside a scope envelope's `scope = 1`.
constexpr uint32_t kEnvelopeMessage = 1;

bool isMetricData(uint32_t number) {
  return number == fields::kMetricGauge || number == fields::kMetricSum ||
         number == fields::kMetricHistogram || number == fields::kMetricExponentialHistogram ||
         number == fields::kMetricSummary;
}

// The field holding a data point's attributes, by the metric's data field.
uint32_t pointAttributesField(uint32_t data_field) {
  switch (data_field) {
    case fields::kMetricHistogram:
      return fields::kHistogramAttributes;
    case fields::kMetricExponentialHistogram:
      return fields::kExponentialHistogramAttributes;
    case fields::kMetricSummary:
      return fields::kSummaryAttributes;
    default:
      return fields::kNumberAttributes;
  }
}

// Appends every length-delimited occurrence of `number` in `message`.
void collect(std::string_view message, uint32_t number, std::vector<std::string_view>& out) {
  wire::Reader reader(message);
  wire::Field f;
  while (!reader.done() && reader.next(f) == wire::Stop::kNone) {
    if (f.number == number && f.type == wire::kLengthDelimited) out.push_back(f.bytes);
  }
}

// The attributes of the message(s) in an envelope's field 1 (protobuf merges repeated ones).
void envelopeAttributes(std::string_view envelope, uint32_t attributes_field,
                        std::vector<std::string_view>& out) {
  out.clear();
  wire::Reader reader(envelope);
  wire::Field f;
  while (!reader.done() && reader.next(f) == wire::Stop::kNone) {
    if (f.number == kEnvelopeMessage && f.type == wire::kLengthDelimited) {
      collect(f.bytes, attributes_field, out);
    }
  }
}

uint64_t scopeHash(std::string_view scope_envelope, std::vector<std::string_view>& scratch) {
  const std::string_view scope = wire::lastLengthDelimited(scope_envelope, kEnvelopeMessage);
  envelopeAttributes(scope_envelope, fields::kScopeAttributes, scratch);
  uint64_t h = stableHash(wire::lastLengthDelimited(scope, fields::kScopeName));
  h = hashCombine(h, stableHash(wire::lastLengthDelimited(scope, fields::kScopeVersion)));
  return hashCombine(h, attributeSetHash(scratch));
}

}  // namespace

std::string_view routingKeyName(RoutingKey key) {
  switch (key) {
    case RoutingKey::kTraceId:
      return "traceID";
    case RoutingKey::kService:
      return "service";
    case RoutingKey::kResource:
      return "resource";
    case RoutingKey::kMetric:
      return "metric";
    case RoutingKey::kStreamId:
      return "streamID";
  }
  return "";
}

std::optional<RoutingKey> parseRoutingKey(std::string_view name) {
  for (RoutingKey k : {RoutingKey::kTraceId, RoutingKey::kService, RoutingKey::kResource,
                       RoutingKey::kMetric, RoutingKey::kStreamId}) {
    if (routingKeyName(k) == name) return k;
  }
  return std::nullopt;
}

bool routingKeyValidFor(RoutingKey key, Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return key == RoutingKey::kTraceId || key == RoutingKey::kService;
    case Signal::kLogs:
      return key == RoutingKey::kTraceId || key == RoutingKey::kService ||
             key == RoutingKey::kResource;
    case Signal::kMetrics:
      return key == RoutingKey::kService || key == RoutingKey::kResource ||
             key == RoutingKey::kMetric || key == RoutingKey::kStreamId;
  }
  return false;
}

RoutingKey defaultRoutingKey(Signal signal) {
  return signal == Signal::kMetrics ? RoutingKey::kService : RoutingKey::kTraceId;
}

uint64_t attributeSetHash(const std::vector<std::string_view>& keyvalues) {
  // A sum of well-mixed hashes: the same set in any order gives the same value.
  uint64_t sum = 0;
  for (std::string_view kv : keyvalues) sum += mix64(stableHash(kv, 0x6174747273ULL));
  return mix64(sum ^ keyvalues.size());
}

uint64_t resourceAttributesHash(std::string_view resource_envelope) {
  std::vector<std::string_view> keyvalues;
  envelopeAttributes(resource_envelope, fields::kResourceAttributes, keyvalues);
  return attributeSetHash(keyvalues);
}

size_t countMetricPoints(std::string_view metric) {
  size_t points = 0;
  wire::Reader reader(metric);
  wire::Field f;
  while (!reader.done() && reader.next(f) == wire::Stop::kNone) {
    if (!isMetricData(f.number) || f.type != wire::kLengthDelimited) continue;
    wire::Reader data(f.bytes);
    wire::Field p;
    while (!data.done() && data.next(p) == wire::Stop::kNone) {
      if (p.number == fields::kDataPoints && p.type == wire::kLengthDelimited) ++points;
    }
  }
  return points;
}

absl::Status Regrouper::regroup(std::string_view request, const HashRing& ring,
                                size_t unkeyed_backend, std::vector<Share>& shares,
                                RegroupResult& result) {
  result = RegroupResult{};
  routed_.clear();
  arena_.reset();
  cached_resource_ = cached_scope_ = UINT32_MAX;
  last_trace_id_ = {};
  const bool logs = signal_ == Signal::kLogs;
  const bool metrics = signal_ == Signal::kMetrics;
  absl::Status status = walker_.walk(request, [&](const otlp::ItemSlice& slice) {
    auto route = [&](size_t backend, uint32_t items) {
      routed_.push_back({slice.resource_envelope, slice.scope_envelope, slice.item,
                         static_cast<uint32_t>(backend), items});
    };
    switch (key_) {
      case RoutingKey::kTraceId: {
        const std::string_view id =
            logs ? otlp::logTraceId(slice.item) : otlp::spanTraceId(slice.item);
        if (id.empty()) {
          ++result.unkeyed_items;
          route(unkeyed_backend, 1);
        } else if (id == last_trace_id_) {
          route(last_trace_backend_, 1);
        } else {
          last_trace_id_ = id;
          last_trace_backend_ = ring.owner(stableHash(id));
          route(last_trace_backend_, 1);
        }
        break;
      }
      case RoutingKey::kService:
      case RoutingKey::kResource:
        if (slice.resource_index != cached_resource_) {
          cached_resource_ = slice.resource_index;
          resource_backend_ = ring.owner(key_ == RoutingKey::kService
                                             ? stableHash(otlp::resourceStringAttribute(
                                                   slice.resource_envelope, "service.name"))
                                             : resourceAttributesHash(slice.resource_envelope));
        }
        route(resource_backend_,
              metrics ? static_cast<uint32_t>(countMetricPoints(slice.item)) : 1);
        break;
      case RoutingKey::kMetric:
        route(ring.owner(stableHash(wire::lastLengthDelimited(slice.item, fields::kMetricName))),
              static_cast<uint32_t>(countMetricPoints(slice.item)));
        break;
      case RoutingKey::kStreamId:
        routeMetricStreams(slice, ring);
        break;
    }
  });
  if (!status.ok()) return status;

  shares.resize(ring.size());
  for (Share& s : shares) {
    s.request.clear();
    s.items = 0;
  }
  if (routed_.empty()) return absl::OkStatus();
  bool one_backend = true;
  for (const Routed& r : routed_) {
    shares[r.backend].items += r.items;
    one_backend = one_backend && r.backend == routed_.front().backend;
  }
  if (one_backend) {
    result.whole = routed_.front().backend;
    return absl::OkStatus();
  }
  // The envelopes and items are views of `request` and of the walker's and our arenas, which
  // stay as they are until the next regroup().
  if (builders_.size() < ring.size()) builders_.resize(ring.size());
  for (const Routed& r : routed_) {
    builders_[r.backend].add(r.resource_envelope, r.scope_envelope, r.item);
  }
  for (size_t b = 0; b < ring.size(); ++b) {
    if (!builders_[b].empty()) builders_[b].finishInto(shares[b].request);
  }
  return absl::OkStatus();
}

void Regrouper::routeMetricStreams(const otlp::ItemSlice& slice, const HashRing& ring) {
  if (slice.resource_index != cached_resource_) {
    cached_resource_ = slice.resource_index;
    resource_hash_ = resourceAttributesHash(slice.resource_envelope);
  }
  if (slice.scope_index != cached_scope_) {
    cached_scope_ = slice.scope_index;
    scope_hash_ = scopeHash(slice.scope_envelope, keyvalues_);
  }
  // The metric as its fields other than the data, the data message's fields other than the
  // points, and the points: what a copy with some of the points is made of.
  metric_head_.clear();
  data_head_.clear();
  points_.clear();
  uint32_t data_field = 0;
  bool whole = false;  // unusual shapes (two data fields, bytes we cannot read) stay whole
  std::string_view name, unit;
  uint64_t temporality = 0, monotonic = 0;
  wire::Reader reader(slice.item);
  wire::Field f;
  while (!reader.done() && !whole) {
    const char* at = reader.position();
    if (reader.next(f) != wire::Stop::kNone) {
      whole = true;
      break;
    }
    const std::string_view raw(at, static_cast<size_t>(reader.position() - at));
    if (!isMetricData(f.number) || f.type != wire::kLengthDelimited) {
      metric_head_.append(raw);
      if (f.number == fields::kMetricName && f.type == wire::kLengthDelimited) name = f.bytes;
      if (f.number == fields::kMetricUnit && f.type == wire::kLengthDelimited) unit = f.bytes;
      continue;
    }
    if (data_field != 0) whole = true;
    data_field = f.number;
    wire::Reader data(f.bytes);
    wire::Field d;
    while (!data.done()) {
      const char* d_at = data.position();
      if (data.next(d) != wire::Stop::kNone) {
        whole = true;
        break;
      }
      if (d.number == fields::kDataPoints && d.type == wire::kLengthDelimited) {
        points_.push_back(d.bytes);
        continue;
      }
      data_head_.append(d_at, static_cast<size_t>(data.position() - d_at));
      if (d.type == wire::kVarint && d.number == fields::kAggregationTemporality) {
        temporality = d.value;
      }
      if (d.type == wire::kVarint && d.number == fields::kIsMonotonic) monotonic = d.value;
    }
  }
  // The stream's metric identity, as the Collector's: resource, scope, name, unit, type,
  // temporality and monotonicity.
  uint64_t identity = hashCombine(resource_hash_, scope_hash_);
  identity = hashCombine(identity, stableHash(name));
  identity = hashCombine(identity, stableHash(unit));
  identity = hashCombine(identity, data_field);
  identity = hashCombine(identity, temporality * 2 + (monotonic != 0 ? 1 : 0));
  auto route = [&](size_t backend, std::string_view item, size_t items) {
    routed_.push_back({slice.resource_envelope, slice.scope_envelope, item,
                       static_cast<uint32_t>(backend), static_cast<uint32_t>(items)});
  };
  if (whole || points_.empty()) {
    route(ring.owner(identity), slice.item, countMetricPoints(slice.item));
    return;
  }
  const uint32_t attributes_field = pointAttributesField(data_field);
  point_backends_.clear();
  bool split = false;
  for (std::string_view point : points_) {
    keyvalues_.clear();
    collect(point, attributes_field, keyvalues_);
    const auto b =
        static_cast<uint32_t>(ring.owner(hashCombine(identity, attributeSetHash(keyvalues_))));
    split = split || (!point_backends_.empty() && b != point_backends_.front());
    point_backends_.push_back(b);
  }
  if (!split) {
    route(point_backends_.front(), slice.item, points_.size());
    return;
  }
  // One copy of the metric per backend with that backend's points, in their order.
  for (size_t first = 0; first < points_.size(); ++first) {
    const uint32_t b = point_backends_[first];
    bool seen = false;
    for (size_t i = 0; i < first && !seen; ++i) seen = point_backends_[i] == b;
    if (seen) continue;
    size_t body = data_head_.size(), count = 0;
    for (size_t i = first; i < points_.size(); ++i) {
      if (point_backends_[i] != b) continue;
      body += wire::lengthDelimitedSize(fields::kDataPoints, points_[i].size());
      ++count;
    }
    rebuilt_.clear();
    rebuilt_.append(metric_head_);
    wire::appendTag(data_field, wire::kLengthDelimited, rebuilt_);
    wire::appendVarint(body, rebuilt_);
    rebuilt_.append(data_head_);
    for (size_t i = first; i < points_.size(); ++i) {
      if (point_backends_[i] == b) {
        wire::appendLengthDelimited(fields::kDataPoints, points_[i], rebuilt_);
      }
    }
    route(b, arena_.copy(rebuilt_), count);
  }
}

}  // namespace otlpd::exporters::loadbalancing
