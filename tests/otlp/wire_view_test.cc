#include "otlp/wire_view.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "loadgen/payloads.h"
#include "otlp/counts.h"
#include "otlp/validation.h"
#include "otlp/wire_reader.h"
#include "pipeline/signal.h"

namespace otlpd::otlp {
namespace {

using pipeline::Signal;

// What protobuf's parser and validation.h make of some bytes: the reference the wire view must
// agree with.
struct Reference {
  bool parsed = false;
  size_t items = 0;
  size_t rejected = 0;
};

template <class Request>
Reference reference(const std::string& bytes, size_t (*count)(const Request&),
                    ValidationResult (*validate)(Request&)) {
  google::protobuf::Arena arena;
  auto* request = google::protobuf::Arena::CreateMessage<Request>(&arena);
  Reference out;
  out.parsed = request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (!out.parsed) return out;
  out.items = count(*request);
  out.rejected = validate(*request).rejected;
  return out;
}

Reference referenceFor(Signal signal, const std::string& bytes) {
  switch (signal) {
    case Signal::kTraces:
      return reference<TracesRequest>(bytes, countSpans, validateTraces);
    case Signal::kMetrics:
      return reference<MetricsRequest>(bytes, countDataPoints, validateMetrics);
    case Signal::kLogs:
      return reference<LogsRequest>(bytes, countLogRecords, validateLogs);
  }
  return {};
}

WireSummary inspect(Signal signal, std::string_view bytes) {
  switch (signal) {
    case Signal::kTraces:
      return inspectTracesWire(bytes);
    case Signal::kMetrics:
      return inspectMetricsWire(bytes);
    case Signal::kLogs:
      return inspectLogsWire(bytes);
  }
  return {};
}

struct Tally {
  size_t valid = 0, invalid = 0, malformed = 0, unusual = 0;
  size_t total() const { return valid + invalid + malformed + unusual; }
  void print(std::string_view what, Signal signal) const {
    std::printf("[ verdicts ] %s %s: %zu valid, %zu invalid items, %zu malformed, %zu unusual\n",
                std::string(what).c_str(), std::string(pipeline::signalName(signal)).c_str(), valid,
                invalid, malformed, unusual);
  }
};

// The wire view's verdict must be what decoding and validating find; kUnusual promises nothing.
void expectAgreement(Signal signal, const std::string& bytes, Tally& tally,
                     const std::string& what) {
  const WireSummary wire = inspect(signal, bytes);
  const Reference ref = referenceFor(signal, bytes);
  switch (wire.verdict) {
    case WireVerdict::kValid:
      ++tally.valid;
      ASSERT_TRUE(ref.parsed) << what;
      EXPECT_EQ(ref.rejected, 0u) << what;
      EXPECT_EQ(wire.items, ref.items) << what;
      break;
    case WireVerdict::kInvalidItems:
      ++tally.invalid;
      ASSERT_TRUE(ref.parsed) << what;
      EXPECT_GT(ref.rejected, 0u) << what;
      EXPECT_EQ(wire.items, ref.items) << what;
      break;
    case WireVerdict::kMalformed:
      ++tally.malformed;
      EXPECT_FALSE(ref.parsed) << what;
      break;
    case WireVerdict::kUnusual:
      ++tally.unusual;
      break;
  }
}

// ---- random requests covering every validation rule ----

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  // Probability that any one item breaks a rule.
  double bad = 0.02;

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(below(256));
    if (n > 0) s[0] = static_cast<char>(1 + below(255));  // not all zero
    return s;
  }
  std::string text() {
    static const char* kWords[] = {"GET /api", "db.query", "héllo wörld", "日本語", "🙂 emoji",
                                   "",         "x"};
    return kWords[below(7)];
  }
  // Marks a string that the test later overwrites with invalid UTF-8 of the same length.
  static constexpr std::string_view kUtf8Marker = "@UTF8-MARK@";

