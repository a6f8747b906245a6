#include "store/rollup_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "otlpd/store/reader.h"
#include "rollup_test_data.h"
#include "store/signal_store.h"
#include "store_test_support.h"

namespace otlpd::store {
namespace {

namespace fs = std::filesystem;
using testing::distributedTraces;
using testing::FakeClock;
using testing::ReferenceRollups;
using testing::TempDir;

constexpr int64_t kBase = 1'700'000'000'000'000'000;

StoreOptions options(const std::string& dir) {
  StoreOptions o;
  o.directory = dir;
  o.max_file_bytes = 64 << 10;  // rotates every few batches
  o.max_rows_per_batch = 1000000;
  o.fsync = FsyncPolicy::kNever;
  o.rollups.interval = absl::Minutes(1);
  return o;
}

// Everything readRollups gives for all minutes, summed per key.
RollupSegment readAll(const std::string& root, RollupReadStats* stats = nullptr) {
  RollupAccumulator acc;
  const std::string err = readRollups(
      root, INT64_MIN, INT64_MAX, [&](const RollupSegment& s) { acc.merge(s); }, stats,
      /*use_hours=*/false);
  EXPECT_EQ(err, "");
  return acc.segment();
}

// Counts must be exact; percentiles within 1%.
void expectEqualsReference(const RollupSegment& got, const ReferenceRollups& ref) {
  ASSERT_EQ(got.spans.size(), ref.spans.size());
  uint64_t calls = 0;
  for (const SpanRollup& r : got.spans) {
    auto it = ref.spans.find(
        {r.minute, got.strings[r.service], got.strings[r.operation], r.kind, r.status, r.root});
    ASSERT_NE(it, ref.spans.end());
    EXPECT_EQ(r.calls, it->second.calls);
    EXPECT_EQ(r.errors, it->second.errors);
    const auto exact =
        static_cast<double>(ReferenceRollups::exactQuantile(it->second.durations, 0.99));
    EXPECT_LE(std::abs(static_cast<double>(r.latency.quantile(0.99)) - exact), exact * 0.01 + 0.5);
    calls += r.calls;
  }
  EXPECT_GT(calls, 0u);
  std::map<std::tuple<int64_t, std::string, std::string>, std::pair<uint64_t, uint64_t>> edges;
  for (const EdgeRollup& e : got.edges) {
    edges[{e.minute, got.strings[e.parent], got.strings[e.child]}] = {e.calls, e.errors};
  }
  EXPECT_EQ(edges, ref.edges);
  EXPECT_FALSE(edges.empty());
}

// Appends `requests[begin, end)`, a flush every 8 requests and 10 s of clock per flush.
void feed(SignalStore& store, FakeClock& clock, const std::vector<otlp::TracesRequest>& requests,
          size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    ASSERT_TRUE(store.append(requests[i]).ok());
    if (i % 8 == 7) {
      clock.advance(absl::Seconds(10));
      ASSERT_TRUE(store.flush().ok());
    }
  }
  ASSERT_TRUE(store.flush().ok());
}

std::vector<std::string> rollupFiles(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(root) / "rollups", ec)) {
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RollupStore, EqualFullScanLiveAndAfterCloseAcrossRotation) {
  TempDir dir("rollups");
  FakeClock clock;
  const auto requests = distributedTraces(300, 5, kBase, 20);
  ReferenceRollups ref;
  ref.add(requests);
  auto store = SignalStore::open(pipeline::Signal::kTraces, options(dir.path()), &clock);
  ASSERT_TRUE(store.ok()) << store.status();
  feed(**store, clock, requests, 0, requests.size());
  EXPECT_GT((*store)->stats().files_sealed, 2u);  // rotated
  EXPECT_GT((*store)->stats().rollups.frames_written, 1u);
  {
    SCOPED_TRACE("live: frames plus the writer's rows in memory");
    RollupReadStats st;
    expectEqualsReference(readAll(dir.path(), &st), ref);
    EXPECT_TRUE(st.live);
    EXPECT_GT(st.frames_read, 0u);
  }
  ASSERT_TRUE((*store)->close().ok());
  store->reset();
  {
    SCOPED_TRACE("closed: frames only");
    RollupReadStats st;
    expectEqualsReference(readAll(dir.path(), &st), ref);
    EXPECT_FALSE(st.live);
    EXPECT_EQ(st.batches_replayed, 0u);
  }
}

