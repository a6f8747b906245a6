#include "store/wire_columns.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp/wire_reader.h"

namespace otlpd::store {
namespace {

using otlp::wire::Field;
namespace wire = otlp::wire;

// Field numbers of the OTLP protos (proto/opentelemetry/proto/...).
namespace anyvalue_field {
constexpr uint32_t kString = 1, kBool = 2, kInt = 3, kDouble = 4, kArray = 5, kKvList = 6,
                   kBytes = 7;
}

// Calls `onField` for every field of a message; false as soon as the bytes are not plain
// well-formed fields or `onField` returns false.
template <class OnField>
inline bool forEachField(std::string_view bytes, OnField&& onField) {
  wire::Reader reader(bytes);
  Field f;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone || !onField(f)) return false;
  }
  return true;
}

inline bool isBytes(const Field& f) {
  return f.type == wire::kLengthDelimited;
}
inline bool isVarint(const Field& f) {
  return f.type == wire::kVarint;
}
inline bool isFixed64(const Field& f) {
  return f.type == wire::kFixed64;
}
inline bool isFixed32(const Field& f) {
  return f.type == wire::kFixed32;
}

// Stores a field's value in `out` when it has the expected wire type. A known field with another
// wire type is an unknown field to protobuf: not ours to reinterpret, so the walk gives up.
inline bool takeBytes(const Field& f, std::string_view& out) {
  out = f.bytes;
  return isBytes(f);
}
inline bool takeVarint(const Field& f, uint64_t& out) {
  out = f.value;
  return isVarint(f);
}
inline bool takeFixed64(const Field& f, uint64_t& out) {
  out = f.value;
  return isFixed64(f);
}
inline bool takeFixed32(const Field& f, uint64_t& out) {
  out = f.value;
  return isFixed32(f);
}

// --- values ----------------------------------------------------------------------------------

// Arrays, key/value lists and AnyValues with more than one value field (protobuf keeps the last,
// merging repeated submessages): rare, so protobuf decodes just this value.
[[gnu::noinline]] bool appendDecodedValue(Column& v, size_t first, std::string_view bytes) {
  otlp::pb_common::AnyValue value;
  if (!value.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  // appendAnyValue() appends to every member: those lagging behind catch up first.
  for (size_t m = first + 1; m < v.childCount(); ++m) v.child(m).padNullsTo(v.length());
  appendAnyValue(v, value, first);
  return true;
}

// Member `m` of value struct `v`, ready for the value of the struct's open row. In the value
// structs of attribute lists (those with str_dict) only the member a value uses is appended to:
// the others lag behind until a value uses them or the conversion ends (padLaggingMembers()).
inline Column& member(Column& v, size_t m) {
  Column& c = v.child(m);
  c.padNullsTo(v.length());
  return c;
}

// The members that a value of type `present` does not use are null (at once, in the value
// structs without str_dict: log bodies, resource and scope attributes, whose rows are copied).
inline void appendNullsExcept(Column& v, size_t first, size_t present) {
  if (hasRepeatedStrings(v, first)) return;
  // str may be dictionary-encoded (resource and scope attributes); the others are int64,
  // float64, bool and binary in every value struct.
  if (present != first + 1) v.child(first + 1).appendNull();
  if (present != first + 2) v.child(first + 2).appendFixedNull<8>();
  if (present != first + 3) v.child(first + 3).appendFixedNull<8>();
  if (present != first + 4) v.child(first + 4).appendBoolNull();
  if (present != first + 5) v.child(first + 5).appendBytesNull();
}

// A string value: into the member for strings that repeat when the struct has one and the value
// does, else into str.
inline void appendString(Column& v, size_t first, std::string_view s) {
  v.child(first).appendInt(static_cast<int64_t>(ValueType::kString));
  if (hasRepeatedStrings(v, first)) {
    member(v, first + 6);
    if (appendIfRepeated(v, first, s)) return;
  }
  member(v, first + 1).appendBytes(s);
  appendNullsExcept(v, first, first + 1);
}

// One AnyValue, given by its encoded bytes, into the members [first, first + 6) of `v`.
inline bool appendValue(Column& v, size_t first, std::string_view bytes) {
  if (bytes.size() >= 2 && bytes[0] == '\x0a' && static_cast<uint8_t>(bytes[1]) < 0x80 &&
      static_cast<size_t>(bytes[1]) + 2 == bytes.size()) {
    // Most values: a string of under 128 bytes and nothing else.
    appendString(v, first, bytes.substr(2));
    return true;
  }
  wire::Reader reader(bytes);
  Field f;
  Field value;
  int value_fields = 0;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    if (f.number >= anyvalue_field::kString && f.number <= anyvalue_field::kBytes) {
      value = f;
      ++value_fields;
    }
  }
  if (value_fields > 1) return appendDecodedValue(v, first, bytes);
  Column& type = v.child(first);
  if (value_fields == 0) {
    type.appendInt(static_cast<int64_t>(ValueType::kEmpty));
    appendNullsExcept(v, first, 0);
    return true;
  }
  switch (value.number) {
    case anyvalue_field::kString:
      if (!isBytes(value)) return false;
      appendString(v, first, value.bytes);
      return true;
    case anyvalue_field::kInt:
      if (!isVarint(value)) return false;
      type.appendInt(static_cast<int64_t>(ValueType::kInt));
      member(v, first + 2).appendInt(static_cast<int64_t>(value.value));
      appendNullsExcept(v, first, first + 2);
      return true;
    case anyvalue_field::kDouble: {
      if (!isFixed64(value)) return false;
      double d;
      std::memcpy(&d, &value.value, sizeof d);
      type.appendInt(static_cast<int64_t>(ValueType::kDouble));
      member(v, first + 3).appendDouble(d);
      appendNullsExcept(v, first, first + 3);
      return true;
    }
    case anyvalue_field::kBool:
      if (!isVarint(value)) return false;
      type.appendInt(static_cast<int64_t>(ValueType::kBool));
      member(v, first + 4).appendBool(value.value != 0);
      appendNullsExcept(v, first, first + 4);
      return true;
    case anyvalue_field::kBytes:
      if (!isBytes(value)) return false;
      type.appendInt(static_cast<int64_t>(ValueType::kBytes));
      member(v, first + 5).appendBytes(value.bytes);
      appendNullsExcept(v, first, first + 5);
      return true;
    case anyvalue_field::kArray:  // arrays and key/value lists become OTLP/JSON text
    case anyvalue_field::kKvList:
      if (!isBytes(value)) return false;
      return appendDecodedValue(v, first, bytes);
    default:
      return false;  // not a value field: counted out above
  }
}

