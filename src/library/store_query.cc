#include "otlpd/store_query.h"

#include "common/strings.h"
#include "query/otlp_values.h"
#include "query/store_queries.h"

namespace otlpd {
namespace {

using otlp::pb_common::KeyValue;

std::string valueText(const otlp::pb_common::AnyValue& value) {
  if (value.value_case() == otlp::pb_common::AnyValue::kStringValue) return value.string_value();
  return query::anyValueJson(value).dump();
}

void appendAttributes(const google::protobuf::RepeatedPtrField<KeyValue>& from,
                      std::vector<std::pair<std::string, std::string>>& to) {
  to.reserve(to.size() + static_cast<size_t>(from.size()));
  for (const KeyValue& kv : from) to.emplace_back(kv.key(), valueText(kv.value()));
}

// Appends every span of `request`, grouped by trace id, to `traces` (in order of appearance).
void appendSpans(const otlp::TracesRequest& request, std::vector<TraceRecord>& traces) {
  for (const auto& rs : request.resource_spans()) {
    const std::string service = query::serviceNameOf(rs.resource());
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        const std::string trace_id = query::hexId(span.trace_id());
        if (traces.empty() || traces.back().trace_id != trace_id) {
          auto it = std::find_if(traces.begin(), traces.end(),
                                 [&](const TraceRecord& t) { return t.trace_id == trace_id; });
          if (it == traces.end()) {
            traces.push_back(TraceRecord{trace_id, {}});
          } else {
            std::rotate(it, it + 1, traces.end());  // the last one is the one being filled
          }
        }
        SpanRecord r;
        r.trace_id = trace_id;
        r.span_id = query::hexId(span.span_id());
        r.parent_span_id = query::hexId(span.parent_span_id());
        r.service = service;
        r.name = span.name();
        r.kind = static_cast<int>(span.kind());
        r.start_unix_nano = static_cast<int64_t>(span.start_time_unix_nano());
        r.end_unix_nano = static_cast<int64_t>(span.end_time_unix_nano());
        r.status_code = static_cast<int>(span.status().code());
        r.status_message = span.status().message();
        appendAttributes(span.attributes(), r.attributes);
        appendAttributes(rs.resource().attributes(), r.resource_attributes);
        traces.back().spans.push_back(std::move(r));
      }
    }
  }
}

}  // namespace

struct StoreQuery::Impl {
  Impl(std::string dir, uint64_t max_scan_bytes)
      : directory(dir), queries(std::move(dir)), max_bytes(max_scan_bytes) {}
  query::ScanBudget budget() const {
    query::ScanBudget b;
    b.max_bytes = max_bytes;
    return b;
  }
  // A store error (a missing store is none: it only means nothing was written yet).
  static std::optional<Status> failure(const query::ScanBudget& b) {
    if (b.error.empty() || query::isMissingStoreError(b.error)) return std::nullopt;
    return Status(StatusCode::kIoError, b.error);
  }
  Result<otlp::TracesRequest> traceRequest(std::string_view hex) const {
    auto id = query::parseTraceIdHex(hex);
    if (!id) {
      return Status(StatusCode::kInvalidArgument,
                    strCat("not a trace id: '", hex, "' (1 to 32 hex digits, not all zero)"));
    }
    query::ScanBudget b = budget();
    otlp::TracesRequest request = queries.traceById(*id, b);
    if (auto s = failure(b)) return *s;
    if (request.resource_spans_size() == 0) {
      return Status(StatusCode::kNotFound, strCat("no spans of trace ", query::hexId(*id)));
    }
    return request;
  }

  std::string directory;
  query::StoreQueries queries;
  uint64_t max_bytes;
};

StoreQuery::StoreQuery(std::string directory, uint64_t max_scan_bytes)
    : impl_(std::make_unique<Impl>(std::move(directory), max_scan_bytes)) {}
StoreQuery::~StoreQuery() = default;
const std::string& StoreQuery::directory() const {
  return impl_->directory;
}
StoreQuery::StoreQuery(StoreQuery&&) noexcept = default;
StoreQuery& StoreQuery::operator=(StoreQuery&&) noexcept = default;

Result<TraceRecord> StoreQuery::trace(std::string_view trace_id_hex) const {
  auto request = impl_->traceRequest(trace_id_hex);
  if (!request.ok()) return request.status();
  std::vector<TraceRecord> traces;
  appendSpans(*request, traces);
  if (traces.empty()) return Status(StatusCode::kNotFound, "no spans");
  return std::move(traces.front());
}

Result<std::string> StoreQuery::traceOtlp(std::string_view trace_id_hex) const {
  auto request = impl_->traceRequest(trace_id_hex);
  if (!request.ok()) return request.status();
  return request->SerializeAsString();
}

Result<std::vector<TraceRecord>> StoreQuery::findTraces(const TraceSearch& search) const {
  store::ScanQuery q;
  q.signal = store::StoredSignal::kTraces;
  if (!search.service.empty()) q.service = search.service;
  if (!search.operation.empty()) q.name = search.operation;
  if (search.start_unix_nano != 0) q.start_unix_nano = search.start_unix_nano;
  if (search.end_unix_nano != 0) q.end_unix_nano = search.end_unix_nano;
  q.min_duration_ns = search.min_duration_ns;
  q.max_duration_ns = search.max_duration_ns;
  q.attributes = search.attributes;
  query::ScanBudget b = impl_->budget();
  const auto found = impl_->queries.findTraces(q, search.limit, b);
  const auto requests = impl_->queries.fetchTraces(found, b);
  if (auto s = Impl::failure(b)) return *s;
  std::vector<TraceRecord> traces;
  for (const auto& f : found) {  // newest first, as found
    auto it = requests.find(f.id);
    if (it == requests.end()) continue;
    std::vector<TraceRecord> one;
    appendSpans(it->second, one);
    if (!one.empty()) traces.push_back(std::move(one.front()));
  }
  return traces;
}

Result<std::vector<std::string>> StoreQuery::services() const {
  query::ScanBudget b = impl_->budget();
  std::set<std::string> services = impl_->queries.services(b);
  if (auto s = Impl::failure(b)) return *s;
  return std::vector<std::string>(services.begin(), services.end());
}

Result<std::vector<OperationRecord>> StoreQuery::operations(std::string_view service) const {
  query::ScanBudget b = impl_->budget();
  std::set<query::Operation> ops = impl_->queries.operations(std::string(service), b);
  if (auto s = Impl::failure(b)) return *s;
  std::vector<OperationRecord> out;
  out.reserve(ops.size());
  for (const auto& op : ops) out.push_back(OperationRecord{op.name, op.kind});
  return out;
}

}  // namespace otlpd