  void fillValue(pb_common::AnyValue* v, int depth) {
    switch (below(depth > 3 ? 5 : 7)) {
      case 0:
        v->set_string_value(chance(bad / 4) ? std::string(kUtf8Marker) : text());
        break;
      case 1:
        v->set_bool_value(chance(0.5));
        break;
      case 2:
        v->set_int_value(static_cast<int64_t>(rng_()));
        break;
      case 3:
        v->set_double_value(1.5);
        break;
      case 4:
        v->set_bytes_value(bytes(static_cast<size_t>(below(5))));
        break;
      case 5:
        for (int i = below(3); i > 0; --i)
          fillValue(v->mutable_array_value()->add_values(), depth + 1);
        break;
      default:
        for (int i = below(3); i > 0; --i) {
          fillAttribute(v->mutable_kvlist_value()->add_values(), depth + 1);
        }
    }
  }
  void fillAttribute(pb_common::KeyValue* kv, int depth = 0) {
    kv->set_key(chance(bad / 4) ? std::string(kUtf8Marker) : "http.route");
    fillValue(kv->mutable_value(), depth);
  }
  template <class Attributes>
  void attributes(Attributes* attrs, int max) {
    for (int i = below(max + 1); i > 0; --i) fillAttribute(attrs->Add());
  }
  void resource(pb_resource::Resource* r) {
    attributes(r->mutable_attributes(), 3);
    if (chance(0.1)) {
      auto* e = r->add_entity_refs();
      e->set_type("service");
      e->add_id_keys("service.name");
    }
  }
  void scope(pb_common::InstrumentationScope* s) {
    s->set_name("io.opentelemetry.test");
    if (chance(0.5)) s->set_version("1.2.3");
    attributes(s->mutable_attributes(), 1);
  }
  // An id of the right length, or (rarely) one of a wrong length or all zero.
  std::string id(size_t length, bool may_be_empty) {
    if (chance(bad)) {
      switch (below(3)) {
        case 0:
          return std::string(length, '\0');
        case 1:
          return bytes(length - 1);
        default:
          return bytes(length + 1);
      }
    }
    if (may_be_empty && chance(0.3)) return "";
    return bytes(length);
  }

  void span(pb_trace::Span* s) {
    s->set_trace_id(id(16, false));
    s->set_span_id(id(8, false));
    if (chance(0.7)) s->set_parent_span_id(id(8, false));
    s->set_name(chance(bad / 4) ? std::string(kUtf8Marker) : text());
    s->set_kind(static_cast<pb_trace::Span::SpanKind>(below(6)));
    const uint64_t start = 1'700'000'000'000'000'000ULL + rng_() % 1000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(chance(bad) ? start - 1 : start + rng_() % 1000);
    attributes(s->mutable_attributes(), 6);
    for (int i = below(3); i > 0; --i) {
      auto* e = s->add_events();
      e->set_time_unix_nano(start);
      e->set_name("exception");
      attributes(e->mutable_attributes(), 2);
    }
    for (int i = chance(0.2) ? 1 + below(2) : 0; i > 0; --i) {
      auto* l = s->add_links();
      l->set_trace_id(chance(bad) ? bytes(15) : bytes(16));
      l->set_span_id(chance(bad) ? "" : bytes(8));
      attributes(l->mutable_attributes(), 1);
    }
    if (chance(0.3)) {
      s->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
      s->mutable_status()->set_message("boom");
    }
    if (chance(0.3)) s->set_flags(0x101);
  }

  std::string traces() {
    TracesRequest req;
    for (int r = 1 + below(2); r > 0; --r) {
      auto* rs = req.add_resource_spans();
      resource(rs->mutable_resource());
      if (chance(0.3)) rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
      for (int s = below(3); s > 0; --s) {
        auto* ss = rs->add_scope_spans();
        scope(ss->mutable_scope());
        for (int i = below(12); i > 0; --i) span(ss->add_spans());
      }
    }
    return req.SerializeAsString();
  }

