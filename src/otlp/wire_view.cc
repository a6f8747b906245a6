#include "otlp/wire_view.h"

#include <cmath>
#include <cstdint>

#include "otlp/wire_reader.h"

namespace otlpd::otlp {
namespace wire {

bool validUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Telemetry strings are mostly ASCII: eight bytes at a time while no high bit is set.
    while (end - p >= 8) {
      uint64_t chunk;
      std::memcpy(&chunk, p, 8);
      if ((chunk & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    auto cont = [&](ptrdiff_t i, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
      return end - p > i && p[i] >= lo && p[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(1)) return false;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
      const uint8_t hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
      if (!cont(1, lo, hi) || !cont(2)) return false;
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const uint8_t lo = c == 0xF0 ? 0x90 : 0x80;  // no overlong forms
      const uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
      if (!cont(1, lo, hi) || !cont(2) || !cont(3)) return false;
      p += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace wire

namespace {

using wire::Field;
using wire::Reader;
using wire::Stop;

// protobuf refuses messages nested deeper than 100; well below that we let it decide.
constexpr int kMaxDepth = 90;

#define OTLPD_WIRE_TRY(expr)                                           \
  do {                                                                 \
    if (const Stop stop_ = (expr); stop_ != Stop::kNone) return stop_; \
  } while (0)

// A known field sent with another wire type is an unknown field to protobuf, and the field
// keeps its default: not something to second-guess here.
inline Stop expect(const Field& f, wire::WireType type) {
  return f.type == type ? Stop::kNone : Stop::kUnusual;
}

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Most telemetry strings are short and ASCII: OR their bytes together a word at a time
// (overlapping the last word) and look at the high bits once.
inline bool asciiOnly(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t bits = 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) bits |= load64(p + i);
    bits |= load64(p + n - 8);
  } else if (n >= 4) {
    bits = load32(p) | load32(p + n - 4);
  } else {
    for (size_t i = 0; i < n; ++i) bits |= static_cast<uint8_t>(p[i]);
  }
  return (bits & 0x8080808080808080ULL) == 0;
}

inline Stop checkString(const Field& f) {
  if (f.type != wire::kLengthDelimited) return Stop::kUnusual;
  if (asciiOnly(f.bytes)) return Stop::kNone;
  return wire::validUtf8(f.bytes) ? Stop::kNone : Stop::kMalformed;
}

// Walks every field of a message; `onField` sees each one and returns where to stop.
template <class OnField>
inline Stop walkFields(std::string_view bytes, OnField&& onField) {
  Reader reader(bytes);
  Field f;
  while (!reader.done()) {
    OTLPD_WIRE_TRY(reader.next(f));
    OTLPD_WIRE_TRY(onField(f));
  }
  return Stop::kNone;
}

// Messages whose fields only need to be well formed.

Stop walkKeyValue(std::string_view bytes, int depth);

// Most values are one scalar: its tag and value fill the whole AnyValue.
inline bool isOneScalar(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  if (n == 9 && p[0] == 0x21) return true;                              // double_value
  if (n < 2 || n > 11 || (p[0] != 0x10 && p[0] != 0x18)) return false;  // bool_value, int_value
  // One varint ending exactly at the end, a 10th byte holding at most bit 63.
  for (size_t i = 1; i + 1 < n; ++i) {
    if (p[i] < 0x80) return false;
  }
  return p[n - 1] < 0x80 && (n < 11 || p[n - 1] <= 1);
}

Stop walkAnyValue(std::string_view bytes, int depth) {
  if (depth > kMaxDepth) return Stop::kUnusual;
  if (bytes.size() >= 2 && bytes[0] == '\x0a' && static_cast<uint8_t>(bytes[1]) < 0x80 &&
      static_cast<size_t>(bytes[1]) + 2 == bytes.size()) {
    // A string_value of under 128 bytes and nothing else.
    Field f;
    f.type = wire::kLengthDelimited;
    f.bytes = bytes.substr(2);
    return checkString(f);
  }
  if (isOneScalar(bytes)) return Stop::kNone;
  return walkFields(bytes, [depth](const Field& f) {
    switch (f.number) {
      case 1:
        return checkString(f);
      case 2:
      case 3:
        return expect(f, wire::kVarint);
      case 4:
        return expect(f, wire::kFixed64);
      case 5:  // ArrayValue
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        if (depth + 1 > kMaxDepth) return Stop::kUnusual;
        return walkFields(f.bytes, [depth](const Field& v) {
          if (v.number != 1) return Stop::kNone;
          OTLPD_WIRE_TRY(expect(v, wire::kLengthDelimited));
          return walkAnyValue(v.bytes, depth + 2);
        });
      case 6:  // KeyValueList
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        if (depth + 1 > kMaxDepth) return Stop::kUnusual;
        return walkFields(f.bytes, [depth](const Field& v) {
          if (v.number != 1) return Stop::kNone;
          OTLPD_WIRE_TRY(expect(v, wire::kLengthDelimited));
          return walkKeyValue(v.bytes, depth + 2);
        });
      case 7:
        return expect(f, wire::kLengthDelimited);
      default:
        return Stop::kNone;
    }
  });
}

Stop walkKeyValue(std::string_view bytes, int depth) {
  if (depth > kMaxDepth) return Stop::kUnusual;
  // What every SDK writes: the key (field 1) then the value (field 2), each under 128 bytes.
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  if (n >= 4 && p[0] == 0x0A && p[1] < 0x80 && size_t{2} + p[1] + 2 <= n) {
    const size_t key_end = size_t{2} + p[1];
    if (p[key_end] == 0x12 && p[key_end + 1] < 0x80 && key_end + 2 + p[key_end + 1] == n) {
      Field key;
      key.type = wire::kLengthDelimited;
      key.bytes = bytes.substr(2, p[1]);
      OTLPD_WIRE_TRY(checkString(key));
      return walkAnyValue(bytes.substr(key_end + 2), depth + 1);
    }
  }
  return walkFields(bytes, [depth](const Field& f) {
    switch (f.number) {
      case 1:
        return checkString(f);
      case 2:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        return walkAnyValue(f.bytes, depth + 1);
      default:
        return Stop::kNone;
    }
  });
}

// A repeated KeyValue field occurrence at `depth` of the message holding it.
inline Stop attribute(const Field& f, int depth) {
  OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
  return walkKeyValue(f.bytes, depth + 1);
}

Stop walkResource(std::string_view bytes, int depth) {
  return walkFields(bytes, [depth](const Field& f) {
    switch (f.number) {
      case 1:
        return attribute(f, depth);
      case 2:
        return expect(f, wire::kVarint);
      case 3:  // EntityRef
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        return walkFields(f.bytes, [](const Field& e) {
          return e.number >= 1 && e.number <= 4 ? checkString(e) : Stop::kNone;
        });
      default:
        return Stop::kNone;
    }
  });
}

Stop walkScope(std::string_view bytes, int depth) {
  return walkFields(bytes, [depth](const Field& f) {
    switch (f.number) {
      case 1:
      case 2:
        return checkString(f);
      case 3:
        return attribute(f, depth);
      case 4:
        return expect(f, wire::kVarint);
      default:
        return Stop::kNone;
    }
  });
}

// The resource and scope envelopes, the same for every signal: Request{1: Resource*}
// Resource*{1: Resource, 2: Scope*, 3: schema_url}, Scope*{1: scope, 2: item, 3: schema_url}.
// `onItem` walks one item occurrence at depth 3.
template <class OnItem>
Stop walkEnvelopes(std::string_view request, OnItem&& onItem) {
  return walkFields(request, [&](const Field& r) {
    if (r.number != 1) return Stop::kNone;
    OTLPD_WIRE_TRY(expect(r, wire::kLengthDelimited));
    return walkFields(r.bytes, [&](const Field& rf) {
      switch (rf.number) {
        case 1:
          OTLPD_WIRE_TRY(expect(rf, wire::kLengthDelimited));
          return walkResource(rf.bytes, 2);
        case 2:
          OTLPD_WIRE_TRY(expect(rf, wire::kLengthDelimited));
          return walkFields(rf.bytes, [&](const Field& sf) {
            switch (sf.number) {
              case 1:
                OTLPD_WIRE_TRY(expect(sf, wire::kLengthDelimited));
                return walkScope(sf.bytes, 3);
              case 2:
                OTLPD_WIRE_TRY(expect(sf, wire::kLengthDelimited));
                return onItem(sf.bytes);
              case 3:
                return checkString(sf);
              default:
                return Stop::kNone;
            }
          });
        case 3:
          return checkString(rf);
        default:
          return Stop::kNone;
      }
    });
  });
}

WireSummary summarize(Stop stop, size_t items, size_t invalid) {
  WireSummary out;
  out.items = items;
  switch (stop) {
    case Stop::kNone:
      out.verdict = invalid == 0 ? WireVerdict::kValid : WireVerdict::kInvalidItems;
      break;
    case Stop::kMalformed:
      out.verdict = WireVerdict::kMalformed;
      break;
    case Stop::kUnusual:
      out.verdict = WireVerdict::kUnusual;
      break;
  }
  return out;
}

bool allZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

// ---- traces ----

// Spans and log records sit at depth 3: Request > Resource* > Scope* > item.
constexpr int kItemDepth = 3;

Stop walkSpan(std::string_view bytes, bool& valid) {
  std::string_view trace_id, span_id, parent_span_id;
  uint64_t start = 0, end = 0;
  bool links_valid = true;
  OTLPD_WIRE_TRY(walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        trace_id = f.bytes;
        return Stop::kNone;
      case 2:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        span_id = f.bytes;
        return Stop::kNone;
      case 4:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        parent_span_id = f.bytes;
        return Stop::kNone;
      case 3:  // trace_state
      case 5:  // name
        return checkString(f);
      case 6:
      case 10:
      case 12:
      case 14:
        return expect(f, wire::kVarint);
      case 7:
        OTLPD_WIRE_TRY(expect(f, wire::kFixed64));
        start = f.value;
        return Stop::kNone;
      case 8:
        OTLPD_WIRE_TRY(expect(f, wire::kFixed64));
        end = f.value;
        return Stop::kNone;
      case 9:
        return attribute(f, kItemDepth);
      case 11:  // Event
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        return walkFields(f.bytes, [](const Field& e) {
          switch (e.number) {
            case 1:
              return expect(e, wire::kFixed64);
            case 2:
              return checkString(e);
            case 3:
              return attribute(e, kItemDepth + 1);
            case 4:
              return expect(e, wire::kVarint);
            default:
              return Stop::kNone;
          }
        });
      case 13: {  // Link
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        size_t trace_id_size = 0, span_id_size = 0;
        OTLPD_WIRE_TRY(walkFields(f.bytes, [&](const Field& l) {
          switch (l.number) {
            case 1:
              OTLPD_WIRE_TRY(expect(l, wire::kLengthDelimited));
              trace_id_size = l.bytes.size();
              return Stop::kNone;
            case 2:
              OTLPD_WIRE_TRY(expect(l, wire::kLengthDelimited));
              span_id_size = l.bytes.size();
              return Stop::kNone;
            case 3:
              return checkString(l);
            case 4:
              return attribute(l, kItemDepth + 1);
            case 5:
              return expect(l, wire::kVarint);
            case 6:
              return expect(l, wire::kFixed32);
            default:
              return Stop::kNone;
          }
        }));
        if (trace_id_size != 16 || span_id_size != 8) links_valid = false;
        return Stop::kNone;
      }
      case 15:  // Status
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        return walkFields(f.bytes, [](const Field& s) {
          switch (s.number) {
            case 2:
              return checkString(s);
            case 3:
              return expect(s, wire::kVarint);
            default:
              return Stop::kNone;
          }
        });
      case 16:
        return expect(f, wire::kFixed32);
      default:
        return Stop::kNone;
    }
  }));
  valid = trace_id.size() == 16 && !allZero(trace_id) && span_id.size() == 8 && !allZero(span_id) &&
          (parent_span_id.empty() || parent_span_id.size() == 8) && end >= start && links_valid;
  return Stop::kNone;
}

// ---- metrics ----

Stop walkExemplar(const Field& f, int depth, bool& valid) {
  OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
  std::string_view trace_id, span_id;
  OTLPD_WIRE_TRY(walkFields(f.bytes, [&](const Field& e) {
    switch (e.number) {
      case 7:
        return attribute(e, depth + 1);
      case 2:
      case 3:
      case 6:
        return expect(e, wire::kFixed64);
      case 4:
        OTLPD_WIRE_TRY(expect(e, wire::kLengthDelimited));
        span_id = e.bytes;
        return Stop::kNone;
      case 5:
        OTLPD_WIRE_TRY(expect(e, wire::kLengthDelimited));
        trace_id = e.bytes;
        return Stop::kNone;
      default:
        return Stop::kNone;
    }
  }));
  if ((!trace_id.empty() && trace_id.size() != 16) || (!span_id.empty() && span_id.size() != 8)) {
    valid = false;
  }
  return Stop::kNone;
}

// Each point walker takes a point at depth 6 (Request > Resource* > Scope* > Metric > data >
// point) and says whether validation would keep it.
constexpr int kPointDepth = 6;

Stop walkNumberPoint(std::string_view bytes, bool& valid) {
  valid = true;
  return walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 7:
        return attribute(f, kPointDepth);
      case 2:
      case 3:
      case 4:
      case 6:
        return expect(f, wire::kFixed64);
      case 5:
        return walkExemplar(f, kPointDepth, valid);
      case 8:
        return expect(f, wire::kVarint);
      default:
        return Stop::kNone;
    }
  });
}

