#include "store/signal_store.h"

#include <fcntl.h>
#include <google/protobuf/arena.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/time/civil_time.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "store/arrow_fbs.h"
#include "store/wire_columns.h"

namespace otlpd::store {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kExt = ".arrow";
// A file whose dictionaries (span names, attribute keys, services, ...) hold this much is sealed
// after the batch that got them there, so the next file starts with only what its rows use. A
// few hundred kilobytes is typical; a unique value per span (an id in the span name) gets here.
constexpr size_t kMaxDictionaryBytesPerFile = size_t{8} << 20;

std::string_view signalDir(pipeline::Signal s) {
  switch (s) {
    case pipeline::Signal::kTraces:
      return "traces";
    case pipeline::Signal::kMetrics:
      return "metrics";
    case pipeline::Signal::kLogs:
      return "logs";
  }
  return "unknown";
}

// 20240102T030405Z-000007.arrow: names sort by start time, then sequence.
std::string fileName(absl::Time start, uint64_t seq) {
  std::string seqs = std::to_string(seq);
  if (seqs.size() < 6) seqs.insert(0, 6 - seqs.size(), '0');
  return strCat(absl::FormatTime("%Y%m%dT%H%M%SZ", start, absl::UTCTimeZone()), "-", seqs, kExt);
}

struct NameParts {
  absl::Time start;
  uint64_t seq = 0;
};

bool parseName(const std::string& name, NameParts& out) {
  // absl::ParseTime's %Y is greedy, so the fixed-width fields are taken apart by hand.
  constexpr size_t kStamp = 16;  // YYYYMMDDTHHMMSSZ
  if (name.size() < kStamp + 2 + kExt.size() || name.substr(name.size() - kExt.size()) != kExt ||
      name[8] != 'T' || name[15] != 'Z' || name[16] != '-') {
    return false;
  }
  auto num = [&](size_t at, size_t len, int& v) {
    return absl::SimpleAtoi(toAbsl(std::string_view(name).substr(at, len)), &v);
  };
  int y, mo, d, h, mi, sec;
  if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) ||
      !num(13, 2, sec)) {
    return false;
  }
  out.start = absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, sec), absl::UTCTimeZone());
  return absl::SimpleAtoi(
      toAbsl(std::string_view(name).substr(kStamp + 1, name.size() - kExt.size() - kStamp - 1)),
      &out.seq);
}

absl::Status errnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = strCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::UnavailableError(strCat("disk full: ", msg));
  return absl::UnavailableError(msg);
}

bool endsSealed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<int64_t>(in.tellg());
  if (size < 8) return false;
  in.seekg(size - 8);
  char tail[8];
  in.read(tail, 8);
  return in && std::string_view(tail, 8) == kEndOfStream;
}

void fsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

struct StoredFile {
  std::string path;
  absl::Time start;
  uint64_t seq = 0;
  uint64_t size = 0;
};

std::vector<StoredFile> listFiles(const std::string& dir) {
  std::vector<StoredFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    NameParts parts;
    if (!e.is_regular_file(ec) || !parseName(e.path().filename().string(), parts)) continue;
    const auto size = e.file_size(ec);
    out.push_back({e.path().string(), parts.start, parts.seq, ec ? 0 : size});
  }
  std::sort(out.begin(), out.end(), [](const StoredFile& a, const StoredFile& b) {
    return std::tie(a.start, a.seq) < std::tie(b.start, b.seq);
  });
  return out;
}

}  // namespace

SignalStore::SignalStore(pipeline::Signal signal, StoreOptions options, Clock* clock)
    : signal_(signal),
      options_(std::move(options)),
      clock_(clock),
      dir_((fs::path(options_.directory) / std::string(signalDir(signal))).string()),
      table_(&fieldsFor(signal)),
      written_(&fieldsFor(signal)),
      index_builder_(signal) {}

