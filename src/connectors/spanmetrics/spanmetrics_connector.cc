#include "connectors/spanmetrics/spanmetrics_connector.h"

#include <atomic>
#include <string>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"

namespace otlpd::connectors::spanmetrics {

// What traces pipelines that export to the connector end in. It holds the aggregator, not the
// connector, so a pipeline that outlives the connector never reaches a destroyed one.
class SpanMetricsConnector::TracesInput final : public pipeline::Consumer {
 public:
  TracesInput(std::shared_ptr<Aggregator> aggregator, Clock clock)
      : aggregator_(std::move(aggregator)), clock_(std::move(clock)) {}

  absl::Status consume(pipeline::Batch&& batch) override {
    if (stopped_.load(std::memory_order_acquire)) {
      return absl::UnavailableError("spanmetrics connector is shut down");
    }
    if (std::optional<std::string_view> wire = batch.wireBytes()) {
      return aggregator_->add(*wire, clock_());
    }
    // A batch a processor decoded: encode it once (off the fast path, which reads wire bytes).
    const std::string bytes = batch.traces().SerializeAsString();
    return aggregator_->add(bytes, clock_());
  }

  void stop() { stopped_.store(true, std::memory_order_release); }

 private:
  std::shared_ptr<Aggregator> aggregator_;
  Clock clock_;
  std::atomic<bool> stopped_{false};
};

namespace {

AggregatorCounters registerCounters(common::MetricsRegistry& metrics, const std::string& id) {
  const common::Labels labels = {{"connector", id}};
  auto with = [&](std::string_view key, std::string_view value) {
    common::Labels l = labels;
    l.emplace_back(std::string(key), std::string(value));
    return l;
  };
  AggregatorCounters c;
  c.spans = &metrics.counter("otlpd_connector_spanmetrics_spans_total",
                             "Spans counted in span metrics.", labels);
  c.spans_without_service = &metrics.counter("otlpd_connector_spanmetrics_spans_skipped_total",
                                             "Spans not counted in span metrics, by reason.",
                                             with("reason", "missing_service_name"));
  c.overflow_spans = &metrics.counter(
      "otlpd_connector_spanmetrics_overflow_spans_total",
      "Spans counted in a resource's overflow series (otel.metric.overflow=true) because the "
      "resource had aggregation_cardinality_limit series.",
      labels);
  const char* removed_help = "Span metric series removed, by reason.";
  c.removed_by_resource_cache =
      &metrics.counter("otlpd_connector_spanmetrics_series_removed_total", removed_help,
                       with("reason", "resource_metrics_cache_size"));
  c.removed_by_metrics_expiration =
      &metrics.counter("otlpd_connector_spanmetrics_series_removed_total", removed_help,
                       with("reason", "metrics_expiration"));
  c.removed_by_series_expiration =
      &metrics.counter("otlpd_connector_spanmetrics_series_removed_total", removed_help,
                       with("reason", "series_expiration"));
  return c;
}

}  // namespace

SpanMetricsConnector::SpanMetricsConnector(const pipeline::CreateSettings& settings, Config config,
                                           std::vector<pipeline::ConnectorOutput> outputs,
                                           Clock clock)
    : id_(settings.id.toString()),
      config_(config),
      outputs_(std::move(outputs)),
      clock_(std::move(clock)),
      metrics_(settings.metrics),
      flushes_(&settings.metrics.counter("otlpd_connector_spanmetrics_flushes_total",
                                         "Span metrics handed to the metrics pipelines.",
                                         {{"connector", id_}})),
      flush_failures_(&settings.metrics.counter(
          "otlpd_connector_spanmetrics_flush_failures_total",
          "Span metrics a metrics pipeline refused (counted per pipeline).", {{"connector", id_}})),
      aggregator_(
          std::make_shared<Aggregator>(std::move(config), registerCounters(settings.metrics, id_))),
      input_(std::make_shared<TracesInput>(aggregator_, clock_)) {
  std::weak_ptr<Aggregator> weak = aggregator_;
  callbacks_.push_back(metrics_.callbackGauge(
      "otlpd_connector_spanmetrics_series", "Span metric series held (dimension sets).",
      {{"connector", id_}}, [weak] {
        auto a = weak.lock();
        return a ? static_cast<double>(a->seriesCount()) : 0.0;
      }));
  callbacks_.push_back(
      metrics_.callbackGauge("otlpd_connector_spanmetrics_resources",
                             "Resources span metrics are held for.", {{"connector", id_}}, [weak] {
                               auto a = weak.lock();
                               return a ? static_cast<double>(a->resourceCount()) : 0.0;
                             }));
}

SpanMetricsConnector::~SpanMetricsConnector() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  for (uint64_t id : callbacks_) metrics_.removeCallback(id);
}