// Readers find this process's writer by the store root resolved, so another spelling of the
// root (a trailing "/.", a symlink) still sees the rows not in files yet.
TEST(RollupStore, ALiveWriterIsFoundUnderAnySpellingOfItsRoot) {
  TempDir dir("rollups");
  FakeClock clock;
  const std::string link = dir.path() + "-link";
  fs::create_directory_symlink(dir.path(), link);
  const auto requests = distributedTraces(20, 3, kBase, 5);
  auto store = SignalStore::open(pipeline::Signal::kTraces, options(dir.path()), &clock);
  ASSERT_TRUE(store.ok()) << store.status();
  feed(**store, clock, requests, 0, requests.size());
  for (const std::string& root : {dir.path(), dir.path() + "/.", link}) {
    SCOPED_TRACE(root);
    RollupReadStats st;
    (void)readAll(root, &st);
    EXPECT_TRUE(st.live);
    EXPECT_TRUE(liveRollupSnapshot(root).has_value());
  }
  ASSERT_TRUE((*store)->close().ok());
  store->reset();
  RollupReadStats st;
  (void)readAll(link, &st);
  EXPECT_FALSE(st.live);
  EXPECT_FALSE(liveRollupSnapshot(link).has_value());
  fs::remove(link);
}

TEST(RollupStore, EqualFullScanAcrossRestarts) {
  TempDir dir("rollups");
  FakeClock clock;
  const auto requests = distributedTraces(200, 6, kBase, 10);
  ReferenceRollups ref;
  ref.add(requests);
  // Four requests per trace: restarts between traces keep every edge within one run.
  for (size_t part = 0; part < 4; ++part) {
    auto store = SignalStore::open(pipeline::Signal::kTraces, options(dir.path()), &clock);
    ASSERT_TRUE(store.ok()) << store.status();
    feed(**store, clock, requests, part * 200, (part + 1) * 200);
    ASSERT_TRUE((*store)->close().ok());
    EXPECT_EQ((*store)->stats().rollups.batches_replayed, 0u);
  }
  expectEqualsReference(readAll(dir.path()), ref);
}

// A copy of the directory of an open store is what kill -9 leaves behind: every write(2) done,
// nothing after it.
TEST(RollupStore, KillNineImageRecoversWithoutCountingTwiceOrLosing) {
  TempDir dir("rollups"), crashed("rollups-crash");
  FakeClock clock;
  const auto requests = distributedTraces(240, 8, kBase, 12);
  ReferenceRollups ref;
  ref.add(requests);
  StoreOptions o = options(dir.path());
  o.rollups.interval = absl::Seconds(45);  // frames lag the span files
  auto store = SignalStore::open(pipeline::Signal::kTraces, o, &clock);
  ASSERT_TRUE(store.ok());
  feed(**store, clock, requests, 0, 500);
  ASSERT_GT((*store)->stats().rollups.frames_written, 0u);
  fs::copy(dir.path(), crashed.path(), fs::copy_options::recursive);
  // And a frame cut short by the crash.
  {
    const auto files = rollupFiles(crashed.path());
    ASSERT_FALSE(files.empty());
    std::ofstream(files.back(), std::ios::app | std::ios::binary) << std::string("ORS1\x40\x00", 6);
  }
  {
    SCOPED_TRACE("read by another process: frames plus the span batches after the last one");
    ReferenceRollups first;
    first.add({requests.begin(), requests.begin() + 500});
    RollupReadStats st;
    expectEqualsReference(readAll(crashed.path(), &st), first);
    EXPECT_GT(st.batches_replayed, 0u);
  }
  StoreOptions c = o;
  c.directory = crashed.path();
  auto again = SignalStore::open(pipeline::Signal::kTraces, c, &clock);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->stats().rollups.files_repaired, 1u);
  EXPECT_GT((*again)->stats().rollups.batches_replayed, 0u);
  feed(**again, clock, requests, 500, requests.size());
  expectEqualsReference(readAll(crashed.path()), ref);
  ASSERT_TRUE((*again)->close().ok());
  again->reset();
  expectEqualsReference(readAll(crashed.path()), ref);
}

