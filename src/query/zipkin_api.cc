#include "query/zipkin_api.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/json_escape.h"
#include "common/strings.h"
#include "query/jaeger_api.h"
#include "query/otlp_values.h"
#include "query/params.h"
#include "zipkin/from_otlp.h"

namespace otlpd::query {
namespace {

namespace zk = ::otlpd::zipkin;

// Zipkin's defaults: 10 traces, a day of lookback (its QUERY_LOOKBACK).
constexpr int64_t kDefaultLimit = 10;
constexpr int64_t kDefaultLookbackMs = 86'400'000;
constexpr int64_t kMaxMillis = std::numeric_limits<int64_t>::max() / 1'000'000 - 1;
// Spans one dependencies request may relate.
constexpr size_t kMaxDependencySpans = 1'000'000;

ApiResponse error(int code, std::string_view message) {
  std::string body = "{\"message\":";
  common::appendJsonString(body, message);
  body += '}';
  return {code, std::move(body)};
}

ApiResponse storeError(const ScanBudget& budget) {
  return error(500, budget.error);
}

ApiResponse stringList(const std::set<std::string>& names) {
  std::string body = "[";
  bool first = true;
  for (const auto& n : names) {
    if (!first) body += ',';
    first = false;
    common::appendJsonString(body, n);
  }
  body += ']';
  return {200, std::move(body)};
}

// Zipkin's JSON list of spans of `request`.
void appendTraceJson(const otlp::TracesRequest& request, std::string& out) {
  out += '[';
  bool first = true;
  zk::forEachZipkinSpan(request, zk::FromOtlpOptions(), [&](const zk::OutSpan& span) {
    if (!first) out += ',';
    first = false;
    zk::appendSpanJson(span, out);
  });
  out += ']';
}

// The window of endTs (ms, default now) and lookback (ms) in ns.
void readWindow(Params& params, int64_t now_us, store::ScanQuery& query) {
  const int64_t end_ms = params.integer("endTs", 0, kMaxMillis).value_or(now_us / 1000);
  const int64_t lookback_ms =
      params.integer("lookback", 0, kMaxMillis).value_or(kDefaultLookbackMs);
  // endTs is inclusive: a span at that very millisecond counts.
  query.end_unix_nano = end_ms * 1'000'000 + 1'000'000;
  query.start_unix_nano = std::max<int64_t>(0, end_ms - lookback_ms) * 1'000'000;
}

// annotationQuery: "error and http.method=GET": `key=value` terms are tag filters, bare terms
// match a tag key or an annotation (event) value.
struct AnnotationQuery {
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<std::string> keys;
};

AnnotationQuery parseAnnotationQuery(std::string_view text) {
  AnnotationQuery q;
  for (absl::string_view term : absl::StrSplit(toAbsl(text), " and ", absl::SkipWhitespace())) {
    std::string t(absl::StripAsciiWhitespace(term));
    if (t.empty()) continue;
    if (const size_t eq = t.find('='); eq != std::string::npos) {
      q.tags.emplace_back(t.substr(0, eq), t.substr(eq + 1));
    } else {
      q.keys.push_back(std::move(t));
    }
  }
  return q;
}

}  // namespace

ScanBudget ZipkinApi::budget() const {
  ScanBudget b;
  b.max_bytes = options_.max_scan_bytes;
  return b;
}

ApiResponse ZipkinApi::handle(std::string_view path, std::string_view query, int64_t now_us) const {
  if (path == "services") return services();
  if (path == "spans") return spanNames(query);
  if (path == "remoteServices") return remoteServices(query, now_us);
  if (path == "traces") return traces(query, now_us);
  if (path == "traceMany") return traceMany(query);
  if (path.starts_with("trace/")) return trace(path.substr(6));
  if (path == "dependencies") return dependencies(query, now_us);
  // The Zipkin UI asks for these to offer completions; otlpd keeps no list of them.
  if (path == "autocompleteKeys" || path == "autocompleteValues") return {200, "[]"};
  return error(404, strCat("no such endpoint: /zipkin/api/v2/", path));
}

ApiResponse ZipkinApi::services() const {
  ScanBudget b = budget();
  std::set<std::string> names = store_.services(b);
  if (!b.error.empty()) return storeError(b);
  names.erase("");
  return stringList(names);
}

ApiResponse ZipkinApi::spanNames(std::string_view query) const {
  Params params(query);
  auto service = params.text("serviceName");
  if (!params.ok()) return error(400, params.error());
  if (!service) return error(400, "serviceName is required");
  ScanBudget b = budget();
  std::set<std::string> names;
  for (const Operation& op : store_.operations(*service, b)) names.insert(op.name);
  if (!b.error.empty()) return storeError(b);
  return stringList(names);
}

ApiResponse ZipkinApi::remoteServices(std::string_view query, int64_t now_us) const {
  Params params(query);
  auto service = params.text("serviceName");
  if (!params.ok()) return error(400, params.error());
  if (!service) return error(400, "serviceName is required");
  store::ScanQuery scan;
  scan.service = *service;
  scan.end_unix_nano = (now_us + 60'000'000) * 1000;
  scan.start_unix_nano = std::max<int64_t>(0, now_us * 1000 - kDefaultLookbackMs * 1'000'000);
  ScanBudget b = budget();
  std::set<std::string> names;
  store_.scanTraces(scan, b, [&](const otlp::TracesRequest& request) {
    zk::forEachZipkinSpan(request, zk::FromOtlpOptions(), [&](const zk::OutSpan& span) {
      if (span.local.service_name == *service && !span.remote.service_name.empty()) {
        names.insert(span.remote.service_name);
      }
    });
    return names.size() < 10000;
  });
  if (!b.error.empty()) return storeError(b);
  return stringList(names);
}

ApiResponse ZipkinApi::traces(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  query.service = params.text("serviceName");
  const std::optional<std::string> remote = params.text("remoteServiceName");
  if (auto name = params.text("spanName"); name && *name != "all") query.name = *name;
  AnnotationQuery annotations;
  if (auto a = params.text("annotationQuery")) annotations = parseAnnotationQuery(*a);
  query.attributes = annotations.tags;
  if (auto d = params.integer("minDuration", 0, kMaxMillis)) query.min_duration_ns = *d * 1000;
  if (auto d = params.integer("maxDuration", 0, kMaxMillis)) query.max_duration_ns = *d * 1000;
  readWindow(params, now_us, query);
  int64_t limit =
      params.integer("limit", 1, std::numeric_limits<int32_t>::max()).value_or(kDefaultLimit);
  if (!params.ok()) return error(400, params.error());
  limit = std::min(limit, std::max<int64_t>(options_.max_results, 1));
  query.newest_first = true;

  ScanBudget b = budget();
  // Bare annotation terms and the remote service are checked on whole traces: ask for more.
  const bool post_filter = !annotations.keys.empty() || remote.has_value();
  const size_t wanted = static_cast<size_t>(post_filter ? limit * 4 : limit);
  const auto found = store_.findTraces(query, wanted, b);
  const auto fetched = store_.fetchTraces(found, b);
  if (!b.error.empty()) return storeError(b);
  std::string body = "[";
  int64_t written = 0;
  for (const auto& f : found) {
    if (written >= limit) break;
    auto it = fetched.find(f.id);
    if (it == fetched.end()) continue;
    if (post_filter) {
      bool remote_ok = !remote.has_value();
      std::vector<bool> key_ok(annotations.keys.size(), false);
      zk::forEachZipkinSpan(it->second, zk::FromOtlpOptions(), [&](const zk::OutSpan& span) {
        if (remote && span.remote.service_name == *remote &&
            (!query.service || span.local.service_name == *query.service)) {
          remote_ok = true;
        }
        for (size_t k = 0; k < annotations.keys.size(); ++k) {
          const std::string& key = annotations.keys[k];
          for (const auto& tag : span.tags) key_ok[k] = key_ok[k] || tag.first == key;
          for (const auto& a : span.annotations) key_ok[k] = key_ok[k] || a.second == key;
        }
      });
      if (!remote_ok || std::find(key_ok.begin(), key_ok.end(), false) != key_ok.end()) continue;
    }
    if (written++ != 0) body += ',';
    appendTraceJson(it->second, body);
  }
  body += ']';
  return {200, std::move(body)};
}

ApiResponse ZipkinApi::trace(std::string_view id_text) const {
  const std::string decoded = urlDecode(id_text, false);
  std::optional<std::string> id = parseTraceIdHex(decoded);
  if (!id) {
    return error(400, strCat("'", decoded.substr(0, 80),
                             "' is not a hexadecimal trace id of 1 to 32 digits"));
  }
  ScanBudget b = budget();
  otlp::TracesRequest all = store_.traceById(*id, b);
  if (!b.error.empty()) return storeError(b);
  std::string body;
  appendTraceJson(all, body);
  if (body == "[]") return error(404, strCat("trace ", decoded, " not found"));
  return {200, std::move(body)};
}

ApiResponse ZipkinApi::traceMany(std::string_view query) const {
  Params params(query);
  auto ids_text = params.text("traceIds");
  if (!params.ok()) return error(400, params.error());
  if (!ids_text) return error(400, "traceIds is required");
  std::vector<std::string> ids;
  for (absl::string_view part : absl::StrSplit(toAbsl(*ids_text), ',', absl::SkipEmpty())) {
    auto id = parseTraceIdHex(toStd(part));
    if (!id) return error(400, strCat("'", toStd(part), "' is not a hexadecimal trace id"));
    ids.push_back(*id);
  }
  if (ids.size() > 100) return error(400, "at most 100 traceIds per request");
  ScanBudget b = budget();
  std::string body = "[";
  bool first = true;
  for (const auto& id : ids) {
    otlp::TracesRequest trace = store_.traceById(id, b);
    if (trace.resource_spans_size() == 0) continue;
    if (!first) body += ',';
    first = false;
    appendTraceJson(trace, body);
  }
  if (!b.error.empty()) return storeError(b);
  body += ']';
  return {200, std::move(body)};
}

ApiResponse ZipkinApi::dependencies(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  readWindow(params, now_us, query);
  if (!params.ok()) return error(400, params.error());
  query.newest_first = true;
  // A call is a span whose parent (same trace) belongs to another service; an error when the
  // child span failed, as Zipkin's linker counts it.
  std::vector<std::string> services;
  std::unordered_map<std::string, uint32_t> service_ids;
  std::unordered_map<std::string, uint32_t> span_service;  // trace id + span id → service
  struct Child {
    std::string parent_key;
    uint32_t service;
    bool error;
  };
  std::vector<Child> children;
  size_t seen = 0;
  ScanBudget b = budget();
  store_.scanTraces(query, b, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) {
      const std::string service = serviceNameOf(rs.resource());
      auto [it, inserted] = service_ids.emplace(service, static_cast<uint32_t>(services.size()));
      if (inserted) services.push_back(service);
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          if (++seen > kMaxDependencySpans) return false;
          span_service[span.trace_id() + span.span_id()] = it->second;
          if (!span.parent_span_id().empty()) {
            children.push_back({span.trace_id() + span.parent_span_id(), it->second,
                                span.status().code() == otlp::pb_trace::Status::STATUS_CODE_ERROR});
          }
        }
      }
    }
    return true;
  });
  if (!b.error.empty()) return storeError(b);
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> links;
  for (const Child& c : children) {
    auto it = span_service.find(c.parent_key);
    if (it == span_service.end() || it->second == c.service) continue;
    auto& [calls, errors] = links[{services[it->second], services[c.service]}];
    ++calls;
    if (c.error) ++errors;
  }
  std::string body = "[";
  bool first = true;
  for (const auto& [edge, counts] : links) {
    if (!first) body += ',';
    first = false;
    body += "{\"parent\":";
    common::appendJsonString(body, edge.first);
    body += ",\"child\":";
    common::appendJsonString(body, edge.second);
    body += strCat(",\"callCount\":", counts.first);
    if (counts.second != 0) body += strCat(",\"errorCount\":", counts.second);
    body += '}';
  }
  body += ']';
  return {200, std::move(body)};
}

}  // namespace otlpd::query
