#include "store/file_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/fnv1a.h"
#include "common/strings.h"

namespace otlpd::store {
namespace {

constexpr std::string_view kMagic = "OTLPDIDX";
// Version 2 added the (service, name, kind) list of traces files; version 1 is still read.
constexpr uint32_t kVersion = 2;
constexpr uint32_t kFirstVersion = 1;
constexpr uint32_t kNotRecorded = 0xFFFFFFFFu;
// Above these a set is not recorded (the file is then never skipped by it).
constexpr size_t kMaxSetValues = 1024;
constexpr size_t kMaxSetBytes = 64 * 1024;
constexpr size_t kMaxOperations = 4096;
// The span kind column sits between name and service_name (docs/STORAGE.md).
constexpr size_t kSpanKindColumn = span_col::kName + 1;
static_assert(kSpanKindColumn + 1 == span_col::kServiceName);
constexpr size_t kMaxOperationBytes = 256 * 1024;
constexpr size_t kMaxTraceHashes = 1u << 21;
constexpr size_t kMaxBloomBytes = 1u << 20;
constexpr uint32_t kBloomHashes = 7;

uint64_t mix64(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

void put64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}
void put32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}
void putSet(std::string& out, const std::optional<std::vector<std::string>>& set) {
  if (!set) {
    put32(out, kNotRecorded);
    return;
  }
  put32(out, static_cast<uint32_t>(set->size()));
  for (const std::string& s : *set) {
    put32(out, static_cast<uint32_t>(s.size()));
    out.append(s);
  }
}

struct Cursor {
  std::string_view in;
  bool ok = true;
  uint64_t u64() {
    if (in.size() < 8) return fail();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  uint32_t u32() {
    if (in.size() < 4) return static_cast<uint32_t>(fail());
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
    in.remove_prefix(4);
    return v;
  }
  std::string bytes(size_t n) {
    if (in.size() < n) {
      fail();
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::optional<std::vector<std::string>> set() {
    const uint32_t n = u32();
    if (!ok || n == kNotRecorded) return std::nullopt;
    if (n > in.size() / 4) {
      fail();
      return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(n);
    for (uint32_t i = 0; i < n && ok; ++i) out.push_back(bytes(u32()));
    return out;
  }
  uint64_t fail() {
    ok = false;
    in = {};
    return 0;
  }
};

int64_t mtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string baseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::optional<size_t> serviceColumn(pipeline::Signal s) {
  switch (s) {
    case pipeline::Signal::kTraces:
      return span_col::kServiceName;
    case pipeline::Signal::kLogs:
      return log_col::kServiceName;
    case pipeline::Signal::kMetrics:
      return metric_col::kServiceName;
  }
  return std::nullopt;
}
std::optional<size_t> nameColumn(pipeline::Signal s) {
  if (s == pipeline::Signal::kTraces) return span_col::kName;
  if (s == pipeline::Signal::kMetrics) return metric_col::kName;
  return std::nullopt;
}
std::optional<size_t> traceColumn(pipeline::Signal s) {
  if (s == pipeline::Signal::kTraces) return span_col::kTraceId;
  if (s == pipeline::Signal::kLogs) return log_col::kTraceId;
  return std::nullopt;
}

}  // namespace

std::string indexPathFor(const std::string& arrow_path) {
  return strCat(arrow_path, kIndexExt);
}

uint64_t traceIdHash(std::string_view id) {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, id.data(), std::min<size_t>(8, id.size()));
  if (id.size() > 8) std::memcpy(&b, id.data() + 8, std::min<size_t>(8, id.size() - 8));
  return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL));
}

namespace {
template <class F>
void bloomProbes(uint64_t hash, uint32_t hashes, uint64_t bits, F f) {
  const uint64_t h2 = mix64(hash) | 1;
  for (uint32_t i = 0; i < hashes; ++i) f((hash + i * h2) % bits);
}
}  // namespace

namespace {
// ~10 bits per hash of `h` (at least `min_bytes`, at most kMaxBloomBytes) and kBloomHashes
// probes: about 1% false positives. Hashes that appear twice only set the same bits again (and
// make the filter a little larger than it needs to be).
std::string bloomOfHashes(const std::vector<uint64_t>& h, size_t min_bytes) {
  const size_t bytes = std::clamp<size_t>((h.size() * 10 + 7) / 8, min_bytes, kMaxBloomBytes);
  std::string bloom(bytes, '\0');
  for (uint64_t v : h) {
    bloomProbes(v, kBloomHashes, bytes * 8, [&](uint64_t bit) {
      bloom[bit >> 3] =
          static_cast<char>(static_cast<uint8_t>(bloom[bit >> 3]) | (1u << (bit & 7)));
    });
  }
  return bloom;
}

// The same, sized by the distinct hashes.
std::string bloomOf(std::vector<uint64_t> h, size_t min_bytes) {
  std::sort(h.begin(), h.end());
  h.erase(std::unique(h.begin(), h.end()), h.end());
  return bloomOfHashes(h, min_bytes);
}
}  // namespace

bool bloomMayContain(const std::string& bloom, uint32_t hashes, uint64_t hash) {
  if (bloom.empty()) return true;
  bool all = true;
  bloomProbes(hash, hashes, bloom.size() * 8, [&](uint64_t bit) {
    if ((static_cast<uint8_t>(bloom[bit >> 3]) & (1u << (bit & 7))) == 0) all = false;
  });
  return all;
}

std::string encodeFileIndex(const FileIndex& x) {
  std::string out(kMagic);
  put32(out, kVersion);
  put32(out, static_cast<uint32_t>(x.signal));
  put32(out, static_cast<uint32_t>(x.file_name.size()));
  out.append(x.file_name);
  put64(out, x.file_size);
  put64(out, static_cast<uint64_t>(x.file_mtime_ns));
  put64(out, x.file_inode);
  put64(out, x.rows);
  put64(out, x.batches);
  put64(out, static_cast<uint64_t>(x.time.min));
  put64(out, static_cast<uint64_t>(x.time.max));
  putSet(out, x.services);
  putSet(out, x.names);
  put32(out, x.trace_bloom_hashes);
  put32(out, static_cast<uint32_t>(x.trace_bloom.size()));
  out.append(x.trace_bloom);
  put32(out, x.duration ? 1 : 0);
  put64(out, x.duration ? static_cast<uint64_t>(x.duration->min) : 0);
  put64(out, x.duration ? static_cast<uint64_t>(x.duration->max) : 0);
  put32(out, x.max_severity ? 1 : 0);
  put64(out, x.max_severity ? static_cast<uint64_t>(*x.max_severity) : 0);
  if (!x.operations) {
    put32(out, kNotRecorded);
  } else {
    put32(out, static_cast<uint32_t>(x.operations->size()));
    for (const IndexedOperation& op : *x.operations) {
      put32(out, static_cast<uint32_t>(op.service.size()));
      out.append(op.service);
      put32(out, static_cast<uint32_t>(op.name.size()));
      out.append(op.name);
      put32(out, static_cast<uint32_t>(op.kind));
    }
  }
  put64(out, common::fnv1a64(out));
  return out;
}

absl::StatusOr<FileIndex> decodeFileIndex(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 8 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not an otlpd file index");
  }
  Cursor tail{bytes.substr(bytes.size() - 8)};
  if (tail.u64() != common::fnv1a64(bytes.substr(0, bytes.size() - 8))) {
    return absl::DataLossError("file index checksum mismatch");
  }
  Cursor c{bytes.substr(kMagic.size(), bytes.size() - kMagic.size() - 8)};
  const uint32_t version = c.u32();
  if (version < kFirstVersion || version > kVersion) {
    return absl::DataLossError("unknown file index version");
  }
  FileIndex x;
  const uint32_t signal = c.u32();
  if (signal > static_cast<uint32_t>(pipeline::Signal::kLogs)) {
    return absl::DataLossError("bad signal in file index");
  }
  x.signal = static_cast<pipeline::Signal>(signal);
  x.file_name = c.bytes(c.u32());
  x.file_size = c.u64();
  x.file_mtime_ns = static_cast<int64_t>(c.u64());
  x.file_inode = c.u64();
  x.rows = c.u64();
  x.batches = c.u64();
  x.time.min = static_cast<int64_t>(c.u64());
  x.time.max = static_cast<int64_t>(c.u64());
  x.services = c.set();
  x.names = c.set();
  x.trace_bloom_hashes = c.u32();
  x.trace_bloom = c.bytes(c.u32());
  if (c.u32() != 0) {
    TimeRange d;
    d.min = static_cast<int64_t>(c.u64());
    d.max = static_cast<int64_t>(c.u64());
    x.duration = d;
  } else {
    c.u64();
    c.u64();
  }
  if (c.u32() != 0) {
    x.max_severity = static_cast<int64_t>(c.u64());
  } else {
    c.u64();
  }
  if (version >= 2) {
    const uint32_t n = c.u32();
    if (n != kNotRecorded) {
      if (n > kMaxOperations) return absl::DataLossError("malformed file index");
      std::vector<IndexedOperation> ops;
      ops.reserve(n);
      for (uint32_t i = 0; i < n && c.ok; ++i) {
        IndexedOperation op;
        op.service = c.bytes(c.u32());
        op.name = c.bytes(c.u32());
        op.kind = static_cast<int32_t>(c.u32());
        ops.push_back(std::move(op));
      }
      x.operations = std::move(ops);
    }
  }
  if (!c.ok || !c.in.empty()) return absl::DataLossError("malformed file index");
  if (!x.trace_bloom.empty() && (x.trace_bloom_hashes == 0 || x.trace_bloom_hashes > 32)) {
    return absl::DataLossError("bad bloom filter in file index");
  }
  return x;
}