// A repeated fixed64 or double field, packed or not, element by element.
template <class OnValue>
Stop repeatedFixed64(const Field& f, OnValue&& onValue) {
  if (f.type == wire::kFixed64) {
    onValue(f.value);
    return Stop::kNone;
  }
  if (f.type != wire::kLengthDelimited || f.bytes.size() % 8 != 0) return Stop::kUnusual;
  for (size_t i = 0; i < f.bytes.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, f.bytes.data() + i, 8);
    onValue(v);
  }
  return Stop::kNone;
}

Stop walkHistogramPoint(std::string_view bytes, bool& valid) {
  uint64_t count = 0, bucket_total = 0;
  size_t buckets = 0, bounds = 0;
  double last_bound = 0;
  bool bounds_increasing = true, exemplars_valid = true;
  OTLPD_WIRE_TRY(walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 9:
        return attribute(f, kPointDepth);
      case 4:
        OTLPD_WIRE_TRY(expect(f, wire::kFixed64));
        count = f.value;
        return Stop::kNone;
      case 2:
      case 3:
      case 5:
      case 11:
      case 12:
        return expect(f, wire::kFixed64);
      case 6:
        return repeatedFixed64(f, [&](uint64_t c) {
          bucket_total += c;
          ++buckets;
        });
      case 7:
        return repeatedFixed64(f, [&](uint64_t bits) {
          double bound;
          std::memcpy(&bound, &bits, 8);
          if (std::isnan(bound) || (bounds > 0 && bound <= last_bound)) bounds_increasing = false;
          last_bound = bound;
          ++bounds;
        });
      case 8:
        return walkExemplar(f, kPointDepth, exemplars_valid);
      case 10:
        return expect(f, wire::kVarint);
      default:
        return Stop::kNone;
    }
  }));
  valid = (buckets == 0 || (buckets == bounds + 1 && bucket_total == count)) && bounds_increasing &&
          exemplars_valid;
  return Stop::kNone;
}

