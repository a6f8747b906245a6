#include "connectors/spanmetrics/aggregator.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "common/metrics_registry.h"
#include "connectors/spanmetrics/exponential_histogram.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::connectors::spanmetrics {
namespace {

namespace wire = otlp::wire;
namespace fields = otlp::fields;

// Field numbers of the messages read or written here that otlp::fields does not name.
constexpr uint32_t kEnvelopeResource = 1;                   // ResourceSpans.resource
constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;    // KeyValue
constexpr uint32_t kAnyValueString = 1, kAnyValueBool = 2;  // AnyValue
// ExportMetricsServiceRequest, ResourceMetrics, ScopeMetrics, InstrumentationScope.
constexpr uint32_t kRequestResourceMetrics = 1;
constexpr uint32_t kResourceMetricsResource = 1, kResourceMetricsScopeMetrics = 2;
constexpr uint32_t kScopeMetricsScope = 1, kScopeMetricsMetrics = 2;
constexpr uint32_t kScopeName = 1;
// Sum / Histogram / ExponentialHistogram share these.
constexpr uint32_t kDataPoints = 1, kAggregationTemporality = 2, kIsMonotonic = 3;
constexpr uint64_t kTemporalityDelta = 1, kTemporalityCumulative = 2;
// NumberDataPoint.
constexpr uint32_t kNumberStart = 2, kNumberTime = 3, kNumberExemplars = 5, kNumberAsInt = 6,
                   kNumberAttributes = 7;
// HistogramDataPoint.
constexpr uint32_t kHistStart = 2, kHistTime = 3, kHistCount = 4, kHistSum = 5,
                   kHistBucketCounts = 6, kHistBounds = 7, kHistExemplars = 8, kHistAttributes = 9;
// ExponentialHistogramDataPoint and its Buckets.
constexpr uint32_t kExpAttributes = 1, kExpStart = 2, kExpTime = 3, kExpCount = 4, kExpSum = 5,
                   kExpScale = 6, kExpZeroCount = 7, kExpPositive = 8, kExpExemplars = 11;
constexpr uint32_t kBucketsOffset = 1, kBucketsCounts = 2;
// Exemplar.
constexpr uint32_t kExemplarTime = 2, kExemplarAsDouble = 3, kExemplarSpanId = 4,
                   kExemplarTraceId = 5;

constexpr std::string_view kServiceName = "service.name";

void count(common::Counter* counter, uint64_t n = 1) {
  if (counter != nullptr && n != 0) counter->add(n);
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return absl::Hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

std::string_view spanKindName(uint64_t kind) {
  static constexpr std::string_view kNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  return kind < std::size(kNames) ? kNames[kind] : std::string_view();
}

std::string_view statusCodeName(uint64_t code) {
  static constexpr std::string_view kNames[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                "STATUS_CODE_ERROR"};
  return code < std::size(kNames) ? kNames[code] : std::string_view();
}

std::string stringAnyValue(std::string_view s) {
  std::string out;
  wire::appendLengthDelimited(kAnyValueString, s, out);
  return out;
}

// Appends a KeyValue as field 1 (any tag would do: the entries are re-tagged when written).
void appendKeyValue(std::string_view key, std::string_view any_value, std::string& entries) {
  std::string kv;
  wire::appendLengthDelimited(kKeyValueKey, key, kv);
  wire::appendLengthDelimited(kKeyValueValue, any_value, kv);
  wire::appendLengthDelimited(1, kv, entries);
}

struct Exemplar {
  std::array<char, 16> trace_id;
  std::array<char, 8> span_id;
  double value;
  uint64_t time_ns;
};

struct Resource;

struct Series {
  Resource* resource = nullptr;
  std::string key;  // its key in resource->series; unused for the overflow series
  uint64_t sequence = 0;
  std::shared_ptr<const std::string> attributes;  // KeyValue entries tagged as field 1
  uint64_t start_ns = 0;
  uint64_t last_seen_ns = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> buckets;  // explicit histogram: bounds + 1
  std::optional<ExponentialHistogram> exponential;
  std::vector<Exemplar> exemplars;
};

struct Resource {
  std::string key;
  std::shared_ptr<const std::string> attributes;  // the Resource message's attribute fields
  uint64_t sequence = 0;
  absl::Time last_seen;
  absl::flat_hash_map<std::string, std::unique_ptr<Series>, StringHash, StringEq> series;
  std::unique_ptr<Series> overflow;
  // Evicted by resource_metrics_cache_size: exported once more at the next flush, then gone
  // (unless seen again before, which brings it back).
  bool evicted = false;
  std::list<Resource*>::iterator lru;  // in AggregatorState::live or ::evicted
};

// What one add() call gathers before it takes the lock. Kept per thread and reused, so a warm
// call allocates nothing for requests like the ones before.
struct Scratch {
  struct LocalResource {
    bool has_service = false;
    std::string identity;    // what tells resources apart (see readResource)
    std::string attributes;  // the resource's attribute fields as sent
    std::string_view service_name;
    std::vector<std::optional<std::string_view>> dims;  // AnyValue bytes per dimension
  };
  struct LocalSeries {
    uint32_t resource;
    std::string_view key;  // 4 bytes of local resource index, then the series key
    std::string_view name;
    uint64_t kind;
    uint64_t status;
    uint32_t dims_begin;  // into dim_values: the dimension values of this series
    uint64_t count = 0;
    double sum = 0;
    uint32_t exemplars = 0;
  };
  struct Value {
    uint32_t series;
    double value;
  };
  struct LocalExemplar {
    uint32_t series;
    Exemplar exemplar;
  };

  otlp::ByteArena arena;
  absl::flat_hash_map<std::string_view, uint32_t> index;
  std::vector<LocalResource> resources;  // [0, used_resources) are this call's
  size_t used_resources = 0;
  std::vector<LocalSeries> series;
  std::vector<std::optional<std::string_view>> dim_values;
  std::vector<std::optional<std::string_view>> span_dims;
  std::vector<uint64_t> buckets;  // series × (bounds + 1)
  std::vector<Value> values;      // exponential histograms: one per span
  std::vector<LocalExemplar> exemplars;
  std::vector<uint32_t> values_begin;  // per series, into values (sorted by series)
  std::vector<uint32_t> exemplars_begin;
  std::vector<Value> sorted_values;
  std::vector<LocalExemplar> sorted_exemplars;
  std::vector<std::pair<std::string_view, std::string_view>> identity_parts;
  std::string key;

  void reset() {
    arena.reset();
    index.clear();
    used_resources = 0;
    series.clear();
    dim_values.clear();
    buckets.clear();
    values.clear();
    exemplars.clear();
  }
};

struct SpanView {
  std::string_view trace_id;
  std::string_view span_id;
  std::string_view name;
  uint64_t kind = 0;
  uint64_t status = 0;
  uint64_t start = 0;
  uint64_t end = 0;
};

// The key and value of an encoded KeyValue (protobuf keeps the last of repeated fields).
bool readKeyValue(std::string_view kv, std::string_view& key, std::string_view& value) {
  // What every SDK writes: the key (short), then the value, and nothing else.
  const auto* p = reinterpret_cast<const uint8_t*>(kv.data());
  const size_t n = kv.size();
  if (n >= 2 && p[0] == 0x0a && p[1] < 0x80 && size_t{2} + p[1] <= n) {
    const size_t at = size_t{2} + p[1];
    if (at == n) {
      key = kv.substr(2, p[1]);
      value = {};
      return true;
    }
    if (p[at] == 0x12) {
      uint64_t length = 0;
      size_t i = at + 1;
      for (int shift = 0; i < n && shift < 35; shift += 7, ++i) {
        length |= static_cast<uint64_t>(p[i] & 0x7f) << shift;
        if (p[i] < 0x80) {
          ++i;
          if (i + length == n) {
            key = kv.substr(2, p[1]);
            value = kv.substr(i, length);
            return true;
          }
          break;
        }
      }
    }
  }
  wire::Reader reader(kv);
  wire::Field f;
  key = {};
  value = {};
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    if (f.type != wire::kLengthDelimited) continue;
    if (f.number == kKeyValueKey) key = f.bytes;
    if (f.number == kKeyValueValue) value = f.bytes;
  }
  return true;
}

// Whether protobuf would parse an AnyValue / KeyValue: strings in valid UTF-8 at any depth. What
// the metrics carry must parse, whatever a processor before the connector wrote.
bool validKeyValue(std::string_view kv, int depth);

bool validAnyValue(std::string_view value, int depth) {
  constexpr uint32_t kArray = 5, kKvList = 6, kValues = 1;
  if (depth > 64) return false;
  wire::Reader reader(value);
  wire::Field f;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    if (f.type != wire::kLengthDelimited) continue;
    if (f.number == kAnyValueString && !wire::validUtf8(f.bytes)) return false;
    if (f.number == kArray || f.number == kKvList) {
      wire::Reader list(f.bytes);
      wire::Field item;
      while (!list.done()) {
        if (list.next(item) != wire::Stop::kNone) return false;
        if (item.number != kValues || item.type != wire::kLengthDelimited) continue;
        if (!(f.number == kArray ? validAnyValue(item.bytes, depth + 1)
                                 : validKeyValue(item.bytes, depth + 1))) {
          return false;
        }
      }
    }
  }
  return true;
}

