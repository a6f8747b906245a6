// The wire conversion (wire_columns.h) must append exactly what the message conversion
// (otlp_columns.h) appends from the decoded request: every buffer of every column, byte for
// byte, and the dictionaries. Checked on the rich test data, loadgen's payloads, random requests
// and hand-made encodings that only the wire can express (reordered, repeated, unknown fields).
#include "store/wire_columns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "loadgen/payloads.h"
#include "otlp/proto.h"
#include "store/otlp_columns.h"
#include "store/signal_store.h"
#include "store_test_data.h"

namespace otlpd::store {
namespace {

using pipeline::Signal;

void expectSameColumn(const Column& a, const Column& b, const std::string& path) {
  ASSERT_EQ(a.length(), b.length()) << path;
  EXPECT_EQ(a.nullCount(), b.nullCount()) << path;
  auto& ma = const_cast<Column&>(a);
  auto& mb = const_cast<Column&>(b);
  EXPECT_EQ(ma.validityBuffer(), mb.validityBuffer()) << path << " validity";
  EXPECT_EQ(ma.valuesBuffer(), mb.valuesBuffer()) << path << " values";
  EXPECT_EQ(ma.offsetsBuffer(), mb.offsetsBuffer()) << path << " offsets";
  EXPECT_EQ(ma.dataBuffer(), mb.dataBuffer()) << path << " data";
  ASSERT_EQ(a.childCount(), b.childCount()) << path;
  for (size_t i = 0; i < a.childCount(); ++i) {
    expectSameColumn(a.child(i), b.child(i), path + "." + a.child(i).spec().name);
  }
}

void expectSameTables(ColumnTable& a, ColumnTable& b) {
  ASSERT_EQ(a.columnCount(), b.columnCount());
  for (size_t c = 0; c < a.columnCount(); ++c) {
    expectSameColumn(a.column(c), b.column(c), a.column(c).spec().name);
  }
  ASSERT_EQ(a.dictionaries().size(), b.dictionaries().size());
  for (size_t d = 0; d < a.dictionaries().size(); ++d) {
    const Dictionary& da = *a.dictionaries()[d];
    const Dictionary& db = *b.dictionaries()[d];
    ASSERT_EQ(da.size(), db.size()) << "dictionary " << d;
    for (size_t i = 0; i < da.size(); ++i) EXPECT_EQ(da.at(i), db.at(i)) << "dictionary " << d;
  }
}

void appendMessage(Signal signal, const google::protobuf::Message& m, ColumnTable& t,
                   TimeRange& r) {
  if (signal == Signal::kTraces) {
    appendTraces(static_cast<const otlp::TracesRequest&>(m), t, r);
  } else {
    appendLogs(static_cast<const otlp::LogsRequest&>(m), t, r);
  }
}

bool appendWire(Signal signal, std::string_view bytes, ColumnTable& t, TimeRange& r) {
  return signal == Signal::kTraces ? appendTracesWire(bytes, t, r) : appendLogsWire(bytes, t, r);
}

std::unique_ptr<google::protobuf::Message> parse(Signal signal, std::string_view bytes) {
  std::unique_ptr<google::protobuf::Message> m;
  if (signal == Signal::kTraces) {
    m = std::make_unique<otlp::TracesRequest>();
  } else {
    m = std::make_unique<otlp::LogsRequest>();
  }
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return nullptr;
  return m;
}

// Converts each encoding twice, once decoded and once from the wire, into two tables (several
// requests into one table, as the store does) and compares them. `wire_handles` says whether the
// wire path must take every request itself; when it gives up, the table is truncated back and
// the decoded request appended, as SignalStore::appendWire() does.
void expectSame(Signal signal, const std::vector<std::string>& encodings,
                bool wire_handles = true) {
  const auto* fields = &fieldsFor(signal);
  ColumnTable by_message(fields), by_wire(fields);
  TimeRange message_range, wire_range;
  for (const std::string& bytes : encodings) {
    auto decoded = parse(signal, bytes);
    ASSERT_NE(decoded, nullptr);
    appendMessage(signal, *decoded, by_message, message_range);
    const size_t rows = by_wire.rows();
    const TimeRange range = wire_range;
    const bool handled = appendWire(signal, bytes, by_wire, wire_range);
    if (wire_handles) {
      ASSERT_TRUE(handled);
    }
    if (!handled) {
      by_wire.truncateRows(rows);
      wire_range = range;
      appendMessage(signal, *decoded, by_wire, wire_range);
    }
  }
  EXPECT_EQ(message_range.min, wire_range.min);
  EXPECT_EQ(message_range.max, wire_range.max);
  expectSameTables(by_message, by_wire);
}

void expectSame(const google::protobuf::Message& m) {
  const Signal signal =
      dynamic_cast<const otlp::TracesRequest*>(&m) != nullptr ? Signal::kTraces : Signal::kLogs;
  expectSame(signal, {m.SerializeAsString(), m.SerializeAsString()});
}

// --- hand-made encodings ---------------------------------------------------------------------

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string tag(uint32_t field, int type) {
  return varint((uint64_t{field} << 3) | type);
}
std::string bytesField(uint32_t field, std::string_view v) {
  return tag(field, 2) + varint(v.size()) + std::string(v);
}
std::string varintField(uint32_t field, uint64_t v) {
  return tag(field, 0) + varint(v);
}
std::string fixed64Field(uint32_t field, uint64_t v) {
  std::string s = tag(field, 1);
  s.append(reinterpret_cast<const char*>(&v), 8);
  return s;
}
std::string fixed32Field(uint32_t field, uint32_t v) {
  std::string s = tag(field, 5);
  s.append(reinterpret_cast<const char*>(&v), 4);
  return s;
}
std::string kv(std::string_view key, const std::string& value_bytes) {
  return bytesField(1, key) + bytesField(2, value_bytes);
}
std::string stringValue(std::string_view s) {
  return bytesField(1, s);
}

std::string traceRequest(const std::string& resource_spans) {
  return bytesField(1, resource_spans);
}
std::string id(size_t n, char c) {
  return std::string(n, c);
}

std::string basicSpan(const std::string& extra = "") {
  return bytesField(1, id(16, 'a')) + bytesField(2, id(8, 'b')) + bytesField(5, "op") +
         fixed64Field(7, 1000) + fixed64Field(8, 3000) + extra;
}

// --- random requests -------------------------------------------------------------------------

class RandomRequests {
 public:
  explicit RandomRequests(uint32_t seed) : rng_(seed) {}

