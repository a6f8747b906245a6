#include "query/jaeger_api.h"

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "otlp/proto.h"
#include "query/jaeger_json.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

ApiResponse ok(json data, size_t total) {
  return {200, dumpJson(jaegerEnvelope(std::move(data), total))};
}
ApiResponse error(int code, std::string_view msg) {
  return {code, dumpJson(jaegerError(code, msg))};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<int64_t> parseInt(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::multimap<std::string, std::string> parseQuery(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string key = urlDecode(part.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : urlDecode(part.substr(eq + 1), true);
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

// Parses every matching batch of a scan into one request (resource spans appended).
std::string collect(const store::StoreReader& reader, const store::ScanQuery& query,
                    const std::function<bool(const otlp::TracesRequest&)>& on_request) {
  std::string parse_error;
  std::string err = reader.scan(query, [&](std::string_view bytes) {
    otlp::TracesRequest request;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      parse_error = "store returned an undecodable traces batch";
      return false;
    }
    return on_request(request);
  });
  return err.empty() ? parse_error : err;
}

bool isNotFoundError(const std::string& err) {
  // A store that has never been written has no directory yet: that is "no data", not a failure.
  return err.find("No such file") != std::string::npos ||
         err.find("does not exist") != std::string::npos;
}

}  // namespace

std::string urlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

JaegerApi::JaegerApi(JaegerApiOptions options)
    : options_(std::move(options)), reader_(options_.store_directory) {}

ApiResponse JaegerApi::handle(std::string_view target, int64_t now_unix_micros) const {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  constexpr std::string_view kServices = "/api/services";
  constexpr std::string_view kTraces = "/api/traces";
  constexpr std::string_view kOperations = "/operations";
  if (path == kServices || path == "/api/services/") return services();
  if (path.starts_with(kServices) && path[kServices.size()] == '/' && path.ends_with(kOperations) &&
      path.size() > kServices.size() + 1 + kOperations.size()) {
    const std::string_view service =
        path.substr(kServices.size() + 1, path.size() - kServices.size() - 1 - kOperations.size());
    return operations(urlDecode(service, false));
  }
  if (path == kTraces || path == "/api/traces/") return search(query, now_unix_micros);
  if (path.starts_with(kTraces) && path[kTraces.size()] == '/') {
    return traceById(path.substr(kTraces.size() + 1));
  }
  return error(404, otlpd::strCat("no such endpoint: ", path));
}

ApiResponse JaegerApi::services() const {
  std::set<std::string> names;
  store::ScanQuery query;
  std::string err = collect(reader_, query, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) {
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name" && kv.value().has_string_value()) {
          names.insert(kv.value().string_value());
        }
      }
    }
    return true;
  });
  if (!err.empty() && !isNotFoundError(err)) return error(500, err);
  json data = json::array();
  for (const auto& n : names) data.push_back(n);
  return ok(std::move(data), names.size());
}

ApiResponse JaegerApi::operations(const std::string& service) const {
  std::set<std::string> names;
  store::ScanQuery query;
  query.service = service;
  std::string err = collect(reader_, query, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) names.insert(span.name());
      }
    }
    return true;
  });
  if (!err.empty() && !isNotFoundError(err)) return error(500, err);
  json data = json::array();
  for (const auto& n : names) data.push_back(n);
  return ok(std::move(data), names.size());
}

ApiResponse JaegerApi::traceById(std::string_view id_text) const {
  const std::string decoded = urlDecode(id_text, false);
  std::optional<std::string> id = parseTraceIdHex(decoded);
  if (!id) {
    return error(400, otlpd::strCat("malformed parameter 'traceID': '", decoded,
                                    "' is not a hexadecimal trace id of 1 to 32 digits"));
  }
  otlp::TracesRequest all;
  store::ScanQuery query;
  query.trace_id = *id;
  std::string err = collect(reader_, query, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) *all.add_resource_spans() = rs;
    return true;
  });
  if (!err.empty() && !isNotFoundError(err)) return error(500, err);
  json traces = toJaegerTraces(all);
  if (traces.empty()) return error(404, "trace not found");
  return ok(std::move(traces), 1);
}

