// The persistent queue's durability modes: `sync` (group commit: an append returns once its
// record is fdatasync'ed, concurrent appends sharing the sync) and `interval` (written before the
// append returns, synced in the background), and the sending_queue keys that choose them.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "exporters/helper/config.h"
#include "exporters/helper/write_ahead_log.h"

namespace otlpd::exporters::helper {
namespace {

namespace fs = std::filesystem;

class WalDir {
 public:
  WalDir() {
    char tmpl[] = "/tmp/otlpd-wal-durability-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~WalDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint64_t walBytesOnDisk(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".wal") total += e.file_size();
  }
  return total;
}

TEST(WriteAheadLogDurability, ConcurrentSyncedAppendsAreAllKept) {
  WalDir dir;
  constexpr int kThreads = 8, kEach = 40;
  std::set<uint64_t> ids;
  {
    auto wal = WriteAheadLog::open(dir.path(), FsyncPolicy::kAlways, 4096);  // small segments
    ASSERT_TRUE(wal.ok()) << wal.status();
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto id = (*wal)->append(std::string(100, static_cast<char>('a' + t)));
          ASSERT_TRUE(id.ok()) << id.status();
          std::lock_guard lock(mu);
          ids.insert(*id);
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  EXPECT_EQ(ids.size(), size_t{kThreads * kEach});
  auto reopened = WriteAheadLog::open(dir.path(), FsyncPolicy::kNever);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->takeRecovered().size(), size_t{kThreads * kEach});
}

TEST(WriteAheadLogDurability, DeferredSyncsCallBackOnceEachAfterTheirRound) {
  WalDir dir;
  constexpr int kRecords = 50;
  std::atomic<int> synced{0}, failed{0};
  {
    auto wal = WriteAheadLog::open(dir.path(), FsyncPolicy::kAlways);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < kRecords; ++i) {
      auto id = (*wal)->appendThenSyncLater("record",
                                            [&](absl::Status s) { ++(s.ok() ? synced : failed); });
      ASSERT_TRUE(id.ok()) << id.status();
    }
    // Closing the log answers every waiter still waiting.
  }
  EXPECT_EQ(synced.load(), kRecords);
  EXPECT_EQ(failed.load(), 0);
  auto reopened = WriteAheadLog::open(dir.path(), FsyncPolicy::kNever);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->takeRecovered().size(), size_t{kRecords});
  // Without kAlways the callback comes at once, on the caller's thread.
  bool called = false;
  ASSERT_TRUE((*reopened)->appendThenSyncLater("x", [&](absl::Status s) { called = s.ok(); }).ok());
  EXPECT_TRUE(called);
}

TEST(WriteAheadLogDurability, IntervalWritesBeforeAppendReturns) {
  WalDir dir;
  auto wal = WriteAheadLog::open(dir.path(), FsyncPolicy::kInterval);
  ASSERT_TRUE(wal.ok()) << wal.status();
  ASSERT_TRUE((*wal)->append("alpha").ok());
  // In the file (the page cache) already: a crash of the process cannot lose it.
  EXPECT_EQ(walBytesOnDisk(dir.path()), 16u + 5u);
  wal->reset();
  auto reopened = WriteAheadLog::open(dir.path(), FsyncPolicy::kInterval);
  ASSERT_TRUE(reopened.ok());
  auto recovered = (*reopened)->takeRecovered();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].payload, "alpha");
}

HelperConfig parse(const std::string& yaml, std::string* errors) {
  config::ConfigErrors errs;
  config::ConfigNode node(YAML::Load(yaml), "exporters.x", errs);
  HelperConfig c = parseHelperConfig(node);
  node.rejectUnknownKeys();
  *errors = errs.toString();
  return c;
}

TEST(SendingQueueDurability, ChoosesThePolicyFromDurabilityFsyncOrTheExtension) {
  std::string errors;
  HelperConfig c = parse("sending_queue: { storage: /q }", &errors);
  EXPECT_EQ(errors, "");
  EXPECT_EQ(c.queue.fsync, FsyncPolicy::kAlways);  // the shorthand's default, as before
  EXPECT_FALSE(c.queue.durability.has_value());

  c = parse("sending_queue: { storage: /q, durability: interval }", &errors);
  EXPECT_EQ(errors, "");
  EXPECT_EQ(c.queue.durability, FsyncPolicy::kInterval);

  c = parse("sending_queue: { storage: file_storage/q, durability: sync }", &errors);
  EXPECT_EQ(errors, "");
  EXPECT_TRUE(c.queue.storage.empty());
  ASSERT_NE(c.queue.storage_extension, nullptr);
  EXPECT_EQ(c.queue.storage_extension->id.toString(), "file_storage/q");
  EXPECT_EQ(c.queue.durability, FsyncPolicy::kAlways);

  c = parse("sending_queue: { storage: file_storage }", &errors);
  EXPECT_EQ(errors, "");
  ASSERT_NE(c.queue.storage_extension, nullptr);
  EXPECT_EQ(c.queue.storage_extension->id.toString(), "file_storage");

  parse("sending_queue: { storage: /q, durability: soon }", &errors);
  EXPECT_NE(errors.find("exporters.x.sending_queue.durability"), std::string::npos) << errors;
  parse("sending_queue: { storage: /q, fsync: never, durability: sync }", &errors);
  EXPECT_NE(errors.find("sync needs fsync"), std::string::npos) << errors;
  parse("sending_queue: { storage: file_storage, fsync: always }", &errors);
  EXPECT_NE(errors.find("exporters.x.sending_queue.fsync"), std::string::npos) << errors;
}

}  // namespace
}  // namespace otlpd::exporters::helper
