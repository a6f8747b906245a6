#include "otlpd/store/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "store/file_index.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"

namespace otlpd::store {
namespace fs = std::filesystem;
namespace {

pipeline::Signal toSignal(StoredSignal s) {
  switch (s) {
    case StoredSignal::kTraces:
      return pipeline::Signal::kTraces;
    case StoredSignal::kMetrics:
      return pipeline::Signal::kMetrics;
    case StoredSignal::kLogs:
      return pipeline::Signal::kLogs;
  }
  return pipeline::Signal::kTraces;
}

std::string_view dirName(StoredSignal s) {
  switch (s) {
    case StoredSignal::kTraces:
      return "traces";
    case StoredSignal::kMetrics:
      return "metrics";
    case StoredSignal::kLogs:
      return "logs";
  }
  return "";
}

int64_t metaInt(const KeyValues& kvs, std::string_view key, int64_t fallback) {
  for (const auto& [k, v] : kvs) {
    int64_t out;
    if (k == key && absl::SimpleAtoi(v, &out)) return out;
  }
  return fallback;
}

struct Columns {
  size_t time, service, attributes;
  std::optional<size_t> name, trace_id, duration, severity;
};

Columns columnsFor(StoredSignal s) {
  switch (s) {
    case StoredSignal::kTraces:
      return {span_col::kStartTime, span_col::kServiceName, span_col::kAttributes, span_col::kName,
              span_col::kTraceId,   span_col::kDuration,    std::nullopt};
    case StoredSignal::kLogs:
      return {log_col::kTime,    log_col::kServiceName, log_col::kAttributes,    std::nullopt,
              log_col::kTraceId, std::nullopt,          log_col::kSeverityNumber};
    case StoredSignal::kMetrics:
      break;
  }
  return {metric_col::kTime,
          metric_col::kServiceName,
          metric_col::kAttributes,
          metric_col::kName,
          std::nullopt,
          std::nullopt,
          std::nullopt};
}

std::string traceIdBytes(const ScanQuery& q) {
  if (!q.trace_id) return {};
  if (q.trace_id->size() == 32) return absl::HexStringToBytes(*q.trace_id);
  return *q.trace_id;
}

// Whether a file described by `x` can hold a row that matches `q`. Every test here is implied
// by a row filter of scanFile(), so a false never hides a matching row.
bool mayMatch(const FileIndex& x, const ScanQuery& q, const std::string& trace_id) {
  if (x.rows == 0) return false;
  if (x.time.max < q.start_unix_nano || x.time.min >= q.end_unix_nano) return false;
  auto has = [](const std::vector<std::string>& set, const std::string& v) {
    return std::binary_search(set.begin(), set.end(), v);
  };
  if (q.service && x.services && !has(*x.services, *q.service)) return false;
  if (q.name && x.names && !has(*x.names, *q.name)) return false;
  if (q.trace_id && trace_id.size() == 16 && !x.trace_bloom.empty() &&
      !bloomMayContain(x.trace_bloom, x.trace_bloom_hashes, traceIdHash(trace_id))) {
    return false;
  }
  if (x.duration) {
    if (q.min_duration_ns && x.duration->max < *q.min_duration_ns) return false;
    if (q.max_duration_ns && x.duration->min > *q.max_duration_ns) return false;
  }
  if (q.min_severity && x.max_severity && *x.max_severity < *q.min_severity) return false;
  return true;
}

bool cellEquals(const Column& c, size_t row, const std::string& v) {
  return !c.isNull(row) && c.bytesAt(row) == v;
}

}  // namespace

StoreReader::StoreReader(std::string directory) : directory_(std::move(directory)) {}

std::string StoreReader::scanFile(const std::string& path, const ScanQuery& query,
                                  const std::function<bool(std::string_view)>& on_request,
                                  ScanStats* stats) {
  ScanStats local;
  ScanStats& st = stats != nullptr ? *stats : local;
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return strCat("cannot read ", path, ": ", std::strerror(errno));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ++st.files_scanned;
  const std::string trace_id = traceIdBytes(query);
  const Columns cols = columnsFor(query.signal);
  const bool is_logs = query.signal == StoredSignal::kLogs;
  IpcDecoder dec;
  dec.setSkipBodies(true);
  size_t pos = 0;
  std::vector<uint8_t> selected;
  std::string out;
  for (;;) {
    auto ev = dec.next(data, pos);
    if (!ev.ok()) return strCat(path, ": ", ev.status().ToString());
    if (*ev == IpcDecoder::Event::kEndOfStream || *ev == IpcDecoder::Event::kEndOfData) break;
    if (*ev != IpcDecoder::Event::kRecordBatch) continue;
    if (dec.fields().size() != fieldsFor(toSignal(query.signal)).size()) {
      return strCat(path, ": not a ", dirName(query.signal), " file of this otlpd version");
    }
    const int64_t min = metaInt(dec.batchMetadata(), "otlpd:min_time_unix_nano", INT64_MIN);
    const int64_t max = metaInt(dec.batchMetadata(), "otlpd:max_time_unix_nano", INT64_MAX);
    if (max < query.start_unix_nano || min >= query.end_unix_nano) {
      ++st.batches_skipped;
      continue;
    }
    if (auto s = dec.decodePendingBody(); !s.ok()) return strCat(path, ": ", s.ToString());
    ++st.batches_read;
    const ColumnTable& t = *dec.table();
    selected.assign(t.rows(), 0);
    size_t matched = 0;
    for (size_t row = 0; row < t.rows(); ++row) {
      int64_t time = t.column(cols.time).intAt(row);
      if (is_logs && time == 0) time = t.column(1).intAt(row);
      if (time < query.start_unix_nano || time >= query.end_unix_nano) continue;
      if (query.service && !cellEquals(t.column(cols.service), row, *query.service)) continue;
      if (query.name && (!cols.name || !cellEquals(t.column(*cols.name), row, *query.name)))
        continue;
      if (query.trace_id &&
          (!cols.trace_id || !cellEquals(t.column(*cols.trace_id), row, trace_id))) {
        continue;
      }
      if ((query.min_duration_ns || query.max_duration_ns) && !cols.duration) continue;
      if (query.min_duration_ns && t.column(*cols.duration).intAt(row) < *query.min_duration_ns)
        continue;
      if (query.max_duration_ns && t.column(*cols.duration).intAt(row) > *query.max_duration_ns)
        continue;
      if (query.min_severity &&
          (!cols.severity || t.column(*cols.severity).intAt(row) < *query.min_severity)) {
        continue;
      }
      bool attrs_ok = true;
      for (const auto& [k, v] : query.attributes) {
        if (!attributeEquals(t.column(cols.attributes), row, k, v)) {
          attrs_ok = false;
          break;
        }
      }
      if (!attrs_ok) continue;
      selected[row] = 1;
      ++matched;
    }
    if (matched == 0) continue;
    st.rows_matched += matched;
    out.clear();
    switch (query.signal) {
      case StoredSignal::kTraces: {
        otlp::TracesRequest r;
        tracesFromColumns(t, &selected, r);
        r.SerializeToString(&out);
        break;
      }
      case StoredSignal::kLogs: {
        otlp::LogsRequest r;
        logsFromColumns(t, &selected, r);
        r.SerializeToString(&out);
        break;
      }
      case StoredSignal::kMetrics: {
        otlp::MetricsRequest r;
        metricsFromColumns(t, &selected, r);
        r.SerializeToString(&out);
        break;
      }
    }
    if (!on_request(out)) break;
  }
  return "";
}

std::string StoreReader::scan(const ScanQuery& query,
                              const std::function<bool(std::string_view)>& on_request,
                              ScanStats* stats) const {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e :
       fs::directory_iterator(fs::path(directory_) / std::string(dirName(query.signal)), ec)) {
    if (e.path().extension() == ".arrow") files.push_back(e.path().string());
  }
  if (ec && ec != std::errc::no_such_file_or_directory) return ec.message();
  // Names start with the file's UTC start time, so they sort oldest first.
  std::sort(files.begin(), files.end());
  ScanStats local;
  ScanStats& st = stats != nullptr ? *stats : local;
  const std::string trace_id = traceIdBytes(query);
  bool stop = false;
  for (const std::string& f : files) {
    auto index = loadFileIndex(f, toSignal(query.signal));
    if (index.ok()) {
      ++st.indexes_used;
      if (!mayMatch(*index, query, trace_id)) {
        ++st.files_skipped_by_index;
        continue;
      }
    } else if (index.status().code() == absl::StatusCode::kDataLoss) {
      ++st.indexes_rejected;
    }
    std::string err = scanFile(
        f, query,
        [&](std::string_view r) {
          if (!on_request(r)) stop = true;
          return !stop;
        },
        &st);
    if (!err.empty()) return err;
    if (stop) break;
  }
  return "";
}

}  // namespace otlpd::store
