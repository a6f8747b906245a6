// CORS for an HTTP receiver, as the Collector's confighttp `cors` settings define it
// (`allowed_origins` with `*` wildcards, `allowed_headers`, `max_age`): the origin echoed on
// answers to allowed origins, and the preflight (OPTIONS) answer. The jaeger receiver's
// thrift_http uses it; the otlp and zipkin receivers still carry their own copies of the same
// rules (to be folded into this one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http_server.h"
#include "config/config_node.h"

namespace otlpd::common {

struct CorsPolicy {
  std::vector<std::string> allowed_origins;  // exact, "*", or with one "*" wildcard
  std::vector<std::string> allowed_headers;  // beyond Content-Type, Content-Encoding, Accept
  int max_age_seconds = 0;                   // 0: no Access-Control-Max-Age

  // Reads `cors` under `parent` (absent: the empty policy, which allows no origin).
  static CorsPolicy read(config::ConfigNode& parent);

  bool originAllowed(std::string_view origin) const;
  // Access-Control-Allow-Origin (and Vary) on an answer to an allowed origin.
  void addHeaders(const HttpRequest& request, HttpResponse& response) const;
  // The answer to an OPTIONS preflight for `methods` (e.g. "POST"): 204 with the allowed
  // methods, headers and max age, or 405 when the origin is not allowed.
  HttpResponse preflight(const HttpRequest& request, std::string_view methods) const;
};

}  // namespace otlpd::common
