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

// otlpd: {"data","total","limit","truncated","scannedBytes","errors":null}.
ApiResponse otlpdOk(nlohmann::json data, size_t total, int64_t limit, bool truncated,
                    const ScanBudget& budget);
ApiResponse otlpdError(int code, std::string_view msg);

// Jaeger API v3: {"error":{"httpCode","message"}}.
ApiResponse v3Error(int code, std::string_view msg);

std::string truncationMessage(const ScanBudget& budget);

}  // namespace otlpd::query
