// Zipkin's read API (v2) over the store, under /zipkin/api/v2/ on the query port, so that Zipkin's
// own UI and Grafana's Zipkin data source can point at otlpd: services, spans (span names),
// remoteServices, traces (serviceName, remoteServiceName, spanName, annotationQuery, minDuration,
// maxDuration, endTs, lookback, limit), trace/{id}, traceMany, dependencies, autocompleteKeys.
// Spans are answered as the zipkin exporter writes them (zipkin/from_otlp.h). Transport-free, as
// JaegerApi.
#pragma once

#include <string_view>

#include "query/store_queries.h"

namespace otlpd::query {

struct JaegerApiOptions;
struct ApiResponse;

class ZipkinApi {
 public:
  ZipkinApi(const JaegerApiOptions& options, const StoreQueries& store)
      : options_(options), store_(store) {}

  // `path` after "/zipkin/api/v2/", `query` without the '?'.
  ApiResponse handle(std::string_view path, std::string_view query, int64_t now_us) const;

 private:
  ScanBudget budget() const;
  ApiResponse services() const;
  ApiResponse spanNames(std::string_view query) const;
  ApiResponse remoteServices(std::string_view query, int64_t now_us) const;
  ApiResponse traces(std::string_view query, int64_t now_us) const;
  ApiResponse trace(std::string_view id) const;
  ApiResponse traceMany(std::string_view query) const;
  ApiResponse dependencies(std::string_view query, int64_t now_us) const;

  const JaegerApiOptions& options_;
  const StoreQueries& store_;
};

}  // namespace otlpd::query
