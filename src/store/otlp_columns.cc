#include "store/otlp_columns.h"

#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "otlp/json_codec.h"

namespace otlpd::store {
namespace {

using otlp::pb_common::AnyValue;
using otlp::pb_common::KeyValue;
using KeyValues = google::protobuf::RepeatedPtrField<KeyValue>;
using CT = ColumnType;

FieldSpec f(std::string name, CT type, bool nullable = true) {
  return FieldSpec{std::move(name), type, nullable, 0, false, {}};
}
FieldSpec dict(std::string name, bool nullable = true) {
  return FieldSpec{std::move(name), CT::kUtf8, nullable, 0, true, {}};
}
FieldSpec fixed(std::string name, int32_t width) {
  return FieldSpec{std::move(name), CT::kFixedBinary, true, width, false, {}};
}
FieldSpec list(std::string name, FieldSpec item) {
  item.name = "item";
  return FieldSpec{std::move(name), CT::kList, true, 0, false, {std::move(item)}};
}
FieldSpec strct(std::string name, std::vector<FieldSpec> members) {
  return FieldSpec{std::move(name), CT::kStruct, true, 0, false, std::move(members)};
}
// Typed values: exactly one of str/int/double/bool/bytes is set, as `type` says. Arrays and
// key/value lists are OTLP/JSON of the AnyValue in `str`, so nothing is lost and text search
// still works.
FieldSpec valueStruct(std::string name) {
  return strct(std::move(name),
               {f("type", CT::kUInt8), f("str", CT::kUtf8), f("int", CT::kInt64),
                f("double", CT::kFloat64), f("bool", CT::kBool), f("bytes", CT::kBinary)});
}
// Which on-disk layout the schema being built is for (docs/STORAGE.md, "Layout versions"). Set
// only by makeFields(), which runs inside fieldsFor()'s function-static initialisers (one thread
// at a time), so that the make*Fields() builders stay one definition per signal.
int g_layout = kStoreLayoutVersion;

// Layout 2 dictionary-encodes every attribute key (a file holds a few hundred distinct keys, and
// a query for a key the dictionary lacks skips the file's batches without decoding them), and
// the string values of resource and scope attributes (one resource per process, repeated on
// each of its rows). Layout 1 stored both as plain strings: ~3x the wire bytes per span.
// Layout 3 gives the other attribute lists `str_dict`, a dictionary-encoded member for string
// values the file has seen before (Dictionary::indexIfRepeated): many repeat (methods, routes,
// SQL), many never do (URLs with ids), and a dictionary of every value grew with the latter.
enum class StringValues { kDictionary, kDictionaryWhenRepeated };
FieldSpec attrs(std::string name, StringValues values = StringValues::kDictionaryWhenRepeated) {
  FieldSpec v = valueStruct("item");
  FieldSpec key = f("key", CT::kUtf8, false);
  if (g_layout >= 2) {
    key.dictionary = true;
    if (values == StringValues::kDictionary) v.children[1].dictionary = true;  // str
  }
  if (g_layout >= 3 && values == StringValues::kDictionaryWhenRepeated) {
    FieldSpec repeated = f("str_dict", CT::kUtf8);
    repeated.dictionary = true;
    v.children.push_back(std::move(repeated));
  }
  v.children.insert(v.children.begin(), std::move(key));
  return list(std::move(name), std::move(v));
}
void addResourceScope(std::vector<FieldSpec>& v) {
  v.push_back(attrs("resource_attributes", StringValues::kDictionary));
  v.push_back(f("resource_dropped_attributes_count", CT::kUInt32));
  v.push_back(list("resource_entity_refs", f("item", CT::kUtf8)));
  v.push_back(f("resource_schema_url", CT::kUtf8));
  v.push_back(dict("scope_name"));
  v.push_back(f("scope_version", CT::kUtf8));
  v.push_back(attrs("scope_attributes", StringValues::kDictionary));
  v.push_back(f("scope_dropped_attributes_count", CT::kUInt32));
  v.push_back(f("scope_schema_url", CT::kUtf8));
}
constexpr size_t kResourceScopeColumns = kResourceScopeColumnCount;  // addResourceScope() adds

std::vector<FieldSpec> makeSpanFields() {
  std::vector<FieldSpec> v{
      f("start_time", CT::kTimestampNs, false),
      f("end_time", CT::kTimestampNs, false),
      f("duration", CT::kDurationNs, false),
      fixed("trace_id", 16),
      fixed("span_id", 8),
      fixed("parent_span_id", 8),
      f("trace_state", CT::kUtf8),
      f("flags", CT::kUInt32),
      dict("name"),
      f("kind", CT::kInt32),
      dict("service_name"),
      f("status_code", CT::kInt32),
      f("status_message", CT::kUtf8),
      attrs("attributes"),
      f("dropped_attributes_count", CT::kUInt32),
      list("events",
           strct("item", {f("time", CT::kTimestampNs), f("name", CT::kUtf8), attrs("attributes"),
                          f("dropped_attributes_count", CT::kUInt32)})),
      f("dropped_events_count", CT::kUInt32),
      list("links",
           strct("item", {fixed("trace_id", 16), fixed("span_id", 8), f("trace_state", CT::kUtf8),
                          attrs("attributes"), f("dropped_attributes_count", CT::kUInt32),
                          f("flags", CT::kUInt32)})),
      f("dropped_links_count", CT::kUInt32),
  };
  addResourceScope(v);
  return v;
}
constexpr size_t kSpanResource = kSpanResourceColumn;

std::vector<FieldSpec> makeLogFields() {
  std::vector<FieldSpec> v{
      f("time", CT::kTimestampNs, false),
      f("observed_time", CT::kTimestampNs, false),
      f("severity_number", CT::kInt32),
      dict("severity_text"),
      valueStruct("body"),
      attrs("attributes"),
      f("dropped_attributes_count", CT::kUInt32),
      f("flags", CT::kUInt32),
      fixed("trace_id", 16),
      fixed("span_id", 8),
      f("event_name", CT::kUtf8),
      dict("service_name"),
  };
  addResourceScope(v);
  return v;
}
constexpr size_t kLogResource = kLogResourceColumn;

std::vector<FieldSpec> makeMetricFields() {
  std::vector<FieldSpec> v{
      f("time", CT::kTimestampNs, false),
      f("start_time", CT::kTimestampNs, false),
      dict("name"),
      f("description", CT::kUtf8),
      dict("unit"),
      f("type", CT::kUInt8),
      f("temporality", CT::kInt32),
      f("is_monotonic", CT::kBool),
      attrs("metadata"),
      dict("service_name"),
      attrs("attributes"),
      f("flags", CT::kUInt32),
      f("value_int", CT::kInt64),
      f("value_double", CT::kFloat64),
      f("count", CT::kUInt64),
      f("sum", CT::kFloat64),
      f("min", CT::kFloat64),
      f("max", CT::kFloat64),
      list("bucket_counts", f("item", CT::kUInt64)),
      list("explicit_bounds", f("item", CT::kFloat64)),
      f("scale", CT::kInt32),
      f("zero_count", CT::kUInt64),
      f("zero_threshold", CT::kFloat64),
      f("positive_offset", CT::kInt32),
      list("positive_bucket_counts", f("item", CT::kUInt64)),
      f("negative_offset", CT::kInt32),
      list("negative_bucket_counts", f("item", CT::kUInt64)),
      list("quantile_values",
           strct("item", {f("quantile", CT::kFloat64), f("value", CT::kFloat64)})),
      list("exemplars", strct("item", {f("time", CT::kTimestampNs), f("value_int", CT::kInt64),
                                       f("value_double", CT::kFloat64), fixed("span_id", 8),
                                       fixed("trace_id", 16), attrs("filtered_attributes")})),
  };
  addResourceScope(v);
  return v;
}
constexpr size_t kMetricResource = kMetricResourceColumn;

enum MetricType : uint8_t { kGauge = 1, kSum, kHistogram, kExpHistogram, kSummary };

// --- writing ---------------------------------------------------------------------------------

void appendValue(Column& v, const AnyValue& a, size_t first) {
  Column& type = v.child(first);
  Column& str = v.child(first + 1);
  Column& i64 = v.child(first + 2);
  Column& dbl = v.child(first + 3);
  Column& bln = v.child(first + 4);
  Column& bytes = v.child(first + 5);
  ValueType t = ValueType::kEmpty;
  switch (a.value_case()) {
    case AnyValue::kStringValue:
      t = ValueType::kString;
      break;
    case AnyValue::kBoolValue:
      t = ValueType::kBool;
      break;
    case AnyValue::kIntValue:
      t = ValueType::kInt;
      break;
    case AnyValue::kDoubleValue:
      t = ValueType::kDouble;
      break;
    case AnyValue::kBytesValue:
      t = ValueType::kBytes;
      break;
    case AnyValue::kArrayValue:
      t = ValueType::kArray;
      break;
    case AnyValue::kKvlistValue:
      t = ValueType::kKvList;
      break;
    default:
      break;
  }
  type.appendInt(static_cast<int64_t>(t));
  // Layout 3's span attributes: a string that repeats goes to the dictionary-encoded member.
  const bool has_repeated = hasRepeatedStrings(v, first);
  const bool in_repeated =
      has_repeated && t == ValueType::kString && appendIfRepeated(v, first, a.string_value());
  if (has_repeated && !in_repeated) v.child(first + 6).appendNull();
  if (in_repeated) {
    str.appendNull();
  } else if (t == ValueType::kString) {
    str.appendBytes(a.string_value());
  } else if (t == ValueType::kArray || t == ValueType::kKvList) {
    str.appendBytes(otlp::toOtlpJson(a));
  } else {
    str.appendNull();
  }
  if (t == ValueType::kInt)
    i64.appendInt(a.int_value());
  else
    i64.appendNull();
  if (t == ValueType::kDouble)
    dbl.appendDouble(a.double_value());
  else
    dbl.appendNull();
  if (t == ValueType::kBool)
    bln.appendBool(a.bool_value());
  else
    bln.appendNull();
  if (t == ValueType::kBytes)
    bytes.appendBytes(a.bytes_value());
  else
    bytes.appendNull();
}

void appendAttrs(Column& list, const KeyValues& kvs) {
  Column& item = list.child(0);
  for (const KeyValue& kv : kvs) {
    item.child(0).appendBytes(kv.key());
    appendValue(item, kv.value(), 1);
    item.endStruct();
  }
  list.endList();
}

std::string_view serviceName(const otlp::pb_resource::Resource& r) {
  for (const KeyValue& kv : r.attributes()) {
    if (kv.key() == "service.name" && kv.value().has_string_value())
      return kv.value().string_value();
  }
  return {};
}

void appendServiceName(Column& c, const otlp::pb_resource::Resource& r) {
  std::string_view s = serviceName(r);
  if (s.empty()) {
    c.appendNull();
  } else {
    c.appendBytes(s);
  }
}

void appendResourceScope(ColumnTable& t, size_t first, const otlp::pb_resource::Resource& r,
                         const std::string& resource_schema_url,
                         const otlp::pb_common::InstrumentationScope& s,
                         const std::string& scope_schema_url) {
  appendAttrs(t.column(first), r.attributes());
  t.column(first + 1).appendInt(r.dropped_attributes_count());
  Column& refs = t.column(first + 2);
  for (const auto& ref : r.entity_refs()) refs.child(0).appendBytes(otlp::toOtlpJson(ref));
  refs.endList();
  appendOptionalString(t.column(first + 3), resource_schema_url);
  t.column(first + 4).appendBytes(s.name());
  appendOptionalString(t.column(first + 5), s.version());
  appendAttrs(t.column(first + 6), s.attributes());
  t.column(first + 7).appendInt(s.dropped_attributes_count());
  appendOptionalString(t.column(first + 8), scope_schema_url);
}

// The resource and scope columns of the row before, again: every row of a scope repeats them.
void repeatResourceScope(ColumnTable& t, size_t first) {
  for (size_t c = first; c < first + kResourceScopeColumns; ++c) t.column(c).repeatLastRow();
}

// The service name, resource and scope columns of a scope's `rows` rows: converted once, then
// copied in bulk. They are columns of their own, so they may follow the rows' other columns.
void appendScopeColumns(ColumnTable& t, size_t service_name, size_t first,
                        const otlp::pb_resource::Resource& r,
                        const std::string& resource_schema_url,
                        const otlp::pb_common::InstrumentationScope& s,
                        const std::string& scope_schema_url, size_t rows) {
  if (rows == 0) return;
  appendServiceName(t.column(service_name), r);
  appendResourceScope(t, first, r, resource_schema_url, s, scope_schema_url);
  t.column(service_name).repeatLastRow(rows - 1);
  for (size_t c = first; c < first + kResourceScopeColumns; ++c) {
    t.column(c).repeatLastRow(rows - 1);
  }
}

}  // namespace

void appendAnyValue(Column& value_struct, const AnyValue& value, size_t first) {
  appendValue(value_struct, value, first);
}

namespace {
struct SignalFields {
  std::vector<FieldSpec> spans, logs, metrics;
};
SignalFields makeFields(int layout) {
  g_layout = layout;
  SignalFields out{makeSpanFields(), makeLogFields(), makeMetricFields()};
  g_layout = kStoreLayoutVersion;
  return out;
}
}  // namespace

const std::vector<FieldSpec>& fieldsFor(pipeline::Signal signal, int layout) {
  static const SignalFields v1 = makeFields(1);
  static const SignalFields v2 = makeFields(2);
  static const SignalFields v3 = makeFields(3);
  const SignalFields& x = layout == 1 ? v1 : layout == 2 ? v2 : v3;
  switch (signal) {
    case pipeline::Signal::kTraces:
      return x.spans;
    case pipeline::Signal::kLogs:
      return x.logs;
    case pipeline::Signal::kMetrics:
      break;
  }
  return x.metrics;
}

namespace {
bool sameShape(const std::vector<FieldSpec>& a, const std::vector<FieldSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].byte_width != b[i].byte_width ||
        a[i].dictionary != b[i].dictionary || !sameShape(a[i].children, b[i].children)) {
      return false;
    }
  }
  return true;
}
}  // namespace

