// The resource and attributes processors (issue #11) on 1000-span requests of ~800 bytes per span
// (payloads.h), as a receiver hands them on: a wire batch through the processor into a consumer
// that drops it. Items/s are spans. The baseline is the same batch handed straight to that
// consumer, so the processors' own cost per span is the difference.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "pipeline/batch.h"
#include "processors/attributes/attributes_processor.h"
#include "processors/filter/filter_processor.h"
#include "processors/resource/resource_processor.h"
#include "processors/resourcedetection/resourcedetection_processor.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

class DropConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

std::shared_ptr<const std::string> request() {
  static const auto bytes =
      std::make_shared<const std::string>(makeTracesRequest800(kSpans).SerializeAsString());
  return bytes;
}

pipeline::Batch wireBatch() {
  std::shared_ptr<const std::string> bytes = request();
  return pipeline::Batch::fromWire(pipeline::Signal::kTraces, pipeline::WireBytes{*bytes, bytes},
                                   kSpans);
}

std::unique_ptr<pipeline::Processor> make(const pipeline::ProcessorFactory& factory,
                                          const char* yaml,
                                          std::shared_ptr<pipeline::Consumer> next = nullptr) {
  static common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  config::ConfigErrors errors;
  config::ConfigNode cfg(*config::parseYaml(yaml, "bench"), "processors", errors);
  auto p = factory.create(pipeline::CreateSettings{{std::string(factory.type()), ""}, metrics}, cfg,
                          pipeline::Signal::kTraces,
                          next ? std::move(next) : std::make_shared<DropConsumer>());
  if (!p.ok() || !errors.empty()) std::abort();
  return *std::move(p);
}

void run(benchmark::State& state, pipeline::Consumer& consumer) {
  for (auto _ : state) {
    absl::Status s = consumer.consume(wireBatch());
    if (!s.ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request()->size()));
}

// The yardstick processors are set beside: decoding the same request with protobuf on an arena,
// which a processor editing decoded objects would pay before doing any work.
void BM_ProcessorDecodeCeiling(benchmark::State& state) {
  const std::shared_ptr<const std::string> bytes = request();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    if (!req->ParseFromString(*bytes)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(req);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
}
BENCHMARK(BM_ProcessorDecodeCeiling);

void BM_ProcessorBaseline(benchmark::State& state) {
  DropConsumer consumer;
  run(state, consumer);
}
BENCHMARK(BM_ProcessorBaseline);

// resource (1 upsert): one resource per request is opened; the spans are copied as bytes.
void BM_ResourceProcessorUpsert(benchmark::State& state) {
  auto p = make(*processors::resource::makeResourceProcessorFactory(),
                "attributes: [{key: deployment.region, value: eu-west-1, action: upsert}]");
  run(state, *p);
}
BENCHMARK(BM_ResourceProcessorUpsert);

// attributes (1 delete, 1 hash) on every span: both keys are present, so every span changes.
void BM_AttributesProcessorDeleteHash(benchmark::State& state) {
  auto p = make(*processors::attributes::makeAttributesProcessorFactory(),
                "actions: [{key: user_agent.original, action: delete},"
                " {key: server.address, action: hash}]");
  run(state, *p);
}
BENCHMARK(BM_AttributesProcessorDeleteHash);

// The same with include/exclude: spans of a service and kind (resource and item properties).
void BM_AttributesProcessorDeleteHashMatched(benchmark::State& state) {
  auto p = make(*processors::attributes::makeAttributesProcessorFactory(),
                "include: {match_type: strict, services: [checkout-service],"
                " span_kinds: [SPAN_KIND_SERVER, SPAN_KIND_CLIENT]}\n"
                "actions: [{key: user_agent.original, action: delete},"
                " {key: server.address, action: hash}]");
  run(state, *p);
}
BENCHMARK(BM_AttributesProcessorDeleteHashMatched);

// Keys no span has: the cost of opening every span's attributes and finding nothing to change.
void BM_AttributesProcessorNoMatch(benchmark::State& state) {
  auto p =
      make(*processors::attributes::makeAttributesProcessorFactory(),
           "actions: [{key: absent.key, action: delete}, {key: client.address, action: hash}]");
  run(state, *p);
}
BENCHMARK(BM_AttributesProcessorNoMatch);

// Issue #11's chain without the transports: resourcedetection → resource (1 upsert) → attributes
// (1 delete, 1 hash) → filter (1 condition, ~1.5% of loadgen-like spans... here the client spans
// with status 500) → drop. The end-to-end scenario traces-grpc-processors-nop adds memory_limiter,
// batch and gRPC to this.
void BM_ProcessorChainIssue11(benchmark::State& state) {
  std::shared_ptr<pipeline::Processor> filter(
      make(*processors::filter::makeFilterProcessorFactory(),
           "error_mode: ignore\n"
           "traces: {span: ['attributes[\"http.response.status_code\"] == 500 and kind == "
           "SPAN_KIND_CLIENT']}"));
  std::shared_ptr<pipeline::Processor> attributes(
      make(*processors::attributes::makeAttributesProcessorFactory(),
           "actions: [{key: user_agent.original, action: delete},"
           " {key: server.address, action: hash}]",
           filter));
  std::shared_ptr<pipeline::Processor> resource(
      make(*processors::resource::makeResourceProcessorFactory(),
           "attributes: [{key: deployment.region, value: eu-west-1, action: upsert}]", attributes));
  auto detection = make(*processors::resourcedetection::makeResourceDetectionFactory(),
                        "detectors: [env, system]", resource);
  struct NoHost final : pipeline::Host {
    void publishEndpoint(const std::string&, const std::string&) override {}
  } host;
  if (!detection->start(host).ok()) std::abort();  // detection happens at start
  run(state, *detection);
  (void)detection->shutdown();
}
BENCHMARK(BM_ProcessorChainIssue11);

}  // namespace
}  // namespace otlpd::bench
