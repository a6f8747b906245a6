#include "exporters/file/file_exporter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/compression.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "pipeline/batch_json.h"

namespace otlpd::exporters::file {
namespace {

namespace fs = std::filesystem;

// ---- Encoding: what one batch becomes in the file (pure) ----

// Records are framed as the Collector's file exporter frames them: OTLP/JSON without compression
// is one line per batch; anything else (protobuf, or compressed JSON) is a 4-byte big-endian
// length, then that many bytes.
bool lineFramed(const FileExporterOptions& options) {
  return options.format == FileFormat::kJson && !options.zstd;
}

absl::Status appendRecord(const pipeline::Batch& batch, const FileExporterOptions& options,
                          std::string& out) {
  std::string encoded;
  if (options.format == FileFormat::kJson) {
    pipeline::appendBatchJson(batch, encoded);
  } else if (std::optional<std::string_view> wire = batch.wireBytes()) {
    encoded.assign(*wire);
  } else if (!batch.request().SerializeToString(&encoded)) {
    return absl::InternalError("the batch does not serialize");
  }
  if (options.zstd) {
    absl::StatusOr<std::string> compressed = common::compress(common::Compression::kZstd, encoded);
    if (!compressed.ok()) return compressed.status();
    encoded = *std::move(compressed);
  }
  if (lineFramed(options)) {
    out.append(encoded);
    out.push_back('\n');
    return absl::OkStatus();
  }
  if (encoded.size() > UINT32_MAX) return absl::InvalidArgumentError("record over 4 GiB");
  const auto n = static_cast<uint32_t>(encoded.size());
  const char prefix[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  out.append(prefix, 4);
  out.append(encoded);
  return absl::OkStatus();
}

// ---- group_by: one request per value of a resource attribute (pure) ----

template <typename ResourceEntry>
std::optional<std::string> pathSegmentOf(const ResourceEntry& entry, const std::string& attribute) {
  for (const auto& kv : entry.resource().attributes()) {
    if (kv.key() == attribute) {
      // Only a string names a file, as in the Collector.
      if (kv.value().value_case() == kv.value().kStringValue) return kv.value().string_value();
      return std::nullopt;
    }
  }
  return std::nullopt;
}

struct Groups {
  std::map<std::string, pipeline::Batch> batches;  // by path segment, in a stable order
  size_t dropped_items = 0;
};

template <typename Entries, typename AddEntry>
void groupEntries(pipeline::Signal signal, const Entries& entries, const std::string& attribute,
                  AddEntry add_entry, Groups& groups) {
  for (const auto& entry : entries) {
    std::optional<std::string> segment = pathSegmentOf(entry, attribute);
    if (!segment) {
      pipeline::Batch alone = pipeline::Batch::create(signal);
      add_entry(alone) = entry;
      groups.dropped_items += alone.itemCount();
      continue;
    }
    auto [it, inserted] = groups.batches.try_emplace(*segment, pipeline::Batch::create(signal));
    add_entry(it->second) = entry;
  }
}

Groups groupByResourceAttribute(const pipeline::Batch& batch, const std::string& attribute) {
  Groups groups;
  switch (batch.signal()) {
    case pipeline::Signal::kTraces:
      groupEntries(
          batch.signal(), batch.traces().resource_spans(), attribute,
          [](pipeline::Batch & b) -> auto& { return *b.mutableTraces().add_resource_spans(); },
          groups);
      break;
    case pipeline::Signal::kMetrics:
      groupEntries(
          batch.signal(), batch.metrics().resource_metrics(), attribute,
          [](pipeline::Batch & b) -> auto& { return *b.mutableMetrics().add_resource_metrics(); },
          groups);
      break;
    case pipeline::Signal::kLogs:
      groupEntries(
          batch.signal(), batch.logs().resource_logs(), attribute,
          [](pipeline::Batch & b) -> auto& { return *b.mutableLogs().add_resource_logs(); },
          groups);
      break;
  }
  return groups;
}

// ---- Files (the adapter) ----

std::string errnoText(std::string_view what, const std::string& path) {
  return strCat(what, " ", path, ": ", std::strerror(errno));
}

// "data.json" rotated at 2022-09-14 05:02:14.173 becomes "data-2022-09-14T05-02-14.173.json", the
// backup name the Collector's file exporter (lumberjack) gives; without an extension the time
// goes at the end.
struct BackupName {
  fs::path directory;
  std::string stem;       // "data-"
  std::string extension;  // ".json"
};

BackupName backupNameOf(const std::string& path) {
  const fs::path p(path);
  const std::string file = p.filename().string();
  const size_t dot = file.rfind('.');
  const bool has_extension = dot != std::string::npos && dot != 0;
  return BackupName{p.parent_path().empty() ? fs::path(".") : p.parent_path(),
                    strCat(has_extension ? file.substr(0, dot) : file, "-"),
                    has_extension ? file.substr(dot) : std::string()};
}

constexpr std::string_view kBackupTimeFormat = "%Y-%m-%dT%H-%M-%S";  // then ".mmm"
constexpr size_t kBackupTimeLength = 23;                             // 2022-09-14T05-02-14.173

std::string backupTime(std::chrono::system_clock::time_point now, bool localtime) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  if (localtime) {
    localtime_r(&seconds, &parts);
  } else {
    gmtime_r(&seconds, &parts);
  }
  char text[32];
  const size_t n = std::strftime(text, sizeof text, std::string(kBackupTimeFormat).c_str(), &parts);
  return absl::StrFormat("%s.%03d", std::string_view(text, n), static_cast<int>(millis));
}

// One open output file. Pipelines of several signals may name the same exporter, and a grouped
// exporter may meet the same path twice: they share one FileSink (one descriptor, one lock) so
// records never interleave.
class FileSink {
 public:
  static absl::StatusOr<std::shared_ptr<FileSink>> open(const std::string& path,
                                                        const FileExporterOptions& options) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<FileSink>> open_files;
    // `append: false` truncates a file when this process first opens it, as the Collector does at
    // start; a reopen after a config reload appends, so a reload never loses what was written.
    static std::set<std::string> truncated;
    std::lock_guard lock(registry_mutex);
    if (auto existing = open_files[path].lock()) return existing;
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
    // With rotation the Collector appends to what is there (lumberjack); without, `append` rules.
    if (!options.rotation && !options.append && truncated.insert(path).second) flags |= O_TRUNC;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return absl::UnavailableError(errnoText("cannot open", path));
    struct stat st {};
    const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    auto sink = std::shared_ptr<FileSink>(new FileSink(path, fd, size, options.rotation));
    open_files[path] = sink;
    return sink;
  }

  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  ~FileSink() {
    if (fd_ >= 0) ::close(fd_);
  }

