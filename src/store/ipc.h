// Arrow IPC streaming format: encapsulated messages (0xFFFFFFFF, metadata length, flatbuffer
// Message, 8-byte aligned body), a Schema first, dictionary batches before the record batches
// that use them, and an end-of-stream marker when a file is sealed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/columns.h"

namespace otlpd::store {

enum class BodyCodec { kNone, kLz4Frame, kZstd };

// "none", "lz4", "zstd".
std::optional<BodyCodec> parseBodyCodec(std::string_view name);

using KeyValues = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kEndOfStream{"\xff\xff\xff\xff\x00\x00\x00\x00", 8};

class IpcEncoder {
 public:
  IpcEncoder(const std::vector<FieldSpec>* fields, BodyCodec codec, KeyValues schema_metadata);
  ~IpcEncoder();
  IpcEncoder(const IpcEncoder&) = delete;
  IpcEncoder& operator=(const IpcEncoder&) = delete;

  void appendSchema(std::string& out) const;
  // The dictionary values new since the last call (a delta after the first), then the rows of
  // `table` as one record batch. `metadata` goes into the batch's Message.custom_metadata.
  absl::Status appendBatch(ColumnTable& table, const KeyValues& metadata, std::string& out);

 private:
  // Appends `raw` to compressed_, compressed with codec_ (or as it is, after a -1 prefix).
  void compressInto(std::string_view raw);

  const std::vector<FieldSpec>* fields_;
  BodyCodec codec_;
  KeyValues schema_metadata_;
  void* zstd_ = nullptr;  // ZSTD_CCtx, reused across buffers
  // Compression output, grown (never shrunk, never zero-filled: std::string's resize zeroed it
  // again whenever a buffer was larger than the one before).
  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_ = 0;
  char* scratchOf(size_t size);
  // The compressed body of the message being encoded; a member so its capacity is reused.
  std::string compressed_;
};

// Decompresses one body buffer whose uncompressed length the file declares as `declared`. Memory
// grows as output is actually produced, never on the declared length alone, so a corrupt length
// cannot make a reader (the query API) commit gigabytes. InvalidArgument when the data is corrupt
// or does not decompress to exactly `declared` bytes.
absl::Status decompressBuffer(BodyCodec codec, std::string_view compressed, size_t declared,
                              std::string& out);
absl::Status decompressBuffer(BodyCodec codec, std::string_view compressed, size_t declared,
                              ColumnBuffer& out);

// One message of a stream as found in a byte range.
struct MessageSpan {
  enum class Kind { kMessage, kEndOfStream, kTruncated, kCorrupt };
  Kind kind;
  std::string_view metadata;  // the flatbuffer Message (kMessage)
  std::string_view body;
  size_t end = 0;  // offset just past the message
  std::string error;
};
MessageSpan nextMessage(std::string_view data, size_t pos);

// Decodes a stream written by IpcEncoder (or any writer using the same types).
class IpcDecoder {
 public:
  IpcDecoder() = default;
  IpcDecoder(const IpcDecoder&) = delete;
  IpcDecoder& operator=(const IpcDecoder&) = delete;

  enum class Event { kSchema, kDictionary, kRecordBatch, kEndOfStream, kEndOfData };
  // Reads the next message at `pos` of `data` and advances `pos`. kEndOfData means no complete
  // message follows (a file still being written or cut by a crash).
  absl::StatusOr<Event> next(std::string_view data, size_t& pos);
  // Reads only the metadata of the next record batch (Event kRecordBatch) so the caller can
  // skip its body; call decodeBody() to decode it.
  void setSkipBodies(bool skip) { skip_bodies_ = skip; }
  absl::Status decodePendingBody();
  // Decodes only the top-level columns whose flag is set (the others are left empty) and keeps
  // the batch pending: a reader filters on these first, and calls decodePendingBody() for the
  // rest only when a row matches (it then decodes just the columns not decoded here).
  absl::Status decodePendingColumns(const std::vector<bool>& columns);

  const std::vector<FieldSpec>& fields() const { return *fields_; }
  ColumnTable* table() { return table_.get(); }
  const KeyValues& batchMetadata() const { return batch_metadata_; }
  const KeyValues& schemaMetadata() const { return schema_metadata_; }

 private:
  absl::Status decodeSchema(const void* schema);
  // With `columns`, decodes only the columns whose flag equals `selected` (the rows of the
  // others are cleared first when `selected`, kept otherwise).
  absl::Status decodeRecordBatch(const void* batch, std::string_view body, ColumnTable& table,
                                 const std::vector<bool>* columns, bool selected);
  absl::Status decodeDictionary(const void* dict, std::string_view body);

  std::unique_ptr<std::vector<FieldSpec>> fields_;
  std::vector<int64_t> dictionary_ids_;  // depth-first, as the table numbers its dictionaries
  std::unique_ptr<ColumnTable> table_;
  KeyValues schema_metadata_;
  KeyValues batch_metadata_;
  bool skip_bodies_ = false;
  std::string pending_metadata_;
  std::string_view pending_body_;
  std::vector<bool> pending_columns_;  // decoded by decodePendingColumns()
};

}  // namespace otlpd::store
