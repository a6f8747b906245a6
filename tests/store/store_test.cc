#include <fcntl.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "otlpd/store/reader.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"
#include "store/signal_store.h"
#include "store_test_data.h"
#include "store_test_support.h"

namespace otlpd::store {
namespace {

namespace fs = std::filesystem;
using google::protobuf::util::MessageDifferencer;
using pipeline::Signal;
using testing::FakeClock;
using testing::TempDir;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// OTLP → columns → IPC bytes (several batches) → decoder → columns → OTLP.
template <class Req, class Append, class Back>
void roundTrip(Signal signal, const Req& in, Append append, Back back, BodyCodec codec,
               int layout = kStoreLayoutVersion) {
  ColumnTable table(&fieldsFor(signal, layout));
  IpcEncoder enc(&fieldsFor(signal, layout), codec, {});
  std::string bytes;
  enc.appendSchema(bytes);
  TimeRange range;
  append(in, table, range);
  ASSERT_GT(table.rows(), 0u);
  ASSERT_TRUE(enc.appendBatch(table, {}, bytes).ok());
  table.clearRows();
  append(in, table, range);  // a second batch reuses the dictionaries (delta-free)
  ASSERT_TRUE(enc.appendBatch(table, {}, bytes).ok());
  bytes.append(kEndOfStream);

  IpcDecoder dec;
  size_t pos = 0;
  int batches = 0;
  for (;;) {
    auto ev = dec.next(bytes, pos);
    ASSERT_TRUE(ev.ok()) << ev.status();
    if (*ev == IpcDecoder::Event::kEndOfStream) break;
    ASSERT_NE(*ev, IpcDecoder::Event::kEndOfData);
    if (*ev != IpcDecoder::Event::kRecordBatch) continue;
    ++batches;
    EXPECT_EQ(storeLayoutOf(dec.fields(), signal), layout);
    Req out;
    back(*dec.table(), nullptr, out);
    EXPECT_TRUE(MessageDifferencer::Equals(in, out)) << "in:\n"
                                                     << in.DebugString() << "\nout:\n"
                                                     << out.DebugString();
  }
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(pos, bytes.size());
}

class StoreRoundTripTest : public ::testing::TestWithParam<BodyCodec> {};

TEST_P(StoreRoundTripTest, Spans) {
  roundTrip(Signal::kTraces, testing::richTraces(), appendTraces, tracesFromColumns, GetParam());
}
TEST_P(StoreRoundTripTest, Logs) {
  roundTrip(Signal::kLogs, testing::richLogs(), appendLogs, logsFromColumns, GetParam());
}
TEST_P(StoreRoundTripTest, EveryMetricType) {
  roundTrip(Signal::kMetrics, testing::richMetrics(), appendMetrics, metricsFromColumns,
            GetParam());
}
// Files written by otlpd before layout 2 (attribute keys and resource / scope string values as
// plain strings) read back the same.
TEST_P(StoreRoundTripTest, Layout1SpansLogsMetrics) {
  roundTrip(Signal::kTraces, testing::richTraces(), appendTraces, tracesFromColumns, GetParam(), 1);
  roundTrip(Signal::kLogs, testing::richLogs(), appendLogs, logsFromColumns, GetParam(), 1);
  roundTrip(Signal::kMetrics, testing::richMetrics(), appendMetrics, metricsFromColumns, GetParam(),
            1);
}

// Files of layout 2 (before str_dict) read back the same.
TEST_P(StoreRoundTripTest, Layout2SpansLogsMetrics) {
  roundTrip(Signal::kTraces, testing::richTraces(), appendTraces, tracesFromColumns, GetParam(), 2);
  roundTrip(Signal::kLogs, testing::richLogs(), appendLogs, logsFromColumns, GetParam(), 2);
  roundTrip(Signal::kMetrics, testing::richMetrics(), appendMetrics, metricsFromColumns, GetParam(),
            2);
}

TEST(StoreLayoutTest, Layout2DictionaryEncodesAttributeKeysAndResourceValues) {
  for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    const auto& v1 = fieldsFor(signal, 1);
    const auto& v2 = fieldsFor(signal, 2);
    ASSERT_EQ(v1.size(), v2.size());
    EXPECT_EQ(storeLayoutOf(v1, signal), 1);
    EXPECT_EQ(storeLayoutOf(v2, signal), 2);
    int attribute_columns = 0;
    for (size_t i = 0; i < v2.size(); ++i) {
      const std::string& name = v2[i].name;
      if (name.find("attributes") == std::string::npos && name != "metadata") continue;
      if (v2[i].type != ColumnType::kList) continue;
      ++attribute_columns;
      const FieldSpec& item = v2[i].children[0];
      EXPECT_EQ(item.children[0].name, "key");
      EXPECT_TRUE(item.children[0].dictionary) << name;
      EXPECT_FALSE(v1[i].children[0].children[0].dictionary) << name;
      EXPECT_EQ(item.children[2].name, "str");
      EXPECT_EQ(item.children[2].dictionary,
                name == "resource_attributes" || name == "scope_attributes")
          << name;
    }
    EXPECT_GE(attribute_columns, 3);
  }
}

// Layout 3 adds str_dict, a dictionary-encoded member for string values that repeat, to every
// attribute list but the resource's and the scope's (whose str is dictionary-encoded already).
void expectRepeatedStringsMember(const FieldSpec& field, int& lists) {
  const bool attribute_list =
      field.type == ColumnType::kList && field.children[0].type == ColumnType::kStruct &&
      !field.children[0].children.empty() && field.children[0].children[0].name == "key";
  if (attribute_list) {
    ++lists;
    const FieldSpec& item = field.children[0];
    const bool resource_or_scope =
        field.name == "resource_attributes" || field.name == "scope_attributes";
    ASSERT_EQ(item.children.size(), resource_or_scope ? 7u : 8u) << field.name;
    if (!resource_or_scope) {
      EXPECT_EQ(item.children[7].name, "str_dict");
      EXPECT_TRUE(item.children[7].dictionary);
      EXPECT_EQ(item.children[7].type, ColumnType::kUtf8);
      EXPECT_FALSE(item.children[2].dictionary) << field.name;
    }
    return;
  }
  for (const FieldSpec& child : field.children) expectRepeatedStringsMember(child, lists);
}

TEST(StoreLayoutTest, Layout3AddsADictionaryMemberForRepeatedStrings) {
  EXPECT_EQ(kStoreLayoutVersion, 3);
  for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    const auto& v3 = fieldsFor(signal);
    EXPECT_EQ(storeLayoutOf(v3, signal), 3);
    EXPECT_EQ(storeLayoutOf(fieldsFor(signal, 2), signal), 2);
    int lists = 0;
    for (const FieldSpec& field : v3) expectRepeatedStringsMember(field, lists);
    // Spans: attributes, events', links', resource, scope; logs and metrics: at least three.
    EXPECT_GE(lists, signal == Signal::kTraces ? 5 : 3);
  }
}

