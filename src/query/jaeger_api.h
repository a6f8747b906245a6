// Jaeger's classic HTTP JSON query API (/api/services, /api/services/{s}/operations,
// /api/traces/{id}, /api/traces?service=...) answered from the local store. Transport-free: the
// jaeger_query extension feeds it request targets and sends back what it returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlpd/store/reader.h"

namespace otlpd::query {

struct JaegerApiOptions {
  std::string store_directory = "./otlpd-data";
  // Default (and upper bound) of `limit` for trace searches.
  int64_t max_traces = 20;
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

 private:
  ApiResponse services() const;
  ApiResponse operations(const std::string& service) const;
  ApiResponse traceById(std::string_view id) const;
  ApiResponse search(std::string_view query, int64_t now_unix_micros) const;

  JaegerApiOptions options_;
  store::StoreReader reader_;
};

// Percent-decoding of a URL component ('+' as space when `plus_is_space`); nullopt-free: bad
// escapes are kept as they are.
std::string urlDecode(std::string_view text, bool plus_is_space);

}  // namespace otlpd::query
