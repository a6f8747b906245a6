// The probabilistic_sampler processor on wire batches: config errors, spans dropped and their
// tracestate rewritten in the encoded request (empty scopes and resources removed), the fast span
// path byte for byte equal to the generic wire-editor path it replaces when running alone, log
// records with their sampling attributes, and the counters.
#include "processors/probabilistic_sampler/probabilistic_sampler_processor.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "../editing_test_support.h"
#include "common/strings.h"
#include "otlp/counts.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_writer.h"
#include "processors/filter/filter_processor.h"
#include "processors/probabilistic_sampler/consistent_probability.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

using pipeline::Batch;
using pipeline::Signal;
using processors::testing::Attrs;
using processors::testing::dbl;
using processors::testing::i64;
using processors::testing::str;
namespace pbt = otlp::pb_trace;
namespace pbl = otlp::pb_logs;

std::string bytesFromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// A trace id whose randomness is `r` (the first 9 bytes arbitrary).
std::string traceIdWithRandomness(uint64_t r) {
  std::string id = bytesFromHex("0102030405060708ff");
  for (int shift = 48; shift >= 0; shift -= 8) id.push_back(static_cast<char>((r >> shift) & 0xff));
  return id;
}

class CapturingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(Batch&& batch) override {
    batches.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::vector<Batch> batches;
};

// A processor with its own metrics registry, so counts can be checked.
struct Harness {
  explicit Harness(std::string_view yaml, Signal signal = Signal::kTraces,
                   std::shared_ptr<pipeline::Consumer> downstream = nullptr) {
    auto node = config::parseYaml(yaml, "test");
    EXPECT_TRUE(node.ok()) << node.status();
    config::ConfigNode cfg(*node, "processors.probabilistic_sampler", errors);
    auto made = makeProbabilisticSamplerFactory()->create(
        pipeline::CreateSettings{{"probabilistic_sampler", ""}, metrics}, cfg, signal,
        downstream ? downstream : next);
    cfg.rejectUnknownKeys();
    if (made.ok()) processor = *std::move(made);
  }

  // Runs the request as a wire batch; the bytes the next consumer got (nullopt: no batch).
  // `items`: the request's span or log record count, as a receiver hands it on.
  std::optional<std::string> runBytes(const std::string& request, Signal signal, size_t items) {
    EXPECT_TRUE(errors.empty()) << errors.toString();
    const size_t before = next->batches.size();
    absl::Status s = processor->consume(
        Batch::fromWire(signal, pipeline::WireBytes::fromString(std::string(request)), items));
    EXPECT_TRUE(s.ok()) << s;
    if (next->batches.size() == before) return std::nullopt;
    return std::string(*next->batches.back().wireBytes());
  }
  otlp::TracesRequest runTraces(const otlp::TracesRequest& request) {
    otlp::TracesRequest out;
    if (auto bytes =
            runBytes(request.SerializeAsString(), Signal::kTraces, otlp::countSpans(request))) {
      EXPECT_TRUE(out.ParseFromString(*bytes));
    }
    return out;
  }
  otlp::LogsRequest runLogs(const otlp::LogsRequest& request) {
    otlp::LogsRequest out;
    if (auto bytes =
            runBytes(request.SerializeAsString(), Signal::kLogs, otlp::countLogRecords(request))) {
      EXPECT_TRUE(out.ParseFromString(*bytes));
    }
    return out;
  }
  std::string scrape() const { return metrics.renderPrometheus(); }

  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors;
  std::shared_ptr<CapturingConsumer> next = std::make_shared<CapturingConsumer>();
  std::unique_ptr<pipeline::Processor> processor;
};

std::string configErrors(std::string_view yaml, Signal signal = Signal::kTraces) {
  Harness h(yaml, signal);
  return h.errors.toString();
}