bool validKeyValue(std::string_view kv, int depth) {
  wire::Reader reader(kv);
  wire::Field f;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    if (f.type != wire::kLengthDelimited) continue;
    if (f.number == kKeyValueKey && !wire::validUtf8(f.bytes)) return false;
    if (f.number == kKeyValueValue && !validAnyValue(f.bytes, depth + 1)) return false;
  }
  return true;
}

bool validTraceId(std::string_view id) {
  if (id.size() != 16) return false;
  return std::any_of(id.begin(), id.end(), [](char c) { return c != 0; });
}

void appendFixed64Field(uint32_t field, uint64_t v, std::string& out) {
  wire::appendTag(field, wire::kFixed64, out);
  wire::appendFixed64(v, out);
}

void appendDoubleField(uint32_t field, double v, std::string& out) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  appendFixed64Field(field, bits, out);
}

void appendVarintField(uint32_t field, uint64_t v, std::string& out) {
  wire::appendTag(field, wire::kVarint, out);
  wire::appendVarint(v, out);
}

void appendSint32Field(uint32_t field, int32_t v, std::string& out) {
  const uint32_t zigzag = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  appendVarintField(field, zigzag, out);
}

// Writes KeyValue entries (stored tagged as field 1) as the repeated field `field`.
void appendAttributes(uint32_t field, std::string_view entries, std::string& out) {
  wire::Reader reader(entries);
  wire::Field f;
  while (!reader.done() && reader.next(f) == wire::Stop::kNone) {
    wire::appendLengthDelimited(field, f.bytes, out);
  }
}

