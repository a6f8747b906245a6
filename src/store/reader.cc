#include "otlpd/store/reader.h"

#include <fcntl.h>
#include <lz4frame.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "common/string_buffer.h"
#include "common/strings.h"
#include "store/arrow_fbs.h"
#include "store/file_index.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"
#include "store/table_scan.h"

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

std::string traceIdBytes(std::string_view id) {
  if (id.size() == 32) return absl::HexStringToBytes(toAbsl(id));
  return std::string(id);
}

std::string traceIdBytes(const ScanQuery& q) {
  if (!q.trace_id) return {};
  return traceIdBytes(*q.trace_id);
}

// The query's any_trace_ids as sorted raw 16-byte ids.
std::vector<std::string> traceIdSet(const ScanQuery& q) {
  std::vector<std::string> out;
  out.reserve(q.any_trace_ids.size());
  for (const auto& id : q.any_trace_ids) out.push_back(traceIdBytes(id));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool bloomMayContainId(const FileIndex& x, const std::string& id) {
  return id.size() != 16 || x.trace_bloom.empty() ||
         bloomMayContain(x.trace_bloom, x.trace_bloom_hashes, traceIdHash(id));
}

// Whether a file described by `x` can hold a row that matches `q`. Every test here is implied
// by a row filter of scanFile(), so a false never hides a matching row.
bool mayMatch(const FileIndex& x, const ScanQuery& q, const std::string& trace_id,
              const std::vector<std::string>& trace_ids) {
  if (x.rows == 0) return false;
  if (x.time.max < q.start_unix_nano || x.time.min >= q.end_unix_nano) return false;
  auto has = [](const std::vector<std::string>& set, const std::string& v) {
    return std::binary_search(set.begin(), set.end(), v);
  };
  if (q.service && x.services && !has(*x.services, *q.service)) return false;
  if (q.name && x.names && !has(*x.names, *q.name)) return false;
  if (q.trace_id && !bloomMayContainId(x, trace_id)) return false;
  if (!trace_ids.empty() &&
      std::none_of(trace_ids.begin(), trace_ids.end(),
                   [&](const std::string& id) { return bloomMayContainId(x, id); })) {
    return false;
  }
  if (x.duration) {
    if (q.min_duration_ns && x.duration->max < *q.min_duration_ns) return false;
    if (q.max_duration_ns && x.duration->min > *q.max_duration_ns) return false;
  }
  if (q.min_severity && x.max_severity && *x.max_severity < *q.min_severity) return false;
  return true;
}

// The first field node and buffer of column `column` in a record batch: nodes and buffers are
// laid out depth-first, as IpcDecoder reads them.
struct ColumnSlot {
  size_t node = 0;
  size_t buffer = 0;
};
void countSlots(const FieldSpec& f, ColumnSlot& at) {
  ++at.node;
  ++at.buffer;  // validity
  switch (f.type) {
    case ColumnType::kStruct:
      for (const FieldSpec& c : f.children) countSlots(c, at);
      break;
    case ColumnType::kList:
      ++at.buffer;  // offsets
      countSlots(f.children[0], at);
      break;
    case ColumnType::kUtf8:
    case ColumnType::kBinary:
      at.buffer += f.dictionary ? 1 : 2;  // indices, or offsets + data
      break;
    default:
      ++at.buffer;  // values
  }
}
ColumnSlot slotOf(const std::vector<FieldSpec>& fields, size_t column) {
  assert(column <= fields.size());
  ColumnSlot at;
  for (size_t i = 0; i < column; ++i) countSlots(fields[i], at);
  return at;
}

// Buffer `index` of a record batch body, decompressed into `out`; false when it cannot be read
// (the caller then decodes the batch the ordinary way, which reports the problem).
bool readBuffer(const fb::RecordBatch* rb, std::string_view body, size_t index, std::string& out,
                uint64_t& encoded_bytes) {
  out.clear();
  if (rb->buffers() == nullptr || index >= rb->buffers()->size()) return false;
  const fb::Buffer b = structAt(*rb->buffers(), index);
  if (b.offset() < 0 || b.length() < 0 ||
      static_cast<uint64_t>(b.offset()) + static_cast<uint64_t>(b.length()) > body.size()) {
    return false;
  }
  std::string_view raw =
      body.substr(static_cast<size_t>(b.offset()), static_cast<size_t>(b.length()));
  encoded_bytes += raw.size();
  if (rb->compression() == nullptr || raw.empty()) {
    out.assign(raw);
    return true;
  }
  if (raw.size() < 8) return false;
  int64_t n;
  std::memcpy(&n, raw.data(), 8);
  raw.remove_prefix(8);
  if (n == -1) {
    out.assign(raw);
    return true;
  }
  if (n < 0 || n > (int64_t{1} << 32)) return false;
  const BodyCodec codec = rb->compression()->codec() == fb::CompressionType::ZSTD
                              ? BodyCodec::kZstd
                              : BodyCodec::kLz4Frame;
  return decompressBuffer(codec, raw, static_cast<size_t>(n), out).ok();
}

using IdWords = std::pair<uint64_t, uint64_t>;
IdWords idWords(const char* p) {
  IdWords w;
  std::memcpy(&w.first, p, 8);
  std::memcpy(&w.second, p + 8, 8);
  return w;
}

// Whether the record batch at `pos` may hold one of `ids` (sorted 16-byte ids) in its trace id
// column, found by decompressing that column alone. True whenever it cannot tell.
bool batchMayHoldTraces(std::string_view data, size_t pos, const ColumnSlot& slot,
                        const std::vector<std::string>& ids, std::string& validity,
                        std::string& values, uint64_t& encoded_bytes) {
  const MessageSpan m = nextMessage(data, pos);
  if (m.kind != MessageSpan::Kind::kMessage) return true;
  const fb::Message* msg = fb::GetMessage(m.metadata.data());
  const fb::RecordBatch* rb = msg->header_as_RecordBatch();
  if (rb == nullptr || rb->nodes() == nullptr || slot.node >= rb->nodes()->size()) return true;
  const fb::FieldNode node = structAt(*rb->nodes(), slot.node);
  if (node.length() < 0 || node.null_count() < 0) return true;
  const auto rows = static_cast<size_t>(node.length());
  if (!readBuffer(rb, m.body, slot.buffer, validity, encoded_bytes) ||
      !readBuffer(rb, m.body, slot.buffer + 1, values, encoded_bytes)) {
    return true;
  }
  // Divided, not multiplied: a corrupt length near 2^63 would wrap rows * 16 to a small number.
  if (values.size() / 16 < rows) return true;
  const bool has_nulls = node.null_count() > 0 && validity.size() >= (rows + 7) / 8;
  if (ids.size() == 1) {
    // The common case (a trace by id): two 8-byte compares per row instead of a memcmp call.
    const IdWords want = idWords(ids[0].data());
    for (size_t row = 0; row < rows; ++row) {
      if (idWords(values.data() + row * 16) != want) continue;
      if (has_nulls && (static_cast<uint8_t>(validity[row >> 3]) & (1u << (row & 7))) == 0)
        continue;
      return true;
    }
    return false;
  }
  for (size_t row = 0; row < rows; ++row) {
    if (has_nulls && (static_cast<uint8_t>(validity[row >> 3]) & (1u << (row & 7))) == 0) continue;
    const std::string_view id(values.data() + row * 16, 16);
    if (std::binary_search(ids.begin(), ids.end(), id,
                           [](std::string_view a, std::string_view b) { return a < b; })) {
      return true;
    }
  }
  return false;
}

// Where the attribute keys of a batch's attribute list column `column` are, when they are plain
// strings (layout 1): the buffer index of the key strings' data. nullopt for dictionary keys.
std::optional<size_t> plainKeyDataBuffer(const std::vector<FieldSpec>& fields, size_t column) {
  if (column >= fields.size()) return std::nullopt;
  const FieldSpec& list = fields[column];
  if (list.type != ColumnType::kList || list.children.size() != 1) return std::nullopt;
  const FieldSpec& item = list.children[0];
  if (item.type != ColumnType::kStruct || item.children.empty()) return std::nullopt;
  const FieldSpec& key = item.children[0];
  if (key.type != ColumnType::kUtf8 || key.dictionary) return std::nullopt;
  // list validity, list offsets, struct validity, key validity, key offsets, then key data.
  return slotOf(fields, column).buffer + 5;
}

// Whether every key of `keys` occurs in the batch's attribute key strings (a substring test on
// their data buffer, decompressed alone). True whenever it cannot tell.
bool batchMayHoldKeys(std::string_view data, size_t pos, size_t key_data_buffer,
                      const std::vector<std::pair<std::string, std::string>>& keys,
                      std::string& buffer, uint64_t& encoded_bytes) {
  const MessageSpan m = nextMessage(data, pos);
  if (m.kind != MessageSpan::Kind::kMessage) return true;
  const fb::RecordBatch* rb = fb::GetMessage(m.metadata.data())->header_as_RecordBatch();
  if (rb == nullptr || !readBuffer(rb, m.body, key_data_buffer, buffer, encoded_bytes)) {
    return true;
  }
  for (const auto& [k, v] : keys) {
    if (!k.empty() && buffer.find(k) == std::string::npos) return false;
  }
  return true;
}

// The file as it is now (a file being written may grow meanwhile: what was there is read).
// One read() into a buffer sized by fstat: an istreambuf_iterator copy goes byte by byte and
// costs more than decoding.
std::string readWholeFile(const std::string& path, std::string& data) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return strCat("cannot read ", path, ": ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return strCat("cannot stat ", path, ": ", std::strerror(e));
  }
  common::resizeUninitialized(data, static_cast<size_t>(st.st_size));  // read() fills it
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return strCat("cannot read ", path, ": ", std::strerror(e));
    }
    if (n == 0) break;  // truncated meanwhile
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  ::close(fd);
  return "";
}