  otlp::TracesRequest traces() {
    otlp::TracesRequest req;
    const int resources = pick(0, 3);
    for (int r = 0; r < resources; ++r) {
      auto* rs = req.add_resource_spans();
      if (chance(4)) resource(rs->mutable_resource());
      if (chance(3)) rs->set_schema_url(text());
      const int scopes = pick(0, 3);
      for (int s = 0; s < scopes; ++s) {
        auto* ss = rs->add_scope_spans();
        if (chance(4)) scope(ss->mutable_scope());
        if (chance(3)) ss->set_schema_url(text());
        const int spans = pick(0, 5);
        for (int i = 0; i < spans; ++i) span(ss->add_spans());
      }
    }
    return req;
  }

  otlp::LogsRequest logs() {
    otlp::LogsRequest req;
    const int resources = pick(0, 3);
    for (int r = 0; r < resources; ++r) {
      auto* rl = req.add_resource_logs();
      if (chance(4)) resource(rl->mutable_resource());
      if (chance(3)) rl->set_schema_url(text());
      const int scopes = pick(0, 3);
      for (int s = 0; s < scopes; ++s) {
        auto* sl = rl->add_scope_logs();
        if (chance(4)) scope(sl->mutable_scope());
        if (chance(3)) sl->set_schema_url(text());
        const int records = pick(0, 5);
        for (int i = 0; i < records; ++i) logRecord(sl->add_log_records());
      }
    }
    return req;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // True with probability (n - 1) / n.
  bool chance(int n) { return pick(1, n) != 1; }
  uint64_t u64() { return std::uniform_int_distribution<uint64_t>()(rng_); }
  uint32_t u32() {
    switch (pick(0, 3)) {
      case 0:
        return 0;
      case 1:
        return UINT32_MAX;
      default:
        return static_cast<uint32_t>(pick(1, 1000));
    }
  }
  std::string text() {
    static const char* const kTexts[] = {
        "", "a", "GET /api/v1/items", "ünïcödé ✓", "service.name", "k=v"};
    const int i = pick(0, 6);
    if (i == 6) return std::string(static_cast<size_t>(pick(100, 300)), 'x');  // 2-byte lengths
    return kTexts[i];
  }
  std::string idBytes(size_t usual) {
    const size_t lengths[] = {usual, usual, usual, 0, usual - 1, usual + 1};
    std::string s(lengths[pick(0, 5)], '\0');
    for (char& c : s) c = static_cast<char>(pick(0, 255));
    return s;
  }

  void value(otlp::pb_common::AnyValue* v, int depth) {
    switch (pick(0, depth > 2 ? 5 : 7)) {
      case 0:
        break;  // empty
      case 1:
        v->set_string_value(text());
        break;
      case 2:
        v->set_int_value(chance(2) ? static_cast<int64_t>(u64()) : pick(-5, 5));
        break;
      case 3:
        v->set_double_value(chance(2) ? -0.0 : 1.0 / pick(1, 7));
        break;
      case 4:
        v->set_bool_value(chance(2));
        break;
      case 5:
        v->set_bytes_value(idBytes(pick(1, 20)));
        break;
      case 6: {
        auto* a = v->mutable_array_value();
        const int n = pick(0, 3);
        for (int i = 0; i < n; ++i) value(a->add_values(), depth + 1);
        break;
      }
      default: {
        auto* l = v->mutable_kvlist_value();
        attrs(l->mutable_values(), depth + 1);
        break;
      }
    }
  }
  void attrs(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* out, int depth = 0) {
    const int n = pick(0, 6);
    for (int i = 0; i < n; ++i) {
      auto* kv = out->Add();
      if (chance(8)) kv->set_key(chance(3) ? text() : "service.name");
      if (chance(8)) value(kv->mutable_value(), depth);
    }
  }
  void resource(otlp::pb_resource::Resource* r) {
    attrs(r->mutable_attributes());
    if (chance(2)) {
      auto* kv = r->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value(text());
    }
    r->set_dropped_attributes_count(u32());
    if (!chance(4)) {
      auto* ref = r->add_entity_refs();
      ref->set_type("service");
      ref->set_schema_url(text());
      ref->add_id_keys("service.name");
      ref->add_description_keys(text());
    }
  }
  void scope(otlp::pb_common::InstrumentationScope* s) {
    if (chance(4)) s->set_name(text());
    if (chance(2)) s->set_version(text());
    attrs(s->mutable_attributes());
    s->set_dropped_attributes_count(u32());
  }
  void span(otlp::pb_trace::Span* s) {
    if (chance(8)) s->set_trace_id(idBytes(16));
    if (chance(8)) s->set_span_id(idBytes(8));
    if (chance(2)) s->set_parent_span_id(idBytes(8));
    if (chance(3)) s->set_trace_state(text());
    s->set_flags(u32());
    s->set_name(text());
    s->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(pick(0, 5)));
    const uint64_t start = chance(6) ? u64() : 1'700'000'000'000'000'000ULL + u64() % 1000000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(chance(6) ? start + u64() % 100000 : u64());
    attrs(s->mutable_attributes());
    s->set_dropped_attributes_count(u32());
    for (int n = pick(0, 2), i = 0; i < n; ++i) {
      auto* e = s->add_events();
      e->set_time_unix_nano(u64());
      if (chance(4)) e->set_name(text());
      attrs(e->mutable_attributes());
      e->set_dropped_attributes_count(u32());
    }
    s->set_dropped_events_count(u32());
    for (int n = pick(0, 2), i = 0; i < n; ++i) {
      auto* l = s->add_links();
      if (chance(4)) l->set_trace_id(idBytes(16));
      if (chance(4)) l->set_span_id(idBytes(8));
      if (chance(2)) l->set_trace_state(text());
      attrs(l->mutable_attributes());
      l->set_dropped_attributes_count(u32());
      l->set_flags(u32());
    }
    s->set_dropped_links_count(u32());
    if (chance(2)) {
      s->mutable_status()->set_code(static_cast<otlp::pb_trace::Status::StatusCode>(pick(0, 2)));
      if (chance(2)) s->mutable_status()->set_message(text());
    }
  }
  void logRecord(otlp::pb_logs::LogRecord* r) {
    if (chance(6)) r->set_time_unix_nano(chance(6) ? 1'700'000'000'000'000'000ULL : u64());
    if (chance(6)) r->set_observed_time_unix_nano(u64());
    r->set_severity_number(static_cast<otlp::pb_logs::SeverityNumber>(pick(0, 24)));
    if (chance(2)) r->set_severity_text(chance(2) ? "INFO" : text());
    if (chance(4)) value(r->mutable_body(), 0);
    attrs(r->mutable_attributes());
    r->set_dropped_attributes_count(u32());
    r->set_flags(u32());
    if (chance(2)) r->set_trace_id(idBytes(16));
    if (chance(2)) r->set_span_id(idBytes(8));
    if (chance(3)) r->set_event_name(text());
  }

