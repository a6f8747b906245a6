#include "query/store_queries.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <unordered_map>

#include "common/strings.h"
#include "store/file_index.h"

namespace otlpd::query {
namespace {

// Operations remembered per file; a file with more is still answered, from a fresh scan.
constexpr size_t kMaxOperationsPerFile = 10000;
// Files whose catalog is remembered (each a few KiB at most).
constexpr size_t kMaxCachedCatalogs = 4096;
// Services, or operations of a service, one answer lists at most.
constexpr size_t kMaxCatalogEntries = 10000;

template <class Request>
void scanAs(const store::StoreReader& reader, store::ScanQuery query, ScanBudget& budget,
            const std::function<bool(const Request&)>& on_request) {
  if (budget.truncated()) return;
  query.max_scan_bytes = budget.max_bytes;
  std::string parse_error;
  std::string err = reader.scan(
      query,
      [&](std::string_view bytes) {
        Request request;
        if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          parse_error = "the store returned an undecodable batch";
          return false;
        }
        return on_request(request);
      },
      &budget.stats);
  if (err.empty()) err = parse_error;
  if (!err.empty() && !isMissingStoreError(err) && budget.error.empty()) budget.error = err;
}

// The (service, name, kind) of every span of a traces file, from those columns alone.
std::string scanOperations(const std::string& path, StoreQueries::FileCatalog& catalog,
                           ScanBudget& budget) {
  std::vector<store::StoreReader::SpanOperation> ops;
  const uint64_t left = budget.max_bytes == 0 ? 0
                        : budget.stats.bytes_scanned < budget.max_bytes
                            ? budget.max_bytes - budget.stats.bytes_scanned
                            : 1;
  store::ScanStats st;
  std::string err = store::StoreReader::scanOperations(path, left, &ops, &st);
  budget.stats.bytes_scanned += st.bytes_scanned;
  budget.stats.batches_read += st.batches_read;
  budget.stats.files_scanned += st.files_scanned;
  budget.stats.truncated = budget.stats.truncated || st.truncated;
  if (!err.empty()) return err;
  size_t count = 0;
  for (auto& op : ops) {
    if (count++ >= kMaxOperationsPerFile) break;
    catalog.operations[op.service].insert(Operation{std::move(op.name), op.kind});
  }
  return "";
}

}  // namespace

bool isMissingStoreError(const std::string& err) {
  return err.find("No such file") != std::string::npos ||
         err.find("does not exist") != std::string::npos;
}

StoreQueries::StoreQueries(std::string store_directory) : reader_(std::move(store_directory)) {}

void StoreQueries::scanTraces(store::ScanQuery query, ScanBudget& budget,
                              const std::function<bool(const otlp::TracesRequest&)>& fn) const {
  query.signal = store::StoredSignal::kTraces;
  scanAs(reader_, std::move(query), budget, fn);
}
void StoreQueries::scanLogs(store::ScanQuery query, ScanBudget& budget,
                            const std::function<bool(const otlp::LogsRequest&)>& fn) const {
  query.signal = store::StoredSignal::kLogs;
  scanAs(reader_, std::move(query), budget, fn);
}
void StoreQueries::scanMetrics(store::ScanQuery query, ScanBudget& budget,
                               const std::function<bool(const otlp::MetricsRequest&)>& fn) const {
  query.signal = store::StoredSignal::kMetrics;
  scanAs(reader_, std::move(query), budget, fn);
}

std::optional<StoreQueries::FileCatalog> StoreQueries::catalogOf(const std::string& path,
                                                                 bool sealed,
                                                                 ScanBudget& budget) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // gone (retention)
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  if (sealed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = catalogs_.find(path);
    if (it != catalogs_.end() && it->second.size == size && it->second.mtime_ns == mtime) {
      return it->second;
    }
  }
  if (budget.truncated()) return std::nullopt;
  FileCatalog catalog{size, mtime, {}};
  if (std::string err = scanOperations(path, catalog, budget); !err.empty()) {
    if (!isMissingStoreError(err) && budget.error.empty()) budget.error = err;
    return std::nullopt;
  }
  if (sealed && !budget.truncated()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (catalogs_.size() >= kMaxCachedCatalogs) catalogs_.erase(catalogs_.begin());
    catalogs_[path] = catalog;
  }
  return catalog;
}

void StoreQueries::forgetDeletedFiles(const std::vector<std::string>& files) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = catalogs_.begin(); it != catalogs_.end();) {
    it = std::binary_search(files.begin(), files.end(), it->first) ? std::next(it)
                                                                   : catalogs_.erase(it);
  }
}

std::set<std::string> StoreQueries::services(ScanBudget& budget) const {
  std::set<std::string> out;
  const std::vector<std::string> files = reader_.files(store::StoredSignal::kTraces);
  forgetDeletedFiles(files);
  for (const std::string& path : files) {
    auto index = store::loadFileIndexShared(path, pipeline::Signal::kTraces);
    if (index.ok() && (*index)->services) {
      out.insert((*index)->services->begin(), (*index)->services->end());
    } else if (auto catalog = catalogOf(path, index.ok(), budget)) {
      for (const auto& [service, ops] : catalog->operations) out.insert(service);
    }
    if (out.size() >= kMaxCatalogEntries) {
      budget.stats.truncated = true;
      break;
    }
  }
  return out;
}

