// The tail_sampling engine's decision paths, driven through the processor with a clock moved by
// hand and no decision thread: root + grace, decision_wait, early decisions (num_traces, bytes,
// the service's memory budget), late spans after keep and drop, traces over many requests,
// invalid trace ids, huge traces, skewed clocks, shutdown, and what consume() answers.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_test_support.h"
#include "processors/tail_sampling/tail_sampling_processor.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace engine_testing;  // NOLINT

class TailSamplingEngineTest : public ::testing::Test {
 protected:
  void make(EngineConfig config, std::vector<NamedPolicy> policies,
            pipeline::MemoryBudget* budget = nullptr) {
    processor_ = std::make_unique<TailSamplingProcessor>(
        pipeline::CreateSettings{{"tail_sampling", ""}, metrics_, budget}, config,
        std::move(policies), next_, ProcessorOptions{&clock_, false});
  }
  void make(std::vector<NamedPolicy> policies) { make(EngineConfig{}, std::move(policies)); }

  absl::Status send(const std::vector<SpanSpec>& spans) {
    return processor_->consume(wireBatch(request(spans)));
  }
  size_t decideAfter(absl::Duration d) {
    clock_.advance(d);
    return processor_->runDecisions();
  }

  uint64_t counter(const std::string& name, common::Labels labels) {
    labels.insert(labels.begin(), {"processor", "tail_sampling"});
    return metrics_.counter("otlpd_processor_tail_sampling_" + name, "", labels).value();
  }
  uint64_t latencyBucket(const std::string& trigger, const std::string& le) {
    return counter("decision_latency_seconds_bucket", {{"trigger", trigger}, {"le", le}});
  }
  uint64_t decisions(const std::string& trigger) {
    return counter("decision_latency_seconds_count", {{"trigger", trigger}});
  }

  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  pipeline::MemoryBudget budget_;  // outlives the processor, which counts in it
  ManualClock clock_;
  std::shared_ptr<RecordingConsumer> next_ = std::make_shared<RecordingConsumer>();
  std::unique_ptr<TailSamplingProcessor> processor_;
};

// A trace of a root and two children.
std::vector<SpanSpec> trace3(uint64_t t) {
  return {{.trace = t, .span = 1},
          {.trace = t, .span = 2, .parent = 1},
          {.trace = t, .span = 3, .parent = 2}};
}

TEST_F(TailSamplingEngineTest, RootSeenAndGracePassedDecides) {
  make(policies(keepAll()));
  // Children first, then the root, as SDKs export them (a span is exported when it ends).
  ASSERT_TRUE(
      send({{.trace = 1, .span = 3, .parent = 2}, {.trace = 1, .span = 2, .parent = 1}}).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(1)), 0u);
  ASSERT_TRUE(send({{.trace = 1, .span = 1, .name = "root"}}).ok());
  EXPECT_EQ(decideAfter(absl::Milliseconds(1999)), 0u);
  EXPECT_EQ(next_->spans, 0u);
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 1u);
  EXPECT_EQ(next_->spansOf(1), 3u);
  EXPECT_EQ(decisions("root"), 1u);
  // Decided 2 s after the root arrived, not 30 s after the first span.
  EXPECT_EQ(latencyBucket("root", "1"), 0u);
  EXPECT_EQ(latencyBucket("root", "2"), 1u);
  EXPECT_EQ(processor_->tracesHeld(), 0u);
  EXPECT_EQ(processor_->bytesHeld(), 0u);
}

TEST_F(TailSamplingEngineTest, SpanAfterTheRootRestartsTheGrace) {
  make(policies(keepAll()));
  ASSERT_TRUE(send({{.trace = 1, .span = 1}}).ok());
  clock_.advance(absl::Milliseconds(1500));
  ASSERT_TRUE(send({{.trace = 1, .span = 2, .parent = 1}}).ok());
  EXPECT_EQ(decideAfter(absl::Milliseconds(500)), 0u);   // 2 s after the root
  EXPECT_EQ(decideAfter(absl::Milliseconds(1499)), 0u);  // 1.999 s after the last span
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 1u);
  EXPECT_EQ(next_->spansOf(1), 2u);
  // Latency counts from the root's arrival: 3.5 s.
  EXPECT_EQ(latencyBucket("root", "3"), 0u);
  EXPECT_EQ(latencyBucket("root", "5"), 1u);
}

