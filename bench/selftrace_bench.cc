// What otlpd's own tracing costs a request (service.telemetry.traces): a server span per request
// with the tracer off (the default), on but not sampled (ratio 0.01 leaves 99 of 100 requests
// here), and sampled (queued for export; the export thread's cost is not in this loop).
#include <benchmark/benchmark.h>

#include <optional>
#include <string_view>

#include "common/metrics_registry.h"
#include "pipeline/traced_consumer.h"
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

// `level: detailed`: a stage of an unsampled request (99 of 100 at ratio 0.01) through its
// TracedConsumer, against calling the stage directly. The batch is empty: only the wrapper's
// cost is in the difference.
class NullConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&&) override { return absl::OkStatus(); }
};

void stageCalls(benchmark::State& state, bool traced) {
  common::MetricsRegistry metrics;
  selftrace::TracerOptions options;
  options.sampling_ratio = 0.0;
  options.detailed = true;
  options.send = [](const std::string&) { return absl::OkStatus(); };
  selftrace::Tracer tracer(std::move(options), metrics);
  selftrace::Tracer::install(&tracer);
  auto stage = std::make_shared<NullConsumer>();
  std::shared_ptr<pipeline::Consumer> entry =
      traced ? std::make_shared<pipeline::TracedConsumer>("processor batch", stage)
             : std::shared_ptr<pipeline::Consumer>(stage);
  const pipeline::Batch batch = pipeline::Batch::create(pipeline::Signal::kTraces);
  {
    auto request = selftrace::ScopedSpan::server("ingest traces", noHeader);  // not sampled
    for (auto _ : state) {
      benchmark::DoNotOptimize(entry->consume(pipeline::Batch(batch)));
    }
  }
  selftrace::Tracer::install(nullptr);
}

void BM_SelfTraceStageDirect(benchmark::State& state) {
  stageCalls(state, false);
}
BENCHMARK(BM_SelfTraceStageDirect);

void BM_SelfTraceStageDetailedUnsampled(benchmark::State& state) {
  stageCalls(state, true);
}
BENCHMARK(BM_SelfTraceStageDetailedUnsampled);

}  // namespace
}  // namespace otlpd::bench