  // One write() per record where the kernel takes it whole (a reader never sees half a record
  // unless the disk fills up).
  absl::Status write(std::string_view record) {
    std::lock_guard lock(mutex_);
    if (rotation_ && size_ > 0 &&
        size_ + record.size() > static_cast<uint64_t>(rotation_->max_megabytes) << 20) {
      if (absl::Status s = rotateLocked(); !s.ok()) return s;
    }
    if (fd_ < 0) return absl::UnavailableError(strCat("no open file for ", path_));
    while (!record.empty()) {
      const ssize_t n = ::write(fd_, record.data(), record.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(errnoText("cannot write", path_));
      }
      record.remove_prefix(static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

 private:
  FileSink(std::string path, int fd, uint64_t size, std::optional<FileRotation> rotation)
      : path_(std::move(path)), fd_(fd), size_(size), rotation_(rotation) {}

  absl::Status rotateLocked() {
    const BackupName name = backupNameOf(path_);
    const std::string backup =
        (name.directory / strCat(name.stem,
                                 backupTime(std::chrono::system_clock::now(), rotation_->localtime),
                                 name.extension))
            .string();
    if (::rename(path_.c_str(), backup.c_str()) != 0) {
      return absl::UnavailableError(errnoText("cannot rotate", path_));
    }
    ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    size_ = 0;
    rotations_.fetch_add(1, std::memory_order_relaxed);
    removeOldBackups(name);
    if (fd_ < 0) return absl::UnavailableError(errnoText("cannot reopen", path_));
    return absl::OkStatus();
  }

  // Keeps the newest `max_backups` (0: all) backups, none older than `max_days` (0: any age),
  // judged by the time in their names, as lumberjack does.
  void removeOldBackups(const BackupName& name) const {
    std::vector<std::pair<std::string, fs::path>> backups;  // (time text, path)
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(name.directory, ec)) {
      const std::string file = entry.path().filename().string();
      if (file.size() != name.stem.size() + kBackupTimeLength + name.extension.size() ||
          !file.starts_with(name.stem) || !file.ends_with(name.extension)) {
        continue;
      }
      backups.emplace_back(file.substr(name.stem.size(), kBackupTimeLength), entry.path());
    }
    // The time format sorts as text.
    std::sort(backups.begin(), backups.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    const std::string oldest_kept =
        rotation_->max_days > 0 ? backupTime(std::chrono::system_clock::now() -
                                                 std::chrono::hours(24) * rotation_->max_days,
                                             rotation_->localtime)
                                : std::string();
    for (size_t i = 0; i < backups.size(); ++i) {
      const bool too_many =
          rotation_->max_backups > 0 && i >= static_cast<size_t>(rotation_->max_backups);
      const bool too_old = !oldest_kept.empty() && backups[i].first < oldest_kept;
      if (too_many || too_old) fs::remove(backups[i].second, ec);
    }
  }

  const std::string path_;
  std::mutex mutex_;
  int fd_;
  uint64_t size_;
  const std::optional<FileRotation> rotation_;
  std::atomic<uint64_t> rotations_{0};
};

// The path for one group: `path` with its `*` replaced by the segment, never outside the part
// before the `*` (a segment of "../../etc/x" stays under it).
std::string groupPath(const std::string& prefix, const std::string& suffix,
                      std::string_view segment) {
  if (segment.starts_with("./")) {
    segment.remove_prefix(1);
  } else if (segment.starts_with("../")) {
    segment.remove_prefix(2);
  }
  std::string joined = fs::path(strCat(prefix, segment, suffix)).lexically_normal().string();
  if (joined.starts_with(prefix)) return joined;
  const std::string rooted =
      fs::path(strCat("/", segment, suffix)).lexically_normal().relative_path().string();
  return (fs::path(prefix) / rooted).lexically_normal().string();
}

class FileExporter final : public pipeline::Exporter {
 public:
  FileExporter(const pipeline::CreateSettings& settings, FileExporterOptions options)
      : id_(settings.id.toString()),
        options_(std::move(options)),
        failures_(&settings.metrics.counter("otlpd_exporter_send_failed_requests_total",
                                            "Batches an exporter failed to deliver.",
                                            {{"exporter", id_}})),
        ungrouped_(&settings.metrics.counter(
            "otlpd_exporter_file_ungrouped_items_total",
            "Items a file exporter with group_by dropped: their resource has no string value "
            "for the grouping attribute.",
            {{"exporter", id_}})) {
    if (options_.group_by) {
      const size_t star = options_.path.find('*');
      group_prefix_ = options_.path.substr(0, star);
      group_suffix_ = options_.path.substr(star + 1);
    }
  }

  absl::Status start(pipeline::Host&) override {
    if (options_.create_directory) {
      const fs::path directory =
          fs::path(options_.group_by ? group_prefix_ : options_.path).parent_path();
      if (absl::Status s = createDirectory(directory); !s.ok()) return s;
    }
    if (options_.group_by) return absl::OkStatus();  // files open as their groups appear
    auto f = FileSink::open(options_.path, options_);
    if (!f.ok()) return f.status();
    file_ = *std::move(f);
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    file_.reset();
    std::lock_guard lock(groups_mutex_);
    group_files_.clear();
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    absl::Status s = options_.group_by ? consumeGrouped(batch) : writeBatch(*file_, batch);
    if (!s.ok()) {
      failures_->add();
      logging::error("file exporter write failed",
                     {{"exporter", id_}, {"path", options_.path}, {"error", s.ToString()}});
    }
    return s;
  }

 private:
  absl::Status writeBatch(FileSink& sink, const pipeline::Batch& batch) {
    thread_local std::string record;
    record.clear();
    if (absl::Status s = appendRecord(batch, options_, record); !s.ok()) return s;
    absl::Status s = sink.write(record);
    // A huge batch must not keep its buffer alive on this thread.
    if (record.capacity() > (size_t{16} << 20)) std::string().swap(record);
    return s;
  }

  absl::Status consumeGrouped(const pipeline::Batch& batch) {
    Groups groups = groupByResourceAttribute(batch, options_.group_attribute);
    if (groups.dropped_items > 0) {
      ungrouped_->add(groups.dropped_items);
      if (!warned_ungrouped_.exchange(true)) {
        logging::warn(
            "file exporter drops items whose resource lacks the group_by attribute "
            "(logged once; counted in otlpd_exporter_file_ungrouped_items_total)",
            {{"exporter", id_}, {"attribute", options_.group_attribute}});
      }
    }
    absl::Status first_error;
    for (const auto& [segment, group] : groups.batches) {
      absl::StatusOr<std::shared_ptr<FileSink>> sink = groupSink(segment);
      absl::Status s = sink.ok() ? writeBatch(**sink, group) : sink.status();
      if (!s.ok() && first_error.ok()) first_error = s;
    }
    return first_error;
  }

  // At most `max_open_files` group files stay open; the least recently used closes first.
  absl::StatusOr<std::shared_ptr<FileSink>> groupSink(const std::string& segment) {
    const std::string path = groupPath(group_prefix_, group_suffix_, segment);
    std::lock_guard lock(groups_mutex_);
    ++use_clock_;
    if (auto it = group_files_.find(path); it != group_files_.end()) {
      it->second.last_use = use_clock_;
      return it->second.sink;
    }
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    auto sink = FileSink::open(path, options_);
    if (!sink.ok()) return sink.status();
    if (group_files_.size() >= static_cast<size_t>(options_.max_open_files)) {
      auto oldest = std::min_element(
          group_files_.begin(), group_files_.end(),
          [](const auto& a, const auto& b) { return a.second.last_use < b.second.last_use; });
      group_files_.erase(oldest);
    }
    group_files_[path] = GroupFile{*sink, use_clock_};
    return *sink;
  }

  absl::Status createDirectory(const fs::path& directory) const {
    if (directory.empty()) return absl::OkStatus();
    std::error_code ec;
    if (fs::is_directory(directory, ec)) return absl::OkStatus();
    // Each level is made with the configured permissions (minus the umask), as the Collector does.
    fs::path partial;
    for (const fs::path& part : directory) {
      partial /= part;
      if (::mkdir(partial.c_str(), options_.directory_permissions) != 0 && errno != EEXIST) {
        return absl::UnavailableError(errnoText("cannot create directory", partial.string()));
      }
    }
    return absl::OkStatus();
  }

  struct GroupFile {
    std::shared_ptr<FileSink> sink;
    uint64_t last_use = 0;
  };

  std::string id_;
  FileExporterOptions options_;
  common::Counter* failures_;
  common::Counter* ungrouped_;
  std::atomic<bool> warned_ungrouped_{false};
  std::shared_ptr<FileSink> file_;
  std::string group_prefix_;
  std::string group_suffix_;
  std::mutex groups_mutex_;
  absl::flat_hash_map<std::string, GroupFile> group_files_;
  uint64_t use_clock_ = 0;
};

class FileExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "file"; }
  bool supports(pipeline::Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::Signal) const override {
    return std::make_unique<FileExporter>(settings, readFileExporterOptions(config));
  }
};

}  // namespace

FileExporterOptions readFileExporterOptions(config::ConfigNode& config) {
  FileExporterOptions o;
  o.path = config.getString("path", "");
  if (o.path.empty()) config.addError("path", "is required");
  o.append = config.getBool("append", false);
  const std::string format = config.getString("format", "json");
  if (format == "json") {
    o.format = FileFormat::kJson;
  } else if (format == "proto") {
    o.format = FileFormat::kProto;
  } else {
    config.addError("format", "must be json or proto");
  }
  const std::string compression = config.getString("compression", "");
  if (compression == "zstd") {
    o.zstd = true;
  } else if (!compression.empty()) {
    config.addError("compression", "only zstd is supported");
  }
  if (config.getYaml("encoding")) {
    config.addError("encoding", "encoding extensions are not supported; use format: json | proto");
  }
  // Every batch is written to the file as it arrives (one write per batch, nothing held in a
  // user-space buffer), which meets any interval; the key is read for Collector configs.
  o.flush_interval = config.getDuration("flush_interval", absl::Seconds(1));
  if (o.flush_interval < absl::ZeroDuration()) {
    config.addError("flush_interval", "must not be negative");
  }
  // `rotation:` with nothing under it turns rotation on with its defaults, as in the Collector.
  if (config.yaml().IsMap() && config.yaml()["rotation"].IsDefined()) {
    config::ConfigNode rotation = config.child("rotation");
    FileRotation r;
    r.max_megabytes = rotation.getInt("max_megabytes", 100, 1, 1 << 20);
    r.max_days = rotation.getInt("max_days", 0, 0, 1 << 20);
    r.max_backups = rotation.getInt("max_backups", 100, 0, 1 << 20);
    r.localtime = rotation.getBool("localtime", false);
    rotation.rejectUnknownKeys();
    o.rotation = r;
  }
  config::ConfigNode group_by = config.child("group_by");
  o.group_by = group_by.getBool("enabled", false);
  o.group_attribute = group_by.getString("resource_attribute", "fileexporter.path_segment");
  o.max_open_files = group_by.getInt("max_open_files", 100, 1, 1 << 20);
  group_by.rejectUnknownKeys();
  o.create_directory = config.getBool("create_directory", false);
  const std::string permissions = config.getString("directory_permissions", "");
  if (!permissions.empty()) {
    if (!o.create_directory) {
      config.addError("directory_permissions", "needs create_directory: true");
    }
    char* end = nullptr;
    const long mode = std::strtol(permissions.c_str(), &end, 8);
    if (end == permissions.c_str() || *end != '\0' || mode < 0 || (mode & ~0777L) != 0) {
      config.addError("directory_permissions", "must be an octal mode such as 0755");
    } else {
      o.directory_permissions = static_cast<uint32_t>(mode);
    }
  }

  if (o.append && o.zstd) config.addError("append", "cannot be combined with compression");
  if (o.append && o.rotation) config.addError("append", "cannot be combined with rotation");
  if (o.group_by) {
    const size_t star = o.path.find('*');
    if (star == std::string::npos || o.path.find('*', star + 1) != std::string::npos) {
      config.addError("path", "must contain exactly one * when group_by is enabled");
    } else if (star == 0) {
      config.addError("path", "must not start with * when group_by is enabled");
    }
    if (o.group_attribute.empty()) {
      config.addError("group_by.resource_attribute", "must not be empty when group_by is enabled");
    }
  }
  return o;
}

std::unique_ptr<pipeline::ExporterFactory> makeFileExporterFactory() {
  return std::make_unique<FileExporterFactory>();
}

}  // namespace otlpd::exporters::file
