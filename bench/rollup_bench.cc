// The store's rollups on production-like spans: trace ids that never repeat. The edge joiner
// (service-graph edges: a child span joined to its parent's service) keeps up to a million
// recent spans; with ids that never repeat it works at that limit, and its memory does not fit
// the CPU's caches. loadgen's requests repeat their trace ids every 16,000 spans, which kept the
// joiner's maps small and hid this cost in the end-to-end store scenario (issue #18).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "store/rollup.h"

namespace otlpd::bench {
namespace {

// splitmix64: well-spread ids from a counter.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string bytesOf(uint64_t a, uint64_t b) {
  std::string s(16, '\0');
  std::memcpy(s.data(), &a, 8);
  std::memcpy(s.data() + 8, &b, 8);
  return s;
}

// Traces of 10 spans over 3 services (a root in the first, its children in the second, their
// children in the third), in the order SDKs export them: children, which end first, before
// their parents.
class UniqueTraces {
 public:
  struct Span {
    std::string trace_id, span_id, parent_span_id;
    uint32_t service;
  };
  explicit UniqueTraces(const uint32_t services[3]) {
    for (int i = 0; i < 3; ++i) services_[i] = services[i];
  }
  // The spans of the next trace.
  const std::vector<Span>& next() {
    const uint64_t t = next_trace_++;
    const std::string trace = bytesOf(mix(2 * t), mix(2 * t + 1));
    auto id = [&](int i) {
      return bytesOf(mix(t * 16 + static_cast<uint64_t>(i) + (1ull << 62)), 0).substr(0, 8);
    };
    spans_.clear();
    // 0: root; 1-3: children of 0; 4-9: children of 1-3 (two each).
    for (int i = 9; i >= 0; --i) {
      const int parent = i == 0 ? -1 : i <= 3 ? 0 : 1 + (i - 4) / 2;
      spans_.push_back(Span{trace, id(i), parent < 0 ? std::string() : id(parent),
                            services_[i == 0   ? 0
                                      : i <= 3 ? 1
                                               : 2]});
    }
    return spans_;
  }

 private:
  uint32_t services_[3];
  uint64_t next_trace_ = 1;
  std::vector<Span> spans_;
};

// What both joiner benchmarks start from: an accumulator with three services, a joiner with the
// store's defaults, unique traces over them and a clock that advances 10 µs per span (100,000
// spans per second).
struct JoinerBench {
  JoinerBench() : traces(services()) {}
  const uint32_t* services() {
    ids[0] = acc.intern("frontend");
    ids[1] = acc.intern("checkout");
    ids[2] = acc.intern("payments");
    return ids;
  }
  static constexpr int64_t kNanosPerSpan = 10'000;
  store::RollupAccumulator acc;
  uint32_t ids[3] = {};
  store::EdgeJoiner joiner{store::EdgeJoiner::Options{}};
  UniqueTraces traces;
  int64_t now = 1'700'000'000'000'000'000;
};

// Spans per second through EdgeJoiner::add at 100,000 spans/s of clock time (the window and the
// million-span limit as the store's defaults), once its maps are full.
void BM_EdgeJoinerUniqueTraces(benchmark::State& state) {
  JoinerBench b;
  store::RollupAccumulator& acc = b.acc;
  store::EdgeJoiner& joiner = b.joiner;
  UniqueTraces& traces = b.traces;
  int64_t& now = b.now;
  constexpr int64_t kNanosPerSpan = JoinerBench::kNanosPerSpan;
  auto add = [&](const UniqueTraces::Span& s) {
    joiner.add(s.trace_id, s.span_id, s.parent_span_id, s.service, 0, false, now, acc);
    now += kNanosPerSpan;
  };
  // Fill: a million spans and more, so that every add also makes room.
  for (int i = 0; i < 120'000; ++i) {
    for (const auto& s : traces.next()) add(s);
  }
  // As the store's rollup builder feeds a batch: the known-span sets of the spans 8 rows ahead
  // are prefetched.
  std::vector<UniqueTraces::Span> batch;
  int64_t spans = 0;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (int i = 0; i < 100; ++i) {
      for (const auto& s : traces.next()) batch.push_back(s);
    }
    state.ResumeTiming();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i + 8 < batch.size()) {
        const auto& ahead = batch[i + 8];
        joiner.prefetch(ahead.trace_id, ahead.span_id, ahead.parent_span_id);
      }
      add(batch[i]);
    }
    joiner.expire(now);
    spans += static_cast<int64_t>(batch.size());
  }
  state.SetItemsProcessed(spans);
  state.counters["joined_share"] =
      static_cast<double>(joiner.stats().joined) / static_cast<double>(spans + 1'200'000);
}
BENCHMARK(BM_EdgeJoinerUniqueTraces);

// The same spans a batch at a time (EdgeJoiner::addBatch, as the store's rollup builder feeds
// them): a parent in the batch is found in the batch's own table.
void BM_EdgeJoinerUniqueTracesBatch(benchmark::State& state) {
  JoinerBench b;
  store::RollupAccumulator& acc = b.acc;
  store::EdgeJoiner& joiner = b.joiner;
  UniqueTraces& traces = b.traces;
  int64_t& now = b.now;
  constexpr int64_t kNanosPerSpan = JoinerBench::kNanosPerSpan;
  std::vector<UniqueTraces::Span> spans;
  std::vector<store::EdgeJoiner::BatchSpan> batch;
  // A batch of 100 traces; `spans` owns the ids the batch views.
  const auto nextBatch = [&] {
    spans.clear();
    for (int i = 0; i < 100; ++i) {
      for (const auto& s : traces.next()) spans.push_back(s);
    }
    batch.clear();
    for (const auto& s : spans) {
      batch.push_back({s.trace_id, s.span_id, s.parent_span_id, s.service, false, 0});
    }
  };
  // Fill: a million spans and more, so that every add also makes room.
  for (int i = 0; i < 1'200; ++i) {
    nextBatch();
    joiner.addBatch(batch, now, acc);
    now += kNanosPerSpan * static_cast<int64_t>(batch.size());
  }
  int64_t added = 0;
  for (auto _ : state) {
    state.PauseTiming();
    nextBatch();
    state.ResumeTiming();
    joiner.addBatch(batch, now, acc);
    now += kNanosPerSpan * static_cast<int64_t>(batch.size());
    joiner.expire(now);
    added += static_cast<int64_t>(batch.size());
  }
  state.SetItemsProcessed(added);
  state.counters["joined_share"] =
      static_cast<double>(joiner.stats().joined) / static_cast<double>(added + 1'200'000);
}
BENCHMARK(BM_EdgeJoinerUniqueTracesBatch);

}  // namespace
}  // namespace otlpd::bench
