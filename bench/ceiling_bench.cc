// The ceiling every end-to-end scenario is compared with: a tight loop that only parses, with
// protobuf on an arena and on one core, exactly the request `otlpd loadgen` sends (realistic
// shape, 1000 items per request). Items/s are spans, metric data points or log records; bytes/s
// are protobuf bytes. scripts/e2e_scenarios.sh runs these pinned to otlpd's core.
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include <string>

#include "loadgen/payloads.h"
#include "otlp/proto.h"

namespace otlpd::bench {
namespace {

constexpr size_t kItems = 1000;

std::string loadgenRequest(pipeline::Signal signal) {
  return loadgen::makeRequest(signal, loadgen::Shape::kRealistic, kItems, 1, 0)
      ->SerializeAsString();
}

template <typename Request>
void decodeLoop(benchmark::State& state, const std::string& bytes) {
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<Request>(&arena);
    benchmark::DoNotOptimize(req->ParseFromString(bytes));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void BM_CeilingDecodeLoadgenTraces(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kTraces);
  decodeLoop<otlp::TracesRequest>(state, bytes);
}
BENCHMARK(BM_CeilingDecodeLoadgenTraces);

void BM_CeilingDecodeLoadgenLogs(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kLogs);
  decodeLoop<otlp::LogsRequest>(state, bytes);
}
BENCHMARK(BM_CeilingDecodeLoadgenLogs);

void BM_CeilingDecodeLoadgenMetrics(benchmark::State& state) {
  static const std::string bytes = loadgenRequest(pipeline::Signal::kMetrics);
  decodeLoop<otlp::MetricsRequest>(state, bytes);
}
BENCHMARK(BM_CeilingDecodeLoadgenMetrics);

}  // namespace
}  // namespace otlpd::bench