TEST(ProbabilisticSamplerConfig, AcceptsTheCollectorsKeys) {
  EXPECT_EQ(configErrors("sampling_percentage: 15.3\nhash_seed: 22"), "");
  EXPECT_EQ(configErrors("sampling_percentage: 15.3\nmode: proportional\nhash_seed: 22\n"
                         "sampling_precision: 14\nfail_closed: true"),
            "");
  EXPECT_EQ(configErrors("sampling_percentage: 15\nattribute_source: record\n"
                         "from_attribute: logID\nsampling_priority: priority",
                         Signal::kLogs),
            "");
  EXPECT_EQ(configErrors("sampling_percentage: 200\nmode: equalizing"), "");  // 200% is 100%
  EXPECT_EQ(configErrors("{}"), "");
  auto factory = makeProbabilisticSamplerFactory();
  EXPECT_TRUE(factory->supports(Signal::kTraces));
  EXPECT_TRUE(factory->supports(Signal::kLogs));
  EXPECT_FALSE(factory->supports(Signal::kMetrics));
}

TEST(ProbabilisticSamplerConfig, ReportsEveryMistakeWithItsPath) {
  EXPECT_NE(configErrors("sampling_percentage: -1")
                .find("processors.probabilistic_sampler.sampling_percentage"),
            std::string::npos);
  EXPECT_NE(configErrors("sampling_percentage: -1").find("sampling rate is negative"),
            std::string::npos);
  EXPECT_NE(configErrors("sampling_percentage: 1e-20").find("sampling rate is too small"),
            std::string::npos);
  EXPECT_NE(configErrors("sampling_percentage: .nan").find("must be a number"), std::string::npos);
  EXPECT_NE(configErrors("sampling_percentage: lots").find("must be a number"), std::string::npos);
  EXPECT_NE(configErrors("mode: downsample").find("unsupported sampler mode \"downsample\""),
            std::string::npos);
  EXPECT_NE(configErrors("sampling_precision: 0").find("invalid sampling precision: 0"),
            std::string::npos);
  EXPECT_NE(configErrors("sampling_precision: 15").find("sampling precision is too great"),
            std::string::npos);
  EXPECT_NE(configErrors("hash_seed: -1").find("hash_seed"), std::string::npos);
  EXPECT_NE(configErrors("hash_seed: 4294967296").find("hash_seed"), std::string::npos);
  EXPECT_NE(configErrors("attribute_source: traceid").find("invalid attribute source: traceid"),
            std::string::npos);
  EXPECT_NE(configErrors("attribute_source: record").find("from_attribute"), std::string::npos);
  EXPECT_NE(configErrors("fail_closed: maybe").find("fail_closed"), std::string::npos);
  EXPECT_NE(configErrors("sampling_percent: 10").find("sampling_percent"), std::string::npos);
  // All at once.
  const std::string all = configErrors("sampling_percentage: -1\nmode: x\nsampling_precision: 0");
  EXPECT_NE(all.find("sampling_percentage"), std::string::npos);
  EXPECT_NE(all.find("mode"), std::string::npos);
  EXPECT_NE(all.find("sampling_precision"), std::string::npos);
}

pbt::Span* addSpan(pbt::ScopeSpans* scope, const std::string& trace_id, std::string name,
                   std::string trace_state = "") {
  pbt::Span* s = scope->add_spans();
  s->set_trace_id(trace_id);
  s->set_span_id(std::string(8, '\7'));
  s->set_name(std::move(name));
  s->set_trace_state(std::move(trace_state));
  s->set_start_time_unix_nano(1);
  s->set_end_time_unix_nano(2);
  return s;
}

