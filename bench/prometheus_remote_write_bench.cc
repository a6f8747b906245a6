// The Prometheus exporters' hot paths. Remote write: OTLP metrics (wire bytes) in, snappy
// WriteRequests below max_batch_size_bytes out — everything the sender does but the HTTP post;
// the target is ≥ 1,000,000 samples per CPU-second. The prometheus exporter: rendering 100,000
// series per scrape (target ≤ 100 ms), and taking points in.
#include <benchmark/benchmark.h>

#include <string>

#include "absl/time/clock.h"
#include "otlp/proto.h"
#include "prometheus/exposition_store.h"
#include "prometheus/remote_write.h"
#include "prometheus/series_translator.h"

namespace otlpd {
namespace {

namespace pbm = otlp::pb_metrics;
namespace rw = prometheus::remote_write;

void attr(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
          const std::string& k, const std::string& v) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// A realistic export: one resource (8 attributes), one scope, `metrics` metrics of which every
// tenth a histogram (10 buckets), the others gauges and cumulative counters, `points` points each
// with 3 attributes. `round` moves the timestamps on.
std::string metricsRequest(int metrics, int points, int round = 0) {
  otlp::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  auto* res = rm->mutable_resource()->mutable_attributes();
  attr(res, "service.name", "checkout");
  attr(res, "service.namespace", "shop");
  attr(res, "service.instance.id", "4f6a1c2e-9b1d-4c1e-8f1a-2b3c4d5e6f70");
  attr(res, "service.version", "1.4.2");
  attr(res, "host.name", "node-17.eu-west-1.compute.internal");
  attr(res, "k8s.pod.name", "checkout-7d9f8b6c5-x2x9z");
  attr(res, "k8s.namespace.name", "shop");
  attr(res, "cloud.region", "eu-west-1");
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("io.opentelemetry.runtime");
  sm->mutable_scope()->set_version("2.1.0");
  const uint64_t t =
      1'700'000'000'000'000'000ULL + static_cast<uint64_t>(round) * 15'000'000'000ULL;
  for (int m = 0; m < metrics; ++m) {
    auto* metric = sm->add_metrics();
    metric->set_name(std::string("app.metric.") + std::to_string(m));
    metric->set_description(std::string("what metric ") + std::to_string(m) + " measures");
    if (m % 10 == 9) {
      metric->set_unit("ms");
      auto* h = metric->mutable_histogram();
      h->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
      for (int p = 0; p < points; ++p) {
        auto* dp = h->add_data_points();
        dp->set_start_time_unix_nano(t - 3'600'000'000'000ULL);
        dp->set_time_unix_nano(t);
        for (double b : {5, 10, 25, 50, 100, 250, 500, 1000, 2500}) dp->add_explicit_bounds(b);
        uint64_t count = 0;
        for (int i = 0; i < 10; ++i) {
          dp->add_bucket_counts(static_cast<uint64_t>(i + p + round));
          count += static_cast<uint64_t>(i + p + round);
        }
        dp->set_count(count);
        dp->set_sum(static_cast<double>(count) * 42.5);
        attr(dp->mutable_attributes(), "http.route",
             std::string("/api/v1/item/") + std::to_string(p));
        attr(dp->mutable_attributes(), "http.method", p % 2 ? "GET" : "POST");
        attr(dp->mutable_attributes(), "http.status_code", p % 7 ? "200" : "500");
      }
      continue;
    }
    metric->set_unit(m % 3 ? "By" : "{request}");
    auto* points_field = m % 2 ? metric->mutable_gauge()->mutable_data_points()
                               : metric->mutable_sum()->mutable_data_points();
    if (m % 2 == 0) {
      metric->mutable_sum()->set_is_monotonic(true);
      metric->mutable_sum()->set_aggregation_temporality(pbm::AGGREGATION_TEMPORALITY_CUMULATIVE);
    }
    for (int p = 0; p < points; ++p) {
      auto* dp = points_field->Add();
      dp->set_start_time_unix_nano(t - 3'600'000'000'000ULL);
      dp->set_time_unix_nano(t);
      dp->set_as_double(1000.0 * m + p + 0.25 * round);
      attr(dp->mutable_attributes(), "http.route",
           std::string("/api/v1/item/") + std::to_string(p));
      attr(dp->mutable_attributes(), "http.method", p % 2 ? "GET" : "POST");
      attr(dp->mutable_attributes(), "http.status_code", p % 7 ? "200" : "500");
    }
  }
  return req.SerializeAsString();
}

// OTLP in, snappy-compressed WriteRequests (≤ 3 MB each, the Collector's default) out.
void BM_PrometheusRemoteWrite(benchmark::State& state) {
  const std::string request = metricsRequest(static_cast<int>(state.range(0)), 20);
  prometheus::SeriesOptions options;
  options.labels.extra_labels = {{"cluster", "eu-1"}};
  prometheus::SeriesTranslator translator(options);
  size_t samples = 0, out_bytes = 0, requests = 0;
  std::string body, compressed;  // as the exporter reuses them
  for (auto _ : state) {
    translator.clear();
    if (!translator.add(request).ok()) state.SkipWithError("walk failed");
    translator.finish();
    for (const auto& r : rw::packRequests(translator.series(), 3'000'000)) {
      rw::encodeRequest(translator.series(), r, body);
      rw::snappyCompress(body, compressed);
      out_bytes += compressed.size();
      ++requests;
    }
    samples += translator.sampleCount();
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["samples_per_request"] = static_cast<double>(translator.sampleCount());
  state.counters["snappy_bytes_per_sample"] =
      static_cast<double>(out_bytes) / static_cast<double>(std::max<size_t>(samples, 1));
  state.SetBytesProcessed(static_cast<int64_t>(request.size() * state.iterations()));
}
BENCHMARK(BM_PrometheusRemoteWrite)->Arg(50)->Arg(500);

// The same with every series new (a fresh translator per batch): the first batch of a sender,
// or traffic whose series never repeat. BM_PrometheusRemoteWrite is the steady state, where a
// translator reused by the exporter already knows the series of the previous batch.
void BM_PrometheusRemoteWriteNewSeries(benchmark::State& state) {
  const std::string request = metricsRequest(static_cast<int>(state.range(0)), 20);
  prometheus::SeriesOptions options;
  options.labels.extra_labels = {{"cluster", "eu-1"}};
  size_t samples = 0;
  std::string body, compressed;
  for (auto _ : state) {
    prometheus::SeriesTranslator translator(options);
    if (!translator.add(request).ok()) state.SkipWithError("walk failed");
    translator.finish();
    for (const auto& r : rw::packRequests(translator.series(), 3'000'000)) {
      rw::encodeRequest(translator.series(), r, body);
      rw::snappyCompress(body, compressed);
    }
    samples += translator.sampleCount();
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PrometheusRemoteWriteNewSeries)->Arg(50);

// The decode ceiling for the same bytes: the walk alone, visiting every point.
void BM_PrometheusRemoteWriteWalkOnly(benchmark::State& state) {
  const std::string request = metricsRequest(50, 20);
  struct Count final : prometheus::MetricsVisitor {
    void onResource(const prometheus::ResourceView&) override {}
    void onScope(const prometheus::ScopeView&) override {}
    bool onMetric(const prometheus::MetricView&) override { return true; }
    void onNumber(const prometheus::NumberPoint&) override { ++points; }
    void onHistogram(const prometheus::HistogramPoint&) override { ++points; }
    void onExponentialHistogram(const prometheus::ExponentialHistogramPoint&) override { ++points; }
    void onSummary(const prometheus::SummaryPoint&) override { ++points; }
    size_t points = 0;
  } count;
  prometheus::MetricsWalker walker;
  for (auto _ : state) {
    if (!walker.walk(request, count).ok()) state.SkipWithError("walk failed");
  }
  state.counters["points_per_s"] =
      benchmark::Counter(static_cast<double>(count.points), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PrometheusRemoteWriteWalkOnly);

// A store holding ~100,000 series: 450 requests' worth of numbers and histograms, distinct by
// the scope version (so every request adds series).
prometheus::ExpositionStore& filledStore(size_t* series) {
  static prometheus::ExpositionStore* store = [] {
    auto* s = new prometheus::ExpositionStore({});
    const absl::Time now = absl::Now();
    // 100 metrics × 100 points = 10,000 points per request: 9,000 number series and 1,000
    // histograms of 12 series each (9 buckets, +Inf, _sum, _count) = 21,000 series.
    const std::string base = metricsRequest(100, 100);
    for (int instance = 0; instance < 5; ++instance) {
      otlp::MetricsRequest req;
      req.ParseFromString(base);
      req.mutable_resource_metrics(0)
          ->mutable_resource()
          ->mutable_attributes(2)
          ->mutable_value()
          ->set_string_value(std::string("instance-") + std::to_string(instance));
      (void)s->add(req.SerializeAsString(), now);
    }
    return s;
  }();
  // Series as Prometheus counts them (one per exposed line).
  std::string text;
  store->render(prometheus::ExpositionFormat::kText004, absl::Now(), text);
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  *series = lines;
  return *store;
}

void BM_PrometheusExporterRender(benchmark::State& state) {
  size_t series = 0;
  prometheus::ExpositionStore& store = filledStore(&series);
  const auto format = state.range(0) ? prometheus::ExpositionFormat::kOpenMetrics100
                                     : prometheus::ExpositionFormat::kText004;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    store.render(format, absl::Now(), out);
    bytes = out.size();
  }
  state.counters["series_lines"] = static_cast<double>(series);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_PrometheusExporterRender)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Points into the exporter's store (series already known: the steady state).
void BM_PrometheusExporterIngest(benchmark::State& state) {
  prometheus::ExpositionStore store({});
  std::vector<std::string> rounds;
  for (int r = 0; r < 8; ++r) rounds.push_back(metricsRequest(50, 20, r));
  const absl::Time now = absl::Now();
  size_t i = 0;
  for (auto _ : state) {
    (void)store.add(rounds[i++ % rounds.size()], now);
  }
  state.counters["points_per_s"] = benchmark::Counter(
      static_cast<double>(store.counters().accepted_points), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PrometheusExporterIngest);

}  // namespace
}  // namespace otlpd
