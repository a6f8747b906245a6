// StoreQuery::spanColumns: the store's span columns copied straight into the answer's columns,
// from each matching record batch as decoded (no OTLP request is built).
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "common/strings.h"
#include "otlpd/store_query.h"
#include "query/store_queries.h"
#include "store/otlp_columns.h"
#include "store/table_scan.h"

namespace otlpd {
namespace {

// Columns of the traces schema (store/otlp_columns.cc) that span_col does not name.
constexpr size_t kParentSpanIdColumn = 5;
constexpr size_t kKindColumn = 9;
constexpr size_t kStatusCodeColumn = 11;

}  // namespace

Result<SpanColumns> StoreQuery::spanColumns(const store::ScanQuery& query) const {
  store::ScanQuery q = query;
  q.signal = store::StoredSignal::kTraces;
  SpanColumns out;
  // Dictionary indices of the file being read → indices into out.strings.
  absl::flat_hash_map<std::string_view, int32_t> index;
  std::deque<std::string> keys;
  auto intern = [&](std::string_view s) {
    auto it = index.find(s);
    if (it != index.end()) return it->second;
    const auto i = static_cast<int32_t>(out.strings.size());
    out.strings.emplace_back(s);
    keys.emplace_back(s);
    index.emplace(keys.back(), i);
    return i;
  };
  namespace col = store::span_col;
  const std::string error = store::scanTables(
      directory(), q, [&](const store::ColumnTable& t, const std::vector<uint8_t>& selected) {
        const store::Column& start = t.column(col::kStartTime);
        const store::Column& end = t.column(col::kEndTime);
        const store::Column& trace_id = t.column(col::kTraceId);
        const store::Column& span_id = t.column(col::kSpanId);
        const store::Column& parent = t.column(kParentSpanIdColumn);
        const store::Column& name = t.column(col::kName);
        const store::Column& kind = t.column(kKindColumn);
        const store::Column& service = t.column(col::kServiceName);
        const store::Column& status = t.column(kStatusCodeColumn);
        // The dictionaries' strings, interned once per table rather than once per row.
        std::vector<int32_t> name_ids, service_ids;
        auto mapped = [&](const store::Column& c, std::vector<int32_t>& ids, size_t row) {
          int32_t idx = -1;
          if (!c.isNull(row)) std::memcpy(&idx, c.valuesView().data() + row * 4, 4);
          const store::Dictionary* d = c.dictionary();
          if (idx < 0 || d == nullptr || static_cast<size_t>(idx) >= d->size()) return intern({});
          if (ids.size() < d->size()) ids.resize(d->size(), -1);
          int32_t& id = ids[static_cast<size_t>(idx)];
          if (id < 0) id = intern(d->at(static_cast<size_t>(idx)));
          return id;
        };
        auto id = [](const store::Column& c, size_t row, size_t width, std::string& to) {
          if (c.isNull(row)) {
            to.append(width, '\0');
          } else {
            to.append(c.valuesView().substr(row * width, width));
          }
        };
        for (size_t row = 0; row < t.rows(); ++row) {
          if (selected[row] == 0) continue;
          id(trace_id, row, 16, out.trace_ids);
          id(span_id, row, 8, out.span_ids);
          id(parent, row, 8, out.parent_span_ids);
          out.start_unix_nano.push_back(start.intAt(row));
          out.end_unix_nano.push_back(end.intAt(row));
          out.kind.push_back(static_cast<int32_t>(kind.intAt(row)));
          out.status_code.push_back(status.isNull(row) ? 0
                                                       : static_cast<int32_t>(status.intAt(row)));
          out.name.push_back(mapped(name, name_ids, row));
          out.service.push_back(mapped(service, service_ids, row));
          ++out.rows;
        }
        return true;
      });
  if (!error.empty() && !query::isMissingStoreError(error)) {
    return Status(StatusCode::kIoError, error);
  }
  return out;
}

}  // namespace otlpd
