#include "prometheus/otlp_metrics_walk.h"

#include <cstring>

#include "otlp/value.h"
#include "otlp/wire_reader.h"

namespace otlpd::prometheus {
namespace {

using otlp::wire::Field;
using otlp::wire::Reader;
using otlp::wire::Stop;

double asDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

int32_t zigzag32(uint64_t v) {
  const auto u = static_cast<uint32_t>(v);
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

// Packed (length-delimited) or one-by-one occurrences of a repeated fixed64/double field.
template <class T, class Convert>
bool appendFixed64(const Field& f, std::vector<T>& out, Convert convert) {
  if (f.type == otlp::wire::kFixed64) {
    out.push_back(convert(f.value));
    return true;
  }
  if (f.type != otlp::wire::kLengthDelimited || f.bytes.size() % 8 != 0) return false;
  for (size_t i = 0; i < f.bytes.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, f.bytes.data() + i, 8);
    out.push_back(convert(v));
  }
  return true;
}

bool appendVarints(const Field& f, std::vector<uint64_t>& out) {
  if (f.type == otlp::wire::kVarint) {
    out.push_back(f.value);
    return true;
  }
  if (f.type != otlp::wire::kLengthDelimited) return false;
  Reader r(f.bytes);
  while (!r.done()) {
    uint64_t v;
    if (r.readVarint(v) != Stop::kNone) return false;
    out.push_back(v);
  }
  return true;
}

}  // namespace

bool MetricsWalker::readAttributes(std::string_view keyvalue, std::vector<Attribute>& out) {
  Reader r(keyvalue);
  Field f;
  std::string_view key, value;
  bool has_value = false;
  while (!r.done()) {
    if (r.next(f) != Stop::kNone) return false;
    if (f.type != otlp::wire::kLengthDelimited) continue;
    if (f.number == 1) key = f.bytes;
    if (f.number == 2) {
      value = f.bytes;
      has_value = true;
    }
  }
  Attribute a{key, {}};
  if (has_value) {
    // Fast path: a string value is the only field of its AnyValue.
    Reader v(value);
    Field vf;
    if (!v.done() && v.next(vf) == Stop::kNone && vf.number == 1 &&
        vf.type == otlp::wire::kLengthDelimited && v.done()) {
      a.value = vf.bytes;
    } else if (!value.empty()) {
      otlp::Value decoded;
      if (!otlp::decodeValue(value, decoded)) return false;
      if (rendered_used_ == rendered_.size()) rendered_.emplace_back();
      std::string& slot = rendered_[rendered_used_++];
      slot = otlp::valueAsString(decoded);
      a.value = slot;
    }
  }
  out.push_back(a);
  return true;
}

absl::Status MetricsWalker::walk(std::string_view request, MetricsVisitor& visitor) {
  Reader r(request);
  Field f;
  while (!r.done()) {
    if (r.next(f) != Stop::kNone) return absl::InvalidArgumentError("malformed metrics request");
    if (f.number != 1 || f.type != otlp::wire::kLengthDelimited) continue;
    // ResourceMetrics: the resource may come after its scopes on the wire; read it first.
    std::string_view resource;
    {
      Reader rm(f.bytes);
      Field g;
      while (!rm.done()) {
        if (rm.next(g) != Stop::kNone) {
          return absl::InvalidArgumentError("malformed ResourceMetrics");
        }
        if (g.number == 1 && g.type == otlp::wire::kLengthDelimited) resource = g.bytes;
      }
    }
    if (!readResource(resource)) return absl::InvalidArgumentError("malformed Resource");
    visitor.onResource(resource_);
    Reader rm(f.bytes);
    Field g;
    while (!rm.done()) {
      rm.next(g);
      if (g.number == 2 && g.type == otlp::wire::kLengthDelimited &&
          !readScopeMetrics(g.bytes, visitor)) {
        return absl::InvalidArgumentError("malformed ScopeMetrics");
      }
    }
  }
  return absl::OkStatus();
}

bool MetricsWalker::readResource(std::string_view bytes) {
  resource_.attributes.clear();
  rendered_used_ = 0;
  Reader r(bytes);
  Field f;
  while (!r.done()) {
    if (r.next(f) != Stop::kNone) return false;
    if (f.number == 1 && f.type == otlp::wire::kLengthDelimited &&
        !readAttributes(f.bytes, resource_.attributes)) {
      return false;
    }
  }
  resource_rendered_ = rendered_used_;
  return true;
}

bool MetricsWalker::readScopeMetrics(std::string_view bytes, MetricsVisitor& visitor) {
  scope_ = {};
  Reader r(bytes);
  Field f;
  while (!r.done()) {
    if (r.next(f) != Stop::kNone) return false;
    if (f.number == 1 && f.type == otlp::wire::kLengthDelimited) {
      Reader s(f.bytes);
      Field g;
      while (!s.done()) {
        if (s.next(g) != Stop::kNone) return false;
        if (g.type != otlp::wire::kLengthDelimited) continue;
        if (g.number == 1) scope_.name = g.bytes;
        if (g.number == 2) scope_.version = g.bytes;
      }
    }
  }
  visitor.onScope(scope_);
  Reader m(bytes);
  while (!m.done()) {
    m.next(f);
    if (f.number == 2 && f.type == otlp::wire::kLengthDelimited && !readMetric(f.bytes, visitor)) {
      return false;
    }
  }
  return true;
}

bool MetricsWalker::readMetric(std::string_view bytes, MetricsVisitor& visitor) {
  metric_ = {};
  std::string_view data;
  Reader r(bytes);
  Field f;
  while (!r.done()) {
    if (r.next(f) != Stop::kNone) return false;
    if (f.type != otlp::wire::kLengthDelimited) continue;
    switch (f.number) {
      case 1:
        metric_.name = f.bytes;
        break;
      case 2:
        metric_.description = f.bytes;
        break;
      case 3:
        metric_.unit = f.bytes;
        break;
      case 5:
        metric_.kind = MetricKind::kGauge;
        data = f.bytes;
        break;
      case 7:
        metric_.kind = MetricKind::kSum;
        data = f.bytes;
        break;
      case 9:
        metric_.kind = MetricKind::kHistogram;
        data = f.bytes;
        break;
      case 10:
        metric_.kind = MetricKind::kExponentialHistogram;
        data = f.bytes;
        break;
      case 11:
        metric_.kind = MetricKind::kSummary;
        data = f.bytes;
        break;
      default:
        break;
    }
  }
  if (data.data() == nullptr) return true;  // no data: nothing to export
  Reader d(data);
  while (!d.done()) {
    if (d.next(f) != Stop::kNone) return false;
    if (f.type != otlp::wire::kVarint) continue;
    if (f.number == 2) metric_.temporality = static_cast<Temporality>(f.value <= 2 ? f.value : 0);
    if (f.number == 3) metric_.monotonic = f.value != 0;
  }
  if (!visitor.onMetric(metric_)) return true;

  uint32_t index = 0;
  Reader points(data);
  while (!points.done()) {
    points.next(f);
    if (f.number != 1 || f.type != otlp::wire::kLengthDelimited) continue;
    rendered_used_ = resource_rendered_;
    Reader p(f.bytes);
    Field g;
    switch (metric_.kind) {
      case MetricKind::kGauge:
      case MetricKind::kSum: {
        NumberPoint& n = number_;
        n.attributes.clear();
        n.start_ns = n.time_ns = 0;
        n.flags = 0;
        n.value = 0;
        while (!p.done()) {
          if (p.next(g) != Stop::kNone) return false;
          switch (g.number) {
            case 2:
              n.start_ns = g.value;
              break;
            case 3:
              n.time_ns = g.value;
              break;
            case 4:
              n.value = asDouble(g.value);
              break;
            case 6:
              n.value = static_cast<double>(static_cast<int64_t>(g.value));
              break;
            case 7:
              if (g.type == otlp::wire::kLengthDelimited && !readAttributes(g.bytes, n.attributes))
                return false;
              break;
            case 8:
              n.flags = static_cast<uint32_t>(g.value);
              break;
            default:
              break;
          }
        }
        n.index = index++;
        visitor.onNumber(n);
        break;
      }
      case MetricKind::kHistogram: {
        HistogramPoint& h = histogram_;
        h.attributes.clear();
        h.bucket_counts.clear();
        h.bounds.clear();
        h.start_ns = h.time_ns = h.count = 0;
        h.flags = 0;
        h.sum = 0;
        h.has_sum = false;
        while (!p.done()) {
          if (p.next(g) != Stop::kNone) return false;
          switch (g.number) {
            case 2:
              h.start_ns = g.value;
              break;
            case 3:
              h.time_ns = g.value;
              break;
            case 4:
              h.count = g.value;
              break;
            case 5:
              h.sum = asDouble(g.value);
              h.has_sum = true;
              break;
            case 6:
              if (!appendFixed64(g, h.bucket_counts, [](uint64_t v) { return v; })) return false;
              break;
            case 7:
              if (!appendFixed64(g, h.bounds, asDouble)) return false;
              break;
            case 9:
              if (g.type == otlp::wire::kLengthDelimited && !readAttributes(g.bytes, h.attributes))
                return false;
              break;
            case 10:
              h.flags = static_cast<uint32_t>(g.value);
              break;
            default:
              break;
          }
        }
        h.index = index++;
        visitor.onHistogram(h);
        break;
      }
      case MetricKind::kExponentialHistogram: {
        ExponentialHistogramPoint& e = exponential_;
        e.attributes.clear();
        e.positive.counts.clear();
        e.negative.counts.clear();
        e.positive.offset = e.negative.offset = 0;
        e.start_ns = e.time_ns = e.count = e.zero_count = 0;
        e.flags = 0;
        e.sum = e.zero_threshold = 0;
        e.has_sum = false;
        e.scale = 0;
        while (!p.done()) {
          if (p.next(g) != Stop::kNone) return false;
          switch (g.number) {
            case 1:
              if (g.type == otlp::wire::kLengthDelimited && !readAttributes(g.bytes, e.attributes))
                return false;
              break;
            case 2:
              e.start_ns = g.value;
              break;
            case 3:
              e.time_ns = g.value;
              break;
            case 4:
              e.count = g.value;
              break;
            case 5:
              e.sum = asDouble(g.value);
              e.has_sum = true;
              break;
            case 6:
              e.scale = zigzag32(g.value);
              break;
            case 7:
              e.zero_count = g.value;
              break;
            case 8:
            case 9: {
              if (g.type != otlp::wire::kLengthDelimited) break;
              ExponentialBuckets& b = g.number == 8 ? e.positive : e.negative;
              Reader br(g.bytes);
              Field h;
              while (!br.done()) {
                if (br.next(h) != Stop::kNone) return false;
                if (h.number == 1 && h.type == otlp::wire::kVarint) b.offset = zigzag32(h.value);
                if (h.number == 2 && !appendVarints(h, b.counts)) return false;
              }
              break;
            }
            case 10:
              e.flags = static_cast<uint32_t>(g.value);
              break;
            case 14:
              e.zero_threshold = asDouble(g.value);
              break;
            default:
              break;
          }
        }
        e.index = index++;
        visitor.onExponentialHistogram(e);
        break;
      }
      case MetricKind::kSummary: {
        SummaryPoint& s = summary_;
        s.attributes.clear();
        s.quantiles.clear();
        s.start_ns = s.time_ns = s.count = 0;
        s.flags = 0;
        s.sum = 0;
        while (!p.done()) {
          if (p.next(g) != Stop::kNone) return false;
          switch (g.number) {
            case 2:
              s.start_ns = g.value;
              break;
            case 3:
              s.time_ns = g.value;
              break;
            case 4:
              s.count = g.value;
              break;
            case 5:
              s.sum = asDouble(g.value);
              break;
            case 6: {
              if (g.type != otlp::wire::kLengthDelimited) break;
              double q = 0, v = 0;
              Reader qr(g.bytes);
              Field h;
              while (!qr.done()) {
                if (qr.next(h) != Stop::kNone) return false;
                if (h.number == 1) q = asDouble(h.value);
                if (h.number == 2) v = asDouble(h.value);
              }
              s.quantiles.emplace_back(q, v);
              break;
            }
            case 7:
              if (g.type == otlp::wire::kLengthDelimited && !readAttributes(g.bytes, s.attributes))
                return false;
              break;
            case 8:
              s.flags = static_cast<uint32_t>(g.value);
              break;
            default:
              break;
          }
        }
        s.index = index++;
        visitor.onSummary(s);
        break;
      }
    }
  }
  return true;
}

}  // namespace otlpd::prometheus
