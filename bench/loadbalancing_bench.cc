// The loadbalancing exporter (issue #12) on 1000-span requests of ~800 bytes per span
// (payloads.h): 100 traces of 10 spans each, interleaved as an SDK batch mixes them, under 4
// services. Requests arrive as wire batches and are regrouped by trace id for two backends whose
// exporters are in-process sinks (no gRPC): what is measured is the routing path — walk, trace id,
// ring, one request built per backend, batches handed over. Items/s are spans per CPU-second
// (target: 800,000). The baseline is one backend (the request passes through whole), and the
// decode ceiling what a regrouper that decoded with protobuf would pay before doing any work.
// StreamId: 1000 metric data points regrouped per stream (metrics split), items are points.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "bench/payloads.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "exporters/loadbalancing/loadbalancing_exporter.h"
#include "pipeline/batch.h"

namespace otlpd::bench {
namespace {

using exporters::loadbalancing::LoadBalancingExporter;
using exporters::loadbalancing::RoutingKey;
using exporters::loadbalancing::StaticResolver;

constexpr size_t kSpans = 1000;
constexpr size_t kTraces = 100;

class SinkExporter final : public pipeline::Exporter {
 public:
  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

class NoHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

// 4 services of 250 spans; span i belongs to trace i % 100, so every trace has spans under every
// service and its spans are 100 apart.
std::shared_ptr<const std::string> request() {
  static const auto bytes = [] {
    otlp::TracesRequest req;
    for (int service = 0; service < 4; ++service) {
      otlp::TracesRequest part = makeTracesRequest800(kSpans / 4, 1 + service);
      auto* rs = part.mutable_resource_spans(0);
      for (auto& kv : *rs->mutable_resource()->mutable_attributes()) {
        if (kv.key() == "service.name")
          kv.mutable_value()->set_string_value(strCat("svc-", service));
      }
      *req.add_resource_spans() = *rs;
    }
    size_t i = 0;
    for (auto& rs : *req.mutable_resource_spans()) {
      for (auto& span : *rs.mutable_scope_spans(0)->mutable_spans()) {
        std::string id = strCat("trace-", (i++ % kTraces) + 1000, "-id");
        id.resize(16, '#');
        span.set_trace_id(id);
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

std::unique_ptr<LoadBalancingExporter> exporter(
    int backends, RoutingKey key, pipeline::Signal signal = pipeline::Signal::kTraces) {
  static common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::vector<std::string> endpoints;
  for (int i = 0; i < backends; ++i) endpoints.push_back(strCat("10.0.0.", i + 1, ":4317"));
  auto e = std::make_unique<LoadBalancingExporter>(
      pipeline::CreateSettings{{"loadbalancing", ""}, metrics}, signal, key,
      std::make_unique<StaticResolver>(endpoints, exporters::loadbalancing::ResolutionCounters{}),
      [](const std::string&) -> absl::StatusOr<std::unique_ptr<pipeline::Exporter>> {
        return std::make_unique<SinkExporter>();
      });
  NoHost host;
  if (!e->start(host).ok()) std::abort();
  return e;
}

void run(benchmark::State& state, int backends, RoutingKey key) {
  auto lb = exporter(backends, key);
  for (auto _ : state) {
    if (!lb->consume(wireBatch()).ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request()->size()));
  (void)lb->shutdown();
}

void BM_LoadBalancingTraceIdTwoBackends(benchmark::State& state) {
  run(state, 2, RoutingKey::kTraceId);
}
BENCHMARK(BM_LoadBalancingTraceIdTwoBackends);

void BM_LoadBalancingTraceIdEightBackends(benchmark::State& state) {
  run(state, 8, RoutingKey::kTraceId);
}
BENCHMARK(BM_LoadBalancingTraceIdEightBackends);

void BM_LoadBalancingServiceTwoBackends(benchmark::State& state) {
  run(state, 2, RoutingKey::kService);
}
BENCHMARK(BM_LoadBalancingServiceTwoBackends);

void BM_LoadBalancingOneBackendBaseline(benchmark::State& state) {
  run(state, 1, RoutingKey::kTraceId);
}
BENCHMARK(BM_LoadBalancingOneBackendBaseline);

// 4 services × 25 metrics (gauges, cumulative sums, histograms) × 10 streams each: 1000 data
// points whose metrics are split between the backends by stream.
std::shared_ptr<const std::string> metricsRequest() {
  static const auto bytes = [] {
    otlp::MetricsRequest req;
    for (int service = 0; service < 4; ++service) {
      auto* rm = req.add_resource_metrics();
      auto add = [](auto* attrs, const std::string& k, const std::string& v) {
        auto* kv = attrs->Add();
        kv->set_key(k);
        kv->mutable_value()->set_string_value(v);
      };
      add(rm->mutable_resource()->mutable_attributes(), "service.name", strCat("svc-", service));
      add(rm->mutable_resource()->mutable_attributes(), "host.name", strCat("host-", service));
      auto* sm = rm->add_scope_metrics();
      sm->mutable_scope()->set_name("io.opentelemetry.runtime-telemetry");
      for (int m = 0; m < 25; ++m) {
        auto* metric = sm->add_metrics();
        metric->set_name(strCat("http.server.metric_", m));
        metric->set_unit("ms");
        for (int p = 0; p < 10; ++p) {
          google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs;
          if (m % 3 == 0) {
            auto* dp = metric->mutable_gauge()->add_data_points();
            dp->set_as_double(p * 1.5);
            dp->set_time_unix_nano(1'700'000'000'000'000'000ULL);
            attrs = dp->mutable_attributes();
          } else if (m % 3 == 1) {
            metric->mutable_sum()->set_is_monotonic(true);
            metric->mutable_sum()->set_aggregation_temporality(
                otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
            auto* dp = metric->mutable_sum()->add_data_points();
            dp->set_as_int(p * 100);
            dp->set_time_unix_nano(1'700'000'000'000'000'000ULL);
            attrs = dp->mutable_attributes();
          } else {
            metric->mutable_histogram()->set_aggregation_temporality(
                otlp::pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
            auto* dp = metric->mutable_histogram()->add_data_points();
            dp->set_count(10);
            dp->set_sum(123.4);
            for (double b : {5.0, 10.0, 25.0, 50.0, 100.0}) dp->add_explicit_bounds(b);
            for (int i = 0; i < 6; ++i) dp->add_bucket_counts(i);
            attrs = dp->mutable_attributes();
          }
          add(attrs, "http.route", strCat("/api/v1/route/", p));
          add(attrs, "http.request.method", p % 2 ? "GET" : "POST");
          add(attrs, "http.response.status_code", p % 5 ? "200" : "500");
        }
      }
    }
    return std::make_shared<const std::string>(req.SerializeAsString());
  }();
  return bytes;
}

void BM_LoadBalancingStreamIdTwoBackends(benchmark::State& state) {
  auto lb = exporter(2, RoutingKey::kStreamId, pipeline::Signal::kMetrics);
  const std::shared_ptr<const std::string> bytes = metricsRequest();
  for (auto _ : state) {
    auto batch = pipeline::Batch::fromWire(pipeline::Signal::kMetrics,
                                           pipeline::WireBytes{*bytes, bytes}, 1000);
    if (!lb->consume(std::move(batch)).ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
  (void)lb->shutdown();
}
BENCHMARK(BM_LoadBalancingStreamIdTwoBackends);

void BM_LoadBalancingDecodeCeiling(benchmark::State& state) {
  const std::shared_ptr<const std::string> bytes = request();
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    if (!req->ParseFromString(*bytes)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(req);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
}
BENCHMARK(BM_LoadBalancingDecodeCeiling);

}  // namespace
}  // namespace otlpd::bench