int storeLayoutOf(const std::vector<FieldSpec>& fields, pipeline::Signal signal) {
  for (int layout = kStoreLayoutVersion; layout >= 1; --layout) {
    if (sameShape(fields, fieldsFor(signal, layout))) return layout;
  }
  return 0;
}

const std::vector<FieldSpec>& fieldsFor(pipeline::Signal signal) {
  return fieldsFor(signal, kStoreLayoutVersion);
}

void appendTraces(const otlp::TracesRequest& request, ColumnTable& t, TimeRange& range) {
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        const auto start = static_cast<int64_t>(span.start_time_unix_nano());
        const auto end = static_cast<int64_t>(span.end_time_unix_nano());
        range.add(start);
        t.column(0).appendInt(start);
        t.column(1).appendInt(end);
        // Wrapping (never signed overflow): times are untrusted and end may precede start.
        t.column(2).appendInt(
            static_cast<int64_t>(span.end_time_unix_nano() - span.start_time_unix_nano()));
        appendId(t.column(3), span.trace_id());
        appendId(t.column(4), span.span_id());
        appendId(t.column(5), span.parent_span_id());
        appendOptionalString(t.column(6), span.trace_state());
        t.column(7).appendInt(span.flags());
        t.column(8).appendBytes(span.name());
        t.column(9).appendInt(span.kind());
        t.column(11).appendInt(span.status().code());
        appendOptionalString(t.column(12), span.status().message());
        appendAttrs(t.column(13), span.attributes());
        t.column(14).appendInt(span.dropped_attributes_count());
        Column& events = t.column(15);
        Column& ev = events.child(0);
        for (const auto& e : span.events()) {
          ev.child(0).appendInt(static_cast<int64_t>(e.time_unix_nano()));
          ev.child(1).appendBytes(e.name());
          appendAttrs(ev.child(2), e.attributes());
          ev.child(3).appendInt(e.dropped_attributes_count());
          ev.endStruct();
        }
        events.endList();
        t.column(16).appendInt(span.dropped_events_count());
        Column& links = t.column(17);
        Column& lk = links.child(0);
        for (const auto& l : span.links()) {
          appendId(lk.child(0), l.trace_id());
          appendId(lk.child(1), l.span_id());
          appendOptionalString(lk.child(2), l.trace_state());
          appendAttrs(lk.child(3), l.attributes());
          lk.child(4).appendInt(l.dropped_attributes_count());
          lk.child(5).appendInt(l.flags());
          lk.endStruct();
        }
        links.endList();
        t.column(18).appendInt(span.dropped_links_count());
      }
      appendScopeColumns(t, span_col::kServiceName, kSpanResource, rs.resource(), rs.schema_url(),
                         ss.scope(), ss.schema_url(), static_cast<size_t>(ss.spans_size()));
    }
  }
}

