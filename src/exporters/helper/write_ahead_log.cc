#include "exporters/helper/write_ahead_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/logging.h"
#include "common/strings.h"

namespace otlpd::exporters::helper {
namespace {

namespace fs = std::filesystem;
constexpr size_t kHeaderBytes = 16;
// A length beyond this is a torn or corrupt header, not a request.
constexpr uint32_t kMaxRecordBytes = 1u << 30;

uint32_t recordCrc(uint64_t id, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(&id), sizeof(id));
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

absl::Status writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(strCat("write-ahead log write failed: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string segmentName(uint64_t first_id) {
  char name[48];
  std::snprintf(name, sizeof(name), "seg-%020llu", static_cast<unsigned long long>(first_id));
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WriteAheadLog>> WriteAheadLog::open(std::string directory,
                                                                   FsyncPolicy fsync,
                                                                   int64_t segment_bytes) {
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    return absl::UnavailableError(
        strCat("cannot create persistent queue directory ", directory, ": ", ec.message()));
  }
  std::unique_ptr<WriteAheadLog> log(new WriteAheadLog(std::move(directory), fsync, segment_bytes));
  if (absl::Status s = log->replay(); !s.ok()) return s;
  if (absl::Status s = log->rollSegment(); !s.ok()) return s;
  if (fsync == FsyncPolicy::kInterval) {
    log->interval_syncer_ = std::thread([raw = log.get()] { raw->intervalSyncLoop(); });
  }
  if (fsync == FsyncPolicy::kAlways) {
    log->deferred_syncer_ = std::thread([raw = log.get()] { raw->deferredSyncLoop(); });
  }
  return log;
}

WriteAheadLog::~WriteAheadLog() {
  {
    std::lock_guard lock(deferred_mu_);
    deferred_stopping_ = true;
  }
  deferred_cv_.notify_all();
  if (deferred_syncer_.joinable()) deferred_syncer_.join();  // answers every waiter first
  {
    std::lock_guard lock(sync_mu_);
    stopping_ = true;
  }
  sync_cv_.notify_all();
  if (interval_syncer_.joinable()) interval_syncer_.join();
  if (fsync_ != FsyncPolicy::kNever) {
    uint64_t through = 0;
    (void)syncWritten(&through);
  }
  for (auto& [id, seg] : segments_) {
    if (seg.fd >= 0) ::close(seg.fd);
    if (seg.ack_fd >= 0) ::close(seg.ack_fd);
  }
}

absl::Status WriteAheadLog::replay() {
  std::error_code ec;
  std::vector<std::string> stems;
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("seg-") && name.ends_with(".wal"))
      stems.push_back(name.substr(0, name.size() - 4));
  }
  if (ec) return absl::UnavailableError(strCat("cannot list ", directory_, ": ", ec.message()));
  std::sort(stems.begin(), stems.end());
  for (const std::string& stem : stems) {
    const std::string path = strCat(directory_, "/", stem);
    const std::string data = readFile(path + ".wal");
    const std::string acks = readFile(path + ".ack");
    std::set<uint64_t> acked;
    for (size_t i = 0; i + 8 <= acks.size(); i += 8) {
      uint64_t id;
      std::memcpy(&id, acks.data() + i, 8);
      acked.insert(id);
    }
    Segment seg;
    seg.path = path;
    seg.first_id = std::strtoull(stem.c_str() + 4, nullptr, 10);
    seg.bytes = static_cast<int64_t>(data.size());
    size_t pos = 0;
    while (pos + kHeaderBytes <= data.size()) {
      uint32_t len, crc;
      uint64_t id;
      std::memcpy(&len, data.data() + pos, 4);
      std::memcpy(&crc, data.data() + pos + 4, 4);
      std::memcpy(&id, data.data() + pos + 8, 8);
      if (len > kMaxRecordBytes || pos + kHeaderBytes + len > data.size()) break;
      std::string_view payload(data.data() + pos + kHeaderBytes, len);
      if (recordCrc(id, payload) != crc) break;
      pos += kHeaderBytes + len;
      ++seg.records;
      next_id_ = std::max(next_id_, id + 1);
      if (acked.count(id) != 0) {
        ++seg.acked;
      } else {
        recovered_.push_back(Record{id, std::string(payload)});
      }
    }
    if (pos < data.size()) {
      logging::warn("persistent queue: torn record at the end of a segment, ignored",
                    {{"path", path + ".wal"}, {"offset", pos}, {"bytes", data.size() - pos}});
    }
    if (seg.records == 0) seg.first_id = next_id_;
    auto [it, inserted] = segments_.emplace(seg.first_id, seg);
    if (!inserted) {
      // Two empty segments can claim the same id; the older one is useless.
      ::unlink((path + ".wal").c_str());
      ::unlink((path + ".ack").c_str());
      continue;
    }
    removeIfDone(it);
  }
  return absl::OkStatus();
}

absl::Status WriteAheadLog::rollSegment() {
  if (!segments_.empty()) {
    auto last = std::prev(segments_.end());
    if (last->second.active) {
      // A segment closed here is never synced later: sync it now (syncWritten() covers only
      // the active one).
      if (fsync_ != FsyncPolicy::kNever) (void)::fdatasync(last->second.fd);
      ::close(last->second.fd);
      last->second.fd = -1;
      last->second.active = false;
      removeIfDone(last);
    }
  }
  Segment seg;
  seg.first_id = next_id_;
  seg.path = strCat(directory_, "/", segmentName(next_id_));
  if (segments_.count(seg.first_id) != 0) {
    // An empty segment left from before already has this id: append to it.
    Segment& existing = segments_[seg.first_id];
    existing.fd = ::open((existing.path + ".wal").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (existing.fd < 0)
      return absl::UnavailableError(
          strCat("cannot open ", existing.path, ".wal: ", std::strerror(errno)));
    existing.active = true;
    return absl::OkStatus();
  }
  seg.fd = ::open((seg.path + ".wal").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (seg.fd < 0) {
    return absl::UnavailableError(
        strCat("cannot create ", seg.path, ".wal: ", std::strerror(errno)));
  }
  seg.active = true;
  segments_.emplace(seg.first_id, seg);
  return absl::OkStatus();
}

std::vector<WriteAheadLog::Record> WriteAheadLog::takeRecovered() {
  std::lock_guard lock(mu_);
  return std::move(recovered_);
}

absl::StatusOr<uint64_t> WriteAheadLog::writeRecord(std::string_view payload) {
  if (payload.size() > kMaxRecordBytes)
    return absl::InvalidArgumentError("request too large for the persistent queue");
  std::unique_lock lock(mu_);
  Segment* seg = &std::prev(segments_.end())->second;
  if (seg->bytes >= segment_bytes_ && seg->records > 0) {
    if (absl::Status s = rollSegment(); !s.ok()) return s;
    seg = &std::prev(segments_.end())->second;
  }
  const uint64_t id = next_id_;
  char header[kHeaderBytes];
  const uint32_t len = static_cast<uint32_t>(payload.size());
  const uint32_t crc = recordCrc(id, payload);
  std::memcpy(header, &len, 4);
  std::memcpy(header + 4, &crc, 4);
  std::memcpy(header + 8, &id, 8);
  // One write per record keeps a crash from interleaving a header with another record's bytes.
  std::string buf;
  buf.reserve(kHeaderBytes + payload.size());
  buf.append(header, kHeaderBytes);
  buf.append(payload);
  absl::Status s = writeAll(seg->fd, buf);
  if (!s.ok()) {
    // The tail may now hold a partial record; later records must not follow it.
    (void)rollSegment();
    return s;
  }
  ++next_id_;
  seg->bytes += static_cast<int64_t>(buf.size());
  ++seg->records;
  return id;
}

absl::StatusOr<uint64_t> WriteAheadLog::append(std::string_view payload) {
  absl::StatusOr<uint64_t> written = writeRecord(payload);
  if (!written.ok()) return written;
  const uint64_t id = *written;
  if (fsync_ == FsyncPolicy::kAlways) {
    // Not durable: the sender is told to retry, so the record is given up here (acknowledged
    // in the log) rather than kept and sent twice.
    if (absl::Status synced = syncThrough(id); !synced.ok()) {
      ack(id);
      return synced;
    }
  }
  return id;
}

absl::StatusOr<uint64_t> WriteAheadLog::appendThenSyncLater(
    std::string_view payload, std::function<void(absl::Status)> synced) {
  absl::StatusOr<uint64_t> id = writeRecord(payload);
  if (!id.ok()) return id;
  if (fsync_ != FsyncPolicy::kAlways) {
    synced(absl::OkStatus());  // as durable as append() makes it
    return id;
  }
  {
    std::lock_guard lock(deferred_mu_);
    deferred_.push_back({*id, std::move(synced)});
  }
  deferred_cv_.notify_one();
  return id;
}

void WriteAheadLog::deferredSyncLoop() {
  std::unique_lock lock(deferred_mu_);
  for (;;) {
    deferred_cv_.wait(lock, [this] { return !deferred_.empty() || deferred_stopping_; });
    if (deferred_.empty()) return;  // stopping, nobody waiting
    std::vector<DeferredSync> round;
    round.swap(deferred_);
    lock.unlock();
    uint64_t through = 0;
    for (const DeferredSync& d : round) through = std::max(through, d.id);
    // The record stays queued for delivery either way; a failed sync only tells the sender to
    // retry (which may deliver it twice: at-least-once).
    const absl::Status s = syncThrough(through);
    for (DeferredSync& d : round) d.synced(s);
    lock.lock();
  }
}

absl::Status WriteAheadLog::syncWritten(uint64_t* through) {
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    *through = next_id_ - 1;
    if (segments_.empty()) return absl::OkStatus();
    const Segment& active = std::prev(segments_.end())->second;
    // A duplicate, so that a segment rolled (and closed) meanwhile is still synced.
    if (active.active && active.fd >= 0) fd = ::dup(active.fd);
  }
  if (fd < 0) return absl::OkStatus();
  const int rc = ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(strCat("write-ahead log fsync failed: ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status WriteAheadLog::syncThrough(uint64_t id) {
  std::unique_lock lock(sync_mu_);
  for (;;) {
    if (synced_through_ >= id) return absl::OkStatus();
    if (!sync_running_) break;
    sync_cv_.wait(lock);
    if (synced_through_ < id && failed_through_ >= id && !sync_running_) return sync_error_;
  }
  sync_running_ = true;
  lock.unlock();
  uint64_t through = 0;
  absl::Status s = syncWritten(&through);
  lock.lock();
  sync_running_ = false;
  if (s.ok()) {
    synced_through_ = std::max(synced_through_, through);
  } else {
    failed_through_ = std::max(failed_through_, through);
    sync_error_ = s;
  }
  sync_cv_.notify_all();
  return s;
}

void WriteAheadLog::intervalSyncLoop() {
  std::unique_lock lock(sync_mu_);
  while (!stopping_) {
    sync_cv_.wait_for(lock, absl::ToChronoMilliseconds(kQueueSyncInterval));
    if (stopping_) break;
    lock.unlock();
    uint64_t through = 0;
    absl::Status s = syncWritten(&through);
    if (!s.ok()) logging::warn("persistent queue: periodic fsync failed", {{"error", s}});
    lock.lock();
  }
}

void WriteAheadLog::ack(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = segments_.upper_bound(id);
  if (it == segments_.begin()) return;
  --it;
  Segment& seg = it->second;
  if (seg.ack_fd < 0) {
    seg.ack_fd =
        ::open((seg.path + ".ack").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  // Acknowledgements are not synced: losing one only means sending that record again.
  if (seg.ack_fd >= 0) {
    (void)writeAll(seg.ack_fd, std::string_view(reinterpret_cast<const char*>(&id), sizeof(id)));
  }
  ++seg.acked;
  removeIfDone(it);
}

void WriteAheadLog::removeIfDone(std::map<uint64_t, Segment>::iterator it) {
  Segment& seg = it->second;
  if (seg.active || seg.acked < seg.records) return;
  if (seg.fd >= 0) ::close(seg.fd);
  if (seg.ack_fd >= 0) ::close(seg.ack_fd);
  ::unlink((seg.path + ".wal").c_str());
  ::unlink((seg.path + ".ack").c_str());
  segments_.erase(it);
}

int64_t WriteAheadLog::diskBytes() const {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [id, seg] : segments_) total += seg.bytes;
  return total;
}

}  // namespace otlpd::exporters::helper