INSTANTIATE_TEST_SUITE_P(StoreCodecs, StoreRoundTripTest,
                         ::testing::Values(BodyCodec::kNone, BodyCodec::kZstd,
                                           BodyCodec::kLz4Frame));

// Layout 3: a span attribute's string goes to str the first time the file sees it and to
// str_dict from its second sight on; a value seen once stays in str. Readers find both.
TEST(StoreColumnsTest, RepeatedAttributeStringsGoToTheDictionaryMember) {
  otlp::TracesRequest req;
  auto* spans = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 3; ++i) {
    auto* span = spans->add_spans();
    span->set_name("GET /orders");
    auto* method = span->add_attributes();
    method->set_key("http.request.method");
    method->mutable_value()->set_string_value("GET");
    auto* url = span->add_attributes();
    url->set_key("url.full");
    url->mutable_value()->set_string_value("https://shop.example.com/orders/" + std::to_string(i));
  }
  ColumnTable t(&fieldsFor(Signal::kTraces));
  TimeRange range;
  appendTraces(req, t, range);
  ASSERT_EQ(t.rows(), 3u);
  const Column& item = t.column(span_col::kAttributes).child(0);
  ASSERT_EQ(item.childCount(), 8u);
  const Column& str = item.child(2);
  const Column& str_dict = item.child(7);
  ASSERT_EQ(str_dict.spec().name, "str_dict");
  // Items in order: (method, url) per span.
  EXPECT_EQ(str.bytesAt(0), "GET");
  EXPECT_TRUE(str_dict.isNull(0));
  for (size_t span = 1; span < 3; ++span) {
    EXPECT_TRUE(str.isNull(2 * span)) << span;
    EXPECT_EQ(str_dict.bytesAt(2 * span), "GET") << span;
  }
  for (size_t span = 0; span < 3; ++span) {
    EXPECT_EQ(str.bytesAt(2 * span + 1), "https://shop.example.com/orders/" + std::to_string(span));
    EXPECT_TRUE(str_dict.isNull(2 * span + 1));
  }
  EXPECT_EQ(str_dict.dictionary()->size(), 1u);
  for (size_t row = 0; row < 3; ++row) {
    EXPECT_TRUE(
        attributeEquals(t.column(span_col::kAttributes), row, "http.request.method", "GET"));
    EXPECT_FALSE(
        attributeEquals(t.column(span_col::kAttributes), row, "http.request.method", "POST"));
  }
  otlp::TracesRequest back;
  tracesFromColumns(t, nullptr, back);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equivalent(back, req))
      << back.DebugString();
}

