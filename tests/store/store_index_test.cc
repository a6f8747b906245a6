// The sidecar file index: readers skip sealed files that cannot match without opening them,
// return the same rows as a full scan, and read a file in full whenever its index is missing,
// corrupt or stale.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "otlpd/store/reader.h"
#include "store/file_index.h"
#include "store/signal_store.h"
#include "store_test_data.h"
#include "store_test_support.h"

namespace otlpd::store {
namespace {

namespace fs = std::filesystem;
using pipeline::Signal;
using testing::FakeClock;
using testing::TempDir;

constexpr uint64_t kBase = 1'700'000'000'000'000'000ULL;
constexpr uint64_t kHour = 3'600'000'000'000ULL;

// File i: spans in hour i, of services "svc<i>" and "payments", trace ids unique to the file.
otlp::TracesRequest fileTraces(int i) {
  auto req = testing::richTraces(3, kBase + static_cast<uint64_t>(i) * kHour);
  auto* attr = req.mutable_resource_spans(0)->mutable_resource()->mutable_attributes(0);
  attr->mutable_value()->set_string_value("svc" + std::to_string(i));
  for (auto& rs : *req.mutable_resource_spans()) {
    for (auto& ss : *rs.mutable_scope_spans()) {
      for (auto& s : *ss.mutable_spans()) s.set_trace_id(testing::bytes(16, 10 + i));
    }
  }
  return req;
}

StoreOptions indexOptions(const std::string& dir) {
  StoreOptions o;
  o.directory = dir;
  o.fsync = FsyncPolicy::kNever;
  o.max_file_age = absl::Minutes(10);
  return o;
}

// Writes `files` sealed trace files, one per fileTraces(i), and returns their paths.
std::vector<std::string> writeFiles(const std::string& dir, int files) {
  FakeClock clock;
  auto s = SignalStore::open(Signal::kTraces, indexOptions(dir), &clock);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  for (int i = 0; i < files; ++i) {
    EXPECT_TRUE((*s)->append(fileTraces(i)).ok());
    EXPECT_TRUE((*s)->flush().ok());
    clock.advance(absl::Minutes(11));  // the next flush seals this file
  }
  EXPECT_TRUE((*s)->close().ok());
  EXPECT_EQ((*s)->stats().indexes_written, static_cast<uint64_t>(files));
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir + "/traces")) {
    if (e.path().extension() == ".arrow") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every matching span as its serialized bytes with its service, sorted: a row-set to compare.
std::vector<std::string> spans(const std::string& dir, const ScanQuery& q, ScanStats* st) {
  std::vector<std::string> out;
  const std::string err = StoreReader(dir).scan(
      q,
      [&](std::string_view bytes) {
        otlp::TracesRequest r;
        EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
        for (const auto& rs : r.resource_spans()) {
          for (const auto& ss : rs.scope_spans()) {
            for (const auto& s : ss.spans()) {
              out.push_back(rs.resource().attributes(0).value().string_value() + "|" +
                            s.SerializeAsString());
            }
          }
        }
        return true;
      },
      st);
  EXPECT_EQ(err, "");
  std::sort(out.begin(), out.end());
  return out;
}

// The same query with every index out of the way.
std::vector<std::string> fullScan(const std::string& dir, const ScanQuery& q) {
  const std::string moved = dir + "-noidx";
  fs::remove_all(moved);
  fs::copy(dir, moved, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(moved)) {
    if (e.path().extension() == ".idx") fs::remove(e.path());
  }
  ScanStats st;
  auto out = spans(moved, q, &st);
  EXPECT_EQ(st.files_skipped_by_index, 0u);
  EXPECT_EQ(st.indexes_used, 0u);
  fs::remove_all(moved);
  return out;
}

TEST(StoreIndexTest, SealedFilesGetAValidIndex) {
  TempDir tmp("otlpd-index");
  const auto files = writeFiles(tmp.path(), 2);
  ASSERT_EQ(files.size(), 2u);
  auto idx = loadFileIndex(files[1], Signal::kTraces);
  ASSERT_TRUE(idx.ok()) << idx.status();
  EXPECT_EQ(idx->rows, 6u);
  EXPECT_EQ(idx->batches, 1u);
  EXPECT_EQ(idx->time.min, static_cast<int64_t>(kBase + kHour));
  EXPECT_EQ(idx->time.max, static_cast<int64_t>(kBase + kHour + 1'002'000'000));
  ASSERT_TRUE(idx->services.has_value());
  EXPECT_EQ(*idx->services, (std::vector<std::string>{"payments", "svc1"}));
  ASSERT_TRUE(idx->names.has_value());
  EXPECT_EQ(*idx->names, (std::vector<std::string>{"GET /a", "SELECT"}));
  EXPECT_TRUE(bloomMayContain(idx->trace_bloom, idx->trace_bloom_hashes,
                              traceIdHash(testing::bytes(16, 11))));
  EXPECT_FALSE(bloomMayContain(idx->trace_bloom, idx->trace_bloom_hashes,
                               traceIdHash(testing::bytes(16, 10))));
  ASSERT_TRUE(idx->duration.has_value());
  EXPECT_EQ(idx->duration->min, 250'000);
  EXPECT_EQ(idx->duration->max, 750'000);
  // Encoding round-trips.
  auto again = decodeFileIndex(encodeFileIndex(*idx));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->services, idx->services);
  EXPECT_EQ(again->trace_bloom, idx->trace_bloom);
  EXPECT_EQ(again->file_size, fs::file_size(files[1]));
  // Bound to its file: not valid for another signal, nor next to another file.
  EXPECT_FALSE(loadFileIndex(files[1], Signal::kLogs).ok());
  const auto copied = tmp.path() + "/traces/copy.arrow";
  fs::copy_file(files[1], copied);
  fs::copy_file(indexPathFor(files[1]), indexPathFor(copied));
  EXPECT_EQ(loadFileIndex(copied, Signal::kTraces).status().code(), absl::StatusCode::kDataLoss);
}

TEST(StoreIndexTest, QueriesOpenOnlyFilesThatCanMatchAndReturnTheSameRows) {
  TempDir tmp("otlpd-index");
  ASSERT_EQ(writeFiles(tmp.path(), 5).size(), 5u);
  const std::string dir = tmp.path();

  ScanQuery all;
  ScanStats st;
  const auto everything = spans(dir, all, &st);
  EXPECT_EQ(everything.size(), 30u);
  EXPECT_EQ(st.files_scanned, 5u);
  EXPECT_EQ(st.indexes_used, 5u);
  EXPECT_EQ(st.files_skipped_by_index, 0u);

  // Time range: hour 2 only.
  ScanQuery q;
  q.start_unix_nano = static_cast<int64_t>(kBase + 2 * kHour);
  q.end_unix_nano = static_cast<int64_t>(kBase + 3 * kHour);
  st = {};
  auto got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(got, fullScan(dir, q));
  EXPECT_EQ(st.files_scanned, 1u);
  EXPECT_EQ(st.files_skipped_by_index, 4u);

  // Service present in one file.
  q = {};
  q.service = "svc3";
  st = {};
  got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got, fullScan(dir, q));
  EXPECT_EQ(st.files_scanned, 1u);
  EXPECT_EQ(st.files_skipped_by_index, 4u);

  // Service present in every file: nothing skipped.
  q.service = "payments";
  st = {};
  got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 15u);
  EXPECT_EQ(got, fullScan(dir, q));
  EXPECT_EQ(st.files_scanned, 5u);

  // Service and time range together; a service nobody has.
  q.start_unix_nano = static_cast<int64_t>(kBase + 3 * kHour);
  st = {};
  got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(got, fullScan(dir, q));
  EXPECT_EQ(st.files_scanned, 2u);
  q = {};
  q.service = "nobody";
  st = {};
  EXPECT_TRUE(spans(dir, q, &st).empty());
  EXPECT_EQ(st.files_scanned, 0u);
  EXPECT_EQ(st.files_skipped_by_index, 5u);

  // Trace id (bloom filter), span name, duration.
  q = {};
  q.trace_id = testing::bytes(16, 14);
  st = {};
  got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 6u);
  EXPECT_EQ(got, fullScan(dir, q));
  EXPECT_EQ(st.files_scanned, 1u);
  q = {};
  q.name = "nope";
  st = {};
  EXPECT_TRUE(spans(dir, q, &st).empty());
  EXPECT_EQ(st.files_scanned, 0u);
  q = {};
  q.min_duration_ns = 1'000'000;
  st = {};
  EXPECT_TRUE(spans(dir, q, &st).empty());
  EXPECT_EQ(st.files_scanned, 0u);
  q.min_duration_ns = 750'000;
  st = {};
  got = spans(dir, q, &st);
  EXPECT_EQ(got.size(), 10u);
  EXPECT_EQ(got, fullScan(dir, q));
}

TEST(StoreIndexTest, TheFileBeingWrittenHasNoIndexAndIsRead) {
  TempDir tmp("otlpd-index");
  FakeClock clock;
  auto s = SignalStore::open(Signal::kTraces, indexOptions(tmp.path()), &clock);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->append(fileTraces(0)).ok());
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_FALSE(fs::exists(indexPathFor((*s)->currentFile())));
  ScanQuery q;
  q.service = "svc0";
  ScanStats st;
  EXPECT_EQ(spans(tmp.path(), q, &st).size(), 3u);
  EXPECT_EQ(st.files_scanned, 1u);
  EXPECT_EQ(st.indexes_used, 0u);
  ASSERT_TRUE((*s)->close().ok());
}

TEST(StoreIndexTest, MissingCorruptOrStaleIndexesAreIgnored) {
  TempDir tmp("otlpd-index");
  const auto files = writeFiles(tmp.path(), 4);
  ASSERT_EQ(files.size(), 4u);
  // 0: no index (older file, or a crash before the index was written).
  fs::remove(indexPathFor(files[0]));
  // 1: corrupt (a flipped byte), 2: truncated.
  {
    std::string b;
    {
      std::ifstream in(indexPathFor(files[1]), std::ios::binary);
      b.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x20);
    std::ofstream(indexPathFor(files[1]), std::ios::binary | std::ios::trunc) << b;
    std::ofstream(indexPathFor(files[2]), std::ios::binary | std::ios::trunc) << b.substr(0, 20);
  }
  // 3: stale. The file was replaced by one holding other rows (file 0's, service svc0) and
  // still has its old index, which says "svc3 only".
  fs::copy_file(files[0], files[3] + ".new");
  fs::rename(files[3] + ".new", files[3]);

  for (int i = 0; i < 3; ++i) {
    ScanQuery q;
    q.service = "svc" + std::to_string(i);
    ScanStats st;
    const auto got = spans(tmp.path(), q, &st);
    EXPECT_EQ(got.size(), i == 0 ? 6u : 3u) << i;
    EXPECT_EQ(got, fullScan(tmp.path(), q)) << i;
    EXPECT_EQ(st.indexes_rejected, 3u);
    EXPECT_EQ(st.indexes_used, 0u);
    EXPECT_EQ(st.files_scanned, 4u);
  }
  // The stale index would have hidden the replaced file's svc0 rows.
  ScanQuery q;
  q.service = "svc3";
  EXPECT_TRUE(spans(tmp.path(), q, nullptr).empty());
}

TEST(StoreIndexTest, RetentionDeletesIndexesWithTheirFiles) {
  TempDir tmp("otlpd-index");
  FakeClock clock;
  auto o = indexOptions(tmp.path());
  o.retention = absl::Hours(1);
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE((*s)->append(fileTraces(i)).ok());
    ASSERT_TRUE((*s)->flush().ok());
    clock.advance(absl::Minutes(11));
  }
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_EQ((*s)->stats().files_deleted, 2u);
  size_t arrows = 0, indexes = 0;
  for (const auto& e : fs::directory_iterator(tmp.path() + "/traces")) {
    const std::string p = e.path().string();
    if (e.path().extension() == ".arrow") {
      ++arrows;
      EXPECT_TRUE(fs::exists(indexPathFor(p))) << p;
    } else if (e.path().extension() == ".idx") {
      ++indexes;
      EXPECT_TRUE(fs::exists(p.substr(0, p.size() - kIndexExt.size()))) << "orphan " << p;
    } else {
      ADD_FAILURE() << "unexpected " << p;
    }
  }
  EXPECT_EQ(arrows, 6u);
  EXPECT_EQ(indexes, 6u);
}