// A KeyValue whose value field occurs more than once: protobuf merges the occurrences, which is
// what parsing their concatenation does.
[[gnu::noinline]] bool appendMergedValue(Column& item, std::string_view kv_bytes) {
  std::string merged;
  if (!forEachField(kv_bytes, [&](const Field& f) {
        if (f.number == 2) {
          if (!isBytes(f)) return false;
          merged.append(f.bytes);
        }
        return true;
      })) {
    return false;
  }
  return appendDecodedValue(item, 1, merged);
}

// The shape serializers write: a key of under 128 bytes, then one value of under 128 bytes and
// nothing else. Splits it without the general walk.
inline bool splitShortKeyValue(std::string_view kv, std::string_view& key,
                               std::string_view& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(kv.data());
  const size_t n = kv.size();
  if (n < 4 || p[0] != 0x0a || p[1] >= 0x80) return false;
  const size_t key_end = 2 + size_t{p[1]};
  if (key_end + 2 > n || p[key_end] != 0x12 || p[key_end + 1] >= 0x80) return false;
  if (key_end + 2 + size_t{p[key_end + 1]} != n) return false;
  key = kv.substr(2, key_end - 2);
  value = kv.substr(key_end + 2);
  return true;
}

// One KeyValue into the item struct of an attribute list (key, then the value members).
inline bool appendKeyValue(Column& item, std::string_view kv_bytes) {
  std::string_view key, value;
  if (splitShortKeyValue(kv_bytes, key, value)) {
    item.child(0).appendBytes(key);
    if (!appendValue(item, 1, value)) return false;
    item.endStruct();
    return true;
  }
  int values = 0;
  if (!forEachField(kv_bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeBytes(f, key);
          case 2:
            ++values;
            return takeBytes(f, value);
          default:
            return true;
        }
      })) {
    return false;
  }
  item.child(0).appendBytes(key);
  if (values > 1) {
    if (!appendMergedValue(item, kv_bytes)) return false;
  } else if (!appendValue(item, 1, value)) {
    return false;
  }
  item.endStruct();
  return true;
}

// One occurrence of a repeated KeyValue field, appended to the open row of attribute list
// column `list` (closed by the caller with endList()).
inline bool appendAttribute(Column& list, const Field& f) {
  return isBytes(f) && appendKeyValue(list.child(0), f.bytes);
}

// --- resource and scope ----------------------------------------------------------------------

