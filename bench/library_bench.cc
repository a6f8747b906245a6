// The library's ingest call: Collector::exportTraces of encoded 1000-span requests into an
// `embedded` → `nop` pipeline (docs/LIBRARY.md). Items/s are spans per CPU-second of the calling
// thread. The baseline in the same run is what any receiver pays for the same bytes before the
// pipeline (copy them, check them with the wire view), so the ratio shows what the call adds.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/payloads.h"
#include "otlp/wire_view.h"
#include "otlpd/collector.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& request() {
  static const std::string bytes = makeTracesRequest(kSpans).SerializeAsString();
  return bytes;
}

void BM_LibraryExportTracesBaseline(benchmark::State& state) {
  const std::string& bytes = request();
  for (auto _ : state) {
    std::string copy(bytes);
    benchmark::DoNotOptimize(otlp::inspectTracesWire(copy).items);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_LibraryExportTracesBaseline);

void BM_LibraryExportTraces(benchmark::State& state) {
  auto collector = Collector::fromYaml(R"(
receivers: {embedded: {}}
exporters: {nop: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {traces: {receivers: [embedded], exporters: [nop]}}
)");
  if (!collector.ok() || !(*collector)->start().ok()) {
    state.SkipWithError("collector did not start");
    return;
  }
  const std::string& bytes = request();
  for (auto _ : state) {
    ExportResult r = (*collector)->exportTraces(bytes);
    if (!r.ok()) {
      state.SkipWithError(r.status.toString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
  (void)(*collector)->shutdown();
}
BENCHMARK(BM_LibraryExportTraces);

}  // namespace
}  // namespace otlpd::bench
