#include "store/rollup_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "store/file_index.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"

namespace otlpd::store {
namespace fs = std::filesystem;
namespace {

// The writers of this process by store root, so that readers see the rows not in files yet.
std::mutex& liveMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, RollupWriter*>& liveWriters() {
  static std::map<std::string, RollupWriter*> writers;
  return writers;
}
std::string rootKey(const std::string& root) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::path(root), ec);
  return ec ? root : p.string();
}

// The writer of `root` in this process, if any; liveMutex() held. The root is resolved (a stat
// per path component) only when some writer is registered: a process that only reads (the query
// API over another process's store) looks up nothing.
RollupWriter* liveWriterLocked(const std::string& root) {
  if (liveWriters().empty()) return nullptr;
  auto it = liveWriters().find(rootKey(root));
  return it == liveWriters().end() ? nullptr : it->second;
}

std::string baseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<std::string> listWithExt(const std::string& dir, std::string_view ext,
                                     std::error_code& ec) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > ext.size() && name.ends_with(ext)) out.push_back(e.path().string());
  }
  // Names start with a UTC time: they sort oldest first.
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status errnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = strCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::UnavailableError(strCat("disk full: ", msg));
  return absl::UnavailableError(msg);
}

bool preadAll(int fd, char* out, size_t n, uint64_t at) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(at + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// Walks the frames of a rollup file. `on_header` says whether to read the frame whole; whole
// frames are checked and handed to `on_frame`. Stops at the first frame that is cut short or
// corrupt and returns the offset where the valid frames end; `corrupt` tells whether it stopped
// early.
struct FrameWalk {
  uint64_t valid_end = 0;
  bool stopped_early = false;
  uint64_t frames_read = 0, frames_skipped = 0, bytes_read = 0;
};
FrameWalk walkFrames(
    const std::string& path, bool check_all,
    const std::function<bool(const RollupFrameHeader&)>& want,
    const std::function<void(const RollupFrameHeader&, RollupSegment&)>& on_frame) {
  FrameWalk w;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return w;
  struct stat st {};
  ::fstat(fd, &st);
  const auto size = static_cast<uint64_t>(st.st_size);
  uint64_t pos = 0;
  std::string buf;
  while (pos < size) {
    const size_t head = std::min<uint64_t>(size - pos, kRollupFrameFixedBytes + 0xffff);
    buf.resize(std::min<size_t>(head, kRollupFrameFixedBytes + 256));
    if (!preadAll(fd, buf.data(), buf.size(), pos)) break;
    auto peek = peekRollupFrame(buf);
    if (!peek && buf.size() < head) {  // a long watermark name: read the most a header can be
      buf.resize(head);
      if (!preadAll(fd, buf.data(), buf.size(), pos)) break;
      peek = peekRollupFrame(buf);
    }
    if (!peek || peek->second > size - pos) {
      w.stopped_early = true;
      break;
    }
    const bool read_it = check_all || want(peek->first);
    if (read_it) {
      buf.resize(peek->second);
      if (!preadAll(fd, buf.data(), buf.size(), pos)) break;
      auto frame = decodeRollupFrame(buf);
      if (!frame.ok()) {
        w.stopped_early = true;
        break;
      }
      w.bytes_read += peek->second;
      if (want(frame->first)) {
        ++w.frames_read;
        on_frame(frame->first, frame->second);
      } else {
        ++w.frames_skipped;
      }
    } else {
      ++w.frames_skipped;
    }
    pos += peek->second;
    w.valid_end = pos;
  }
  if (pos < size && !w.stopped_early) w.stopped_early = true;
  ::close(fd);
  return w;
}

std::string rollupFileName(absl::Time start, uint64_t seq) {
  std::string seqs = std::to_string(seq);
  if (seqs.size() < 6) seqs.insert(0, 6 - seqs.size(), '0');
  return strCat(absl::FormatTime("%Y%m%dT%H%M%SZ", start, absl::UTCTimeZone()), "-", seqs,
                kRollupExt);
}

// The start time in a file name (YYYYMMDDTHHMMSSZ-...), or nullopt.
std::optional<absl::Time> startOf(const std::string& path) {
  const std::string name = baseName(path);
  if (name.size() < 16 || name[8] != 'T' || name[15] != 'Z') return std::nullopt;
  int y, mo, d, h, mi, s;
  auto num = [&](size_t at, size_t len, int& v) {
    return absl::SimpleAtoi(toAbsl(std::string_view(name).substr(at, len)), &v);
  };
  if (!num(0, 4, y) || !num(4, 2, mo) || !num(6, 2, d) || !num(9, 2, h) || !num(11, 2, mi) ||
      !num(13, 2, s)) {
    return std::nullopt;
  }
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// Floor to the hour, for any int64 (a corrupt file can hold any minute).
int64_t hourOf(int64_t minute) {
  if (minute < std::numeric_limits<int64_t>::min() + 120)
    return std::numeric_limits<int64_t>::min();
  const int64_t q = minute / 60;
  return (minute % 60 < 0 ? q - 1 : q) * 60;
}

std::string hourlyPathFor(const std::string& minute_file) {
  return strCat(minute_file, kRollupHourlyExt);
}

void keepRows(RollupSegment& s, const std::function<bool(int64_t)>& keep) {
  std::erase_if(s.spans, [&](const SpanRollup& r) { return !keep(r.minute); });
  std::erase_if(s.edges, [&](const EdgeRollup& r) { return !keep(r.minute); });
}

// Writes `<file>.hourly`: every frame of the (sealed) minute file `path` merged by hour, so that
// long windows read one row per hour and key. A crash leaves at most a temporary, removed at open.
absl::Status compactByHour(const std::string& path) {
  RollupAccumulator acc;
  const FrameWalk w = walkFrames(
      path, /*check_all=*/true, [](const RollupFrameHeader&) { return true; },
      [&](const RollupFrameHeader&, RollupSegment& seg) {
        for (SpanRollup& r : seg.spans) r.minute = hourOf(r.minute);
        for (EdgeRollup& r : seg.edges) r.minute = hourOf(r.minute);
        acc.merge(seg);
      });
  if (w.stopped_early) return absl::DataLossError(strCat(path, ": corrupt frame"));
  const RollupSegment merged = acc.segment();
  RollupFrameHeader h;
  std::tie(h.min_minute, h.max_minute) = merged.minuteRange();
  if (!merged.empty() && h.max_minute < std::numeric_limits<int64_t>::max() - 59) {
    h.max_minute += 59;  // the last hour's minutes
  }
  const std::string frame = encodeRollupFrame(h, merged);
  const std::string final_path = hourlyPathFor(path);
  const std::string tmp = strCat(final_path, ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoStatus("cannot create", tmp, errno);
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(fd, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == frame.size() && ::fdatasync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return errnoStatus("cannot write", final_path, ok ? errno : err);
  }
  return absl::OkStatus();
}

// The [min, max] minute of an hourly summary from its frame header; nullopt without a valid one.
std::optional<std::pair<int64_t, int64_t>> hourlyRange(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string head(kRollupFrameFixedBytes, '\0');
  const bool read = preadAll(fd, head.data(), head.size(), 0);
  ::close(fd);
  if (!read) return std::nullopt;
  auto peek = peekRollupFrame(head);  // a summary's frame has no watermark name
  if (!peek || !peek->first.watermark_file.empty()) return std::nullopt;
  return std::make_pair(peek->first.min_minute, peek->first.max_minute);
}

}  // namespace

absl::Status replaySpanBatches(const std::string& traces_dir, const std::string& file,
                               uint64_t batches, SpanRollupBuilder& builder, int64_t now,
                               std::string* last_file, uint64_t* last_batches, uint64_t* replayed) {
  std::error_code ec;
  const std::vector<std::string> files = listWithExt(traces_dir, ".arrow", ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::UnavailableError(strCat("cannot list ", traces_dir, ": ", ec.message()));
  }
  for (const std::string& path : files) {
    const std::string name = baseName(path);
    if (!file.empty() && name < file) continue;
    const uint64_t skip = name == file ? batches : 0;
    if (skip > 0) {
      // A sealed file whose index counts no batch past the watermark is not read at all.
      auto index = loadFileIndex(path, pipeline::Signal::kTraces);
      if (index.ok() && index->batches <= skip) {
        if (last_file != nullptr) {
          *last_file = name;
          *last_batches = index->batches;
        }
        continue;
      }
    }
    std::string data;
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;  // deleted by retention meanwhile
      data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    IpcDecoder decoder;
    // Batches up to the watermark are counted, not decoded.
    decoder.setSkipBodies(true);
    bool foreign = false;
    size_t pos = 0;
    uint64_t seen = 0;
    for (;;) {
      auto ev = decoder.next(data, pos);
      if (!ev.ok()) {
        return absl::DataLossError(strCat(path, ": ", ev.status().message()));
      }
      if (*ev == IpcDecoder::Event::kEndOfStream || *ev == IpcDecoder::Event::kEndOfData) break;
      if (*ev == IpcDecoder::Event::kSchema &&
          storeLayoutOf(decoder.fields(), pipeline::Signal::kTraces) == 0) {
        // Not a span file of this version (the rollups read columns by position): left out.
        foreign = true;
        break;
      }
      if (*ev != IpcDecoder::Event::kRecordBatch) continue;
      ++seen;
      if (seen <= skip) continue;
      if (auto st = decoder.decodePendingBody(); !st.ok()) {
        return absl::DataLossError(strCat(path, ": ", st.message()));
      }
      builder.addBatch(*decoder.table(), now);
      if (replayed != nullptr) ++*replayed;
    }
    if (foreign) continue;
    if (last_file != nullptr && (seen > 0 || name > *last_file)) {
      *last_file = name;
      *last_batches = seen;
    }
  }
  return absl::OkStatus();
}

absl::Status primeJoinerBefore(const std::string& traces_dir, const std::string& file,
                               uint64_t batches, SpanRollupBuilder& builder, int64_t now) {
  if (file.empty() || batches == 0) return absl::OkStatus();
  std::error_code ec;
  const std::vector<std::string> files = listWithExt(traces_dir, ".arrow", ec);
  std::vector<std::pair<std::string, uint64_t>> wanted;  // path, batches to read (0: all)
  for (size_t i = 0; i < files.size(); ++i) {
    if (baseName(files[i]) != file) continue;
    if (i > 0) wanted.emplace_back(files[i - 1], 0);
    wanted.emplace_back(files[i], batches);
  }
  for (const auto& [path, limit] : wanted) {
    std::string data;
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;  // deleted by retention meanwhile
      data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    IpcDecoder decoder;
    size_t pos = 0;
    uint64_t seen = 0;
    for (;;) {
      auto ev = decoder.next(data, pos);
      // A corrupt span file primes what it can: the replay reports the corruption.
      if (!ev.ok() || *ev == IpcDecoder::Event::kEndOfStream ||
          *ev == IpcDecoder::Event::kEndOfData) {
        break;
      }
      if (*ev == IpcDecoder::Event::kSchema &&
          storeLayoutOf(decoder.fields(), pipeline::Signal::kTraces) == 0) {
        break;  // not a span file of this version
      }
      if (*ev != IpcDecoder::Event::kRecordBatch) continue;
      builder.primeJoiner(*decoder.table(), now);
      if (++seen == limit) break;
    }
  }
  return absl::OkStatus();
}

RollupWriter::RollupWriter(std::string root, RollupOptions options, Clock* clock)
    : root_(std::move(root)),
      dir_((fs::path(root_) / std::string(kRollupDir)).string()),
      options_(options),
      clock_(clock),
      builder_(EdgeJoiner::Options{absl::ToInt64Nanoseconds(options.join_window),
                                   options.max_join_spans, options.max_join_spans}) {}

RollupWriter::~RollupWriter() {
  {
    std::lock_guard lock(liveMutex());
    auto it = liveWriters().find(rootKey(root_));
    if (it != liveWriters().end() && it->second == this) liveWriters().erase(it);
  }
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<RollupWriter>> RollupWriter::open(const std::string& root,
                                                                 const std::string& traces_dir,
                                                                 RollupOptions options,
                                                                 Clock* clock) {
  std::unique_ptr<RollupWriter> w(new RollupWriter(root, options, clock));
  std::error_code ec;
  fs::create_directories(w->dir_, ec);
  if (ec) return absl::UnavailableError(strCat("cannot create ", w->dir_, ": ", ec.message()));
  if (auto st = w->recover(traces_dir); !st.ok()) return st;
  {
    std::lock_guard lock(w->mu_);
    w->last_write_ = clock->now();
    w->retentionLocked();
  }
  std::lock_guard lock(liveMutex());
  liveWriters()[rootKey(root)] = w.get();
  return w;
}

absl::Status RollupWriter::recover(const std::string& traces_dir) {
  std::lock_guard lock(mu_);
  std::error_code ec;
  std::vector<std::string> files = listWithExt(dir_, kRollupExt, ec);
  for (const std::string& f : files) {
    if (auto start = startOf(f)) {
      auto parts = baseName(f);
      uint64_t n = 0;
      if (parts.size() > 17 && absl::SimpleAtoi(toAbsl(std::string_view(parts).substr(
                                                    17, parts.size() - 17 - kRollupExt.size())),
                                                &n)) {
        file_seq_ = std::max(file_seq_, n);
      }
    }
  }
  // The newest file with a frame holds the last watermark. Only the newest file can end in a
  // partial frame (the one a crash interrupted); it is cut after its last whole frame.
  bool newest = true;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    RollupFrameHeader last;
    bool any = false;
    const FrameWalk w = walkFrames(
        *it, /*check_all=*/newest, [](const RollupFrameHeader&) { return true; },
        [&](const RollupFrameHeader& h, const RollupSegment&) {
          last = h;
          any = true;
        });
    if (newest && w.stopped_early) {
      if (w.valid_end == 0) {
        fs::remove(*it, ec);
      } else if (::truncate(it->c_str(), static_cast<off_t>(w.valid_end)) != 0) {
        return errnoStatus("cannot repair", *it, errno);
      }
      ++stats_.files_repaired;
    }
    newest = false;
    if (any) {
      seq_ = last.seq;
      watermark_file_ = last.watermark_file;
      watermark_batches_ = last.watermark_batches;
      break;
    }
  }
  // Every file here is sealed (a restart starts a new one): each gets its hourly summary.
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().string().ends_with(".tmp")) fs::remove(e.path(), ec);
  }
  for (const std::string& f : listWithExt(dir_, kRollupExt, ec)) {
    if (!fs::exists(hourlyPathFor(f), ec)) (void)compactByHour(f);
  }
  const int64_t now = absl::ToUnixNanos(clock_->now());
  std::string last_file = watermark_file_;
  uint64_t last_batches = watermark_batches_;
  if (absl::Status primed =
          primeJoinerBefore(traces_dir, watermark_file_, watermark_batches_, builder_, now);
      !primed.ok()) {
    return primed;
  }
  absl::Status st = replaySpanBatches(traces_dir, watermark_file_, watermark_batches_, builder_,
                                      now, &last_file, &last_batches, &stats_.batches_replayed);
  if (!st.ok()) return st;
  watermark_file_ = last_file;
  watermark_batches_ = last_batches;
  return absl::OkStatus();
}