Stop walkBuckets(const Field& f, uint64_t& total) {
  OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
  return walkFields(f.bytes, [&](const Field& b) {
    switch (b.number) {
      case 1:
        return expect(b, wire::kVarint);
      case 2: {
        if (b.type == wire::kVarint) {
          total += b.value;
          return Stop::kNone;
        }
        OTLPD_WIRE_TRY(expect(b, wire::kLengthDelimited));
        Reader packed(b.bytes);
        while (!packed.done()) {
          uint64_t c;
          OTLPD_WIRE_TRY(packed.readVarint(c));
          total += c;
        }
        return Stop::kNone;
      }
      default:
        return Stop::kNone;
    }
  });
}

Stop walkExponentialHistogramPoint(std::string_view bytes, bool& valid) {
  uint64_t count = 0, zero_count = 0, bucket_total = 0;
  bool exemplars_valid = true;
  OTLPD_WIRE_TRY(walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
        return attribute(f, kPointDepth);
      case 4:
        OTLPD_WIRE_TRY(expect(f, wire::kFixed64));
        count = f.value;
        return Stop::kNone;
      case 7:
        OTLPD_WIRE_TRY(expect(f, wire::kFixed64));
        zero_count = f.value;
        return Stop::kNone;
      case 2:
      case 3:
      case 5:
      case 12:
      case 13:
      case 14:
        return expect(f, wire::kFixed64);
      case 6:
      case 10:
        return expect(f, wire::kVarint);
      case 8:
      case 9:
        return walkBuckets(f, bucket_total);
      case 11:
        return walkExemplar(f, kPointDepth, exemplars_valid);
      default:
        return Stop::kNone;
    }
  }));
  valid = zero_count + bucket_total == count && exemplars_valid;
  return Stop::kNone;
}