bool cellEquals(const Column& c, size_t row, const std::string& v) {
  return !c.isNull(row) && c.bytesAt(row) == v;
}

// A whole file in memory: mapped when it is sealed (immutable: a sealed file is never
// truncated, and unlinking it by retention leaves the mapping valid), so that only the pages a
// scan touches are read; copied with read() otherwise, because the file being written can be cut
// back after a failed write and a mapping of the cut pages would fault (SIGBUS).
class FileBytes {
 public:
  FileBytes() = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes() {
    if (map_ != nullptr) ::munmap(map_, map_size_);
  }

  std::string load(const std::string& path, bool immutable) {
    if (!immutable) return readWholeFile(path, copy_);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return strCat("cannot read ", path, ": ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size == 0) {
      ::close(fd);
      return readWholeFile(path, copy_);
    }
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return readWholeFile(path, copy_);
    map_ = p;
    map_size_ = static_cast<size_t>(st.st_size);
    return "";
  }

  std::string_view bytes() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), map_size_)
                           : std::string_view(copy_);
  }

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::string copy_;
};

// Walks the messages of `data` from `pos` to the next record batch, decoding the dictionaries on
// the way: true with the batch's message at [at, pos); false at the end of the stream, or with
// `error` set when the stream is malformed or is not a `signal` file of this otlpd version.
bool nextRecordBatch(IpcDecoder& dec, const std::string& path, std::string_view data,
                     StoredSignal signal, size_t& pos, size_t& at, std::string& error) {
  for (;;) {
    at = pos;
    auto ev = dec.next(data, pos);
    if (!ev.ok()) {
      error = strCat(path, ": ", ev.status().ToString());
      return false;
    }
    if (*ev == IpcDecoder::Event::kEndOfStream || *ev == IpcDecoder::Event::kEndOfData) {
      return false;
    }
    if (*ev != IpcDecoder::Event::kRecordBatch) continue;
    if (storeLayoutOf(dec.fields(), toSignal(signal)) == 0) {
      error = strCat(path, ": not a ", dirName(signal), " file of this otlpd version");
      return false;
    }
    return true;
  }
}