TEST(ProbabilisticSamplerTraces, DropsAndRewritesInTheEncodedRequest) {
  Harness h("sampling_percentage: 50\nmode: proportional");
  const std::string keep = traceIdWithRandomness(0x90000000000000);
  const std::string drop = traceIdWithRandomness(0x10000000000000);
  otlp::TracesRequest req;
  auto* rs1 = req.add_resource_spans();
  processors::testing::setAttributes(rs1->mutable_resource()->mutable_attributes(),
                                     {{"service.name", str("checkout")}});
  rs1->set_schema_url("https://opentelemetry.io/schemas/1.24.0");
  auto* scope_a = rs1->add_scope_spans();
  scope_a->mutable_scope()->set_name("a");
  addSpan(scope_a, keep, "kept-1", "vendor=x");
  addSpan(scope_a, drop, "dropped-1");
  auto* scope_b = rs1->add_scope_spans();  // every span dropped: the scope goes
  scope_b->mutable_scope()->set_name("b");
  addSpan(scope_b, drop, "dropped-2");
  auto* scope_empty = rs1->add_scope_spans();  // no spans to begin with: it stays
  scope_empty->mutable_scope()->set_name("empty");
  auto* rs2 = req.add_resource_spans();  // every span dropped: the resource goes
  addSpan(rs2->add_scope_spans(), drop, "dropped-3");

  const otlp::TracesRequest out = h.runTraces(req);
  ASSERT_EQ(out.resource_spans_size(), 1);
  const auto& rs = out.resource_spans(0);
  EXPECT_EQ(rs.schema_url(), "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "checkout");
  ASSERT_EQ(rs.scope_spans_size(), 2);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "a");
  EXPECT_EQ(rs.scope_spans(1).scope().name(), "empty");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 1);
  const pbt::Span& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "kept-1");
  EXPECT_EQ(span.trace_state(), "ot=th:8,vendor=x");
  EXPECT_EQ(span.trace_id(), keep);
  EXPECT_EQ(span.end_time_unix_nano(), 2u);
}

TEST(ProbabilisticSamplerTraces, NothingKeptNothingForwarded) {
  Harness h("sampling_percentage: 0");
  otlp::TracesRequest req;
  addSpan(req.add_resource_spans()->add_scope_spans(), traceIdWithRandomness(1), "x");
  EXPECT_FALSE(h.runBytes(req.SerializeAsString(), Signal::kTraces, 1));
}

TEST(ProbabilisticSamplerTraces, UnchangedBatchPassesAsItCame) {
  // Equalizing at 50% with spans already at 25% (th c) and consistent: nothing to change.
  Harness h("sampling_percentage: 50\nmode: equalizing");
  otlp::TracesRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  addSpan(scope, traceIdWithRandomness(0xd0000000000000), "a", "ot=th:c");
  addSpan(scope, traceIdWithRandomness(0xe0000000000000), "b", "ot=th:c");
  const std::string bytes = req.SerializeAsString();
  EXPECT_EQ(h.runBytes(bytes, Signal::kTraces, 2), bytes);
}

TEST(ProbabilisticSamplerTraces, SamplingPriorityAttributeOnTheWire) {
  Harness h("sampling_percentage: 50\nmode: equalizing");
  otlp::TracesRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  const std::string low = traceIdWithRandomness(0x10000000000000);   // dropped at 50%
  const std::string high = traceIdWithRandomness(0xf0000000000000);  // kept at 50%
  auto withPriority = [&](const std::string& id, const std::string& name, Attrs attrs) {
    processors::testing::setAttributes(addSpan(scope, id, name)->mutable_attributes(), attrs);
  };
  withPriority(low, "int-1", {{"http.method", str("GET")}, {"sampling.priority", i64(1)}});
  withPriority(low, "double-2", {{"sampling.priority", dbl(2)}});
  withPriority(low, "string-1", {{"a", str("b")}, {"sampling.priority", str("1")}});
  withPriority(low, "negative", {{"sampling.priority", i64(-1)}});
  withPriority(high, "int-0", {{"sampling.priority", i64(0)}});
  withPriority(high, "string-0", {{"sampling.priority", str("0")}});
  // The first entry with the key counts, as the Collector's attribute map finds it.
  withPriority(low, "first-wins", {{"sampling.priority", i64(1)}, {"sampling.priority", i64(0)}});
  withPriority(high, "other-key", {{"sampling.priority.x", i64(0)}});

  const otlp::TracesRequest out = h.runTraces(req);
  std::set<std::string> kept;
  for (const auto& span : out.resource_spans(0).scope_spans(0).spans()) {
    kept.insert(span.name());
    if (span.name() == "int-1") {
      EXPECT_EQ(span.trace_state(), "ot=th:0");
    }
  }
  EXPECT_EQ(kept,
            (std::set<std::string>{"int-1", "double-2", "string-1", "first-wins", "other-key"}));
}