TEST_F(TailSamplingEngineTest, RootGraceIsConfigurable) {
  EngineConfig config;
  config.root_grace = absl::Milliseconds(200);
  make(config, policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Milliseconds(199)), 0u);
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 1u);
}

TEST_F(TailSamplingEngineTest, TraceWithoutRootIsDecidedAfterDecisionWait) {
  make(policies(keepAll()));
  // The root never comes; children keep arriving, which does not push the bound.
  ASSERT_TRUE(send({{.trace = 1, .span = 2, .parent = 1}}).ok());
  for (int i = 0; i < 29; ++i) {
    EXPECT_EQ(decideAfter(absl::Seconds(1)), 0u);
    ASSERT_TRUE(send({{.trace = 1, .span = static_cast<uint64_t>(3 + i), .parent = 1}}).ok());
  }
  EXPECT_EQ(decideAfter(absl::Milliseconds(999)), 0u);
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 1u);
  EXPECT_EQ(next_->spansOf(1), 30u);
  EXPECT_EQ(decisions("decision_wait"), 1u);
  EXPECT_EQ(decisions("root"), 0u);
  // The trace "ended" with its last span, 1 s before the decision.
  EXPECT_EQ(latencyBucket("decision_wait", "0.5"), 0u);
  EXPECT_EQ(latencyBucket("decision_wait", "1"), 1u);
}

TEST_F(TailSamplingEngineTest, RootSeenButSpansKeepComingIsBoundedByDecisionWait) {
  make(policies(keepAll()));
  ASSERT_TRUE(send({{.trace = 1, .span = 1}}).ok());
  // A child every second keeps the grace from passing; decision_wait still ends it.
  for (int i = 0; i < 29; ++i) {
    EXPECT_EQ(decideAfter(absl::Seconds(1)), 0u);
    ASSERT_TRUE(send({{.trace = 1, .span = static_cast<uint64_t>(2 + i), .parent = 1}}).ok());
  }
  EXPECT_EQ(decideAfter(absl::Seconds(1)), 1u);
  EXPECT_EQ(decisions("decision_wait"), 1u);
  EXPECT_EQ(next_->spansOf(1), 30u);
  // The children that still come follow the decision.
  ASSERT_TRUE(send({{.trace = 1, .span = 99, .parent = 1}}).ok());
  EXPECT_EQ(next_->spansOf(1), 31u);
  EXPECT_EQ(processor_->tracesHeld(), 0u);
}

TEST_F(TailSamplingEngineTest, DecisionWaitIsConfigurable) {
  EngineConfig config;
  config.decision_wait = absl::Seconds(5);
  make(config, policies(keepAll()));
  ASSERT_TRUE(send({{.trace = 1, .span = 2, .parent = 1}}).ok());
  EXPECT_EQ(decideAfter(absl::Milliseconds(4999)), 0u);
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 1u);
}

