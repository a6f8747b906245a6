// The sidecar index of a sealed store file (`<file>.arrow.idx`): what the file holds in a few
// hundred bytes (row time range, row count, services, names, a bloom filter of trace ids,
// duration and severity bounds), so that a reader skips files that cannot match a query
// without opening them. An index is written atomically after its file is sealed and is bound to
// the file's size and mtime; a missing, corrupt or stale index only means the file is read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/signal.h"
#include "store/columns.h"
#include "store/otlp_columns.h"

namespace otlpd::store {

inline constexpr std::string_view kIndexExt = ".idx";

// A distinct (service, span name, span kind) of a traces file.
struct IndexedOperation {
  std::string service;
  std::string name;
  int32_t kind = 0;  // OTLP SpanKind
  auto operator<=>(const IndexedOperation&) const = default;
};

struct FileIndex {
  pipeline::Signal signal = pipeline::Signal::kTraces;
  // The .arrow file the index describes, as it was when the index was written.
  std::string file_name;  // base name
  uint64_t file_size = 0;
  int64_t file_mtime_ns = 0;
  uint64_t file_inode = 0;
  uint64_t rows = 0;
  uint64_t batches = 0;
  TimeRange time;  // span start / log time / point time of every row
  // Distinct non-null values; nullopt when not recorded (too many, or not in this signal).
  std::optional<std::vector<std::string>> services;
  std::optional<std::vector<std::string>> names;
  // Bloom filter of the 16-byte trace ids; empty when not recorded.
  std::string trace_bloom;
  uint32_t trace_bloom_hashes = 0;
  std::optional<TimeRange> duration;    // traces: min/max span duration
  std::optional<int64_t> max_severity;  // logs: largest severity_number
  // Traces (version 2): every distinct (service, name, kind), sorted; nullopt when not recorded
  // (too many, an index of version 1, or another signal).
  std::optional<std::vector<IndexedOperation>> operations;
};

std::string indexPathFor(const std::string& arrow_path);
std::string encodeFileIndex(const FileIndex& index);
absl::StatusOr<FileIndex> decodeFileIndex(std::string_view bytes);

uint64_t traceIdHash(std::string_view trace_id);
bool bloomMayContain(const std::string& bloom, uint32_t hashes, uint64_t hash);

// One record batch's trace ids as a bloom filter (the file index's hashing, ~10 bits per
// distinct id, kBatchBloomHashes probes), written base64 in the batch's metadata under
// kBatchBloomKey so that a trace by id skips a file's other batches without decompressing their
// trace id columns. Empty when the signal has no trace ids or no row has one.
inline constexpr std::string_view kBatchBloomKey = "otlpd:trace_id_bloom";
inline constexpr uint32_t kBatchBloomHashes = 7;
std::string batchTraceBloom(const ColumnTable& table, pipeline::Signal signal);
// The same from batchTraceHashes(), which the file index takes too (FileIndexBuilder::addBatch).
std::string batchTraceBloom(const std::vector<uint64_t>& trace_hashes);
// traceIdHash() of a batch's trace ids, in row order, without the repeats of the row before
// (spans of one trace come together); empty for a signal without trace ids.
std::vector<uint64_t> batchTraceHashes(const ColumnTable& table, pipeline::Signal signal);

// Stamps `index` with the file's name, size, mtime and inode and writes it next to the file as a
// temporary that is renamed into place (fsync'ed first when `sync`).
absl::Status writeFileIndex(const std::string& arrow_path, FileIndex index, bool sync);
// Reads the index of `arrow_path` and checks it against the file: NotFound when there is none,
// DataLoss when it is corrupt or describes another file or another state of the file (stale).
absl::StatusOr<FileIndex> loadFileIndex(const std::string& arrow_path, pipeline::Signal signal);
// The same, shared: decoded indexes are kept (bounded) in memory for as long as the index file
// keeps its size, mtime and inode, so repeated queries stat the files instead of reading them.
absl::StatusOr<std::shared_ptr<const FileIndex>> loadFileIndexShared(const std::string& arrow_path,
                                                                     pipeline::Signal signal);

// Accumulates a file's index from the batches written to it.
class FileIndexBuilder {
 public:
  explicit FileIndexBuilder(pipeline::Signal signal);
  // Forgets everything: a new file starts.
  void reset();
  // The rows of `table` were written as one batch whose rows span `range`; `trace_hashes`, when
  // given, are its batchTraceHashes() (computed once for the batch's bloom filter and this).
  void addBatch(const ColumnTable& table, const TimeRange& range,
                const std::vector<uint64_t>* trace_hashes = nullptr);
  // The index of the batches added so far (file size and mtime are set by writeFileIndex).
  FileIndex finish(const ColumnTable& table);

 private:
  void markDictionary(const Column& c, std::vector<bool>& used);
  void addOperations(const ColumnTable& table);
  std::optional<std::vector<IndexedOperation>> operationsUsed(const ColumnTable& table) const;

  pipeline::Signal signal_;
  FileIndex index_;
  // Dictionary indices used by this file's rows; the dictionaries keep their numbering for the
  // life of a file, so strings are looked up only at finish().
  std::vector<bool> services_used_;
  std::vector<bool> names_used_;
  // Traces: (service index << 40 | name index << 8 | kind) of the dictionaries' numbering.
  std::vector<uint64_t> operations_used_;
  bool operations_overflow_ = false;
  std::vector<uint64_t> trace_hashes_;
  bool trace_overflow_ = false;
};

}  // namespace otlpd::store
