#include "query/jaeger_api.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "otlp/proto.h"
#include "query/analytics.h"
#include "query/api_support.h"
#include "query/jaeger_json.h"
#include "selftrace/tracer.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

}  // namespace

std::string truncationMessage(const ScanBudget& budget) {
  return strCat("partial result: the query stopped after reading ", budget.stats.bytes_scanned,
                " bytes of the store (max_scan_mib)");
}

ApiResponse classicOk(json data, size_t total, const ScanBudget& budget) {
  if (!budget.error.empty()) return classicError(500, budget.error);
  json body = jaegerEnvelope(std::move(data), total);
  if (budget.truncated()) {
    body["errors"] = json::array({{{"code", 206}, {"msg", truncationMessage(budget)}}});
  }
  return {200, dumpJson(body)};
}

ApiResponse classicError(int code, std::string_view msg) {
  return {code, dumpJson(jaegerError(code, msg))};
}

ApiResponse otlpdOk(json data, int64_t limit, bool truncated, const ScanBudget& budget) {
  if (!budget.error.empty()) return otlpdError(500, budget.error);
  json body = json::object();
  const size_t total = data.size();
  body["data"] = std::move(data);
  body["total"] = total;
  body["limit"] = limit;
  body["truncated"] = truncated || budget.truncated();
  body["scannedBytes"] = budget.stats.bytes_scanned;
  body["errors"] = nullptr;
  return {200, dumpJson(body)};
}

ApiResponse otlpdError(int code, std::string_view msg) {
  json body = json::object();
  body["data"] = nullptr;
  body["total"] = 0;
  body["limit"] = 0;
  body["truncated"] = false;
  body["scannedBytes"] = 0;
  body["errors"] = json::array({{{"code", code}, {"msg", std::string(msg)}}});
  return {code, dumpJson(body)};
}

TimeWindow readTimeWindowInto(Params& params, int64_t now_unix_micros, int64_t default_lookback_us,
                              store::ScanQuery& query) {
  const TimeWindow window = readTimeWindow(params, now_unix_micros, default_lookback_us);
  query.start_unix_nano = window.start_unix_nano;
  query.end_unix_nano = window.end_unix_nano;
  return window;
}

ApiResponse v3Error(int code, std::string_view msg) {
  return {code, dumpJson(json{{"error", {{"httpCode", code}, {"message", std::string(msg)}}}})};
}

JaegerApi::JaegerApi(JaegerApiOptions options)
    : options_(std::move(options)), store_(options_.store_directory) {}

ScanBudget JaegerApi::budget() const {
  ScanBudget b;
  b.max_bytes = options_.max_scan_bytes;
  return b;
}