void appendLogs(const otlp::LogsRequest& request, ColumnTable& t, TimeRange& range) {
  for (const auto& rl : request.resource_logs()) {
    for (const auto& sl : rl.scope_logs()) {
      for (const auto& r : sl.log_records()) {
        const auto time = static_cast<int64_t>(r.time_unix_nano());
        const auto observed = static_cast<int64_t>(r.observed_time_unix_nano());
        range.add(time != 0 ? time : observed);
        t.column(0).appendInt(time);
        t.column(1).appendInt(observed);
        t.column(2).appendInt(r.severity_number());
        appendOptionalString(t.column(3), r.severity_text());
        Column& body = t.column(4);
        if (r.has_body()) {
          appendValue(body, r.body(), 0);
          body.endStruct();
        } else {
          body.appendNull();
        }
        appendAttrs(t.column(5), r.attributes());
        t.column(6).appendInt(r.dropped_attributes_count());
        t.column(7).appendInt(r.flags());
        appendId(t.column(8), r.trace_id());
        appendId(t.column(9), r.span_id());
        appendOptionalString(t.column(10), r.event_name());
      }
      appendScopeColumns(t, log_col::kServiceName, kLogResource, rl.resource(), rl.schema_url(),
                         sl.scope(), sl.schema_url(), static_cast<size_t>(sl.log_records_size()));
    }
  }
}

