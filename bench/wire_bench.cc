// The zero-copy wire view (otlp/wire_view.h) against protobuf's arena decode of the same bytes:
// exactly the request `otlpd loadgen` sends (realistic shape, 1000 items per request), as in
// ceiling_bench.cc. The wire view checks structure, UTF-8 and every validation rule and counts
// items; the receiver runs it on every protobuf request instead of decoding.
#include <benchmark/benchmark.h>

#include <string>

#include "loadgen/payloads.h"
#include "otlp/wire_view.h"

namespace otlpd::bench {
namespace {

constexpr size_t kItems = 1000;

std::string loadgenRequest(pipeline::Signal signal) {
  return loadgen::makeRequest(signal, loadgen::Shape::kRealistic, kItems, 1, 0)
      ->SerializeAsString();
}

void inspectLoop(benchmark::State& state, const std::string& bytes,
                 otlp::WireSummary (*inspect)(std::string_view)) {
  for (auto _ : state) {
    const otlp::WireSummary summary = inspect(bytes);
    benchmark::DoNotOptimize(summary);
    if (!summary.valid() || summary.items != kItems) state.SkipWithError("request not valid");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void BM_WireViewLoadgenTraces(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kTraces);
  inspectLoop(state, bytes, otlp::inspectTracesWire);
}
BENCHMARK(BM_WireViewLoadgenTraces);

void BM_WireViewLoadgenLogs(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kLogs);
  inspectLoop(state, bytes, otlp::inspectLogsWire);
}
BENCHMARK(BM_WireViewLoadgenLogs);

void BM_WireViewLoadgenMetrics(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kMetrics);
  inspectLoop(state, bytes, otlp::inspectMetricsWire);
}
BENCHMARK(BM_WireViewLoadgenMetrics);

}  // namespace
}  // namespace otlpd::bench