[[gnu::noinline]] bool appendEntityRef(Column& refs, std::string_view bytes) {
  otlp::pb_common::EntityRef ref;
  if (!ref.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  refs.child(0).appendBytes(otlp::toOtlpJson(ref));
  return true;
}

// The envelope of a scope's items: a resource and a scope, each sent at most once.
struct Envelope {
  std::string_view resource, resource_schema_url, scope, scope_schema_url;
};

// As appendResourceScope() of otlp_columns.cc.
bool appendResourceScope(ColumnTable& t, size_t first, const Envelope& env) {
  Column& attrs = t.column(first);
  Column& refs = t.column(first + 2);
  uint64_t dropped = 0;
  if (!forEachField(env.resource, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return appendAttribute(attrs, f);
          case 2:
            return takeVarint(f, dropped);
          case 3:
            return isBytes(f) && appendEntityRef(refs, f.bytes);
          default:
            return true;
        }
      })) {
    return false;
  }
  attrs.endList();
  t.column(first + 1).appendInt(static_cast<uint32_t>(dropped));
  refs.endList();
  appendOptionalString(t.column(first + 3), env.resource_schema_url);

  Column& scope_attrs = t.column(first + 6);
  std::string_view name, version;
  uint64_t scope_dropped = 0;
  if (!forEachField(env.scope, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeBytes(f, name);
          case 2:
            return takeBytes(f, version);
          case 3:
            return appendAttribute(scope_attrs, f);
          case 4:
            return takeVarint(f, scope_dropped);
          default:
            return true;
        }
      })) {
    return false;
  }
  t.column(first + 4).appendBytes(name);
  appendOptionalString(t.column(first + 5), version);
  scope_attrs.endList();
  t.column(first + 7).appendInt(static_cast<uint32_t>(scope_dropped));
  appendOptionalString(t.column(first + 8), env.scope_schema_url);
  return true;
}

void repeatResourceScope(ColumnTable& t, size_t first, size_t count) {
  for (size_t c = first; c < first + kResourceScopeColumnCount; ++c) {
    t.column(c).repeatLastRow(count);
  }
}

// The service name of the resource attributes just appended as the last row of `attrs`: the
// first "service.name" with a string value (serviceName() of otlp_columns.cc), else null.
void appendServiceName(Column& out, const Column& attrs) {
  const auto [begin, end] = attrs.listRange(attrs.length() - 1);
  const Column& item = attrs.child(0);
  for (size_t i = begin; i < end; ++i) {
    if (item.child(0).bytesAt(i) == "service.name" &&
        item.child(1).intAt(i) == static_cast<int64_t>(ValueType::kString)) {
      appendOptionalString(out, item.child(2).bytesAt(i));
      return;
    }
  }
  out.appendNull();
}

// Walks Request{1: Resource*}, Resource*{1: resource, 2: Scope*, 3: schema_url} and
// Scope*{1: scope, 2: item, 3: schema_url}, calling onItem(item_bytes) for every item and then
// onScope(envelope, items) for every scope with items. A resource may follow its scopes on the
// wire, so it is read before them; a scope's own fields are taken in the pass over its items
// (onItem does not need them): a pass of its own touched every item's first bytes once more.
template <class OnItem, class OnScope>
bool forEachItem(std::string_view request, OnItem&& onItem, OnScope&& onScope) {
  // The request is read once, front to back, often long after the receiver wrote it (a full
  // exporter queue holds 64 MiB of requests): its lines are fetched this far ahead of the item
  // being converted, since the hardware prefetchers stop at every 4 KiB page and each item is
  // only ~13 lines long (issue #18: the first load of each span was ~6% of the store's CPU).
  constexpr size_t kPrefetchAhead = 2048;
  const char* prefetched = request.data();
  const char* const request_end = request.data() + request.size();
  const auto prefetchUpTo = [&](const char* until) {
    if (until > request_end) until = request_end;
    for (; prefetched < until; prefetched += 64) __builtin_prefetch(prefetched);
  };
  return forEachField(request, [&](const Field& r) {
    if (r.number != 1) return true;
    if (!isBytes(r)) return false;
    Envelope env;
    int resources = 0;
    if (!forEachField(r.bytes, [&](const Field& f) {
          switch (f.number) {
            case 1:
              ++resources;
              return takeBytes(f, env.resource);
            case 2:
              return isBytes(f);
            case 3:
              return takeBytes(f, env.resource_schema_url);
            default:
              return true;
          }
        })) {
      return false;
    }
    if (resources > 1) return false;  // protobuf merges them
    return forEachField(r.bytes, [&](const Field& s) {
      if (s.number != 2) return true;
      env.scope = {};
      env.scope_schema_url = {};
      int scopes = 0;
      size_t items = 0;
      if (!forEachField(s.bytes, [&](const Field& f) {
            switch (f.number) {
              case 1:
                ++scopes;
                return takeBytes(f, env.scope);
              case 2:
                if (!isBytes(f)) return false;
                prefetchUpTo(f.bytes.data() + f.bytes.size() + kPrefetchAhead);
                ++items;
                return onItem(f.bytes);
              case 3:
                return takeBytes(f, env.scope_schema_url);
              default:
                return true;
            }
          })) {
        return false;
      }
      if (scopes > 1) return false;  // protobuf merges them
      return items == 0 || onScope(env, items);
    });
  });
}

