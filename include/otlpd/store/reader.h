// Reading the local store (Arrow IPC files written by the `store` exporter) by time range and
// simple predicates. Std types only, so that bindings and embedders need none of our internals.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::store {

enum class StoredSignal { kTraces, kMetrics, kLogs };

struct ScanQuery {
  StoredSignal signal = StoredSignal::kTraces;
  // [start, end) in ns since the Unix epoch, of span start / log time / data point time.
  int64_t start_unix_nano = std::numeric_limits<int64_t>::min();
  int64_t end_unix_nano = std::numeric_limits<int64_t>::max();
  std::optional<std::string> service;   // resource service.name
  std::optional<std::string> name;      // span name or metric name
  std::optional<std::string> trace_id;  // 16 bytes or 32 hex digits
  std::optional<int64_t> min_duration_ns;
  std::optional<int64_t> max_duration_ns;
  std::optional<int32_t> min_severity;  // logs: severity_number >= this
  // Every pair must match an attribute of the span / record / point; ints, doubles and bools
  // compare by value ("200" matches the int 200).
  std::vector<std::pair<std::string, std::string>> attributes;
  // Rows whose trace id is one of these (16 bytes or 32 hex digits each); empty = no such filter.
  // Sealed files whose bloom filter has none of them are skipped.
  std::vector<std::string> any_trace_ids;

  // Files newest first, and within a file record batches newest first (the order a search that
  // stops at a limit wants); otherwise oldest first.
  bool newest_first = false;
  // Stop before decoding a record batch that would take the bytes read so far
  // (ScanStats::bytes_scanned) past this; 0 = no limit. The first batch (of the ScanStats passed
  // in) is always decoded.
  uint64_t max_scan_bytes = 0;
};

struct ScanStats {
  uint64_t files_scanned = 0;  // files opened and read
  // Sealed files whose index (`<file>.idx`) shows that no row can match: never opened.
  uint64_t files_skipped_by_index = 0;
  uint64_t indexes_used = 0;      // valid indexes consulted (skipped or not)
  uint64_t indexes_rejected = 0;  // corrupt or stale (the file changed): the file is read
  uint64_t batches_read = 0;
  uint64_t batches_skipped = 0;  // by their min/max time, without decoding the body
  uint64_t rows_matched = 0;
  // Encoded (possibly compressed) size of the record batches decoded, plus the trace id columns
  // looked at alone (scans by trace id decode a batch only when its ids can match).
  uint64_t bytes_scanned = 0;
  // The scan stopped at ScanQuery::max_scan_bytes: there may be more matching rows.
  bool truncated = false;
};

class StoreReader {
 public:
  // `directory` is the store root (the exporter's `directory`).
  explicit StoreReader(std::string directory);

  // Calls `on_request` for every record batch with matching rows, with those rows as one OTLP
  // export request of the query's signal (protobuf wire bytes); returning false stops the scan.
  // Files are read oldest first (newest first with ScanQuery::newest_first), including the one
  // being written (up to its last complete batch). A sealed file with a valid index is opened only
  // when the index says that it can have matching rows. Returns an empty string on success, else
  // what went wrong.
  std::string scan(const ScanQuery& query,
                   const std::function<bool(std::string_view otlp_request)>& on_request,
                   ScanStats* stats = nullptr) const;

  // The distinct (service.name, span name, OTLP span kind) of the spans of one traces file, read
  // from those three columns alone (the other columns are not decompressed), sorted. Stops
  // before a batch that would take stats->bytes_scanned past `max_scan_bytes` (0 = no limit;
  // the file's first batch is always read; `truncated` is set). Empty string on success.
  struct SpanOperation {
    std::string service;
    std::string name;
    int kind = 0;
    auto operator<=>(const SpanOperation&) const = default;
  };
  static std::string scanOperations(const std::string& path, uint64_t max_scan_bytes,
                                    std::vector<SpanOperation>* out, ScanStats* stats = nullptr);

  // The .arrow files of a signal, oldest first (names start with the file's UTC start time).
  std::vector<std::string> files(StoredSignal signal) const;

  // The same for one file (always read; its index is not consulted).
  static std::string scanFile(const std::string& path, const ScanQuery& query,
                              const std::function<bool(std::string_view otlp_request)>& on_request,
                              ScanStats* stats = nullptr);

 private:
  std::string directory_;
};

}  // namespace otlpd::store
