// The query API of the local store, transport-free: the jaeger_query extension feeds it request
// targets and sends back what it returns. It answers Jaeger's classic JSON API (/api/services,
// /api/services/{s}/operations, /api/traces, /api/traces/{id}, /api/dependencies), Jaeger's API
// v3 over HTTP (/api/v3/...) and otlpd's own endpoints (/api/otlpd/...) for the web UI. The
// endpoints and shapes are documented in docs/API.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "query/live_search.h"
#include "query/params.h"
#include "query/rollup_queries.h"
#include "query/store_queries.h"
#include "query/zipkin_api.h"

namespace otlpd::query {

struct JaegerApiOptions {
  std::string store_directory = "./otlpd-data";
  // Default (and upper bound) of `limit` for Jaeger trace searches (classic and v3).
  int64_t max_traces = 20;
  // Upper bound of `limit` of the otlpd endpoints (trace summaries, logs, series).
  int64_t max_results = 1000;
  // Bytes of record batches one request may decode; past it the answer is partial (truncated).
  uint64_t max_scan_bytes = uint64_t{512} << 20;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // application/json
};

class JaegerApi {
 public:
  explicit JaegerApi(JaegerApiOptions options);

  // `target` is the request target ("/api/traces?service=x"); `now_unix_micros` anchors
  // `lookback` and a missing `end`.
  ApiResponse handle(std::string_view target, int64_t now_unix_micros) const;

  // The live view (`/api/otlpd/live?…`, Server-Sent Events): the feed of a valid request, else
  // the error answer (handle() answers the same error for the target).
  std::variant<std::unique_ptr<LiveSearch>, ApiResponse> openLive(std::string_view query,
                                                                  int64_t now_unix_micros) const;

 private:
  ScanBudget budget() const;

  // Jaeger classic.
  ApiResponse services() const;
  ApiResponse operations(const std::string& service, std::string_view query) const;
  ApiResponse traceById(std::string_view id) const;
  ApiResponse search(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse tracesById(const std::vector<std::string>& ids) const;
  // A bound on /api/traces?traceID=…: each id is a lookup.
  static constexpr size_t kMaxTraceIdsPerRequest = 100;
  ApiResponse dependencies(std::string_view query, int64_t now_unix_micros) const;
  // Jaeger API v3 (jaeger_v3.cc).
  ApiResponse v3Services(std::string_view query) const;
  ApiResponse v3Operations(std::string_view query) const;
  ApiResponse v3Traces(std::string_view query) const;
  ApiResponse v3TraceSummaries(std::string_view query) const;
  ApiResponse v3TraceById(std::string_view id, std::string_view query) const;
  // The traces `query` (query.* parameters) finds, fetched whole; an error response when the
  // parameters are bad or the store failed.
  struct V3Found;
  std::variant<V3Found, ApiResponse> v3Find(std::string_view query) const;
  // Jaeger's Service Performance Monitoring: /api/metrics/{calls,errors,latencies,minstep}
  // (jaeger_metrics.cc).
  ApiResponse spmMetrics(std::string_view which, std::string_view query,
                         int64_t now_unix_micros) const;
  // otlpd (otlpd_api.cc).
  ApiResponse traceSummaries(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse logs(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse metrics(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse metricSeries(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse red(std::string_view query, int64_t now_unix_micros) const;
  ApiResponse redSeries(std::string_view query, int64_t now_unix_micros) const;
  // The rollups as spanmetrics-named OTLP metrics (OTLP/JSON ExportMetricsServiceRequest).
  ApiResponse spanMetrics(std::string_view query, int64_t now_unix_micros) const;
  // Every rollup row source that may hold `minutes` (store/rollup_store.h), counted in `budget`.
  void readRollupsInto(const MinuteRange& minutes, ScanBudget& budget,
                       const std::function<void(const store::RollupSegment&)>& fn,
                       bool use_hours = true) const;

  JaegerApiOptions options_;
  StoreQueries store_;
  ZipkinApi zipkin_{options_, store_};  // /zipkin/api/v2/...
};

}  // namespace otlpd::query
