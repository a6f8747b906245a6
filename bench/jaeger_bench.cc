// The jaeger receiver's CPU work per request, without the socket: a jaeger-client-shaped Thrift
// batch (the same 1000 spans as the OTLP benchmarks, bench/payloads.h, as the OpenTelemetry
// specification maps them to Jaeger) decoded, translated to OTLP wire bytes and checked by the
// wire view, as thrift_http and the UDP ports do. Compare with BM_JsonDecode (OTLP/JSON, the same
// spans) in the same run. Items/s are spans. BM_JaegerThriftBinaryReceiveChecked adds the wire
// view over the translation (what a request with an invalid span costs).
#include <benchmark/benchmark.h>

#include "bench/payloads.h"
#include "jaeger/from_otlp.h"
#include "jaeger/model.h"
#include "jaeger/to_otlp.h"
#include "loadgen/payloads.h"
#include "otlp/wire_view.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& thriftBatch(bool compact) {
  static const std::string binary =
      jaeger::encodeThriftBatch(makeTracesRequest(kSpans).resource_spans(0), false);
  static const std::string compact_bytes =
      jaeger::encodeThriftBatch(makeTracesRequest(kSpans).resource_spans(0), true);
  return compact ? compact_bytes : binary;
}

// The body `otlpd loadgen --protocol jaeger/thrift_http` sends (the end-to-end scenario's spans:
// ~1,160 Thrift bytes each against ~890 for bench/payloads.h's).
const std::string& loadgenThriftBatch() {
  return loadgenBody(loadgen::Protocol::kJaegerThriftHttp);
}

void receive(benchmark::State& state, bool compact, bool loadgen_body = false) {
  const std::string& bytes = loadgen_body ? loadgenThriftBatch() : thriftBatch(compact);
  jaeger::Batch batch;
  jaeger::OtlpTranslator translator;
  std::string otlp;
  for (auto _ : state) {
    if (!jaeger::decodeThriftBatch(bytes, compact, batch).ok()) state.SkipWithError("decode");
    if (translator.translate(batch, otlp) != kSpans) state.SkipWithError("span count");
    // As the receiver: the wire view only runs when the translation found invalid spans.
    if (translator.invalidSpans() != 0) state.SkipWithError("invalid spans");
    benchmark::DoNotOptimize(otlp.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}

void BM_JaegerThriftBinaryReceive(benchmark::State& state) {
  receive(state, false);
}
BENCHMARK(BM_JaegerThriftBinaryReceive);

void BM_JaegerThriftBinaryReceiveLoadgen(benchmark::State& state) {
  receive(state, false, true);
}
BENCHMARK(BM_JaegerThriftBinaryReceiveLoadgen);

void BM_JaegerThriftCompactReceive(benchmark::State& state) {
  receive(state, true);
}
BENCHMARK(BM_JaegerThriftCompactReceive);

void BM_JaegerThriftBinaryReceiveChecked(benchmark::State& state) {
  const std::string& bytes = thriftBatch(false);
  jaeger::Batch batch;
  jaeger::OtlpTranslator translator;
  std::string otlp;
  for (auto _ : state) {
    if (!jaeger::decodeThriftBatch(bytes, false, batch).ok()) state.SkipWithError("decode");
    translator.translate(batch, otlp);
    const otlp::WireSummary summary = otlp::inspectTracesWire(otlp);
    if (!summary.valid()) state.SkipWithError("translation not valid OTLP");
    benchmark::DoNotOptimize(summary);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_JaegerThriftBinaryReceiveChecked);

// The decode alone, to show where the time goes.
void BM_JaegerThriftBinaryDecode(benchmark::State& state) {
  const std::string& bytes = thriftBatch(false);
  jaeger::Batch batch;
  for (auto _ : state) {
    benchmark::DoNotOptimize(jaeger::decodeThriftBatch(bytes, false, batch));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_JaegerThriftBinaryDecode);

}  // namespace
}  // namespace otlpd::bench
