// Forwarding throughput: 1000-span OTLP requests through the otlp_grpc exporter (queue, retry,
// breaker machinery included) to an in-process OTLP/gRPC sink on loopback, with and without the
// persistent queue. Items/s is spans/s; both ends share the machine's cores.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "config/config_node.h"
#include "exporters/otlp_grpc/otlp_grpc_exporter.h"
#include "pipeline/batch.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::bench {
namespace {

namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;

class CountingSink final : public pb_collector_trace::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext*, const otlp::TracesRequest* req,
                      otlp::TracesResponse*) override {
    size_t n = 0;
    for (const auto& rs : req->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) n += static_cast<size_t>(ss.spans_size());
    }
    spans.fetch_add(n);
    return grpc::Status::OK;
  }
  std::atomic<size_t> spans{0};
};

class NoHost : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

// args: 0 = compression none / 1 = gzip; 0 = memory queue / 1 = persistent queue (fsync always)
void BM_ForwardOtlpGrpc(benchmark::State& state) {
  CountingSink sink;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&sink);
  auto server = builder.BuildAndStart();

  char tmpl[] = "/tmp/otlpd-fwd-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const bool gzip = state.range(0) == 1;
  const bool persistent = state.range(1) == 1;
  std::string yaml =
      strCat("endpoint: 127.0.0.1:", port,
             "\ntls: {insecure: true}\ncompression: ", gzip ? "gzip" : "none",
             "\nsending_queue: {num_consumers: 4, queue_size: 64, block_on_overflow: true",
             persistent ? strCat(", storage: ", dir) : std::string(), "}\n");
  config::ConfigErrors errors;
  config::ConfigNode node(YAML::Load(yaml), "exporters.otlp", errors);
  common::MetricsRegistry metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
  auto factory = exporters::otlp_grpc::makeOtlpGrpcExporterFactory();
  auto exporter = factory->create({{"otlp", ""}, metrics}, node, pipeline::Signal::kTraces);
  NoHost host;
  if (!errors.empty() || !exporter.ok() || !(*exporter)->start(host).ok()) {
    state.SkipWithError("exporter did not start");
    return;
  }
  const otlp::TracesRequest request = makeTracesRequest(1000);
  size_t sent = 0;
  for (auto _ : state) {
    pipeline::Batch batch = pipeline::Batch::create(pipeline::Signal::kTraces);
    batch.mutableTraces().CopyFrom(request);
    if (!(*exporter)->consume(std::move(batch)).ok()) {
      state.SkipWithError("consume failed");
      break;
    }
    sent += 1000;
  }
  // Throughput counts delivery, not enqueueing: wait for the sink to have everything.
  while (sink.spans.load() < sent) std::this_thread::yield();
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  (void)(*exporter)->shutdown();
  server->Shutdown();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ForwardOtlpGrpc)
    ->ArgNames({"gzip", "persistent"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace otlpd::bench
