// The tail_sampling processor's engine: spans grouped by trace id straight from the wire bytes,
// held in their encoded form until the trace is decided, decisions by the policies at the right
// time, kept traces built back into requests. Pure and single-threaded: no clock, no thread, no
// lock of its own — the processor (tail_sampling_processor.cc) brings time and serialises calls,
// so tests drive every decision path with time they choose.
//
// When a trace is decided:
//  - its root span (no parent_span_id) has arrived and `root_grace` passed without a new span;
//  - `decision_wait` after its first span, whatever else (a root that never comes);
//  - early, oldest first, when `num_traces` traces or `max_buffered_bytes` bytes are held, or the
//    service's memory budget is spent (never dropped without a decision);
//  - at shutdown, everything held.
// Spans of a trace already decided follow the decision (kept → passed on at once, dropped →
// dropped) while the trace id is in the decision caches; counted as late.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "otlp/wire_split.h"
#include "pipeline/memory_budget.h"
#include "processors/tail_sampling/decision_cache.h"
#include "processors/tail_sampling/policy.h"
#include "processors/tail_sampling/tail_sampling_metrics.h"
#include "processors/tail_sampling/trace_key.h"

namespace otlpd::processors::tail_sampling {

struct EngineConfig {
  absl::Duration decision_wait = absl::Seconds(30);
  absl::Duration root_grace = absl::Seconds(2);
  size_t num_traces = 50000;
  size_t expected_new_traces_per_sec = 0;  // sizes the trace table up front
  size_t sampled_cache_size = 100000;
  size_t non_sampled_cache_size = 100000;
  size_t max_buffered_bytes = size_t{256} << 20;
  bool drop_pending_traces_on_shutdown = false;
  // Kept traces leave in requests of at most this many spans / bytes (a trace larger than that
  // is split over several).
  size_t max_spans_per_request = 8192;
  size_t max_request_bytes = size_t{4} << 20;
};

// A point in time as the engine sees it: a monotonic clock for every wait (immune to wall clock
// steps and to the clocks of the spans' hosts), the wall clock for what policies see.
struct Instant {
  int64_t mono_nanos = 0;
  int64_t unix_nanos = 0;
};

// A request of kept spans to pass on.
struct Output {
  std::string request;  // an encoded ExportTraceServiceRequest
  size_t spans = 0;
};

// One incoming request cut into spans, done without the engine's lock.
class ParsedRequest {
 public:
  // InvalidArgument when the bytes are not a traces request.
  absl::Status parse(std::string_view request);

  struct Span {
    TraceKey trace;
    std::string_view bytes;
    uint32_t envelope;  // index into envelopes()
    bool valid_trace_id;
    bool root;
  };
  struct Envelope {
    std::string_view resource;
    std::string_view scope;
  };
  const std::vector<Span>& spans() const { return spans_; }
  const std::vector<Envelope>& envelopes() const { return envelopes_; }
  size_t spanBytes() const { return span_bytes_; }

 private:
  otlp::ItemWalker walker_;  // owns joined envelopes until the next parse
  std::vector<Span> spans_;
  std::vector<Envelope> envelopes_;
  size_t span_bytes_ = 0;
};

class Engine {
 public:
  // `budget` may be null (no service budget); the held bytes are counted in it otherwise.
  Engine(EngineConfig config, std::vector<NamedPolicy> policies, TailSamplingMetrics* metrics,
         pipeline::MemoryBudget* budget);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  struct IngestResult {
    // Spans of the request that were buffered (the others were late or invalid).
    size_t buffered = 0;
    // Late spans of kept traces, to pass on at once (their answer may go back to the sender).
    std::vector<Output> late;
  };
  // Buffers the spans of a parsed request. Traces decided early to make room add their kept
  // spans to `decided`. kResourceExhausted (nothing buffered) when the request cannot fit even
  // with every held trace decided; kUnavailable when the service's memory budget stays spent.
  absl::Status ingest(const ParsedRequest& request, Instant now, IngestResult& result,
                      std::vector<Output>& decided);

  // Decides the traces whose time has come (root + grace, decision_wait), at most `max_traces`.
  // Returns how many were decided.
  size_t decideDue(Instant now, std::vector<Output>& decided, size_t max_traces = SIZE_MAX);
  // Decides (or drops, with drop_pending_traces_on_shutdown) every trace held.
  void decideAll(Instant now, std::vector<Output>& decided);

  // When decideDue() next has work: the monotonic time of the earliest deadline, or INT64_MAX.
  int64_t nextDeadline() const;

  size_t tracesHeld() const { return traces_.size(); }
  size_t spansHeld() const { return spans_held_; }
  // Memory held for buffered spans: span copies, per-trace records, table slots, envelopes.
  size_t bytesHeld() const { return bytes_held_; }

 private:
  struct SpanNode;
  struct Trace;
  class EnvelopeTable;

  Trace* newTrace(const TraceKey& key, Instant now);
  void append(Trace& trace, std::string_view span, uint32_t envelope, bool root, Instant now);
  // Decides the oldest held trace; false when none is held.
  bool decideOldest(Instant now, EarlyCause cause);
  void decide(Trace* trace, Instant now, DecisionTrigger trigger);
  // Takes the trace out of the table and the lists (and its bytes out of the count).
  void release(Trace* trace);
  void freeTrace(Trace* trace);
  void flushKept(std::vector<Output>& decided);
  void addHeld(int64_t bytes);
  // The service budget in use, with our share as held now.
  size_t budgetInUse() const;

  EngineConfig config_;
  int64_t decision_wait_nanos_;
  int64_t root_grace_nanos_;
  std::vector<NamedPolicy> policies_;
  TailSamplingMetrics* metrics_;
  pipeline::MemoryBudget* budget_;
  pipeline::MemoryBudget::Reservation reservation_;

  absl::flat_hash_map<TraceKey, Trace*, TraceKeyHash> traces_;
  // Held traces by first arrival (oldest first), and those whose root arrived by last arrival.
  Trace* oldest_ = nullptr;
  Trace* newest_ = nullptr;
  Trace* ready_first_ = nullptr;
  Trace* ready_last_ = nullptr;
  std::unique_ptr<EnvelopeTable> envelopes_;
  DecisionCache sampled_;
  DecisionCache not_sampled_;
  size_t spans_held_ = 0;
  size_t bytes_held_ = 0;

  // Reused scratch.
  std::vector<SpanPiece> pieces_;
  std::vector<Decision> decisions_;
  std::vector<Trace*> kept_;
  std::vector<uint32_t> request_envelopes_;
  otlp::RequestBuilder builder_;
};

}  // namespace otlpd::processors::tail_sampling