ApiResponse JaegerApi::handle(std::string_view target, int64_t now_us) const {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  auto under = [&](std::string_view prefix, std::string_view& rest) {
    if (!path.starts_with(prefix)) return false;
    rest = path.substr(prefix.size());
    return true;
  };
  std::string_view rest;

  if (under("/zipkin/api/v2/", rest)) return zipkin_.handle(rest, query, now_us);
  if (under("/api/otlpd/", rest)) {
    if (rest == "trace-summaries") return traceSummaries(query, now_us);
    if (rest == "logs") return logs(query, now_us);
    if (rest == "metrics") return metrics(query, now_us);
    if (rest == "metrics/series") return metricSeries(query, now_us);
    if (rest == "red") return red(query, now_us);
    if (rest == "red/series") return redSeries(query, now_us);
    if (rest == "spanmetrics") return spanMetrics(query, now_us);
    if (rest == "live") {
      auto live = openLive(query, now_us);
      if (auto* error = std::get_if<ApiResponse>(&live)) return std::move(*error);
      return otlpdError(406, "the live view is a stream of Server-Sent Events: use an EventSource");
    }
    return otlpdError(404, strCat("no such endpoint: ", path));
  }
  if (under("/api/metrics/", rest)) return spmMetrics(rest, query, now_us);
  if (under("/api/v3/", rest)) {
    if (rest == "services") return v3Services(query);
    if (rest == "operations") return v3Operations(query);
    if (rest == "traces") return v3Traces(query);
    if (rest == "trace-summaries") return v3TraceSummaries(query);
    if (rest.starts_with("traces/")) return v3TraceById(rest.substr(7), query);
    return v3Error(404, strCat("no such endpoint: ", path));
  }

  constexpr std::string_view kServices = "/api/services";
  constexpr std::string_view kOperations = "/operations";
  if (path == kServices || path == "/api/services/") return services();
  if (path.starts_with(kServices) && path.size() > kServices.size() + 1 + kOperations.size() &&
      path[kServices.size()] == '/' && path.ends_with(kOperations)) {
    const std::string_view service =
        path.substr(kServices.size() + 1, path.size() - kServices.size() - 1 - kOperations.size());
    return operations(urlDecode(service, false), {});
  }
  if (path == "/api/operations") {
    Params params(query);
    auto service = params.text("service");
    if (!service) return classicError(400, "parameter 'service' is required");
    return operations(*service, query);
  }
  if (path == "/api/traces" || path == "/api/traces/") return search(query, now_us);
  if (under("/api/traces/", rest)) return traceById(rest);
  if (path == "/api/dependencies") return dependencies(query, now_us);
  return classicError(404, strCat("no such endpoint: ", path));
}

ApiResponse JaegerApi::services() const {
  ScanBudget b = budget();
  const std::set<std::string> names = store_.services(b);
  json data = json::array();
  for (const auto& n : names) data.push_back(n);
  return classicOk(std::move(data), names.size(), b);
}

ApiResponse JaegerApi::operations(const std::string& service, std::string_view query) const {
  Params params(query);
  std::optional<int> kind;
  if (auto k = params.text("spanKind")) {
    kind = parseSpanKind(*k);
    if (!kind)
      params.fail("spanKind", *k, "is not one of server, client, producer, consumer, internal");
  }
  if (!params.ok()) return classicError(400, params.error());
  ScanBudget b = budget();
  const std::set<Operation> ops = store_.operations(service, b);
  // /api/services/{s}/operations answers names; /api/operations answers {name, spanKind}.
  json data = json::array();
  if (query.empty() && !kind) {
    std::set<std::string> names;
    for (const auto& op : ops) names.insert(op.name);
    for (const auto& n : names) data.push_back(n);
  } else {
    for (const auto& op : ops) {
      if (kind && op.kind != *kind) continue;
      data.push_back({{"name", op.name}, {"spanKind", std::string(spanKindText(op.kind))}});
    }
  }
  const size_t total = data.size();
  return classicOk(std::move(data), total, b);
}

ApiResponse JaegerApi::traceById(std::string_view id_text) const {
  const std::string decoded = urlDecode(id_text, false);
  std::optional<std::string> id = parseTraceIdHex(decoded);
  if (!id) {
    return classicError(400, strCat("malformed parameter 'traceID': '", decoded.substr(0, 80),
                                    "' is not a hexadecimal trace id of 1 to 32 digits"));
  }
  ScanBudget b = budget();
  std::optional<selftrace::ScopedSpan> phase(selftrace::ScopedSpan::detail("query read trace"));
  otlp::TracesRequest all = store_.traceById(*id, b);
  phase.reset();
  phase.emplace(selftrace::ScopedSpan::detail("query encode"));
  json traces = toJaegerTraces(all);
  if (traces.empty() && b.error.empty()) return classicError(404, "trace not found");
  return classicOk(std::move(traces), 1, b);
}