SignalStore::~SignalStore() {
  // Without a writer thread, open() failed before any row could be appended.
  if (!writer_.joinable()) return;
  (void)close();
  {
    std::lock_guard lock(mu_);
    writer_stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

absl::StatusOr<std::unique_ptr<SignalStore>> SignalStore::open(pipeline::Signal signal,
                                                               StoreOptions options, Clock* clock) {
  std::unique_ptr<SignalStore> s(new SignalStore(signal, std::move(options), clock));
  std::error_code ec;
  fs::create_directories(s->dir_, ec);
  if (ec) return absl::UnavailableError(strCat("cannot create ", s->dir_, ": ", ec.message()));
  if (auto st = s->recoverAll(); !st.ok()) return st;
  for (const StoredFile& f : listFiles(s->dir_)) s->seq_ = std::max(s->seq_, f.seq);
  if (signal == pipeline::Signal::kTraces && s->options_.rollups.enabled) {
    // After the span files' repair: the rollups replay the batches their last frame lacks.
    auto rollups = RollupWriter::open(s->options_.directory, s->dir_, s->options_.rollups, clock);
    if (!rollups.ok()) return rollups.status();
    s->rollups_ = *std::move(rollups);
  }
  {
    std::lock_guard lock(s->write_mu_);
    s->retentionLocked();
  }
  s->writer_ = std::thread([store = s.get()] { store->writerLoop(); });
  return s;
}

absl::StatusOr<bool> SignalStore::repair(const std::string& path) {
  std::string data;
  if (!endsSealed(path)) {
    // The file is about to change; a stale index would be rejected by its size and mtime
    // anyway, but it must not outlive the file as it was.
    std::error_code ec;
    fs::remove(indexPathFor(path), ec);
  }
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::UnavailableError(strCat("cannot read ", path));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  size_t pos = 0;
  size_t keep = 0;  // end of the last message worth keeping
  bool schema = false;
  for (;;) {
    MessageSpan m = nextMessage(data, pos);
    if (m.kind == MessageSpan::Kind::kEndOfStream) {
      if (m.end == data.size() && schema) return false;  // already sealed
      break;
    }
    if (m.kind != MessageSpan::Kind::kMessage) break;
    const auto* msg = fb::GetMessage(m.metadata.data());
    if (msg->header_type() == fb::MessageHeader::Schema) {
      schema = true;
      keep = m.end;
    } else if (msg->header_type() == fb::MessageHeader::RecordBatch) {
      keep = m.end;
    }
    pos = m.end;
  }
  if (!schema) {
    std::error_code ec;
    fs::rename(path, path + ".corrupt", ec);
    if (ec) return absl::UnavailableError(strCat("cannot rename ", path, ": ", ec.message()));
    return true;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", path, errno);
  absl::Status st;
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0 ||
      ::pwrite(fd, kEndOfStream.data(), kEndOfStream.size(), static_cast<off_t>(keep)) !=
          static_cast<ssize_t>(kEndOfStream.size()) ||
      ::fsync(fd) != 0) {
    st = errnoStatus("cannot seal", path, errno);
  }
  ::close(fd);
  if (!st.ok()) return st;
  return true;
}

absl::Status SignalStore::recoverAll() {
  // Indexes whose file is gone (deleted by hand, or renamed to *.corrupt) and temporaries of
  // an index write that a crash interrupted.
  std::error_code ec;
  std::vector<fs::path> orphans;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    const bool tmp = name.ends_with(strCat(kExt, kIndexExt, ".tmp"));
    const bool idx = name.ends_with(strCat(kExt, kIndexExt));
    if (tmp || (idx && !fs::exists(e.path().parent_path() /
                                   name.substr(0, name.size() - kIndexExt.size())))) {
      orphans.push_back(e.path());
    }
  }
  for (const fs::path& p : orphans) fs::remove(p, ec);
  for (const StoredFile& f : listFiles(dir_)) {
    if (endsSealed(f.path)) continue;
    auto r = repair(f.path);
    if (!r.ok()) return r.status();
    if (*r) ++stats_.files_recovered;
  }
  return absl::OkStatus();
}

absl::Status SignalStore::append(const google::protobuf::Message& request) {
  std::unique_lock lock(mu_);
  if (!failure_.ok()) {
    // While writes fail, try again only when the pending rows are written: refusing here
    // keeps memory bounded and tells senders to retry.
    if (auto st = flushAllLocked(lock); !st.ok()) return st;
  }
  appendLocked(request);
  ++append_seq_;
  // The rows are taken either way; a failed write keeps them pending for the next flush.
  if (table_.rows() >= options_.max_rows_per_batch) handOffLocked(lock);
  return absl::OkStatus();
}

absl::Status SignalStore::appendWire(std::string_view request_bytes) {
  std::unique_lock lock(mu_);
  if (!failure_.ok()) {
    if (auto st = flushAllLocked(lock); !st.ok()) return st;
  }
  const size_t rows_before = table_.rows();
  const TimeRange range_before = range_;
  bool converted = false;
  switch (signal_) {
    case pipeline::Signal::kTraces:
      converted = appendTracesWire(request_bytes, table_, range_);
      break;
    case pipeline::Signal::kLogs:
      converted = appendLogsWire(request_bytes, table_, range_);
      break;
    case pipeline::Signal::kMetrics:
      converted = appendMetricsWire(request_bytes, table_, range_);
      break;
  }
  if (!converted) {
    table_.truncateRows(rows_before);
    range_ = range_before;
    if (auto st = decodeAndAppendLocked(request_bytes); !st.ok()) return st;
  }
  ++append_seq_;
  if (table_.rows() >= options_.max_rows_per_batch) handOffLocked(lock);
  return absl::OkStatus();
}

// Out of line: the wire conversion handles nearly every request.
absl::Status SignalStore::decodeAndAppendLocked(std::string_view request_bytes) {
  google::protobuf::Arena arena;
  google::protobuf::Message* request = nullptr;
  switch (signal_) {
    case pipeline::Signal::kTraces:
      request = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
      break;
    case pipeline::Signal::kLogs:
      request = google::protobuf::Arena::CreateMessage<otlp::LogsRequest>(&arena);
      break;
    case pipeline::Signal::kMetrics:
      request = google::protobuf::Arena::CreateMessage<otlp::MetricsRequest>(&arena);
      break;
  }
  if (!request->ParseFromArray(request_bytes.data(), static_cast<int>(request_bytes.size()))) {
    return absl::InvalidArgumentError("store: the request is not valid protobuf");
  }
  appendLocked(*request);
  return absl::OkStatus();
}

void SignalStore::appendLocked(const google::protobuf::Message& request) {
  switch (signal_) {
    case pipeline::Signal::kTraces:
      appendTraces(static_cast<const otlp::TracesRequest&>(request), table_, range_);
      break;
    case pipeline::Signal::kLogs:
      appendLogs(static_cast<const otlp::LogsRequest&>(request), table_, range_);
      break;
    case pipeline::Signal::kMetrics:
      appendMetrics(static_cast<const otlp::MetricsRequest&>(request), table_, range_);
      break;
  }
}

absl::Status SignalStore::flush() {
  std::unique_lock lock(mu_);
  return flushAllLocked(lock);
}

// --- double buffering: the hand-over between the consuming side and the writer thread -------

void SignalStore::waitIdleLocked(std::unique_lock<std::mutex>& lock) {
  idle_cv_.wait(lock, [this] { return !pass_requested_ && !pass_running_; });
}

uint64_t SignalStore::startPassLocked(bool hand_off) {
  if (hand_off && !written_held_ && table_.rows() > 0) {
    // The writer is idle, so written_ is free; write_mu_ still guards it against stats() and
    // the like. Swapping is O(columns); only new dictionary values are copied.
    std::lock_guard write_lock(write_mu_);
    written_rows_ = table_.rows();
    table_.swapRowsInto(written_);
    if (fd_ < 0) {
      // These rows open a new file: its dictionaries start from the values they use, and the
      // values of earlier files are forgotten (table_ holds no rows now).
      written_.compactDictionaries();
      table_.copyDictionariesFrom(written_);
    }
    written_range_ = range_;
    range_ = TimeRange{};
    written_held_ = true;
  }
  pass_requested_ = true;
  writer_cv_.notify_one();
  return ++passes_started_;
}

void SignalStore::handOffLocked(std::unique_lock<std::mutex>& lock) {
  if (pass_requested_ || pass_running_) writer_waits_.fetch_add(1, std::memory_order_relaxed);
  waitIdleLocked(lock);  // backpressure: at most one batch in flight
  // Another thread may have handed the rows over while this one waited; and a failed write's
  // rows still held: the next append retries in place.
  if (written_held_ || table_.rows() < options_.max_rows_per_batch) return;
  startPassLocked(/*hand_off=*/true);
}

absl::Status SignalStore::flushAllLocked(std::unique_lock<std::mutex>& lock) {
  waitIdleLocked(lock);
  if (written_held_) {
    // Rows a failed write kept go first, in their own batch, so that rows stay in order.
    startPassLocked(/*hand_off=*/false);
    waitIdleLocked(lock);
    if (written_held_) return failure_;
  }
  const uint64_t pass = startPassLocked(/*hand_off=*/true);
  waitIdleLocked(lock);
  if (passes_done_ == pass) return last_pass_status_;
  return written_held_ ? failure_ : absl::OkStatus();  // a later pass ran as well
}

void SignalStore::writerLoop() {
  common::nameThisThread(std::string("store-w:") + std::string(pipeline::signalName(signal_)));
  std::unique_lock lock(mu_);
  for (;;) {
    writer_cv_.wait(lock, [this] { return pass_requested_ || writer_stopping_; });
    if (!pass_requested_) return;  // stopping, nothing asked for
    pass_requested_ = false;
    pass_running_ = true;
    lock.unlock();
    bool write_failed = false;
    absl::Status st;
    size_t still_held;
    {
      std::lock_guard write_lock(write_mu_);
      st = writePassLocked(write_failed);
      still_held = written_.rows();
    }
    lock.lock();
    pass_running_ = false;
    ++passes_done_;
    last_pass_status_ = st;
    written_held_ = still_held > 0;
    written_rows_ = still_held;
    if (write_failed) {
      failure_ = st;
    } else if (st.ok()) {
      failure_ = absl::OkStatus();
    }
    idle_cv_.notify_all();
  }
}

absl::Status SignalStore::openFileLocked() {
  file_start_ = clock_->now();
  path_ = (fs::path(dir_) / fileName(file_start_, ++seq_)).string();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    absl::Status st = errnoStatus("cannot create", path_, errno);
    path_.clear();
    return st;
  }
  file_bytes_ = 0;
  // written_ holds the rows about to be written, so its dictionaries are only marked unsent
  // (never cleared: they mirror table_'s).
  written_.startNewFile();
  index_builder_.reset();
  encoder_ = std::make_unique<IpcEncoder>(
      &fieldsFor(signal_), options_.codec,
      KeyValues{{"otlpd:signal", std::string(signalDir(signal_))},
                {"otlpd:version", std::to_string(kStoreLayoutVersion)}});
  out_.clear();
  encoder_->appendSchema(out_);
  absl::Status st = writeAll(out_);
  if (!st.ok()) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
    path_.clear();
    return st;
  }
  fsyncDir(dir_);
  return absl::OkStatus();
}