namespace {

struct MetricRow {
  uint8_t type;
  int32_t temporality;
  bool monotonic;
};

void appendMetricCommon(ColumnTable& t, const otlp::pb_metrics::Metric& m, MetricRow mr,
                        uint64_t time, uint64_t start, const KeyValues& attributes, uint32_t flags,
                        const otlp::pb_resource::Resource& resource, TimeRange& range) {
  range.add(static_cast<int64_t>(time));
  t.column(0).appendInt(static_cast<int64_t>(time));
  t.column(1).appendInt(static_cast<int64_t>(start));
  t.column(2).appendBytes(m.name());
  appendOptionalString(t.column(3), m.description());
  appendOptionalString(t.column(4), m.unit());
  t.column(5).appendInt(mr.type);
  if (mr.type == kSum || mr.type == kHistogram || mr.type == kExpHistogram) {
    t.column(6).appendInt(mr.temporality);
  } else {
    t.column(6).appendNull();
  }
  if (mr.type == kSum) {
    t.column(7).appendBool(mr.monotonic);
  } else {
    t.column(7).appendNull();
  }
  appendAttrs(t.column(8), m.metadata());
  appendServiceName(t.column(9), resource);
  appendAttrs(t.column(10), attributes);
  t.column(11).appendInt(flags);
}

void appendBuckets(Column& c, const google::protobuf::RepeatedField<uint64_t>& v) {
  for (uint64_t x : v) c.child(0).appendInt(static_cast<int64_t>(x));
  c.endList();
}

void appendExemplars(Column& c,
                     const google::protobuf::RepeatedPtrField<otlp::pb_metrics::Exemplar>& v) {
  Column& e = c.child(0);
  for (const auto& x : v) {
    e.child(0).appendInt(static_cast<int64_t>(x.time_unix_nano()));
    if (x.value_case() == otlp::pb_metrics::Exemplar::kAsInt)
      e.child(1).appendInt(x.as_int());
    else
      e.child(1).appendNull();
    if (x.value_case() == otlp::pb_metrics::Exemplar::kAsDouble)
      e.child(2).appendDouble(x.as_double());
    else
      e.child(2).appendNull();
    appendId(e.child(3), x.span_id());
    appendId(e.child(4), x.trace_id());
    appendAttrs(e.child(5), x.filtered_attributes());
    e.endStruct();
  }
  c.endList();
}

struct Point {
  const otlp::pb_metrics::NumberDataPoint* number = nullptr;
  const otlp::pb_metrics::HistogramDataPoint* histogram = nullptr;
  const otlp::pb_metrics::ExponentialHistogramDataPoint* exponential = nullptr;
  const otlp::pb_metrics::SummaryDataPoint* summary = nullptr;
};

void appendOptionalDouble(Column& c, bool has, double v) {
  if (has) {
    c.appendDouble(v);
  } else {
    c.appendNull();
  }
}

void appendExpBuckets(Column& offset, Column& counts, bool has,
                      const otlp::pb_metrics::ExponentialHistogramDataPoint::Buckets& b) {
  if (has) {
    offset.appendInt(b.offset());
    appendBuckets(counts, b.bucket_counts());
  } else {
    offset.appendNull();
    counts.appendNull();
  }
}

// Columns 12..28: the value columns, each set or null depending on the point's type.
void appendPointValues(ColumnTable& t, const Point& p) {
  using N = otlp::pb_metrics::NumberDataPoint;
  const auto* n = p.number;
  const auto* h = p.histogram;
  const auto* e = p.exponential;
  const auto* s = p.summary;
  if (n != nullptr && n->value_case() == N::kAsInt)
    t.column(12).appendInt(n->as_int());
  else
    t.column(12).appendNull();
  if (n != nullptr && n->value_case() == N::kAsDouble)
    t.column(13).appendDouble(n->as_double());
  else
    t.column(13).appendNull();
  if (h != nullptr) {
    t.column(14).appendInt(static_cast<int64_t>(h->count()));
    appendOptionalDouble(t.column(15), h->has_sum(), h->sum());
    appendOptionalDouble(t.column(16), h->has_min(), h->min());
    appendOptionalDouble(t.column(17), h->has_max(), h->max());
    appendBuckets(t.column(18), h->bucket_counts());
    for (double b : h->explicit_bounds()) t.column(19).child(0).appendDouble(b);
    t.column(19).endList();
  } else if (e != nullptr) {
    t.column(14).appendInt(static_cast<int64_t>(e->count()));
    appendOptionalDouble(t.column(15), e->has_sum(), e->sum());
    appendOptionalDouble(t.column(16), e->has_min(), e->min());
    appendOptionalDouble(t.column(17), e->has_max(), e->max());
    t.column(18).appendNull();
    t.column(19).appendNull();
  } else if (s != nullptr) {
    t.column(14).appendInt(static_cast<int64_t>(s->count()));
    t.column(15).appendDouble(s->sum());
    t.column(16).appendNull();
    t.column(17).appendNull();
    t.column(18).appendNull();
    t.column(19).appendNull();
  } else {
    for (size_t i = 14; i <= 19; ++i) t.column(i).appendNull();
  }
  if (e != nullptr) {
    t.column(20).appendInt(e->scale());
    t.column(21).appendInt(static_cast<int64_t>(e->zero_count()));
    t.column(22).appendDouble(e->zero_threshold());
    appendExpBuckets(t.column(23), t.column(24), e->has_positive(), e->positive());
    appendExpBuckets(t.column(25), t.column(26), e->has_negative(), e->negative());
  } else {
    for (size_t i = 20; i <= 26; ++i) t.column(i).appendNull();
  }
  if (s != nullptr) {
    Column& q = t.column(27).child(0);
    for (const auto& v : s->quantile_values()) {
      q.child(0).appendDouble(v.quantile());
      q.child(1).appendDouble(v.value());
      q.endStruct();
    }
    t.column(27).endList();
  } else {
    t.column(27).appendNull();
  }
  if (n != nullptr) {
    appendExemplars(t.column(28), n->exemplars());
  } else if (h != nullptr) {
    appendExemplars(t.column(28), h->exemplars());
  } else if (e != nullptr) {
    appendExemplars(t.column(28), e->exemplars());
  } else {
    t.column(28).appendNull();
  }
}

}  // namespace