void RollupWriter::onBatchWritten(const BatchLock& held, const ColumnTable& table,
                                  const std::string& file_name) {
  assert(held.owns_lock() && held.mutex() == &mu_);
  (void)held;
  if (file_name != watermark_file_) {
    watermark_file_ = file_name;
    watermark_batches_ = 0;
  }
  ++watermark_batches_;
  builder_.addBatch(table, absl::ToUnixNanos(clock_->now()));
  stats_.late_children = builder_.joinStats().late;
  stats_.folded_names = builder_.foldedNames();
}

absl::Status RollupWriter::maybeWrite(bool force) {
  std::lock_guard lock(mu_);
  const absl::Time now = clock_->now();
  if (!force && now - last_write_ < options_.interval) return absl::OkStatus();
  absl::Status st = builder_.empty() ? absl::OkStatus() : writeFrameLocked();
  if (st.ok()) last_write_ = now;
  // Rotated even when idle, so that retention can delete it in time.
  if (fd_ >= 0 && now - file_start_ >= options_.max_file_age) rotateLocked();
  retentionLocked();
  return st;
}

absl::Status RollupWriter::writeFrameLocked() {
  const absl::Time now = clock_->now();
  if (fd_ >= 0 && now - file_start_ >= options_.max_file_age) rotateLocked();
  if (fd_ < 0) {
    file_start_ = now;
    path_ = (fs::path(dir_) / rollupFileName(now, ++file_seq_)).string();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      ++stats_.write_failures;
      return errnoStatus("cannot create", path_, errno);
    }
  }
  const RollupSegment segment = builder_.peek();
  RollupFrameHeader h;
  h.seq = seq_ + 1;
  std::tie(h.min_minute, h.max_minute) = segment.minuteRange();
  h.watermark_file = watermark_file_;
  h.watermark_batches = watermark_batches_;
  const std::string frame = encodeRollupFrame(h, segment);
  struct stat st {};
  ::fstat(fd_, &st);
  const off_t before = st.st_size;
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(fd_, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // A partial frame would end the file for readers: cut it off, retry at the next interval.
      (void)::ftruncate(fd_, before);
      ++stats_.write_failures;
      return errnoStatus("write to", path_, err);
    }
    done += static_cast<size_t>(n);
  }
  ::fdatasync(fd_);
  seq_ = h.seq;
  builder_.take();
  ++stats_.frames_written;
  stats_.bytes_written += frame.size();
  return absl::OkStatus();
}

