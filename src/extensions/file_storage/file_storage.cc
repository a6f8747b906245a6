#include "extensions/file_storage/file_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/strings.h"
#include "pipeline/storage.h"

namespace otlpd::extensions::file_storage {
namespace {

namespace fs = std::filesystem;

struct CompactionConfig {
  bool on_start = false;
  bool on_rebound = false;
  std::string directory;  // defaults to the storage directory
  int64_t rebound_needed_threshold_mib = 100;
  int64_t rebound_trigger_threshold_mib = 10;
  int64_t max_transaction_size = 65536;
  absl::Duration check_interval = absl::Seconds(5);
  bool cleanup_on_start = false;
};

struct Config {
  std::string directory = "/var/lib/otelcol/file_storage";
  absl::Duration timeout = absl::Seconds(1);
  bool fsync = false;
  bool create_directory = false;
  mode_t directory_permissions = 0750;
  CompactionConfig compaction;
};

// mkdir -p with `mode` for the directories it creates (minus the umask, as the Collector's).
absl::Status makeDirectories(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return absl::OkStatus();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (auto st = makeDirectories(dir.parent_path(), mode); !st.ok()) return st;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        strCat("file_storage: cannot create ", dir.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

class FileStorage final : public pipeline::Extension, public pipeline::StorageExtension {
 public:
  FileStorage(std::string id, Config config) : id_(std::move(id)), config_(std::move(config)) {}
  ~FileStorage() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    // The compaction directory is looked at only where compaction is asked for, as the
    // Collector validates it.
    std::vector<std::string> dirs = {config_.directory};
    if (config_.compaction.on_start || config_.compaction.on_rebound) {
      dirs.push_back(config_.compaction.directory);
    }
    for (const std::string& dir : dirs) {
      std::error_code ec;
      if (fs::is_directory(dir, ec)) continue;
      if (!config_.create_directory) {
        return absl::FailedPreconditionError(
            strCat("file_storage: directory ", dir,
                   " does not exist (create it, or set create_directory: true)"));
      }
      if (auto st = makeDirectories(dir, config_.directory_permissions); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    std::lock_guard lock(mu_);
    for (auto& [path, fd] : locks_) ::close(fd);
    locks_.clear();
    return absl::OkStatus();
  }

  // The client directory, locked against a second process using it (bbolt's file lock in the
  // Collector, waited for up to `timeout`).
  absl::StatusOr<std::string> clientDirectory(pipeline::ComponentKind kind,
                                              const pipeline::ComponentId& owner,
                                              std::string_view client_name) override {
    const fs::path dir =
        fs::path(config_.directory) / pipeline::storageClientName(kind, owner, client_name);
    std::lock_guard lock(mu_);
    if (locks_.count(dir.string()) != 0) return dir.string();
    // Client directories are private to the process, as the Collector makes them (0700).
    if (auto st = makeDirectories(dir, 0700); !st.ok()) return st;
    const std::string lock_path = (dir / "LOCK").string();
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::UnavailableError(
          strCat("file_storage: cannot open ", lock_path, ": ", std::strerror(errno)));
    }
    const absl::Time deadline = absl::Now() + config_.timeout;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK || absl::Now() >= deadline) {
        ::close(fd);
        return absl::UnavailableError(strCat("file_storage: ", dir.string(),
                                             " is in use by another process (waited ",
                                             absl::FormatDuration(config_.timeout), ")"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    locks_[dir.string()] = fd;
    return dir.string();
  }

  bool fsyncEachWrite() const override { return config_.fsync; }

 private:
  std::string id_;
  Config config_;
  std::mutex mu_;
  std::map<std::string, int> locks_;  // client directory → its LOCK file, flock'ed
};

class FileStorageFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "file_storage"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    Config c;
    c.directory = config.getString("directory", c.directory);
    if (c.directory.empty()) config.addError("directory", "must not be empty");
    c.timeout = config.getDuration("timeout", c.timeout);
    if (c.timeout < absl::ZeroDuration()) config.addError("timeout", "must not be negative");
    c.fsync = config.getBool("fsync", c.fsync);
    c.create_directory = config.getBool("create_directory", c.create_directory);
    const std::string permissions = config.getString("directory_permissions", "0750");
    char* end = nullptr;
    const unsigned long mode = std::strtoul(permissions.c_str(), &end, 8);
    if (permissions.empty() || *end != '\0' || mode > 07777) {
      config.addError("directory_permissions", "must be octal permissions such as 0750");
    } else {
      c.directory_permissions = static_cast<mode_t>(mode);
    }
    config::ConfigNode compaction = config.child("compaction");
    CompactionConfig& k = c.compaction;
    k.on_start = compaction.getBool("on_start", k.on_start);
    k.on_rebound = compaction.getBool("on_rebound", k.on_rebound);
    k.directory = compaction.getString("directory", c.directory);
    if (k.directory.empty()) k.directory = c.directory;
    k.rebound_needed_threshold_mib =
        compaction.getInt("rebound_needed_threshold_mib", k.rebound_needed_threshold_mib, 0);
    k.rebound_trigger_threshold_mib =
        compaction.getInt("rebound_trigger_threshold_mib", k.rebound_trigger_threshold_mib, 0);
    k.max_transaction_size = compaction.getInt("max_transaction_size", k.max_transaction_size, 0);
    k.check_interval = compaction.getDuration("check_interval", k.check_interval);
    if (k.check_interval <= absl::ZeroDuration()) {
      compaction.addError("check_interval", "must be positive");
    }
    k.cleanup_on_start = compaction.getBool("cleanup_on_start", k.cleanup_on_start);
    compaction.rejectUnknownKeys();
    if (k.on_start || k.on_rebound) {
      // Segments are deleted whole once every record in them is delivered, so the space is
      // given back without compaction.
      logging::info(
          "file_storage: compaction is not needed here (segments are deleted when "
          "delivered); compaction settings are ignored",
          {{"extension", settings.id.toString()}});
    }
    return std::make_unique<FileStorage>(settings.id.toString(), std::move(c));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeFileStorageFactory() {
  return std::make_unique<FileStorageFactory>();
}

}  // namespace otlpd::extensions::file_storage
