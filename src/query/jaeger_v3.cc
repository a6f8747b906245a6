// Jaeger's API v3 over HTTP (the api_v3 HTTP gateway of jaeger-query): OTLP/JSON traces.
#include <limits>
#include <set>
#include <variant>

#include "common/strings.h"
#include "otlp/json_codec.h"
#include "query/analytics.h"
#include "query/api_support.h"
#include "query/jaeger_api.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

// {"result": <the OTLP/JSON of request>}, without re-parsing the encoded traces.
ApiResponse v3Result(const otlp::TracesRequest& request) {
  std::string body = R"({"result":)";
  otlp::appendOtlpJson(request, body);
  body.push_back('}');
  return {200, std::move(body)};
}

// Jaeger's camelCase names are canonical (2.19+); the snake_case ones it deprecated are aliases.
void readTraceQuery(Params& params, store::ScanQuery& query, int64_t& limit, int64_t max_traces) {
  params.alias("query.serviceName", "query.service_name");
  params.alias("query.operationName", "query.operation_name");
  params.alias("query.startTimeMin", "query.start_time_min");
  params.alias("query.startTimeMax", "query.start_time_max");
  params.alias("query.durationMin", "query.duration_min");
  params.alias("query.durationMax", "query.duration_max");
  params.alias("query.searchDepth", "query.search_depth");
  params.alias("query.searchDepth", "query.num_traces");
  params.alias("query.rawTraces", "query.raw_traces");
  query.service = params.text("query.serviceName");
  query.name = params.text("query.operationName");
  query.attributes = params.tags("query.attributes");
  if (auto t = params.rfc3339("query.startTimeMin")) query.start_unix_nano = *t;
  if (auto t = params.rfc3339("query.startTimeMax")) {
    query.end_unix_nano = *t < std::numeric_limits<int64_t>::max() ? *t + 1 : *t;
  }
  if (auto d = params.duration("query.durationMin")) query.min_duration_ns = *d * 1000;
  if (auto d = params.duration("query.durationMax")) query.max_duration_ns = *d * 1000;
  if (auto n = params.integer("query.searchDepth", 1, std::numeric_limits<int32_t>::max())) {
    limit = std::min(*n, max_traces);
  }
  // Traces are returned as stored, never adjusted: rawTraces has nothing to turn off.
  params.boolean("query.rawTraces");
  params.rejectUnknown();
}

}  // namespace

struct JaegerApi::V3Found {
  std::vector<std::pair<std::string, otlp::TracesRequest>> traces;  // in found order
};

std::variant<JaegerApi::V3Found, ApiResponse> JaegerApi::v3Find(std::string_view query_text) const {
  Params params(query_text);
  store::ScanQuery query;
  int64_t limit = options_.max_traces;
  readTraceQuery(params, query, limit, options_.max_traces);
  if (!params.ok()) return v3Error(400, params.error());
  if (!query.service) return v3Error(400, "parameter 'query.serviceName' is required");
  ScanBudget b = budget();
  const auto found = store_.findTraces(query, static_cast<size_t>(limit), b);
  auto traces = store_.fetchTraces(found, b);
  if (!b.error.empty()) return v3Error(500, b.error);
  V3Found out;
  for (const auto& f : found) {
    auto it = traces.find(f.id);
    if (it == traces.end()) continue;
    out.traces.emplace_back(f.id, std::move(it->second));
  }
  return out;
}

ApiResponse JaegerApi::v3Services(std::string_view query) const {
  Params params(query);
  params.rejectUnknown();
  if (!params.ok()) return v3Error(400, params.error());
  ScanBudget b = budget();
  const std::set<std::string> names = store_.services(b);
  if (!b.error.empty()) return v3Error(500, b.error);
  return {200, dumpJson(json{{"services", names}})};
}