void RollupWriter::rotateLocked() {
  ::close(fd_);
  fd_ = -1;
  // A failure only means that long windows read this file's minutes (and the next start retries).
  if (compactByHour(path_).ok()) ++stats_.files_compacted;
  path_.clear();
}

void RollupWriter::retentionLocked() {
  const absl::Time cutoff = clock_->now() - options_.retention;
  std::error_code ec;
  for (const std::string& f : listWithExt(dir_, kRollupExt, ec)) {
    auto start = startOf(f);
    // A file holds minutes up to about its last write: max_file_age after its start.
    if (!start || *start + options_.max_file_age >= cutoff) break;
    if (f == path_) continue;
    // The summary first: one without its minute file would never be read, the other way round
    // the minute file is read in full.
    fs::remove(hourlyPathFor(f), ec);
    if (fs::remove(f, ec)) ++stats_.files_deleted;
  }
}

RollupStats RollupWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

RollupWriter::Snapshot RollupWriter::snapshot() const {
  std::lock_guard lock(mu_);
  return Snapshot{builder_.peek(), seq_};
}

std::optional<RollupWriter::Snapshot> liveRollupSnapshot(const std::string& root) {
  std::lock_guard lock(liveMutex());
  RollupWriter* writer = liveWriterLocked(root);
  if (writer == nullptr) return std::nullopt;
  return writer->snapshot();
}

