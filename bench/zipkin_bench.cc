// Zipkin receive: the request loadgen's realistic spans make, as Zipkin v2 JSON (written by our
// exporter's mapping) and as zipkin.proto, read and turned into OTLP wire bytes — everything the
// zipkin receiver does with a body before the pipeline (the wire view is not run: the receiver
// vouches for what it wrote; it is checked once here, outside the timing). Items/s are spans;
// compare with BM_JsonDecode (OTLP/JSON) of the same spans in the same run.
#include <benchmark/benchmark.h>

#include "bench/payloads.h"
#include "loadgen/payloads.h"
#include "otlp/wire_view.h"
#include "zipkin/from_otlp.h"
#include "zipkin/readers.h"
#include "zipkin/to_otlp.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& zipkinJson() {
  static const std::string json =
      zipkin::toZipkinJson(makeTracesRequest(kSpans), zipkin::FromOtlpOptions());
  return json;
}

const std::string& zipkinProto() {
  static const std::string bytes =
      zipkin::toZipkinProto(makeTracesRequest(kSpans), zipkin::FromOtlpOptions());
  return bytes;
}

// The body `otlpd loadgen --protocol zipkin/json` sends (the end-to-end scenario's spans: ~1,280
// JSON bytes each against ~950 for bench/payloads.h's), so that this benchmark and
// traces-zipkin_json-nop measure the same work.
const std::string& loadgenZipkinJson() {
  return loadgenBody(loadgen::Protocol::kZipkinJson);
}

void receive(benchmark::State& state, bool json, bool loadgen_body = false) {
  // The body as the HTTP server hands it over: a string with room behind it.
  std::string body = loadgen_body ? loadgenZipkinJson() : json ? zipkinJson() : zipkinProto();
  body.reserve(body.size() + 64);
  zipkin::SpanList spans;
  std::string otlp;
  for (auto _ : state) {
    absl::Status s =
        json ? zipkin::readJsonV2(body, body.capacity(), spans) : zipkin::readProto(body, spans);
    otlp.clear();
    if (s.ok()) s = zipkin::appendOtlpTraces(spans, zipkin::ToOtlpOptions(), otlp);
    if (!s.ok() || spans.spans.size() != kSpans) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(otlp.data());
  }
  if (!otlp::inspectTracesWire(otlp).valid()) state.SkipWithError("the OTLP request is not valid");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_ZipkinJsonReceive(benchmark::State& state) {
  receive(state, true);
}
BENCHMARK(BM_ZipkinJsonReceive);

void BM_ZipkinJsonReceiveLoadgen(benchmark::State& state) {
  receive(state, true, true);
}
BENCHMARK(BM_ZipkinJsonReceiveLoadgen);

void BM_ZipkinProtoReceive(benchmark::State& state) {
  receive(state, false);
}
BENCHMARK(BM_ZipkinProtoReceive);

void BM_ZipkinJsonEncode(benchmark::State& state) {
  const otlp::TracesRequest request = makeTracesRequest(kSpans);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = zipkin::toZipkinJson(request, zipkin::FromOtlpOptions());
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ZipkinJsonEncode);

}  // namespace
}  // namespace otlpd::bench