// --- spans -----------------------------------------------------------------------------------

bool appendEvent(Column& ev, std::string_view bytes) {
  Column& attrs = ev.child(2);
  uint64_t time = 0, dropped = 0;
  std::string_view name;
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeFixed64(f, time);
          case 2:
            return takeBytes(f, name);
          case 3:
            return appendAttribute(attrs, f);
          case 4:
            return takeVarint(f, dropped);
          default:
            return true;
        }
      })) {
    return false;
  }
  ev.child(0).appendInt(static_cast<int64_t>(time));
  ev.child(1).appendBytes(name);
  attrs.endList();
  ev.child(3).appendInt(static_cast<uint32_t>(dropped));
  ev.endStruct();
  return true;
}

bool appendLink(Column& lk, std::string_view bytes) {
  Column& attrs = lk.child(3);
  std::string_view trace_id, span_id, trace_state;
  uint64_t dropped = 0, flags = 0;
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeBytes(f, trace_id);
          case 2:
            return takeBytes(f, span_id);
          case 3:
            return takeBytes(f, trace_state);
          case 4:
            return appendAttribute(attrs, f);
          case 5:
            return takeVarint(f, dropped);
          case 6:
            return takeFixed32(f, flags);
          default:
            return true;
        }
      })) {
    return false;
  }
  appendId(lk.child(0), trace_id);
  appendId(lk.child(1), span_id);
  appendOptionalString(lk.child(2), trace_state);
  attrs.endList();
  lk.child(4).appendInt(static_cast<uint32_t>(dropped));
  lk.child(5).appendInt(static_cast<uint32_t>(flags));
  lk.endStruct();
  return true;
}

bool appendSpan(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  std::string_view trace_id, span_id, parent_span_id, trace_state, name, status_message;
  uint64_t start = 0, end = 0, flags = 0, kind = 0, status_code = 0, dropped_attributes = 0,
           dropped_events = 0, dropped_links = 0;
  Column& attrs = t.column(13);
  Column& events = t.column(15);
  Column& links = t.column(17);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeBytes(f, trace_id);
          case 2:
            return takeBytes(f, span_id);
          case 3:
            return takeBytes(f, trace_state);
          case 4:
            return takeBytes(f, parent_span_id);
          case 5:
            return takeBytes(f, name);
          case 6:
            return takeVarint(f, kind);
          case 7:
            return takeFixed64(f, start);
          case 8:
            return takeFixed64(f, end);
          case 9:
            return appendAttribute(attrs, f);
          case 10:
            return takeVarint(f, dropped_attributes);
          case 11:
            return isBytes(f) && appendEvent(events.child(0), f.bytes);
          case 12:
            return takeVarint(f, dropped_events);
          case 13:
            return isBytes(f) && appendLink(links.child(0), f.bytes);
          case 14:
            return takeVarint(f, dropped_links);
          case 15:  // Status; occurrences merge, field by field
            return isBytes(f) && forEachField(f.bytes, [&](const Field& s) {
                     switch (s.number) {
                       case 2:
                         return takeBytes(s, status_message);
                       case 3:
                         return takeVarint(s, status_code);
                       default:
                         return true;
                     }
                   });
          case 16:
            return takeFixed32(f, flags);
          default:
            return true;
        }
      })) {
    return false;
  }
  const auto start_ns = static_cast<int64_t>(start);
  const auto end_ns = static_cast<int64_t>(end);
  range.add(start_ns);
  t.column(0).appendInt(start_ns);
  t.column(1).appendInt(end_ns);
  // Wrapping, as the decoded path computes it: times are untrusted and end may precede start.
  t.column(2).appendInt(
      static_cast<int64_t>(static_cast<uint64_t>(end_ns) - static_cast<uint64_t>(start_ns)));
  appendId(t.column(3), trace_id);
  appendId(t.column(4), span_id);
  appendId(t.column(5), parent_span_id);
  appendOptionalString(t.column(6), trace_state);
  t.column(7).appendInt(static_cast<uint32_t>(flags));
  t.column(8).appendBytes(name);
  t.column(9).appendInt(static_cast<int32_t>(kind));
  t.column(11).appendInt(static_cast<int32_t>(status_code));
  appendOptionalString(t.column(12), status_message);
  attrs.endList();
  t.column(14).appendInt(static_cast<uint32_t>(dropped_attributes));
  events.endList();
  t.column(16).appendInt(static_cast<uint32_t>(dropped_events));
  links.endList();
  t.column(18).appendInt(static_cast<uint32_t>(dropped_links));
  return true;
}

// --- log records -----------------------------------------------------------------------------

