// `durability: sync` in the store: syncAppended() returns once the rows appended before it are
// in the file (written and fdatasync'ed), whoever of the concurrent callers did the write.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "otlpd/store/reader.h"
#include "store/signal_store.h"
#include "store_test_data.h"
#include "store_test_support.h"

namespace otlpd::store {
namespace {

using pipeline::Signal;
using testing::FakeClock;
using testing::TempDir;

size_t spansIn(const otlp::TracesRequest& req) {
  size_t n = 0;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += static_cast<size_t>(ss.spans_size());
  }
  return n;
}

size_t rowsInStore(const std::string& dir) {
  size_t rows = 0;
  StoreReader reader(dir);
  const std::string error = reader.scan({}, [&](std::string_view bytes) {
    otlp::TracesRequest req;
    EXPECT_TRUE(req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    rows += spansIn(req);
    return true;
  });
  EXPECT_EQ(error, "");
  return rows;
}

TEST(StoreDurabilityTest, SyncAppendedMakesEveryEarlierAppendReadable) {
  TempDir tmp("otlpd-store-sync");
  FakeClock clock;
  for (FsyncPolicy fsync : {FsyncPolicy::kBatch, FsyncPolicy::kRotate}) {
    StoreOptions o;
    o.directory = tmp.path() + (fsync == FsyncPolicy::kBatch ? "/batch" : "/rotate");
    o.fsync = fsync;
    auto s = SignalStore::open(Signal::kTraces, o, &clock);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->append(testing::richTraces(3)).ok());
    ASSERT_TRUE((*s)->append(testing::richTraces(2)).ok());
    EXPECT_EQ(rowsInStore(o.directory), 0u) << "pending until a flush or a sync";
    ASSERT_TRUE((*s)->syncAppended().ok());
    EXPECT_EQ((*s)->pendingRows(), 0u);
    EXPECT_EQ(rowsInStore(o.directory),
              spansIn(testing::richTraces(3)) + spansIn(testing::richTraces(2)));
    // Nothing appended since: no write.
    const uint64_t batches = (*s)->stats().batches_written;
    ASSERT_TRUE((*s)->syncAppended().ok());
    EXPECT_EQ((*s)->stats().batches_written, batches);
  }
}

TEST(StoreDurabilityTest, ConcurrentCallersEachFindTheirRowsWritten) {
  TempDir tmp("otlpd-store-sync");
  FakeClock clock;
  StoreOptions o;
  o.directory = tmp.path();
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kThreads = 8, kRounds = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (!(*s)->append(testing::richTraces(4)).ok() || !(*s)->syncAppended().ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*s)->pendingRows(), 0u);
  EXPECT_EQ(rowsInStore(tmp.path()), size_t{kThreads * kRounds} * spansIn(testing::richTraces(4)));
  // Never more rounds than syncs asked for (a round covers every caller waiting for it).
  EXPECT_LE((*s)->syncRounds(), uint64_t{kThreads * kRounds});
  EXPECT_LE((*s)->stats().batches_written, (*s)->syncRounds());
}

}  // namespace
}  // namespace otlpd::store