TEST(ProbabilisticSamplerTraces, CountsDecisionsAndErrors) {
  Harness h("sampling_percentage: 50\nmode: proportional");
  otlp::TracesRequest req;
  auto* scope = req.add_resource_spans()->add_scope_spans();
  addSpan(scope, traceIdWithRandomness(0x90000000000000), "kept");
  addSpan(scope, traceIdWithRandomness(0x10000000000000), "dropped");
  addSpan(scope, traceIdWithRandomness(0x10000000000000), "rv kept", "ot=rv:ffffffffffffff");
  addSpan(scope, std::string(16, '\0'), "no randomness");
  addSpan(scope, traceIdWithRandomness(0x90000000000000), "bad tracestate", "ot=th:xyz");
  h.runTraces(req);
  const std::string text = h.scrape();
  auto count = [&](std::string_view policy, std::string_view sampled) {
    const std::string series = strCat(
        "otlpd_processor_probabilistic_sampler_count_spans_processed_total{processor=\""
        "probabilistic_sampler\",policy=\"",
        policy, "\",sampled=\"", sampled, "\"} ");
    const size_t at = text.find(series);
    if (at == std::string::npos) return std::string("absent");
    return text.substr(at + series.size(), text.find('\n', at) - at - series.size());
  };
  EXPECT_EQ(count("trace_id_w3c", "true"), "1");
  EXPECT_EQ(count("trace_id_w3c", "false"), "1");
  EXPECT_EQ(count("sampling_randomness", "true"), "1");
  EXPECT_EQ(count("missing_randomness", "false"), "2");
  EXPECT_EQ(count("sampling_priority", "true"), "0");   // declared up front
  EXPECT_EQ(count("trace_id_hash", "true"), "absent");  // not possible in this mode
  EXPECT_NE(text.find("otlpd_processor_probabilistic_sampler_errors_total{processor=\""
                      "probabilistic_sampler\",signal=\"traces\",reason=\"missing_randomness\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reason=\"invalid_tracestate\"} 1"), std::string::npos);
  EXPECT_NE(text.find("otlpd_processor_dropped_items_total{processor=\"probabilistic_sampler\","
                      "signal=\"traces\"} 3"),
            std::string::npos);
}

// Realistic and awkward requests alike: several resources and scopes, tracestates of every kind,
// sampling.priority, trace_state repeated or placed last.
otlp::TracesRequest randomRequest(std::mt19937_64& rng) {
  const char* tracestates[] = {"",
                               "vendor=x",
                               "ot=th:8",
                               "ot=rv:c0000000000000",
                               "ot=th:c;rv:00000000000001,k=v",
                               "ot=th:zz",
                               "ot=th:4;xy:1",
                               " ot=th:0 ,, a=b"};
  otlp::TracesRequest req;
  const int resources = 1 + static_cast<int>(rng() % 3);
  for (int r = 0; r < resources; ++r) {
    auto* rs = req.add_resource_spans();
    processors::testing::setAttributes(rs->mutable_resource()->mutable_attributes(),
                                       {{"service.name", str(strCat("svc-", r))}});
    const int scopes = 1 + static_cast<int>(rng() % 3);
    for (int s = 0; s < scopes; ++s) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("scope");
      const int spans = static_cast<int>(rng() % 6);
      for (int i = 0; i < spans; ++i) {
        std::string id(16, '\0');
        for (char& c : id) c = static_cast<char>(rng());
        if (rng() % 20 == 0) id.assign(16, '\0');
        pbt::Span* span = addSpan(ss, id, "span", tracestates[rng() % 8]);
        Attrs attrs = {{"http.route", str("/x")}};
        if (rng() % 10 == 0) attrs.push_back({"sampling.priority", i64(rng() % 2)});
        processors::testing::setAttributes(span->mutable_attributes(), attrs);
      }
    }
  }
  return req;
}

