#include "extensions/auth/file_watcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace otlpd::extensions::auth {
namespace {

namespace fs = std::filesystem;

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("otlpd-watch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  // The next contents the watcher handed over, waiting at most 5 s.
  std::optional<std::string> next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !seen_.empty(); })) {
      return std::nullopt;
    }
    std::string out = seen_.front();
    seen_.erase(seen_.begin());
    return out;
  }

  std::function<void(absl::StatusOr<std::string>)> recorder() {
    return [this](absl::StatusOr<std::string> contents) {
      std::lock_guard lock(mu_);
      seen_.push_back(contents.ok() ? *contents
                                    : "error: " + std::string(contents.status().message()));
      cv_.notify_all();
    };
  }

  fs::path dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> seen_;
};

TEST_F(FileWatcherTest, StartReadsAndChangesAreHandedOver) {
  const fs::path file = dir_ / "token";
  write(file, "one\n");
  FileWatcher watcher(file.string(), absl::Milliseconds(20), recorder());
  auto first = watcher.start();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "one\n");
  write(file, "two, longer\n");
  EXPECT_EQ(next(), "two, longer\n");
  // Replaced by a rename, as editors and Kubernetes do.
  write(dir_ / "token.new", "three\n");
  fs::rename(dir_ / "token.new", file);
  EXPECT_EQ(next(), "three\n");
  // Removed: the watcher says so (the owner keeps what it had), and sees it come back.
  fs::remove(file);
  EXPECT_EQ(next()->rfind("error: ", 0), 0u);
  write(file, "four\n");
  EXPECT_EQ(next(), "four\n");
  watcher.stop();
}

TEST_F(FileWatcherTest, MissingFileFailsStart) {
  FileWatcher watcher((dir_ / "absent").string(), absl::Milliseconds(20), recorder());
  auto first = watcher.start();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FileWatcherTest, OversizedFileIsRefused) {
  const fs::path file = dir_ / "big";
  write(file, std::string(2000, 'x'));
  auto read = readSecretFile(file.string(), 1000);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(readSecretFile(file.string(), 4000).ok());
}

}  // namespace
}  // namespace otlpd::extensions::auth