absl::Status SignalStore::writeAll(std::string_view bytes) {
  const uint64_t before = file_bytes_;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Cut a partial message off so that the file stays a readable stream.
      if (::ftruncate(fd_, static_cast<off_t>(before)) == 0)
        ::lseek(fd_, static_cast<off_t>(before), SEEK_SET);
      return errnoStatus("write to", path_, err);
    }
    done += static_cast<size_t>(n);
  }
  file_bytes_ += bytes.size();
  stats_.bytes_written += bytes.size();
  return absl::OkStatus();
}

absl::Status SignalStore::writePassLocked(bool& write_failed) {
  const absl::Time now = clock_->now();
  if (fd_ >= 0 &&
      (file_bytes_ >= options_.max_file_bytes || now - file_start_ >= options_.max_file_age)) {
    if (auto st = sealLocked(); !st.ok()) return st;
  }
  if (written_.rows() > 0) {
    if (fd_ < 0) {
      if (auto st = openFileLocked(); !st.ok()) {
        ++stats_.write_failures;
        write_failed = true;
        return st;
      }
    }
    out_.clear();
    const size_t rows = written_.rows();
    // Dictionaries are written with the batch, so a failed write must not count them as sent.
    std::vector<std::pair<size_t, bool>> dict_state;
    for (auto& d : written_.dictionaries()) dict_state.emplace_back(d->emitted, d->sent);
    RollupWriter::BatchLock rollup_lock;
    if (rollups_) rollup_lock = rollups_->lockForBatch();
    KeyValues batch_metadata{{"otlpd:min_time_unix_nano", std::to_string(written_range_.min)},
                             {"otlpd:max_time_unix_nano", std::to_string(written_range_.max)}};
    const std::vector<uint64_t> trace_hashes = batchTraceHashes(written_, signal_);
    if (std::string bloom = batchTraceBloom(trace_hashes); !bloom.empty()) {
      batch_metadata.emplace_back(std::string(kBatchBloomKey), absl::Base64Escape(bloom));
    }
    absl::Status st = encoder_->appendBatch(written_, batch_metadata, out_);
    if (st.ok()) st = writeAll(out_);
    if (st.ok() && options_.fsync == FsyncPolicy::kBatch && ::fdatasync(fd_) != 0) {
      st = errnoStatus("fsync", path_, errno);
    }
    if (!st.ok()) {
      for (size_t i = 0; i < dict_state.size(); ++i) {
        written_.dictionaries()[i]->emitted = dict_state[i].first;
        written_.dictionaries()[i]->sent = dict_state[i].second;
      }
      ++stats_.write_failures;
      write_failed = true;
      return st;
    }
    index_builder_.addBatch(written_, written_range_, &trace_hashes);
    if (rollups_) {
      rollups_->onBatchWritten(rollup_lock, written_, fs::path(path_).filename().string());
      rollup_lock.unlock();
    }
    written_.clearRows();
    written_range_ = TimeRange{};
    stats_.rows_written += rows;
    ++stats_.batches_written;
    // Sealed now rather than at the next pass, so that the next rows find no file open and start
    // the next one with compacted dictionaries.
    if (file_bytes_ >= options_.max_file_bytes || now - file_start_ >= options_.max_file_age ||
        written_.dictionaryBytes() >= kMaxDictionaryBytesPerFile) {
      if (auto s2 = sealLocked(); !s2.ok()) return s2;
    }
  }
  retentionLocked();
  // A failed rollup write keeps its rows in memory for the next interval; it is counted, and
  // refuses no data (the span files are the truth the rollups are rebuilt from).
  if (rollups_) (void)rollups_->maybeWrite(false);
  return absl::OkStatus();
}