ApiResponse JaegerApi::search(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  // /api/traces?traceID=A&traceID=B: exactly those traces, no service needed (Jaeger UI's trace
  // comparison and Grafana's lookups), as Jaeger's query service answers it.
  if (std::vector<std::string> ids = params.all("traceID"); !ids.empty()) {
    return tracesById(ids);
  }
  store::ScanQuery query;
  std::optional<std::string> service = params.text("service");
  if (!service) return classicError(400, "parameter 'service' is required");
  query.service = *service;
  query.name = params.text("operation");
  int64_t limit = params.integer("limit", 0, std::numeric_limits<int32_t>::max()).value_or(0);
  if (limit <= 0 || limit > options_.max_traces) limit = options_.max_traces;
  readTimeWindowInto(params, now_us, 0, query);
  if (auto d = params.duration("minDuration")) query.min_duration_ns = *d * 1000;
  if (auto d = params.duration("maxDuration")) query.max_duration_ns = *d * 1000;
  query.attributes = params.tags("tags");
  if (!params.ok()) return classicError(400, params.error());

  ScanBudget b = budget();
  // The phases are spans of `level: detailed` (nothing is recorded otherwise).
  std::optional<selftrace::ScopedSpan> phase(selftrace::ScopedSpan::detail("query find traces"));
  const auto found = store_.findTraces(query, static_cast<size_t>(limit), b);
  phase->setAttribute("otlpd.traces", static_cast<int64_t>(found.size()));
  phase.reset();
  phase.emplace(selftrace::ScopedSpan::detail("query fetch traces"));
  const auto traces = store_.fetchTraces(found, b);
  phase.reset();
  phase.emplace(selftrace::ScopedSpan::detail("query encode"));
  json data = json::array();
  for (const auto& f : found) {
    auto it = traces.find(f.id);
    if (it == traces.end()) continue;
    for (auto& trace : toJaegerTraces(it->second)) data.push_back(std::move(trace));
  }
  const size_t total = data.size();
  return classicOk(std::move(data), total, b);
}

ApiResponse JaegerApi::tracesById(const std::vector<std::string>& ids) const {
  if (ids.size() > kMaxTraceIdsPerRequest) {
    return classicError(400, strCat("too many values of parameter 'traceID': ", ids.size(),
                                    " (at most ", kMaxTraceIdsPerRequest, " per request)"));
  }
  std::vector<std::string> parsed;
  for (const std::string& text : ids) {
    std::optional<std::string> id = parseTraceIdHex(text);
    if (!id) {
      return classicError(400, strCat("malformed parameter 'traceID': '", text.substr(0, 80),
                                      "' is not a hexadecimal trace id of 1 to 32 digits"));
    }
    if (std::find(parsed.begin(), parsed.end(), *id) == parsed.end()) parsed.push_back(*id);
  }
  ScanBudget b = budget();
  json data = json::array();
  for (const std::string& id : parsed) {
    otlp::TracesRequest trace = store_.traceById(id, b);
    for (auto& t : toJaegerTraces(trace)) data.push_back(std::move(t));
  }
  // Jaeger answers the traces it has (and an error entry per missing one); none: 404.
  if (data.empty() && b.error.empty()) return classicError(404, "trace not found");
  const size_t total = data.size();
  return classicOk(std::move(data), total, b);
}

ApiResponse JaegerApi::dependencies(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  constexpr int64_t kMaxMillis = std::numeric_limits<int64_t>::max() / 1000000 - 1;
  const int64_t end_ms = params.integer("endTs", 0, kMaxMillis).value_or(now_us / 1000);
  // Jaeger's default lookback is a day.
  const int64_t lookback_ms = params.integer("lookback", 1, kMaxMillis).value_or(86400000);
  if (!params.ok()) return classicError(400, params.error());
  // Edges from the rollups, by the minute of the child span (docs/API.md).
  const MinuteRange minutes = MinuteRange::of(std::max<int64_t>(0, end_ms - lookback_ms) * 1000000,
                                              end_ms * 1000000 + 1000000);
  ScanBudget b = budget();
  RollupDependencies graph(minutes);
  readRollupsInto(minutes, b, [&](const store::RollupSegment& s) { graph.add(s); });
  json data = graph.finish();
  const size_t total = data.size();
  return classicOk(std::move(data), total, b);
}

}  // namespace otlpd::query
