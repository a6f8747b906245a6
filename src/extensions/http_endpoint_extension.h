// The lifecycle shared by extensions that are an HTTP endpoint (health_check, jaeger_query):
// bind at start, publish the bound address for --ready-file, stop at shutdown.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/http_server.h"
#include "common/tls_server_config.h"
#include "pipeline/component.h"

namespace otlpd::extensions {

class HttpEndpointExtension : public pipeline::Extension {
 public:
  absl::Status start(pipeline::Host& host) override;
  absl::Status shutdown() override;

 protected:
  // Handlers run on the `io_threads` I/O threads: more than one where a request may take long
  // (a query), so that one slow request does not hold up the others. `tls` (the extension's
  // `tls` key, common::readTlsServerConfig) serves HTTPS; its counters go to `metrics`.
  HttpEndpointExtension(std::string id, std::string endpoint,
                        std::shared_ptr<common::HttpHandler> handler, size_t io_threads = 1,
                        std::optional<common::TlsServerConfig> tls = std::nullopt,
                        common::MetricsRegistry* metrics = nullptr);
  const std::string& id() const { return id_; }

 private:
  std::string id_;
  std::string endpoint_;
  std::shared_ptr<common::HttpHandler> handler_;
  size_t io_threads_;
  std::optional<common::TlsServerConfig> tls_;
  common::MetricsRegistry* metrics_;
  std::unique_ptr<common::HttpServer> server_;
};

}  // namespace otlpd::extensions