  template <class Point>
  void exemplars(Point* p) {
    for (int i = chance(0.2) ? 1 : 0; i > 0; --i) {
      auto* e = p->add_exemplars();
      e->set_as_double(2.0);
      e->set_trace_id(id(16, true));
      e->set_span_id(id(8, true));
      attributes(e->mutable_filtered_attributes(), 1);
    }
  }
  template <class Point>
  void common(Point* p) {
    attributes(p->mutable_attributes(), 3);
    p->set_start_time_unix_nano(1);
    p->set_time_unix_nano(2);
  }
  void metric(pb_metrics::Metric* m) {
    m->set_name(chance(bad / 2) ? "" : chance(bad / 4) ? std::string(kUtf8Marker) : "http.latency");
    if (chance(0.5)) m->set_unit("ms");
    const int points = below(5);
    switch (below(5)) {
      case 0:
        for (int i = 0; i < points; ++i) {
          auto* p = m->mutable_gauge()->add_data_points();
          common(p);
          p->set_as_double(1.0);
          exemplars(p);
        }
        if (points == 0) m->mutable_gauge();
        break;
      case 1:
        m->mutable_sum()->set_is_monotonic(true);
        m->mutable_sum()->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
        for (int i = 0; i < points; ++i) {
          auto* p = m->mutable_sum()->add_data_points();
          common(p);
          p->set_as_int(7);
          exemplars(p);
        }
        break;
      case 2:
        m->mutable_histogram()->set_aggregation_temporality(
            pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (int i = 0; i < points; ++i) {
          auto* p = m->mutable_histogram()->add_data_points();
          common(p);
          const int bounds = below(4);
          uint64_t total = 0;
          for (int b = 0; b < bounds; ++b) p->add_explicit_bounds(10.0 * (b + 1));
          if (bounds > 0 || chance(0.5)) {
            for (int b = 0; b <= bounds; ++b) {
              p->add_bucket_counts(static_cast<uint64_t>(b + 1));
              total += static_cast<uint64_t>(b + 1);
            }
          }
          p->set_count(total);
          if (chance(0.5)) p->set_sum(12.5);
          if (chance(bad)) {
            switch (below(4)) {
              case 0:
                p->add_bucket_counts(1);  // one too many
                p->set_count(total + 1);
                break;
              case 1:
                p->set_count(total + 1);
                break;
              case 2:
                p->add_explicit_bounds(std::nan(""));
                p->add_bucket_counts(0);
                break;
              default:
                p->add_explicit_bounds(0.0);  // not increasing
                p->add_bucket_counts(0);
            }
          }
          exemplars(p);
        }
        break;
      case 3:
        for (int i = 0; i < points; ++i) {
          auto* p = m->mutable_exponential_histogram()->add_data_points();
          common(p);
          p->set_scale(-2 + below(5));
          p->set_zero_count(3);
          p->mutable_positive()->set_offset(-1);
          p->mutable_positive()->add_bucket_counts(4);
          p->mutable_positive()->add_bucket_counts(1ULL << 40);
          if (chance(0.5)) p->mutable_negative()->add_bucket_counts(2);
          p->set_count(3 + 4 + (1ULL << 40) + p->negative().bucket_counts_size() * 2 +
                       (chance(bad) ? 1 : 0));
          exemplars(p);
        }
        break;
      default:
        for (int i = 0; i < points; ++i) {
          auto* p = m->mutable_summary()->add_data_points();
          common(p);
          p->set_count(4);
          p->set_sum(10);
          for (double q : {0.0, 0.5, 1.0}) {
            auto* v = p->add_quantile_values();
            v->set_quantile(q);
            v->set_value(q * 10);
          }
          if (chance(bad)) {
            p->add_quantile_values()->set_quantile(chance(0.5) ? 1.5 : std::nan(""));
          }
        }
    }
  }

  std::string metrics() {
    MetricsRequest req;
    for (int r = 1 + below(2); r > 0; --r) {
      auto* rm = req.add_resource_metrics();
      resource(rm->mutable_resource());
      for (int s = below(3); s > 0; --s) {
        auto* sm = rm->add_scope_metrics();
        scope(sm->mutable_scope());
        for (int i = below(8); i > 0; --i) metric(sm->add_metrics());
      }
    }
    return req.SerializeAsString();
  }

  void logRecord(pb_logs::LogRecord* l) {
    l->set_time_unix_nano(5);
    l->set_observed_time_unix_nano(6);
    int severity = below(25);
    if (chance(bad)) severity = chance(0.5) ? 25 : -1;
    l->set_severity_number(static_cast<pb_logs::SeverityNumber>(severity));
    l->set_severity_text("INFO");
    fillValue(l->mutable_body(), 0);
    attributes(l->mutable_attributes(), 4);
    if (chance(0.7)) l->set_trace_id(id(16, true));
    if (chance(0.7)) l->set_span_id(id(8, true));
    if (chance(0.2)) l->set_event_name(chance(bad / 4) ? std::string(kUtf8Marker) : "click");
    if (chance(0.3)) l->set_flags(1);
  }

  std::string logs() {
    LogsRequest req;
    for (int r = 1 + below(2); r > 0; --r) {
      auto* rl = req.add_resource_logs();
      resource(rl->mutable_resource());
      for (int s = below(3); s > 0; --s) {
        auto* sl = rl->add_scope_logs();
        scope(sl->mutable_scope());
        for (int i = below(12); i > 0; --i) logRecord(sl->add_log_records());
      }
    }
    return req.SerializeAsString();
  }

  std::string request(Signal signal) {
    std::string bytes = signal == Signal::kTraces    ? traces()
                        : signal == Signal::kMetrics ? metrics()
                                                     : logs();
    // Marked strings become invalid UTF-8 of the same length (lengths on the wire still hold).
    static const std::string kInvalid[] = {
        "\xC0\xAF-overlong", "\xED\xA0\x80-surrogt", "\xF4\x90\x80\x80-big!!!",
        "\x80-stray!!!!",    "trunc\xE2\x82 end",    "\xF8\x88\x80\x80\x80-5byte",
    };
    for (size_t at = bytes.find(kUtf8Marker); at != std::string::npos;
         at = bytes.find(kUtf8Marker, at)) {
      const std::string& bad_text = kInvalid[below(6)];
      EXPECT_EQ(bad_text.size(), kUtf8Marker.size());
      bytes.replace(at, kUtf8Marker.size(), bad_text);
    }
    return bytes;
  }

  // A random corruption: flipped bytes, a truncation, an inserted or deleted byte.
  std::string mutate(std::string bytes) {
    if (bytes.empty()) return bytes;
    const size_t at = static_cast<size_t>(below(static_cast<int>(bytes.size())));
    switch (below(5)) {
      case 0:
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << below(8)));
        break;
      case 1:
        bytes[at] = static_cast<char>(below(256));
        break;
      case 2:
        bytes.resize(at);
        break;
      case 3:
        bytes.insert(at, 1, static_cast<char>(below(256)));
        break;
      default:
        bytes.erase(at, 1);
    }
    return bytes;
  }

 private:
  std::mt19937_64 rng_;
};