void appendMetrics(const otlp::MetricsRequest& request, ColumnTable& t, TimeRange& range) {
  using M = otlp::pb_metrics::Metric;
  for (const auto& rm : request.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      auto common = [&](const M& m, MetricRow mr, const auto& p) {
        appendMetricCommon(t, m, mr, p.time_unix_nano(), p.start_time_unix_nano(), p.attributes(),
                           p.flags(), rm.resource(), range);
      };
      bool first_of_scope = true;
      auto rs = [&] {
        if (first_of_scope) {
          appendResourceScope(t, kMetricResource, rm.resource(), rm.schema_url(), sm.scope(),
                              sm.schema_url());
        } else {
          repeatResourceScope(t, kMetricResource);
        }
        first_of_scope = false;
      };
      for (const M& m : sm.metrics()) {
        switch (m.data_case()) {
          case M::kGauge:
            for (const auto& p : m.gauge().data_points()) {
              common(m, {kGauge, 0, false}, p);
              appendPointValues(t, Point{&p, nullptr, nullptr, nullptr});
              rs();
            }
            break;
          case M::kSum:
            for (const auto& p : m.sum().data_points()) {
              common(m, {kSum, m.sum().aggregation_temporality(), m.sum().is_monotonic()}, p);
              appendPointValues(t, Point{&p, nullptr, nullptr, nullptr});
              rs();
            }
            break;
          case M::kHistogram:
            for (const auto& p : m.histogram().data_points()) {
              common(m, {kHistogram, m.histogram().aggregation_temporality(), false}, p);
              appendPointValues(t, Point{nullptr, &p, nullptr, nullptr});
              rs();
            }
            break;
          case M::kExponentialHistogram:
            for (const auto& p : m.exponential_histogram().data_points()) {
              common(m, {kExpHistogram, m.exponential_histogram().aggregation_temporality(), false},
                     p);
              appendPointValues(t, Point{nullptr, nullptr, &p, nullptr});
              rs();
            }
            break;
          case M::kSummary:
            for (const auto& p : m.summary().data_points()) {
              common(m, {kSummary, 0, false}, p);
              appendPointValues(t, Point{nullptr, nullptr, nullptr, &p});
              rs();
            }
            break;
          default:
            break;
        }
      }
    }
  }
}

// --- reading -----------------------------------------------------------------------------------

