// The probabilistic_sampler (issue #12: >= 2,000,000 spans per CPU-second) on 1000-span requests
// as a receiver hands them on (wire batches), spans of ~800 bytes (payloads.h) regrouped into what
// an agent sends: 5 services, traces of 10 spans with unique random trace ids. Items/s are spans
// in. The processor runs alone (its fast path) into a consumer that drops the result; the generic
// wire-editor path it replaces (what runs when it is fused with neighbours) is measured beside it.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "config/loader.h"
#include "otlp/wire_edit.h"
#include "pipeline/batch.h"
#include "processors/probabilistic_sampler/probabilistic_sampler_processor.h"
#include "processors/probabilistic_sampler/sampling_editors.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;
constexpr size_t kServices = 5;
constexpr size_t kSpansPerTrace = 10;

class DropConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

// makeTracesRequest800's spans spread over 5 services (200 each), every 10 consecutive spans of a
// service one trace with its own random id.
std::shared_ptr<const std::string> request() {
  static const auto bytes = [] {
    const otlp::TracesRequest base = makeTracesRequest800(kSpans);
    const auto& base_rs = base.resource_spans(0);
    const auto& base_ss = base_rs.scope_spans(0);
    std::mt19937_64 rng(12);
    otlp::TracesRequest req;
    for (size_t s = 0; s < kServices; ++s) {
      auto* rs = req.add_resource_spans();
      *rs->mutable_resource() = base_rs.resource();
      rs->mutable_resource()->mutable_attributes(0)->mutable_value()->set_string_value(
          strCat("service-", s));
      auto* ss = rs->add_scope_spans();
      *ss->mutable_scope() = base_ss.scope();
      std::string trace_id(16, '\0');
      for (size_t i = s; i < kSpans; i += kServices) {
        auto* span = ss->add_spans();
        *span = base_ss.spans(static_cast<int>(i));
        if (ss->spans_size() % kSpansPerTrace == 1) {
          for (char& c : trace_id) c = static_cast<char>(rng());
        }
        span->set_trace_id(trace_id);
      }
    }
    return std::make_shared<const std::string>(req.SerializeAsString());
  }();
  return bytes;
}

pipeline::Batch wireBatch() {
  std::shared_ptr<const std::string> bytes = request();
  return pipeline::Batch::fromWire(pipeline::Signal::kTraces, pipeline::WireBytes{*bytes, bytes},
                                   kSpans);
}

common::MetricsRegistry& metrics() {
  static common::MetricsRegistry registry{common::MetricsRegistry::ProcessMetrics::kExclude};
  return registry;
}

std::unique_ptr<pipeline::Processor> make(const std::string& yaml) {
  config::ConfigErrors errors;
  config::ConfigNode cfg(*config::parseYaml(yaml, "bench"), "processors", errors);
  auto p = processors::probabilistic_sampler::makeProbabilisticSamplerFactory()->create(
      pipeline::CreateSettings{{"probabilistic_sampler", ""}, metrics()}, cfg,
      pipeline::Signal::kTraces, std::make_shared<DropConsumer>());
  if (!p.ok() || !errors.empty()) std::abort();
  return *std::move(p);
}

// Args: mode (0 hash_seed, 1 proportional, 2 equalizing), percentage.
std::string configOf(const benchmark::State& state) {
  static const char* kModes[] = {"hash_seed", "proportional", "equalizing"};
  return strCat("mode: ", kModes[state.range(0)], "\nsampling_percentage: ", state.range(1),
                "\nhash_seed: 22");
}

void BM_ProbabilisticSampler(benchmark::State& state) {
  auto p = make(configOf(state));
  for (auto _ : state) {
    absl::Status s = p->consume(wireBatch());
    if (!s.ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request()->size()));
}
BENCHMARK(BM_ProbabilisticSampler)
    ->ArgNames({"mode", "pct"})
    ->Args({0, 10})
    ->Args({0, 100})
    ->Args({1, 10})
    ->Args({1, 100})
    ->Args({2, 10});

// The same decisions through the generic wire editor (otlp::rewriteTraces + MessageEdit), which
// opens every span's fields and attributes: what the fast path saves.
void BM_ProbabilisticSamplerWireEditor(benchmark::State& state) {
  using namespace processors::probabilistic_sampler;
  SamplerConfig config;
  config.mode = state.range(0) == 0 ? Mode::kHashSeed : Mode::kProportional;
  config.sampling_percentage = static_cast<float>(state.range(1));
  config.hash_seed = 22;
  const Sampler sampler(config);
  const std::shared_ptr<const std::string> bytes = request();
  for (auto _ : state) {
    SpanSamplingEditor editor(sampler);
    auto result = otlp::rewriteTraces(*bytes, {&editor}, kSpans);
    if (!result.ok()) state.SkipWithError("rewrite failed");
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
}
BENCHMARK(BM_ProbabilisticSamplerWireEditor)
    ->ArgNames({"mode", "pct"})
    ->Args({0, 10})
    ->Args({1, 100});

}  // namespace
}  // namespace otlpd::bench