ApiResponse JaegerApi::search(std::string_view query_text, int64_t now_unix_micros) const {
  const auto params = parseQuery(query_text);
  auto param = [&](const std::string& key) -> std::optional<std::string> {
    auto it = params.find(key);
    if (it == params.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  auto bad = [](std::string_view name, std::string_view value, std::string_view why) {
    return error(400, otlpd::strCat("malformed parameter '", name, "': '", value, "' ", why));
  };

  store::ScanQuery query;
  std::optional<std::string> service = param("service");
  if (!service) return error(400, "parameter 'service' is required");
  query.service = *service;
  if (auto op = param("operation")) query.name = *op;

  int64_t limit = options_.max_traces;
  if (auto v = param("limit")) {
    auto n = parseInt(*v);
    if (!n || *n < 0) return bad("limit", *v, "is not a non-negative integer");
    if (*n > 0) limit = std::min(*n, options_.max_traces);
  }
  std::optional<int64_t> end_us;
  if (auto v = param("end")) {
    end_us = parseInt(*v);
    if (!end_us || *end_us < 0) return bad("end", *v, "is not a time in microseconds");
  }
  std::optional<int64_t> start_us;
  if (auto v = param("start")) {
    start_us = parseInt(*v);
    if (!start_us || *start_us < 0) return bad("start", *v, "is not a time in microseconds");
  }
  if (auto v = param("lookback"); v && *v != "custom") {
    auto d = parseDurationMicros(*v);
    if (!d) return bad("lookback", *v, "is not a duration like 1h or 30m");
    if (!start_us) start_us = end_us.value_or(now_unix_micros) - *d;
  }
  constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max() / 1000;
  if (start_us) query.start_unix_nano = std::min(*start_us, kMaxMicros) * 1000;
  // Jaeger's end is inclusive; the store's is exclusive.
  if (end_us) query.end_unix_nano = std::min(*end_us, kMaxMicros - 1) * 1000 + 1000;
  if (auto v = param("minDuration")) {
    auto d = parseDurationMicros(*v);
    if (!d) return bad("minDuration", *v, "is not a duration like 100ms");
    query.min_duration_ns = std::min(*d, kMaxMicros) * 1000;
  }
  if (auto v = param("maxDuration")) {
    auto d = parseDurationMicros(*v);
    if (!d) return bad("maxDuration", *v, "is not a duration like 1s");
    query.max_duration_ns = std::min(*d, kMaxMicros) * 1000;
  }
  if (auto v = param("tags")) {
    try {
      json tags = json::parse(*v);
      if (!tags.is_object()) return bad("tags", *v, "is not a JSON object");
      for (auto& [key, value] : tags.items()) {
        query.attributes.emplace_back(
            key, value.is_string() ? value.get<std::string>() : dumpJson(value));
      }
    } catch (...) {
      return bad("tags", *v, "is not a JSON object");
    }
  }

  // Pass 1: the trace ids of matching spans, in store order, up to `limit`.
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::string err = collect(reader_, query, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          if (static_cast<int64_t>(ids.size()) >= limit) return false;
          if (seen.insert(span.trace_id()).second) ids.push_back(span.trace_id());
        }
      }
    }
    return static_cast<int64_t>(ids.size()) < limit;
  });
  if (!err.empty() && !isNotFoundError(err)) return error(500, err);

  // Pass 2: every span of each trace, whatever its service or time.
  json data = json::array();
  for (const auto& id : ids) {
    otlp::TracesRequest all;
    store::ScanQuery by_id;
    by_id.trace_id = id;
    err = collect(reader_, by_id, [&](const otlp::TracesRequest& request) {
      for (const auto& rs : request.resource_spans()) *all.add_resource_spans() = rs;
      return true;
    });
    if (!err.empty() && !isNotFoundError(err)) return error(500, err);
    for (auto& trace : toJaegerTraces(all)) data.push_back(std::move(trace));
  }
  const size_t total = data.size();
  return ok(std::move(data), total);
}

}  // namespace otlpd::query