TEST(StoreColumnsTest, OneRowPerSpanWithTypedAttributes) {
  ColumnTable t(&fieldsFor(Signal::kTraces));
  TimeRange range;
  appendTraces(testing::richTraces(3), t, range);
  ASSERT_EQ(t.rows(), 6u);
  EXPECT_EQ(t.column(span_col::kServiceName).bytesAt(0), "checkout");
  EXPECT_EQ(t.column(span_col::kServiceName).bytesAt(5), "payments");
  EXPECT_EQ(t.column(span_col::kDuration).intAt(1), 500'000);
  EXPECT_TRUE(t.column(5).isNull(0));  // root span: no parent
  EXPECT_TRUE(attributeEquals(t.column(span_col::kAttributes), 0, "int", "-42"));
  EXPECT_TRUE(attributeEquals(t.column(span_col::kAttributes), 0, "bool", "true"));
  EXPECT_FALSE(attributeEquals(t.column(span_col::kAttributes), 0, "int", "42"));
  EXPECT_EQ(range.min, 1'700'000'000'000'000'000LL);
}

StoreOptions options(const std::string& dir) {
  StoreOptions o;
  o.directory = dir;
  o.fsync = FsyncPolicy::kNever;
  return o;
}

std::vector<std::string> arrowFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".arrow") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StoreSignalStoreTest, WritesReadableSealedFilesAndRotatesByAge) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.max_file_age = absl::Minutes(10);
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->append(testing::richTraces()).ok());
  ASSERT_TRUE((*s)->flush().ok());
  ASSERT_TRUE((*s)->append(testing::richTraces()).ok());
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_EQ(arrowFiles(tmp.path() + "/traces").size(), 1u);
  clock.advance(absl::Minutes(11));
  ASSERT_TRUE((*s)->append(testing::richTraces()).ok());
  ASSERT_TRUE((*s)->flush().ok());
  auto files = arrowFiles(tmp.path() + "/traces");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "20231114T221320Z-000001.arrow");
  EXPECT_EQ(files[1], "20231114T222420Z-000002.arrow");
  const std::string first = readFile(tmp.path() + "/traces/" + files[0]);
  EXPECT_EQ(first.substr(first.size() - 8), kEndOfStream);
  EXPECT_EQ((*s)->stats().files_sealed, 1u);
  EXPECT_EQ((*s)->stats().rows_written, 18u);

  // The file still being written is readable up to its last batch.
  StoreReader reader(tmp.path());
  ScanStats stats;
  size_t spans = 0;
  EXPECT_EQ(reader.scan(
                {},
                [&](std::string_view bytes) {
                  otlp::TracesRequest r;
                  EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
                  for (const auto& rs : r.resource_spans())
                    for (const auto& ss : rs.scope_spans())
                      spans += static_cast<size_t>(ss.spans_size());
                  return true;
                },
                &stats),
            "");
  EXPECT_EQ(spans, 18u);
  EXPECT_EQ(stats.batches_read, 3u);
}