TEST(StoreIndexTest, StartupRemovesOrphanAndStaleIndexes) {
  TempDir tmp("otlpd-index");
  const auto files = writeFiles(tmp.path(), 2);
  ASSERT_EQ(files.size(), 2u);
  // An index whose file is gone, a temporary of an interrupted index write, and an unsealed
  // file (a crash) that has an index from some earlier state.
  const std::string dir = tmp.path() + "/traces/";
  std::ofstream(dir + "20200101T000000Z-000001.arrow.idx") << "x";
  std::ofstream(dir + "20200101T000000Z-000002.arrow.idx.tmp") << "x";
  {
    std::string b;
    {
      std::ifstream in(files[1], std::ios::binary);
      b.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::ofstream(files[1], std::ios::binary | std::ios::trunc) << b.substr(0, b.size() - 8);
  }
  FakeClock clock;
  auto s = SignalStore::open(Signal::kTraces, indexOptions(tmp.path()), &clock);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->stats().files_recovered, 1u);
  EXPECT_FALSE(fs::exists(dir + "20200101T000000Z-000001.arrow.idx"));
  EXPECT_FALSE(fs::exists(dir + "20200101T000000Z-000002.arrow.idx.tmp"));
  EXPECT_FALSE(fs::exists(indexPathFor(files[1])));
  EXPECT_TRUE(loadFileIndex(files[0], Signal::kTraces).ok());
  ScanQuery q;
  q.service = "svc1";
  ScanStats st;
  EXPECT_EQ(spans(tmp.path(), q, &st).size(), 3u);
  EXPECT_EQ(st.files_skipped_by_index, 1u);
}

}  // namespace
}  // namespace otlpd::store