namespace {

bool sameCell(const Column& c, size_t a, size_t b) {
  const bool na = c.isNull(a), nb = c.isNull(b);
  if (na || nb) return na == nb;
  const FieldSpec& s = c.spec();
  switch (s.type) {
    case CT::kBool:
      return c.boolAt(a) == c.boolAt(b);
    case CT::kUtf8:
    case CT::kBinary:
    case CT::kFixedBinary:
      return c.bytesAt(a) == c.bytesAt(b);
    case CT::kFloat64: {
      const double x = c.doubleAt(a), y = c.doubleAt(b);
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case CT::kList: {
      auto [ab, ae] = c.listRange(a);
      auto [bb, be] = c.listRange(b);
      if (ae - ab != be - bb) return false;
      for (size_t i = 0; i < ae - ab; ++i) {
        if (!sameCell(c.child(0), ab + i, bb + i)) return false;
      }
      return true;
    }
    case CT::kStruct:
      for (size_t i = 0; i < c.childCount(); ++i) {
        if (!sameCell(c.child(i), a, b)) return false;
      }
      return true;
    default:
      return c.intAt(a) == c.intAt(b);
  }
}

bool sameColumns(const ColumnTable& t, size_t first, size_t last, size_t a, size_t b) {
  for (size_t i = first; i < last; ++i) {
    if (!sameCell(t.column(i), a, b)) return false;
  }
  return true;
}

std::string str(const Column& c, size_t row) {
  return c.isNull(row) ? std::string() : std::string(c.bytesAt(row));
}

// A string value of a value struct: in layout 3's member for strings that repeat when it is set
// there, else in str.
std::string_view stringValueAt(const Column& v, size_t row, size_t first) {
  if (hasRepeatedStrings(v, first) && !v.child(first + 6).isNull(row)) {
    return v.child(first + 6).bytesAt(row);
  }
  const Column& str = v.child(first + 1);
  return str.isNull(row) ? std::string_view() : str.bytesAt(row);
}

void readValue(const Column& v, size_t row, size_t first, AnyValue* out) {
  switch (static_cast<ValueType>(v.child(first).intAt(row))) {
    case ValueType::kString:
      out->set_string_value(std::string(stringValueAt(v, row, first)));
      break;
    case ValueType::kInt:
      out->set_int_value(v.child(first + 2).intAt(row));
      break;
    case ValueType::kDouble:
      out->set_double_value(v.child(first + 3).doubleAt(row));
      break;
    case ValueType::kBool:
      out->set_bool_value(v.child(first + 4).boolAt(row));
      break;
    case ValueType::kBytes:
      out->set_bytes_value(str(v.child(first + 5), row));
      break;
    case ValueType::kArray:
    case ValueType::kKvList: {
      const std::string json = str(v.child(first + 1), row);
      (void)otlp::parseOtlpJson(json, *out);
      break;
    }
    case ValueType::kEmpty:
      break;
  }
}

void readAttrs(const Column& list, size_t row, KeyValues* out) {
  if (list.isNull(row)) return;
  auto [b, e] = list.listRange(row);
  const Column& item = list.child(0);
  for (size_t i = b; i < e; ++i) {
    KeyValue* kv = out->Add();
    kv->set_key(str(item.child(0), i));
    readValue(item, i, 1, kv->mutable_value());
  }
}

uint32_t u32(const Column& c, size_t row) {
  return c.isNull(row) ? 0 : static_cast<uint32_t>(c.intAt(row));
}

void readResource(const ColumnTable& t, size_t first, size_t row, otlp::pb_resource::Resource* r,
                  std::string* schema_url) {
  readAttrs(t.column(first), row, r->mutable_attributes());
  r->set_dropped_attributes_count(u32(t.column(first + 1), row));
  const Column& refs = t.column(first + 2);
  auto [b, e] = refs.listRange(row);
  for (size_t i = b; i < e; ++i) {
    (void)otlp::parseOtlpJson(str(refs.child(0), i), *r->add_entity_refs());
  }
  *schema_url = str(t.column(first + 3), row);
}

void readScope(const ColumnTable& t, size_t first, size_t row,
               otlp::pb_common::InstrumentationScope* s, std::string* schema_url) {
  s->set_name(str(t.column(first + 4), row));
  s->set_version(str(t.column(first + 5), row));
  readAttrs(t.column(first + 6), row, s->mutable_attributes());
  s->set_dropped_attributes_count(u32(t.column(first + 7), row));
  *schema_url = str(t.column(first + 8), row);
}

// Walks the selected rows, opening a new resource / scope group whenever those columns change.
template <class OnResource, class OnScope, class OnRow>
void groupRows(const ColumnTable& t, size_t first, const std::vector<uint8_t>* selected,
               OnResource onResource, OnScope onScope, OnRow onRow) {
  constexpr size_t npos = static_cast<size_t>(-1);
  size_t prev = npos;
  for (size_t row = 0; row < t.rows(); ++row) {
    if (selected != nullptr && (*selected)[row] == 0) continue;
    const bool new_resource = prev == npos || !sameColumns(t, first, first + 4, prev, row);
    if (new_resource) onResource(row);
    if (new_resource || !sameColumns(t, first + 4, first + 9, prev, row))
      onScope(row, new_resource);
    onRow(row, prev);
    prev = row;
  }
}

std::string id(const Column& c, size_t row) {
  return str(c, row);
}

}  // namespace

void tracesFromColumns(const ColumnTable& t, const std::vector<uint8_t>* selected,
                       otlp::TracesRequest& out) {
  otlp::pb_trace::ResourceSpans* rs = nullptr;
  otlp::pb_trace::ScopeSpans* ss = nullptr;
  groupRows(
      t, kSpanResource, selected,
      [&](size_t row) {
        rs = out.add_resource_spans();
        readResource(t, kSpanResource, row, rs->mutable_resource(), rs->mutable_schema_url());
      },
      [&](size_t row, bool) {
        ss = rs->add_scope_spans();
        readScope(t, kSpanResource, row, ss->mutable_scope(), ss->mutable_schema_url());
      },
      [&](size_t row, size_t) {
        auto* span = ss->add_spans();
        span->set_start_time_unix_nano(static_cast<uint64_t>(t.column(0).intAt(row)));
        span->set_end_time_unix_nano(static_cast<uint64_t>(t.column(1).intAt(row)));
        span->set_trace_id(id(t.column(3), row));
        span->set_span_id(id(t.column(4), row));
        span->set_parent_span_id(id(t.column(5), row));
        span->set_trace_state(str(t.column(6), row));
        span->set_flags(u32(t.column(7), row));
        span->set_name(str(t.column(8), row));
        span->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(t.column(9).intAt(row)));
        const auto code = static_cast<otlp::pb_trace::Status::StatusCode>(t.column(11).intAt(row));
        const std::string message = str(t.column(12), row);
        if (code != 0 || !message.empty()) {
          span->mutable_status()->set_code(code);
          span->mutable_status()->set_message(message);
        }
        readAttrs(t.column(13), row, span->mutable_attributes());
        span->set_dropped_attributes_count(u32(t.column(14), row));
        const Column& events = t.column(15);
        auto [eb, ee] = events.listRange(row);
        const Column& ev = events.child(0);
        for (size_t i = eb; i < ee; ++i) {
          auto* e = span->add_events();
          e->set_time_unix_nano(static_cast<uint64_t>(ev.child(0).intAt(i)));
          e->set_name(str(ev.child(1), i));
          readAttrs(ev.child(2), i, e->mutable_attributes());
          e->set_dropped_attributes_count(u32(ev.child(3), i));
        }
        span->set_dropped_events_count(u32(t.column(16), row));
        const Column& links = t.column(17);
        auto [lb, le] = links.listRange(row);
        const Column& lk = links.child(0);
        for (size_t i = lb; i < le; ++i) {
          auto* l = span->add_links();
          l->set_trace_id(id(lk.child(0), i));
          l->set_span_id(id(lk.child(1), i));
          l->set_trace_state(str(lk.child(2), i));
          readAttrs(lk.child(3), i, l->mutable_attributes());
          l->set_dropped_attributes_count(u32(lk.child(4), i));
          l->set_flags(u32(lk.child(5), i));
        }
        span->set_dropped_links_count(u32(t.column(18), row));
      });
}