// Every span a store's files hold, in the order a full scan reads them.
template <class Fn>
void forEachStoredSpan(const std::string& root, Fn&& fn) {
  StoreReader reader(root);
  EXPECT_EQ(
      reader.scan({},
                  [&](std::string_view bytes) {
                    otlp::TracesRequest r;
                    EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
                    for (const auto& rs : r.resource_spans())
                      for (const auto& ss : rs.scope_spans())
                        for (const auto& span : ss.spans()) fn(span);
                    return true;
                  }),
      "");
}

// Double buffering: full batches go to the writer thread while appends go on, with new
// dictionary values (span names, attribute keys) arriving while a batch is in flight and files
// rotating by size under it. Every row comes back, in order, with its own strings.
TEST(StoreSignalStoreTest, HandsFullBatchesToTheWriterAndKeepsEveryRowInOrder) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.max_rows_per_batch = 10;
  o.max_file_bytes = 16 << 10;
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kRequests = 60;
  size_t per_request = 0;
  for (int i = 0; i < kRequests; ++i) {
    otlp::TracesRequest req = testing::richTraces();
    per_request = 0;
    for (auto& rs : *req.mutable_resource_spans()) {
      for (auto& ss : *rs.mutable_scope_spans()) {
        for (auto& span : *ss.mutable_spans()) {
          span.set_name("op-" + std::to_string(i));
          auto* kv = span.add_attributes();
          kv->set_key("key-" + std::to_string(i));
          kv->mutable_value()->set_int_value(i);
          ++per_request;
        }
      }
    }
    ASSERT_TRUE((*s)->appendWire(req.SerializeAsString()).ok());
  }
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_EQ((*s)->pendingRows(), 0u);
  EXPECT_EQ((*s)->stats().rows_written, per_request * kRequests);
  EXPECT_GT((*s)->stats().files_sealed, 0u);
  ASSERT_TRUE((*s)->close().ok());

  std::vector<std::string> names;
  std::vector<std::string> keys;
  forEachStoredSpan(tmp.path(), [&](const auto& span) {
    names.push_back(span.name());
    keys.push_back(span.attributes().empty() ? "" : span.attributes().rbegin()->key());
  });
  ASSERT_EQ(names.size(), per_request * kRequests);
  for (size_t row = 0; row < names.size(); ++row) {
    const std::string i = std::to_string(row / per_request);
    ASSERT_EQ(names[row], "op-" + i) << row;
    ASSERT_EQ(keys[row], "key-" + i) << row;
  }
}

// Spans named `prefix` + a number unique to each span, `count` of them, `name_bytes` long.
otlp::TracesRequest spansWithUniqueNames(const std::string& prefix, int count,
                                         size_t name_bytes = 0) {
  otlp::TracesRequest req = testing::richTraces();
  // One resource, one scope: these spans are all there is.
  req.mutable_resource_spans()->DeleteSubrange(1, req.resource_spans_size() - 1);
  auto* scopes = req.mutable_resource_spans(0)->mutable_scope_spans();
  scopes->DeleteSubrange(1, scopes->size() - 1);
  auto* spans = scopes->Mutable(0)->mutable_spans();
  const ::opentelemetry::proto::trace::v1::Span model = spans->Get(0);
  spans->Clear();
  for (int i = 0; i < count; ++i) {
    auto* span = spans->Add();
    *span = model;
    std::string name = prefix + std::to_string(i);
    if (name.size() < name_bytes) name.resize(name_bytes, '.');
    span->set_name(name);
  }
  return req;
}