absl::Status SignalStore::sealLocked() {
  if (fd_ < 0) return absl::OkStatus();
  absl::Status st = writeAll(kEndOfStream);
  if (st.ok() && options_.fsync != FsyncPolicy::kNever && ::fsync(fd_) != 0) {
    st = errnoStatus("fsync", path_, errno);
  }
  // A file that could not take its end marker is repaired at the next start.
  ::close(fd_);
  fd_ = -1;
  if (st.ok()) {
    ++stats_.files_sealed;
    // Only now, after the seal: an index never describes a file that may still change. A
    // failed index write leaves a file that readers read in full.
    if (writeFileIndex(path_, index_builder_.finish(written_),
                       options_.fsync != FsyncPolicy::kNever)
            .ok()) {
      ++stats_.indexes_written;
    }
  }
  path_.clear();
  encoder_.reset();
  return st;
}

void SignalStore::retentionLocked() {
  const absl::Time cutoff = clock_->now() - options_.retention;
  std::vector<StoredFile> all;
  for (std::string_view s : {"traces", "metrics", "logs"}) {
    const auto files = listFiles((fs::path(options_.directory) / std::string(s)).string());
    all.insert(all.end(), files.begin(), files.end());
  }
  std::sort(all.begin(), all.end(), [](const StoredFile& a, const StoredFile& b) {
    return std::tie(a.start, a.seq, a.path) < std::tie(b.start, b.seq, b.path);
  });
  uint64_t total = 0;
  for (const StoredFile& f : all) total += f.size;
  for (const StoredFile& f : all) {
    // A file of its time range stays until its last row could be past retention: the file
    // started at most max_file_age before its last row.
    const bool too_old = f.start + options_.max_file_age < cutoff;
    const bool too_big = total > options_.max_total_bytes;
    if (!too_old && !too_big) break;
    // Files still being written (ours or another signal's) are never deleted.
    if (f.path == path_ || !endsSealed(f.path)) continue;
    std::error_code ec;
    // The index goes first: an index without its file would be an orphan, a file without its
    // index is only read in full.
    fs::remove(indexPathFor(f.path), ec);
    if (fs::remove(f.path, ec)) {
      total -= f.size;
      ++stats_.files_deleted;
    }
  }
}