bool appendLogRecord(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  std::string_view severity_text, body, trace_id, span_id, event_name;
  uint64_t time = 0, observed = 0, severity = 0, dropped = 0, flags = 0;
  int bodies = 0;
  Column& attrs = t.column(5);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeFixed64(f, time);
          case 2:
            return takeVarint(f, severity);
          case 3:
            return takeBytes(f, severity_text);
          case 5:
            ++bodies;
            return takeBytes(f, body);
          case 6:
            return appendAttribute(attrs, f);
          case 7:
            return takeVarint(f, dropped);
          case 8:
            return takeFixed32(f, flags);
          case 9:
            return takeBytes(f, trace_id);
          case 10:
            return takeBytes(f, span_id);
          case 11:
            return takeFixed64(f, observed);
          case 12:
            return takeBytes(f, event_name);
          default:
            return true;
        }
      })) {
    return false;
  }
  if (bodies > 1) return false;  // protobuf merges them
  const auto time_ns = static_cast<int64_t>(time);
  const auto observed_ns = static_cast<int64_t>(observed);
  range.add(time_ns != 0 ? time_ns : observed_ns);
  t.column(0).appendInt(time_ns);
  t.column(1).appendInt(observed_ns);
  t.column(2).appendInt(static_cast<int32_t>(severity));
  appendOptionalString(t.column(3), severity_text);
  Column& body_column = t.column(4);
  if (bodies == 1) {
    if (!appendValue(body_column, 0, body)) return false;
    body_column.endStruct();
  } else {
    body_column.appendNull();
  }
  attrs.endList();
  t.column(6).appendInt(static_cast<uint32_t>(dropped));
  t.column(7).appendInt(static_cast<uint32_t>(flags));
  appendId(t.column(8), trace_id);
  appendId(t.column(9), span_id);
  appendOptionalString(t.column(10), event_name);
  return true;
}

// The service name, resource and scope columns of a scope's `items` rows: converted once, then
// copied in bulk. They are columns of their own, so they may follow the rows' other columns.
bool appendScopeColumns(ColumnTable& t, size_t service_name, size_t first, const Envelope& env,
                        size_t items) {
  if (!appendResourceScope(t, first, env)) return false;
  appendServiceName(t.column(service_name), t.column(first));
  t.column(service_name).repeatLastRow(items - 1);
  repeatResourceScope(t, first, items - 1);
  return true;
}

// --- metric data points ----------------------------------------------------------------------

// The `type` column's values, as appendMetrics() of otlp_columns.cc writes them (docs/STORAGE.md).
enum MetricType : uint8_t { kGauge = 1, kSum, kHistogram, kExpHistogram, kSummary };

inline double asDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// sint32 as protobuf reads it: the varint's low 32 bits, zigzag-decoded.
inline int32_t zigzag32(uint64_t value) {
  const auto n = static_cast<uint32_t>(value);
  return static_cast<int32_t>((n >> 1) ^ (~(n & 1) + 1));
}

// One occurrence of a repeated fixed64 or double field into the list items `items`: packed (one
// length-delimited field of 8-byte values) or not (one fixed64 field per value); protobuf takes
// both, in any mix.
inline bool appendFixed64s(Column& items, const Field& f, bool doubles) {
  auto append = [&](uint64_t v) {
    if (doubles) {
      items.appendDouble(asDouble(v));
    } else {
      items.appendInt(static_cast<int64_t>(v));
    }
  };
  if (isFixed64(f)) {
    append(f.value);
    return true;
  }
  if (!isBytes(f) || f.bytes.size() % 8 != 0) return false;  // protobuf rejects a partial value
  for (size_t i = 0; i < f.bytes.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, f.bytes.data() + i, 8);
    append(v);
  }
  return true;
}

// The same for a repeated uint64 (varints, packed or not).
inline bool appendVarints(Column& items, const Field& f) {
  if (isVarint(f)) {
    items.appendInt(static_cast<int64_t>(f.value));
    return true;
  }
  if (!isBytes(f)) return false;
  wire::Reader reader(f.bytes);
  while (!reader.done()) {
    uint64_t v;
    if (reader.readVarint(v) != wire::Stop::kNone) return false;
    items.appendInt(static_cast<int64_t>(v));
  }
  return true;
}

// One Exemplar into the item struct of the exemplars column.
bool appendExemplar(Column& ex, std::string_view bytes) {
  Column& attrs = ex.child(5);
  uint64_t time = 0, value = 0;
  uint32_t value_field = 0;  // the oneof's last member on the wire: 3 as_double, 6 as_int
  std::string_view span_id, trace_id;
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 2:
            return takeFixed64(f, time);
          case 3:
          case 6:
            value_field = f.number;
            return takeFixed64(f, value);
          case 4:
            return takeBytes(f, span_id);
          case 5:
            return takeBytes(f, trace_id);
          case 7:
            return appendAttribute(attrs, f);
          default:
            return true;
        }
      })) {
    return false;
  }
  ex.child(0).appendInt(static_cast<int64_t>(time));
  if (value_field == 6) {
    ex.child(1).appendInt(static_cast<int64_t>(value));
  } else {
    ex.child(1).appendNull();
  }
  if (value_field == 3) {
    ex.child(2).appendDouble(asDouble(value));
  } else {
    ex.child(2).appendNull();
  }
  appendId(ex.child(3), span_id);
  appendId(ex.child(4), trace_id);
  attrs.endList();
  ex.endStruct();
  return true;
}