// The distinct span names each file's dictionary carries, file by file.
std::vector<size_t> nameDictionarySizes(const std::string& dir) {
  std::vector<size_t> sizes;
  for (const std::string& name : arrowFiles(dir)) {
    const std::string bytes = readFile(dir + "/" + name);
    IpcDecoder dec;
    size_t pos = 0;
    size_t size = 0;
    for (;;) {
      auto ev = dec.next(bytes, pos);
      EXPECT_TRUE(ev.ok()) << ev.status();
      if (!ev.ok() || *ev == IpcDecoder::Event::kEndOfStream ||
          *ev == IpcDecoder::Event::kEndOfData) {
        break;
      }
      if (*ev == IpcDecoder::Event::kRecordBatch) {
        size = dec.table()->column(span_col::kName).dictionary()->size();
      }
    }
    sizes.push_back(size);
  }
  return sizes;
}

// A client naming every span uniquely (an id in the name) must not make each new file repeat,
// and the store keep in memory, every name seen since the process started.
TEST(StoreSignalStoreTest, EachFileCarriesOnlyTheDictionaryValuesItsRowsUse) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.max_file_bytes = 1;  // every batch seals its file
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kFiles = 5, kSpans = 50;
  for (int f = 0; f < kFiles; ++f) {
    ASSERT_TRUE(
        (*s)->appendWire(
                spansWithUniqueNames("op-" + std::to_string(f) + "-", kSpans).SerializeAsString())
            .ok());
    ASSERT_TRUE((*s)->flush().ok());
    clock.advance(absl::Seconds(1));
  }
  ASSERT_TRUE((*s)->close().ok());
  EXPECT_EQ(nameDictionarySizes(tmp.path() + "/traces"), std::vector<size_t>(kFiles, kSpans));

  // And every name still reads back as written.
  std::vector<std::string> names;
  forEachStoredSpan(tmp.path(), [&](const auto& span) { names.push_back(span.name()); });
  ASSERT_EQ(names.size(), size_t{kFiles * kSpans});
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_EQ(names[i], "op-" + std::to_string(i / kSpans) + "-" + std::to_string(i % kSpans));
  }
}

// Within one file too: once its dictionaries reach their bound (8 MiB), the file is sealed
// after that batch, whatever its size and age, and the next file starts afresh.
TEST(StoreSignalStoreTest, SealsAFileWhoseDictionariesReachTheirBound) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.codec = BodyCodec::kNone;
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  // 1,100 names of 8 KiB: just past 8 MiB.
  ASSERT_TRUE((*s)->appendWire(spansWithUniqueNames("big-", 1100, 8192).SerializeAsString()).ok());
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_EQ((*s)->stats().files_sealed, 1u);
  ASSERT_TRUE((*s)->appendWire(spansWithUniqueNames("small-", 10).SerializeAsString()).ok());
  ASSERT_TRUE((*s)->flush().ok());
  EXPECT_EQ((*s)->stats().files_sealed, 1u);  // small: the second file stays open
  ASSERT_TRUE((*s)->close().ok());
  EXPECT_EQ(nameDictionarySizes(tmp.path() + "/traces"), (std::vector<size_t>{1100, 10}));
}

TEST(StoreSignalStoreTest, RotatesBySizeAndDeletesOldestBeyondTotalSize) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.max_file_bytes = 1;  // every batch seals its file
  o.max_total_bytes = 0;
  o.codec = BodyCodec::kNone;
  auto s = SignalStore::open(Signal::kLogs, o, &clock);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*s)->append(testing::richLogs()).ok());
    ASSERT_TRUE((*s)->flush().ok());
    clock.advance(absl::Seconds(1));
  }
  // Each flush seals its file; the size budget of 0 leaves nothing sealed behind.
  EXPECT_EQ((*s)->stats().files_sealed, 4u);
  EXPECT_EQ(arrowFiles(tmp.path() + "/logs").size(), 0u);
  EXPECT_EQ((*s)->stats().files_deleted, 4u);
}

