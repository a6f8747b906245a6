#include "extensions/http_endpoint_extension.h"

#include "common/logging.h"

namespace otlpd::extensions {

HttpEndpointExtension::HttpEndpointExtension(std::string id, std::string endpoint,
                                             std::shared_ptr<common::HttpHandler> handler,
                                             size_t io_threads,
                                             std::optional<common::TlsServerConfig> tls,
                                             common::MetricsRegistry* metrics)
    : id_(std::move(id)),
      endpoint_(std::move(endpoint)),
      handler_(std::move(handler)),
      io_threads_(io_threads),
      tls_(std::move(tls)),
      metrics_(metrics) {}

absl::Status HttpEndpointExtension::start(pipeline::Host& host) {
  common::HttpServerOptions options;
  options.endpoint = endpoint_;
  options.max_body_bytes = 4096;  // GET endpoints: no request carries a real body
  options.io_threads = io_threads_;
  options.metrics = metrics_;
  options.listener = id_;
  if (tls_) {
    auto tls = common::TlsContextSource::create(*tls_, common::TlsAlpn::kHttp11, metrics_, id_);
    if (!tls.ok()) return tls.status();
    options.tls = *std::move(tls);
  }
  auto server = common::HttpServer::start(options, handler_);
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  host.publishEndpoint(id_, server_->boundEndpoint());
  logging::info(
      "extension listening",
      {{"extension", id_}, {"endpoint", server_->boundEndpoint()}, {"tls", tls_.has_value()}});
  return absl::OkStatus();
}

absl::Status HttpEndpointExtension::shutdown() {
  if (server_) server_->stop();
  server_.reset();
  return absl::OkStatus();
}

}  // namespace otlpd::extensions
