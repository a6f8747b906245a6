// Compression of request bodies (src/common/compression.h): what the HTTP receiver does with
// gzip/deflate/zstd input and what exporters do before sending. Payload: the request `otlpd
// loadgen` sends, 1000 realistic spans in protobuf. Items/s are spans; bytes/s are uncompressed
// protobuf bytes; the `ratio` counter is compressed size / uncompressed size.
#include <benchmark/benchmark.h>

#include <string>

#include "common/compression.h"
#include "loadgen/payloads.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& plainRequest() {
  static const std::string bytes =
      loadgen::makeRequest(pipeline::Signal::kTraces, loadgen::Shape::kRealistic, kSpans, 1, 0)
          ->SerializeAsString();
  return bytes;
}

common::Compression codec(int64_t arg) {
  switch (arg) {
    case 0:
      return common::Compression::kGzip;
    case 1:
      return common::Compression::kDeflate;
    default:
      return common::Compression::kZstd;
  }
}

void setCounters(benchmark::State& state, size_t compressed) {
  const std::string& plain = plainRequest();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(plain.size());
  state.SetLabel(std::string(common::compressionName(codec(state.range(0)))));
}

// arg: 0 gzip, 1 deflate, 2 zstd (the libraries' default levels, as otlpd uses them)
void BM_Compress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  size_t compressed = 0;
  for (auto _ : state) {
    auto out = common::compress(codec(state.range(0)), plain);
    if (!out.ok()) {
      state.SkipWithError("compress failed");
      return;
    }
    compressed = out->size();
    benchmark::DoNotOptimize(out->data());
  }
  setCounters(state, compressed);
}
BENCHMARK(BM_Compress)->ArgName("codec")->DenseRange(0, 2);

// What the HTTP receiver does with a compressed body: decompress into a reused buffer, bounded.
void BM_Decompress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  auto compressed = common::compress(codec(state.range(0)), plain);
  if (!compressed.ok()) {
    state.SkipWithError("compress failed");
    return;
  }
  std::string out;
  for (auto _ : state) {
    if (!common::decompress(codec(state.range(0)), *compressed, 64 << 20, out).ok()) {
      state.SkipWithError("decompress failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (out != plain) state.SkipWithError("round trip differs");
  setCounters(state, compressed->size());
}
BENCHMARK(BM_Decompress)->ArgName("codec")->DenseRange(0, 2);

}  // namespace
}  // namespace otlpd::bench