TEST(StoreSignalStoreTest, RetentionByAgeDeletesOldestFirstAcrossSignals) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto o = options(tmp.path());
  o.max_file_age = absl::Minutes(10);
  o.retention = absl::Hours(1);
  auto traces = SignalStore::open(Signal::kTraces, o, &clock);
  auto logs = SignalStore::open(Signal::kLogs, o, &clock);
  ASSERT_TRUE(traces.ok() && logs.ok());
  for (int i = 0; i < 8; ++i) {  // 8 files, 11 minutes apart
    ASSERT_TRUE((*traces)->append(testing::richTraces(1)).ok());
    ASSERT_TRUE((*traces)->flush().ok());
    clock.advance(absl::Minutes(11));
  }
  ASSERT_TRUE((*traces)->flush().ok());  // seals the last one, applies retention
  // Files that started more than retention + max_file_age ago are gone, oldest first.
  const auto files = arrowFiles(tmp.path() + "/traces");
  EXPECT_EQ(files.size(), 6u);
  EXPECT_EQ((*traces)->stats().files_deleted, 2u);
  // The logs store applies the same limits to the traces directory.
  clock.advance(absl::Minutes(30));
  ASSERT_TRUE((*logs)->flush().ok());
  EXPECT_EQ(arrowFiles(tmp.path() + "/traces").size(), 3u);
}

TEST(StoreSignalStoreTest, RepairsAFileCutByACrash) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  std::string path;
  {
    auto s = SignalStore::open(Signal::kMetrics, options(tmp.path()), &clock);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->append(testing::richMetrics()).ok());
    ASSERT_TRUE((*s)->flush().ok());
    ASSERT_TRUE((*s)->append(testing::richMetrics()).ok());
    ASSERT_TRUE((*s)->flush().ok());
    path = (*s)->currentFile();
    // Simulate kill -9 in the middle of a write: copy the unsealed file plus half a message.
    const std::string data = readFile(path);
    std::ofstream(path + ".tmp", std::ios::binary) << data << data.substr(0, 200);
  }
  fs::rename(path + ".tmp", path);
  auto s = SignalStore::open(Signal::kMetrics, options(tmp.path()), &clock);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->stats().files_recovered, 1u);
  const std::string repaired = readFile(path);
  EXPECT_EQ(repaired.substr(repaired.size() - 8), kEndOfStream);
  ScanQuery q;
  q.signal = StoredSignal::kMetrics;
  size_t requests = 0;
  EXPECT_EQ(StoreReader::scanFile(
                path, q,
                [&](std::string_view bytes) {
                  otlp::MetricsRequest r;
                  EXPECT_TRUE(r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
                  EXPECT_TRUE(MessageDifferencer::Equals(r, testing::richMetrics()))
                      << r.DebugString();
                  ++requests;
                  return true;
                }),
            "");
  EXPECT_EQ(requests, 2u);
  // A file without a complete schema is set aside, not left as an unreadable .arrow.
  const std::string broken = tmp.path() + "/metrics/20200101T000000Z-000009.arrow";
  std::ofstream(broken, std::ios::binary) << std::string("\xff\xff\xff\xff\x40\x00", 6);
  auto s2 = SignalStore::open(Signal::kMetrics, options(tmp.path()), &clock);
  ASSERT_TRUE(s2.ok());
  EXPECT_FALSE(fs::exists(broken));
  EXPECT_TRUE(fs::exists(broken + ".corrupt"));
}

