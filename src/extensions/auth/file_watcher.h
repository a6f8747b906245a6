// Watches a small file (a token file, an htpasswd file) and hands its new contents over when it
// changes. Polled by stat, so a file replaced by rename, or a Kubernetes Secret's symlink swap,
// is seen like a rewrite; a change is taken once it has held still for one poll (a file being
// written is not read half-way).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace otlpd::extensions::auth {

// Reads a whole file of at most `max_bytes`.
absl::StatusOr<std::string> readSecretFile(const std::string& path, size_t max_bytes = 1 << 20);

class FileWatcher {
 public:
  // `on_change` runs on the watcher's thread with the new contents (or why they could not be
  // read: the caller keeps what it had).
  FileWatcher(std::string path, absl::Duration interval,
              std::function<void(absl::StatusOr<std::string>)> on_change);
  ~FileWatcher() { stop(); }
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Reads the file once (its contents, for the caller to take before serving) and starts watching.
  absl::StatusOr<std::string> start();
  void stop();

 private:
  struct Version {
    int64_t mtime_ns = -1;
    int64_t size = -1;
    uint64_t inode = 0;
    uint64_t device = 0;
    friend bool operator==(const Version&, const Version&) = default;
  };
  static Version versionOf(const std::string& path);
  void run();

  std::string path_;
  absl::Duration interval_;
  std::function<void(absl::StatusOr<std::string>)> on_change_;
  Version seen_;      // what on_change_ last saw (or start() read)
  Version changing_;  // a new version seen once, taken if it still holds at the next poll
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace otlpd::extensions::auth
