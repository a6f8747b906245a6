// The store reads behind the query endpoints: catalogs (services, operations) answered from file
// indexes where they can be, trace searches newest first with an early stop, traces by id
// through the bloom filters. Every read shares one budget of bytes per API request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "otlp/proto.h"
#include "otlpd/store/reader.h"

namespace otlpd::query {

// What one API request read; shared by its scans so that max_scan_bytes bounds the request.
struct ScanBudget {
  uint64_t max_bytes = 0;  // 0 = no limit
  store::ScanStats stats;
  std::string error;  // the first store error (a missing store is no error)

  bool truncated() const { return stats.truncated; }
};

struct Operation {
  std::string name;
  int kind = 0;  // OTLP SpanKind
  auto operator<=>(const Operation&) const = default;
};

class StoreQueries {
 public:
  explicit StoreQueries(std::string store_directory);

  // Every service that has spans (sealed indexed files answer from their index); at most 10000
  // (then budget.truncated()).
  std::set<std::string> services(ScanBudget& budget) const;
  // The span names and kinds of `service`; at most 10000 (then budget.truncated()).
  std::set<Operation> operations(const std::string& service, ScanBudget& budget) const;

  // Scans `query` (its signal and max_scan_bytes are set here) with `budget`; `on_request` gets
  // each batch's parsed request and returns false to stop.
  void scanTraces(store::ScanQuery query, ScanBudget& budget,
                  const std::function<bool(const otlp::TracesRequest&)>& on_request) const;
  void scanLogs(store::ScanQuery query, ScanBudget& budget,
                const std::function<bool(const otlp::LogsRequest&)>& on_request) const;
  void scanMetrics(store::ScanQuery query, ScanBudget& budget,
                   const std::function<bool(const otlp::MetricsRequest&)>& on_request) const;

  struct FoundTrace {
    std::string id;         // raw 16 bytes
    int64_t min_unix_nano;  // earliest start of its matching spans
    int64_t max_unix_nano;  // latest start of its matching spans
  };
  // The newest traces that have a span matching `query` (its time window and filters), at most
  // `limit`, newest first by their latest matching span. Files and batches are read newest first
  // and the scan stops at the first batch that completes `limit` traces.
  std::vector<FoundTrace> findTraces(const store::ScanQuery& query, size_t limit,
                                     ScanBudget& budget) const;
  // Every span of the `found` traces, each trace as one request (by raw id); spans are looked
  // for within kTraceSpreadNanos of the matching spans.
  std::map<std::string, otlp::TracesRequest> fetchTraces(const std::vector<FoundTrace>& found,
                                                         ScanBudget& budget) const;
  // Every span of one trace (raw id), whole store; bloom filters skip sealed files.
  otlp::TracesRequest traceById(const std::string& id, ScanBudget& budget) const;

  // Spans of a trace are looked for this far before / after the matching spans of a search.
  static constexpr int64_t kTraceSpreadNanos = int64_t{15} * 60 * 1000000000;

  // Per sealed file: service → operations, computed once by a scan (files never change once
  // sealed; the key includes size and mtime so a replaced file is scanned again).
  struct FileCatalog {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    std::map<std::string, std::set<Operation>> operations;
  };

 private:
  // Drops remembered catalogs of files that retention deleted.
  void forgetDeletedFiles(const std::vector<std::string>& files) const;
  std::optional<FileCatalog> catalogOf(const std::string& path, bool sealed,
                                       ScanBudget& budget) const;

  store::StoreReader reader_;
  mutable std::mutex mu_;
  mutable std::map<std::string, FileCatalog> catalogs_;  // by path
};

// Whether a store error only says that nothing was written yet.
bool isMissingStoreError(const std::string& error);

}  // namespace otlpd::query