absl::Status SignalStore::close() {
  std::unique_lock lock(mu_);
  absl::Status st = flushAllLocked(lock);
  std::lock_guard write_lock(write_mu_);
  absl::Status seal = sealLocked();
  if (rollups_) (void)rollups_->maybeWrite(/*force=*/true);
  return st.ok() ? seal : st;
}

// --- Durability on request: group commit -----------------------------------------------------
// Kept apart from the write path: it only calls flushAllLocked() and syncs the file written to.

absl::Status SignalStore::syncAppended(absl::Duration max_wait) {
  const absl::Time deadline = absl::Now() + max_wait;
  uint64_t mine;
  {
    std::lock_guard lock(mu_);
    mine = append_seq_;
  }
  std::unique_lock lock(sync_mu_);
  for (;;) {
    if (synced_seq_ >= mine) return absl::OkStatus();
    if (!sync_running_) break;
    if (max_wait == absl::InfiniteDuration()) {
      sync_cv_.wait(lock);
    } else if (sync_cv_.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout &&
               synced_seq_ < mine) {
      return absl::DeadlineExceededError(
          strCat("rows not synced within ", absl::FormatDuration(max_wait)));
    }
    // The round that just ended may have covered us, or failed for us.
    if (synced_seq_ < mine && failed_through_seq_ >= mine && !sync_running_) return sync_error_;
  }
  sync_running_ = true;
  lock.unlock();
  uint64_t through;
  absl::Status st;
  {
    std::unique_lock store_lock(mu_);
    through = append_seq_;  // everything appended so far goes into this round
    st = flushAllLocked(store_lock);
    // The writer syncs with `fsync: batch`; with `rotate` the rows it wrote are synced here.
    // A file sealed on the way was synced by the seal (the policy is never `never` here).
    std::lock_guard write_lock(write_mu_);
    if (st.ok() && fd_ >= 0 && options_.fsync != FsyncPolicy::kBatch && ::fdatasync(fd_) != 0) {
      st = errnoStatus("fsync", path_, errno);
      ++stats_.write_failures;
    }
  }
  lock.lock();
  sync_running_ = false;
  ++sync_rounds_;
  if (st.ok()) {
    synced_seq_ = std::max(synced_seq_, through);
  } else {
    failed_through_seq_ = std::max(failed_through_seq_, through);
    sync_error_ = st;
  }
  sync_cv_.notify_all();
  return st;
}

uint64_t SignalStore::syncRounds() const {
  std::lock_guard lock(sync_mu_);
  return sync_rounds_;
}

StoreStats SignalStore::stats() const {
  std::lock_guard lock(write_mu_);
  StoreStats s = stats_;
  s.writer_waits = writer_waits_.load(std::memory_order_relaxed);
  if (rollups_) s.rollups = rollups_->stats();
  return s;
}

size_t SignalStore::pendingRows() const {
  std::lock_guard lock(mu_);
  return table_.rows() + (written_held_ ? written_rows_ : 0);
}

std::string SignalStore::currentFile() const {
  std::lock_guard lock(write_mu_);
  return path_;
}

absl::Status SignalStore::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace otlpd::store