// Encodes `req` by hand, giving some spans their trace_state as the last field or twice (the
// last occurrence counts): wire forms protobuf never writes but must read.
std::string encodeWithOddTraceStates(const otlp::TracesRequest& req, std::mt19937_64& rng) {
  namespace wire = otlp::wire;
  std::string out;
  for (const auto& rs : req.resource_spans()) {
    std::string rs_body;
    wire::appendLengthDelimited(1, rs.resource().SerializeAsString(), rs_body);
    for (const auto& ss : rs.scope_spans()) {
      std::string ss_body;
      wire::appendLengthDelimited(1, ss.scope().SerializeAsString(), ss_body);
      for (const auto& span : ss.spans()) {
        pbt::Span copy = span;
        std::string span_body;
        switch (rng() % 3) {
          case 0:  // as protobuf writes it
            span_body = copy.SerializeAsString();
            break;
          case 1:  // trace_state last
            copy.clear_trace_state();
            span_body = copy.SerializeAsString();
            wire::appendLengthDelimited(otlp::fields::kSpanTraceState, span.trace_state(),
                                        span_body);
            break;
          default:  // twice: an earlier value, then the span's own
            copy.set_trace_state("ot=th:8");
            span_body = copy.SerializeAsString();
            wire::appendLengthDelimited(otlp::fields::kSpanTraceState, span.trace_state(),
                                        span_body);
            break;
        }
        wire::appendLengthDelimited(2, span_body, ss_body);
      }
      wire::appendLengthDelimited(2, ss_body, rs_body);
    }
    wire::appendLengthDelimited(1, rs_body, out);
  }
  return out;
}

TEST(ProbabilisticSamplerTraces, FastPathEqualsTheWireEditorPath) {
  // Alone, the sampler takes its fast path; followed by another editing processor the two are
  // fused and the sampler runs as a wire editor. Same bytes out, for every mode.
  const char* configs[] = {
      "sampling_percentage: 50\nmode: proportional\nfail_closed: false",
      "sampling_percentage: 30\nmode: equalizing",
      "sampling_percentage: 60\nhash_seed: 7",
      "sampling_percentage: 100\nmode: hash_seed\nfail_closed: false",
      "sampling_percentage: 0",
  };
  std::mt19937_64 rng(42);
  for (const char* yaml : configs) {
    SCOPED_TRACE(yaml);
    Harness alone(yaml);
    auto filter = processors::testing::makeProcessor(
        *processors::filter::makeFilterProcessorFactory(),
        "traces: {span: ['name == \"no span has this name\"']}", Signal::kTraces);
    ASSERT_TRUE(filter.processor);
    Harness fused(yaml, Signal::kTraces,
                  std::shared_ptr<pipeline::Processor>(std::move(filter.processor)));
    for (int round = 0; round < 200; ++round) {
      const otlp::TracesRequest req = randomRequest(rng);
      const std::string bytes =
          round % 2 == 0 ? req.SerializeAsString() : encodeWithOddTraceStates(req, rng);
      const size_t spans = otlp::countSpans(req);
      const std::optional<std::string> a = alone.runBytes(bytes, Signal::kTraces, spans);
      ASSERT_TRUE(
          fused.processor
              ->consume(Batch::fromWire(Signal::kTraces,
                                        pipeline::WireBytes::fromString(std::string(bytes)), spans))
              .ok());
      std::optional<std::string> b;
      if (!filter.next->batches.empty()) {
        b = std::string(*filter.next->batches.back().wireBytes());
        filter.next->batches.clear();
      }
      ASSERT_EQ(a.has_value(), b.has_value()) << "round " << round;
      if (a) {
        ASSERT_EQ(*a, *b) << "round " << round;
      }
      alone.next->batches.clear();
    }
  }
}

