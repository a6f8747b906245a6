// StoreReader's newest-first order, scan-bytes cap and trace id sets; the file index's operation
// list (version 2) and the query layer answering operations from it or from the columns alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "otlpd/store/reader.h"
#include "query/store_queries.h"
#include "store/file_index.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"
#include "store/signal_store.h"
#include "store_test_support.h"

namespace otlpd::store {
namespace {

namespace fs = std::filesystem;
using pipeline::Signal;
using testing::FakeClock;
using testing::TempDir;

constexpr uint64_t kBase = 1'700'000'000'000'000'000ULL;

std::string traceId(int n) {
  return std::string(15, '\x11') + static_cast<char>(n);
}

// One batch: `spans` spans of trace `trace`, service `service`, starting at kBase + at seconds.
otlp::TracesRequest batch(int trace, const std::string& service, int at, int spans,
                          const std::string& name = "op") {
  otlp::TracesRequest r;
  auto* rs = r.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(traceId(trace));
    s->set_span_id(std::string(7, '\x01') + static_cast<char>(i));
    s->set_name(name + (i % 2 == 0 ? "" : "-child"));
    s->set_kind(i % 2 == 0 ? otlp::pb_trace::Span::SPAN_KIND_SERVER
                           : otlp::pb_trace::Span::SPAN_KIND_CLIENT);
    s->set_start_time_unix_nano(kBase + static_cast<uint64_t>(at) * 1000000000ULL + i);
    s->set_end_time_unix_nano(kBase + static_cast<uint64_t>(at) * 1000000000ULL + i + 1000);
  }
  return r;
}

// Three sealed files of two batches each (traces 0..5 at seconds 0..5), services a/b/c.
void writeStore(const std::string& dir) {
  FakeClock clock;
  StoreOptions o;
  o.directory = dir;
  o.fsync = FsyncPolicy::kNever;
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  for (int file = 0; file < 3; ++file) {
    for (int b = 0; b < 2; ++b) {
      const int trace = file * 2 + b;
      ASSERT_TRUE((*s)->append(batch(trace, std::string(1, static_cast<char>('a' + file)), trace,
                                     20, "op" + std::to_string(trace)))
                      .ok());
      ASSERT_TRUE((*s)->flush().ok());
    }
    clock.advance(absl::Minutes(11));  // the next flush seals the file
  }
  ASSERT_TRUE((*s)->close().ok());
}

// The trace ids of each batch handed out, in scan order.
std::vector<int> scanOrder(const std::string& dir, ScanQuery q, ScanStats* st = nullptr) {
  std::vector<int> order;
  const std::string err = StoreReader(dir).scan(
      q,
      [&](std::string_view bytes) {
        otlp::TracesRequest r;
        EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
        order.push_back(
            static_cast<unsigned char>(r.resource_spans(0).scope_spans(0).spans(0).trace_id()[15]));
        return true;
      },
      st);
  EXPECT_EQ(err, "");
  return order;
}

TEST(ReaderScanTest, NewestFirstReadsFilesAndBatchesBackwards) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  ASSERT_EQ(StoreReader(tmp.path()).files(StoredSignal::kTraces).size(), 3u);
  ScanQuery q;
  EXPECT_EQ(scanOrder(tmp.path(), q), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  q.newest_first = true;
  EXPECT_EQ(scanOrder(tmp.path(), q), (std::vector<int>{5, 4, 3, 2, 1, 0}));
  // Early stop: the callback's false ends the scan at once.
  int calls = 0;
  StoreReader(tmp.path()).scan(q, [&](std::string_view) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
}

TEST(ReaderScanTest, ScanBytesCapStopsAfterAtLeastOneBatch) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  ScanQuery q;
  q.newest_first = true;
  q.max_scan_bytes = 1;
  ScanStats st;
  EXPECT_EQ(scanOrder(tmp.path(), q, &st), (std::vector<int>{5}));
  EXPECT_TRUE(st.truncated);
  EXPECT_EQ(st.batches_read, 1u);
  EXPECT_GT(st.bytes_scanned, 0u);
  ScanStats all;
  q.max_scan_bytes = 0;
  EXPECT_EQ(scanOrder(tmp.path(), q, &all).size(), 6u);
  EXPECT_FALSE(all.truncated);
  // A cap of three batches' worth reads three.
  q.max_scan_bytes = all.bytes_scanned / 2 + 1;
  ScanStats half;
  EXPECT_EQ(scanOrder(tmp.path(), q, &half).size(), 3u);
  EXPECT_TRUE(half.truncated);
}

// A traces file in the given on-disk layout, as the store writes it (schema, two batches of
// trace 0 and 1, end of stream; no index): span 3 of each batch has `http.route`.
void writeLayoutFile(const std::string& dir, int layout) {
  fs::create_directories(fs::path(dir) / "traces");
  const auto& fields = fieldsFor(Signal::kTraces, layout);
  ColumnTable table(&fields);
  IpcEncoder enc(&fields, BodyCodec::kZstd,
                 {{"otlpd:signal", "traces"}, {"otlpd:version", std::to_string(layout)}});
  std::string bytes;
  enc.appendSchema(bytes);
  for (int b = 0; b < 2; ++b) {
    otlp::TracesRequest r = batch(b, "svc", b, 10);
    auto* kv =
        r.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(3)->add_attributes();
    kv->set_key("http.route");
    kv->mutable_value()->set_string_value(b == 1 ? "/found" : "/other");
    TimeRange range;
    appendTraces(r, table, range);
    ASSERT_TRUE(enc.appendBatch(table,
                                {{"otlpd:min_time_unix_nano", std::to_string(range.min)},
                                 {"otlpd:max_time_unix_nano", std::to_string(range.max)}},
                                bytes)
                    .ok());
    table.clearRows();
  }
  bytes.append(kEndOfStream);
  std::ofstream(fs::path(dir) / "traces" / "20240101T000000Z-000001.arrow", std::ios::binary)
      << bytes;
}

// Both layouts answer the same searches; the filter columns are decoded first and the rest only
// for batches with a match, and layout 2's key dictionaries rule out a file without decoding.
TEST(ReaderScanTest, BothLayoutsSearchByAttributeReadingFilterColumnsFirst) {
  for (int layout : {1, 2}) {
    SCOPED_TRACE(layout);
    TempDir tmp("otlpd-reader");
    writeLayoutFile(tmp.path(), layout);
    ScanQuery q;
    q.attributes = {{"http.route", "/found"}};
    std::vector<otlp::TracesRequest> got;
    ScanStats st;
    EXPECT_EQ(StoreReader(tmp.path())
                  .scan(
                      q,
                      [&](std::string_view bytes) {
                        got.emplace_back();
                        EXPECT_TRUE(got.back().ParseFromArray(bytes.data(),
                                                              static_cast<int>(bytes.size())));
                        return true;
                      },
                      &st),
              "");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(st.batches_read, 2u);
    EXPECT_EQ(st.rows_matched, 1u);
    // The matching row comes back whole: every column, not only those the filter read.
    const auto& rs = got[0].resource_spans(0);
    EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "svc");
    const auto& span = rs.scope_spans(0).spans(0);
    EXPECT_EQ(span.trace_id(), traceId(1));
    EXPECT_EQ(span.name(), "op-child");
    EXPECT_EQ(span.span_id(), std::string(7, '\x01') + '\x03');
    EXPECT_EQ(span.end_time_unix_nano() - span.start_time_unix_nano(), 1000u);
    ASSERT_EQ(span.attributes_size(), 1);
    EXPECT_EQ(span.attributes(0).value().string_value(), "/found");

    // A key no span has: layout 2 knows from the file's key dictionary, layout 1 from each
    // batch's key strings; no batch is decoded.
    ScanQuery none;
    none.attributes = {{"no.such", "x"}};
    ScanStats st_none;
    EXPECT_TRUE(scanOrder(tmp.path(), none, &st_none).empty());
    EXPECT_EQ(st_none.batches_read, 0u);
    EXPECT_EQ(st_none.batches_skipped, 2u);
    // A value no span has: the filter columns of both batches are read, nothing matches.
    none.attributes = {{"http.route", "/nowhere"}};
    ScanStats st_value;
    EXPECT_TRUE(scanOrder(tmp.path(), none, &st_value).empty());
    EXPECT_EQ(st_value.batches_read, 2u);
    EXPECT_EQ(st_value.rows_matched, 0u);
    // A service no file holds (its dictionary, in both layouts).
    ScanQuery other;
    other.service = "nobody";
    ScanStats st_other;
    EXPECT_TRUE(scanOrder(tmp.path(), other, &st_other).empty());
    EXPECT_EQ(st_other.batches_read, 0u);
    // Service and key filters together, both present.
    ScanQuery both;
    both.service = "svc";
    both.attributes = {{"http.route", "/other"}};
    EXPECT_EQ(scanOrder(tmp.path(), both), std::vector<int>{0});
  }
}