std::shared_ptr<pipeline::Consumer> SpanMetricsConnector::input(pipeline::Signal signal) {
  return signal == pipeline::Signal::kTraces ? input_ : nullptr;
}

absl::Status SpanMetricsConnector::start(pipeline::Host&) {
  std::lock_guard lock(mu_);
  if (flusher_.joinable() || stopping_) return absl::OkStatus();
  flusher_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

absl::Status SpanMetricsConnector::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  input_->stop();
  return flushNow();
}

void SpanMetricsConnector::run() {
  std::unique_lock lock(mu_);
  auto next = std::chrono::steady_clock::now();
  const auto interval = absl::ToChronoNanoseconds(config_.flush_interval);
  while (!stopping_) {
    next += interval;
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    (void)flushNow();  // failures are counted and logged there
    lock.lock();
  }
}

absl::Status SpanMetricsConnector::flushNow() {
  std::lock_guard flush_lock(flush_mu_);
  FlushedMetrics flushed = aggregator_->flush(clock_());
  if (flushed.request.empty()) return absl::OkStatus();
  const size_t points = flushed.data_points;
  const pipeline::Batch batch = pipeline::Batch::fromWire(
      pipeline::Signal::kMetrics, pipeline::WireBytes::fromString(std::move(flushed.request)),
      points);
  absl::Status first;
  for (const pipeline::ConnectorOutput& out : outputs_) {
    if (!out.head) continue;
    absl::Status s = out.head->consume(pipeline::Batch(batch));
    if (s.ok()) {
      flushes_->add();
      continue;
    }
    flush_failures_->add();
    logging::log(
        logging::Level::kWarn, "span metrics refused by a metrics pipeline",
        {{"connector", id_}, {"pipeline", out.pipeline}, {"data_points", points}, {"error", s}});
    if (first.ok()) first = s;
  }
  return first;
}

namespace {

class SpanMetricsFactory final : public pipeline::ConnectorFactory {
 public:
  std::string_view type() const override { return "spanmetrics"; }
  // The Collector renamed the type span_metrics and keeps spanmetrics as an alias.
  std::vector<std::string_view> aliases() const override { return {"span_metrics"}; }

  bool supportsPair(pipeline::Signal from, pipeline::Signal to) const override {
    return from == pipeline::Signal::kTraces && to == pipeline::Signal::kMetrics;
  }

  absl::StatusOr<std::unique_ptr<pipeline::Connector>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      std::vector<pipeline::Signal> inputs,
      std::vector<pipeline::ConnectorOutput> outputs) const override {
    Config c = parseConfig(config);
    for (pipeline::Signal s : inputs) {
      if (s != pipeline::Signal::kTraces) {
        return absl::InvalidArgumentError(
            strCat("spanmetrics connector takes traces, not ", pipeline::signalName(s)));
      }
    }
    for (const pipeline::ConnectorOutput& o : outputs) {
      if (o.signal != pipeline::Signal::kMetrics) {
        return absl::InvalidArgumentError(
            strCat("spanmetrics connector feeds metrics pipelines, not ",
                   pipeline::signalName(o.signal), " pipeline ", o.pipeline));
      }
    }
    return std::make_unique<SpanMetricsConnector>(settings, std::move(c), std::move(outputs));
  }
};

}  // namespace

std::unique_ptr<pipeline::ConnectorFactory> makeSpanMetricsFactory() {
  return std::make_unique<SpanMetricsFactory>();
}

}  // namespace otlpd::connectors::spanmetrics
