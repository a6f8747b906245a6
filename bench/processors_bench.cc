// The OTTL processors (issue #11), filter and transform, on 1000-span requests of ~800 bytes per
// span (payloads.h) as a receiver hands them on: a wire batch through the processor into a consumer
// that drops it. Items/s are spans per CPU-second. The baseline is the same batch handed straight
// to that consumer; a processor's own cost per span is the difference.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "pipeline/batch.h"
#include "processors/filter/filter_processor.h"
#include "processors/transform/transform_processor.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

class DiscardConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

std::shared_ptr<const std::string> tracesBytes() {
  static const auto bytes =
      std::make_shared<const std::string>(makeTracesRequest800(kSpans).SerializeAsString());
  return bytes;
}

pipeline::Batch tracesBatch() {
  std::shared_ptr<const std::string> bytes = tracesBytes();
  return pipeline::Batch::fromWire(pipeline::Signal::kTraces, pipeline::WireBytes{*bytes, bytes},
                                   kSpans);
}

std::unique_ptr<pipeline::Processor> makeProcessor(const pipeline::ProcessorFactory& factory,
                                                   const char* yaml) {
  static common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors;
  config::ConfigNode cfg(*config::parseYaml(yaml, "bench"), "processors", errors);
  auto p = factory.create(pipeline::CreateSettings{{std::string(factory.type()), ""}, metrics}, cfg,
                          pipeline::Signal::kTraces, std::make_shared<DiscardConsumer>());
  if (!p.ok() || !errors.empty()) std::abort();
  return *std::move(p);
}

void runTraces(benchmark::State& state, pipeline::Consumer& consumer) {
  for (auto _ : state) {
    absl::Status s = consumer.consume(tracesBatch());
    if (!s.ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * tracesBytes()->size()));
}

void BM_OttlProcessorsBaseline(benchmark::State& state) {
  DiscardConsumer consumer;
  runTraces(state, consumer);
}
BENCHMARK(BM_OttlProcessorsBaseline);

// One condition reading an attribute and the kind; drops ~0.7% of the spans (the e2e scenario's
// "filter with one condition that drops ~1%").
void BM_FilterOneCondition(benchmark::State& state) {
  auto factory = processors::filter::makeFilterProcessorFactory();
  auto p = makeProcessor(*factory, R"yaml(
traces:
  span:
    - 'attributes["http.response.status_code"] == 500 and kind == SPAN_KIND_SERVER'
)yaml");
  runTraces(state, *p);
}
BENCHMARK(BM_FilterOneCondition);

// A condition that matches nothing: the cost of looking, without any rewrite.
void BM_FilterNoMatch(benchmark::State& state) {
  auto factory = processors::filter::makeFilterProcessorFactory();
  auto p = makeProcessor(*factory, R"yaml(
traces:
  span:
    - 'attributes["http.route"] == "/health"'
)yaml");
  runTraces(state, *p);
}
BENCHMARK(BM_FilterNoMatch);

// The issue's transform: a `set` with a `where`, a `replace_pattern`, a `delete_key`.
void BM_TransformThreeStatements(benchmark::State& state) {
  auto factory = processors::transform::makeTransformProcessorFactory();
  auto p = makeProcessor(*factory, R"yaml(
trace_statements:
  - context: span
    statements:
      - set(attributes["deployment.tier"], "gold") where kind == SPAN_KIND_SERVER
      - replace_pattern(attributes["url.full"], "orders/[0-9a-f-]+", "orders/{id}")
      - delete_key(attributes, "http.request.header.x-request-id")
)yaml");
  runTraces(state, *p);
}
BENCHMARK(BM_TransformThreeStatements);

}  // namespace
}  // namespace otlpd::bench
