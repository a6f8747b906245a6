// What otlpd's own tracing costs a request (service.telemetry.traces): a server span per request
// with the tracer off (the default), on but not sampled (ratio 0.01 leaves 99 of 100 requests
// here), and sampled (queued for export; the export thread's cost is not in this loop).
#include <benchmark/benchmark.h>

#include <optional>
#include <string_view>

#include "common/metrics_registry.h"
#include "selftrace/tracer.h"

namespace otlpd::bench {
namespace {

std::optional<std::string_view> noHeader(std::string_view) {
  return std::nullopt;
}

void serverSpans(benchmark::State& state) {
  for (auto _ : state) {
    auto span = selftrace::ScopedSpan::server("ingest traces", noHeader);
    if (span.recording()) span.setAttribute("otlpd.items", int64_t{1000});
    benchmark::DoNotOptimize(span.recording());
  }
}

void BM_SelfTraceSpanOff(benchmark::State& state) {
  serverSpans(state);
}
BENCHMARK(BM_SelfTraceSpanOff);

void withTracer(benchmark::State& state, double ratio) {
  common::MetricsRegistry metrics;
  selftrace::TracerOptions options;
  options.sampling_ratio = ratio;
  options.send = [](const std::string&) { return absl::OkStatus(); };
  selftrace::Tracer tracer(std::move(options), metrics);
  selftrace::Tracer::install(&tracer);
  serverSpans(state);
  selftrace::Tracer::install(nullptr);
}

void BM_SelfTraceSpanUnsampled(benchmark::State& state) {
  withTracer(state, 0.0);
}
BENCHMARK(BM_SelfTraceSpanUnsampled);

void BM_SelfTraceSpanSampled(benchmark::State& state) {
  withTracer(state, 1.0);
}
BENCHMARK(BM_SelfTraceSpanSampled);

}  // namespace
}  // namespace otlpd::bench