TEST_F(TailSamplingEngineTest, DroppedTracesAreNotPassedOnAndCountedPerPolicy) {
  make(policies(keepTraces({2}, "even"), keepTraces({3}, "three")));
  for (uint64_t t = 1; t <= 3; ++t) ASSERT_TRUE(send(trace3(t)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 3u);
  EXPECT_EQ(next_->spansOf(1), 0u);
  EXPECT_EQ(next_->spansOf(2), 3u);
  EXPECT_EQ(next_->spansOf(3), 3u);
  EXPECT_EQ(counter("traces_total", {{"policy", "even"}, {"decision", "kept"}}), 1u);
  EXPECT_EQ(counter("traces_total", {{"policy", "three"}, {"decision", "kept"}}), 1u);
  EXPECT_EQ(counter("traces_total", {{"policy", ""}, {"decision", "dropped"}}), 1u);
  EXPECT_EQ(counter("spans_total", {{"policy", "even"}, {"decision", "kept"}}), 3u);
  EXPECT_EQ(counter("spans_total", {{"policy", ""}, {"decision", "dropped"}}), 3u);
  EXPECT_EQ(counter("policy_evaluations_total", {{"policy", "even"}, {"result", "sampled"}}), 1u);
  EXPECT_EQ(counter("policy_evaluations_total", {{"policy", "even"}, {"result", "not_sampled"}}),
            2u);
}

TEST_F(TailSamplingEngineTest, PolicyErrorsAreCountedAndTheOthersDecide) {
  make(policies(named("broken", [](const TraceView&, int64_t) { return Decision::kError; }),
                keepAll("all")));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(next_->spansOf(1), 3u);
  EXPECT_EQ(counter("policy_evaluations_total", {{"policy", "broken"}, {"result", "error"}}), 1u);
}

TEST_F(TailSamplingEngineTest, PoliciesSeeTheWholeTraceWithItsEnvelopes) {
  std::vector<std::string> seen;
  uint64_t encoded = 0;
  int64_t first_arrival = 0, now_seen = 0;
  std::string trace_id;
  make(policies(named("look", [&](const TraceView& t, int64_t now) {
    for (const SpanPiece& piece : t.spans) {
      seen.push_back(
          std::string(otlp::resourceStringAttribute(piece.resource_envelope, "service.name")) +
          "/" + std::string(spanName(piece.span)));
    }
    encoded = t.encoded_bytes;
    first_arrival = t.first_arrival_unix_nanos;
    now_seen = now;
    trace_id = std::string(t.trace_id);
    return Decision::kSampled;
  })));
  const int64_t start = clock_.now().unix_nanos;
  const otlp::TracesRequest first =
      request({{.trace = 1, .span = 2, .parent = 1, .name = "a", .service = "web"}});
  const otlp::TracesRequest second =
      request({{.trace = 1, .span = 3, .parent = 1, .name = "b", .service = "db"},
               {.trace = 1, .span = 1, .name = "root", .service = "web"}});
  ASSERT_TRUE(processor_->consume(wireBatch(first)).ok());
  clock_.advance(absl::Seconds(1));
  ASSERT_TRUE(processor_->consume(wireBatch(second)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"web/a", "db/b", "web/root"}));
  EXPECT_EQ(trace_id, traceId(1));
  EXPECT_EQ(first_arrival, start);
  EXPECT_EQ(now_seen, start + 3'000'000'000);
  size_t expected = 0;
  for (const auto* req : {&first, &second}) {
    for (const auto& rs : req->resource_spans()) {
      for (const auto& span : rs.scope_spans(0).spans()) expected += span.ByteSizeLong();
    }
  }
  EXPECT_EQ(encoded, expected);
}

TEST_F(TailSamplingEngineTest, SpansOfOneTraceOverManyRequestsComeOutTogether) {
  make(policies(keepAll()));
  // Five requests, interleaved with other traces, from three services and two scopes.
  const std::vector<std::string> services = {"web", "api", "db"};
  size_t sent = 0;
  for (int r = 0; r < 5; ++r) {
    std::vector<SpanSpec> spans;
    for (int i = 0; i < 4; ++i) {
      SpanSpec s{.trace = 7, .span = static_cast<uint64_t>(10 + r * 4 + i), .parent = 1};
      s.service = services[static_cast<size_t>(i) % 3];
      s.scope = i % 2 == 0 ? "http" : "sql";
      s.name = "op" + std::to_string(r * 4 + i);
      spans.push_back(s);
      spans.push_back({.trace = 100 + static_cast<uint64_t>(r), .span = 99, .parent = 98});
      ++sent;
    }
    ASSERT_TRUE(send(spans).ok());
    clock_.advance(absl::Milliseconds(300));
  }
  ASSERT_TRUE(
      send({{.trace = 7, .span = 1, .name = "root", .service = "web", .scope = "http"}}).ok());
  ++sent;
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  ASSERT_EQ(next_->batches, 1u);
  std::vector<std::string> got = next_->received[7];
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {"web/http/root"};
  for (int k = 0; k < 20; ++k) {
    want.push_back(services[static_cast<size_t>(k % 4) % 3] + "/" +
                   (k % 4 % 2 == 0 ? "http" : "sql") + "/op" + std::to_string(k));
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), sent);
  // The other traces (no root) are still held.
  EXPECT_EQ(processor_->tracesHeld(), 5u);
}