// One batch per request: a trace's four requests land in different batches, and frames fall
// between them. After kill -9, the batches past the last frame are replayed; a child there whose
// parent was in a batch before the frame must still find it (the joiner learns the spans of the
// batches before the frame again, without counting them), or its edge is lost.
TEST(RollupStore, KillNineImageKeepsEdgesWhoseParentIsBeforeTheLastFrame) {
  TempDir dir("rollups"), crashed("rollups-crash");
  FakeClock clock;
  const auto requests = distributedTraces(100, 8, kBase, 12);
  ReferenceRollups first;
  first.add({requests.begin(), requests.begin() + 300});
  StoreOptions o = options(dir.path());
  o.rollups.interval = absl::Seconds(45);
  auto store = SignalStore::open(pipeline::Signal::kTraces, o, &clock);
  ASSERT_TRUE(store.ok());
  for (size_t i = 0; i < 300; ++i) {
    ASSERT_TRUE((*store)->append(requests[i]).ok());
    clock.advance(absl::Seconds(7));  // a frame every seven batches: mid-trace, the last at 294
    ASSERT_TRUE((*store)->flush().ok());
  }
  ASSERT_GT((*store)->stats().rollups.frames_written, 0u);
  fs::copy(dir.path(), crashed.path(), fs::copy_options::recursive);
  StoreOptions c = o;
  c.directory = crashed.path();
  auto again = SignalStore::open(pipeline::Signal::kTraces, c, &clock);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT((*again)->stats().rollups.batches_replayed, 0u);
  ASSERT_TRUE((*again)->close().ok());
  again->reset();
  expectEqualsReference(readAll(crashed.path()), first);
}

TEST(RollupStore, OwnRetentionKeepsRollupsAfterSpansAreGone) {
  TempDir dir("rollups");
  FakeClock clock;
  StoreOptions o = options(dir.path());
  o.retention = absl::Hours(1);
  o.max_file_age = absl::Minutes(10);
  o.rollups.retention = absl::Hours(24);
  o.rollups.max_file_age = absl::Hours(1);
  auto store = SignalStore::open(pipeline::Signal::kTraces, o, &clock);
  ASSERT_TRUE(store.ok());
  const auto requests = distributedTraces(20, 9, kBase, 1);
  ReferenceRollups ref;
  ref.add(requests);
  feed(**store, clock, requests, 0, requests.size());
  clock.advance(absl::Minutes(2));
  ASSERT_TRUE((*store)->flush().ok());  // writes the frame
  // Three hours later the spans are gone and the rollups are still there.
  for (int i = 0; i < 18; ++i) {
    clock.advance(absl::Minutes(10));
    ASSERT_TRUE((*store)->flush().ok());
  }
  EXPECT_TRUE(StoreReader(dir.path()).files(StoredSignal::kTraces).empty());
  expectEqualsReference(readAll(dir.path()), ref);
  // A day and more later they are gone too.
  for (int i = 0; i < 26; ++i) {
    clock.advance(absl::Hours(1));
    ASSERT_TRUE((*store)->flush().ok());
  }
  EXPECT_GT((*store)->stats().rollups.files_deleted, 0u);
  EXPECT_TRUE(readAll(dir.path()).empty());
}

int64_t hourOf(int64_t minute) {
  return minute / 60 * 60;  // the test's minutes are positive
}

