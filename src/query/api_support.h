// Response shapes shared by the query endpoints (Jaeger classic, Jaeger API v3, otlpd's own).
// Internal to src/query.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "query/jaeger_api.h"
#include "query/jaeger_json.h"
#include "query/store_queries.h"

namespace otlpd::query {

// Jaeger classic: {"data","total","limit":0,"offset":0,"errors"}; a scan that stopped at the
// byte limit adds an error entry (code 206) next to the partial data, as Jaeger reports partial
// results.
ApiResponse classicOk(nlohmann::json data, size_t total, const ScanBudget& budget);
ApiResponse classicError(int code, std::string_view msg);

// otlpd: {"data","total","limit","truncated","scannedBytes","errors":null}; total is the size
// of `data`.
ApiResponse otlpdOk(nlohmann::json data, int64_t limit, bool truncated, const ScanBudget& budget);
ApiResponse otlpdError(int code, std::string_view msg);

// Jaeger API v3: {"error":{"httpCode","message"}}.
ApiResponse v3Error(int code, std::string_view msg);

std::string truncationMessage(const ScanBudget& budget);

// readTimeWindow() into `query` (start_unix_nano, end_unix_nano); also answers the window.
TimeWindow readTimeWindowInto(Params& params, int64_t now_unix_micros, int64_t default_lookback_us,
                              store::ScanQuery& query);

}  // namespace otlpd::query
