#include "extensions/jaegerremotesampling/jaegerremotesampling.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/http_server.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/tls_server_config.h"
#include "extensions/http_endpoint_extension.h"
#include "jaeger/sampling_strategies.h"
#include "query/params.h"

namespace otlpd::extensions::jaegerremotesampling {
namespace {

namespace http = boost::beast::http;

// Holds the strategies the file said last; the HTTP threads read, the reload thread replaces.
class StrategySource {
 public:
  explicit StrategySource(std::string path) : path_(std::move(path)) {}

  // Reads the file; on a problem keeps what it had (counted and logged by the caller).
  absl::Status load() {
    auto text = common::readSmallFile(path_, size_t{16} << 20);
    if (!text.ok()) return text.status();
    // Unchanged, or the same broken text as last time (reported once, not every interval).
    if (*text == last_text_ || *text == last_failed_text_) return absl::OkStatus();
    auto parsed = jaeger::SamplingStrategies::parse(*text);
    if (!parsed.ok()) {
      last_failed_text_ = *std::move(text);
      return parsed.status();
    }
    auto next = std::make_shared<const jaeger::SamplingStrategies>(*std::move(parsed));
    last_text_ = *std::move(text);
    std::lock_guard lock(mu_);
    current_ = std::move(next);
    return absl::OkStatus();
  }

  std::shared_ptr<const jaeger::SamplingStrategies> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  std::string last_text_, last_failed_text_;  // only the loading thread touches them
  mutable std::mutex mu_;
  std::shared_ptr<const jaeger::SamplingStrategies> current_ =
      std::make_shared<const jaeger::SamplingStrategies>();
};

class SamplingHandler final : public common::HttpHandler {
 public:
  explicit SamplingHandler(std::shared_ptr<StrategySource> source) : source_(std::move(source)) {}

  common::HttpResponse handle(common::HttpRequest&& request) override {
    const std::string_view target = request.target();
    const size_t q = target.find('?');
    const std::string_view path = target.substr(0, q);
    if (path != "/sampling" && path != "/api/sampling") {
      return common::makeResponse(request, http::status::not_found, "text/plain",
                                  "not found: use GET /sampling?service=<name>\n");
    }
    if (request.method() != http::verb::get) {
      return common::makeResponse(request, http::status::method_not_allowed, "text/plain",
                                  "use GET\n");
    }
    query::Params params(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
    const std::vector<std::string> services = params.all("service");
    if (services.size() != 1 || services[0].empty()) {
      return common::makeResponse(request, http::status::bad_request, "text/plain",
                                  "'service' parameter must be provided once\n");
    }
    return common::makeResponse(request, http::status::ok, "application/json",
                                source_->current()->responseFor(services[0]));
  }

 private:
  std::shared_ptr<StrategySource> source_;
};

class RemoteSampling final : public HttpEndpointExtension {
 public:
  RemoteSampling(std::string id, std::string endpoint, std::shared_ptr<StrategySource> source,
                 absl::Duration reload_interval, std::optional<common::TlsServerConfig> tls,
                 common::MetricsRegistry& metrics)
      : HttpEndpointExtension(id, std::move(endpoint), std::make_shared<SamplingHandler>(source), 1,
                              std::move(tls), &metrics),
        source_(std::move(source)),
        reload_interval_(reload_interval),
        reload_failures_(&metrics.counter(
            "otlpd_jaegerremotesampling_reload_failures_total",
            "Sampling strategy file reads or parses that failed (the previous strategies stay).",
            {{"extension", id}})) {}

  ~RemoteSampling() override { stopReloading(); }

  absl::Status start(pipeline::Host& host) override {
    // A file that cannot be read or parsed at start is a start error, as in the Collector.
    if (absl::Status s = source_->load(); !s.ok()) {
      return absl::InvalidArgumentError(
          strCat("jaegerremotesampling: ", source_->path(), ": ", s.message()));
    }
    if (absl::Status s = HttpEndpointExtension::start(host); !s.ok()) return s;
    if (reload_interval_ > absl::ZeroDuration()) {
      reloader_ = std::thread([this] { reloadLoop(); });
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    stopReloading();
    return HttpEndpointExtension::shutdown();
  }

 private:
  void reloadLoop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, absl::ToChronoMilliseconds(reload_interval_),
                         [this] { return stopping_; })) {
      lock.unlock();
      if (absl::Status s = source_->load(); !s.ok()) {
        reload_failures_->add();
        logging::warn("sampling strategies not reloaded; the previous ones stay",
                      {{"file", source_->path()}, {"error", s}});
      }
      lock.lock();
    }
  }

  void stopReloading() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (reloader_.joinable()) reloader_.join();
  }

  std::shared_ptr<StrategySource> source_;
  absl::Duration reload_interval_;
  common::Counter* reload_failures_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread reloader_;
};

class Factory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "jaegerremotesampling"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    config::ConfigNode source = config.child("source");
    const std::string file = source.getString("file", "");
    const absl::Duration reload = source.getDuration("reload_interval", absl::ZeroDuration());
    if (source.has("remote")) {
      (void)source.getYaml("remote");  // reported once, below, not also as an unknown key
      source.addError("remote", "a remote source is not supported by otlpd; use file");
    }
    if (file.empty() && !source.has("remote")) source.addError("file", "is required");
    source.rejectUnknownKeys();
    if (config.has("grpc")) {
      (void)config.getYaml("grpc");
      config.addError("grpc", "otlpd serves the sampling strategies over http only");
    }
    config::ConfigNode http_node = config.child("http");
    const std::string endpoint = http_node.getString("endpoint", "localhost:5778");
    std::optional<common::TlsServerConfig> tls = common::readTlsServerConfig(http_node);
    http_node.rejectUnknownKeys();
    return std::make_unique<RemoteSampling>(settings.id.toString(), endpoint,
                                            std::make_shared<StrategySource>(file), reload,
                                            std::move(tls), settings.metrics);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeJaegerRemoteSamplingFactory() {
  return std::make_unique<Factory>();
}

}  // namespace otlpd::extensions::jaegerremotesampling