  std::mt19937 rng_;
};

// --- tests -----------------------------------------------------------------------------------

TEST(WireColumnsTest, RichTracesAndLogs) {
  expectSame(testing::richTraces());
  expectSame(testing::richTraces(7));
  expectSame(testing::richLogs());
}

TEST(WireColumnsTest, LoadgenPayloads) {
  const uint64_t base = 1'700'000'000'000'000'000ULL;
  for (auto shape : {loadgen::Shape::kRealistic, loadgen::Shape::kMinimal}) {
    for (Signal signal : {Signal::kTraces, Signal::kLogs}) {
      std::vector<std::string> encodings;
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        encodings.push_back(
            loadgen::makeRequest(signal, shape, 1000, seed, base)->SerializeAsString());
      }
      SCOPED_TRACE(std::string(loadgen::shapeName(shape)) + " " +
                   std::string(pipeline::signalName(signal)));
      expectSame(signal, encodings);
    }
  }
}

TEST(WireColumnsTest, RandomRequests) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomRequests gen(seed);
    std::vector<std::string> traces, logs;
    for (int i = 0; i < 3; ++i) {
      traces.push_back(gen.traces().SerializeAsString());
      logs.push_back(gen.logs().SerializeAsString());
    }
    expectSame(Signal::kTraces, traces);
    expectSame(Signal::kLogs, logs);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(WireColumnsTest, EmptyRequestsAndEnvelopes) {
  expectSame(Signal::kTraces, {"", traceRequest(""), traceRequest(bytesField(2, ""))});
  expectSame(Signal::kLogs,
             {"", bytesField(1, ""), bytesField(1, bytesField(2, bytesField(2, "")))});
}

// Orders and repetitions protobuf accepts but a serializer never writes.
TEST(WireColumnsTest, EncodingsOnlyTheWireHas) {
  const std::string resource =
      bytesField(1, kv("service.name", stringValue("svc"))) + varintField(2, 3);
  const std::string scope = bytesField(1, "lib") + bytesField(2, "1.0");
  const std::string scope_spans_late_scope = bytesField(2, basicSpan()) +
                                             bytesField(2, basicSpan()) +
                                             bytesField(3, "scope-url") + bytesField(1, scope);
  // The resource and schema URL after the scopes; unknown fields everywhere.
  expectSame(Signal::kTraces,
             {traceRequest(bytesField(2, scope_spans_late_scope) + bytesField(3, "res-url") +
                           bytesField(1, resource) + varintField(99, 7)) +
              bytesField(50, "unknown")});

  // Singular fields sent twice: the last wins; Status occurrences merge field by field.
  const std::string repeated_scalars = basicSpan(
      bytesField(5, "renamed") + fixed64Field(7, 2000) + bytesField(1, id(15, 'x')) +
      bytesField(15, varintField(3, 2) + bytesField(2, "first")) +
      bytesField(15, bytesField(2, "second")) + varintField(6, 3) + fixed32Field(16, 0x301) +
      fixed32Field(16, 0x1) + bytesField(200, "z") + fixed64Field(201, 5) + fixed32Field(202, 6));
  expectSame(Signal::kTraces, {traceRequest(bytesField(2, bytesField(2, repeated_scalars)))});

  // A KeyValue whose value comes twice (merged), values with two fields (the last wins), arrays
  // merged across occurrences, keys sent twice, service.name first with an int value.
  const std::string odd_attrs =
      bytesField(9, kv("merged", stringValue("a")) + bytesField(2, varintField(3, 5))) +
      bytesField(9, kv("two-fields", stringValue("a") + varintField(2, 1))) +
      bytesField(9, kv("arrays", bytesField(5, bytesField(1, varintField(3, 1)))) +
                        bytesField(2, bytesField(5, bytesField(1, stringValue("x"))))) +
      bytesField(9, bytesField(1, "first-key") + bytesField(1, "second-key")) +
      bytesField(9, kv("long", stringValue(std::string(300, 'y'))));
  const std::string odd_resource =
      bytesField(1, kv("service.name", varintField(3, 1))) +
      bytesField(1, kv("service.name", stringValue("second"))) +
      bytesField(3, bytesField(2, "service") + bytesField(3, "service.name"));
  expectSame(Signal::kTraces,
             {traceRequest(bytesField(1, odd_resource) +
                           bytesField(2, bytesField(2, basicSpan(odd_attrs)) +
                                             bytesField(2, basicSpan(odd_attrs))))});

  // Log bodies: absent, empty, of each kind; a scalar field sent twice.
  std::vector<std::string> logs;
  for (const std::string& body :
       {std::string(), stringValue(""), varintField(2, 0), fixed64Field(4, 0), bytesField(7, ""),
        bytesField(6, ""), bytesField(5, bytesField(1, ""))}) {
    std::string record = fixed64Field(1, 5) + varintField(2, 9) + varintField(2, 13) +
                         bytesField(3, "WARN") + fixed64Field(11, 7);
    if (!body.empty() || logs.empty()) record += bytesField(5, body);
    logs.push_back(bytesField(1, bytesField(2, bytesField(2, record))));
  }
  expectSame(Signal::kLogs, logs);
}

// What the wire path leaves to protobuf: the caller truncates and appends the decoded request.
TEST(WireColumnsTest, GivesUpWhereProtobufMerges) {
  const std::string span = bytesField(2, basicSpan());
  const std::string twice_resource =
      traceRequest(bytesField(1, bytesField(1, kv("a", stringValue("1")))) +
                   bytesField(1, bytesField(1, kv("b", stringValue("2")))) + bytesField(2, span));
  const std::string twice_scope = traceRequest(
      bytesField(2, bytesField(1, bytesField(1, "x")) + span + bytesField(1, bytesField(2, "v"))));
  const std::string name_as_varint =
      traceRequest(bytesField(2, bytesField(2, basicSpan(varintField(5, 1)))));
  const std::string rich = testing::richTraces().SerializeAsString();
  for (const std::string& bytes : {twice_resource, twice_scope, name_as_varint}) {
    ColumnTable t(&fieldsFor(Signal::kTraces));
    TimeRange r;
    EXPECT_FALSE(appendTracesWire(bytes, t, r));
    expectSame(Signal::kTraces, {rich, bytes, rich}, /*wire_handles=*/false);
  }
  const std::string twice_body = bytesField(
      1, bytesField(
             2, bytesField(2, bytesField(5, stringValue("a")) + bytesField(5, varintField(3, 1)))));
  ColumnTable t(&fieldsFor(Signal::kLogs));
  TimeRange r;
  EXPECT_FALSE(appendLogsWire(twice_body, t, r));
  expectSame(Signal::kLogs, {testing::richLogs().SerializeAsString(), twice_body},
             /*wire_handles=*/false);
}

// Truncating after a request the wire gave up on half-way leaves the table as it was.
TEST(WireColumnsTest, TruncateUndoesAPartialRequest) {
  const std::string rich = testing::richTraces().SerializeAsString();
  ColumnTable expected(&fieldsFor(Signal::kTraces)), t(&fieldsFor(Signal::kTraces));
  TimeRange r1, r2;
  ASSERT_TRUE(appendTracesWire(rich, expected, r1));
  ASSERT_TRUE(appendTracesWire(rich, t, r2));
  // Rich again with its last bytes cut off: some spans convert before the walk fails.
  const std::string cut = rich.substr(0, rich.size() - 5);
  const size_t rows = t.rows();
  EXPECT_FALSE(appendTracesWire(cut, t, r2));
  EXPECT_GT(t.rows(), rows);
  t.truncateRows(rows);
  // Dictionaries may keep values of the dropped rows; here every value was already there.
  expectSameTables(expected, t);
  // And the table goes on as before.
  ASSERT_TRUE(appendTracesWire(rich, expected, r1));
  ASSERT_TRUE(appendTracesWire(rich, t, r2));
  expectSameTables(expected, t);
}

// Scopes' rows copy their resource and scope columns in bulk: the same bytes as row by row.
TEST(WireColumnsTest, RepeatLastRowInBulkEqualsRowByRow) {
  for (Signal signal : {Signal::kTraces, Signal::kLogs}) {
    const auto* fields = &fieldsFor(signal);
    ColumnTable bulk(fields), one_by_one(fields);
    TimeRange r;
    for (ColumnTable* t : {&bulk, &one_by_one}) {
      if (signal == Signal::kTraces) {
        appendTraces(testing::richTraces(1), *t, r);
      } else {
        appendLogs(testing::richLogs(), *t, r);
      }
    }
    for (size_t c = 0; c < bulk.columnCount(); ++c) {
      for (size_t count : {1, 2, 5, 37}) {
        bulk.column(c).repeatLastRow(count);
        for (size_t i = 0; i < count; ++i) one_by_one.column(c).repeatLastRow();
      }
    }
    expectSameTables(bulk, one_by_one);
  }
}

class FixedClock final : public Clock {
 public:
  absl::Time now() override { return absl::FromUnixSeconds(1'700'000'000); }
};

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Through SignalStore: the files written from wire bytes equal those written from messages.
TEST(WireColumnsTest, StoreFilesFromWireEqualFilesFromMessages) {
  const auto root =
      std::filesystem::temp_directory_path() / ("otlpd-wire-columns-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    std::vector<std::string> encodings;
    if (signal == Signal::kTraces) {
      encodings = {
          testing::richTraces().SerializeAsString(),
          loadgen::makeRequest(signal, loadgen::Shape::kRealistic, 500, 1, 1)->SerializeAsString(),
          traceRequest(bytesField(1, "") + bytesField(1, "") +
                       bytesField(2, bytesField(2, basicSpan())))};
    } else if (signal == Signal::kLogs) {
      encodings = {
          testing::richLogs().SerializeAsString(),
          loadgen::makeRequest(signal, loadgen::Shape::kRealistic, 500, 1, 1)->SerializeAsString()};
    } else {
      encodings = {testing::richMetrics().SerializeAsString()};
    }
    FixedClock clock;
    std::vector<std::string> files;
    for (bool wire : {false, true}) {
      StoreOptions o;
      o.directory = (root / (wire ? "wire" : "message")).string();
      o.fsync = FsyncPolicy::kNever;
      auto s = SignalStore::open(signal, o, &clock);
      ASSERT_TRUE(s.ok()) << s.status();
      for (const std::string& bytes : encodings) {
        if (wire) {
          ASSERT_TRUE((*s)->appendWire(bytes).ok());
        } else {
          auto m = signal == Signal::kMetrics
                       ? std::unique_ptr<google::protobuf::Message>(new otlp::MetricsRequest)
                       : parse(signal, bytes);
          ASSERT_TRUE(m->ParseFromString(bytes));
          ASSERT_TRUE((*s)->append(*m).ok());
        }
        ASSERT_TRUE((*s)->flush().ok());
      }
      const std::string path = (*s)->currentFile();
      ASSERT_TRUE((*s)->close().ok());
      files.push_back(readFile(path));
      EXPECT_GT(files.back().size(), 100u);
    }
    EXPECT_TRUE(files[0] == files[1]) << pipeline::signalName(signal);
    ColumnTable t(&fieldsFor(signal));
    auto s = SignalStore::open(signal, StoreOptions{.directory = (root / "bad").string()}, &clock);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->appendWire("\x0a\x05\x01").code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ((*s)->pendingRows(), 0u);
    ASSERT_TRUE((*s)->close().ok());
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace otlpd::store