void appendExemplars(uint32_t field, const std::vector<Exemplar>& exemplars, std::string& out) {
  std::string e;
  for (const Exemplar& x : exemplars) {
    e.clear();
    appendFixed64Field(kExemplarTime, x.time_ns, e);
    appendDoubleField(kExemplarAsDouble, x.value, e);
    wire::appendLengthDelimited(kExemplarSpanId,
                                std::string_view(x.span_id.data(), x.span_id.size()), e);
    wire::appendLengthDelimited(kExemplarTraceId,
                                std::string_view(x.trace_id.data(), x.trace_id.size()), e);
    wire::appendLengthDelimited(field, e, out);
  }
}

// A series' values copied out under the lock, encoded after it is released.
struct PointSnapshot {
  std::shared_ptr<const std::string> attributes;
  uint64_t start_ns;
  uint64_t count;
  double sum;
  size_t buckets_begin;  // into Snapshot::buckets
  std::optional<ExponentialHistogram> exponential;
  std::vector<Exemplar> exemplars;
};

struct ResourceSnapshot {
  std::shared_ptr<const std::string> attributes;
  std::vector<PointSnapshot> points;
};

struct Snapshot {
  uint64_t time_ns = 0;
  std::vector<ResourceSnapshot> resources;
  std::vector<uint64_t> buckets;
};

}  // namespace

struct AggregatorState {
  mutable std::mutex mu;
  absl::flat_hash_map<std::string, std::unique_ptr<Resource>, StringHash, StringEq> resources;
  std::list<Resource*> live;     // most recently seen first, at most resource_metrics_cache_size
  std::list<Resource*> evicted;  // out of the cache, kept until the next flush
  size_t series_count = 0;
  uint64_t next_sequence = 0;
};

namespace {

class Core {
 public:
  Core(const Config& config, const AggregatorCounters& counters,
       const std::vector<std::string>& default_values)
      : config_(config), counters_(counters), default_values_(default_values) {
    for (const Dimension& d : config_.dimensions) {
      dimension_lengths_ |= d.name.size() < 64 ? uint64_t{1} << d.name.size() : 0;
    }
  }

  // --- Reading a request (no lock) ---

  // Sets found[d] for the dimensions `key` names that have no value yet (the first one counts, as
  // the Collector's attribute maps answer).
  void matchDimension(std::string_view key, std::string_view value,
                      std::vector<std::optional<std::string_view>>& found) const {
    // Most attributes are not dimensions: their key length alone tells.
    if (key.size() < 64 && (dimension_lengths_ >> key.size() & 1) == 0) return;
    const std::vector<Dimension>& dims = config_.dimensions;
    for (size_t d = 0; d < dims.size(); ++d) {
      if (!found[d] && dims[d].name == key) found[d] = value;
    }
  }

  bool readSpan(std::string_view bytes, SpanView& out,
                std::vector<std::optional<std::string_view>>& found) const {
    const bool dimensions = !config_.dimensions.empty();
    wire::Reader reader(bytes);
    wire::Field f;
    while (!reader.done()) {
      if (reader.next(f) != wire::Stop::kNone) return false;
      switch (f.number) {
        case fields::kSpanTraceId:
          if (f.type == wire::kLengthDelimited) out.trace_id = f.bytes;
          break;
        case fields::kSpanSpanId:
          if (f.type == wire::kLengthDelimited) out.span_id = f.bytes;
          break;
        case fields::kSpanName:
          if (f.type == wire::kLengthDelimited) out.name = f.bytes;
          break;
        case fields::kSpanKind:
          if (f.type == wire::kVarint) out.kind = f.value;
          break;
        case fields::kSpanStartTime:
          if (f.type == wire::kFixed64) out.start = f.value;
          break;
        case fields::kSpanEndTime:
          if (f.type == wire::kFixed64) out.end = f.value;
          break;
        case fields::kSpanAttributes:
          if (dimensions && f.type == wire::kLengthDelimited) {
            std::string_view key, value;
            if (!readKeyValue(f.bytes, key, value)) return false;
            matchDimension(key, value, found);
          }
          break;
        case fields::kSpanStatus:
          if (f.type == wire::kLengthDelimited) {
            out.status = wire::lastVarint(f.bytes, fields::kStatusCode);
          }
          break;
        default:
          break;
      }
    }
    return true;
  }