TEST(ProbabilisticSamplerTraces, CorruptedRequestsAreRefusedNotHalfEdited) {
  // Flipped bytes and truncations: the sampler never crashes, refuses what it cannot walk, and
  // whatever protobuf reads going in, it reads coming out. (Receivers validate before this; bytes
  // protobuf refuses, such as invalid UTF-8, are copied as they are, as every editor does.)
  Harness h("sampling_percentage: 50\nmode: hash_seed\nfail_closed: false");
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string it parses
  std::mt19937_64 rng(8);
  size_t refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = randomRequest(rng).SerializeAsString();
    if (bytes.empty()) continue;
    if (round % 2 == 0) {
      for (int flips = 0; flips < 3; ++flips)
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
    } else {
      bytes.resize(rng() % bytes.size());
    }
    const size_t before = h.next->batches.size();
    absl::Status s = h.processor->consume(
        Batch::fromWire(Signal::kTraces, pipeline::WireBytes::fromString(std::string(bytes)), 1));
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      EXPECT_EQ(h.next->batches.size(), before);
      ++refused;
      continue;
    }
    if (h.next->batches.size() == before) continue;  // every span dropped
    otlp::TracesRequest in;
    otlp::TracesRequest out;
    if (in.ParseFromString(bytes)) {
      EXPECT_TRUE(out.ParseFromString(std::string(*h.next->batches.back().wireBytes())))
          << "round " << round;
    }
    h.next->batches.clear();
  }
  EXPECT_GT(refused, 100u);
}

// --- logs -------------------------------------------------------------------------------------

pbl::LogRecord* addRecord(pbl::ScopeLogs* scope, const std::string& trace_id, std::string body,
                          const Attrs& attrs = {}) {
  pbl::LogRecord* r = scope->add_log_records();
  r->set_trace_id(trace_id);
  r->mutable_body()->set_string_value(std::move(body));
  processors::testing::setAttributes(r->mutable_attributes(), attrs);
  return r;
}

TEST(ProbabilisticSamplerLogs, ByTraceIdWritesSamplingAttributes) {
  Harness h("sampling_percentage: 50\nmode: proportional", Signal::kLogs);
  otlp::LogsRequest req;
  auto* scope = req.add_resource_logs()->add_scope_logs();
  addRecord(scope, traceIdWithRandomness(0x90000000000000), "kept", {{"k", str("v")}});
  addRecord(scope, traceIdWithRandomness(0x10000000000000), "dropped");
  addRecord(scope, std::string(), "no trace id");  // fail_closed: dropped
  const otlp::LogsRequest out = h.runLogs(req);
  ASSERT_EQ(out.resource_logs(0).scope_logs(0).log_records_size(), 1);
  const auto& r = out.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(r.body().string_value(), "kept");
  EXPECT_EQ(processors::testing::render(r.attributes()), "k=\"v\" sampling.threshold=\"8\"");
}

