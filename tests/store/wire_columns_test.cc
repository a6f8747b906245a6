// The wire conversion (wire_columns.h) must append exactly what the message conversion
// (otlp_columns.h) appends from the decoded request: every buffer of every column, byte for
// byte, and the dictionaries. Checked for every signal on the rich test data, loadgen's payloads,
// random requests and hand-made encodings that only the wire can express (reordered, repeated,
// unknown fields, packed and unpacked repeated numbers).
#include "store/wire_columns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
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

// The string a value struct's row holds: layout 3's str_dict when set there, else str.
std::string_view stringIn(const Column& str, const Column& str_dict, size_t row) {
  if (!str_dict.isNull(row)) return str_dict.bytesAt(row);
  return str.isNull(row) ? std::string_view() : str.bytesAt(row);
}

bool isRepeatedStringsMember(const Column& c) {
  return c.spec().name == "str_dict";
}

void expectSameColumn(const Column& a, const Column& b, const std::string& path);

// A value struct with layout 3's str_dict: a string that repeats is in str_dict once the
// dictionary has seen it twice, and the two conversions may first see it in a different order
// (the message path appends a metric's metadata on every data point's row, the wire path copies
// the first row). Every row must hold the same string in one of them; the rest is byte-equal.
void expectSameValueStruct(const Column& a, const Column& b, const std::string& path) {
  const size_t n = a.childCount();
  const Column& a_dict = a.child(n - 1);
  const Column& b_dict = b.child(n - 1);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (a.child(i).spec().name == "str") {
      for (size_t row = 0; row < a.length(); ++row) {
        EXPECT_EQ(stringIn(a.child(i), a_dict, row), stringIn(b.child(i), b_dict, row))
            << path << " row " << row;
      }
      continue;
    }
    expectSameColumn(a.child(i), b.child(i), path + "." + a.child(i).spec().name);
  }
}

