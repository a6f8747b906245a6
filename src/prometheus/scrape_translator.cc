#include "prometheus/scrape_translator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "common/strings.h"
#include "otlp/wire_writer.h"

namespace otlpd::prometheus {
namespace {

namespace wire = otlp::wire;

// Field numbers of opentelemetry/proto/metrics/v1/metrics.proto and common.proto.
constexpr uint32_t kRequestResourceMetrics = 1;
constexpr uint32_t kResourceMetricsResource = 1;
constexpr uint32_t kResourceMetricsScopeMetrics = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeMetricsScope = 1;
constexpr uint32_t kScopeMetricsMetrics = 2;
constexpr uint32_t kScopeName = 1;
constexpr uint32_t kScopeVersion = 2;
constexpr uint32_t kScopeAttributes = 3;
constexpr uint32_t kMetricName = 1;
constexpr uint32_t kMetricDescription = 2;
constexpr uint32_t kMetricUnit = 3;
constexpr uint32_t kMetricGauge = 5;
constexpr uint32_t kMetricSum = 7;
constexpr uint32_t kMetricHistogram = 9;
constexpr uint32_t kMetricSummary = 11;
constexpr uint32_t kMetricMetadata = 12;
constexpr uint32_t kDataPoints = 1;
constexpr uint32_t kTemporality = 2;
constexpr uint32_t kMonotonic = 3;
constexpr uint64_t kCumulative = 2;
constexpr uint32_t kNumberAttributes = 7;
constexpr uint32_t kNumberStart = 2;
constexpr uint32_t kNumberTime = 3;
constexpr uint32_t kNumberDouble = 4;
constexpr uint32_t kNumberExemplars = 5;
constexpr uint32_t kNumberFlags = 8;
constexpr uint32_t kHistogramAttributes = 9;
constexpr uint32_t kHistogramStart = 2;
constexpr uint32_t kHistogramTime = 3;
constexpr uint32_t kHistogramCount = 4;
constexpr uint32_t kHistogramSum = 5;
constexpr uint32_t kHistogramBucketCounts = 6;
constexpr uint32_t kHistogramBounds = 7;
constexpr uint32_t kHistogramExemplars = 8;
constexpr uint32_t kHistogramFlags = 10;
constexpr uint32_t kSummaryAttributes = 7;
constexpr uint32_t kSummaryStart = 2;
constexpr uint32_t kSummaryTime = 3;
constexpr uint32_t kSummaryCount = 4;
constexpr uint32_t kSummarySum = 5;
constexpr uint32_t kSummaryQuantiles = 6;
constexpr uint32_t kSummaryFlags = 8;
constexpr uint32_t kQuantileQuantile = 1;
constexpr uint32_t kQuantileValue = 2;
constexpr uint32_t kExemplarAttributes = 7;
constexpr uint32_t kExemplarTime = 2;
constexpr uint32_t kExemplarDouble = 3;
constexpr uint32_t kExemplarSpanId = 4;
constexpr uint32_t kExemplarTraceId = 5;
constexpr uint32_t kKeyValueKey = 1;
constexpr uint32_t kKeyValueValue = 2;
constexpr uint32_t kAnyValueString = 1;
constexpr uint32_t kAnyValueInt = 3;
constexpr uint32_t kNoRecordedValue = 1;  // DataPointFlags.FLAG_NO_RECORDED_VALUE

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return absl::Hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

enum class Kind : uint8_t { kGauge, kMonotonicSum, kNonMonotonicSum, kHistogram, kSummary };

void putFixed64(uint32_t field, uint64_t v, std::string& out) {
  wire::appendTag(field, wire::kFixed64, out);
  wire::appendFixed64(v, out);
}
void putDouble(uint32_t field, double d, std::string& out) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  putFixed64(field, bits, out);
}
void putVarint(uint32_t field, uint64_t v, std::string& out) {
  wire::appendTag(field, wire::kVarint, out);
  wire::appendVarint(v, out);
}
void putMessage(uint32_t field, std::string_view bytes, std::string& out) {
  wire::appendLengthDelimited(field, bytes, out);
}

// KeyValue{key, AnyValue{string_value}} as field `field`, sized up front (no scratch buffer).
void putStringAttribute(uint32_t field, std::string_view key, std::string_view value,
                        std::string& out) {
  const size_t any = wire::lengthDelimitedSize(kAnyValueString, value.size());
  const size_t kv =
      wire::lengthDelimitedSize(kKeyValueKey, key.size()) + wire::lengthDelimitedSize(2, any);
  wire::appendTag(field, wire::kLengthDelimited, out);
  wire::appendVarint(kv, out);
  wire::appendLengthDelimited(kKeyValueKey, key, out);
  wire::appendTag(kKeyValueValue, wire::kLengthDelimited, out);
  wire::appendVarint(any, out);
  wire::appendLengthDelimited(kAnyValueString, value, out);
}

void putIntAttribute(uint32_t field, std::string_view key, int64_t value, std::string& out) {
  const size_t any = 1 + wire::varintSize(static_cast<uint64_t>(value));
  const size_t kv =
      wire::lengthDelimitedSize(kKeyValueKey, key.size()) + wire::lengthDelimitedSize(2, any);
  wire::appendTag(field, wire::kLengthDelimited, out);
  wire::appendVarint(kv, out);
  wire::appendLengthDelimited(kKeyValueKey, key, out);
  wire::appendTag(kKeyValueValue, wire::kLengthDelimited, out);
  wire::appendVarint(any, out);
  putVarint(kAnyValueInt, static_cast<uint64_t>(value), out);
}

// Series keys: the kind, the OTLP metric name and the labels (sorted, without __name__ and
// without le / quantile), each length-prefixed, so a key decodes back into what it names (stale
// markers are written from keys alone).
void appendKeyPart(std::string_view s, std::string& key) {
  wire::appendVarint(s.size(), key);
  key.append(s);
}

bool readKeyPart(std::string_view& key, std::string_view& part) {
  uint64_t n = 0;
  int shift = 0;
  size_t i = 0;
  for (;; ++i) {
    if (i >= key.size() || shift > 28) return false;
    const auto b = static_cast<uint8_t>(key[i]);
    n |= static_cast<uint64_t>(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  ++i;
  if (key.size() - i < n) return false;
  part = key.substr(i, n);
  key.remove_prefix(i + n);
  return true;
}

struct DecodedKey {
  Kind kind = Kind::kGauge;
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> labels;
};

void decodeKey(std::string_view key, DecodedKey& out) {
  out.labels.clear();
  out.kind = static_cast<Kind>(key[0]);
  key.remove_prefix(1);
  readKeyPart(key, out.name);
  std::string_view n, v;
  while (!key.empty() && readKeyPart(key, n) && readKeyPart(key, v)) out.labels.emplace_back(n, v);
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex of exactly `bytes` bytes, not all zero (an all-zero id is invalid in OTLP).
bool decodeHexId(std::string_view hex, size_t bytes, std::string& out) {
  if (hex.size() != bytes * 2) return false;
  out.clear();
  bool nonzero = false;
  for (size_t i = 0; i < bytes; ++i) {
    const int hi = hexDigit(hex[2 * i]), lo = hexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    const char b = static_cast<char>((hi << 4) | lo);
    nonzero |= b != 0;
    out.push_back(b);
  }
  return nonzero;
}

uint64_t millisToNanos(int64_t ms) {
  return ms <= 0 ? 0 : static_cast<uint64_t>(ms) * 1000000u;
}
// Seconds as OpenMetrics writes them (a double), to the microsecond: at today's epoch a double
// holds ~0.2 us, so finer digits are noise.
uint64_t secondsToNanos(double s) {
  if (!(s > 0) || !std::isfinite(s) || s > 9.2e9) return 0;
  const double whole = std::floor(s);
  return static_cast<uint64_t>(whole) * 1000000000u +
         static_cast<uint64_t>(std::llround((s - whole) * 1e6)) * 1000u;
}

bool isResourceOrScopeLabel(std::string_view name) {
  return name == "job" || name == "instance" || name == "otel_scope_name" ||
         name == "otel_scope_version";
}

struct Bucket {
  double bound;
  double cumulative;
  int32_t exemplar_sample;
};

// One series of this scrape while its samples come in (a histogram's buckets, _count, _sum and
// _created arrive as separate samples).
struct Accumulator {
  const std::string* key = nullptr;
  void* state = nullptr;
  uint32_t family = 0;
  bool has_value = false, has_count = false, has_sum = false, has_created = false;
  bool buckets_sorted = true;
  double value = 0, count = 0, sum = 0, created_seconds = 0;
  int64_t time_ms = 0;
  int32_t exemplar_sample = -1;
  std::vector<Bucket> buckets;
  std::vector<std::pair<double, double>> quantiles;

  void reset() {
    has_value = has_count = has_sum = has_created = false;
    buckets_sorted = true;
    exemplar_sample = -1;
    buckets.clear();
    quantiles.clear();
  }
};

struct SeriesState {
  uint64_t epoch = 0;          // the last scrape that had it
  uint64_t created_epoch = 0;  // the scrape that first had it
  int64_t start_ns = 0;        // of its cumulative stream
  int64_t last_time_ns = 0;
  double last = 0;                  // counter value, or histogram / summary count
  bool reported = false;            // a point of it went out, so it can go stale
  bool explicit_timestamp = false;  // Prometheus does not mark these stale
  uint32_t accumulator = 0;
};

constexpr std::string_view kReportNames[] = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

}  // namespace

// Size of KeyValue{key, AnyValue{string_value}} as a field of `field`.
size_t stringAttributeSize(uint32_t field, std::string_view key, std::string_view value) {
  const size_t any = wire::lengthDelimitedSize(kAnyValueString, value.size());
  const size_t kv =
      wire::lengthDelimitedSize(kKeyValueKey, key.size()) + wire::lengthDelimitedSize(2, any);
  return wire::lengthDelimitedSize(field, kv);
}

// Groups points by resource, scope and metric as they are produced, then writes the request in
// one pass with every length known beforehand (no nested buffers: only the points' bytes are
// kept until then, in one buffer).
class Encoder {
 public:
  struct Resource {
    std::string job, instance;
    std::vector<std::pair<std::string, std::string>> info;  // from target_info
  };
  struct Scope {
    uint32_t resource;
    std::string name, version;
    std::vector<std::pair<std::string, std::string>> attributes;  // from otel_scope_info
  };
  struct Metric {
    uint32_t resource = 0, scope = 0;
    Kind kind = Kind::kGauge;
    std::string name, description, unit;
    std::string_view type_name;
    uint32_t first_point = UINT32_MAX, last_point = UINT32_MAX;  // into points_, linked
    uint64_t point_count = 0;
    size_t points_bytes = 0;  // the data_points fields, tags and lengths included
    size_t encoded_size = 0;  // the Metric message, computed by write()
  };

  void reset(const ScrapeTarget& target, const TranslateOptions& options) {
    target_ = &target;
    options_ = &options;
    resources_.clear();
    scopes_.clear();
    metrics_used_ = 0;
    metric_index_.clear();
    last_metric_ = UINT32_MAX;
    points_.clear();
    bytes_.clear();
  }

  uint64_t points() const { return points_.size(); }

  uint32_t resourceFor(std::string_view job, std::string_view instance) {
    for (uint32_t i = 0; i < resources_.size(); ++i) {
      if (resources_[i].job == job && resources_[i].instance == instance) return i;
    }
    resources_.push_back(Resource{std::string(job), std::string(instance), {}});
    return static_cast<uint32_t>(resources_.size() - 1);
  }
  Resource& resource(uint32_t i) { return resources_[i]; }

  uint32_t scopeFor(uint32_t resource, std::string_view name, std::string_view version) {
    for (uint32_t i = 0; i < scopes_.size(); ++i) {
      const Scope& s = scopes_[i];
      if (s.resource == resource && s.name == name && s.version == version) return i;
    }
    scopes_.push_back(Scope{resource, std::string(name), std::string(version), {}});
    return static_cast<uint32_t>(scopes_.size() - 1);
  }

  // The resource and scope a series' labels put it in.
  std::pair<uint32_t, uint32_t> placeOf(
      const std::vector<std::pair<std::string_view, std::string_view>>& labels) {
    std::optional<std::string_view> job, instance, scope_name, scope_version;
    for (const auto& [n, v] : labels) {
      if (n == "job") {
        job = v;
      } else if (n == "instance") {
        instance = v;
      } else if (n == "otel_scope_name") {
        scope_name = v;
      } else if (n == "otel_scope_version") {
        scope_version = v;
      }
    }
    const uint32_t r =
        resourceFor(job.value_or(target_->job), instance.value_or(target_->instance));
    const uint32_t s = scope_name ? scopeFor(r, *scope_name, scope_version.value_or(""))
                                  : scopeFor(r, options_->scope_name, options_->scope_version);
    return {r, s};
  }

  // The metric a point goes to, created on first use.
  Metric& metricFor(uint32_t resource, uint32_t scope, std::string_view name, Kind kind) {
    if (last_metric_ != UINT32_MAX) {
      Metric& m = metrics_[last_metric_];
      if (m.resource == resource && m.scope == scope && m.kind == kind && m.name == name) return m;
    }
    lookup_key_.clear();
    strAppend(&lookup_key_, resource, "|", scope, "|", static_cast<int>(kind), "|", name);
    auto [it, inserted] = metric_index_.try_emplace(lookup_key_, metrics_used_);
    if (inserted) {
      if (metrics_used_ == metrics_.size()) metrics_.emplace_back();
      Metric& m = metrics_[metrics_used_++];
      m.resource = resource;
      m.scope = scope;
      m.kind = kind;
      m.name.assign(name);
      m.description.clear();
      m.unit.clear();
      m.type_name = {};
      m.first_point = m.last_point = UINT32_MAX;
      m.point_count = 0;
      m.points_bytes = 0;
    }
    last_metric_ = it->second;
    return metrics_[it->second];
  }

  void addPoint(Metric& m, std::string_view point) {
    const auto index = static_cast<uint32_t>(points_.size());
    points_.push_back(Point{bytes_.size(), point.size(), UINT32_MAX});
    bytes_.append(point);
    if (m.last_point == UINT32_MAX) {
      m.first_point = index;
    } else {
      points_[m.last_point].next = index;
    }
    m.last_point = index;
    ++m.point_count;
    m.points_bytes += wire::lengthDelimitedSize(kDataPoints, point.size());
  }

  void scopeAttributes(std::string_view name, std::string_view version,
                       std::vector<std::pair<std::string, std::string>> attributes) {
    for (Scope& s : scopes_) {
      if (s.name == name && s.version == version) s.attributes = attributes;
    }
  }

  void write(std::string& out) {
    out.clear();
    std::vector<size_t>& scope_sizes = scope_sizes_;
    scope_sizes.assign(scopes_.size(), 0);
    for (size_t i = 0; i < metrics_used_; ++i) {
      Metric& m = metrics_[i];
      if (m.point_count == 0) continue;
      m.encoded_size = metricSize(m);
      scope_sizes[m.scope] += wire::lengthDelimitedSize(kScopeMetricsMetrics, m.encoded_size);
    }
    for (uint32_t s = 0; s < scopes_.size(); ++s) {
      if (scope_sizes[s] != 0)
        scope_sizes[s] += wire::lengthDelimitedSize(kScopeMetricsScope, scopeSize(scopes_[s]));
    }
    for (uint32_t r = 0; r < resources_.size(); ++r) {
      size_t rm_size = 0;
      for (uint32_t s = 0; s < scopes_.size(); ++s) {
        if (scopes_[s].resource == r && scope_sizes[s] != 0) {
          rm_size += wire::lengthDelimitedSize(kResourceMetricsScopeMetrics, scope_sizes[s]);
        }
      }
      if (rm_size == 0) continue;
      scratch_.clear();
      writeResource(resources_[r], scratch_);
      rm_size += wire::lengthDelimitedSize(kResourceMetricsResource, scratch_.size());
      wire::appendTag(kRequestResourceMetrics, wire::kLengthDelimited, out);
      wire::appendVarint(rm_size, out);
      putMessage(kResourceMetricsResource, scratch_, out);
      for (uint32_t s = 0; s < scopes_.size(); ++s) {
        if (scopes_[s].resource != r || scope_sizes[s] == 0) continue;
        wire::appendTag(kResourceMetricsScopeMetrics, wire::kLengthDelimited, out);
        wire::appendVarint(scope_sizes[s], out);
        wire::appendTag(kScopeMetricsScope, wire::kLengthDelimited, out);
        wire::appendVarint(scopeSize(scopes_[s]), out);
        writeScope(scopes_[s], out);
        for (size_t i = 0; i < metrics_used_; ++i) {
          const Metric& m = metrics_[i];
          if (m.resource != r || m.scope != s || m.point_count == 0) continue;
          wire::appendTag(kScopeMetricsMetrics, wire::kLengthDelimited, out);
          wire::appendVarint(m.encoded_size, out);
          writeMetric(m, out);
        }
      }
    }
  }

 private:
  struct Point {
    size_t offset, size;
    uint32_t next;
  };

  static size_t scopeSize(const Scope& scope) {
    size_t n = 0;
    if (!scope.name.empty()) n += wire::lengthDelimitedSize(kScopeName, scope.name.size());
    if (!scope.version.empty()) n += wire::lengthDelimitedSize(kScopeVersion, scope.version.size());
    for (const auto& [k, v] : scope.attributes) n += stringAttributeSize(kScopeAttributes, k, v);
    return n;
  }

  static void writeScope(const Scope& scope, std::string& out) {
    if (!scope.name.empty()) wire::appendLengthDelimited(kScopeName, scope.name, out);
    if (!scope.version.empty()) wire::appendLengthDelimited(kScopeVersion, scope.version, out);
    for (const auto& [k, v] : scope.attributes) putStringAttribute(kScopeAttributes, k, v, out);
  }

  void writeResource(const Resource& r, std::string& out) {
    putStringAttribute(kResourceAttributes, "service.name", r.job, out);
    putStringAttribute(kResourceAttributes, "service.instance.id", r.instance, out);
    // host:port of the instance; [v6]:port keeps its brackets out of the address.
    std::string_view host = r.instance, port;
    if (const size_t colon = host.rfind(':');
        colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    putStringAttribute(kResourceAttributes, "server.address", host, out);
    if (!port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      putIntAttribute(kResourceAttributes, "server.port", std::stoll(std::string(port)), out);
    }
    putStringAttribute(kResourceAttributes, "url.scheme", target_->scheme, out);
    for (const auto& [k, v] : r.info) putStringAttribute(kResourceAttributes, k, v, out);
  }

  static uint32_t dataField(Kind kind) {
    switch (kind) {
      case Kind::kGauge:
        return kMetricGauge;
      case Kind::kMonotonicSum:
      case Kind::kNonMonotonicSum:
        return kMetricSum;
      case Kind::kHistogram:
        return kMetricHistogram;
      case Kind::kSummary:
        return kMetricSummary;
    }
    return kMetricGauge;
  }

  // The Gauge/Sum/Histogram/Summary message: the points, then temporality (and monotonicity).
  static size_t dataSize(const Metric& m) {
    switch (m.kind) {
      case Kind::kMonotonicSum:
      case Kind::kNonMonotonicSum:
        return m.points_bytes + 4;  // two one-byte varint fields
      case Kind::kHistogram:
        return m.points_bytes + 2;
      default:
        return m.points_bytes;
    }
  }

  static size_t metricSize(const Metric& m) {
    size_t n = wire::lengthDelimitedSize(kMetricName, m.name.size());
    if (!m.description.empty())
      n += wire::lengthDelimitedSize(kMetricDescription, m.description.size());
    if (!m.unit.empty()) n += wire::lengthDelimitedSize(kMetricUnit, m.unit.size());
    n += wire::lengthDelimitedSize(dataField(m.kind), dataSize(m));
    if (!m.type_name.empty())
      n += stringAttributeSize(kMetricMetadata, "prometheus.type", m.type_name);
    return n;
  }

  void writeMetric(const Metric& m, std::string& out) const {
    wire::appendLengthDelimited(kMetricName, m.name, out);
    if (!m.description.empty()) wire::appendLengthDelimited(kMetricDescription, m.description, out);
    if (!m.unit.empty()) wire::appendLengthDelimited(kMetricUnit, m.unit, out);
    wire::appendTag(dataField(m.kind), wire::kLengthDelimited, out);
    wire::appendVarint(dataSize(m), out);
    for (uint32_t p = m.first_point; p != UINT32_MAX; p = points_[p].next) {
      putMessage(kDataPoints, std::string_view(bytes_).substr(points_[p].offset, points_[p].size),
                 out);
    }
    if (m.kind == Kind::kMonotonicSum || m.kind == Kind::kNonMonotonicSum) {
      putVarint(kTemporality, kCumulative, out);
      putVarint(kMonotonic, m.kind == Kind::kMonotonicSum ? 1 : 0, out);
    } else if (m.kind == Kind::kHistogram) {
      putVarint(kTemporality, kCumulative, out);
    }
    if (!m.type_name.empty()) {
      putStringAttribute(kMetricMetadata, "prometheus.type", m.type_name, out);
    }
  }

  const ScrapeTarget* target_ = nullptr;
  const TranslateOptions* options_ = nullptr;
  std::vector<Resource> resources_;
  std::vector<Scope> scopes_;
  std::vector<Metric> metrics_;  // reused: the first metrics_used_ are this scrape's
  size_t metrics_used_ = 0;
  absl::flat_hash_map<std::string, uint32_t, StringHash, StringEq> metric_index_;
  uint32_t last_metric_ = UINT32_MAX;
  std::string lookup_key_;
  std::vector<Point> points_;
  std::string bytes_;  // every point's encoding, one after the other
  std::vector<size_t> scope_sizes_;
  std::string scratch_;
};

// What one translate() call works in: per thread, not per target, so a target holds only what
// must outlive a scrape (its series).
struct Scratch {
  std::vector<Accumulator> accumulators;  // reused: the first `used` are this call's
  size_t used = 0;
  RelabelLabels labels;
  std::string key;
  DecodedKey decoded;
  std::string point, exemplar, id;
  std::string bounds, counts;
  Encoder encoder;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

struct ScrapeTranslator::State {
  absl::node_hash_map<std::string, SeriesState, StringHash, StringEq> series;
  // The kind each metric name had at its last scrape, to count type changes.
  absl::flat_hash_map<std::string, Kind, StringHash, StringEq> last_kinds;
  uint64_t epoch = 0;
  bool reported = false;  // report series went out
};

ScrapeTranslator::ScrapeTranslator(ScrapeTarget target, TranslateOptions options)
    : target_(std::move(target)), options_(std::move(options)), state_(std::make_unique<State>()) {}

ScrapeTranslator::~ScrapeTranslator() = default;

size_t ScrapeTranslator::seriesCount() const {
  return state_->series.size();
}

namespace {

// What a sample is to its series.
enum class Role : uint8_t { kValue, kCreated, kBucket, kCount, kSum, kQuantile };

// Attributes of a point: the series' labels but those that made the resource and scope.
void putPointAttributes(uint32_t field,
                        const std::vector<std::pair<std::string_view, std::string_view>>& labels,
                        std::string& out) {
  for (const auto& [n, v] : labels) {
    if (!isResourceOrScopeLabel(n)) putStringAttribute(field, n, v, out);
  }
}

void putExemplar(uint32_t field, const ParsedExposition& parsed, const Exemplar& e,
                 uint64_t point_time_ns, std::string& scratch, std::string& id, std::string& out) {
  scratch.clear();
  const ExpositionLabel* labels = parsed.labelsOf(e);
  for (uint32_t i = 0; i < e.label_count; ++i) {
    const ExpositionLabel& l = labels[i];
    if (l.name == "trace_id" && decodeHexId(l.value, 16, id)) {
      wire::appendLengthDelimited(kExemplarTraceId, id, scratch);
    } else if (l.name == "span_id" && decodeHexId(l.value, 8, id)) {
      wire::appendLengthDelimited(kExemplarSpanId, id, scratch);
    } else {
      putStringAttribute(kExemplarAttributes, l.name, l.value, scratch);
    }
  }
  const uint64_t t = e.has_timestamp ? secondsToNanos(e.timestamp_seconds) : point_time_ns;
  putFixed64(kExemplarTime, t, scratch);
  putDouble(kExemplarDouble, e.value, scratch);
  putMessage(field, scratch, out);
}

}  // namespace

void ScrapeTranslator::translate(const ParsedExposition& parsed, Format format,
                                 int64_t scrape_time_ms, double duration_seconds, std::string& out,
                                 ScrapeStats& stats) {
  State& st = *state_;
  Scratch& sc = scratch();
  stats = ScrapeStats{};
  stats.samples_scraped = parsed.samples.size();
  ++st.epoch;
  sc.used = 0;
  sc.labels.clearStorage();
  Encoder& enc = sc.encoder;
  enc.reset(target_, options_);
  (void)format;
  const bool relabel_metrics = !options_.metric_relabel_configs.empty();

  // target_info and otel_scope_info, kept until the resources and scopes are known.
  struct InfoLabels {
    bool target;
    std::vector<std::pair<std::string, std::string>> labels;
  };
  std::vector<InfoLabels> infos;

  for (uint32_t si = 0; si < parsed.samples.size(); ++si) {
    const Sample& sample = parsed.samples[si];
    const Family& family = parsed.families[sample.family];

    // The sample's labels with the target's, as Prometheus merges them, then metric relabeling.
    RelabelLabels& lb = sc.labels;
    lb.clear();
    lb.add("__name__", sample.name);
    const ExpositionLabel* sl = parsed.labelsOf(sample);
    for (uint32_t i = 0; i < sample.label_count; ++i) {
      if (!sl[i].value.empty()) lb.add(sl[i].name, sl[i].value);
    }
    for (const auto& [name, value] : target_.labels) {
      const std::string_view scraped = lb.get(name);
      if (scraped.empty()) {
        lb.add(name, value);
      } else if (!options_.honor_labels) {
        // exported_<name>, prefixed again while that name is taken too.
        std::string exported = strCat("exported_", name);
        while (lb.has(exported)) exported = strCat("exported_", exported);
        lb.setOwned(std::move(exported), std::string(scraped));
        lb.set(name, value);
      }
    }
    if (relabel_metrics && !relabel(options_.metric_relabel_configs, lb)) continue;
    const std::string_view name = lb.get("__name__");
    if (name.empty()) continue;
    ++stats.samples_post_relabeling;
    if (options_.sample_limit != 0 && stats.samples_post_relabeling > options_.sample_limit) {
      const uint64_t scraped = stats.samples_scraped;
      failed(scrape_time_ms, duration_seconds,
             strCat("sample_limit exceeded: more than ", options_.sample_limit,
                    " samples after metric relabeling"),
             out, stats);
      stats.samples_scraped = scraped;
      return;
    }
    // Prometheus would keep these; OTLP cannot say them (a contradicting TYPE) or the
    // specification drops them (gauge histograms).
    if (family.conflicting) {
      ++stats.type_conflicts;
      continue;
    }
    if (family.type == MetricType::kGaugeHistogram) {
      ++stats.unsupported;
      continue;
    }

    // The series and the part of it this sample is. A relabeled name that lost the family's
    // suffix is a series of its own, untyped.
    MetricType type = family.type;
    std::string_view suffix = std::string_view(sample.name).substr(family.name.size());
    std::string_view base = name;
    if (!suffix.empty()) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        base = name.substr(0, name.size() - suffix.size());
      } else {
        type = MetricType::kUnknown;
        suffix = {};
      }
    }
    Kind kind = Kind::kGauge;
    Role role = Role::kValue;
    std::string_view name_suffix;  // appended to `base` for the metric name
    std::string_view dropped_label;
    switch (type) {
      case MetricType::kCounter:
        kind = Kind::kMonotonicSum;
        if (suffix == "_created") {
          // Named like the value sample it starts: foo_total (OpenMetrics) or the family itself.
          role = Role::kCreated;
          name_suffix = base.ends_with("_total") ? "" : "_total";
        } else {
          name_suffix = suffix;
        }
        break;
      case MetricType::kHistogram:
        kind = Kind::kHistogram;
        role = suffix == "_bucket"  ? Role::kBucket
               : suffix == "_count" ? Role::kCount
               : suffix == "_sum"   ? Role::kSum
                                    : Role::kCreated;
        if (role == Role::kBucket) dropped_label = "le";
        break;
      case MetricType::kSummary:
        kind = Kind::kSummary;
        role = suffix.empty()       ? Role::kQuantile
               : suffix == "_count" ? Role::kCount
               : suffix == "_sum"   ? Role::kSum
                                    : Role::kCreated;
        if (role == Role::kQuantile) dropped_label = "quantile";
        break;
      case MetricType::kInfo:
      case MetricType::kStateSet:
        kind = Kind::kNonMonotonicSum;
        name_suffix = suffix;
        break;
      default:
        name_suffix = suffix;
        break;
    }

    double boundary = 0;
    if (!dropped_label.empty()) {
      const std::string_view text = lb.get(dropped_label);
      if (text.empty() || !parseFloat(text, boundary) || std::isnan(boundary) ||
          (role == Role::kQuantile && (boundary < 0 || boundary > 1))) {
        ++stats.invalid;
        continue;
      }
    }

    const auto& labels = lb.sorted();
    sc.key.clear();
    sc.key.push_back(static_cast<char>(kind));
    wire::appendVarint(base.size() + name_suffix.size(), sc.key);
    sc.key.append(base);
    sc.key.append(name_suffix);
    for (const auto& [n, v] : labels) {
      if (n == "__name__" || n == dropped_label) continue;
      appendKeyPart(n, sc.key);
      appendKeyPart(v, sc.key);
    }

    if (kind != Kind::kHistogram && kind != Kind::kSummary &&
        (name == "target_info" || name == "otel_scope_info")) {
      InfoLabels& info = infos.emplace_back();
      info.target = name == "target_info";
      for (const auto& [n, v] : labels) {
        if (n == "__name__") continue;
        info.labels.emplace_back(n, v);
      }
      continue;
    }

    auto it = st.series.find(sc.key);
    if (it == st.series.end()) {
      it = st.series.emplace(sc.key, SeriesState{}).first;
      it->second.created_epoch = st.epoch;
    }
    SeriesState& series = it->second;
    if (series.created_epoch == st.epoch) ++stats.series_added;
    if (series.epoch != st.epoch) {
      series.epoch = st.epoch;
      series.accumulator = static_cast<uint32_t>(sc.used);
      if (sc.used == sc.accumulators.size()) sc.accumulators.emplace_back();
      Accumulator& a = sc.accumulators[sc.used++];
      a.reset();
      a.key = &it->first;
      a.state = &series;
      a.family = sample.family;
      a.time_ms =
          options_.honor_timestamps && sample.has_timestamp ? sample.timestamp_ms : scrape_time_ms;
      series.explicit_timestamp = options_.honor_timestamps && sample.has_timestamp;
    }
    Accumulator& a = sc.accumulators[series.accumulator];
    switch (role) {
      case Role::kValue:
        if (a.has_value) {
          ++stats.duplicates;
          break;
        }
        a.has_value = true;
        a.value = sample.value;
        if (kind == Kind::kMonotonicSum && sample.exemplar >= 0)
          a.exemplar_sample = static_cast<int32_t>(si);
        break;
      case Role::kCreated:
        if (a.has_created) {
          ++stats.duplicates;
          break;
        }
        a.has_created = true;
        a.created_seconds = sample.value;
        break;
      case Role::kCount:
        if (a.has_count) {
          ++stats.duplicates;
          break;
        }
        a.has_count = true;
        a.count = sample.value;
        break;
      case Role::kSum:
        if (a.has_sum) {
          ++stats.duplicates;
          break;
        }
        a.has_sum = true;
        a.sum = sample.value;
        break;
      case Role::kBucket: {
        bool duplicate = false;
        if (!a.buckets.empty() && boundary <= a.buckets.back().bound) {
          for (const Bucket& b : a.buckets) duplicate |= b.bound == boundary;
          a.buckets_sorted = false;
        }
        if (duplicate) {
          ++stats.duplicates;
          break;
        }
        a.buckets.push_back(
            Bucket{boundary, sample.value, sample.exemplar >= 0 ? static_cast<int32_t>(si) : -1});
        break;
      }
      case Role::kQuantile: {
        bool duplicate = false;
        for (const auto& q : a.quantiles) duplicate |= q.first == boundary;
        if (duplicate) {
          ++stats.duplicates;
          break;
        }
        a.quantiles.emplace_back(boundary, sample.value);
        break;
      }
    }
  }

  // Series the previous scrape had and this one has not: stale, written before this scrape's
  // points so that a consumer applying them in order retires a series before it sees its
  // successor (a metric that changed type). Prometheus leaves series with their own timestamps
  // alone.
  for (auto it = st.series.begin(); it != st.series.end();) {
    if (it->second.epoch == st.epoch) {
      ++it;
      continue;
    }
    if (it->second.reported && !it->second.explicit_timestamp) {
      staleMarker(it->first, it->second.start_ns, scrape_time_ms, stats);
    }
    st.series.erase(it++);
  }

  // Points, in the order their series first appeared.
  for (size_t i = 0; i < sc.used; ++i) {
    Accumulator& a = sc.accumulators[i];
    SeriesState& series = *static_cast<SeriesState*>(a.state);
    decodeKey(*a.key, sc.decoded);
    const DecodedKey& key = sc.decoded;
    const auto [resource, scope] = enc.placeOf(key.labels);
    Encoder::Metric& metric = enc.metricFor(resource, scope, key.name, key.kind);
    if (metric.type_name.empty()) {
      // The first live point of this metric in the scrape (a metric that so far had only stale
      // markers has no description yet either).
      const Family& family = parsed.families[a.family];
      metric.description = family.help;
      if (!family.unit.empty()) metric.unit = otelUnitFromPrometheus(family.unit);
      metric.type_name = metricTypeName(family.type);
      auto [k, inserted] = st.last_kinds.try_emplace(key.name, key.kind);
      if (!inserted && k->second != key.kind) {
        ++stats.type_changes;
        k->second = key.kind;
      }
    }
    const int64_t time_ns = static_cast<int64_t>(millisToNanos(a.time_ms));
    std::string& p = sc.point;
    p.clear();

    // The start of a cumulative stream: _created when given; else the first observation (a
    // zero-length point, "unknown start" in the data model), kept while the value does not go
    // down; a value that went down restarted the stream after the previous point (1 ms after it,
    // so the new start differs from the old stream's even when that had only one point).
    auto startOf = [&](double observed, bool resets) -> int64_t {
      int64_t start;
      if (a.has_created && a.created_seconds > 0 &&
          static_cast<int64_t>(secondsToNanos(a.created_seconds)) <= time_ns) {
        start = static_cast<int64_t>(secondsToNanos(a.created_seconds));
      } else if (series.start_ns == 0) {
        start = time_ns;
      } else if (resets && observed < series.last) {
        start = std::min(series.last_time_ns + 1000000, time_ns);
      } else {
        start = series.start_ns;
      }
      series.start_ns = start;
      series.last_time_ns = time_ns;
      series.last = observed;
      return start;
    };

    switch (key.kind) {
      case Kind::kGauge:
      case Kind::kMonotonicSum:
      case Kind::kNonMonotonicSum: {
        if (!a.has_value) {
          // Only a _created line for this counter: nothing to report.
          ++stats.invalid;
          continue;
        }
        putPointAttributes(kNumberAttributes, key.labels, p);
        if (key.kind != Kind::kGauge) {
          putFixed64(kNumberStart,
                     static_cast<uint64_t>(startOf(a.value, key.kind == Kind::kMonotonicSum)), p);
        }
        putFixed64(kNumberTime, static_cast<uint64_t>(time_ns), p);
        putDouble(kNumberDouble, a.value, p);
        if (a.exemplar_sample >= 0) {
          const Sample& s = parsed.samples[a.exemplar_sample];
          putExemplar(kNumberExemplars, parsed, parsed.exemplars[s.exemplar],
                      static_cast<uint64_t>(time_ns), sc.exemplar, sc.id, p);
        }
        break;
      }
      case Kind::kHistogram: {
        if (!a.has_count || !(a.count >= 0)) {
          ++stats.invalid;
          continue;
        }
        if (!a.buckets_sorted) {
          std::sort(a.buckets.begin(), a.buckets.end(),
                    [](const Bucket& x, const Bucket& y) { return x.bound < y.bound; });
        }
        // Cumulative buckets → per-bucket counts; the last (+Inf) bucket is what _count leaves.
        const uint64_t count = static_cast<uint64_t>(std::llround(a.count));
        sc.bounds.clear();
        sc.counts.clear();
        bool valid = true;
        double previous = 0;
        for (const Bucket& b : a.buckets) {
          if (std::isinf(b.bound) && b.bound > 0) break;
          if (!(b.cumulative >= previous)) {
            valid = false;
            break;
          }
          uint64_t bits;
          std::memcpy(&bits, &b.bound, 8);
          wire::appendFixed64(bits, sc.bounds);
          wire::appendFixed64(static_cast<uint64_t>(std::llround(b.cumulative - previous)),
                              sc.counts);
          previous = b.cumulative;
        }
        if (!valid || a.count < previous) {
          ++stats.invalid;
          continue;
        }
        wire::appendFixed64(count - static_cast<uint64_t>(std::llround(previous)), sc.counts);
        putPointAttributes(kHistogramAttributes, key.labels, p);
        putFixed64(kHistogramStart, static_cast<uint64_t>(startOf(a.count, true)), p);
        putFixed64(kHistogramTime, static_cast<uint64_t>(time_ns), p);
        putFixed64(kHistogramCount, count, p);
        if (a.has_sum) putDouble(kHistogramSum, a.sum, p);
        wire::appendLengthDelimited(kHistogramBucketCounts, sc.counts, p);
        if (!sc.bounds.empty()) wire::appendLengthDelimited(kHistogramBounds, sc.bounds, p);
        for (const Bucket& b : a.buckets) {
          if (b.exemplar_sample < 0) continue;
          const Sample& s = parsed.samples[b.exemplar_sample];
          putExemplar(kHistogramExemplars, parsed, parsed.exemplars[s.exemplar],
                      static_cast<uint64_t>(time_ns), sc.exemplar, sc.id, p);
        }
        break;
      }
      case Kind::kSummary: {
        if (!a.has_count || !(a.count >= 0)) {
          ++stats.invalid;
          continue;
        }
        const uint64_t count = static_cast<uint64_t>(std::llround(a.count));
        putPointAttributes(kSummaryAttributes, key.labels, p);
        putFixed64(kSummaryStart, static_cast<uint64_t>(startOf(a.count, true)), p);
        putFixed64(kSummaryTime, static_cast<uint64_t>(time_ns), p);
        putFixed64(kSummaryCount, count, p);
        putDouble(kSummarySum, a.has_sum ? a.sum : 0.0, p);
        for (const auto& [q, v] : a.quantiles) {
          sc.exemplar.clear();
          putDouble(kQuantileQuantile, q, sc.exemplar);
          putDouble(kQuantileValue, v, sc.exemplar);
          putMessage(kSummaryQuantiles, sc.exemplar, p);
        }
        break;
      }
    }
    series.reported = true;
    enc.addPoint(metric, p);
  }

  for (InfoLabels& info : infos) {
    std::optional<std::string> job, instance, scope_name, scope_version;
    std::vector<std::pair<std::string, std::string>> attributes;
    for (auto& [n, v] : info.labels) {
      if (n == "job")
        job = v;
      else if (n == "instance")
        instance = v;
      else if (n == "otel_scope_name" && !info.target)
        scope_name = v;
      else if (n == "otel_scope_version" && !info.target)
        scope_version = v;
      else if (!std::any_of(target_.labels.begin(), target_.labels.end(),
                            [&n = n](const auto& t) { return t.first == n; })) {
        attributes.emplace_back(std::move(n), std::move(v));
      }
    }
    if (info.target) {
      const uint32_t r =
          enc.resourceFor(job.value_or(target_.job), instance.value_or(target_.instance));
      enc.resource(r).info = std::move(attributes);
    } else if (scope_name) {
      enc.scopeAttributes(*scope_name, scope_version.value_or(""), std::move(attributes));
    }
  }

  stats.up = true;
  reportSeries(scrape_time_ms, duration_seconds, stats);
  enc.write(out);
  stats.points = enc.points();
}

void ScrapeTranslator::failed(int64_t scrape_time_ms, double duration_seconds, std::string error,
                              std::string& out, ScrapeStats& stats) {
  State& st = *state_;
  Scratch& sc = scratch();
  stats = ScrapeStats{};
  stats.error = std::move(error);
  sc.encoder.reset(target_, options_);
  for (const auto& [key, series] : st.series) {
    if (series.reported && !series.explicit_timestamp) {
      staleMarker(key, series.start_ns, scrape_time_ms, stats);
    }
  }
  st.series.clear();
  stats.up = false;
  reportSeries(scrape_time_ms, duration_seconds, stats);
  sc.encoder.write(out);
  stats.points = sc.encoder.points();
}

uint64_t ScrapeTranslator::finish(int64_t time_ms, std::string& out) {
  State& st = *state_;
  Scratch& sc = scratch();
  ScrapeStats stats;
  sc.encoder.reset(target_, options_);
  for (const auto& [key, series] : st.series) {
    if (series.reported && !series.explicit_timestamp) {
      staleMarker(key, series.start_ns, time_ms, stats);
    }
  }
  st.series.clear();
  if (!st.reported) {
    // Never scraped: no report series went out either.
    sc.encoder.write(out);
    return sc.encoder.points();
  }
  const uint32_t resource = sc.encoder.resourceFor(target_.job, target_.instance);
  const uint32_t scope = sc.encoder.scopeFor(resource, options_.scope_name, options_.scope_version);
  for (std::string_view name : kReportNames) {
    Encoder::Metric& m = sc.encoder.metricFor(resource, scope, name, Kind::kGauge);
    std::string& p = sc.point;
    p.clear();
    for (const auto& [n, v] : target_.labels) {
      if (!isResourceOrScopeLabel(n)) putStringAttribute(kNumberAttributes, n, v, p);
    }
    putFixed64(kNumberTime, millisToNanos(time_ms), p);
    putVarint(kNumberFlags, kNoRecordedValue, p);
    sc.encoder.addPoint(m, p);
  }
  st.reported = false;
  sc.encoder.write(out);
  return sc.encoder.points();
}

void ScrapeTranslator::staleMarker(const std::string& key_bytes, int64_t start_ns, int64_t time_ms,
                                   ScrapeStats& stats) {
  Scratch& sc = scratch();
  decodeKey(key_bytes, sc.decoded);
  const DecodedKey& key = sc.decoded;
  const auto [resource, scope] = sc.encoder.placeOf(key.labels);
  Encoder::Metric& metric = sc.encoder.metricFor(resource, scope, key.name, key.kind);
  std::string& p = sc.point;
  p.clear();
  const uint64_t time_ns = millisToNanos(time_ms);
  const uint64_t start = static_cast<uint64_t>(std::max<int64_t>(start_ns, 0));
  switch (key.kind) {
    case Kind::kGauge:
    case Kind::kMonotonicSum:
    case Kind::kNonMonotonicSum:
      putPointAttributes(kNumberAttributes, key.labels, p);
      if (key.kind != Kind::kGauge) putFixed64(kNumberStart, start, p);
      putFixed64(kNumberTime, time_ns, p);
      putVarint(kNumberFlags, kNoRecordedValue, p);
      break;
    case Kind::kHistogram:
      putPointAttributes(kHistogramAttributes, key.labels, p);
      putFixed64(kHistogramStart, start, p);
      putFixed64(kHistogramTime, time_ns, p);
      putVarint(kHistogramFlags, kNoRecordedValue, p);
      break;
    case Kind::kSummary:
      putPointAttributes(kSummaryAttributes, key.labels, p);
      putFixed64(kSummaryStart, start, p);
      putFixed64(kSummaryTime, time_ns, p);
      putVarint(kSummaryFlags, kNoRecordedValue, p);
      break;
  }
  sc.encoder.addPoint(metric, p);
  ++stats.stale_markers;
}

void ScrapeTranslator::reportSeries(int64_t time_ms, double duration_seconds,
                                    const ScrapeStats& stats) {
  State& st = *state_;
  Scratch& sc = scratch();
  st.reported = true;
  const uint32_t resource = sc.encoder.resourceFor(target_.job, target_.instance);
  const uint32_t scope = sc.encoder.scopeFor(resource, options_.scope_name, options_.scope_version);
  const double values[] = {
      stats.up ? 1.0 : 0.0, duration_seconds, static_cast<double>(stats.samples_scraped),
      static_cast<double>(stats.samples_post_relabeling), static_cast<double>(stats.series_added)};
  for (size_t i = 0; i < std::size(kReportNames); ++i) {
    Encoder::Metric& m = sc.encoder.metricFor(resource, scope, kReportNames[i], Kind::kGauge);
    std::string& p = sc.point;
    p.clear();
    for (const auto& [n, v] : target_.labels) {
      if (!isResourceOrScopeLabel(n)) putStringAttribute(kNumberAttributes, n, v, p);
    }
    putFixed64(kNumberTime, millisToNanos(time_ms), p);
    putDouble(kNumberDouble, values[i], p);
    sc.encoder.addPoint(m, p);
  }
}

std::string otelUnitFromPrometheus(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"days", "d"},          {"hours", "h"},         {"minutes", "min"},    {"seconds", "s"},
      {"milliseconds", "ms"}, {"microseconds", "us"}, {"nanoseconds", "ns"}, {"bytes", "By"},
      {"kibibytes", "KiBy"},  {"mebibytes", "MiBy"},  {"gibibytes", "GiBy"}, {"tebibytes", "TiBy"},
      {"kilobytes", "kBy"},   {"megabytes", "MBy"},   {"gigabytes", "GBy"},  {"terabytes", "TBy"},
      {"meters", "m"},        {"volts", "V"},         {"amperes", "A"},      {"joules", "J"},
      {"watts", "W"},         {"grams", "g"},         {"celsius", "Cel"},    {"hertz", "Hz"},
      {"percent", "%"},       {"ratio", "1"},
  };
  // Plural as units are written, or singular after "_per_" ("bytes_per_second").
  auto word = [&](std::string_view w) -> std::string {
    for (const auto& [from, to] : kWords) {
      if (w == from || (from.size() == w.size() + 1 && from.back() == 's' && from.starts_with(w))) {
        return std::string(to);
      }
    }
    return std::string(w);
  };
  if (const size_t per = unit.find("_per_"); per != std::string_view::npos) {
    return strCat(word(unit.substr(0, per)), "/", word(unit.substr(per + 5)));
  }
  return word(unit);
}

}  // namespace otlpd::prometheus