std::set<Operation> StoreQueries::operations(const std::string& service, ScanBudget& budget) const {
  std::set<Operation> out;
  const std::vector<std::string> files = reader_.files(store::StoredSignal::kTraces);
  forgetDeletedFiles(files);
  for (const std::string& path : files) {
    auto index = store::loadFileIndexShared(path, pipeline::Signal::kTraces);
    if (index.ok() && (*index)->services &&
        !std::binary_search((*index)->services->begin(), (*index)->services->end(), service)) {
      continue;
    }
    if (index.ok() && (*index)->operations) {
      for (const store::IndexedOperation& op : *(*index)->operations) {
        if (op.service == service) out.insert(Operation{op.name, op.kind});
      }
    } else if (auto catalog = catalogOf(path, index.ok(), budget)) {
      auto it = catalog->operations.find(service);
      if (it != catalog->operations.end()) out.insert(it->second.begin(), it->second.end());
    }
    if (out.size() >= kMaxCatalogEntries) {
      budget.stats.truncated = true;
      break;
    }
  }
  return out;
}

std::vector<StoreQueries::FoundTrace> StoreQueries::findTraces(const store::ScanQuery& query,
                                                               size_t limit,
                                                               ScanBudget& budget) const {
  std::unordered_map<std::string, FoundTrace> found;
  store::ScanQuery q = query;
  q.newest_first = true;
  if (limit > 0) {
    scanTraces(q, budget, [&](const otlp::TracesRequest& request) {
      for (const auto& rs : request.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& span : ss.spans()) {
            const auto t = static_cast<int64_t>(span.start_time_unix_nano());
            auto [it, inserted] =
                found.try_emplace(span.trace_id(), FoundTrace{span.trace_id(), t, t});
            if (!inserted) {
              it->second.min_unix_nano = std::min(it->second.min_unix_nano, t);
              it->second.max_unix_nano = std::max(it->second.max_unix_nano, t);
            }
          }
        }
      }
      // A whole batch is taken before stopping: its rows are in no time order.
      return found.size() < limit;
    });
  }
  std::vector<FoundTrace> out;
  out.reserve(found.size());
  for (auto& [id, f] : found) out.push_back(std::move(f));
  std::sort(out.begin(), out.end(), [](const FoundTrace& a, const FoundTrace& b) {
    if (a.max_unix_nano != b.max_unix_nano) return a.max_unix_nano > b.max_unix_nano;
    return a.id < b.id;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::map<std::string, otlp::TracesRequest> StoreQueries::fetchTraces(
    const std::vector<FoundTrace>& found, ScanBudget& budget) const {
  std::map<std::string, otlp::TracesRequest> out;
  if (found.empty()) return out;
  store::ScanQuery q;
  q.newest_first = true;
  int64_t min = INT64_MAX, max = INT64_MIN;
  for (const FoundTrace& f : found) {
    q.any_trace_ids.push_back(f.id);
    min = std::min(min, f.min_unix_nano);
    max = std::max(max, f.max_unix_nano);
  }
  q.start_unix_nano = min > INT64_MIN + kTraceSpreadNanos ? min - kTraceSpreadNanos : INT64_MIN;
  q.end_unix_nano = max < INT64_MAX - kTraceSpreadNanos ? max + kTraceSpreadNanos : INT64_MAX;
  // The traces were found, so their spans are read even when the search used up the budget:
  // what is left of it, but at least one batch (a scan always reads its first batch).
  ScanBudget fetch;
  fetch.max_bytes = budget.max_bytes == 0 ? 0
                    : budget.stats.bytes_scanned < budget.max_bytes
                        ? budget.max_bytes - budget.stats.bytes_scanned
                        : 1;
  scanTraces(q, fetch, [&](const otlp::TracesRequest& request) {
    // Split per trace, keeping each span's resource and scope: one ResourceSpans/ScopeSpans per
    // trace and scope group of the request.
    std::unordered_map<std::string, otlp::pb_trace::ScopeSpans*> current;
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        current.clear();
        for (const auto& span : ss.spans()) {
          auto [it, inserted] = current.try_emplace(span.trace_id(), nullptr);
          if (inserted) {
            auto* r = out[span.trace_id()].add_resource_spans();
            *r->mutable_resource() = rs.resource();
            r->set_schema_url(rs.schema_url());
            it->second = r->add_scope_spans();
            *it->second->mutable_scope() = ss.scope();
            it->second->set_schema_url(ss.schema_url());
          }
          *it->second->add_spans() = span;
        }
      }
    }
    return true;
  });
  budget.stats.bytes_scanned += fetch.stats.bytes_scanned;
  budget.stats.batches_read += fetch.stats.batches_read;
  budget.stats.batches_skipped += fetch.stats.batches_skipped;
  budget.stats.files_scanned += fetch.stats.files_scanned;
  budget.stats.files_skipped_by_index += fetch.stats.files_skipped_by_index;
  budget.stats.rows_matched += fetch.stats.rows_matched;
  budget.stats.truncated = budget.stats.truncated || fetch.stats.truncated;
  if (budget.error.empty()) budget.error = fetch.error;
  return out;
}

otlp::TracesRequest StoreQueries::traceById(const std::string& id, ScanBudget& budget) const {
  otlp::TracesRequest all;
  store::ScanQuery q;
  q.trace_id = id;
  scanTraces(q, budget, [&](const otlp::TracesRequest& request) {
    for (const auto& rs : request.resource_spans()) *all.add_resource_spans() = rs;
    return true;
  });
  return all;
}

}  // namespace otlpd::query