TEST_F(TailSamplingEngineTest, ResourceAndScopeComeOutAsTheyCameIn) {
  class KeepRequest final : public pipeline::Consumer {
   public:
    absl::Status consume(pipeline::Batch&& b) override {
      last.CopyFrom(b.traces());
      return absl::OkStatus();
    }
    otlp::TracesRequest last;
  };
  auto keep = std::make_shared<KeepRequest>();
  processor_ = std::make_unique<TailSamplingProcessor>(
      pipeline::CreateSettings{{"tail_sampling", ""}, metrics_}, EngineConfig{},
      policies(keepAll()), keep, ProcessorOptions{&clock_, false});
  otlp::TracesRequest req = request(trace3(1));
  auto* resource = req.mutable_resource_spans(0)->mutable_resource();
  auto* kv = resource->add_attributes();
  kv->set_key("host.name");
  kv->mutable_value()->set_string_value("node-7");
  resource->set_dropped_attributes_count(3);
  req.mutable_resource_spans(0)->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_scope()->set_version("1.2.3");
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->set_schema_url("scope-schema");
  ASSERT_TRUE(processor_->consume(wireBatch(req)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  // One resource, one scope, the spans in the order they came: the same request.
  EXPECT_EQ(keep->last.SerializeAsString(), req.SerializeAsString());
}

TEST_F(TailSamplingEngineTest, LateSpansOfAKeptTraceArePassedOnAtOnce) {
  make(policies(keepTraces({1})));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(next_->spansOf(1), 3u);
  // A late span, mixed with a new trace's span in one request.
  ASSERT_TRUE(
      send({{.trace = 1, .span = 9, .parent = 1, .name = "late"}, {.trace = 2, .span = 1}}).ok());
  EXPECT_EQ(next_->spansOf(1), 4u);  // without waiting for any decision
  EXPECT_EQ(next_->received[1].back(), "svc/lib/late");
  EXPECT_EQ(counter("late_spans_total", {{"decision", "kept"}}), 1u);
  EXPECT_EQ(processor_->tracesHeld(), 1u);  // trace 2
}

TEST_F(TailSamplingEngineTest, LateSpansOfADroppedTraceAreDropped) {
  make(policies(dropAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  ASSERT_TRUE(
      send({{.trace = 1, .span = 9, .parent = 1}, {.trace = 1, .span = 10, .parent = 1}}).ok());
  EXPECT_EQ(next_->spans, 0u);
  EXPECT_EQ(counter("late_spans_total", {{"decision", "dropped"}}), 2u);
  // They did not start a new trace.
  EXPECT_EQ(processor_->tracesHeld(), 0u);
  EXPECT_EQ(decideAfter(absl::Seconds(60)), 0u);
}

TEST_F(TailSamplingEngineTest, DecisionCachesForgetTheOldestIds) {
  EngineConfig config;
  config.sampled_cache_size = 2;
  make(config, policies(keepAll()));
  for (uint64_t t = 1; t <= 3; ++t) ASSERT_TRUE(send(trace3(t)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 3u);
  // Trace 1 was forgotten: its late span starts a new trace; trace 3's follows the decision.
  ASSERT_TRUE(
      send({{.trace = 1, .span = 9, .parent = 1}, {.trace = 3, .span = 9, .parent = 1}}).ok());
  EXPECT_EQ(counter("late_spans_total", {{"decision", "kept"}}), 1u);
  EXPECT_EQ(next_->spansOf(3), 4u);
  EXPECT_EQ(processor_->tracesHeld(), 1u);
}

TEST_F(TailSamplingEngineTest, CachesOfSizeZeroRememberNothing) {
  EngineConfig config;
  config.sampled_cache_size = 0;
  config.non_sampled_cache_size = 0;
  make(config, policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  ASSERT_TRUE(send({{.trace = 1, .span = 9, .parent = 1}}).ok());
  EXPECT_EQ(processor_->tracesHeld(), 1u);
  EXPECT_EQ(counter("late_spans_total", {{"decision", "kept"}}), 0u);
}

TEST_F(TailSamplingEngineTest, NumTracesDecidesTheOldestEarly) {
  EngineConfig config;
  config.num_traces = 3;
  make(config, policies(keepTraces({1})));
  for (uint64_t t = 1; t <= 5; ++t) {
    ASSERT_TRUE(send({{.trace = t, .span = 2, .parent = 1}}).ok());
    clock_.advance(absl::Milliseconds(10));
  }
  // Traces 1 and 2 (the oldest) were decided by the policies: 1 kept, 2 dropped.
  EXPECT_EQ(processor_->tracesHeld(), 3u);
  EXPECT_EQ(counter("early_decisions_total", {{"cause", "num_traces"}}), 2u);
  EXPECT_EQ(decisions("early"), 2u);
  EXPECT_EQ(next_->spansOf(1), 1u);
  EXPECT_EQ(counter("traces_total", {{"policy", ""}, {"decision", "dropped"}}), 1u);
  // Their late spans follow the early decision.
  ASSERT_TRUE(
      send({{.trace = 1, .span = 3, .parent = 1}, {.trace = 2, .span = 3, .parent = 1}}).ok());
  EXPECT_EQ(next_->spansOf(1), 2u);
  EXPECT_EQ(counter("late_spans_total", {{"decision", "dropped"}}), 1u);
  EXPECT_EQ(processor_->tracesHeld(), 3u);
}

TEST_F(TailSamplingEngineTest, ByteBoundDecidesTheOldestEarlyAndIsNeverExceeded) {
  EngineConfig config;
  config.max_buffered_bytes = 64 * 1024;
  make(config, policies(keepAll()));
  size_t sent = 0;
  for (uint64_t t = 1; t <= 400; ++t) {
    std::vector<SpanSpec> spans;
    for (uint64_t s = 2; s < 6; ++s) spans.push_back({.trace = t, .span = s, .parent = 1});
    ASSERT_TRUE(send(spans).ok());
    sent += spans.size();
    ASSERT_LE(processor_->bytesHeld(), config.max_buffered_bytes);
    clock_.advance(absl::Milliseconds(1));
  }
  EXPECT_GT(counter("early_decisions_total", {{"cause", "max_buffered_bytes"}}), 100u);
  // Nothing lost: what was decided went out, the rest is held and goes at shutdown.
  ASSERT_TRUE(processor_->shutdown().ok());
  EXPECT_EQ(next_->spans, sent);
  for (uint64_t t = 1; t <= 400; ++t) EXPECT_EQ(next_->spansOf(t), 4u) << t;
}

TEST_F(TailSamplingEngineTest, RequestLargerThanTheWholeBufferIsRefusedRetryably) {
  EngineConfig config;
  config.max_buffered_bytes = 64 * 1024;
  make(config, policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  std::vector<SpanSpec> big;
  for (uint64_t s = 1; s <= 1000; ++s) big.push_back({.trace = 2, .span = s + 1, .parent = 1});
  absl::Status status = send(big);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(counter("refused_spans_total", {}), 1000u);
  // Nothing of it was held (a retry duplicates nothing), and what was held stays.
  EXPECT_EQ(processor_->tracesHeld(), 1u);
}

TEST_F(TailSamplingEngineTest, HeldBytesAreCountedInTheServiceBudget) {
  pipeline::MemoryBudget& budget = budget_;
  make(EngineConfig{}, policies(keepAll()), &budget);
  for (uint64_t t = 1; t <= 10; ++t) ASSERT_TRUE(send(trace3(t)).ok());
  EXPECT_GT(processor_->bytesHeld(), 0u);
  EXPECT_EQ(budget.inUse(), processor_->bytesHeld());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 10u);
  EXPECT_EQ(processor_->bytesHeld(), 0u);
  EXPECT_EQ(budget.inUse(), 0u);
}

TEST_F(TailSamplingEngineTest, SpentBudgetDecidesEarlyThenRefusesRetryably) {
  pipeline::MemoryBudget& budget = budget_;
  make(EngineConfig{}, policies(keepAll()), &budget);
  for (uint64_t t = 1; t <= 10; ++t) ASSERT_TRUE(send(trace3(t)).ok());
  const size_t held = processor_->bytesHeld();
  // Something else takes the budget over 7/8 of its limit: the next request makes the oldest
  // traces be decided (by the policies) until the budget is below 7/8 again.
  const size_t limit = 2 * held;
  budget.setLimit(limit);
  auto other = budget.forceReserve(limit - limit / 8 - held / 2);
  ASSERT_TRUE(send(trace3(11)).ok());
  const uint64_t early = counter("early_decisions_total", {{"cause", "memory_budget"}});
  EXPECT_GE(early, 4u);
  EXPECT_LE(early, 7u);
  EXPECT_LE(budget.inUse(), limit - limit / 8 + held / 10);
  EXPECT_EQ(next_->spansOf(1), 3u);   // the oldest went out, decided by the policies
  EXPECT_EQ(next_->spansOf(10), 0u);  // the newest are still held
  EXPECT_EQ(next_->spansOf(11), 0u);
  // With the budget spent by others alone, early decisions cannot help: refused retryably.
  auto all = budget.forceReserve(limit);
  absl::Status status = send(trace3(12));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(processor_->tracesHeld(), 0u);
  EXPECT_EQ(counter("refused_spans_total", {}), 3u);
  all.release();
  other.release();
  EXPECT_TRUE(send(trace3(12)).ok());
  EXPECT_EQ(processor_->tracesHeld(), 1u);
  EXPECT_EQ(next_->spans, 33u);
}

TEST_F(TailSamplingEngineTest, SpansWithoutAValidTraceIdAreDroppedAndCounted) {
  make(policies(keepAll()));
  ASSERT_TRUE(send({{.trace = 1, .span = 1},
                    {.span = 2, .raw_trace_id = std::string(16, '\0')},
                    {.span = 3, .raw_trace_id = std::string(8, '\x01')},
                    {.span = 4, .no_trace_id = true},
                    {.trace = 1, .span = 5, .parent = 1}})
                  .ok());
  EXPECT_EQ(counter("invalid_trace_id_spans_total", {}), 3u);
  EXPECT_EQ(processor_->tracesHeld(), 1u);
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(next_->spans, 2u);
  // A request of only invalid spans is accepted (they are dropped, not retried).
  EXPECT_TRUE(send({{.span = 2, .raw_trace_id = std::string(16, '\0')}}).ok());
  EXPECT_EQ(counter("invalid_trace_id_spans_total", {}), 4u);
}

TEST_F(TailSamplingEngineTest, MalformedRequestIsRefusedPermanently) {
  make(policies(keepAll()));
  std::string bytes = request(trace3(1)).SerializeAsString();
  bytes.resize(bytes.size() - 5);
  absl::Status status = processor_->consume(pipeline::Batch::fromWire(
      pipeline::Signal::kTraces, pipeline::WireBytes::fromString(bytes), 3));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TailSamplingEngineTest, DecodedBatchesAreGroupedToo) {
  make(policies(keepAll()));
  pipeline::Batch batch = pipeline::Batch::create(pipeline::Signal::kTraces);
  batch.mutableTraces() = request(trace3(1));
  ASSERT_TRUE(processor_->consume(std::move(batch)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(next_->spansOf(1), 3u);
}

TEST_F(TailSamplingEngineTest, ShutdownDecidesEverythingHeld) {
  make(policies(keepTraces({1, 3})));
  for (uint64_t t = 1; t <= 4; ++t) ASSERT_TRUE(send({{.trace = t, .span = 2, .parent = 1}}).ok());
  ASSERT_TRUE(processor_->shutdown().ok());
  EXPECT_EQ(next_->spansOf(1), 1u);
  EXPECT_EQ(next_->spansOf(2), 0u);
  EXPECT_EQ(next_->spansOf(3), 1u);
  EXPECT_EQ(decisions("shutdown"), 4u);
  EXPECT_EQ(processor_->tracesHeld(), 0u);
  // Afterwards, nothing is taken in (retryably) and a second shutdown is harmless.
  EXPECT_EQ(send(trace3(5)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(processor_->shutdown().ok());
}

TEST_F(TailSamplingEngineTest, ShutdownCanDropPendingTraces) {
  EngineConfig config;
  config.drop_pending_traces_on_shutdown = true;
  make(config, policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  ASSERT_TRUE(processor_->shutdown().ok());
  EXPECT_EQ(next_->spans, 0u);
  EXPECT_EQ(counter("traces_total", {{"policy", ""}, {"decision", "dropped"}}), 1u);
}

TEST_F(TailSamplingEngineTest, ATraceOf100000SpansIsHeldWholeWithinTheBound) {
  make(policies(keepAll()));
  for (int r = 0; r < 100; ++r) {
    std::vector<SpanSpec> spans;
    for (int i = 0; i < 1000; ++i) {
      spans.push_back({.trace = 1, .span = static_cast<uint64_t>(2 + r * 1000 + i), .parent = 1});
    }
    ASSERT_TRUE(send(spans).ok());
  }
  ASSERT_TRUE(send({{.trace = 1, .span = 1}}).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(next_->spansOf(1), 100'001u);
  // It leaves in requests of at most 8192 spans.
  EXPECT_EQ(next_->batches, 13u);
  EXPECT_LE(*std::max_element(next_->batch_sizes.begin(), next_->batch_sizes.end()), 8192u);
}

TEST_F(TailSamplingEngineTest, ATraceOf100000SpansOverTheBoundIsDecidedEarlyAndTheRestFollows) {
  EngineConfig config;
  config.max_buffered_bytes = 1 << 20;  // ~10k spans of this size
  make(config, policies(keepAll()));
  for (int r = 0; r < 100; ++r) {
    std::vector<SpanSpec> spans;
    for (int i = 0; i < 1000; ++i) {
      spans.push_back({.trace = 1, .span = static_cast<uint64_t>(2 + r * 1000 + i), .parent = 1});
    }
    ASSERT_TRUE(send(spans).ok());
    ASSERT_LE(processor_->bytesHeld(), config.max_buffered_bytes);
  }
  EXPECT_EQ(counter("early_decisions_total", {{"cause", "max_buffered_bytes"}}), 1u);
  EXPECT_GT(counter("late_spans_total", {{"decision", "kept"}}), 80'000u);
  EXPECT_EQ(next_->spansOf(1), 100'000u);
  EXPECT_EQ(processor_->tracesHeld(), 0u);
}

TEST_F(TailSamplingEngineTest, SkewedSpanClocksDoNotMoveDecisions) {
  // Timing uses the processor's own clock: spans written by hosts hours ahead or behind are
  // decided root_grace after they arrive, like any other.
  make(policies(keepAll()));
  const int64_t hours = 3600LL * 1'000'000'000 * 5;
  ASSERT_TRUE(
      send({{.trace = 1,
             .span = 1,
             .start_unix_nanos = 1'700'000'000'000'000'000 + hours,
             .end_unix_nanos = 1'700'000'000'100'000'000 + hours},
            {.trace = 2,
             .span = 1,
             .start_unix_nanos = 1'700'000'000'000'000'000 - hours,
             .end_unix_nanos = 1'700'000'000'100'000'000 - hours},
            {.trace = 3, .span = 2, .parent = 1, .start_unix_nanos = 0, .end_unix_nanos = 0}})
          .ok());
  EXPECT_EQ(decideAfter(absl::Milliseconds(1999)), 0u);
  EXPECT_EQ(decideAfter(absl::Milliseconds(1)), 2u);
  EXPECT_EQ(latencyBucket("root", "2"), 2u);
  EXPECT_EQ(latencyBucket("root", "1"), 0u);
  EXPECT_EQ(decideAfter(absl::Seconds(28)), 1u);  // trace 3: no root, decision_wait
}

TEST_F(TailSamplingEngineTest, DownstreamFailureAfterTheDecisionIsCountedNotReturned) {
  make(policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  next_->result = absl::UnavailableError("queue full");
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  EXPECT_EQ(counter("forward_failed_spans_total", {}), 3u);
}

TEST_F(TailSamplingEngineTest, RequestOfOnlyLateKeptSpansGetsTheDownstreamAnswer) {
  make(policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  EXPECT_EQ(decideAfter(absl::Seconds(2)), 1u);
  next_->result = absl::UnavailableError("queue full");
  // Nothing of it is buffered, so the sender can retry it.
  EXPECT_EQ(send({{.trace = 1, .span = 9, .parent = 1}}).code(), absl::StatusCode::kUnavailable);
  // Mixed with spans that were buffered: accepted (the late ones are counted as failed).
  EXPECT_TRUE(send({{.trace = 1, .span = 10, .parent = 1}, {.trace = 2, .span = 1}}).ok());
  EXPECT_EQ(counter("forward_failed_spans_total", {}), 2u);
}

TEST_F(TailSamplingEngineTest, EnvelopesAreStoredOncePerResourceAndScope) {
  make(policies(keepAll()));
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("k8s.pod.labels");
  kv->mutable_value()->set_string_value(std::string(4000, 'x'));
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(std::string(1000, 's'));
  size_t encoded = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(traceId(i / 10 + 1));
    span->set_span_id(spanId(i + 2));
    span->set_parent_span_id(spanId(1));
    span->set_name("GET /api/items");
    encoded += span->ByteSizeLong();
  }
  ASSERT_TRUE(processor_->consume(wireBatch(req)).ok());
  // The 5 KB of envelopes count once, not once per span or per trace: per span, the encoded
  // size plus at most 96 bytes.
  const size_t held = processor_->bytesHeld();
  EXPECT_LE(held, encoded + 200 * 96 + 5000 + 512);
  EXPECT_EQ(processor_->tracesHeld(), 20u);
}

TEST_F(TailSamplingEngineTest, MetricsAreRendered) {
  make(policies(keepAll()));
  ASSERT_TRUE(send(trace3(1)).ok());
  decideAfter(absl::Seconds(2));
  const std::string text = metrics_.renderPrometheus();
  for (const char* name :
       {"otlpd_processor_tail_sampling_traces_total{processor=\"tail_sampling\",policy=\"all\","
        "decision=\"kept\"} 1",
        "otlpd_processor_tail_sampling_spans_total{processor=\"tail_sampling\",policy=\"all\","
        "decision=\"kept\"} 3",
        "otlpd_processor_tail_sampling_decision_latency_seconds_bucket{processor=\"tail_"
        "sampling\",trigger=\"root\",le=\"2\"} 1",
        "otlpd_processor_tail_sampling_decision_latency_seconds_count{processor=\"tail_sampling\","
        "trigger=\"root\"} 1",
        "otlpd_processor_tail_sampling_traces_held{processor=\"tail_sampling\"} 0",
        "otlpd_processor_tail_sampling_bytes_held{processor=\"tail_sampling\"} 0",
        "otlpd_processor_tail_sampling_early_decisions_total{processor=\"tail_sampling\",cause="
        "\"num_traces\"} 0",
        "otlpd_processor_tail_sampling_late_spans_total{processor=\"tail_sampling\",decision="
        "\"kept\"} 0"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
  }
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
