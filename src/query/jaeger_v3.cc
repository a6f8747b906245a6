// Jaeger's API v3 over HTTP (the api_v3 HTTP gateway of jaeger-query): OTLP/JSON traces.
#include <limits>

#include "common/strings.h"
#include "otlp/json_codec.h"
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

}  // namespace

ApiResponse JaegerApi::v3Services() const {
  ScanBudget b = budget();
  const std::set<std::string> names = store_.services(b);
  if (!b.error.empty()) return v3Error(500, b.error);
  return {200, dumpJson(json{{"services", names}})};
}

ApiResponse JaegerApi::v3Operations(std::string_view query) const {
  Params params(query);
  const std::optional<std::string> service = params.text("service");
  std::optional<int> kind;
  // The gateway's parameter is span_kind; spanKind is accepted as well.
  for (std::string_view name : {"span_kind", "spanKind"}) {
    if (auto k = params.text(name)) {
      kind = parseSpanKind(*k);
      if (!kind)
        params.fail(name, *k, "is not one of server, client, producer, consumer, internal");
    }
  }
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
  Params params(query_text);
  store::ScanQuery query;
  query.service = params.text("query.service_name");
  query.name = params.text("query.operation_name");
  query.attributes = params.tags("query.attributes");
  if (auto t = params.rfc3339("query.start_time_min")) query.start_unix_nano = *t;
  if (auto t = params.rfc3339("query.start_time_max")) {
    query.end_unix_nano = *t < std::numeric_limits<int64_t>::max() ? *t + 1 : *t;
  }
  if (auto d = params.duration("query.duration_min")) query.min_duration_ns = *d * 1000;
  if (auto d = params.duration("query.duration_max")) query.max_duration_ns = *d * 1000;
  int64_t limit = options_.max_traces;
  for (std::string_view name : {"query.search_depth", "query.num_traces"}) {
    if (auto n = params.integer(name, 1, std::numeric_limits<int32_t>::max())) {
      limit = std::min(*n, options_.max_traces);
    }
  }
  if (!params.ok()) return v3Error(400, params.error());
  if (!query.service) return v3Error(400, "parameter 'query.service_name' is required");

  ScanBudget b = budget();
  const auto found = store_.findTraces(query, static_cast<size_t>(limit), b);
  const auto traces = store_.fetchTraces(found, b);
  if (!b.error.empty()) return v3Error(500, b.error);
  otlp::TracesRequest all;
  for (const auto& f : found) {
    auto it = traces.find(f.id);
    if (it == traces.end()) continue;
    for (const auto& rs : it->second.resource_spans()) *all.add_resource_spans() = rs;
  }
  if (all.resource_spans_size() == 0) return v3Error(404, "No traces found");
  return v3Result(all);
}

ApiResponse JaegerApi::v3TraceById(std::string_view id_text) const {
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