constexpr Signal kSignals[] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};

TEST(WireView, AgreesWithDecodeAndValidationOnGeneratedRequests) {
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string it parses
  for (Signal signal : kSignals) {
    Generator gen(42 + static_cast<uint64_t>(signal));
    Tally tally;
    for (int i = 0; i < 3000; ++i) {
      gen.bad = i % 3 == 0 ? 0.0 : 0.03;
      const std::string bytes = gen.request(signal);
      expectAgreement(signal, bytes, tally, "request " + std::to_string(i));
      if (HasFatalFailure()) return;
    }
    tally.print("generated", signal);
    // Every rule is exercised, and only nameless metrics (and nothing else) are unusual.
    EXPECT_GT(tally.valid, 1000u) << pipeline::signalName(signal);
    EXPECT_GT(tally.invalid, 150u) << pipeline::signalName(signal);
    EXPECT_GT(tally.malformed, 30u) << pipeline::signalName(signal);  // invalid UTF-8
    if (signal != Signal::kMetrics) {
      EXPECT_EQ(tally.unusual, 0u) << pipeline::signalName(signal);
    }
  }
}

TEST(WireView, AgreesWithDecodeOnCorruptedRequests) {
  google::protobuf::LogSilencer quiet;
  for (Signal signal : kSignals) {
    Generator gen(7 + static_cast<uint64_t>(signal));
    gen.bad = 0.01;
    Tally tally;
    for (int i = 0; i < 6000; ++i) {
      std::string bytes = gen.request(signal);
      for (int flips = 1 + gen.below(3); flips > 0; --flips) bytes = gen.mutate(std::move(bytes));
      expectAgreement(signal, bytes, tally, "corrupted request " + std::to_string(i));
      if (HasFatalFailure()) return;
    }
    tally.print("corrupted", signal);
    // Most corruptions get a definite answer; the rest go to the decoder.
    EXPECT_LT(tally.unusual * 4, tally.total()) << pipeline::signalName(signal);
    EXPECT_GT(tally.malformed, 500u) << pipeline::signalName(signal);
  }
}

