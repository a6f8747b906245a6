#include "common/http_cors.h"

namespace otlpd::common {
namespace {

namespace http = boost::beast::http;

bool wildcardMatch(std::string_view pattern, std::string_view value) {
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == value;
  const std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  return value.size() >= prefix.size() + suffix.size() && value.starts_with(prefix) &&
         value.ends_with(suffix);
}

}  // namespace

CorsPolicy CorsPolicy::read(config::ConfigNode& parent) {
  CorsPolicy policy;
  if (!parent.has("cors")) return policy;
  config::ConfigNode cors = parent.child("cors");
  policy.allowed_origins = cors.getStringList("allowed_origins");
  policy.allowed_headers = cors.getStringList("allowed_headers");
  policy.max_age_seconds = static_cast<int>(cors.getInt("max_age", 0, 0, 86400 * 365));
  cors.rejectUnknownKeys();
  return policy;
}

bool CorsPolicy::originAllowed(std::string_view origin) const {
  for (const auto& pattern : allowed_origins) {
    if (wildcardMatch(pattern, origin)) return true;
  }
  return false;
}

void CorsPolicy::addHeaders(const HttpRequest& request, HttpResponse& response) const {
  if (allowed_origins.empty()) return;
  auto origin = request.find(http::field::origin);
  if (origin == request.end() || !originAllowed(origin->value())) return;
  response.set(http::field::access_control_allow_origin, origin->value());
  response.set(http::field::vary, "Origin");
}

HttpResponse CorsPolicy::preflight(const HttpRequest& request, std::string_view methods) const {
  auto origin = request.find(http::field::origin);
  if (origin == request.end() || !originAllowed(origin->value())) {
    return makeResponse(request, http::status::method_not_allowed, "text/plain",
                        "CORS origin not allowed\n");
  }
  HttpResponse res = makeResponse(request, http::status::no_content, "", "");
  res.erase(http::field::content_type);
  addHeaders(request, res);
  res.set(http::field::access_control_allow_methods, methods);
  std::string headers = "Content-Type, Content-Encoding, Accept";
  for (const auto& h : allowed_headers) {
    headers += ", ";
    headers += h;
  }
  res.set(http::field::access_control_allow_headers, headers);
  if (max_age_seconds > 0) {
    res.set(http::field::access_control_max_age, std::to_string(max_age_seconds));
  }
  return res;
}

}  // namespace otlpd::common