  // `resource_spans`: a ResourceSpans message (its Resource is what is read).
  // False when the resource would not parse (its attributes are copied into the metrics).
  bool readResource(std::string_view resource_spans, Scratch::LocalResource& out,
                    Scratch& scratch) const {
    out.has_service = false;
    out.identity.clear();
    out.attributes.clear();
    out.service_name = {};
    out.dims.assign(config_.dimensions.size(), std::nullopt);
    std::string_view resource = wire::lastLengthDelimited(resource_spans, kEnvelopeResource);
    auto& parts = scratch.identity_parts;
    parts.clear();
    wire::Reader reader(resource);
    wire::Field f;
    while (!reader.done()) {
      const char* at = reader.position();
      if (reader.next(f) != wire::Stop::kNone) return false;
      if (f.number != fields::kResourceAttributes || f.type != wire::kLengthDelimited) continue;
      out.attributes.append(at, reader.position() - at);
      std::string_view key, value;
      if (!readKeyValue(f.bytes, key, value) || !validKeyValue(f.bytes, 0)) return false;
      if (key == kServiceName && !out.has_service) {
        out.has_service = true;
        // A service.name that is not a string names the empty service, as in the Collector.
        out.service_name = wire::lastLengthDelimited(value, kAnyValueString);
      }
      matchDimension(key, value, out.dims);
      const auto& keys = config_.resource_metrics_key_attributes;
      if (keys.empty() || std::find(keys.begin(), keys.end(), key) != keys.end()) {
        parts.emplace_back(key, value);
      }
    }
    // Attribute order is not part of a resource's identity.
    std::sort(parts.begin(), parts.end());
    for (const auto& [key, value] : parts) {
      wire::appendVarint(key.size(), out.identity);
      out.identity.append(key);
      wire::appendVarint(value.size(), out.identity);
      out.identity.append(value);
    }
    return true;
  }

  // Reads every span of `request` into scratch. A request is ResourceSpans (1) of a resource
  // (1) and ScopeSpans (2) of spans (2); scopes play no part in the metrics.
  absl::Status read(std::string_view request, Scratch& scratch, uint64_t& without_service) const {
    const auto malformed = [] { return absl::InvalidArgumentError("malformed traces request"); };
    constexpr uint32_t kResourceSpans = 1, kScopeSpans = 2, kSpans = 2;
    wire::Reader resources(request);
    wire::Field r;
    while (!resources.done()) {
      if (resources.next(r) != wire::Stop::kNone) return malformed();
      if (r.number != kResourceSpans || r.type != wire::kLengthDelimited) continue;
      // The resource first, wherever it is among the fields (protobuf keeps the last one).
      const uint32_t local_resource = static_cast<uint32_t>(scratch.used_resources++);
      if (scratch.resources.size() < scratch.used_resources) scratch.resources.emplace_back();
      Scratch::LocalResource& resource = scratch.resources[local_resource];
      if (!readResource(r.bytes, resource, scratch)) return malformed();
      wire::Reader scopes(r.bytes);
      wire::Field sf;
      while (!scopes.done()) {
        if (scopes.next(sf) != wire::Stop::kNone) return malformed();
        if (sf.number != kScopeSpans || sf.type != wire::kLengthDelimited) continue;
        wire::Reader spans(sf.bytes);
        wire::Field f;
        while (!spans.done()) {
          if (spans.next(f) != wire::Stop::kNone) return malformed();
          if (f.number != kSpans || f.type != wire::kLengthDelimited) continue;
          if (!resource.has_service) {
            ++without_service;
            continue;
          }
          if (!addSpan(f.bytes, local_resource, resource, scratch)) return malformed();
        }
      }
    }
    groupBySeries(scratch);
    return absl::OkStatus();
  }

  // Counts one span in its local series; false when its bytes are malformed.
  bool addSpan(std::string_view bytes, uint32_t local_resource,
               const Scratch::LocalResource& resource, Scratch& scratch) const {
    const size_t ndims = config_.dimensions.size();
    SpanView span;
    scratch.span_dims.assign(ndims, std::nullopt);
    if (!readSpan(bytes, span, scratch.span_dims)) return false;
    // The dimension values: the span's attribute, else the resource's, else the default.
    for (size_t d = 0; d < ndims; ++d) {
      if (scratch.span_dims[d]) continue;
      if (resource.dims[d]) {
        scratch.span_dims[d] = resource.dims[d];
      } else if (config_.dimensions[d].default_value) {
        scratch.span_dims[d] = default_values_[d];
      }
    }
    buildKey(local_resource, span, scratch);
    const size_t bucket_slots = histogramSlots();
    uint32_t series_index;
    auto found = scratch.index.find(std::string_view(scratch.key));
    if (found != scratch.index.end()) {
      series_index = found->second;
    } else {
      // What becomes a metric attribute must parse (checked once per series and request).
      if (!wire::validUtf8(span.name)) return false;
      for (const std::optional<std::string_view>& v : scratch.span_dims) {
        if (v && !validAnyValue(*v, 0)) return false;
      }
      series_index = static_cast<uint32_t>(scratch.series.size());
      Scratch::LocalSeries s;
      s.resource = local_resource;
      s.key = scratch.arena.copy(scratch.key);
      s.name = span.name;
      s.kind = span.kind;
      s.status = span.status;
      s.dims_begin = static_cast<uint32_t>(scratch.dim_values.size());
      scratch.dim_values.insert(scratch.dim_values.end(), scratch.span_dims.begin(),
                                scratch.span_dims.end());
      scratch.series.push_back(s);
      scratch.index.emplace(s.key, series_index);
      scratch.buckets.resize(scratch.buckets.size() + bucket_slots, 0);
    }
    Scratch::LocalSeries& s = scratch.series[series_index];
    // Spans that end before they start last 0, as in the Collector.
    const uint64_t duration_ns = span.end > span.start ? span.end - span.start : 0;
    const double value = static_cast<double>(duration_ns) / config_.nanosPerUnit();
    ++s.count;
    s.sum += value;
    if (!config_.histogram_disabled) {
      if (config_.histogram_kind == HistogramKind::kExplicit) {
        // Upper bounds are inclusive: the first bound >= the duration.
        const auto& bounds = config_.explicit_bounds_ns;
        const size_t bucket =
            std::lower_bound(bounds.begin(), bounds.end(), duration_ns) - bounds.begin();
        ++scratch.buckets[series_index * bucket_slots + bucket];
      } else {
        scratch.values.push_back({series_index, value});
      }
    }
    if (config_.exemplars_enabled && s.exemplars < config_.exemplars_max_per_data_point &&
        validTraceId(span.trace_id) && span.span_id.size() == 8) {
      Scratch::LocalExemplar e;
      e.series = series_index;
      std::memcpy(e.exemplar.trace_id.data(), span.trace_id.data(), 16);
      std::memcpy(e.exemplar.span_id.data(), span.span_id.data(), 8);
      e.exemplar.value = value;
      e.exemplar.time_ns = span.end;
      scratch.exemplars.push_back(e);
      ++s.exemplars;
    }
    return true;
  }