RollupFrameFollower::RollupFrameFollower(const std::string& root)
    : dir_((fs::path(root) / std::string(kRollupDir)).string()) {}

std::string RollupFrameFollower::poll(uint64_t up_to_seq,
                                      const std::function<void(const RollupSegment&)>& fn) {
  std::error_code ec;
  const std::vector<std::string> files = listWithExt(dir_, kRollupExt, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return ec.message();
  for (const std::string& f : files) {
    // Names sort in write order; the file of the last frame may have grown since.
    if (!file_.empty() && f < file_) continue;
    bool gave = false;
    const FrameWalk w = walkFrames(
        f, /*check_all=*/false,
        [&](const RollupFrameHeader& h) {
          if (h.seq <= last_seq_ || h.seq > up_to_seq) return false;
          if (fn) return true;
          last_seq_ = h.seq;  // moving past only: headers are enough
          gave = true;
          return false;
        },
        [&](const RollupFrameHeader& h, RollupSegment& s) {
          last_seq_ = h.seq;
          gave = true;
          ++frames_read_;
          fn(s);
        });
    // The newest file may end in a frame still being written (by another process).
    if (w.stopped_early && &f != &files.back()) ++corrupt_frames_;
    if (gave) file_ = f;
  }
  return "";
}

std::string readRollups(const std::string& root, int64_t min_minute, int64_t max_minute,
                        const std::function<void(const RollupSegment&)>& fn, RollupReadStats* stats,
                        bool use_hours) {
  RollupReadStats local;
  RollupReadStats& st = stats != nullptr ? *stats : local;
  // Far beyond any real minute, and no overflow in the hour arithmetic below.
  constexpr int64_t kFar = int64_t{1} << 50;
  min_minute = std::clamp(min_minute, -kFar, kFar);
  max_minute = std::clamp(max_minute, -kFar, kFar);
  // The live writer first: frames written after its snapshot hold rows the snapshot has.
  std::optional<RollupWriter::Snapshot> live;
  {
    std::lock_guard lock(liveMutex());
    if (RollupWriter* writer = liveWriterLocked(root)) live = writer->snapshot();
  }
  st.live = live.has_value();
  const std::string dir = (fs::path(root) / std::string(kRollupDir)).string();
  std::error_code ec;
  const std::vector<std::string> files = listWithExt(dir, kRollupExt, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return ec.message();
  // Hours wholly inside the window can be read from the hourly summaries; minutes of the hours
  // cut by the window's ends only from the minute frames.
  const int64_t full_first =
      hourOf(min_minute) == min_minute ? min_minute : hourOf(min_minute) + 60;
  const int64_t full_end = hourOf(max_minute + 1);  // exclusive
  const bool any_full = use_hours && full_first < full_end;
  const auto in_window = [&](int64_t m) { return m >= min_minute && m <= max_minute; };
  const auto in_full_hour = [&](int64_t m) { return any_full && m >= full_first && m < full_end; };
  RollupFrameHeader last;  // the newest frame, whose watermark the span files continue from
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& f = files[i];
    ++st.files;
    // A sealed file's hourly summary spans every minute of its frames: a file whose summary is
    // outside the window is not opened. Never the newest file, which holds the last watermark.
    const std::optional<std::pair<int64_t, int64_t>> summarized =
        i + 1 < files.size() ? hourlyRange(hourlyPathFor(f)) : std::nullopt;
    if (summarized && (summarized->second < min_minute || summarized->first > max_minute)) {
      ++st.files_skipped;
      continue;
    }
    const bool hourly = any_full && summarized.has_value();
    if (hourly) {
      const FrameWalk w = walkFrames(
          hourlyPathFor(f), /*check_all=*/false,
          [&](const RollupFrameHeader& h) {
            return h.max_minute >= full_first && h.min_minute < full_end;
          },
          [&](const RollupFrameHeader&, RollupSegment& s) {
            keepRows(s, in_full_hour);
            if (!s.empty()) fn(s);
          });
      st.frames_read += w.frames_read;
      st.hourly_frames_read += w.frames_read;
      st.bytes_read += w.bytes_read;
      if (w.stopped_early) ++st.corrupt_frames;
    }
    // Minute frames: all of the window, or (with a summary) the cut hours only.
    const auto keep_minute = [&](int64_t m) {
      return in_window(m) && !(hourly && in_full_hour(m));
    };
    const FrameWalk w = walkFrames(
        f, /*check_all=*/false,
        [&](const RollupFrameHeader& h) {
          if (h.seq > last.seq && (!live || h.seq <= live->last_seq)) last = h;
          if (live && h.seq > live->last_seq) return false;
          if (h.max_minute < min_minute || h.min_minute > max_minute) return false;
          // Wholly inside the summarized hours: nothing to read.
          return !(hourly && h.min_minute >= full_first && h.max_minute < full_end);
        },
        [&](const RollupFrameHeader&, RollupSegment& s) {
          keepRows(s, keep_minute);
          if (!s.empty()) fn(s);
        });
    st.frames_read += w.frames_read;
    st.frames_skipped += w.frames_skipped;
    st.bytes_read += w.bytes_read;
    if (w.stopped_early) ++st.corrupt_frames;
  }
  if (live) {
    if (!live->pending.empty()) fn(live->pending);
    return "";
  }
  // No writer here (another process writes, or none): the span batches after the last frame.
  SpanRollupBuilder builder(EdgeJoiner::Options{});
  absl::Status s =
      replaySpanBatches((fs::path(root) / "traces").string(), last.watermark_file,
                        last.watermark_batches, builder, 0, nullptr, nullptr, &st.batches_replayed);
  if (!s.ok()) return std::string(s.message());
  if (!builder.empty()) fn(builder.take());
  return "";
}

}  // namespace otlpd::store