bool dictionaryLacks(const Column& c, const std::string& value) {
  return c.spec().dictionary && c.dictionary() != nullptr && !c.dictionary()->contains(value);
}

// Whether the dictionaries of a file (all of them decoded) allow a row matching `q`. Only
// dictionary-encoded columns are tested: a row's value of such a column is in its dictionary.
bool fileMayMatch(const ColumnTable& t, const Columns& cols, const ScanQuery& q) {
  if (q.service && cols.service < t.columnCount() &&
      dictionaryLacks(t.column(cols.service), *q.service)) {
    return false;
  }
  if (q.name && cols.name && *cols.name < t.columnCount() &&
      dictionaryLacks(t.column(*cols.name), *q.name)) {
    return false;
  }
  if (!q.attributes.empty() && cols.attributes < t.columnCount()) {
    const Column& list = t.column(cols.attributes);
    if (list.spec().type == ColumnType::kList && list.childCount() == 1 &&
        list.child(0).spec().type == ColumnType::kStruct && list.child(0).childCount() > 0) {
      const Column& key = list.child(0).child(0);
      for (const auto& [k, v] : q.attributes) {
        if (dictionaryLacks(key, k)) return false;
      }
    }
  }
  return true;
}

// scanFile() over the bytes of a file already in memory (or mapped).
std::string scanBytes(const std::string& path, std::string_view data, const ScanQuery& query,
                      const TableFunction& on_table, ScanStats& st) {
  const std::string trace_id = traceIdBytes(query);
  const std::vector<std::string> trace_ids = traceIdSet(query);
  const Columns cols = columnsFor(query.signal);
  const bool is_logs = query.signal == StoredSignal::kLogs;
  IpcDecoder dec;
  dec.setSkipBodies(true);

  // First walk every message without decoding record batch bodies: dictionaries are decoded as
  // they come (a later batch's delta only adds values, so every batch can be decoded after the
  // walk), record batches are remembered with their time range.
  struct BatchRef {
    size_t pos;
    size_t size;
    int64_t min, max;
    std::string trace_bloom;  // the batch's trace id bloom filter, when the query looks for ids
  };
  const bool by_trace_id = query.trace_id || !trace_ids.empty();
  std::vector<BatchRef> batches;
  size_t pos = 0, at = 0;
  std::string error;
  while (nextRecordBatch(dec, path, data, query.signal, pos, at, error)) {
    batches.push_back({at,
                       pos - at,
                       metaInt(dec.batchMetadata(), "otlpd:min_time_unix_nano", INT64_MIN),
                       metaInt(dec.batchMetadata(), "otlpd:max_time_unix_nano", INT64_MAX),
                       {}});
    if (by_trace_id) {
      for (const auto& [k, v] : dec.batchMetadata()) {
        // A value that is not base64 leaves the bloom empty: the batch is then looked at.
        if (k == kBatchBloomKey && !absl::Base64Unescape(v, &batches.back().trace_bloom)) {
          batches.back().trace_bloom.clear();
        }
      }
    }
  }
  if (!error.empty()) return error;
  if (query.newest_first) std::reverse(batches.begin(), batches.end());

  // With a trace id filter, a batch's trace id column is looked at first: most batches hold none
  // of the ids and are never decoded in full.
  std::vector<std::string> wanted_ids = trace_ids;
  if (query.trace_id && trace_id.size() == 16) wanted_ids.push_back(trace_id);
  std::sort(wanted_ids.begin(), wanted_ids.end());
  // (A corrupt schema may have fewer fields than the layout: then no peeking.)
  const bool peek_ids = !batches.empty() && cols.trace_id && *cols.trace_id < dec.fields().size() &&
                        !wanted_ids.empty() &&
                        std::all_of(wanted_ids.begin(), wanted_ids.end(),
                                    [](const std::string& id) { return id.size() == 16; });
  const ColumnSlot id_slot = peek_ids ? slotOf(dec.fields(), *cols.trace_id) : ColumnSlot{};
  std::string peek_validity, peek_values;

  // The dictionaries of the whole file are known now: a service, span name or (layout 2)
  // attribute key that none of them holds is in no row of the file, so no batch is decoded.
  if (!batches.empty() && !fileMayMatch(*dec.table(), cols, query)) {
    st.batches_skipped += batches.size();
    return "";
  }

  // The columns the row filters read are decoded first; the others only for batches with a
  // matching row (a search that matches nothing reads only its filter columns).
  std::vector<bool> filter_columns;
  if (!batches.empty()) {
    filter_columns.assign(dec.fields().size(), false);
    auto need = [&](std::optional<size_t> c) {
      if (c && *c < filter_columns.size()) filter_columns[*c] = true;
    };
    need(cols.time);
    if (is_logs) need(1);  // observed_time stands in for a missing time
    if (query.service) need(cols.service);
    if (query.name) need(cols.name);
    if (query.trace_id || !trace_ids.empty()) need(cols.trace_id);
    if (query.min_duration_ns || query.max_duration_ns) need(cols.duration);
    if (query.min_severity) need(cols.severity);
    if (!query.attributes.empty()) need(cols.attributes);
  }

  // Layout 1 keeps attribute keys as plain strings: a batch whose key strings lack a wanted key
  // is ruled out from that one buffer.
  const std::optional<size_t> key_data_buffer =
      batches.empty() || query.attributes.empty()
          ? std::nullopt
          : plainKeyDataBuffer(dec.fields(), cols.attributes);
  std::string key_data;

  const IdWords want_id = trace_id.size() == 16 ? idWords(trace_id.data()) : IdWords{};

  std::vector<uint8_t> selected;
  for (const BatchRef& batch : batches) {
    if (batch.max < query.start_unix_nano || batch.min >= query.end_unix_nano) {
      ++st.batches_skipped;
      continue;
    }
    if (peek_ids && !batch.trace_bloom.empty() &&
        std::none_of(wanted_ids.begin(), wanted_ids.end(), [&](const std::string& id) {
          return bloomMayContain(batch.trace_bloom, kBatchBloomHashes, traceIdHash(id));
        })) {
      ++st.batches_skipped;
      continue;
    }
    if (peek_ids && !batchMayHoldTraces(data, batch.pos, id_slot, wanted_ids, peek_validity,
                                        peek_values, st.bytes_scanned)) {
      ++st.batches_skipped;
      continue;
    }
    if (key_data_buffer && !batchMayHoldKeys(data, batch.pos, *key_data_buffer, query.attributes,
                                             key_data, st.bytes_scanned)) {
      ++st.batches_skipped;
      continue;
    }
    if (query.max_scan_bytes != 0 && st.batches_read > 0 &&
        st.bytes_scanned + batch.size > query.max_scan_bytes) {
      st.truncated = true;
      break;
    }
    size_t at = batch.pos;
    auto ev = dec.next(data, at);
    if (!ev.ok()) return strCat(path, ": ", ev.status().ToString());
    if (auto s = dec.decodePendingColumns(filter_columns); !s.ok()) {
      return strCat(path, ": ", s.ToString());
    }
    ++st.batches_read;
    st.bytes_scanned += batch.size;
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
      if (query.trace_id) {
        if (!cols.trace_id) continue;
        const Column& ids = t.column(*cols.trace_id);
        if (trace_id.size() == 16 && ids.spec().byte_width == 16) {
          if (idWords(ids.valuesView().data() + row * 16) != want_id || ids.isNull(row)) continue;
        } else if (!cellEquals(ids, row, trace_id)) {
          continue;
        }
      }
      if (!trace_ids.empty()) {
        if (!cols.trace_id || t.column(*cols.trace_id).isNull(row)) continue;
        const std::string_view id = t.column(*cols.trace_id).bytesAt(row);
        if (!std::binary_search(trace_ids.begin(), trace_ids.end(), id,
                                [](std::string_view a, std::string_view b) { return a < b; })) {
          continue;
        }
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
    if (auto s = dec.decodePendingBody(); !s.ok()) return strCat(path, ": ", s.ToString());
    st.rows_matched += matched;
    if (!on_table(t, selected)) break;
  }
  return "";
}

// The matching rows of each table as one OTLP export request of the query's signal.
TableFunction asOtlpRequests(StoredSignal signal,
                             const std::function<bool(std::string_view)>& on_request) {
  return [signal, &on_request, out = std::string()](const ColumnTable& t,
                                                    const std::vector<uint8_t>& selected) mutable {
    out.clear();
    switch (signal) {
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
    return on_request(out);
  };
}

// The .arrow files of `signal` under `directory`, oldest first; `ec` says why none could be listed.
std::vector<std::string> listFiles(const std::string& directory, StoredSignal signal,
                                   std::error_code& ec) {
  std::vector<std::string> files;
  for (const auto& e :
       fs::directory_iterator(fs::path(directory) / std::string(dirName(signal)), ec)) {
    if (e.path().extension() == ".arrow") files.push_back(e.path().string());
  }
  // Names start with the file's UTC start time, so they sort oldest first.
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

StoreReader::StoreReader(std::string directory) : directory_(std::move(directory)) {}

std::string StoreReader::scanFile(const std::string& path, const ScanQuery& query,
                                  const std::function<bool(std::string_view)>& on_request,
                                  ScanStats* stats) {
  ScanStats local;
  ScanStats& st = stats != nullptr ? *stats : local;
  FileBytes file;
  if (std::string err = file.load(path, /*immutable=*/false); !err.empty()) return err;
  ++st.files_scanned;
  return scanBytes(path, file.bytes(), query, asOtlpRequests(query.signal, on_request), st);
}

std::string StoreReader::scanOperations(const std::string& path, uint64_t max_scan_bytes,
                                        std::vector<SpanOperation>* out, ScanStats* stats) {
  ScanStats local;
  ScanStats& st = stats != nullptr ? *stats : local;
  std::string data;
  if (std::string err = readWholeFile(path, data); !err.empty()) return err;
  ++st.files_scanned;
  const std::vector<FieldSpec>& fields = fieldsFor(pipeline::Signal::kTraces);
  constexpr size_t kKindColumn = span_col::kName + 1;  // between name and service_name
  const ColumnSlot name_slot = slotOf(fields, span_col::kName);
  const ColumnSlot kind_slot = slotOf(fields, kKindColumn);
  const ColumnSlot service_slot = slotOf(fields, span_col::kServiceName);
  IpcDecoder dec;
  dec.setSkipBodies(true);
  std::string validity[3], values[3];
  std::vector<uint64_t> keys;
  bool first = true;
  size_t pos = 0, at = 0;
  std::string error;
  while (nextRecordBatch(dec, path, data, StoredSignal::kTraces, pos, at, error)) {
    if (max_scan_bytes != 0 && !first && st.bytes_scanned >= max_scan_bytes) {
      st.truncated = true;
      break;
    }
    first = false;
    const MessageSpan m = nextMessage(data, at);
    if (m.kind != MessageSpan::Kind::kMessage) break;
    const fb::RecordBatch* rb = fb::GetMessage(m.metadata.data())->header_as_RecordBatch();
    if (rb == nullptr || rb->nodes() == nullptr || rb->length() < 0) {
      return strCat(path, ": malformed record batch");
    }
    const auto rows = static_cast<size_t>(rb->length());
    const ColumnSlot* slots[3] = {&service_slot, &name_slot, &kind_slot};
    bool readable = true;
    for (int c = 0; c < 3 && readable; ++c) {
      readable = readBuffer(rb, m.body, slots[c]->buffer, validity[c], st.bytes_scanned) &&
                 readBuffer(rb, m.body, slots[c]->buffer + 1, values[c], st.bytes_scanned) &&
                 values[c].size() / 4 >= rows;  // not rows * 4: a corrupt length wraps it
    }
    if (!readable) return strCat(path, ": malformed record batch");
    ++st.batches_read;
    auto present = [&](int c, size_t row) {
      return validity[c].size() < (rows + 7) / 8 ||
             (static_cast<uint8_t>(validity[c][row >> 3]) & (1u << (row & 7))) != 0;
    };
    keys.clear();
    for (size_t row = 0; row < rows; ++row) {
      int32_t service = -1, name = -1, kind = 0;
      if (present(0, row)) std::memcpy(&service, values[0].data() + row * 4, 4);
      if (present(1, row)) std::memcpy(&name, values[1].data() + row * 4, 4);
      std::memcpy(&kind, values[2].data() + row * 4, 4);
      if (service < 0 || name < 0 || kind < 0 || kind > 255) continue;
      keys.push_back((static_cast<uint64_t>(service) << 40) | (static_cast<uint64_t>(name) << 8) |
                     static_cast<uint64_t>(kind));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const Dictionary* services = dec.table()->column(span_col::kServiceName).dictionary();
    const Dictionary* names = dec.table()->column(span_col::kName).dictionary();
    if (services == nullptr || names == nullptr) continue;
    for (uint64_t key : keys) {
      const size_t service = static_cast<size_t>(key >> 40);
      const size_t name = static_cast<size_t>((key >> 8) & 0xffffffffu);
      if (service >= services->size() || name >= names->size()) continue;
      out->push_back({std::string(services->at(service)), std::string(names->at(name)),
                      static_cast<int>(key & 0xff)});
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
  return error;
}

std::vector<std::string> StoreReader::files(StoredSignal signal) const {
  std::error_code ec;
  return listFiles(directory_, signal, ec);
}

std::string StoreReader::scan(const ScanQuery& query,
                              const std::function<bool(std::string_view)>& on_request,
                              ScanStats* stats) const {
  return scanTables(directory_, query, asOtlpRequests(query.signal, on_request), stats);
}

std::string scanTables(const std::string& directory, const ScanQuery& query,
                       const TableFunction& on_table, ScanStats* stats) {
  std::error_code ec;
  std::vector<std::string> files = listFiles(directory, query.signal, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return ec.message();
  if (query.newest_first) std::reverse(files.begin(), files.end());
  ScanStats local;
  ScanStats& st = stats != nullptr ? *stats : local;
  const std::string trace_id = traceIdBytes(query);
  const std::vector<std::string> trace_ids = traceIdSet(query);
  bool stop = false;
  for (const std::string& f : files) {
    auto index = loadFileIndexShared(f, toSignal(query.signal));
    if (index.ok()) {
      ++st.indexes_used;
      if (!mayMatch(**index, query, trace_id, trace_ids)) {
        ++st.files_skipped_by_index;
        continue;
      }
    } else if (index.status().code() == absl::StatusCode::kDataLoss) {
      ++st.indexes_rejected;
    }
    FileBytes file;
    std::string err = file.load(f, /*immutable=*/index.ok());
    if (err.empty()) {
      ++st.files_scanned;
      err = scanBytes(
          f, file.bytes(), query,
          [&](const ColumnTable& t, const std::vector<uint8_t>& selected) {
            if (!on_table(t, selected)) stop = true;
            return !stop;
          },
          st);
    }
    // A file that retention deleted after the listing is no error.
    if (!err.empty() && fs::exists(f)) return err;
    if (stop || st.truncated) break;
  }
  return "";
}

}  // namespace otlpd::store