  // --- Merging (lock held) ---

  void merge(AggregatorState& state, Scratch& scratch, absl::Time now) {
    const uint64_t now_ns = static_cast<uint64_t>(absl::ToUnixNanos(now));
    const size_t bucket_slots = histogramSlots();
    uint32_t current = UINT32_MAX;
    Resource* resource = nullptr;
    for (size_t i = 0; i < scratch.series.size(); ++i) {
      const Scratch::LocalSeries& local = scratch.series[i];
      // Series of one resource are contiguous (spans come grouped by resource); the resource is
      // looked up again at each change, never kept across an eviction.
      if (local.resource != current) {
        current = local.resource;
        resource = resolveResource(state, scratch.resources[local.resource], now);
      }
      Series& series = resolveSeries(state, *resource, scratch.resources[local.resource], local,
                                     scratch, now_ns);
      series.count += local.count;
      series.sum += local.sum;
      series.last_seen_ns = now_ns;
      if (!series.buckets.empty()) {
        const uint64_t* counts = &scratch.buckets[i * bucket_slots];
        for (size_t b = 0; b < bucket_slots; ++b) series.buckets[b] += counts[b];
      }
      if (series.exponential) {
        for (uint32_t v = scratch.values_begin[i]; v < scratch.values_begin[i + 1]; ++v) {
          series.exponential->record(scratch.sorted_values[v].value);
        }
      }
      for (uint32_t e = scratch.exemplars_begin[i]; e < scratch.exemplars_begin[i + 1]; ++e) {
        if (series.exemplars.size() >= config_.exemplars_max_per_data_point) break;
        series.exemplars.push_back(scratch.sorted_exemplars[e].exemplar);
      }
    }
  }

  // --- Flushing (lock held for the snapshot only) ---

  Snapshot snapshot(AggregatorState& state, absl::Time now) {
    Snapshot out;
    out.time_ns = static_cast<uint64_t>(absl::ToUnixNanos(now));
    expire(state, now, out.time_ns);
    std::vector<Resource*> resources;
    resources.reserve(state.resources.size());
    for (auto& [key, r] : state.resources) resources.push_back(r.get());
    std::sort(resources.begin(), resources.end(),
              [](const Resource* a, const Resource* b) { return a->sequence < b->sequence; });
    std::vector<Series*> series;
    for (Resource* r : resources) {
      series.clear();
      for (auto& [key, s] : r->series) series.push_back(s.get());
      std::sort(series.begin(), series.end(),
                [](const Series* a, const Series* b) { return a->sequence < b->sequence; });
      if (r->overflow) series.push_back(r->overflow.get());
      ResourceSnapshot rs;
      rs.attributes = r->attributes;
      for (Series* s : series) {
        if (s->count == 0) continue;  // delta: nothing since the last flush
        PointSnapshot p;
        p.attributes = s->attributes;
        p.start_ns = s->start_ns;
        p.count = s->count;
        p.sum = s->sum;
        p.buckets_begin = out.buckets.size();
        out.buckets.insert(out.buckets.end(), s->buckets.begin(), s->buckets.end());
        p.exponential = s->exponential;
        // Exemplars belong to one flush interval.
        p.exemplars = std::move(s->exemplars);
        s->exemplars.clear();
        rs.points.push_back(std::move(p));
      }
      if (!rs.points.empty()) out.resources.push_back(std::move(rs));
    }
    // Resources the cache evicted have had their last export.
    while (!state.evicted.empty()) {
      removeResource(state, state.evicted.back(), counters_.removed_by_resource_cache);
    }
    if (config_.delta) resetForDelta(state, out.time_ns);
    return out;
  }

