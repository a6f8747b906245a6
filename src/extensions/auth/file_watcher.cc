#include "extensions/auth/file_watcher.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace otlpd::extensions::auth {

absl::StatusOr<std::string> readSecretFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(strCat("cannot open ", path));
  std::string contents;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    contents.append(buffer, static_cast<size_t>(in.gcount()));
    if (contents.size() > max_bytes) {
      return absl::InvalidArgumentError(strCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) return absl::DataLossError(strCat("cannot read ", path));
  return contents;
}

FileWatcher::FileWatcher(std::string path, absl::Duration interval,
                         std::function<void(absl::StatusOr<std::string>)> on_change)
    : path_(std::move(path)), interval_(interval), on_change_(std::move(on_change)) {}

FileWatcher::Version FileWatcher::versionOf(const std::string& path) {
  struct stat st {};
  Version v;
  if (::stat(path.c_str(), &st) != 0) return v;
  v.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  v.size = static_cast<int64_t>(st.st_size);
  v.inode = static_cast<uint64_t>(st.st_ino);
  v.device = static_cast<uint64_t>(st.st_dev);
  return v;
}

absl::StatusOr<std::string> FileWatcher::start() {
  seen_ = versionOf(path_);
  absl::StatusOr<std::string> contents = readSecretFile(path_);
  if (!contents.ok()) return contents.status();
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  return contents;
}

void FileWatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileWatcher::run() {
  std::unique_lock lock(mu_);
  while (
      !wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stopping_; })) {
    const Version now = versionOf(path_);
    if (now == seen_) continue;
    // A writer may still be at it: the change is taken once it has held still for a poll.
    if (!(now == changing_)) {
      changing_ = now;
      continue;
    }
    lock.unlock();
    absl::StatusOr<std::string> contents = readSecretFile(path_);
    const bool settled = versionOf(path_) == now;
    if (settled) on_change_(std::move(contents));
    lock.lock();
    if (settled) seen_ = now;
  }
}

}  // namespace otlpd::extensions::auth
