// The lifecycle shared by extensions that are an HTTP endpoint (health_check, jaeger_query):
// bind at start, publish the bound address for --ready-file, stop at shutdown.
#pragma once

#include <memory>
#include <string>

#include "common/http_server.h"
#include "pipeline/component.h"

namespace otlpd::extensions {

class HttpEndpointExtension : public pipeline::Extension {
 public:
  absl::Status start(pipeline::Host& host) override;
  absl::Status shutdown() override;

 protected:
  HttpEndpointExtension(std::string id, std::string endpoint,
                        std::shared_ptr<common::HttpHandler> handler);
  const std::string& id() const { return id_; }

 private:
  std::string id_;
  std::string endpoint_;
  std::shared_ptr<common::HttpHandler> handler_;
  std::unique_ptr<common::HttpServer> server_;
};

}  // namespace otlpd::extensions