  FlushedMetrics encode(const Snapshot& snapshot) const {
    FlushedMetrics out;
    const std::string calls_name = config_.callsMetricName();
    const std::string duration_name = config_.durationMetricName();
    const uint64_t temporality = config_.delta ? kTemporalityDelta : kTemporalityCumulative;
    const size_t bucket_slots = histogramSlots();
    std::string scope;
    wire::appendLengthDelimited(kScopeName, Aggregator::kScopeName, scope);
    std::string bounds;
    for (uint64_t ns : config_.explicit_bounds_ns) {
      const double v = static_cast<double>(ns) / config_.nanosPerUnit();
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      wire::appendFixed64(bits, bounds);
    }
    std::string point, data, metric, scope_metrics, resource_metrics, buckets;
    for (const ResourceSnapshot& rs : snapshot.resources) {
      scope_metrics.clear();
      wire::appendLengthDelimited(kScopeMetricsScope, scope, scope_metrics);

      // calls: a monotonic Sum of span counts.
      data.clear();
      for (const PointSnapshot& p : rs.points) {
        point.clear();
        appendAttributes(kNumberAttributes, *p.attributes, point);
        appendFixed64Field(kNumberStart, p.start_ns, point);
        appendFixed64Field(kNumberTime, snapshot.time_ns, point);
        appendExemplars(kNumberExemplars, p.exemplars, point);
        appendFixed64Field(kNumberAsInt, p.count, point);
        wire::appendLengthDelimited(kDataPoints, point, data);
        ++out.data_points;
      }
      appendVarintField(kAggregationTemporality, temporality, data);
      appendVarintField(kIsMonotonic, 1, data);
      metric.clear();
      wire::appendLengthDelimited(fields::kMetricName, calls_name, metric);
      wire::appendLengthDelimited(fields::kMetricSum, data, metric);
      wire::appendLengthDelimited(kScopeMetricsMetrics, metric, scope_metrics);

      // duration: a Histogram or an ExponentialHistogram in the configured unit.
      if (!config_.histogram_disabled) {
        const bool exponential = config_.histogram_kind == HistogramKind::kExponential;
        data.clear();
        for (const PointSnapshot& p : rs.points) {
          point.clear();
          if (exponential) {
            const ExponentialHistogram& h = *p.exponential;
            appendAttributes(kExpAttributes, *p.attributes, point);
            appendFixed64Field(kExpStart, p.start_ns, point);
            appendFixed64Field(kExpTime, snapshot.time_ns, point);
            appendFixed64Field(kExpCount, p.count, point);
            appendDoubleField(kExpSum, p.sum, point);
            appendSint32Field(kExpScale, h.scale(), point);
            appendFixed64Field(kExpZeroCount, h.zeroCount(), point);
            if (!h.counts().empty()) {
              std::string positive, counts;
              appendSint32Field(kBucketsOffset, h.offset(), positive);
              for (uint64_t c : h.counts()) wire::appendVarint(c, counts);
              wire::appendLengthDelimited(kBucketsCounts, counts, positive);
              wire::appendLengthDelimited(kExpPositive, positive, point);
            }
            appendExemplars(kExpExemplars, p.exemplars, point);
          } else {
            appendAttributes(kHistAttributes, *p.attributes, point);
            appendFixed64Field(kHistStart, p.start_ns, point);
            appendFixed64Field(kHistTime, snapshot.time_ns, point);
            appendFixed64Field(kHistCount, p.count, point);
            appendDoubleField(kHistSum, p.sum, point);
            buckets.clear();
            for (size_t b = 0; b < bucket_slots; ++b) {
              wire::appendFixed64(snapshot.buckets[p.buckets_begin + b], buckets);
            }
            wire::appendLengthDelimited(kHistBucketCounts, buckets, point);
            if (!bounds.empty()) wire::appendLengthDelimited(kHistBounds, bounds, point);
            appendExemplars(kHistExemplars, p.exemplars, point);
          }
          wire::appendLengthDelimited(kDataPoints, point, data);
          ++out.data_points;
        }
        appendVarintField(kAggregationTemporality, temporality, data);
        metric.clear();
        wire::appendLengthDelimited(fields::kMetricName, duration_name, metric);
        wire::appendLengthDelimited(fields::kMetricUnit, config_.unitName(), metric);
        wire::appendLengthDelimited(
            exponential ? fields::kMetricExponentialHistogram : fields::kMetricHistogram, data,
            metric);
        wire::appendLengthDelimited(kScopeMetricsMetrics, metric, scope_metrics);
      }

      resource_metrics.clear();
      wire::appendLengthDelimited(kResourceMetricsResource, *rs.attributes, resource_metrics);
      wire::appendLengthDelimited(kResourceMetricsScopeMetrics, scope_metrics, resource_metrics);
      wire::appendLengthDelimited(kRequestResourceMetrics, resource_metrics, out.request);
    }
    return out;
  }

 private:
  size_t histogramSlots() const {
    if (config_.histogram_disabled || config_.histogram_kind != HistogramKind::kExplicit) return 0;
    return config_.explicit_bounds_ns.size() + 1;
  }