// Each record batch carries a bloom filter of its trace ids in its metadata: a trace by id
// skips the other batches of a file without decompressing their trace id columns.
TEST(ReaderScanTest, EveryBatchCarriesABloomFilterOfItsTraceIds) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  int batches = 0;
  for (const std::string& f : StoreReader(tmp.path()).files(StoredSignal::kTraces)) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    IpcDecoder dec;
    size_t pos = 0;
    for (;;) {
      auto ev = dec.next(bytes, pos);
      ASSERT_TRUE(ev.ok()) << ev.status();
      if (*ev == IpcDecoder::Event::kEndOfStream || *ev == IpcDecoder::Event::kEndOfData) break;
      if (*ev != IpcDecoder::Event::kRecordBatch) continue;
      const ColumnTable& t = *dec.table();
      const int trace = static_cast<unsigned char>(t.column(span_col::kTraceId).bytesAt(0)[15]);
      std::string bloom;
      for (const auto& [k, v] : dec.batchMetadata()) {
        if (k == kBatchBloomKey) {
          ASSERT_TRUE(absl::Base64Unescape(v, &bloom));
        }
      }
      ASSERT_FALSE(bloom.empty());
      EXPECT_EQ(bloom, batchTraceBloom(t, Signal::kTraces));
      for (int other = 0; other < 6; ++other) {
        // Ids of these tests never collide in a filter this sparse (1 id, 128 bits, 7 probes).
        EXPECT_EQ(bloomMayContain(bloom, kBatchBloomHashes, traceIdHash(traceId(other))),
                  other == trace)
            << trace << " " << other;
      }
      ++batches;
    }
  }
  EXPECT_EQ(batches, 6);
  // A trace by id reads its one batch; the other batch of its file is ruled out by its filter.
  ScanQuery q;
  q.trace_id = traceId(3);
  ScanStats st;
  EXPECT_EQ(scanOrder(tmp.path(), q, &st), std::vector<int>{3});
  EXPECT_EQ(st.batches_read, 1u);
  EXPECT_EQ(st.batches_skipped, 1u);
}

