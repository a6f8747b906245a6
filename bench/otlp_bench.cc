// Micro-benchmarks of the ingest hot path. Items/s are spans; bytes/s are wire bytes.
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>

#include "bench/payloads.h"
#include "otlp/json_codec.h"
#include "otlp/validation.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& wireRequest() {
  static const std::string bytes = makeTracesRequest(kSpans).SerializeAsString();
  return bytes;
}

const std::string& jsonRequest() {
  static const std::string json = otlp::toOtlpJson(makeTracesRequest(kSpans));
  return json;
}

void setCounters(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void BM_ProtobufDecodeHeap(benchmark::State& state) {
  const std::string& bytes = wireRequest();
  for (auto _ : state) {
    otlp::TracesRequest req;
    benchmark::DoNotOptimize(req.ParseFromString(bytes));
  }
  setCounters(state, bytes.size());
}
BENCHMARK(BM_ProtobufDecodeHeap);

void BM_ProtobufDecodeArena(benchmark::State& state) {
  const std::string& bytes = wireRequest();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    benchmark::DoNotOptimize(req->ParseFromString(bytes));
  }
  setCounters(state, bytes.size());
}
BENCHMARK(BM_ProtobufDecodeArena);

void BM_ValidateTraces(benchmark::State& state) {
  // Valid input is never modified, so one request serves every iteration.
  otlp::TracesRequest req = makeTracesRequest(kSpans);
  for (auto _ : state) {
    const otlp::ValidationResult result = otlp::validateTraces(req);
    if (result.rejected != 0) state.SkipWithError("payload should be valid");
    benchmark::DoNotOptimize(result);
  }
  setCounters(state, wireRequest().size());
}
BENCHMARK(BM_ValidateTraces);

void BM_JsonDecode(benchmark::State& state) {
  const std::string& json = jsonRequest();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    benchmark::DoNotOptimize(otlp::parseOtlpJson(json, *req));
  }
  setCounters(state, json.size());
}
BENCHMARK(BM_JsonDecode);

void BM_JsonEncode(benchmark::State& state) {
  const otlp::TracesRequest req = makeTracesRequest(kSpans);
  std::string out;
  for (auto _ : state) {
    out.clear();
    otlp::appendOtlpJson(req, out);
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, out.size());
}
BENCHMARK(BM_JsonEncode);

}  // namespace
}  // namespace otlpd::bench