  // The series key after the local resource index: each standard dimension not excluded, then
  // each extra dimension as present/absent and its AnyValue bytes (so a default "GET" and an
  // attribute "GET" are one series, as in the Collector).
  void buildKey(uint32_t local_resource, const SpanView& span, Scratch& scratch) const {
    std::string& key = scratch.key;
    key.assign(reinterpret_cast<const char*>(&local_resource), sizeof local_resource);
    if (!config_.exclude_span_name) {
      wire::appendVarint(span.name.size(), key);
      key.append(span.name);
    }
    if (!config_.exclude_span_kind) wire::appendVarint(span.kind, key);
    if (!config_.exclude_status_code) wire::appendVarint(span.status, key);
    for (const std::optional<std::string_view>& v : scratch.span_dims) {
      if (!v) {
        key.push_back(0);
        continue;
      }
      key.push_back(1);
      wire::appendVarint(v->size(), key);
      key.append(*v);
    }
  }

  // Exponential values and exemplars in series order, so that each series is merged in one go.
  static void groupBySeries(Scratch& scratch) {
    const size_t n = scratch.series.size();
    auto group = [n](const auto& items, auto& sorted, std::vector<uint32_t>& begin) {
      begin.assign(n + 1, 0);
      for (const auto& item : items) ++begin[item.series + 1];
      for (size_t i = 0; i < n; ++i) begin[i + 1] += begin[i];
      sorted.resize(items.size());
      std::vector<uint32_t> next(begin.begin(), begin.end() - 1);
      for (const auto& item : items) sorted[next[item.series]++] = item;
    };
    group(scratch.values, scratch.sorted_values, scratch.values_begin);
    group(scratch.exemplars, scratch.sorted_exemplars, scratch.exemplars_begin);
  }

  Resource* resolveResource(AggregatorState& state, const Scratch::LocalResource& local,
                            absl::Time now) {
    auto it = state.resources.find(std::string_view(local.identity));
    Resource* r;
    if (it != state.resources.end()) {
      r = it->second.get();
      if (r->evicted) {
        // Seen again before its last export: back into the cache, as the Collector's does.
        state.evicted.erase(r->lru);
        r->evicted = false;
        makeRoomForResource(state);
        state.live.push_front(r);
        r->lru = state.live.begin();
      } else {
        state.live.splice(state.live.begin(), state.live, r->lru);
      }
    } else {
      makeRoomForResource(state);
      auto owned = std::make_unique<Resource>();
      r = owned.get();
      r->key = local.identity;
      r->attributes = std::make_shared<const std::string>(local.attributes);
      r->sequence = state.next_sequence++;
      state.live.push_front(r);
      r->lru = state.live.begin();
      state.resources.emplace(r->key, std::move(owned));
    }
    r->last_seen = now;
    return r;
  }

  // Moves the least recently seen resource out of a full cache; its series stay until the next
  // flush has exported them.
  void makeRoomForResource(AggregatorState& state) {
    if (state.live.size() < config_.resource_metrics_cache_size || state.live.empty()) return;
    Resource* r = state.live.back();
    state.live.pop_back();
    state.evicted.push_front(r);
    r->lru = state.evicted.begin();
    r->evicted = true;
  }

  Series& resolveSeries(AggregatorState& state, Resource& resource,
                        const Scratch::LocalResource& local_resource,
                        const Scratch::LocalSeries& local, const Scratch& scratch,
                        uint64_t now_ns) {
    const std::string_view key = local.key.substr(sizeof(uint32_t));
    auto it = resource.series.find(key);
    if (it != resource.series.end()) return *it->second;
    const size_t limit = config_.aggregation_cardinality_limit;
    if (limit > 0 && resource.series.size() + 1 >= limit) {
      // The limit counts the overflow series too; new dimension sets share it from here on.
      count(counters_.overflow_spans, local.count);
      if (!resource.overflow) {
        std::string attributes;
        std::string value;
        appendVarintField(kAnyValueBool, 1, value);
        appendKeyValue(Aggregator::kOverflowAttribute, value, attributes);
        resource.overflow = newSeries(state, resource, "", std::move(attributes), now_ns);
      }
      return *resource.overflow;
    }
    std::string attributes;
    if (!config_.exclude_service_name) {
      appendKeyValue(kServiceName, stringAnyValue(local_resource.service_name), attributes);
    }
    if (!config_.exclude_span_name) {
      appendKeyValue("span.name", stringAnyValue(local.name), attributes);
    }
    if (!config_.exclude_span_kind) {
      appendKeyValue("span.kind", stringAnyValue(spanKindName(local.kind)), attributes);
    }
    if (!config_.exclude_status_code) {
      appendKeyValue("status.code", stringAnyValue(statusCodeName(local.status)), attributes);
    }
    for (size_t d = 0; d < config_.dimensions.size(); ++d) {
      const std::optional<std::string_view>& v = scratch.dim_values[local.dims_begin + d];
      if (v) appendKeyValue(config_.dimensions[d].name, *v, attributes);
    }
    auto owned = newSeries(state, resource, std::string(key), std::move(attributes), now_ns);
    Series& s = *owned;
    resource.series.emplace(s.key, std::move(owned));
    return s;
  }

  std::unique_ptr<Series> newSeries(AggregatorState& state, Resource& resource, std::string key,
                                    std::string attributes, uint64_t now_ns) {
    auto s = std::make_unique<Series>();
    s->resource = &resource;
    s->key = std::move(key);
    s->sequence = state.next_sequence++;
    s->attributes = std::make_shared<const std::string>(std::move(attributes));
    s->start_ns = now_ns;
    s->last_seen_ns = now_ns;
    if (!config_.histogram_disabled) {
      if (config_.histogram_kind == HistogramKind::kExplicit) {
        s->buckets.assign(histogramSlots(), 0);
      } else {
        s->exponential.emplace(config_.exponential_max_size);
      }
    }
    ++state.series_count;
    return s;
  }