inline bool appendExemplarField(ColumnTable& t, const Field& f) {
  return isBytes(f) && appendExemplar(t.column(28).child(0), f.bytes);
}

// What every point has: time, start time and flags (columns 0, 1, 11); its attributes (column
// 10) were appended while walking it and are closed here.
struct PointCommon {
  uint64_t time = 0, start = 0, flags = 0;
};

void appendPointCommon(ColumnTable& t, const PointCommon& p, TimeRange& range) {
  const auto time = static_cast<int64_t>(p.time);
  range.add(time);
  t.column(0).appendInt(time);
  t.column(1).appendInt(static_cast<int64_t>(p.start));
  t.column(10).endList();
  t.column(11).appendInt(static_cast<uint32_t>(p.flags));
}

inline void appendOptionalDouble(Column& c, bool has, uint64_t bits) {
  if (has) {
    c.appendDouble(asDouble(bits));
  } else {
    c.appendNull();
  }
}

inline void appendNulls(ColumnTable& t, size_t first, size_t last) {
  for (size_t c = first; c <= last; ++c) t.column(c).appendNull();
}

// NumberDataPoint (gauge and sum): value_int or value_double, exemplars; no histogram columns.
bool appendNumberPoint(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  PointCommon p;
  uint64_t value = 0;
  uint32_t value_field = 0;  // the oneof's last member on the wire: 4 as_double, 6 as_int
  Column& exemplars = t.column(28);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 2:
            return takeFixed64(f, p.start);
          case 3:
            return takeFixed64(f, p.time);
          case 4:
          case 6:
            value_field = f.number;
            return takeFixed64(f, value);
          case 5:
            return appendExemplarField(t, f);
          case 7:
            return appendAttribute(t.column(10), f);
          case 8:
            return takeVarint(f, p.flags);
          default:
            return true;
        }
      })) {
    return false;
  }
  appendPointCommon(t, p, range);
  if (value_field == 6) {
    t.column(12).appendInt(static_cast<int64_t>(value));
  } else {
    t.column(12).appendNull();
  }
  appendOptionalDouble(t.column(13), value_field == 4, value);
  appendNulls(t, 14, 27);
  exemplars.endList();
  return true;
}

bool appendHistogramPoint(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  PointCommon p;
  uint64_t count = 0, sum = 0, min = 0, max = 0;
  bool has_sum = false, has_min = false, has_max = false;
  Column& buckets = t.column(18);
  Column& bounds = t.column(19);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 2:
            return takeFixed64(f, p.start);
          case 3:
            return takeFixed64(f, p.time);
          case 4:
            return takeFixed64(f, count);
          case 5:
            has_sum = true;
            return takeFixed64(f, sum);
          case 6:
            return appendFixed64s(buckets.child(0), f, /*doubles=*/false);
          case 7:
            return appendFixed64s(bounds.child(0), f, /*doubles=*/true);
          case 8:
            return appendExemplarField(t, f);
          case 9:
            return appendAttribute(t.column(10), f);
          case 10:
            return takeVarint(f, p.flags);
          case 11:
            has_min = true;
            return takeFixed64(f, min);
          case 12:
            has_max = true;
            return takeFixed64(f, max);
          default:
            return true;
        }
      })) {
    return false;
  }
  appendPointCommon(t, p, range);
  appendNulls(t, 12, 13);
  t.column(14).appendInt(static_cast<int64_t>(count));
  appendOptionalDouble(t.column(15), has_sum, sum);
  appendOptionalDouble(t.column(16), has_min, min);
  appendOptionalDouble(t.column(17), has_max, max);
  buckets.endList();
  bounds.endList();
  appendNulls(t, 20, 27);
  t.column(28).endList();
  return true;
}

// ExponentialHistogramDataPoint.Buckets: occurrences merge (the last offset, the counts of all).
bool appendExpBuckets(Column& counts, std::string_view bytes, uint64_t& offset) {
  return forEachField(bytes, [&](const Field& f) {
    switch (f.number) {
      case 1:
        return takeVarint(f, offset);
      case 2:
        return appendVarints(counts.child(0), f);
      default:
        return true;
    }
  });
}

