// The persistent queue's storage: an append-only log of requests in segment files, with
// acknowledgements in a side file per segment. A request is appended (and, with fsync always,
// synced) before the exporter acknowledges it upstream, and acknowledged in the log only after
// the destination took it, so a crash at any point loses nothing: recovery replays every record
// without an acknowledgement (at-least-once; a record delivered just before a crash may be sent
// again).
//
// Record: u32 payload length, u32 CRC-32 of (id, payload), u64 id, payload. A torn tail (crash
// mid-write) fails its length or CRC check and ends the segment's replay.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporters/helper/config.h"

namespace otlpd::exporters::helper {

class WriteAheadLog {
 public:
  struct Record {
    uint64_t id = 0;
    std::string payload;
  };

  // Opens (creating) `directory` and replays it: every record not acknowledged is returned by
  // takeRecovered(), in append order. New records go to a fresh segment.
  static absl::StatusOr<std::unique_ptr<WriteAheadLog>> open(std::string directory,
                                                             FsyncPolicy fsync,
                                                             int64_t segment_bytes = 16 << 20);
  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  std::vector<Record> takeRecovered();
  // Durable (per the fsync policy) when it returns OK. With kAlways, concurrent appends share
  // one fdatasync (group commit).
  absl::StatusOr<uint64_t> append(std::string_view payload);
  // The same without waiting for the sync (for receivers that answer later): `synced` is called
  // from the log's syncer thread once the record is fdatasync'ed (kAlways; at once otherwise),
  // with the sync's error if it failed. Not called when the write itself fails (returned).
  absl::StatusOr<uint64_t> appendThenSyncLater(std::string_view payload,
                                               std::function<void(absl::Status)> synced);
  // Deletes a segment once every record in it is acknowledged.
  void ack(uint64_t id);
  // Bytes of segment files on disk.
  int64_t diskBytes() const;

 private:
  struct Segment {
    uint64_t first_id = 0;
    std::string path;
    int fd = -1;      // open for appending while active; -1 otherwise
    int ack_fd = -1;  // opened on the first ack
    int64_t bytes = 0;
    uint64_t records = 0;
    uint64_t acked = 0;
    bool active = false;
  };

  WriteAheadLog(std::string directory, FsyncPolicy fsync, int64_t segment_bytes)
      : directory_(std::move(directory)), fsync_(fsync), segment_bytes_(segment_bytes) {}
  absl::Status replay();
  absl::Status rollSegment();
  // Group commit: returns once record `id` is fdatasync'ed (by this caller or another).
  absl::Status syncThrough(uint64_t id);
  // Appends the record (no sync); its id.
  absl::StatusOr<uint64_t> writeRecord(std::string_view payload);
  void deferredSyncLoop();
  // fdatasync of everything written so far (the active segment; closed ones were synced when
  // they were closed). Called without mu_.
  absl::Status syncWritten(uint64_t* through);
  void intervalSyncLoop();
  void removeIfDone(std::map<uint64_t, Segment>::iterator it);

  const std::string directory_;
  const FsyncPolicy fsync_;
  const int64_t segment_bytes_;
  mutable std::mutex mu_;
  // Keyed by first record id, so a record's segment is the last one starting at or before it.
  std::map<uint64_t, Segment> segments_;
  uint64_t next_id_ = 1;
  std::vector<Record> recovered_;

  // Group commit (kAlways) and the interval syncer (kInterval).
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t synced_through_ = 0;
  uint64_t failed_through_ = 0;
  absl::Status sync_error_;
  bool sync_running_ = false;
  bool stopping_ = false;
  std::thread interval_syncer_;

  // appendThenSyncLater()'s waiters, synced in rounds by deferred_syncer_ (kAlways).
  struct DeferredSync {
    uint64_t id;
    std::function<void(absl::Status)> synced;
  };
  std::mutex deferred_mu_;
  std::condition_variable deferred_cv_;
  std::vector<DeferredSync> deferred_;
  bool deferred_stopping_ = false;
  std::thread deferred_syncer_;
};

}  // namespace otlpd::exporters::helper