TEST(StoreReaderTest, FiltersRowsAndSkipsBatchesByTime) {
  TempDir tmp("otlpd-store");
  FakeClock clock;
  auto s = SignalStore::open(Signal::kTraces, options(tmp.path()), &clock);
  ASSERT_TRUE(s.ok());
  const uint64_t t0 = 1'700'000'000'000'000'000ULL;
  const uint64_t t1 = t0 + 3'600'000'000'000ULL;
  ASSERT_TRUE((*s)->append(testing::richTraces(3, t0)).ok());
  ASSERT_TRUE((*s)->flush().ok());
  ASSERT_TRUE((*s)->append(testing::richTraces(3, t1)).ok());
  ASSERT_TRUE((*s)->close().ok());
  StoreReader reader(tmp.path());
  auto count = [&](const ScanQuery& q, ScanStats* st = nullptr) {
    size_t n = 0;
    EXPECT_EQ(reader.scan(
                  q,
                  [&](std::string_view bytes) {
                    otlp::TracesRequest r;
                    r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
                    for (const auto& rs : r.resource_spans())
                      for (const auto& ss : rs.scope_spans())
                        n += static_cast<size_t>(ss.spans_size());
                    return true;
                  },
                  st),
              "");
    return n;
  };
  ScanQuery q;
  EXPECT_EQ(count(q), 12u);
  q.start_unix_nano = static_cast<int64_t>(t1);
  ScanStats st;
  EXPECT_EQ(count(q, &st), 6u);
  EXPECT_EQ(st.batches_skipped, 1u);
  EXPECT_EQ(st.batches_read, 1u);
  q = {};
  q.service = "payments";
  EXPECT_EQ(count(q), 6u);
  q.name = "SELECT";
  EXPECT_EQ(count(q), 2u);
  q = {};
  q.min_duration_ns = 500'000;
  EXPECT_EQ(count(q), 8u);
  q.max_duration_ns = 500'000;
  EXPECT_EQ(count(q), 4u);
  q = {};
  q.attributes = {{"int", "-42"}, {"str", "value"}};
  EXPECT_EQ(count(q), 12u);
  q.attributes = {{"int", "1"}};
  EXPECT_EQ(count(q), 0u);
  q = {};
  q.trace_id = std::string(32, '0');
  EXPECT_EQ(count(q), 0u);
  std::string tid = testing::detail::bytes(16, 1);
  q.trace_id = tid;
  EXPECT_EQ(count(q), 6u);
}

// A real full disk: a 256 KiB tmpfs (needs CAP_SYS_ADMIN; skipped without it).
TEST(StoreDiskFullTest, RefusesAsRetryableAndRecoversWhenSpaceReturns) {
  TempDir tmp("otlpd-store");
  const std::string mnt = tmp.path() + "/mnt";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  // Fill the disk but for a few KiB.
  {
    std::ofstream filler(mnt + "/filler", std::ios::binary);
    filler << std::string(250 * 1024, 'x');
  }
  FakeClock clock;
  auto o = options(mnt);
  o.codec = BodyCodec::kNone;
  auto s = SignalStore::open(Signal::kTraces, o, &clock);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::Status st;
  for (int i = 0; i < 20 && st.ok(); ++i) {
    st = (*s)->append(testing::richTraces(20));
    if (st.ok()) st = (*s)->flush();
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(std::string(st.message()).find("disk full"), std::string::npos) << st;
  EXPECT_GE((*s)->stats().write_failures, 1u);
  // Refused while failing, as retryable.
  EXPECT_EQ((*s)->append(testing::richTraces(1)).code(), absl::StatusCode::kUnavailable);
  // Every file on the full disk is still a readable stream.
  StoreReader reader(mnt);
  EXPECT_EQ(reader.scan({}, [](std::string_view) { return true; }), "");
  fs::remove(mnt + "/filler");
  EXPECT_TRUE((*s)->flush().ok());
  EXPECT_TRUE((*s)->append(testing::richTraces(1)).ok());
  EXPECT_TRUE((*s)->close().ok());
}

}  // namespace
}  // namespace otlpd::store