void expectSameColumn(const Column& a, const Column& b, const std::string& path) {
  ASSERT_EQ(a.length(), b.length()) << path;
  ASSERT_EQ(a.childCount(), b.childCount()) << path;
  if (a.childCount() > 0 && isRepeatedStringsMember(a.child(a.childCount() - 1))) {
    EXPECT_EQ(a.nullCount(), b.nullCount()) << path;
    expectSameValueStruct(a, b, path);
    return;
  }
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

void collectRepeatedStrings(const Column& c, std::vector<const Dictionary*>& out) {
  if (isRepeatedStringsMember(c)) out.push_back(c.dictionary());
  for (size_t i = 0; i < c.childCount(); ++i) collectRepeatedStrings(c.child(i), out);
}

void expectSameTables(ColumnTable& a, ColumnTable& b) {
  ASSERT_EQ(a.columnCount(), b.columnCount());
  for (size_t c = 0; c < a.columnCount(); ++c) {
    expectSameColumn(a.column(c), b.column(c), a.column(c).spec().name);
  }
  ASSERT_EQ(a.dictionaries().size(), b.dictionaries().size());
  std::vector<const Dictionary*> admitted;
  for (size_t c = 0; c < a.columnCount(); ++c) collectRepeatedStrings(a.column(c), admitted);
  for (size_t d = 0; d < a.dictionaries().size(); ++d) {
    // Which values a str_dict dictionary holds depends on admission order (above).
    if (std::find(admitted.begin(), admitted.end(), a.dictionaries()[d].get()) != admitted.end()) {
      continue;
    }
    const Dictionary& da = *a.dictionaries()[d];
    const Dictionary& db = *b.dictionaries()[d];
    ASSERT_EQ(da.size(), db.size()) << "dictionary " << d;
    for (size_t i = 0; i < da.size(); ++i) EXPECT_EQ(da.at(i), db.at(i)) << "dictionary " << d;
  }
}

void appendMessage(Signal signal, const google::protobuf::Message& m, ColumnTable& t,
                   TimeRange& r) {
  switch (signal) {
    case Signal::kTraces:
      appendTraces(static_cast<const otlp::TracesRequest&>(m), t, r);
      break;
    case Signal::kLogs:
      appendLogs(static_cast<const otlp::LogsRequest&>(m), t, r);
      break;
    case Signal::kMetrics:
      appendMetrics(static_cast<const otlp::MetricsRequest&>(m), t, r);
      break;
  }
}

bool appendWire(Signal signal, std::string_view bytes, ColumnTable& t, TimeRange& r) {
  switch (signal) {
    case Signal::kTraces:
      return appendTracesWire(bytes, t, r);
    case Signal::kLogs:
      return appendLogsWire(bytes, t, r);
    case Signal::kMetrics:
      break;
  }
  return appendMetricsWire(bytes, t, r);
}

std::unique_ptr<google::protobuf::Message> parse(Signal signal, std::string_view bytes) {
  std::unique_ptr<google::protobuf::Message> m;
  switch (signal) {
    case Signal::kTraces:
      m = std::make_unique<otlp::TracesRequest>();
      break;
    case Signal::kLogs:
      m = std::make_unique<otlp::LogsRequest>();
      break;
    case Signal::kMetrics:
      m = std::make_unique<otlp::MetricsRequest>();
      break;
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
  Signal signal = Signal::kLogs;
  if (dynamic_cast<const otlp::TracesRequest*>(&m) != nullptr) signal = Signal::kTraces;
  if (dynamic_cast<const otlp::MetricsRequest*>(&m) != nullptr) signal = Signal::kMetrics;
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

  otlp::MetricsRequest metrics() {
    otlp::MetricsRequest req;
    const int resources = pick(0, 3);
    for (int r = 0; r < resources; ++r) {
      auto* rm = req.add_resource_metrics();
      if (chance(4)) resource(rm->mutable_resource());
      if (chance(3)) rm->set_schema_url(text());
      const int scopes = pick(0, 3);
      for (int s = 0; s < scopes; ++s) {
        auto* sm = rm->add_scope_metrics();
        if (chance(4)) scope(sm->mutable_scope());
        if (chance(3)) sm->set_schema_url(text());
        const int metrics = pick(0, 4);
        for (int i = 0; i < metrics; ++i) metric(sm->add_metrics());
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

  double dbl() {
    switch (pick(0, 4)) {
      case 0:
        return 0;
      case 1:
        return -0.0;
      case 2:
        return std::numeric_limits<double>::infinity();
      case 3:
        return std::numeric_limits<double>::quiet_NaN();
      default:
        return static_cast<double>(pick(-1000, 1000)) / 7;
    }
  }
  uint64_t time() { return chance(6) ? 1'700'000'000'000'000'000ULL + u64() % 1000000 : u64(); }
  template <class P>
  void pointCommon(P* p) {
    if (chance(8)) p->set_time_unix_nano(time());
    if (chance(2)) p->set_start_time_unix_nano(time());
    attrs(p->mutable_attributes());
    if (!chance(3)) p->set_flags(u32());
  }
  template <class P>
  void exemplars(P* p) {
    for (int n = chance(2) ? 0 : pick(1, 3), i = 0; i < n; ++i) {
      auto* e = p->add_exemplars();
      if (chance(4)) e->set_time_unix_nano(time());
      switch (pick(0, 2)) {
        case 0:
          break;
        case 1:
          e->set_as_int(static_cast<int64_t>(u64()));
          break;
        default:
          e->set_as_double(dbl());
      }
      if (chance(2)) e->set_span_id(idBytes(8));
      if (chance(2)) e->set_trace_id(idBytes(16));
      attrs(e->mutable_filtered_attributes());
    }
  }
  void numberPoint(otlp::pb_metrics::NumberDataPoint* p) {
    pointCommon(p);
    switch (pick(0, 2)) {
      case 0:
        break;
      case 1:
        p->set_as_int(chance(2) ? static_cast<int64_t>(u64()) : pick(-5, 5));
        break;
      default:
        p->set_as_double(dbl());
    }
    exemplars(p);
  }
  void expBuckets(otlp::pb_metrics::ExponentialHistogramDataPoint::Buckets* b) {
    b->set_offset(chance(2) ? pick(-100, 100) : static_cast<int32_t>(u64()));
    for (int n = pick(0, 6), i = 0; i < n; ++i) b->add_bucket_counts(chance(2) ? u64() : 3);
  }
  void metric(otlp::pb_metrics::Metric* m) {
    using namespace otlp::pb_metrics;
    if (chance(8)) m->set_name(text());
    if (chance(2)) m->set_description(text());
    if (chance(2)) m->set_unit(chance(2) ? "ms" : text());
    if (!chance(4)) attrs(m->mutable_metadata());
    const int points = chance(8) ? pick(1, 5) : 0;
    const auto temporality = static_cast<AggregationTemporality>(pick(0, 2));
    switch (pick(0, 5)) {
      case 0:
        break;  // no data
      case 1: {
        auto* g = m->mutable_gauge();
        for (int i = 0; i < points; ++i) numberPoint(g->add_data_points());
        break;
      }
      case 2: {
        auto* sum = m->mutable_sum();
        sum->set_aggregation_temporality(temporality);
        sum->set_is_monotonic(chance(2));
        for (int i = 0; i < points; ++i) numberPoint(sum->add_data_points());
        break;
      }
      case 3: {
        auto* h = m->mutable_histogram();
        h->set_aggregation_temporality(temporality);
        for (int i = 0; i < points; ++i) {
          auto* p = h->add_data_points();
          pointCommon(p);
          p->set_count(u64() % 100);
          if (chance(2)) p->set_sum(dbl());
          if (chance(2)) p->set_min(dbl());
          if (chance(2)) p->set_max(dbl());
          for (int n = pick(0, 5), b = 0; b < n; ++b) {
            p->add_explicit_bounds(dbl());
            p->add_bucket_counts(u64() % 10);
          }
          if (chance(2)) p->add_bucket_counts(u64());
          exemplars(p);
        }
        break;
      }
      case 4: {
        auto* e = m->mutable_exponential_histogram();
        e->set_aggregation_temporality(temporality);
        for (int i = 0; i < points; ++i) {
          auto* p = e->add_data_points();
          pointCommon(p);
          p->set_count(u64() % 100);
          if (chance(2)) p->set_sum(dbl());
          if (chance(2)) p->set_min(dbl());
          if (chance(2)) p->set_max(dbl());
          p->set_scale(pick(-10, 20));
          if (chance(2)) p->set_zero_count(u64() % 10);
          if (chance(2)) p->set_zero_threshold(dbl());
          if (chance(2)) expBuckets(p->mutable_positive());
          if (chance(2)) expBuckets(p->mutable_negative());
          exemplars(p);
        }
        break;
      }
      default: {
        auto* s = m->mutable_summary();
        for (int i = 0; i < points; ++i) {
          auto* p = s->add_data_points();
          pointCommon(p);
          p->set_count(u64() % 100);
          if (chance(2)) p->set_sum(dbl());
          for (int n = pick(0, 3), q = 0; q < n; ++q) {
            auto* v = p->add_quantile_values();
            if (chance(2)) v->set_quantile(dbl());
            if (chance(2)) v->set_value(dbl());
          }
        }
      }
    }
  }

  std::mt19937 rng_;
};

// --- tests -----------------------------------------------------------------------------------

TEST(WireColumnsTest, RichTracesAndLogs) {
  expectSame(testing::richTraces());
  expectSame(testing::richTraces(7));
  expectSame(testing::richLogs());
}

TEST(WireColumnsTest, RichMetrics) {
  expectSame(testing::richMetrics());
  expectSame(testing::richMetrics(7));
}

TEST(WireColumnsTest, LoadgenPayloads) {
  const uint64_t base = 1'700'000'000'000'000'000ULL;
  for (auto shape : {loadgen::Shape::kRealistic, loadgen::Shape::kMinimal}) {
    for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
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
    std::vector<std::string> traces, logs, metrics;
    for (int i = 0; i < 3; ++i) {
      traces.push_back(gen.traces().SerializeAsString());
      logs.push_back(gen.logs().SerializeAsString());
      metrics.push_back(gen.metrics().SerializeAsString());
    }
    expectSame(Signal::kTraces, traces);
    expectSame(Signal::kLogs, logs);
    expectSame(Signal::kMetrics, metrics);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(WireColumnsTest, EmptyRequestsAndEnvelopes) {
  expectSame(Signal::kTraces, {"", traceRequest(""), traceRequest(bytesField(2, ""))});
  expectSame(Signal::kLogs,
             {"", bytesField(1, ""), bytesField(1, bytesField(2, bytesField(2, "")))});
  // Metrics without data, with empty data, with empty data points of every type.
  std::vector<std::string> metrics = {"", bytesField(1, ""), bytesField(1, bytesField(2, "")),
                                      bytesField(1, bytesField(2, bytesField(2, "")))};
  for (uint32_t data : {5, 7, 9, 10, 11}) {
    metrics.push_back(
        bytesField(1, bytesField(2, bytesField(2, bytesField(1, "m") + bytesField(data, "")))));
    metrics.push_back(bytesField(
        1, bytesField(2, bytesField(2, bytesField(data, bytesField(1, "") + bytesField(1, ""))))));
  }
  expectSame(Signal::kMetrics, metrics);
}

std::string metricsRequest(const std::string& metrics, const std::string& resource = "") {
  return bytesField(1, (resource.empty() ? "" : bytesField(1, resource)) +
                           bytesField(2, bytesField(1, bytesField(1, "lib")) + metrics));
}
std::string metric(const std::string& fields) {
  return bytesField(2, fields);
}
std::string packedFixed64(uint32_t field, std::initializer_list<uint64_t> values) {
  std::string packed;
  for (uint64_t v : values) packed.append(reinterpret_cast<const char*>(&v), 8);
  return bytesField(field, packed);
}
uint64_t bitsOf(double d) {
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return v;
}

// Orders, repetitions and encodings protobuf accepts in metrics but a serializer rarely writes.
TEST(WireColumnsTest, MetricEncodingsOnlyTheWireHas) {
  const std::string resource = bytesField(1, kv("service.name", stringValue("svc")));
  const std::string exemplar =
      bytesField(7, kv("user", stringValue("u"))) + fixed64Field(2, 9) + fixed64Field(6, 4) +
      fixed64Field(3, bitsOf(0.5)) + bytesField(4, id(8, 's')) + bytesField(5, id(15, 't')) +
      varintField(99, 1) + fixed64Field(6, 7);  // as_int wins: the oneof's last member
  // Number points: value fields twice (the last wins), attributes between other fields,
  // unknown fields, times twice, flags over 32 bits (protobuf keeps the low 32).
  const std::string number_point =
      fixed64Field(3, 10) + bytesField(7, kv("a", stringValue("1"))) + fixed64Field(4, bitsOf(2)) +
      fixed64Field(6, static_cast<uint64_t>(-3)) + bytesField(5, exemplar) +
      varintField(8, (uint64_t{7} << 32) | 5) + bytesField(7, kv("b", varintField(3, 2))) +
      fixed64Field(3, 20) + bytesField(40, "x") + fixed32Field(41, 1);
  const std::string double_point = fixed64Field(6, 1) + fixed64Field(4, bitsOf(-0.0));
  // The data field and metadata before the name; Gauge and Summary carry unknown fields 2 and 3
  // (of any wire type); a sum's temporality is an enum over 32 bits and negative.
  const std::string gauge = metric(
      bytesField(5, bytesField(1, number_point) + bytesField(2, "x") + fixed64Field(3, 1) +
                        bytesField(1, double_point)) +
      bytesField(12, kv("m", stringValue("meta"))) + bytesField(1, "gauge") + bytesField(3, "1") +
      bytesField(12, kv("n", fixed64Field(4, bitsOf(1)))) + bytesField(2, "desc") +
      bytesField(1, "gauge2") + varintField(4, 1) + bytesField(6, "") + bytesField(8, ""));
  const std::string sum =
      metric(bytesField(7, varintField(3, 2) + bytesField(1, number_point) + varintField(2, 1) +
                               varintField(2, static_cast<uint64_t>(-2)) + bytesField(1, "")) +
             bytesField(1, "sum"));
  const std::string sum_wide_temporality =
      metric(bytesField(1, "sum2") +
             bytesField(7, bytesField(1, double_point) + varintField(2, (uint64_t{1} << 32) | 2) +
                               varintField(3, 0)));
  // Histogram: buckets and bounds unpacked, packed, and mixed; sum, min and max explicitly 0.
  const std::string histogram_point =
      fixed64Field(6, 1) + packedFixed64(6, {2, 3}) + fixed64Field(6, 4) +
      packedFixed64(7, {bitsOf(1), bitsOf(2)}) + fixed64Field(7, bitsOf(3)) + packedFixed64(6, {}) +
      fixed64Field(5, 0) + fixed64Field(11, 0) + fixed64Field(12, bitsOf(-1)) +
      fixed64Field(4, 10) + bytesField(9, kv("h", stringValue("x"))) + bytesField(8, exemplar) +
      varintField(10, 1) + fixed64Field(3, 5);
  const std::string histogram =
      metric(bytesField(9, bytesField(1, histogram_point) + bytesField(1, fixed64Field(4, 1)) +
                               varintField(2, 1) + varintField(3, 1)) +
             bytesField(1, "histogram"));
  // Exponential histogram: buckets sent twice (merged), counts packed and not, offsets and
  // scale as sint32 from varints over 32 bits.
  const std::string buckets1 =
      varintField(1, 5) + varintField(2, 1) + bytesField(2, std::string("\x02\x80\x01", 3));
  const std::string buckets2 = varintField(1, (uint64_t{1} << 40) | 7) + varintField(2, 9);
  const std::string exp_point =
      bytesField(8, buckets1) + varintField(6, 3) + bytesField(8, buckets2) + bytesField(9, "") +
      fixed64Field(14, bitsOf(0.25)) + fixed64Field(7, 2) + fixed64Field(13, bitsOf(4)) +
      fixed64Field(4, 12) + bytesField(1, kv("e", stringValue("x"))) + bytesField(11, exemplar) +
      varintField(6, (uint64_t{3} << 32) | 4) + fixed64Field(2, 1);
  const std::string exp_histogram =
      metric(bytesField(10, bytesField(1, exp_point) + bytesField(1, "") + varintField(2, 2)) +
             bytesField(1, "exp"));
  // Summary: quantiles with fields twice and unknown fields; field 2 an unknown varint.
  const std::string quantile = fixed64Field(1, bitsOf(0.5)) + fixed64Field(2, bitsOf(1)) +
                               fixed64Field(1, bitsOf(0.9)) + varintField(3, 1);
  const std::string summary_point = bytesField(6, quantile) + fixed64Field(5, bitsOf(3)) +
                                    bytesField(6, "") + fixed64Field(4, 2) +
                                    bytesField(7, kv("s", stringValue("x"))) + varintField(8, 1);
  const std::string summary =
      metric(bytesField(11, bytesField(1, summary_point) + varintField(2, 9) + bytesField(1, "")) +
             bytesField(1, "summary"));
  // A metric without data between metrics with data, and one whose type has no points.
  const std::string no_data = metric(bytesField(1, "none") + bytesField(12, kv("x", "")));
  const std::string no_points = metric(bytesField(1, "empty") + bytesField(7, varintField(2, 1)));
  expectSame(Signal::kMetrics,
             {metricsRequest(gauge + no_data + sum + sum_wide_temporality + no_points + histogram +
                                 exp_histogram + summary,
                             resource),
              metricsRequest(summary + gauge) + metricsRequest(histogram, resource),
              // The resource after the scopes, the scope after its metrics.
              bytesField(1, bytesField(2, exp_histogram + bytesField(1, bytesField(1, "late"))) +
                                bytesField(1, resource) + bytesField(3, "url")) +
                  bytesField(9, "unknown")});
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

  // Metrics: two data fields (protobuf keeps the last member, merging repeats of it), a known
  // field with another wire type, a resource sent twice.
  const std::string point = bytesField(1, fixed64Field(3, 1) + fixed64Field(6, 2));
  const std::string rich_metrics = testing::richMetrics().SerializeAsString();
  for (const std::string& bytes : {
           metricsRequest(metric(bytesField(5, point) + bytesField(7, point))),
           metricsRequest(metric(bytesField(5, point) + bytesField(5, point))),
           metricsRequest(metric(bytesField(9, point) + bytesField(11, point))),
           metricsRequest(metric(bytesField(5, bytesField(1, varintField(6, 2))))),
           metricsRequest(metric(bytesField(7, point + bytesField(2, "")))),
           metricsRequest(metric(bytesField(9, bytesField(1, bytesField(4, ""))))),
           metricsRequest(metric(bytesField(10, bytesField(1, fixed64Field(6, 1))))),
           metricsRequest(metric(varintField(1, 1) + bytesField(5, point))),
           bytesField(1, bytesField(1, "") + bytesField(1, "") +
                             bytesField(2, metric(bytesField(5, point)))),
       }) {
    ColumnTable mt(&fieldsFor(Signal::kMetrics));
    TimeRange mr;
    EXPECT_FALSE(appendMetricsWire(bytes, mt, mr));
    expectSame(Signal::kMetrics, {rich_metrics, bytes, rich_metrics}, /*wire_handles=*/false);
  }
  // Bytes protobuf rejects too: a packed fixed64 field cut mid-value, a packed varint cut.
  for (const std::string& bytes :
       {metricsRequest(metric(bytesField(9, bytesField(1, bytesField(6, "1234567"))))),
        metricsRequest(
            metric(bytesField(10, bytesField(1, bytesField(8, bytesField(2, "\x80"))))))}) {
    ColumnTable mt(&fieldsFor(Signal::kMetrics));
    TimeRange mr;
    EXPECT_FALSE(appendMetricsWire(bytes, mt, mr));
    EXPECT_EQ(parse(Signal::kMetrics, bytes), nullptr);
  }
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

// A walk that gives up inside a row, after appending items of its list columns (attributes,
// events, exemplars, buckets) or members of its structs: truncating drops those too, so the
// decoded request appended next lines up with them.
TEST(WireColumnsTest, TruncateUndoesAGiveUpInsideARow) {
  const std::string good_attr = bytesField(9, kv("good", stringValue("1")));
  const std::string bad_attr = bytesField(9, kv("bad", varintField(1, 5)));  // string as varint
  const std::string event = bytesField(
      11, bytesField(3, kv("e", stringValue("x"))) + bytesField(3, kv("f", varintField(1, 1))));
  const std::string rich = testing::richTraces().SerializeAsString();
  for (const std::string& span : {basicSpan(good_attr + bad_attr), basicSpan(good_attr + event)}) {
    const std::string bytes = traceRequest(bytesField(2, bytesField(2, span)));
    ColumnTable t(&fieldsFor(Signal::kTraces));
    TimeRange r;
    EXPECT_FALSE(appendTracesWire(bytes, t, r));
    expectSame(Signal::kTraces, {rich, bytes, rich}, /*wire_handles=*/false);
  }
  const std::string twice_body =
      bytesField(1, bytesField(2, bytesField(2, bytesField(6, kv("a", stringValue("1"))) +
                                                    bytesField(5, stringValue("a")) +
                                                    bytesField(5, varintField(3, 1)))));
  expectSame(Signal::kLogs,
             {testing::richLogs().SerializeAsString(), twice_body,
              testing::richLogs().SerializeAsString()},
             /*wire_handles=*/false);
  const std::string exemplar = bytesField(7, kv("x", stringValue("1"))) + bytesField(4, "");
  const std::string rich_metrics = testing::richMetrics().SerializeAsString();
  for (const std::string& point :
       {bytesField(9, kv("a", stringValue("1"))) + fixed64Field(6, 1) + fixed64Field(7, 1) +
            bytesField(8, exemplar + fixed32Field(2, 1)) + varintField(4, 1),
        bytesField(9, kv("a", stringValue("1"))) + fixed64Field(6, 1) + bytesField(4, "")}) {
    const std::string bytes = metricsRequest(metric(bytesField(9, bytesField(1, point))));
    ColumnTable t(&fieldsFor(Signal::kMetrics));
    TimeRange r;
    EXPECT_FALSE(appendMetricsWire(bytes, t, r));
    expectSame(Signal::kMetrics, {rich_metrics, bytes, rich_metrics}, /*wire_handles=*/false);
  }
}

// Scopes' rows copy their resource and scope columns in bulk: the same bytes as row by row.
TEST(WireColumnsTest, RepeatLastRowInBulkEqualsRowByRow) {
  for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    const auto* fields = &fieldsFor(signal);
    ColumnTable bulk(fields), one_by_one(fields);
    TimeRange r;
    for (ColumnTable* t : {&bulk, &one_by_one}) {
      if (signal == Signal::kTraces) {
        appendTraces(testing::richTraces(1), *t, r);
      } else if (signal == Signal::kLogs) {
        appendLogs(testing::richLogs(), *t, r);
      } else {
        appendMetrics(testing::richMetrics(), *t, r);
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
      encodings = {
          testing::richMetrics().SerializeAsString(),
          loadgen::makeRequest(signal, loadgen::Shape::kRealistic, 500, 1, 1)->SerializeAsString(),
          metricsRequest(metric(bytesField(1, "m") + bytesField(5, bytesField(1, "")) +
                                bytesField(5, bytesField(1, ""))))};
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
          auto m = parse(signal, bytes);
          ASSERT_NE(m, nullptr);
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