bool appendExpHistogramPoint(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  PointCommon p;
  uint64_t count = 0, sum = 0, min = 0, max = 0, scale = 0, zero_count = 0, zero_threshold = 0,
           positive_offset = 0, negative_offset = 0;
  bool has_sum = false, has_min = false, has_max = false, has_positive = false,
       has_negative = false;
  Column& positive = t.column(24);
  Column& negative = t.column(26);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return appendAttribute(t.column(10), f);
          case 2:
            return takeFixed64(f, p.start);
          case 3:
            return takeFixed64(f, p.time);
          case 4:
            return takeFixed64(f, count);
          case 5:
            has_sum = true;
            return takeFixed64(f, sum);
          case 6:
            return takeVarint(f, scale);
          case 7:
            return takeFixed64(f, zero_count);
          case 8:
            has_positive = true;
            return isBytes(f) && appendExpBuckets(positive, f.bytes, positive_offset);
          case 9:
            has_negative = true;
            return isBytes(f) && appendExpBuckets(negative, f.bytes, negative_offset);
          case 10:
            return takeVarint(f, p.flags);
          case 11:
            return appendExemplarField(t, f);
          case 12:
            has_min = true;
            return takeFixed64(f, min);
          case 13:
            has_max = true;
            return takeFixed64(f, max);
          case 14:
            return takeFixed64(f, zero_threshold);
          default:
            return true;
        }
      })) {
    return false;
  }
  appendPointCommon(t, p, range);
  appendNulls(t, 12, 13);
  t.column(14).appendInt(static_cast<int64_t>(count));
  appendOptionalDouble(t.column(15), has_sum, sum);
  appendOptionalDouble(t.column(16), has_min, min);
  appendOptionalDouble(t.column(17), has_max, max);
  appendNulls(t, 18, 19);
  t.column(20).appendInt(zigzag32(scale));
  t.column(21).appendInt(static_cast<int64_t>(zero_count));
  t.column(22).appendDouble(asDouble(zero_threshold));
  auto close = [&](Column& offset, Column& counts, bool has, uint64_t offset_value) {
    if (has) {
      offset.appendInt(zigzag32(offset_value));
      counts.endList();
    } else {
      offset.appendNull();
      counts.appendNull();
    }
  };
  close(t.column(23), positive, has_positive, positive_offset);
  close(t.column(25), negative, has_negative, negative_offset);
  t.column(27).appendNull();
  t.column(28).endList();
  return true;
}

bool appendQuantile(Column& q, std::string_view bytes) {
  uint64_t quantile = 0, value = 0;
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeFixed64(f, quantile);
          case 2:
            return takeFixed64(f, value);
          default:
            return true;
        }
      })) {
    return false;
  }
  q.child(0).appendDouble(asDouble(quantile));
  q.child(1).appendDouble(asDouble(value));
  q.endStruct();
  return true;
}

bool appendSummaryPoint(ColumnTable& t, std::string_view bytes, TimeRange& range) {
  PointCommon p;
  uint64_t count = 0, sum = 0;
  Column& quantiles = t.column(27);
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 2:
            return takeFixed64(f, p.start);
          case 3:
            return takeFixed64(f, p.time);
          case 4:
            return takeFixed64(f, count);
          case 5:
            return takeFixed64(f, sum);
          case 6:
            return isBytes(f) && appendQuantile(quantiles.child(0), f.bytes);
          case 7:
            return appendAttribute(t.column(10), f);
          case 8:
            return takeVarint(f, p.flags);
          default:
            return true;
        }
      })) {
    return false;
  }
  appendPointCommon(t, p, range);
  appendNulls(t, 12, 13);
  t.column(14).appendInt(static_cast<int64_t>(count));
  t.column(15).appendDouble(asDouble(sum));
  appendNulls(t, 16, 26);
  quantiles.endList();
  t.column(28).appendNull();
  return true;
}

