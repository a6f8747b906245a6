// Micro-benchmarks of the pipeline between receiver and exporters: batching (merging requests
// into one and splitting one by item count, what the batch processor and the exporters'
// sending_queue.batch do) and fan-out to several exporters with copy-on-write batches.
// Items/s are spans. Payload: loadgen's realistic spans (~800 bytes each on the wire).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "loadgen/payloads.h"
#include "pipeline/batch.h"
#include "pipeline/batch_ops.h"
#include "pipeline/fanout.h"

namespace otlpd::bench {
namespace {

pipeline::Batch makeBatch(size_t spans, uint64_t seed) {
  auto request =
      loadgen::makeRequest(pipeline::Signal::kTraces, loadgen::Shape::kRealistic, spans, seed, 0);
  pipeline::Batch batch = pipeline::Batch::create(pipeline::Signal::kTraces);
  batch.mutableTraces().CopyFrom(*request);
  return batch;
}

// arg: requests merged into one; 1000 spans in all (e.g. 10 requests of 100 spans).
void BM_MergeBatches(benchmark::State& state) {
  const size_t parts = static_cast<size_t>(state.range(0));
  std::vector<pipeline::Batch> batches;
  for (size_t i = 0; i < parts; ++i) batches.push_back(makeBatch(1000 / parts, i + 1));
  for (auto _ : state) {
    pipeline::Batch merged = pipeline::mergeBatches(batches);
    benchmark::DoNotOptimize(merged.itemCount());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_MergeBatches)->ArgName("parts")->Arg(2)->Arg(10)->Arg(100);

// The same merge of batches still in wire form (as the receiver makes them): their bytes are
// concatenated, nothing is decoded.
void BM_MergeWireBatches(benchmark::State& state) {
  const size_t parts = static_cast<size_t>(state.range(0));
  std::vector<pipeline::Batch> batches;
  for (size_t i = 0; i < parts; ++i) {
    const size_t spans = 1000 / parts;
    batches.push_back(pipeline::Batch::fromWire(
        pipeline::Signal::kTraces,
        pipeline::WireBytes::fromString(makeBatch(spans, i + 1).request().SerializeAsString()),
        spans));
  }
  for (auto _ : state) {
    pipeline::Batch merged = pipeline::mergeBatches(batches);
    benchmark::DoNotOptimize(merged.itemCount());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_MergeWireBatches)->ArgName("parts")->Arg(2)->Arg(10)->Arg(100);

// arg: max items per output batch; input is one request of 1000 spans.
void BM_SplitBatch(benchmark::State& state) {
  const pipeline::Batch batch = makeBatch(1000, 1);
  const size_t max_items = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    std::vector<pipeline::Batch> parts = pipeline::splitBatch(batch, max_items);
    benchmark::DoNotOptimize(parts.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_SplitBatch)->ArgName("max_items")->Arg(100)->Arg(512);

// An exporter that does nothing, as `nop` does; a mutating one changes one span first, which
// makes the fan-out give it its own copy of the request.
class NopConsumer final : public pipeline::Consumer {
 public:
  explicit NopConsumer(bool mutates) : mutates_(mutates) {}
  absl::Status consume(pipeline::Batch&& batch) override {
    if (mutates_) {
      batch.mutableTraces()
          .mutable_resource_spans(0)
          ->mutable_scope_spans(0)
          ->mutable_spans(0)
          ->set_name("renamed");
    }
    benchmark::DoNotOptimize(batch.itemCount());
    return absl::OkStatus();
  }
  bool mutatesData() const override { return mutates_; }

 private:
  bool mutates_;
};

// args: consumers; how many of them mutate. The receiver keeps no reference to the batch it
// hands over, so with one mutating consumer (the last) no clone is needed: only a mutating
// consumer that is not the last pays for a copy of the whole request.
void BM_FanOut(benchmark::State& state) {
  const size_t consumers = static_cast<size_t>(state.range(0));
  const size_t mutating = static_cast<size_t>(state.range(1));
  std::vector<std::shared_ptr<pipeline::Consumer>> list;
  // Mutating consumers first: those are the ones that cannot take the last reference.
  for (size_t i = 0; i < consumers; ++i)
    list.push_back(std::make_shared<NopConsumer>(i < mutating));
  std::shared_ptr<pipeline::Consumer> fan = pipeline::fanOut(std::move(list));
  const pipeline::Batch source = makeBatch(1000, 1);
  for (auto _ : state) {
    // A fresh batch each iteration when someone mutates (built untimed), so that every
    // iteration pays what the receiver's path pays; readers share `source` (no copy).
    pipeline::Batch batch = source;
    if (mutating > 0) {
      state.PauseTiming();
      batch = pipeline::Batch::create(pipeline::Signal::kTraces);
      batch.mutableTraces().CopyFrom(source.traces());
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(fan->consume(std::move(batch)).ok());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_FanOut)
    ->ArgNames({"consumers", "mutating"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({3, 0})
    ->Args({2, 1})
    ->Args({3, 2});

}  // namespace
}  // namespace otlpd::bench