void logsFromColumns(const ColumnTable& t, const std::vector<uint8_t>* selected,
                     otlp::LogsRequest& out) {
  otlp::pb_logs::ResourceLogs* rl = nullptr;
  otlp::pb_logs::ScopeLogs* sl = nullptr;
  groupRows(
      t, kLogResource, selected,
      [&](size_t row) {
        rl = out.add_resource_logs();
        readResource(t, kLogResource, row, rl->mutable_resource(), rl->mutable_schema_url());
      },
      [&](size_t row, bool) {
        sl = rl->add_scope_logs();
        readScope(t, kLogResource, row, sl->mutable_scope(), sl->mutable_schema_url());
      },
      [&](size_t row, size_t) {
        auto* r = sl->add_log_records();
        r->set_time_unix_nano(static_cast<uint64_t>(t.column(0).intAt(row)));
        r->set_observed_time_unix_nano(static_cast<uint64_t>(t.column(1).intAt(row)));
        r->set_severity_number(static_cast<otlp::pb_logs::SeverityNumber>(t.column(2).intAt(row)));
        r->set_severity_text(str(t.column(3), row));
        if (!t.column(4).isNull(row)) readValue(t.column(4), row, 0, r->mutable_body());
        readAttrs(t.column(5), row, r->mutable_attributes());
        r->set_dropped_attributes_count(u32(t.column(6), row));
        r->set_flags(u32(t.column(7), row));
        r->set_trace_id(id(t.column(8), row));
        r->set_span_id(id(t.column(9), row));
        r->set_event_name(str(t.column(10), row));
      });
}

namespace {

void readBuckets(const Column& c, size_t row, google::protobuf::RepeatedField<uint64_t>* out) {
  if (c.isNull(row)) return;
  auto [b, e] = c.listRange(row);
  for (size_t i = b; i < e; ++i) out->Add(c.child(0).uintAt(i));
}

void readExemplars(const Column& c, size_t row,
                   google::protobuf::RepeatedPtrField<otlp::pb_metrics::Exemplar>* out) {
  if (c.isNull(row)) return;
  auto [b, e] = c.listRange(row);
  const Column& x = c.child(0);
  for (size_t i = b; i < e; ++i) {
    auto* ex = out->Add();
    ex->set_time_unix_nano(x.child(0).uintAt(i));
    if (!x.child(1).isNull(i)) ex->set_as_int(x.child(1).intAt(i));
    if (!x.child(2).isNull(i)) ex->set_as_double(x.child(2).doubleAt(i));
    ex->set_span_id(id(x.child(3), i));
    ex->set_trace_id(id(x.child(4), i));
    readAttrs(x.child(5), i, ex->mutable_filtered_attributes());
  }
}

template <class P>
void readPointCommon(const ColumnTable& t, size_t row, P* p) {
  p->set_time_unix_nano(t.column(0).uintAt(row));
  p->set_start_time_unix_nano(t.column(1).uintAt(row));
  readAttrs(t.column(10), row, p->mutable_attributes());
  p->set_flags(u32(t.column(11), row));
}

void readExpBuckets(const Column& offset, const Column& counts, size_t row,
                    otlp::pb_metrics::ExponentialHistogramDataPoint::Buckets* b) {
  b->set_offset(static_cast<int32_t>(offset.intAt(row)));
  readBuckets(counts, row, b->mutable_bucket_counts());
}

}  // namespace