TEST(ProbabilisticSamplerLogs, ByRecordAttributeInHashSeedMode) {
  Harness h(
      "sampling_percentage: 30\nattribute_source: record\nfrom_attribute: log.id\n"
      "hash_seed: 5",
      Signal::kLogs);
  otlp::LogsRequest req;
  auto* scope = req.add_resource_logs()->add_scope_logs();
  constexpr int kRecords = 2000;
  for (int i = 0; i < kRecords; ++i) {
    addRecord(scope, std::string(), strCat("r", i), {{"log.id", str(strCat("id-", i))}});
  }
  const otlp::LogsRequest out = h.runLogs(req);
  const auto& kept = out.resource_logs(0).scope_logs(0).log_records();
  EXPECT_NEAR(kept.size(), kRecords * 0.3, kRecords * 0.05);
  for (const auto& r : kept) {
    const std::string id = r.attributes(0).value().string_value();
    // Exactly the records whose attribute's hash falls under 30% of the buckets.
    EXPECT_TRUE(hashSeedThreshold(30)->shouldSample(hashSeedRandomness(id, 5)));
    ASSERT_EQ(r.attributes_size(), 3);
    EXPECT_EQ(r.attributes(1).key(), "sampling.randomness");
    EXPECT_EQ(r.attributes(1).value().string_value(), rvalue(hashSeedRandomness(id, 5)));
    EXPECT_EQ(r.attributes(2).key(), "sampling.threshold");
    EXPECT_EQ(r.attributes(2).value().string_value(), hashSeedThreshold(30)->tvalue());
  }
  EXPECT_NE(h.scrape().find(
                strCat("otlpd_processor_probabilistic_sampler_count_logs_sampled_total{"
                       "processor=\"probabilistic_sampler\",policy=\"log.id\",sampled=\"true\"} ",
                       kept.size())),
            std::string::npos);
}

TEST(ProbabilisticSamplerLogs, SamplingPriorityAttribute) {
  // 1%, so that the records' own randomness (0x9…) meets the priorities' thresholds (at 0% the
  // Collector tests with "every probability" randomness, and any positive priority keeps).
  Harness h("sampling_percentage: 1\nsampling_priority: priority\nmode: proportional",
            Signal::kLogs);
  otlp::LogsRequest req;
  auto* scope = req.add_resource_logs()->add_scope_logs();
  const std::string id = traceIdWithRandomness(0x90000000000000);
  addRecord(scope, id, "always", {{"priority", dbl(100)}});
  addRecord(scope, id, "int 100", {{"priority", i64(100)}});
  addRecord(scope, id, "half", {{"priority", i64(50)}});       // R = 0x9… passes 50%
  addRecord(scope, id, "tenth", {{"priority", i64(10)}});      // not 10%
  addRecord(scope, id, "string", {{"priority", str("100")}});  // strings are not priorities
  addRecord(scope, id, "none");
  const otlp::LogsRequest out = h.runLogs(req);
  std::vector<std::string> kept;
  for (const auto& r : out.resource_logs(0).scope_logs(0).log_records()) {
    kept.push_back(
        strCat(r.body().string_value(), " ", processors::testing::render(r.attributes())));
  }
  EXPECT_EQ(kept, (std::vector<std::string>{
                      "always priority=double:100 sampling.threshold=\"0\"",
                      "int 100 priority=100 sampling.threshold=\"0\"",
                      "half priority=50 sampling.threshold=\"8\"",
                  }));
}

TEST(ProbabilisticSamplerLogs, InconsistentThresholdIsReplaced) {
  Harness h("sampling_percentage: 100\nmode: equalizing\nfail_closed: false", Signal::kLogs);
  otlp::LogsRequest req;
  addRecord(req.add_resource_logs()->add_scope_logs(), traceIdWithRandomness(0x10000000000000),
            "lie", {{"sampling.threshold", str("8")}, {"k", str("v")}});
  const otlp::LogsRequest out = h.runLogs(req);
  ASSERT_EQ(out.resource_logs(0).scope_logs(0).log_records_size(), 1);
  EXPECT_EQ(
      processors::testing::render(out.resource_logs(0).scope_logs(0).log_records(0).attributes()),
      "k=\"v\" sampling.threshold=\"0\"");
}

}  // namespace
}  // namespace otlpd::processors::probabilistic_sampler