// Per (hour, service, operation, kind, status, root): calls, errors, p99 — of the minutes in
// [first, last].
using HourKey = std::tuple<int64_t, std::string, std::string, int, int, bool>;
struct HourValue {
  uint64_t calls = 0, errors = 0;
  LatencyHistogram latency;
  std::vector<int64_t> exact;
};
std::map<HourKey, HourValue> byHour(const RollupSegment& got, int64_t first, int64_t last) {
  std::map<HourKey, HourValue> out;
  for (const SpanRollup& r : got.spans) {
    EXPECT_TRUE(r.minute >= hourOf(first) && r.minute <= last) << r.minute;
    HourValue& v = out[{hourOf(r.minute), got.strings[r.service], got.strings[r.operation], r.kind,
                        r.status, r.root}];
    v.calls += r.calls;
    v.errors += r.errors;
    v.latency.merge(r.latency);
  }
  return out;
}
std::map<HourKey, HourValue> byHour(const ReferenceRollups& ref, int64_t first, int64_t last) {
  std::map<HourKey, HourValue> out;
  for (const auto& [k, v] : ref.spans) {
    const auto& [minute, service, op, kind, status, root] = k;
    if (minute < first || minute > last) continue;
    HourValue& h = out[{hourOf(minute), service, op, kind, status, root}];
    h.calls += v.calls;
    h.errors += v.errors;
    h.exact.insert(h.exact.end(), v.durations.begin(), v.durations.end());
  }
  return out;
}

TEST(RollupStore, LongWindowsReadHourlySummariesOfSealedFilesAndMinutesAtTheirEnds) {
  TempDir dir("rollups");
  FakeClock clock;
  StoreOptions o = options(dir.path());
  o.rollups.max_file_age = absl::Minutes(20);  // several sealed files, each summarized
  const int64_t base = (kBase / kNanosPerMinute / 60 + 1) * 60 * kNanosPerMinute;  // an hour
  const auto requests = distributedTraces(600, 12, base, 180);
  ReferenceRollups ref;
  ref.add(requests);
  auto store = SignalStore::open(pipeline::Signal::kTraces, o, &clock);
  ASSERT_TRUE(store.ok());
  feed(**store, clock, requests, 0, requests.size());
  EXPECT_GT((*store)->stats().rollups.files_compacted, 1u);
  const int64_t start = minuteOf(base);
  for (auto [first, last] :
       {std::pair{start, start + 179}, std::pair{start + 17, start + 151},
        std::pair{start + 61, start + 118}, std::pair{start + 5, start + 20}}) {
    SCOPED_TRACE(::testing::Message() << first - start << ".." << last - start);
    RollupAccumulator acc;
    RollupReadStats st;
    ASSERT_EQ(readRollups(
                  dir.path(), first, last, [&](const RollupSegment& s) { acc.merge(s); }, &st),
              "");
    if (last - first > 120) {
      EXPECT_GT(st.hourly_frames_read, 0u);
    }
    const auto got = byHour(acc.segment(), first, last);
    const auto want = byHour(ref, first, last);
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [k, w] : want) {
      auto it = got.find(k);
      ASSERT_NE(it, got.end());
      EXPECT_EQ(it->second.calls, w.calls);
      EXPECT_EQ(it->second.errors, w.errors);
      const auto exact = static_cast<double>(ReferenceRollups::exactQuantile(w.exact, 0.95));
      EXPECT_LE(std::abs(static_cast<double>(it->second.latency.quantile(0.95)) - exact),
                exact * 0.01 + 0.5);
    }
  }
}

TEST(RollupStore, DisabledWritesNoRollups) {
  TempDir dir("rollups");
  FakeClock clock;
  StoreOptions o = options(dir.path());
  o.rollups.enabled = false;
  auto store = SignalStore::open(pipeline::Signal::kTraces, o, &clock);
  ASSERT_TRUE(store.ok());
  feed(**store, clock, distributedTraces(10, 1, kBase, 1), 0, 40);
  ASSERT_TRUE((*store)->close().ok());
  EXPECT_TRUE(rollupFiles(dir.path()).empty());
}

}  // namespace
}  // namespace otlpd::store
