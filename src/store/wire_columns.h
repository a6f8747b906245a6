// The OTLP → columns mapping of otlp_columns.h, read straight from an encoded request: walks the
// protobuf wire format in place (otlp/wire_reader.h) instead of decoding the request into
// generated messages first, and appends exactly the rows, buffers and dictionary entries that
// appendTraces() / appendLogs() / appendMetrics() append from the decoded request. Pure code: no
// I/O.
#pragma once

#include <string_view>

#include "store/columns.h"
#include "store/otlp_columns.h"

namespace otlpd::store {

// Meant for bytes the wire view (otlp/wire_view.h) judged valid. Returns false when the bytes
// hold something this walk leaves to protobuf — malformed bytes, groups, a known field with
// another wire type, a resource, scope or log body sent more than once (protobuf merges those),
// a metric with more than one data field (gauge, sum, ...: protobuf keeps the last) — possibly
// after appending part of the request (the list items and struct members of a row it gave up
// inside are dropped before it returns): the caller truncates the table back to its earlier row
// count (ColumnTable::truncateRows) and converts the decoded request instead.
[[nodiscard]] bool appendTracesWire(std::string_view request_bytes, ColumnTable& table,
                                    TimeRange& range);
[[nodiscard]] bool appendLogsWire(std::string_view request_bytes, ColumnTable& table,
                                  TimeRange& range);
[[nodiscard]] bool appendMetricsWire(std::string_view request_bytes, ColumnTable& table,
                                     TimeRange& range);

}  // namespace otlpd::store
