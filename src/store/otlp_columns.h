// The mapping between OTLP requests and columns: one row per span, log record or metric data
// point, with resource and scope repeated on every row so that each row stands alone in a query.
// Pure code: no I/O. The column layout is documented in docs/STORAGE.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "otlp/proto.h"
#include "pipeline/signal.h"
#include "store/columns.h"

namespace otlpd::store {

// The on-disk layout this otlpd writes (schema metadata `otlpd:version`). Files of every layout
// from 1 on are read: the decoder takes each file's own schema. Layouts 1 and 2 differ only in
// which strings are dictionary-encoded, which Column::bytesAt hides; layout 3 adds str_dict to
// attribute value structs (docs/STORAGE.md, "Layout versions"), which readers take when set.
inline constexpr int kStoreLayoutVersion = 3;

// The schema written now.
const std::vector<FieldSpec>& fieldsFor(pipeline::Signal signal);
// The schema of layout `layout` (1, 2 or 3).
const std::vector<FieldSpec>& fieldsFor(pipeline::Signal signal, int layout);
// The layout whose schema `fields` is (same types, widths and dictionary encodings), 0 for none.
int storeLayoutOf(const std::vector<FieldSpec>& fields, pipeline::Signal signal);

// Column positions shared by every signal's schema (the first columns of each).
inline constexpr size_t kTimeColumn = 0;  // spans: start time; logs and metrics: time

// Per-signal column positions that readers filter on.
namespace span_col {
inline constexpr size_t kStartTime = 0, kEndTime = 1, kDuration = 2, kTraceId = 3, kSpanId = 4,
                        kName = 8, kServiceName = 10, kAttributes = 13;
}
namespace log_col {
inline constexpr size_t kTime = 0, kSeverityNumber = 2, kAttributes = 5, kTraceId = 8,
                        kServiceName = 11;
}
namespace metric_col {
inline constexpr size_t kTime = 0, kName = 2, kServiceName = 9, kAttributes = 10;
}

struct TimeRange {
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = std::numeric_limits<int64_t>::min();
  void add(int64_t t) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
};

// Where each schema's nine resource and scope columns start (resource_attributes ...
// scope_schema_url, in that order).
inline constexpr size_t kSpanResourceColumn = 19, kLogResourceColumn = 12,
                        kMetricResourceColumn = 29, kResourceScopeColumnCount = 9;

// Appends `value` to the members [first, first + 6) (type, str, int, double, bool, bytes) of a
// value struct, without closing the struct. Shared with the wire conversion (wire_columns.h),
// which hands its rare values (arrays, key/value lists, repeated fields) to protobuf.
void appendAnyValue(Column& value_struct, const otlp::pb_common::AnyValue& value, size_t first);

// Layout 3's str_dict: the member after the six of a value struct (those from `first` on) that
// holds attribute strings the file has seen before. Only attribute items have it, whose key
// (child 0, dictionary-encoded) is appended before the value.
inline bool hasRepeatedStrings(const Column& value_struct, size_t first) {
  return value_struct.childCount() == first + 7;
}
// Appends `s` to str_dict and returns true if the dictionary admits it (the item's key decides
// whether it is looked up at all: Dictionary::indexIfRepeatedForKey); else appends nothing.
inline bool appendIfRepeated(Column& value_struct, size_t first, std::string_view s) {
  return value_struct.child(first + 6).appendBytesIfRepeated(s, value_struct.child(0).lastIndex());
}

// One cell of an id column: null when the id does not have the column's width (absent or
// malformed), as the OTLP/JSON reader of these files expects.
inline void appendId(Column& c, std::string_view id) {
  if (id.size() == static_cast<size_t>(c.spec().byte_width)) {
    c.appendBytes(id);
  } else {
    c.appendNull();
  }
}

// One cell of an optional string column: an empty string is stored as null.
inline void appendOptionalString(Column& c, std::string_view s) {
  if (s.empty()) {
    c.appendNull();
  } else {
    c.appendBytes(s);
  }
}

// Append one row per item; `range` grows by the rows' times.
void appendTraces(const otlp::TracesRequest& request, ColumnTable& table, TimeRange& range);
void appendLogs(const otlp::LogsRequest& request, ColumnTable& table, TimeRange& range);
void appendMetrics(const otlp::MetricsRequest& request, ColumnTable& table, TimeRange& range);

// The rows whose `selected` entry is non-zero (all rows when `selected` is null) back to OTLP.
// Consecutive rows with the same resource and scope (and, for metrics, the same metric) share
// one ResourceX / ScopeX / Metric message.
void tracesFromColumns(const ColumnTable& table, const std::vector<uint8_t>* selected,
                       otlp::TracesRequest& out);
void logsFromColumns(const ColumnTable& table, const std::vector<uint8_t>* selected,
                     otlp::LogsRequest& out);
void metricsFromColumns(const ColumnTable& table, const std::vector<uint8_t>* selected,
                        otlp::MetricsRequest& out);

// Attribute lists (list<struct<key, type, str, int, double, bool, bytes[, str_dict]>>).
enum class ValueType : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kArray, kKvList };
// Whether row `row` of an attribute list column has `key` equal to `value` compared as text
// (strings as they are, ints/doubles/bools formatted).
bool attributeEquals(const Column& attrs, size_t row, std::string_view key, std::string_view value);

}  // namespace otlpd::store