Stop walkSummaryPoint(std::string_view bytes, bool& valid) {
  valid = true;
  return walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 7:
        return attribute(f, kPointDepth);
      case 2:
      case 3:
      case 4:
      case 5:
        return expect(f, wire::kFixed64);
      case 6: {
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        double quantile = 0;
        OTLPD_WIRE_TRY(walkFields(f.bytes, [&](const Field& q) {
          if (q.number != 1 && q.number != 2) return Stop::kNone;
          OTLPD_WIRE_TRY(expect(q, wire::kFixed64));
          if (q.number == 1) std::memcpy(&quantile, &q.value, 8);
          return Stop::kNone;
        }));
        if (!(quantile >= 0.0 && quantile <= 1.0)) valid = false;
        return Stop::kNone;
      }
      case 8:
        return expect(f, wire::kVarint);
      default:
        return Stop::kNone;
    }
  });
}

// Gauge, Sum, Histogram, ExponentialHistogram and Summary hold their points in field 1; the
// other fields are varints (temporality, monotonic).
template <class WalkPoint>
Stop walkPoints(std::string_view bytes, WalkPoint&& walkPoint, size_t& points, size_t& invalid) {
  return walkFields(bytes, [&](const Field& f) {
    if (f.number != 1) return f.number <= 3 ? expect(f, wire::kVarint) : Stop::kNone;
    OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
    bool valid = true;
    OTLPD_WIRE_TRY(walkPoint(f.bytes, valid));
    ++points;
    if (!valid) ++invalid;
    return Stop::kNone;
  });
}

