#include "processors/tail_sampling/engine.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

#include "common/strings.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_reader.h"

namespace otlpd::processors::tail_sampling {
namespace {

bool allZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

// What glibc's malloc takes for a block of `n` bytes: 8 bytes of header, 16-byte granules,
// 32 bytes at least.
constexpr size_t mallocBytes(size_t n) {
  return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing

absl::Status ParsedRequest::parse(std::string_view request) {
  spans_.clear();
  envelopes_.clear();
  span_bytes_ = 0;
  uint32_t scope = UINT32_MAX;
  return walker_.walk(request, [&](const otlp::ItemSlice& slice) {
    if (slice.scope_index != scope || envelopes_.empty()) {
      envelopes_.push_back({slice.resource_envelope, slice.scope_envelope});
      scope = slice.scope_index;
    }
    // One pass over the span's top-level fields for what grouping needs (protobuf keeps the last
    // occurrence of a field, and so do we).
    std::string_view trace_id, parent;
    otlp::wire::Reader reader(slice.item);
    otlp::wire::Field field;
    while (!reader.done() && reader.next(field) == otlp::wire::Stop::kNone) {
      if (field.type != otlp::wire::kLengthDelimited) continue;
      if (field.number == otlp::fields::kSpanTraceId) {
        trace_id = field.bytes;
      } else if (field.number == otlp::fields::kSpanParentSpanId) {
        parent = field.bytes;
      }
    }
    Span span;
    span.valid_trace_id = trace_id.size() == 16 && !allZero(trace_id);
    span.trace = span.valid_trace_id ? TraceKey::from(trace_id) : TraceKey{};
    span.bytes = slice.item;
    span.envelope = static_cast<uint32_t>(envelopes_.size() - 1);
    // Some SDKs write an all-zero parent for a root.
    span.root = parent.empty() || allZero(parent);
    spans_.push_back(span);
    span_bytes_ += slice.item.size();
  });
}

// ---------------------------------------------------------------------------------------------
// Storage

// One buffered span: a header and the span's encoded bytes right after it, in one allocation.
struct Engine::SpanNode {
  SpanNode* next;
  uint32_t envelope;
  uint32_t size;

  std::string_view bytes() const { return {reinterpret_cast<const char*>(this + 1), size}; }

  static SpanNode* make(std::string_view span, uint32_t envelope) {
    void* memory = ::operator new(sizeof(SpanNode) + span.size());
    auto* node = new (memory) SpanNode{nullptr, envelope, static_cast<uint32_t>(span.size())};
    std::memcpy(node + 1, span.data(), span.size());
    return node;
  }
  static size_t heldBytes(size_t span_size) { return mallocBytes(sizeof(SpanNode) + span_size); }
};

struct Engine::Trace {
  TraceKey key;
  // The list of held traces by first arrival.
  Trace* older = nullptr;
  Trace* newer = nullptr;
  // The list of traces whose root arrived, by last arrival.
  Trace* ready_prev = nullptr;
  Trace* ready_next = nullptr;
  SpanNode* head = nullptr;
  SpanNode* tail = nullptr;
  int64_t first_arrival = 0;  // monotonic nanos
  int64_t last_arrival = 0;
  int64_t root_arrival = -1;  // -1: no root yet
  uint64_t encoded_bytes = 0;
  size_t held_bytes = 0;
  uint32_t spans = 0;
  bool ready = false;
};

namespace {
// A trace's record plus its slot in the table (key, pointer and control byte, at the table's
// typical load).
constexpr size_t kTraceHeldBytes = 56;
}  // namespace

// Resource and scope envelopes, each distinct pair stored once and shared by the spans that
// came under it; an entry goes when its last span goes.
class Engine::EnvelopeTable {
 public:
  struct Entry {
    std::string resource;
    std::string scope;
    uint32_t refs = 0;
  };

  // The id of the pair, added with no reference when new (release it with dropIfUnused()).
  uint32_t intern(std::string_view resource, std::string_view scope, size_t& bytes_held) {
    auto it = index_.find(Key{resource, scope});
    if (it != index_.end()) return it->second;
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    entries_[id] = std::make_unique<Entry>();
    Entry& entry = *entries_[id];
    entry.resource.assign(resource);
    entry.scope.assign(scope);
    index_.emplace(Key{entry.resource, entry.scope}, id);
    bytes_held += heldBytes(entry);
    return id;
  }
  void ref(uint32_t id) { ++entries_[id]->refs; }
  void unref(uint32_t id, size_t& bytes_held) {
    if (--entries_[id]->refs == 0) dropIfUnused(id, bytes_held);
  }
  void dropIfUnused(uint32_t id, size_t& bytes_held) {
    Entry* entry = entries_[id].get();
    if (entry == nullptr || entry->refs != 0) return;
    bytes_held -= heldBytes(*entry);
    index_.erase(Key{entry->resource, entry->scope});
    entries_[id].reset();
    free_.push_back(id);
  }
  const Entry& get(uint32_t id) const { return *entries_[id]; }
  size_t size() const { return index_.size(); }

 private:
  struct Key {
    std::string_view resource;
    std::string_view scope;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      const size_t r = std::hash<std::string_view>()(key.resource);
      return r ^ (std::hash<std::string_view>()(key.scope) + 0x9e3779b97f4a7c15ULL + (r << 6));
    }
  };
  static size_t heldBytes(const Entry& entry) {
    // The entry, its two strings' heap blocks (when longer than the inline buffer) and its slot
    // in the index.
    size_t bytes = mallocBytes(sizeof(Entry)) + 64;
    if (entry.resource.size() > 15) bytes += mallocBytes(entry.resource.size() + 1);
    if (entry.scope.size() > 15) bytes += mallocBytes(entry.scope.size() + 1);
    return bytes;
  }

  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<Key, uint32_t, KeyHash> index_;
};

// ---------------------------------------------------------------------------------------------
// Engine

Engine::Engine(EngineConfig config, std::vector<NamedPolicy> policies, TailSamplingMetrics* metrics,
               pipeline::MemoryBudget* budget)
    : config_(config),
      decision_wait_nanos_(absl::ToInt64Nanoseconds(config.decision_wait)),
      root_grace_nanos_(absl::ToInt64Nanoseconds(config.root_grace)),
      policies_(std::move(policies)),
      metrics_(metrics),
      budget_(budget),
      envelopes_(std::make_unique<EnvelopeTable>()),
      sampled_(config.sampled_cache_size),
      not_sampled_(config.non_sampled_cache_size) {
  if (budget_ != nullptr) reservation_ = budget_->forceReserve(0);
  if (config_.expected_new_traces_per_sec > 0) {
    // The Collector's sizing hint: the traces that arrive within one decision_wait.
    const double seconds = absl::ToDoubleSeconds(config_.decision_wait);
    const double expected = static_cast<double>(config_.expected_new_traces_per_sec) * seconds;
    traces_.reserve(
        static_cast<size_t>(std::min(expected, static_cast<double>(config_.num_traces))));
  }
  decisions_.resize(policies_.size());
}

Engine::~Engine() {
  for (Trace* trace : kept_) freeTrace(trace);
  while (oldest_ != nullptr) {
    Trace* trace = oldest_;
    release(trace);
    freeTrace(trace);
  }
}

size_t Engine::budgetInUse() const {
  // Our reservation is brought up to date at the end of each call; until then count what is
  // held now, so deciding early shows at once.
  return budget_->inUse() - reservation_.bytes() + bytes_held_;
}

Engine::Trace* Engine::newTrace(const TraceKey& key, Instant now) {
  auto* trace = new Trace;
  trace->key = key;
  trace->first_arrival = now.mono_nanos;
  trace->last_arrival = now.mono_nanos;
  trace->held_bytes = kTraceHeldBytes + mallocBytes(sizeof(Trace));
  bytes_held_ += trace->held_bytes;
  traces_.emplace(key, trace);
  trace->older = newest_;
  if (newest_ != nullptr) {
    newest_->newer = trace;
  } else {
    oldest_ = trace;
  }
  newest_ = trace;
  return trace;
}

void Engine::append(Trace& trace, std::string_view span, uint32_t envelope, bool root,
                    Instant now) {
  SpanNode* node = SpanNode::make(span, envelope);
  if (trace.tail != nullptr) {
    trace.tail->next = node;
  } else {
    trace.head = node;
  }
  trace.tail = node;
  envelopes_->ref(envelope);
  const size_t held = SpanNode::heldBytes(span.size());
  trace.held_bytes += held;
  bytes_held_ += held;
  trace.encoded_bytes += span.size();
  ++trace.spans;
  ++spans_held_;
  trace.last_arrival = now.mono_nanos;
  if (root && trace.root_arrival < 0) trace.root_arrival = now.mono_nanos;
  if (trace.root_arrival < 0) return;
  // Root seen: the trace waits root_grace after its last span; keep the ready list ordered by
  // last arrival by moving it to the end.
  if (trace.ready) {
    if (ready_last_ == &trace) return;
    if (trace.ready_prev != nullptr) {
      trace.ready_prev->ready_next = trace.ready_next;
    } else {
      ready_first_ = trace.ready_next;
    }
    trace.ready_next->ready_prev = trace.ready_prev;
  }
  trace.ready = true;
  trace.ready_prev = ready_last_;
  trace.ready_next = nullptr;
  if (ready_last_ != nullptr) {
    ready_last_->ready_next = &trace;
  } else {
    ready_first_ = &trace;
  }
  ready_last_ = &trace;
}

absl::Status Engine::ingest(const ParsedRequest& request, Instant now, IngestResult& result,
                            std::vector<Output>& decided) {
  result.buffered = 0;
  result.late.clear();
  const auto& spans = request.spans();
  if (budget_ != nullptr && budget_->limit() != 0) {
    // Early decisions start when the service's budget is 7/8 spent, so the receivers, which
    // refuse requests at the limit, keep room for what is in flight.
    const size_t limit = budget_->limit();
    const size_t high_water = limit - limit / 8;
    if (budgetInUse() > high_water) {
      while (budgetInUse() > high_water && oldest_ != nullptr) {
        decideOldest(now, EarlyCause::kMemoryBudget);
      }
      flushKept(decided);
    }
    if (budgetInUse() > limit) {
      metrics_->refusedSpans(spans.size());
      return absl::UnavailableError(
          "tail_sampling: the service's memory budget is spent and no trace is left to decide; "
          "retry later");
    }
  }
  // What buffering every span would take at most; a request that cannot fit even into an empty
  // buffer is refused before anything is held, so that a retry duplicates nothing.
  size_t worst_case = 0;
  for (const auto& span : spans) {
    worst_case += SpanNode::heldBytes(span.bytes.size()) + kTraceHeldBytes + sizeof(Trace);
  }
  for (const auto& envelope : request.envelopes()) {
    worst_case += envelope.resource.size() + envelope.scope.size();
  }
  if (worst_case > config_.max_buffered_bytes) {
    metrics_->refusedSpans(spans.size());
    return absl::ResourceExhaustedError(
        strCat("tail_sampling: a request of ", spans.size(), " spans needs up to ", worst_case,
               " bytes of buffer, more than max_buffered_bytes (", config_.max_buffered_bytes,
               "); send smaller requests"));
  }

  request_envelopes_.assign(request.envelopes().size(), UINT32_MAX);
  otlp::RequestBuilder late;
  size_t late_kept = 0, late_dropped = 0, invalid = 0;
  for (const auto& span : spans) {
    if (!span.valid_trace_id) {
      ++invalid;
      continue;
    }
    auto it = traces_.find(span.trace);
    const size_t need = SpanNode::heldBytes(span.bytes.size()) +
                        (it == traces_.end() ? kTraceHeldBytes + sizeof(Trace) : 0);
    if (bytes_held_ + need > config_.max_buffered_bytes) {
      while (bytes_held_ + need > config_.max_buffered_bytes && oldest_ != nullptr) {
        decideOldest(now, EarlyCause::kBufferedBytes);
      }
      it = traces_.find(span.trace);  // this span's trace may have been decided
    }
    Trace* trace;
    if (it != traces_.end()) {
      trace = it->second;
    } else {
      const auto& envelope = request.envelopes()[span.envelope];
      if (sampled_.contains(span.trace)) {
        late.add(envelope.resource, envelope.scope, span.bytes);
        ++late_kept;
        continue;
      }
      if (not_sampled_.contains(span.trace)) {
        ++late_dropped;
        continue;
      }
      while (traces_.size() >= config_.num_traces && oldest_ != nullptr) {
        decideOldest(now, EarlyCause::kNumTraces);
      }
      trace = newTrace(span.trace, now);
    }
    uint32_t& envelope_id = request_envelopes_[span.envelope];
    if (envelope_id == UINT32_MAX) {
      const auto& envelope = request.envelopes()[span.envelope];
      envelope_id = envelopes_->intern(envelope.resource, envelope.scope, bytes_held_);
    }
    append(*trace, span.bytes, envelope_id, span.root, now);
    ++result.buffered;
  }
  // Envelopes interned for spans that all turned out late.
  for (uint32_t id : request_envelopes_) {
    if (id != UINT32_MAX) envelopes_->dropIfUnused(id, bytes_held_);
  }
  if (invalid != 0) metrics_->invalidTraceIdSpans(invalid);
  if (late_kept != 0) {
    metrics_->lateSpans(true, late_kept);
    result.late.push_back(Output{late.finish(), late_kept});
  }
  if (late_dropped != 0) metrics_->lateSpans(false, late_dropped);
  flushKept(decided);
  return absl::OkStatus();
}

bool Engine::decideOldest(Instant now, EarlyCause cause) {
  if (oldest_ == nullptr) return false;
  metrics_->early(cause);
  decide(oldest_, now, DecisionTrigger::kEarly);
  return true;
}

size_t Engine::decideDue(Instant now, std::vector<Output>& decided, size_t max_traces) {
  size_t count = 0;
  while (count < max_traces) {
    if (ready_first_ != nullptr &&
        ready_first_->last_arrival + root_grace_nanos_ <= now.mono_nanos) {
      decide(ready_first_, now, DecisionTrigger::kRoot);
    } else if (oldest_ != nullptr &&
               oldest_->first_arrival + decision_wait_nanos_ <= now.mono_nanos) {
      decide(oldest_, now, DecisionTrigger::kDecisionWait);
    } else {
      break;
    }
    ++count;
  }
  flushKept(decided);
  return count;
}

void Engine::decideAll(Instant now, std::vector<Output>& decided) {
  while (oldest_ != nullptr) {
    Trace* trace = oldest_;
    if (!config_.drop_pending_traces_on_shutdown) {
      decide(trace, now, DecisionTrigger::kShutdown);
      continue;
    }
    metrics_->decided(static_cast<size_t>(-1), false, trace->spans);
    release(trace);
    freeTrace(trace);
  }
  flushKept(decided);
}

int64_t Engine::nextDeadline() const {
  int64_t next = INT64_MAX;
  if (ready_first_ != nullptr) next = ready_first_->last_arrival + root_grace_nanos_;
  if (oldest_ != nullptr) next = std::min(next, oldest_->first_arrival + decision_wait_nanos_);
  return next;
}

void Engine::decide(Trace* trace, Instant now, DecisionTrigger trigger) {
  pieces_.clear();
  for (const SpanNode* node = trace->head; node != nullptr; node = node->next) {
    const EnvelopeTable::Entry& envelope = envelopes_->get(node->envelope);
    pieces_.push_back(SpanPiece{envelope.resource, envelope.scope, node->bytes()});
  }
  TraceView view;
  view.trace_id = trace->key.bytes();
  view.spans = pieces_;
  view.encoded_bytes = trace->encoded_bytes;
  view.first_arrival_unix_nanos = now.unix_nanos - (now.mono_nanos - trace->first_arrival);
  for (size_t i = 0; i < policies_.size(); ++i) {
    decisions_[i] = policies_[i].policy->evaluate(view, now.unix_nanos);
    metrics_->policyAnswer(i, decisions_[i]);
  }
  const FinalDecision final_decision = combine(decisions_);
  metrics_->decided(final_decision.deciding_policy, final_decision.sampled, trace->spans);
  const int64_t end = trace->root_arrival >= 0 ? trace->root_arrival : trace->last_arrival;
  metrics_->decisionLatency(trigger, now.mono_nanos - end);
  (final_decision.sampled ? sampled_ : not_sampled_).insert(trace->key);
  release(trace);
  if (final_decision.sampled) {
    kept_.push_back(trace);  // passed on and freed by flushKept()
  } else {
    freeTrace(trace);
  }
}

void Engine::freeTrace(Trace* trace) {
  while (trace->head != nullptr) {
    SpanNode* node = trace->head;
    trace->head = node->next;
    envelopes_->unref(node->envelope, bytes_held_);
    ::operator delete(node);
  }
  delete trace;
}

void Engine::release(Trace* trace) {
  traces_.erase(trace->key);
  if (trace->older != nullptr) {
    trace->older->newer = trace->newer;
  } else {
    oldest_ = trace->newer;
  }
  if (trace->newer != nullptr) {
    trace->newer->older = trace->older;
  } else {
    newest_ = trace->older;
  }
  if (trace->ready) {
    if (trace->ready_prev != nullptr) {
      trace->ready_prev->ready_next = trace->ready_next;
    } else {
      ready_first_ = trace->ready_next;
    }
    if (trace->ready_next != nullptr) {
      trace->ready_next->ready_prev = trace->ready_prev;
    } else {
      ready_last_ = trace->ready_prev;
    }
    trace->ready = false;
  }
  spans_held_ -= trace->spans;
  // What the trace holds leaves the count now (kept ones are freed within the same call).
  bytes_held_ -= trace->held_bytes;
}

void Engine::flushKept(std::vector<Output>& decided) {
  // The traces kept in this call, out of the table but still holding their spans.
  size_t spans = 0, bytes = 0;
  auto emit = [&] {
    if (spans == 0) return;
    decided.push_back(Output{builder_.finish(), spans});
    spans = 0;
    bytes = 0;
  };
  for (Trace* trace : kept_) {
    for (const SpanNode* node = trace->head; node != nullptr; node = node->next) {
      const EnvelopeTable::Entry& envelope = envelopes_->get(node->envelope);
      builder_.add(envelope.resource, envelope.scope, node->bytes());
      ++spans;
      bytes += node->size;
      if (spans >= config_.max_spans_per_request || bytes >= config_.max_request_bytes) emit();
    }
  }
  emit();
  for (Trace* trace : kept_) freeTrace(trace);
  kept_.clear();
  reservation_.resize(bytes_held_);
  metrics_->held(traces_.size(), spans_held_, bytes_held_);
}

}  // namespace otlpd::processors::tail_sampling
