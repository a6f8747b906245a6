// The query functions behind otlpd's HTTP query API (/api/traces, /api/services, ...), as plain
// calls over a store directory (the `store` exporter's `directory`) returning structured results.
// Reads only: safe beside a collector writing the same store, in this or another process.
// For rows and time ranges, see otlpd/store/reader.h (StoreReader, the OTLP requests of a scan).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otlpd/status.h"
#include "otlpd/store/reader.h"

namespace otlpd {

struct SpanRecord {
  std::string trace_id;        // 32 lower-case hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // empty for a root span
  std::string service;         // resource service.name
  std::string name;
  int kind =
      0;  // OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  int status_code = 0;  // 0 unset, 1 ok, 2 error
  std::string status_message;
  // Values as text: strings as they are, other types as JSON (42, true, [1,2], {"a":1}).
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<std::pair<std::string, std::string>> resource_attributes;
};

struct TraceRecord {
  std::string trace_id;  // 32 hex digits
  std::vector<SpanRecord> spans;
};

// A trace search, as the viewer's search form: traces with at least one span matching all of it.
struct TraceSearch {
  std::string service;    // empty: any
  std::string operation;  // span name; empty: any
  // [start, end) of span start times, ns since the Unix epoch; 0: open.
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::optional<int64_t> min_duration_ns;
  std::optional<int64_t> max_duration_ns;
  std::vector<std::pair<std::string, std::string>> attributes;  // each must match
  size_t limit = 20;                                            // newest first
};

// Spans as columns, one entry per span in every vector (for arrays and data frames: the Python
// binding's NumPy columns). Ids are raw bytes, packed; names are indices into `strings`.
struct SpanColumns {
  size_t rows = 0;
  std::string trace_ids;        // 16 bytes per span
  std::string span_ids;         // 8 bytes per span
  std::string parent_span_ids;  // 8 bytes per span, zeros for a root span
  std::vector<int64_t> start_unix_nano;
  std::vector<int64_t> end_unix_nano;
  std::vector<int32_t> kind;
  std::vector<int32_t> status_code;
  std::vector<int32_t> service;      // index into `strings`
  std::vector<int32_t> name;         // index into `strings`
  std::vector<std::string> strings;  // the distinct service and span names
};

struct OperationRecord {
  std::string name;
  int kind = 0;  // OTLP SpanKind
};

class StoreQuery {
 public:
  // `max_scan_bytes` bounds what one call reads (0: no bound); a bounded call may miss data.
  explicit StoreQuery(std::string directory, uint64_t max_scan_bytes = 0);
  ~StoreQuery();
  StoreQuery(StoreQuery&&) noexcept;
  StoreQuery& operator=(StoreQuery&&) noexcept;

  // Every span of one trace (1 to 32 hex digits); kNotFound when the store has none.
  Result<TraceRecord> trace(std::string_view trace_id_hex) const;
  // The same trace as one encoded ExportTraceServiceRequest (OTLP protobuf bytes).
  Result<std::string> traceOtlp(std::string_view trace_id_hex) const;
  Result<std::vector<TraceRecord>> findTraces(const TraceSearch& search) const;
  Result<std::vector<std::string>> services() const;  // sorted
  Result<std::vector<OperationRecord>> operations(std::string_view service) const;
  // Every span matching `query` (its signal is ignored), oldest first, as columns.
  Result<SpanColumns> spanColumns(const store::ScanQuery& query) const;
  const std::string& directory() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd
