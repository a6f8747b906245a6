#include "exporters/prometheus/prometheus_exporter.h"

#include <mutex>

#include "common/http_server.h"
#include "common/http_server_config.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "prometheus/exposition_store.h"

namespace otlpd::exporters::prometheus {
namespace {

namespace http = boost::beast::http;
namespace prom = otlpd::prometheus;

struct PrometheusConfig {
  common::HttpServerOptions server;
  prom::StoreOptions store;
  std::string name_space;  // owned here; store.names.name_space views it
  bool open_metrics = false;
};

PrometheusConfig parseConfig(config::ConfigNode& node) {
  PrometheusConfig c;
  c.server.endpoint = node.getString("endpoint", "");
  if (c.server.endpoint.empty()) {
    node.addError("endpoint", "is required (host:port to serve /metrics on, e.g. 0.0.0.0:8889)");
  }
  common::readHttpServerLimits(node, c.server);
  c.server.max_body_bytes = 4096;  // scrapes are GETs
  c.name_space = node.getString("namespace", "");
  c.store.names.add_suffixes = node.getBool("add_metric_suffixes", true);
  c.store.send_timestamps = node.getBool("send_timestamps", false);
  c.store.expiration = node.getDuration("metric_expiration", absl::Minutes(5));
  if (c.store.expiration <= absl::ZeroDuration()) {
    node.addError("metric_expiration", "must be positive");
  }
  c.open_metrics = node.getBool("enable_open_metrics", false);
  config::ConfigNode conversion = node.child("resource_to_telemetry_conversion");
  c.store.labels.resource_to_telemetry = conversion.getBool("enabled", false);
  conversion.rejectUnknownKeys();
  if (node.has("const_labels")) {
    config::ConfigNode labels = node.child("const_labels");
    if (!labels.yaml().IsMap()) {
      node.addError("const_labels", "must be a mapping of label names to values");
    } else {
      for (const auto& kv : labels.yaml()) {
        const std::string name = kv.first.as<std::string>("");
        c.store.labels.extra_labels.emplace_back(name, labels.getString(name, ""));
      }
    }
  }
  return c;
}

class ScrapeHandler final : public common::HttpHandler {
 public:
  using Render = std::function<std::string(prom::ExpositionFormat)>;
  ScrapeHandler(bool open_metrics, Render render)
      : open_metrics_(open_metrics), render_(std::move(render)) {}

  common::HttpResponse handle(common::HttpRequest&& request) override {
    if (request.target() != "/metrics" && !request.target().starts_with("/metrics?")) {
      return common::makeResponse(request, http::status::not_found, "text/plain",
                                  "only /metrics is served here\n");
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      auto res = common::makeResponse(request, http::status::method_not_allowed, "text/plain",
                                      "GET /metrics\n");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    const prom::ExpositionFormat format =
        prom::negotiateFormat(request[http::field::accept], open_metrics_);
    std::string body = render_(format);
    const std::string_view type = format == prom::ExpositionFormat::kOpenMetrics100
                                      ? prom::kOpenMetricsContentType
                                      : prom::kTextContentType;
    auto res = common::makeResponse(request, http::status::ok, std::string(type),
                                    request.method() == http::verb::head ? "" : std::move(body));
    return res;
  }

 private:
  bool open_metrics_;
  Render render_;
};

class PrometheusExporter final : public pipeline::Exporter {
 public:
  PrometheusExporter(const pipeline::CreateSettings& settings, PrometheusConfig config)
      : id_(settings.id.toString()), config_(std::move(config)), metrics_(settings.metrics) {
    config_.store.names.name_space = config_.name_space;
    store_ = std::make_unique<prom::ExpositionStore>(config_.store);
    const common::Labels labels = {{"exporter", id_}};
    dropped_ = &metrics_.counter(
        "otlpd_exporter_prometheus_dropped_points_total",
        "Points not exposed: older than the series' last point, a repeated delta, or a name "
        "already used with another type.",
        labels);
    expired_ =
        &metrics_.counter("otlpd_exporter_prometheus_expired_series_total",
                          "Series dropped after metric_expiration without an update.", labels);
  }

  ~PrometheusExporter() override { (void)shutdown(); }

  absl::Status start(pipeline::Host& host) override {
    auto handler = std::make_shared<ScrapeHandler>(
        config_.open_metrics, [this](prom::ExpositionFormat f) { return render(f); });
    common::HttpServerOptions options = config_.server;
    options.metrics = &metrics_;
    options.listener = id_;
    auto server = common::HttpServer::start(options, handler);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    host.publishEndpoint(id_, server_->boundEndpoint());
    series_gauge_ = metrics_.callbackGauge("otlpd_exporter_prometheus_series",
                                           "Series the prometheus exporter serves.",
                                           {{"exporter", id_}}, [this] {
                                             std::lock_guard lock(mu_);
                                             return static_cast<double>(store_->seriesCount());
                                           });
    logging::info("prometheus exporter serving /metrics",
                  {{"exporter", id_}, {"endpoint", server_->boundEndpoint()}});
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (server_) server_->stop();
    server_.reset();
    if (series_gauge_ != 0) metrics_.removeCallback(series_gauge_);
    series_gauge_ = 0;
    return absl::OkStatus();
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    std::string encoded;
    std::string_view bytes;
    if (auto wire = batch.wireBytes()) {
      bytes = *wire;
    } else {
      if (!batch.metrics().SerializeToString(&encoded)) {
        return absl::InvalidArgumentError("metrics request does not serialize");
      }
      bytes = encoded;
    }
    std::lock_guard lock(mu_);
    absl::Status s = store_->add(bytes, absl::Now());
    syncCounters();
    return s;
  }

 private:
  std::string render(prom::ExpositionFormat format) {
    std::string out;
    std::lock_guard lock(mu_);
    out.reserve(last_size_ + last_size_ / 8);
    store_->render(format, absl::Now(), out);
    last_size_ = out.size();
    syncCounters();
    return out;
  }

  // Called with mu_ held.
  void syncCounters() {
    const prom::StoreCounters& c = store_->counters();
    dropped_->add(c.dropped_points - reported_.dropped_points);
    expired_->add(c.expired_series - reported_.expired_series);
    reported_ = c;
  }

  const std::string id_;
  PrometheusConfig config_;
  common::MetricsRegistry& metrics_;
  std::mutex mu_;
  std::unique_ptr<prom::ExpositionStore> store_;
  size_t last_size_ = 0;
  prom::StoreCounters reported_;
  common::Counter* dropped_;
  common::Counter* expired_;
  uint64_t series_gauge_ = 0;
  std::unique_ptr<common::HttpServer> server_;
};

class PrometheusExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "prometheus"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kMetrics;
  }
  // consume() only updates the in-memory series: nothing to queue for.
  bool queuesInternally() const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::Signal) const override {
    PrometheusConfig c = parseConfig(config);
    return std::make_unique<PrometheusExporter>(settings, std::move(c));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makePrometheusExporterFactory() {
  return std::make_unique<PrometheusExporterFactory>();
}

}  // namespace otlpd::exporters::prometheus