Stop walkMetric(std::string_view bytes, size_t& items, size_t& invalid) {
  bool has_name = false, has_data = false;
  OTLPD_WIRE_TRY(walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
        OTLPD_WIRE_TRY(checkString(f));
        has_name = !f.bytes.empty();
        return Stop::kNone;
      case 2:
      case 3:
        return checkString(f);
      case 12:
        return attribute(f, 4);
      case 5:
      case 7:
      case 9:
      case 10:
      case 11:
        break;
      default:
        return Stop::kNone;
    }
    // A second data field replaces or merges with the first: protobuf's business.
    if (has_data) return Stop::kUnusual;
    has_data = true;
    OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
    switch (f.number) {
      case 5:
      case 7:
        return walkPoints(f.bytes, walkNumberPoint, items, invalid);
      case 9:
        return walkPoints(f.bytes, walkHistogramPoint, items, invalid);
      case 10:
        return walkPoints(f.bytes, walkExponentialHistogramPoint, items, invalid);
      default:
        return walkPoints(f.bytes, walkSummaryPoint, items, invalid);
    }
  }));
  // Validation drops the data of a metric without a name, even without points: decode.
  return has_name ? Stop::kNone : Stop::kUnusual;
}

// ---- logs ----

Stop walkLogRecord(std::string_view bytes, bool& valid) {
  size_t trace_id_size = 0, span_id_size = 0;
  int32_t severity = 0;
  OTLPD_WIRE_TRY(walkFields(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
      case 11:
        return expect(f, wire::kFixed64);
      case 2:
        OTLPD_WIRE_TRY(expect(f, wire::kVarint));
        severity = static_cast<int32_t>(static_cast<uint32_t>(f.value));
        return Stop::kNone;
      case 3:
      case 12:
        return checkString(f);
      case 5:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        return walkAnyValue(f.bytes, kItemDepth + 1);
      case 6:
        return attribute(f, kItemDepth);
      case 7:
        return expect(f, wire::kVarint);
      case 8:
        return expect(f, wire::kFixed32);
      case 9:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        trace_id_size = f.bytes.size();
        return Stop::kNone;
      case 10:
        OTLPD_WIRE_TRY(expect(f, wire::kLengthDelimited));
        span_id_size = f.bytes.size();
        return Stop::kNone;
      default:
        return Stop::kNone;
    }
  }));
  valid = (trace_id_size == 0 || trace_id_size == 16) && (span_id_size == 0 || span_id_size == 8) &&
          severity >= 0 && severity <= 24;
  return Stop::kNone;
}

}  // namespace

WireSummary inspectTracesWire(std::string_view request_bytes) {
  size_t items = 0, invalid = 0;
  const Stop stop = walkEnvelopes(request_bytes, [&](std::string_view span) {
    bool valid = true;
    OTLPD_WIRE_TRY(walkSpan(span, valid));
    ++items;
    if (!valid) ++invalid;
    return Stop::kNone;
  });
  return summarize(stop, items, invalid);
}

WireSummary inspectMetricsWire(std::string_view request_bytes) {
  size_t items = 0, invalid = 0;
  const Stop stop = walkEnvelopes(
      request_bytes, [&](std::string_view metric) { return walkMetric(metric, items, invalid); });
  return summarize(stop, items, invalid);
}

WireSummary inspectLogsWire(std::string_view request_bytes) {
  size_t items = 0, invalid = 0;
  const Stop stop = walkEnvelopes(request_bytes, [&](std::string_view record) {
    bool valid = true;
    OTLPD_WIRE_TRY(walkLogRecord(record, valid));
    ++items;
    if (!valid) ++invalid;
    return Stop::kNone;
  });
  return summarize(stop, items, invalid);
}

#undef OTLPD_WIRE_TRY

}  // namespace otlpd::otlp