  // metrics_expiration forgets resources, series_expiration single series, not seen for that
  // long; a resource left without series goes too.
  void expire(AggregatorState& state, absl::Time now, uint64_t now_ns) {
    const bool resources = config_.metrics_expiration > absl::ZeroDuration();
    const bool series = config_.series_expiration > absl::ZeroDuration();
    if (!resources && !series) return;
    const uint64_t series_ns =
        static_cast<uint64_t>(absl::ToInt64Nanoseconds(config_.series_expiration));
    std::vector<Resource*> gone;
    std::vector<Series*> stale;
    for (auto& [key, r] : state.resources) {
      if (resources && now - r->last_seen >= config_.metrics_expiration) {
        gone.push_back(r.get());
        continue;
      }
      if (!series) continue;
      auto expired = [&](const Series& s) {
        return now_ns >= s.last_seen_ns && now_ns - s.last_seen_ns >= series_ns;
      };
      for (auto& [k, s] : r->series) {
        if (expired(*s)) stale.push_back(s.get());
      }
      if (r->overflow && expired(*r->overflow)) stale.push_back(r->overflow.get());
    }
    for (Resource* r : gone) removeResource(state, r, counters_.removed_by_metrics_expiration);
    for (Series* s : stale) {
      Resource* r = s->resource;
      removeSeries(state, s);
      count(counters_.removed_by_series_expiration);
      if (r->series.empty() && !r->overflow) removeResource(state, r, nullptr);
    }
  }

  static void removeSeries(AggregatorState& state, Series* s) {
    Resource& r = *s->resource;
    --state.series_count;
    if (r.overflow.get() == s) {
      r.overflow.reset();
    } else {
      r.series.erase(s->key);
    }
  }

  static void removeResource(AggregatorState& state, Resource* r, common::Counter* counter) {
    const uint64_t series = r->series.size() + (r->overflow ? 1 : 0);
    state.series_count -= series;
    count(counter, series);
    (r->evicted ? state.evicted : state.live).erase(r->lru);
    state.resources.erase(r->key);
  }

  // Delta: series with nothing since the last flush go; the others start again from zero, at
  // the time of this flush; resources left without series go too.
  static void resetForDelta(AggregatorState& state, uint64_t now_ns) {
    std::vector<Series*> idle;
    std::vector<Resource*> empty;
    for (auto& [key, r] : state.resources) {
      auto reset = [&](Series* s) {
        if (s->count == 0) {
          idle.push_back(s);
          return;
        }
        s->count = 0;
        s->sum = 0;
        std::fill(s->buckets.begin(), s->buckets.end(), 0);
        if (s->exponential) s->exponential->clear();
        s->start_ns = now_ns;
      };
      for (auto& [k, s] : r->series) reset(s.get());
      if (r->overflow) reset(r->overflow.get());
    }
    for (Series* s : idle) removeSeries(state, s);
    for (auto& [key, r] : state.resources) {
      if (r->series.empty() && !r->overflow) empty.push_back(r.get());
    }
    for (Resource* r : empty) removeResource(state, r, nullptr);
  }

  const Config& config_;
  const AggregatorCounters& counters_;
  // The AnyValue bytes of each dimension's default.
  const std::vector<std::string>& default_values_;
  uint64_t dimension_lengths_ = 0;  // bit n: a dimension name has n bytes (names under 64)
};

Scratch& threadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace

Aggregator::Aggregator(Config config, AggregatorCounters counters)
    : config_(std::move(config)), counters_(counters), state_(std::make_unique<AggregatorState>()) {
  for (const Dimension& d : config_.dimensions) {
    default_values_.push_back(d.default_value ? stringAnyValue(*d.default_value) : "");
  }
}

Aggregator::~Aggregator() = default;

absl::Status Aggregator::add(std::string_view traces_request, absl::Time now) {
  Core core(config_, counters_, default_values_);
  Scratch& scratch = threadScratch();
  scratch.reset();
  uint64_t without_service = 0;
  absl::Status read = core.read(traces_request, scratch, without_service);
  if (!read.ok()) return read;
  count(counters_.spans_without_service, without_service);
  uint64_t spans = 0;
  for (const auto& s : scratch.series) spans += s.count;
  count(counters_.spans, spans);
  if (scratch.series.empty()) return absl::OkStatus();
  std::lock_guard lock(state_->mu);
  core.merge(*state_, scratch, now);
  return absl::OkStatus();
}

FlushedMetrics Aggregator::flush(absl::Time now) {
  Core core(config_, counters_, default_values_);
  Snapshot snapshot;
  {
    std::lock_guard lock(state_->mu);
    snapshot = core.snapshot(*state_, now);
  }
  return core.encode(snapshot);
}

size_t Aggregator::seriesCount() const {
  std::lock_guard lock(state_->mu);
  return state_->series_count;
}

size_t Aggregator::resourceCount() const {
  std::lock_guard lock(state_->mu);
  return state_->resources.size();
}

}  // namespace otlpd::connectors::spanmetrics
