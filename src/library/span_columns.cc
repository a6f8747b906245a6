// StoreQuery::spanColumns: spans of the store's scan answers straight into columns by walking
// their protobuf wire bytes (otlp/wire_reader.h); no span is decoded into a message.
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "common/strings.h"
#include "otlp/wire_reader.h"
#include "otlpd/store_query.h"
#include "query/store_queries.h"

namespace otlpd {
namespace {

namespace wire = otlp::wire;

// OTLP field numbers (opentelemetry/proto/trace/v1/trace.proto, common, resource).
constexpr uint32_t kRequestResourceSpans = 1;
constexpr uint32_t kResourceSpansResource = 1;
constexpr uint32_t kResourceSpansScopeSpans = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kKeyValueKey = 1;
constexpr uint32_t kKeyValueValue = 2;
constexpr uint32_t kAnyValueString = 1;
constexpr uint32_t kScopeSpansSpans = 2;
constexpr uint32_t kSpanTraceId = 1;
constexpr uint32_t kSpanSpanId = 2;
constexpr uint32_t kSpanParentSpanId = 4;
constexpr uint32_t kSpanName = 5;
constexpr uint32_t kSpanKind = 6;
constexpr uint32_t kSpanStart = 7;
constexpr uint32_t kSpanEnd = 8;
constexpr uint32_t kSpanStatus = 15;
constexpr uint32_t kStatusCode = 3;

class ColumnWriter {
 public:
  explicit ColumnWriter(SpanColumns& out) : out_(out) {}

  bool addRequest(std::string_view bytes) {
    wire::Reader request(bytes);
    wire::Field f;
    while (!request.done()) {
      if (request.next(f) != wire::Stop::kNone) return false;
      if (f.number == kRequestResourceSpans && f.type == wire::kLengthDelimited) {
        if (!addResourceSpans(f.bytes)) return false;
      }
    }
    return true;
  }

 private:
  bool addResourceSpans(std::string_view bytes) {
    std::string_view service;
    // The resource comes first in what the store writes, but any order is valid protobuf.
    wire::Reader r(bytes);
    wire::Field f;
    while (!r.done()) {
      if (r.next(f) != wire::Stop::kNone) return false;
      if (f.number == kResourceSpansResource && f.type == wire::kLengthDelimited) {
        service = serviceName(f.bytes);
      }
    }
    const int32_t service_index = intern(service);
    wire::Reader again(bytes);
    while (!again.done()) {
      if (again.next(f) != wire::Stop::kNone) return false;
      if (f.number != kResourceSpansScopeSpans || f.type != wire::kLengthDelimited) continue;
      wire::Reader scope(f.bytes);
      wire::Field s;
      while (!scope.done()) {
        if (scope.next(s) != wire::Stop::kNone) return false;
        if (s.number == kScopeSpansSpans && s.type == wire::kLengthDelimited) {
          if (!addSpan(s.bytes, service_index)) return false;
        }
      }
    }
    return true;
  }

  static std::string_view serviceName(std::string_view resource) {
    wire::Reader r(resource);
    wire::Field f;
    while (!r.done()) {
      if (r.next(f) != wire::Stop::kNone) return {};
      if (f.number != kResourceAttributes || f.type != wire::kLengthDelimited) continue;
      wire::Reader kv(f.bytes);
      wire::Field k;
      std::string_view key, value;
      while (!kv.done()) {
        if (kv.next(k) != wire::Stop::kNone) break;
        if (k.number == kKeyValueKey && k.type == wire::kLengthDelimited) key = k.bytes;
        if (k.number == kKeyValueValue && k.type == wire::kLengthDelimited) {
          wire::Reader any(k.bytes);
          wire::Field a;
          while (!any.done() && any.next(a) == wire::Stop::kNone) {
            if (a.number == kAnyValueString && a.type == wire::kLengthDelimited) value = a.bytes;
          }
        }
      }
      if (key == "service.name") return value;
    }
    return {};
  }

  static void appendId(std::string& column, std::string_view id, size_t width) {
    if (id.size() == width) {
      column.append(id);
    } else {
      column.append(width, '\0');
    }
  }

  bool addSpan(std::string_view bytes, int32_t service_index) {
    std::string_view trace_id, span_id, parent, name;
    uint64_t kind = 0, start = 0, end = 0, status = 0;
    wire::Reader r(bytes);
    wire::Field f;
    while (!r.done()) {
      if (r.next(f) != wire::Stop::kNone) return false;
      switch (f.number) {
        case kSpanTraceId:
          trace_id = f.bytes;
          break;
        case kSpanSpanId:
          span_id = f.bytes;
          break;
        case kSpanParentSpanId:
          parent = f.bytes;
          break;
        case kSpanName:
          name = f.bytes;
          break;
        case kSpanKind:
          kind = f.value;
          break;
        case kSpanStart:
          start = f.value;
          break;
        case kSpanEnd:
          end = f.value;
          break;
        case kSpanStatus: {
          wire::Reader st(f.bytes);
          wire::Field c;
          while (!st.done() && st.next(c) == wire::Stop::kNone) {
            if (c.number == kStatusCode && c.type == wire::kVarint) status = c.value;
          }
          break;
        }
        default:
          break;
      }
    }
    appendId(out_.trace_ids, trace_id, 16);
    appendId(out_.span_ids, span_id, 8);
    appendId(out_.parent_span_ids, parent, 8);
    out_.start_unix_nano.push_back(static_cast<int64_t>(start));
    out_.end_unix_nano.push_back(static_cast<int64_t>(end));
    out_.kind.push_back(static_cast<int32_t>(kind));
    out_.status_code.push_back(static_cast<int32_t>(status));
    out_.service.push_back(service_index);
    out_.name.push_back(intern(name));
    ++out_.rows;
    return true;
  }

  int32_t intern(std::string_view s) {
    auto it = index_.find(s);
    if (it != index_.end()) return it->second;
    const auto i = static_cast<int32_t>(out_.strings.size());
    out_.strings.emplace_back(s);
    // Keys view the strings of a deque-like store: keep our own copy so they never move.
    keys_.emplace_back(s);
    index_.emplace(keys_.back(), i);
    return i;
  }

  SpanColumns& out_;
  std::deque<std::string> keys_;
  absl::flat_hash_map<std::string_view, int32_t> index_;
};

}  // namespace

Result<SpanColumns> StoreQuery::spanColumns(const store::ScanQuery& query) const {
  store::ScanQuery q = query;
  q.signal = store::StoredSignal::kTraces;
  store::StoreReader reader(directory());
  SpanColumns out;
  ColumnWriter writer(out);
  bool malformed = false;
  const std::string error = reader.scan(q, [&](std::string_view request) {
    if (!writer.addRequest(request)) {
      malformed = true;
      return false;
    }
    return true;
  });
  if (!error.empty() && !query::isMissingStoreError(error)) {
    return Status(StatusCode::kIoError, error);
  }
  if (malformed) return Status(StatusCode::kIoError, "the store returned a malformed request");
  return out;
}

}  // namespace otlpd