absl::Status writeFileIndex(const std::string& arrow_path, FileIndex index, bool sync) {
  struct stat st;
  if (::stat(arrow_path.c_str(), &st) != 0) {
    return absl::UnavailableError(strCat("cannot stat ", arrow_path, ": ", std::strerror(errno)));
  }
  index.file_size = static_cast<uint64_t>(st.st_size);
  index.file_mtime_ns = mtimeNs(st);
  index.file_inode = static_cast<uint64_t>(st.st_ino);
  index.file_name = baseName(arrow_path);
  const std::string bytes = encodeFileIndex(index);
  const std::string final_path = indexPathFor(arrow_path);
  const std::string tmp = strCat(final_path, ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(strCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  bool ok = true;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (ok && sync && ::fsync(fd) != 0) ok = false;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return absl::UnavailableError(strCat("cannot write ", final_path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

namespace {

// Decoded indexes by index path, with the index file's identity when it was read: a query over a
// store of thousands of files (a week of 10-minute files) otherwise reads and decodes every
// index again on every request (~50 µs each). Sealed files and their indexes never change in
// place (a repair removes the index, retention deletes both), and an entry is used only while
// the index file still has the size, mtime and inode it had.
class IndexCache {
 public:
  std::shared_ptr<const FileIndex> find(const std::string& path, const struct stat& st) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.size != static_cast<uint64_t>(st.st_size) ||
        it->second.mtime_ns != mtimeNs(st) ||
        it->second.inode != static_cast<uint64_t>(st.st_ino)) {
      return nullptr;
    }
    return it->second.index;
  }
  void put(const std::string& path, const struct stat& st, std::shared_ptr<const FileIndex> x) {
    const size_t bytes = x->trace_bloom.size() + 512 + path.size();
    std::lock_guard lock(mu_);
    // Bounded: forgets everything past the limit (entries of deleted files go then too).
    if (bytes_ + bytes > kMaxBytes || entries_.size() >= kMaxEntries) {
      entries_.clear();
      bytes_ = 0;
    }
    auto [it, inserted] = entries_.insert_or_assign(
        path, Entry{static_cast<uint64_t>(st.st_size), mtimeNs(st),
                    static_cast<uint64_t>(st.st_ino), std::move(x), bytes});
    (void)it;
    (void)inserted;
    bytes_ += bytes;
  }

 private:
  static constexpr size_t kMaxBytes = 64u << 20;
  static constexpr size_t kMaxEntries = 16384;
  struct Entry {
    uint64_t size;
    int64_t mtime_ns;
    uint64_t inode;
    std::shared_ptr<const FileIndex> index;
    size_t bytes;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  size_t bytes_ = 0;
};

IndexCache& indexCache() {
  static IndexCache* cache = new IndexCache();  // never destroyed: used until exit
  return *cache;
}

// The whole file in one read() (an istreambuf_iterator copy goes byte by byte).
bool readSmallFile(int fd, size_t size, std::string& out) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const FileIndex>> loadFileIndexShared(const std::string& arrow_path,
                                                                     pipeline::Signal signal) {
  const std::string path = indexPathFor(arrow_path);
  struct stat ist;
  std::shared_ptr<const FileIndex> x;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(strCat("no index ", path));
    if (::fstat(fd, &ist) != 0) {
      ::close(fd);
      return absl::NotFoundError(strCat("cannot stat ", path));
    }
    x = indexCache().find(path, ist);
    if (x == nullptr) {
      std::string bytes;
      const bool read = readSmallFile(fd, static_cast<size_t>(ist.st_size), bytes);
      ::close(fd);
      if (!read) return absl::DataLossError(strCat(path, ": cannot read"));
      auto decoded = decodeFileIndex(bytes);
      if (!decoded.ok()) return absl::DataLossError(strCat(path, ": ", decoded.status().message()));
      x = std::make_shared<const FileIndex>(*std::move(decoded));
      indexCache().put(path, ist, x);
    } else {
      ::close(fd);
    }
  }
  struct stat st;
  if (::stat(arrow_path.c_str(), &st) != 0) {
    return absl::NotFoundError(strCat("cannot stat ", arrow_path));
  }
  if (x->signal != signal || x->file_name != baseName(arrow_path) ||
      x->file_size != static_cast<uint64_t>(st.st_size) || x->file_mtime_ns != mtimeNs(st) ||
      x->file_inode != static_cast<uint64_t>(st.st_ino)) {
    return absl::DataLossError(strCat(path, ": stale (the file changed after it was indexed)"));
  }
  return x;
}

absl::StatusOr<FileIndex> loadFileIndex(const std::string& arrow_path, pipeline::Signal signal) {
  auto x = loadFileIndexShared(arrow_path, signal);
  if (!x.ok()) return x.status();
  return **x;
}

FileIndexBuilder::FileIndexBuilder(pipeline::Signal signal) : signal_(signal) {
  reset();
}

void FileIndexBuilder::reset() {
  index_ = FileIndex{};
  index_.signal = signal_;
  services_used_.clear();
  names_used_.clear();
  operations_used_.clear();
  operations_overflow_ = false;
  trace_hashes_.clear();
  trace_overflow_ = false;
}

void FileIndexBuilder::markDictionary(const Column& c, std::vector<bool>& used) {
  const std::string_view idx = c.valuesView();
  for (size_t row = 0; row < c.length(); ++row) {
    if (c.isNull(row)) continue;
    int32_t i;
    std::memcpy(&i, idx.data() + row * 4, 4);
    if (i < 0) continue;
    if (static_cast<size_t>(i) >= used.size()) used.resize(static_cast<size_t>(i) + 1, false);
    used[static_cast<size_t>(i)] = true;
  }
}

void FileIndexBuilder::addOperations(const ColumnTable& t) {
  const Column& service = t.column(span_col::kServiceName);
  const Column& name = t.column(span_col::kName);
  const Column& kind = t.column(kSpanKindColumn);
  const std::string_view service_idx = service.valuesView();
  const std::string_view name_idx = name.valuesView();
  uint64_t last = ~uint64_t{0};
  const size_t before = operations_used_.size();
  for (size_t row = 0; row < t.rows(); ++row) {
    int32_t s = -1, n = -1;
    if (!service.isNull(row)) std::memcpy(&s, service_idx.data() + row * 4, 4);
    if (!name.isNull(row)) std::memcpy(&n, name_idx.data() + row * 4, 4);
    // A null or out-of-range value cannot be named in the index: record nothing for the file.
    const int64_t k = kind.intAt(row);
    if (s < 0 || n < 0 || s >= (1 << 24) || k < 0 || k > 255) {
      operations_overflow_ = true;
      break;
    }
    const uint64_t key = (static_cast<uint64_t>(s) << 40) | (static_cast<uint64_t>(n) << 8) |
                         static_cast<uint64_t>(k);
    if (key == last) continue;  // spans of one request repeat their service and often name
    last = key;
    operations_used_.push_back(key);
  }
  if (!operations_overflow_ && operations_used_.size() > before) {
    std::sort(operations_used_.begin(), operations_used_.end());
    operations_used_.erase(std::unique(operations_used_.begin(), operations_used_.end()),
                           operations_used_.end());
    if (operations_used_.size() > kMaxOperations) operations_overflow_ = true;
  }
  if (operations_overflow_) {
    operations_used_.clear();
    operations_used_.shrink_to_fit();
  }
}

void FileIndexBuilder::addBatch(const ColumnTable& t, const TimeRange& range,
                                const std::vector<uint64_t>* trace_hashes) {
  const size_t rows = t.rows();
  if (rows == 0) return;
  index_.rows += rows;
  ++index_.batches;
  index_.time.add(range.min);
  index_.time.add(range.max);
  if (auto c = serviceColumn(signal_)) markDictionary(t.column(*c), services_used_);
  if (auto c = nameColumn(signal_)) markDictionary(t.column(*c), names_used_);
  if (traceColumn(signal_) && !trace_overflow_) {
    if (trace_hashes != nullptr) {
      trace_hashes_.insert(trace_hashes_.end(), trace_hashes->begin(), trace_hashes->end());
    } else {
      const std::vector<uint64_t> hashes = batchTraceHashes(t, signal_);
      trace_hashes_.insert(trace_hashes_.end(), hashes.begin(), hashes.end());
    }
    if (trace_hashes_.size() > kMaxTraceHashes) {
      std::sort(trace_hashes_.begin(), trace_hashes_.end());
      trace_hashes_.erase(std::unique(trace_hashes_.begin(), trace_hashes_.end()),
                          trace_hashes_.end());
      if (trace_hashes_.size() > kMaxTraceHashes / 2) {
        trace_overflow_ = true;
        trace_hashes_.clear();
        trace_hashes_.shrink_to_fit();
      }
    }
  }
  if (signal_ == pipeline::Signal::kTraces && !operations_overflow_) addOperations(t);
  if (signal_ == pipeline::Signal::kTraces) {
    const Column& d = t.column(span_col::kDuration);
    TimeRange dr = index_.duration.value_or(TimeRange{});
    for (size_t row = 0; row < rows; ++row) dr.add(d.intAt(row));
    index_.duration = dr;
  }
  if (signal_ == pipeline::Signal::kLogs) {
    const Column& s = t.column(log_col::kSeverityNumber);
    int64_t m = index_.max_severity.value_or(std::numeric_limits<int64_t>::min());
    for (size_t row = 0; row < rows; ++row) m = std::max(m, s.intAt(row));
    index_.max_severity = m;
  }
}

namespace {
std::optional<std::vector<std::string>> usedValues(const Column& c, const std::vector<bool>& used) {
  const Dictionary* d = c.dictionary();
  if (d == nullptr) return std::nullopt;
  std::vector<std::string> out;
  size_t bytes = 0;
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) continue;
    if (i >= d->size()) return std::nullopt;  // cannot happen; never under-report
    out.emplace_back(d->at(i));
    bytes += out.back().size();
    if (out.size() > kMaxSetValues || bytes > kMaxSetBytes) return std::nullopt;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
}  // namespace

std::optional<std::vector<IndexedOperation>> FileIndexBuilder::operationsUsed(
    const ColumnTable& t) const {
  const Dictionary* services = t.column(span_col::kServiceName).dictionary();
  const Dictionary* names = t.column(span_col::kName).dictionary();
  if (services == nullptr || names == nullptr) return std::nullopt;
  std::vector<IndexedOperation> out;
  out.reserve(operations_used_.size());
  size_t bytes = 0;
  for (uint64_t key : operations_used_) {
    const size_t s = static_cast<size_t>(key >> 40);
    const size_t n = static_cast<size_t>((key >> 8) & 0xffffffffu);
    if (s >= services->size() || n >= names->size()) return std::nullopt;  // never under-report
    out.push_back({std::string(services->at(s)), std::string(names->at(n)),
                   static_cast<int32_t>(key & 0xff)});
    bytes += out.back().service.size() + out.back().name.size();
    if (bytes > kMaxOperationBytes) return std::nullopt;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

FileIndex FileIndexBuilder::finish(const ColumnTable& t) {
  FileIndex x = index_;
  if (auto c = serviceColumn(signal_)) x.services = usedValues(t.column(*c), services_used_);
  if (auto c = nameColumn(signal_)) x.names = usedValues(t.column(*c), names_used_);
  if (signal_ == pipeline::Signal::kTraces && !operations_overflow_) {
    x.operations = operationsUsed(t);
  }
  if (traceColumn(signal_) && !trace_overflow_) {
    x.trace_bloom = bloomOf(trace_hashes_, 64);
    x.trace_bloom_hashes = kBloomHashes;
  }
  return x;
}

std::vector<uint64_t> batchTraceHashes(const ColumnTable& t, pipeline::Signal signal) {
  std::vector<uint64_t> hashes;
  const auto c = traceColumn(signal);
  if (!c || *c >= t.columnCount()) return hashes;
  const Column& col = t.column(*c);
  hashes.reserve(t.rows());
  uint64_t last = 0;
  bool have_last = false;
  for (size_t row = 0; row < t.rows(); ++row) {
    if (col.isNull(row)) continue;
    const uint64_t h = traceIdHash(col.bytesAt(row));
    if (have_last && h == last) continue;  // spans of one trace come together
    hashes.push_back(h);
    last = h;
    have_last = true;
  }
  return hashes;
}

std::string batchTraceBloom(const std::vector<uint64_t>& trace_hashes) {
  // Not sorted to drop the ids that repeat apart from each other (~0.7% of the store's CPU at
  // saturation, issue #18): they only make the filter a little larger.
  if (trace_hashes.empty()) return {};
  return bloomOfHashes(trace_hashes, 16);
}

std::string batchTraceBloom(const ColumnTable& t, pipeline::Signal signal) {
  return batchTraceBloom(batchTraceHashes(t, signal));
}

}  // namespace otlpd::store
