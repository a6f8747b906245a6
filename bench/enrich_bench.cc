// Issue #11's enrichment and scrubbing processors over the 800-byte-span request (1000 spans, one
// resource): resourcedetection, lookup and redaction, each alone, fed wire batches as the receiver
// makes them and handing its result to a consumer that drops it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "pipeline/batch.h"
#include "processors/lookup/lookup_processor.h"
#include "processors/redaction/redaction_processor.h"
#include "processors/resourcedetection/resourcedetection_processor.h"

namespace otlpd::bench {
namespace {

class DropConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

class NullHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

void runProcessor(benchmark::State& state, std::unique_ptr<pipeline::ProcessorFactory> factory,
                  const std::string& yaml) {
  common::MetricsRegistry metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
  config::ConfigErrors errors;
  config::ConfigNode node(*config::parseYaml(yaml, "bench"), "processors.x", errors);
  auto processor =
      factory->create(pipeline::CreateSettings{{std::string(factory->type()), ""}, metrics}, node,
                      pipeline::Signal::kTraces, std::make_shared<DropConsumer>());
  NullHost host;
  if (!processor.ok() || !errors.empty() || !(*processor)->start(host).ok()) {
    state.SkipWithError("processor not created");
    return;
  }
  auto bytes = std::make_shared<std::string>(makeTracesRequest800(1000).SerializeAsString());
  for (auto _ : state) {
    pipeline::Batch batch = pipeline::Batch::fromWire(pipeline::Signal::kTraces,
                                                      pipeline::WireBytes{*bytes, bytes}, 1000);
    if (!(*processor)->consume(std::move(batch)).ok()) {
      state.SkipWithError("consume failed");
      break;
    }
  }
  (void)(*processor)->shutdown();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes->size()));
}

void BM_ResourceDetection(benchmark::State& state) {
  processors::resourcedetection::HostSources host;
  host.getenv = [](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "OTEL_RESOURCE_ATTRIBUTES") return "deployment.region=eu-west-1";
    return std::nullopt;
  };
  host.systemFacts = [](bool) {
    processors::resourcedetection::SystemFacts f;
    f.fqdn = "node-1.example.com";
    f.sysname = "Linux";
    return f;
  };
  runProcessor(state, processors::resourcedetection::makeResourceDetectionFactory(host),
               "detectors: [env, system]\n");
}
BENCHMARK(BM_ResourceDetection);

void BM_Lookup(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("otlpd-enrich-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "services.csv";
  {
    std::ofstream out(file);
    out << "service.name,team,tier,compliance\n";
    for (int i = 0; i < 1000; ++i) out << "service-" << i << ",team-" << i % 20 << ",gold,pci\n";
    out << "checkout-service,payments,platinum,pci\n";
  }
  runProcessor(state, processors::lookup::makeLookupFactory(),
               "file: " + file.string() + "\nreload_interval: 0s\n");
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Lookup);

// Three blocked-value regexes, every span and event attribute value tested against them.
const char* const kBlockedValues =
    "blocked_values:\n"
    "  - '4[0-9]{12}(?:[0-9]{3})?'\n"                          // a Visa card number
    "  - '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}'\n"  // an e-mail address
    "  - '(?i)bearer\\s+[A-Za-z0-9._~+/-]+=*'\n";              // a bearer token

void BM_Redaction(benchmark::State& state) {
  runProcessor(state, processors::redaction::makeRedactionFactory(),
               std::string("allow_all_keys: true\n") + kBlockedValues);
}
BENCHMARK(BM_Redaction);

// The same with an allow-list that removes two keys from every span and a debug summary: every
// span is re-encoded.
void BM_RedactionAllowListDebugSummary(benchmark::State& state) {
  runProcessor(state, processors::redaction::makeRedactionFactory(),
               std::string("allowed_keys: [http.request.method, url.full, "
                           "http.response.status_code, server.address, server.port, db.system, "
                           "db.statement, app.cart.total, app.cache.hit, http.route, thread.name, "
                           "code.function, exception.type, exception.message]\n"
                           "summary: debug\n") +
                   kBlockedValues);
}
BENCHMARK(BM_RedactionAllowListDebugSummary);

}  // namespace
}  // namespace otlpd::bench