void metricsFromColumns(const ColumnTable& t, const std::vector<uint8_t>* selected,
                        otlp::MetricsRequest& out) {
  otlp::pb_metrics::ResourceMetrics* rm = nullptr;
  otlp::pb_metrics::ScopeMetrics* sm = nullptr;
  otlp::pb_metrics::Metric* m = nullptr;
  groupRows(
      t, kMetricResource, selected,
      [&](size_t row) {
        rm = out.add_resource_metrics();
        readResource(t, kMetricResource, row, rm->mutable_resource(), rm->mutable_schema_url());
      },
      [&](size_t row, bool) {
        sm = rm->add_scope_metrics();
        readScope(t, kMetricResource, row, sm->mutable_scope(), sm->mutable_schema_url());
        m = nullptr;
      },
      [&](size_t row, size_t prev) {
        const uint8_t type = static_cast<uint8_t>(t.column(5).intAt(row));
        if (m == nullptr || !sameColumns(t, 2, 9, prev, row)) {
          m = sm->add_metrics();
          m->set_name(str(t.column(2), row));
          m->set_description(str(t.column(3), row));
          m->set_unit(str(t.column(4), row));
          readAttrs(t.column(8), row, m->mutable_metadata());
          const auto temporality = static_cast<otlp::pb_metrics::AggregationTemporality>(
              t.column(6).isNull(row) ? 0 : t.column(6).intAt(row));
          switch (type) {
            case kGauge:
              m->mutable_gauge();
              break;
            case kSum:
              m->mutable_sum()->set_aggregation_temporality(temporality);
              m->mutable_sum()->set_is_monotonic(!t.column(7).isNull(row) &&
                                                 t.column(7).boolAt(row));
              break;
            case kHistogram:
              m->mutable_histogram()->set_aggregation_temporality(temporality);
              break;
            case kExpHistogram:
              m->mutable_exponential_histogram()->set_aggregation_temporality(temporality);
              break;
            case kSummary:
              m->mutable_summary();
              break;
            default:
              break;
          }
        }
        auto number = [&](otlp::pb_metrics::NumberDataPoint* p) {
          readPointCommon(t, row, p);
          if (!t.column(12).isNull(row)) p->set_as_int(t.column(12).intAt(row));
          if (!t.column(13).isNull(row)) p->set_as_double(t.column(13).doubleAt(row));
          readExemplars(t.column(28), row, p->mutable_exemplars());
        };
        auto opt = [&](size_t col, auto set) {
          if (!t.column(col).isNull(row)) set(t.column(col).doubleAt(row));
        };
        switch (type) {
          case kGauge:
            number(m->mutable_gauge()->add_data_points());
            break;
          case kSum:
            number(m->mutable_sum()->add_data_points());
            break;
          case kHistogram: {
            auto* p = m->mutable_histogram()->add_data_points();
            readPointCommon(t, row, p);
            p->set_count(t.column(14).uintAt(row));
            opt(15, [&](double v) { p->set_sum(v); });
            opt(16, [&](double v) { p->set_min(v); });
            opt(17, [&](double v) { p->set_max(v); });
            readBuckets(t.column(18), row, p->mutable_bucket_counts());
            const Column& bounds = t.column(19);
            auto [b, e] = bounds.listRange(row);
            for (size_t i = b; i < e; ++i) p->add_explicit_bounds(bounds.child(0).doubleAt(i));
            readExemplars(t.column(28), row, p->mutable_exemplars());
            break;
          }
          case kExpHistogram: {
            auto* p = m->mutable_exponential_histogram()->add_data_points();
            readPointCommon(t, row, p);
            p->set_count(t.column(14).uintAt(row));
            opt(15, [&](double v) { p->set_sum(v); });
            opt(16, [&](double v) { p->set_min(v); });
            opt(17, [&](double v) { p->set_max(v); });
            p->set_scale(static_cast<int32_t>(t.column(20).intAt(row)));
            p->set_zero_count(t.column(21).uintAt(row));
            p->set_zero_threshold(t.column(22).doubleAt(row));
            if (!t.column(23).isNull(row))
              readExpBuckets(t.column(23), t.column(24), row, p->mutable_positive());
            if (!t.column(25).isNull(row))
              readExpBuckets(t.column(25), t.column(26), row, p->mutable_negative());
            readExemplars(t.column(28), row, p->mutable_exemplars());
            break;
          }
          case kSummary: {
            auto* p = m->mutable_summary()->add_data_points();
            readPointCommon(t, row, p);
            p->set_count(t.column(14).uintAt(row));
            p->set_sum(t.column(15).doubleAt(row));
            const Column& q = t.column(27);
            if (!q.isNull(row)) {
              auto [b, e] = q.listRange(row);
              for (size_t i = b; i < e; ++i) {
                auto* v = p->add_quantile_values();
                v->set_quantile(q.child(0).child(0).doubleAt(i));
                v->set_value(q.child(0).child(1).doubleAt(i));
              }
            }
            break;
          }
          default:
            break;
        }
      });
}

bool attributeEquals(const Column& attrs, size_t row, std::string_view key,
                     std::string_view value) {
  if (attrs.isNull(row)) return false;
  auto [b, e] = attrs.listRange(row);
  const Column& item = attrs.child(0);
  for (size_t i = b; i < e; ++i) {
    if (item.child(0).bytesAt(i) != key) continue;
    switch (static_cast<ValueType>(item.child(1).intAt(i))) {
      case ValueType::kString:
        if (stringValueAt(item, i, 1) == value) return true;
        break;
      case ValueType::kInt: {
        int64_t v;
        if (absl::SimpleAtoi(toAbsl(value), &v) && v == item.child(3).intAt(i)) return true;
        break;
      }
      case ValueType::kDouble: {
        double v;
        if (absl::SimpleAtod(toAbsl(value), &v) && v == item.child(4).doubleAt(i)) return true;
        break;
      }
      case ValueType::kBool:
        if ((value == "true") == item.child(5).boolAt(i) && (value == "true" || value == "false")) {
          return true;
        }
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace otlpd::store
