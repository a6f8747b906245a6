// Rollup files (`<store root>/rollups/*.rollup`): the per-minute span rollups of rollup.h written
// beside the span files. The writer is fed each record batch the traces store writes, keeps the
// rollups of the batches since its last frame in memory and appends them as one frame per
// `interval`; every frame carries the watermark of the span batches it covers, so a restart (or a
// kill -9) replays exactly the batches after the last frame: no minute is counted twice or lost.
// Files rotate daily and are deleted after their own retention (30 days by default). Readers
// read frames (skipping them by their minute range) plus what a live writer holds in memory, or,
// with no writer in this process, the span batches after the last watermark.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/clock.h"
#include "store/rollup.h"

namespace otlpd::store {

struct RollupOptions {
  bool enabled = true;
  absl::Duration retention = absl::Hours(24 * 30);
  // How often the rollups in memory are written as a frame.
  absl::Duration interval = absl::Minutes(1);
  absl::Duration max_file_age = absl::Hours(24);
  // How long a child span waits for its parent (of another batch) before it is counted late.
  absl::Duration join_window = absl::Minutes(5);
  size_t max_join_spans = 1'000'000;
};

struct RollupStats {
  uint64_t frames_written = 0;
  uint64_t bytes_written = 0;
  uint64_t write_failures = 0;
  uint64_t files_deleted = 0;
  uint64_t files_compacted = 0;   // sealed minute files summarized by hour
  uint64_t files_repaired = 0;    // a crash left a partial frame, cut off at open
  uint64_t batches_replayed = 0;  // span batches after the last frame, read again at open
  uint64_t late_children = 0;     // child spans whose parent did not come within the window
  uint64_t folded_names = 0;      // service / operation names counted under "(other ...)"
};

inline constexpr std::string_view kRollupDir = "rollups";
inline constexpr std::string_view kRollupExt = ".rollup";
// Beside each sealed minute file: its frames merged by hour (`<file>.rollup.hourly`).
inline constexpr std::string_view kRollupHourlyExt = ".hourly";

class RollupWriter {
 public:
  // `root` is the store root; `traces_dir` the directory of its span files, whose batches after
  // the last frame are replayed (call after the span files were repaired).
  static absl::StatusOr<std::unique_ptr<RollupWriter>> open(const std::string& root,
                                                            const std::string& traces_dir,
                                                            RollupOptions options, Clock* clock);
  ~RollupWriter();

  // Held by the store from before a span batch reaches its file until the batch is accounted
  // (onBatchWritten), so that a reader in this process never sees spans in the files whose rollups
  // its snapshot lacks: read-your-writes across the span and the rollup queries.
  using BatchLock = std::unique_lock<std::mutex>;
  BatchLock lockForBatch() { return BatchLock(mu_); }
  // Record batch number `batch_in_file` (1, 2, ...) of span file `file_name` (base name) was
  // written with the rows of `table`. Called with the lock of lockForBatch.
  void onBatchWritten(const BatchLock& held, const ColumnTable& table,
                      const std::string& file_name);
  // Writes a frame when `interval` has passed since the last one (always when `force`), then
  // applies retention. The rollups stay in memory when the write fails.
  absl::Status maybeWrite(bool force);

  RollupStats stats() const;

  // What a reader in this process combines with the files: the rows not written yet, and the
  // last frame written (frames after it hold rows that the snapshot has too).
  struct Snapshot {
    RollupSegment pending;
    uint64_t last_seq = 0;
  };
  Snapshot snapshot() const;

 private:
  RollupWriter(std::string root, RollupOptions options, Clock* clock);
  absl::Status recover(const std::string& traces_dir);
  absl::Status writeFrameLocked();
  void rotateLocked();
  void retentionLocked();

  const std::string root_;
  const std::string dir_;
  const RollupOptions options_;
  Clock* const clock_;

  mutable std::mutex mu_;
  SpanRollupBuilder builder_;
  std::string watermark_file_;
  uint64_t watermark_batches_ = 0;
  uint64_t seq_ = 0;
  absl::Time last_write_;
  int fd_ = -1;
  std::string path_;
  absl::Time file_start_;
  uint64_t file_seq_ = 0;
  RollupStats stats_;
};

struct RollupReadStats {
  uint64_t files = 0;
  uint64_t files_skipped = 0;  // sealed files whose hourly summary lies outside the window
  uint64_t frames_read = 0;
  uint64_t frames_skipped = 0;      // by their minute range, header only
  uint64_t hourly_frames_read = 0;  // of the hourly summaries (also in frames_read)
  uint64_t bytes_read = 0;
  uint64_t corrupt_frames = 0;    // a file is read up to its first one
  uint64_t batches_replayed = 0;  // span batches read because no live writer had them
  bool live = false;              // a writer of this process gave the rows not in files yet
};

// Calls `fn` with rollup rows of `root` for the minutes [min_minute, max_minute]: from the frames
// of the rollup files, then the rows no frame has yet (from the live writer of this process, else
// from the span files after the last watermark). With `use_hours`, the hours wholly inside the
// window come from the hourly summaries as rows of granularity one hour (their minute is the
// hour's first); callers that cannot use whole hours pass false. Every minute is given once.
// Rows outside the window may be given with the live rows. Returns an empty string on success,
// else what went wrong (a missing store is no error).
std::string readRollups(const std::string& root, int64_t min_minute, int64_t max_minute,
                        const std::function<void(const RollupSegment&)>& fn,
                        RollupReadStats* stats = nullptr, bool use_hours = true);

// What the rollup writer of this process for the store at `root` holds (nullopt when this process
// does not write that store).
std::optional<RollupWriter::Snapshot> liveRollupSnapshot(const std::string& root);

// Follows a store's rollup frames in write order, each frame once (by its number), the way a
// reader that turns them into a stream (the store_rollups receiver) needs: every span batch the
// store accounted is in exactly one frame, so adding the frames given up counts each span once.
class RollupFrameFollower {
 public:
  explicit RollupFrameFollower(const std::string& root);
  // Gives `fn` every whole frame numbered after the last one given and at most `up_to_seq`, in
  // order; with `fn` null, only moves past them (headers only). Returns "" or what went wrong (a
  // missing store is no error).
  std::string poll(uint64_t up_to_seq, const std::function<void(const RollupSegment&)>& fn);
  uint64_t lastSeq() const { return last_seq_; }
  void setLastSeq(uint64_t seq) { last_seq_ = seq; }
  uint64_t framesRead() const { return frames_read_; }
  uint64_t corruptFrames() const { return corrupt_frames_; }

 private:
  std::string dir_;
  std::string file_;  // the file of the last frame given: earlier files are not opened again
  uint64_t last_seq_ = 0;
  uint64_t frames_read_ = 0;
  uint64_t corrupt_frames_ = 0;
};

// Feeds every record batch of the span files of `traces_dir` after (`file`, `batches`) to
// `builder` (all when `file` is empty). `last_file`/`last_batches` get the position reached.
absl::Status replaySpanBatches(const std::string& traces_dir, const std::string& file,
                               uint64_t batches, SpanRollupBuilder& builder, int64_t now_nanos,
                               std::string* last_file, uint64_t* last_batches, uint64_t* replayed);

// Primes `builder`'s joiner (SpanRollupBuilder::primeJoiner) with the span batches up to
// (`file`, `batches`): those of `file` and of the span file before it. A parent further back is
// not found after a crash (its child is counted late), as a parent older than the join window.
absl::Status primeJoinerBefore(const std::string& traces_dir, const std::string& file,
                               uint64_t batches, SpanRollupBuilder& builder, int64_t now_nanos);

}  // namespace otlpd::store
