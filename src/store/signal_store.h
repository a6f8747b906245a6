// One signal's directory of Arrow IPC stream files: converts OTLP into an in-memory batch,
// writes it as a record batch on flush(), rotates files by size and age, seals them with the
// end-of-stream marker, repairs files a crash left open, and deletes the oldest files past the
// retention limits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "otlp/proto.h"
#include "pipeline/batch.h"
#include "pipeline/signal.h"
#include "store/clock.h"
#include "store/columns.h"
#include "store/file_index.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"
#include "store/rollup_store.h"

namespace otlpd::store {

enum class FsyncPolicy { kNever, kBatch, kRotate };

struct StoreOptions {
  std::string directory;  // the store root; this signal writes to directory/<signal>
  BodyCodec codec = BodyCodec::kZstd;
  size_t max_rows_per_batch = 10000;
  uint64_t max_file_bytes = 64ull << 20;
  absl::Duration max_file_age = absl::Minutes(10);
  absl::Duration retention = absl::Hours(72);
  uint64_t max_total_bytes = 2ull << 30;  // over all signals of the root
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  // Traces only: per-minute rollups written beside the span files (rollup_store.h).
  RollupOptions rollups = {};
};

struct StoreStats {
  uint64_t rows_written = 0;
  uint64_t batches_written = 0;
  uint64_t bytes_written = 0;
  uint64_t files_sealed = 0;
  uint64_t files_deleted = 0;
  uint64_t files_recovered = 0;
  uint64_t indexes_written = 0;
  uint64_t write_failures = 0;
  // Full batches that had to wait for the writer thread to finish the previous one
  // (backpressure: writing is slower than converting).
  uint64_t writer_waits = 0;
  RollupStats rollups = {};
};

class SignalStore {
 public:
  static absl::StatusOr<std::unique_ptr<SignalStore>> open(pipeline::Signal signal,
                                                           StoreOptions options, Clock* clock);
  ~SignalStore();

  // Converts `request` into pending rows; writes a batch at once when max rows is reached.
  // Unavailable while writes fail (disk full), so that senders retry later.
  absl::Status append(const google::protobuf::Message& request);
  // The same for the request's encoded bytes (as a wire batch holds them: checked by the wire
  // view), converted without decoding them first where wire_columns.h can; the rows are the
  // ones append() of the decoded request would add. InvalidArgument if protobuf cannot parse
  // bytes the conversion had to hand to it.
  absl::Status appendWire(std::string_view request_bytes);
  // Writes pending rows as one record batch, then rotates and applies retention as due.
  absl::Status flush();
  // Flushes and seals the current file.
  absl::Status close();

  // Durability on request (`durability: sync`): returns once every row appended before the call
  // is written and fdatasync'ed. Group commit: callers arriving while a sync runs wait for the
  // next one, which covers all of them with one write and one fdatasync. The error of the write
  // or sync that should have covered the caller's rows (they stay pending, as with flush()).
  // A caller waiting for another's sync gives up after `max_wait` (kDeadlineExceeded; its rows
  // are written later all the same); the one doing the sync waits for the disk.
  absl::Status syncAppended(absl::Duration max_wait = absl::InfiniteDuration());
  // Rounds of syncAppended() that wrote and synced (each covered every caller waiting for it).
  uint64_t syncRounds() const;

  StoreStats stats() const;
  size_t pendingRows() const;
  std::string currentFile() const;
  // Set while writes fail; the error that started the episode.
  absl::Status failure() const;

  // Seals a file a crash left without end-of-stream: truncates it after its last complete
  // record batch and appends the marker. Files without even a complete schema are renamed to
  // *.arrow.corrupt. Returns whether the file was changed. An index of the file is removed
  // first: it would describe the file before the repair.
  static absl::StatusOr<bool> repair(const std::string& path);

 private:
  SignalStore(pipeline::Signal signal, StoreOptions options, Clock* clock);
  absl::Status recoverAll();
  void appendLocked(const google::protobuf::Message& request);
  absl::Status decodeAndAppendLocked(std::string_view request_bytes);

  // --- the consuming side (mu_ held) -------------------------------------------------------
  // Double buffering: appends convert into table_ while the writer thread encodes, compresses,
  // writes and syncs the previous batch from written_. At most one batch is in flight: a full
  // table_ waits for the writer (backpressure) before it is handed over.
  // Hands table_'s rows to the writer once it is idle (waiting for it meanwhile) and returns
  // without waiting for the write. Rows the writer still holds after a failed write stay where
  // they are (the next append retries synchronously, refusing while writes fail).
  void handOffLocked(std::unique_lock<std::mutex>& lock);
  // Writes every pending row (rows a failed write left with the writer first), rotates and
  // applies retention, and returns once done: what flush() was before double buffering.
  absl::Status flushAllLocked(std::unique_lock<std::mutex>& lock);
  // Asks the writer for one pass (handing table_'s rows over when `hand_off`); returns its
  // number. The writer must be idle.
  uint64_t startPassLocked(bool hand_off);
  void waitIdleLocked(std::unique_lock<std::mutex>& lock);
  void writerLoop();

  // --- the writer's side (write_mu_ held) --------------------------------------------------
  // One pass: seals a file due for rotation, writes written_'s rows as a record batch (kept
  // there when the write fails: `write_failed` is then set), applies retention and writes due
  // rollup frames.
  absl::Status writePassLocked(bool& write_failed);
  absl::Status openFileLocked();
  absl::Status sealLocked();
  absl::Status writeAll(std::string_view bytes);
  void retentionLocked();

  const pipeline::Signal signal_;
  const StoreOptions options_;
  Clock* const clock_;
  std::string dir_;

  // Lock order: mu_, then write_mu_. The writer thread never holds write_mu_ while it takes
  // mu_.
  mutable std::mutex mu_;
  ColumnTable table_;  // rows being appended; its dictionaries are the master copies
  TimeRange range_;
  absl::Status failure_;
  std::condition_variable writer_cv_;  // a pass was requested, or stopping
  std::condition_variable idle_cv_;    // a pass ended
  bool pass_requested_ = false;
  bool pass_running_ = false;
  bool writer_stopping_ = false;
  uint64_t passes_started_ = 0;
  uint64_t passes_done_ = 0;
  absl::Status last_pass_status_;  // of pass number passes_done_
  // written_ holds rows the writer has not written yet (in flight, or kept by a failed write).
  bool written_held_ = false;
  size_t written_rows_ = 0;
  std::thread writer_;
  std::atomic<uint64_t> writer_waits_{0};

  mutable std::mutex write_mu_;
  ColumnTable written_;  // the batch being written; dictionaries mirror table_'s
  TimeRange written_range_;
  FileIndexBuilder index_builder_;  // of the file being written
  std::unique_ptr<IpcEncoder> encoder_;
  int fd_ = -1;
  std::string path_;
  uint64_t file_bytes_ = 0;
  absl::Time file_start_;
  uint64_t seq_ = 0;
  std::string out_;
  StoreStats stats_;
  std::unique_ptr<RollupWriter> rollups_;  // traces with rollups enabled

  // Group commit (syncAppended). append_seq_ counts appends (under mu_); synced_seq_ is the
  // highest append known durable; one caller at a time (the leader) writes and syncs.
  uint64_t append_seq_ = 0;
  mutable std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t synced_seq_ = 0;
  bool sync_running_ = false;
  uint64_t failed_through_seq_ = 0;  // appends up to here saw sync_error_
  uint64_t sync_rounds_ = 0;
  absl::Status sync_error_;
};

}  // namespace otlpd::store