TEST(ReaderScanTest, AnyTraceIdsUseTheBloomFilters) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  ScanQuery q;
  q.any_trace_ids = {traceId(1), traceId(4)};
  ScanStats st;
  EXPECT_EQ(scanOrder(tmp.path(), q, &st), (std::vector<int>{1, 4}));
  EXPECT_GE(st.files_skipped_by_index, 1u);  // the file of traces 2 and 3
  // Of the two files read, only the batches holding the ids are decoded: the others are told
  // apart by their trace id column alone.
  EXPECT_EQ(st.batches_read, 2u);
  EXPECT_GE(st.batches_skipped, 2u);
  q.any_trace_ids = {traceId(9)};
  EXPECT_TRUE(scanOrder(tmp.path(), q).empty());
}

TEST(ReaderScanTest, LogsByTraceIdDecodeOnlyTheirBatches) {
  TempDir tmp("otlpd-reader");
  FakeClock clock;
  StoreOptions o;
  o.directory = tmp.path();
  o.fsync = FsyncPolicy::kNever;
  auto s = SignalStore::open(Signal::kLogs, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  for (int b = 0; b < 3; ++b) {
    otlp::LogsRequest r;
    auto* rl = r.add_resource_logs();
    auto* sl = rl->add_scope_logs();
    for (int i = 0; i < 10; ++i) {
      auto* rec = sl->add_log_records();
      rec->set_time_unix_nano(kBase + static_cast<uint64_t>(b * 10 + i));
      rec->mutable_body()->mutable_kvlist_value()->add_values()->set_key("k");
      rec->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_INFO);
      if (i % 3 != 0) rec->set_trace_id(traceId(b));  // some records have no trace id (null)
    }
    ASSERT_TRUE((*s)->append(r).ok());
    ASSERT_TRUE((*s)->flush().ok());
  }
  ScanQuery q;
  q.signal = StoredSignal::kLogs;
  q.trace_id = traceId(1);
  ScanStats st;
  size_t records = 0;
  EXPECT_EQ(StoreReader(tmp.path())
                .scan(
                    q,
                    [&](std::string_view bytes) {
                      otlp::LogsRequest r;
                      EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
                      for (const auto& rl : r.resource_logs()) {
                        for (const auto& sl : rl.scope_logs()) records += sl.log_records_size();
                      }
                      return true;
                    },
                    &st),
            "");
  EXPECT_EQ(records, 6u);
  EXPECT_EQ(st.batches_read, 1u);
  EXPECT_EQ(st.batches_skipped, 2u);
}

