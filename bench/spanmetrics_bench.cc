// The spanmetrics connector (issue #12: >= 1,000,000 spans per CPU-second) on what a traces
// pipeline hands it: wire batches of 1000 spans from 5 services (200 spans each), 20 operations,
// server/client/internal kinds, 2% errors, unique trace ids, ~12 attributes per span of which the
// configured dimensions are a few (method, status code, route). Items/s are spans; the baseline is
// the decode ceiling of the same requests beside it.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "connectors/spanmetrics/spanmetrics_connector.h"
#include "otlp/proto.h"
#include "pipeline/batch.h"

namespace otlpd::bench {
namespace {

constexpr size_t kServices = 5;
constexpr size_t kSpansPerService = 200;
constexpr size_t kSpans = kServices * kSpansPerService;
constexpr size_t kRequests = 16;  // distinct requests, cycled: trace ids differ across them

void addString(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
               const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void addInt(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
            const std::string& key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

std::string randomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  out[0] |= 1;
  return out;
}

std::string makeRequest(uint64_t seed) {
  static const char* kServiceNames[kServices] = {"frontend", "checkout", "payment", "shipping",
                                                 "inventory"};
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  std::mt19937_64 rng(seed);
  otlp::TracesRequest req;
  for (size_t s = 0; s < kServices; ++s) {
    auto* rs = req.add_resource_spans();
    auto* resource = rs->mutable_resource()->mutable_attributes();
    addString(resource, "service.name", kServiceNames[s]);
    addString(resource, "service.version", "1.42.7");
    addString(resource, "service.instance.id",
              "0b3c1f9e-6a52-4f0e-8f7d-2d9a3c4b5e6" + std::to_string(s));
    addString(resource, "deployment.environment", "production");
    addString(resource, "host.name", std::string("ip-10-1-2-") + std::to_string(s));
    addString(resource, "telemetry.sdk.language", "java");
    addString(resource, "k8s.pod.name", std::string(kServiceNames[s]) + "-7d9f8b6c5d-x2k4q");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("io.opentelemetry.instrumentation.http");
    ss->mutable_scope()->set_version("2.3.0");
    std::string trace_id = randomBytes(rng, 16);
    const uint64_t base = 1'700'000'000'000'000'000ULL;
    for (size_t i = 0; i < kSpansPerService; ++i) {
      if (i % 10 == 0) trace_id = randomBytes(rng, 16);  // traces of 10 spans
      auto* span = ss->add_spans();
      span->set_trace_id(trace_id);
      span->set_span_id(randomBytes(rng, 8));
      span->set_parent_span_id(randomBytes(rng, 8));
      const size_t op = rng() % 20;
      span->set_name("operation-" + std::to_string(op) + (op < 10 ? " /api/v1/orders/{id}" : ""));
      span->set_kind(op % 3 == 0   ? otlp::pb_trace::Span::SPAN_KIND_SERVER
                     : op % 3 == 1 ? otlp::pb_trace::Span::SPAN_KIND_CLIENT
                                   : otlp::pb_trace::Span::SPAN_KIND_INTERNAL);
      const uint64_t start = base + i * 1'000'000;
      span->set_start_time_unix_nano(start);
      span->set_end_time_unix_nano(start + 100'000 + rng() % 900'000'000);
      auto* attrs = span->mutable_attributes();
      addString(attrs, "http.request.method", kMethods[op % 4]);
      const bool error = rng() % 50 == 0;
      addInt(attrs, "http.response.status_code", error ? 500 : 200);
      addString(attrs, "http.route", "/api/v1/route/" + std::to_string(op));
      addString(attrs, "url.full",
                "https://shop.example.com/api/v1/orders/" + std::to_string(rng()));
      addString(attrs, "server.address", "shop.example.com");
      addInt(attrs, "server.port", 443);
      addString(attrs, "user_agent.original",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)");
      addString(attrs, "network.protocol.version", "1.1");
      addString(attrs, "thread.name", "http-nio-8080-exec-" + std::to_string(rng() % 200));
      addString(attrs, "code.function", "com.example.Controller.handle" + std::to_string(op));
      addInt(attrs, "app.items", static_cast<int64_t>(rng() % 20));
      addString(attrs, "app.request.id", std::to_string(rng()));
      if (error) {
        span->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
        span->mutable_status()->set_message("upstream returned 500");
      }
    }
  }
  return req.SerializeAsString();
}

const std::vector<std::shared_ptr<const std::string>>& requests() {
  static const auto all = [] {
    std::vector<std::shared_ptr<const std::string>> out;
    for (size_t i = 0; i < kRequests; ++i) {
      out.push_back(std::make_shared<const std::string>(makeRequest(i + 1)));
    }
    return out;
  }();
  return all;
}

class DropConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    benchmark::DoNotOptimize(batch.wireBytes());
    return absl::OkStatus();
  }
};

std::unique_ptr<pipeline::Connector> makeConnector(const char* yaml) {
  // Never destroyed: connectors held in statics unregister from it at exit.
  static auto* metrics =
      new common::MetricsRegistry(common::MetricsRegistry::ProcessMetrics::kExclude);
  config::ConfigErrors errors;
  config::ConfigNode cfg(*config::parseYaml(yaml, "bench"), "connectors.spanmetrics", errors);
  auto factory = connectors::spanmetrics::makeSpanMetricsFactory();
  auto c = factory->create(
      pipeline::CreateSettings{{"spanmetrics", ""}, *metrics}, cfg, {pipeline::Signal::kTraces},
      {{"metrics", pipeline::Signal::kMetrics, std::make_shared<DropConsumer>()}});
  if (!c.ok() || !errors.empty()) std::abort();
  return *std::move(c);
}

void run(benchmark::State& state, const char* yaml) {
  // One connector for all threads of a multi-threaded run, as a pipeline shares it.
  static std::unique_ptr<pipeline::Connector> connector;
  if (state.thread_index() == 0) connector = makeConnector(yaml);
  std::shared_ptr<pipeline::Consumer> input;
  size_t next = static_cast<size_t>(state.thread_index());
  size_t bytes = 0;
  for (auto _ : state) {
    // Threads meet at the loop's start, after thread 0 made the connector.
    if (!input) input = connector->input(pipeline::Signal::kTraces);
    const auto& request = requests()[next++ % kRequests];
    bytes += request->size();
    absl::Status s = input->consume(pipeline::Batch::fromWire(
        pipeline::Signal::kTraces, pipeline::WireBytes{*request, request}, kSpans));
    if (!s.ok()) state.SkipWithError("consume failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  if (state.thread_index() == 0) {
    auto* c = static_cast<connectors::spanmetrics::SpanMetricsConnector*>(connector.get());
    state.counters["series"] = static_cast<double>(c->aggregator().seriesCount());
  }
}

// The yardstick: decoding the same requests with protobuf on an arena.
void BM_SpanMetricsDecodeCeiling(benchmark::State& state) {
  size_t next = 0;
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* req = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    if (!req->ParseFromString(*requests()[next++ % kRequests])) state.SkipWithError("parse");
    benchmark::DoNotOptimize(req);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
}
BENCHMARK(BM_SpanMetricsDecodeCeiling);

// The Collector's defaults: service, span name, kind and status code; explicit histogram.
void BM_SpanMetricsDefaults(benchmark::State& state) {
  run(state, "{}");
}
BENCHMARK(BM_SpanMetricsDefaults);

// A few dimensions from the span attributes (one with a default), as RED dashboards use.
constexpr const char* kDimensions =
    "dimensions: [{name: http.request.method, default: GET}, {name: http.response.status_code},"
    " {name: http.route}]\n";

void BM_SpanMetricsDimensions(benchmark::State& state) {
  run(state, kDimensions);
}
BENCHMARK(BM_SpanMetricsDimensions);
BENCHMARK(BM_SpanMetricsDimensions)->Threads(2);

void BM_SpanMetricsDimensionsExemplars(benchmark::State& state) {
  run(state,
      "dimensions: [{name: http.request.method, default: GET}, "
      "{name: http.response.status_code}, {name: http.route}]\n"
      "exemplars: {enabled: true}");
}
BENCHMARK(BM_SpanMetricsDimensionsExemplars);

void BM_SpanMetricsExponential(benchmark::State& state) {
  run(state,
      "dimensions: [{name: http.request.method, default: GET}, "
      "{name: http.response.status_code}, {name: http.route}]\n"
      "histogram: {exponential: {max_size: 160}}");
}
BENCHMARK(BM_SpanMetricsExponential);

// A flush of the series those requests make (~600 with the dimensions), encoded to OTLP.
void BM_SpanMetricsFlush(benchmark::State& state) {
  auto connector = makeConnector(kDimensions);
  auto input = connector->input(pipeline::Signal::kTraces);
  for (const auto& request : requests()) {
    if (!input
             ->consume(pipeline::Batch::fromWire(pipeline::Signal::kTraces,
                                                 pipeline::WireBytes{*request, request}, kSpans))
             .ok()) {
      state.SkipWithError("consume failed");
    }
  }
  auto* c = static_cast<connectors::spanmetrics::SpanMetricsConnector*>(connector.get());
  for (auto _ : state) {
    if (!c->flushNow().ok()) state.SkipWithError("flush failed");
  }
  state.counters["series"] = static_cast<double>(c->aggregator().seriesCount());
}
BENCHMARK(BM_SpanMetricsFlush);

}  // namespace
}  // namespace otlpd::bench
