#include "extensions/health_check/health_check.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/http_server.h"
#include "common/logging.h"
#include "extensions/http_endpoint_extension.h"

namespace otlpd::extensions::health_check {
namespace {

namespace http = boost::beast::http;

class HealthHandler final : public common::HttpHandler {
 public:
  explicit HealthHandler(std::string path) : path_(std::move(path)) {}
  common::HttpResponse handle(common::HttpRequest&& request) override {
    std::string_view target = request.target();
    if (target.substr(0, target.find('?')) != path_) {
      return common::makeResponse(request, http::status::not_found, "text/plain", "not found\n");
    }
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return common::makeResponse(request, http::status::method_not_allowed, "text/plain",
                                  "use GET\n");
    }
    const bool up = serving.load();
    return common::makeResponse(request, up ? http::status::ok : http::status::service_unavailable,
                                "application/json",
                                up ? R"({"status":"Server available"})"
                                     "\n"
                                   : R"({"status":"Server not available"})"
                                     "\n");
  }
  std::atomic<bool> serving{false};

 private:
  std::string path_;
};

class HealthCheck final : public HttpEndpointExtension {
 public:
  HealthCheck(std::string id, std::string endpoint, std::string path,
              std::optional<common::TlsServerConfig> tls, common::MetricsRegistry& metrics)
      : HealthCheck(std::move(id), std::move(endpoint),
                    std::make_shared<HealthHandler>(std::move(path)), std::move(tls), metrics) {}

  // Extensions start before the pipelines, so health turns green only once the graph says so.
  void setPipelinesReady(bool ready) override { handler_->serving = ready; }

  absl::Status shutdown() override {
    handler_->serving = false;
    return HttpEndpointExtension::shutdown();
  }

 private:
  HealthCheck(std::string id, std::string endpoint, std::shared_ptr<HealthHandler> handler,
              std::optional<common::TlsServerConfig> tls, common::MetricsRegistry& metrics)
      : HttpEndpointExtension(std::move(id), std::move(endpoint), handler, 1, std::move(tls),
                              &metrics),
        handler_(std::move(handler)) {}

  std::shared_ptr<HealthHandler> handler_;
};

class HealthCheckFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "health_check"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    std::string endpoint = config.getString("endpoint", "localhost:13133");
    std::string path = config.getString("path", "/");
    std::optional<common::TlsServerConfig> tls = common::readTlsServerConfig(config);
    return std::make_unique<HealthCheck>(settings.id.toString(), std::move(endpoint),
                                         std::move(path), std::move(tls), settings.metrics);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeHealthCheckFactory() {
  return std::make_unique<HealthCheckFactory>();
}

}  // namespace otlpd::extensions::health_check