TEST(ReaderScanTest, IndexRecordsOperationsAndOldVersionsStillLoad) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  const auto files = StoreReader(tmp.path()).files(StoredSignal::kTraces);
  auto idx = loadFileIndex(files[0], Signal::kTraces);
  ASSERT_TRUE(idx.ok()) << idx.status();
  ASSERT_TRUE(idx->operations.has_value());
  const std::vector<IndexedOperation> expected = {
      {"a", "op0", 2}, {"a", "op0-child", 3}, {"a", "op1", 2}, {"a", "op1-child", 3}};
  EXPECT_EQ(*idx->operations, expected);
  // Encode/decode round trip keeps the list; "not recorded" stays so.
  auto again = decodeFileIndex(encodeFileIndex(*idx));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->operations, idx->operations);
  FileIndex none = *idx;
  none.operations.reset();
  again = decodeFileIndex(encodeFileIndex(none));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->operations.has_value());
}

TEST(ReaderScanTest, OperationsFromIndexesEqualThoseFromColumns) {
  TempDir tmp("otlpd-reader");
  writeStore(tmp.path());
  query::StoreQueries indexed(tmp.path());
  query::ScanBudget b1;
  const auto from_index = indexed.operations("b", b1);
  EXPECT_EQ(b1.stats.files_scanned, 0u);  // answered by the indexes alone
  const auto services = indexed.services(b1);
  EXPECT_EQ(services, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(b1.stats.files_scanned, 0u);
  for (const auto& e : fs::recursive_directory_iterator(tmp.path())) {
    if (e.path().extension() == ".idx") fs::remove(e.path());
  }
  query::StoreQueries scanned(tmp.path());
  query::ScanBudget b2;
  const auto from_columns = scanned.operations("b", b2);
  EXPECT_GT(b2.stats.files_scanned, 0u);
  EXPECT_EQ(from_index, from_columns);
  EXPECT_EQ(from_index.size(), 4u);
  EXPECT_EQ(scanned.services(b2), services);
}

}  // namespace
}  // namespace otlpd::store