TEST(WireView, LoadgenRequestsAreValidAndCounted) {
  for (Signal signal : kSignals) {
    for (auto shape : {loadgen::Shape::kRealistic, loadgen::Shape::kMinimal}) {
      const std::string bytes =
          loadgen::makeRequest(signal, shape, 1000, 3, 1'700'000'000'000'000'000ULL)
              ->SerializeAsString();
      const WireSummary wire = inspect(signal, bytes);
      EXPECT_EQ(wire.verdict, WireVerdict::kValid) << pipeline::signalName(signal);
      EXPECT_EQ(wire.items, 1000u) << pipeline::signalName(signal);
    }
  }
}

TEST(WireView, ConcatenatedRequestsAreOneRequest) {
  Generator gen(99);
  gen.bad = 0;
  const std::string a = gen.request(Signal::kTraces), b = gen.request(Signal::kTraces);
  const WireSummary both = inspectTracesWire(a + b);
  ASSERT_EQ(both.verdict, WireVerdict::kValid);
  EXPECT_EQ(both.items, inspectTracesWire(a).items + inspectTracesWire(b).items);
  EXPECT_EQ(both.items, referenceFor(Signal::kTraces, a + b).items);
}

TEST(WireView, UnusualButParseableBytesAreLeftToTheDecoder) {
  // A span whose trace_id arrives as a varint: protobuf keeps it as an unknown field and the
  // span then has no trace_id; the view does not guess.
  TracesRequest req;
  auto* span = req.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_span_id(std::string(8, '\x01'));
  std::string span_bytes = span->SerializeAsString();
  span_bytes += std::string("\x08\x05", 2);  // field 1, wire type 0
  std::string scope_bytes =
      "\x12" + std::string(1, static_cast<char>(span_bytes.size())) + span_bytes;
  std::string rs_bytes =
      "\x12" + std::string(1, static_cast<char>(scope_bytes.size())) + scope_bytes;
  std::string bytes = "\x0a" + std::string(1, static_cast<char>(rs_bytes.size())) + rs_bytes;
  EXPECT_EQ(inspectTracesWire(bytes).verdict, WireVerdict::kUnusual);
  EXPECT_TRUE(referenceFor(Signal::kTraces, bytes).parsed);
}

TEST(WireView, EmptyRequestIsValidWithNoItems) {
  for (Signal signal : kSignals) {
    const WireSummary s = inspect(signal, "");
    EXPECT_EQ(s.verdict, WireVerdict::kValid);
    EXPECT_EQ(s.items, 0u);
  }
}

TEST(WireUtf8, MatchesTheStandard) {
  EXPECT_TRUE(wire::validUtf8("plain ascii, long enough to take the 8-byte path"));
  EXPECT_TRUE(wire::validUtf8("h\xC3\xA9llo \xE6\x97\xA5 \xF0\x9F\x99\x82"));
  EXPECT_TRUE(wire::validUtf8("\xEF\xBF\xBF\xF4\x8F\xBF\xBF"));  // U+FFFF, U+10FFFF
  EXPECT_FALSE(wire::validUtf8("\xC0\xAF"));                     // overlong '/'
  EXPECT_FALSE(wire::validUtf8("\xE0\x80\xAF"));                 // overlong
  EXPECT_FALSE(wire::validUtf8("\xED\xA0\x80"));                 // surrogate
  EXPECT_FALSE(wire::validUtf8("\xF4\x90\x80\x80"));             // above U+10FFFF
  EXPECT_FALSE(wire::validUtf8("abc\xE2\x82"));                  // truncated
  EXPECT_FALSE(wire::validUtf8("\xFF"));
}

}  // namespace
}  // namespace otlpd::otlp