ApiResponse JaegerApi::v3Operations(std::string_view query) const {
  Params params(query);
  const std::optional<std::string> service = params.text("service");
  std::optional<int> kind;
  params.alias("spanKind", "span_kind");
  if (auto k = params.text("spanKind")) {
    kind = parseSpanKind(*k);
    if (!kind)
      params.fail("spanKind", *k, "is not one of server, client, producer, consumer, internal");
  }
  params.rejectUnknown();
  if (!params.ok()) return v3Error(400, params.error());
  if (!service) return v3Error(400, "parameter 'service' is required");
  ScanBudget b = budget();
  const std::set<Operation> ops = store_.operations(*service, b);
  if (!b.error.empty()) return v3Error(500, b.error);
  json out = json::array();
  for (const Operation& op : ops) {
    if (kind && *kind != 0 && op.kind != *kind) continue;
    out.push_back({{"name", op.name}, {"spanKind", std::string(spanKindText(op.kind))}});
  }
  return {200, dumpJson(json{{"operations", std::move(out)}})};
}

ApiResponse JaegerApi::v3Traces(std::string_view query_text) const {
  auto found = v3Find(query_text);
  if (auto* error = std::get_if<ApiResponse>(&found)) return *error;
  otlp::TracesRequest all;
  for (const auto& [id, trace] : std::get<V3Found>(found).traces) {
    for (const auto& rs : trace.resource_spans()) *all.add_resource_spans() = rs;
  }
  if (all.resource_spans_size() == 0) return v3Error(404, "No traces found");
  return v3Result(all);
}

// Jaeger's TraceSummary as its HTTP gateway writes it (proto3 JSON): int64 times as decimal
// strings, int32 counts as numbers, the trace id in hex.
ApiResponse JaegerApi::v3TraceSummaries(std::string_view query_text) const {
  auto found = v3Find(query_text);
  if (auto* error = std::get_if<ApiResponse>(&found)) return *error;
  std::vector<SpanFacts> spans;
  for (const auto& [id, trace] : std::get<V3Found>(found).traces) {
    forEachSpan(trace, [&](const SpanFacts& span) { spans.push_back(span); });
  }
  json summaries = json::array();
  for (const TraceSummary& t : summarizeTraces(spans)) {
    json services = json::array();
    for (const auto& [name, sc] : t.services) {
      services.push_back({{"name", name}, {"spanCount", sc.spans}, {"errorSpanCount", sc.errors}});
    }
    summaries.push_back({{"traceId", hexId(t.trace_id)},
                         {"rootServiceName", t.root_service},
                         {"rootOperationName", t.root_name},
                         {"minStartTimeUnixNano", std::to_string(t.start_unix_nano)},
                         {"maxEndTimeUnixNano", std::to_string(t.end_unix_nano)},
                         {"spanCount", t.spans},
                         {"errorSpanCount", t.errors},
                         {"orphanSpanCount", t.orphans},
                         {"services", std::move(services)}});
  }
  // No match is an empty list (200): a search page shows "no results", not an error.
  return {200, dumpJson(json{{"summaries", std::move(summaries)}})};
}

ApiResponse JaegerApi::v3TraceById(std::string_view id_text, std::string_view query) const {
  Params params(query);
  // GetTrace's window and rawTraces narrow Jaeger's lookup; the store finds a trace by id
  // directly, so they are checked and need no more.
  params.alias("startTime", "start_time");
  params.alias("endTime", "end_time");
  params.alias("rawTraces", "raw_traces");
  params.rfc3339("startTime");
  params.rfc3339("endTime");
  params.boolean("rawTraces");
  params.rejectUnknown();
  if (!params.ok()) return v3Error(400, params.error());
  const std::string decoded = urlDecode(id_text, false);
  std::optional<std::string> id = parseTraceIdHex(decoded);
  if (!id) {
    return v3Error(400, strCat("malformed parameter 'trace_id': '", decoded.substr(0, 80),
                               "' is not a hexadecimal trace id of 1 to 32 digits"));
  }
  ScanBudget b = budget();
  const otlp::TracesRequest trace = store_.traceById(*id, b);
  if (!b.error.empty()) return v3Error(500, b.error);
  if (trace.resource_spans_size() == 0) return v3Error(404, "trace not found");
  return v3Result(trace);
}

}  // namespace otlpd::query