// One Metric: a row per data point. The metric's own columns (name ... metadata, 2..8) are
// converted once and copied to its other points; the walk gives up on a metric with more than
// one data field (protobuf keeps the last member of the oneof, merging repeats of it).
bool appendMetric(ColumnTable& t, std::string_view bytes, TimeRange& range, size_t& rows) {
  std::string_view name, description, unit, data;
  uint32_t data_field = 0;
  int data_fields = 0;
  if (!forEachField(bytes, [&](const Field& f) {
        switch (f.number) {
          case 1:
            return takeBytes(f, name);
          case 2:
            return takeBytes(f, description);
          case 3:
            return takeBytes(f, unit);
          case 5:
          case 7:
          case 9:
          case 10:
          case 11:
            data_field = f.number;
            ++data_fields;
            return takeBytes(f, data);
          case 12:
            return isBytes(f);
          default:
            return true;
        }
      })) {
    return false;
  }
  if (data_fields == 0) return true;  // no data: no rows
  if (data_fields > 1) return false;
  uint8_t type = 0;
  bool (*appendPoint)(ColumnTable&, std::string_view, TimeRange&) = nullptr;
  switch (data_field) {
    case 5:
      type = kGauge;
      appendPoint = appendNumberPoint;
      break;
    case 7:
      type = kSum;
      appendPoint = appendNumberPoint;
      break;
    case 9:
      type = kHistogram;
      appendPoint = appendHistogramPoint;
      break;
    case 10:
      type = kExpHistogram;
      appendPoint = appendExpHistogramPoint;
      break;
    default:
      type = kSummary;
      appendPoint = appendSummaryPoint;
      break;
  }
  const bool has_temporality = type == kSum || type == kHistogram || type == kExpHistogram;
  uint64_t temporality = 0, monotonic = 0;
  size_t points = 0;
  if (!forEachField(data, [&](const Field& f) {
        switch (f.number) {
          case 1:
            if (!isBytes(f)) return false;
            ++points;
            return appendPoint(t, f.bytes, range);
          case 2:  // Gauge and Summary have no field 2 or 3: unknown fields there
            return !has_temporality || takeVarint(f, temporality);
          case 3:
            return type != kSum || takeVarint(f, monotonic);
          default:
            return true;
        }
      })) {
    return false;
  }
  if (points == 0) return true;
  t.column(2).appendBytes(name);
  appendOptionalString(t.column(3), description);
  appendOptionalString(t.column(4), unit);
  t.column(5).appendInt(type);
  if (has_temporality) {
    t.column(6).appendInt(static_cast<int32_t>(temporality));
  } else {
    t.column(6).appendNull();
  }
  if (type == kSum) {
    t.column(7).appendBool(monotonic != 0);
  } else {
    t.column(7).appendNull();
  }
  Column& metadata = t.column(8);
  if (!forEachField(
          bytes, [&](const Field& f) { return f.number != 12 || appendAttribute(metadata, f); })) {
    return false;
  }
  metadata.endList();
  for (size_t c = 2; c <= 8; ++c) t.column(c).repeatLastRow(points - 1);
  rows += points;
  return true;
}

// A walk that gives up inside a row may have appended items of the row's lists (attributes,
// events, exemplars, buckets) and members of its structs, which no endList()/endStruct() closed.
// ColumnTable::truncateRows() looks only below the rows it drops, so those are dropped here:
// every child back to the length its parent's closed rows use.
void dropUnclosed(Column& c) {
  switch (c.spec().type) {
    case ColumnType::kList: {
      const size_t items = c.length() == 0 ? 0 : c.listRange(c.length() - 1).second;
      c.child(0).truncate(items);
      dropUnclosed(c.child(0));
      break;
    }
    case ColumnType::kStruct:
      for (size_t i = 0; i < c.childCount(); ++i) {
        c.child(i).truncate(c.length());
        dropUnclosed(c.child(i));
      }
      break;
    default:
      break;
  }
}

bool gaveUp(ColumnTable& t) {
  for (size_t c = 0; c < t.columnCount(); ++c) dropUnclosed(t.column(c));
  return false;
}

// The members attribute values left lagging (member()) catch up: the table leaves the
// conversion with every struct whole, as readers, row copies and the writer expect.
bool finished(ColumnTable& t) {
  t.padLaggingMembers();
  return true;
}

}  // namespace

bool appendTracesWire(std::string_view request_bytes, ColumnTable& t, TimeRange& range) {
  return forEachItem(
             request_bytes, [&](std::string_view span) { return appendSpan(t, span, range); },
             [&](const Envelope& env, size_t spans) {
               return appendScopeColumns(t, span_col::kServiceName, kSpanResourceColumn, env,
                                         spans);
             })
             ? finished(t)
             : gaveUp(t);
}

bool appendLogsWire(std::string_view request_bytes, ColumnTable& t, TimeRange& range) {
  return forEachItem(
             request_bytes,
             [&](std::string_view record) { return appendLogRecord(t, record, range); },
             [&](const Envelope& env, size_t records) {
               return appendScopeColumns(t, log_col::kServiceName, kLogResourceColumn, env,
                                         records);
             })
             ? finished(t)
             : gaveUp(t);
}

bool appendMetricsWire(std::string_view request_bytes, ColumnTable& t, TimeRange& range) {
  size_t scope_rows = 0;  // the rows of the scope being walked: a metric has a row per point
  return forEachItem(
             request_bytes,
             [&](std::string_view metric) { return appendMetric(t, metric, range, scope_rows); },
             [&](const Envelope& env, size_t) {
               const size_t rows = scope_rows;
               scope_rows = 0;
               return rows == 0 || appendScopeColumns(t, metric_col::kServiceName,
                                                      kMetricResourceColumn, env, rows);
             })
             ? finished(t)
             : gaveUp(t);
}

}  // namespace otlpd::store
