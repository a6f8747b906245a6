#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/http_server.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "pipeline/graph.h"

namespace otlpd::server {

struct TelemetryConfig {
  logging::Level log_level = logging::Level::kInfo;
  logging::Format log_format = logging::Format::kJson;
  std::string metrics_address = "localhost:8888";  // empty: no /metrics endpoint
};

// One running configuration: the component graph plus otlpd's own telemetry endpoint.
class Service final : public pipeline::Host {
 public:
  // Builds everything the config names without binding ports or opening files; every config
  // problem is in the returned errors.
  static std::unique_ptr<Service> build(const YAML::Node& root,
                                        const pipeline::FactoryRegistry& factories,
                                        config::ConfigErrors& errors);
  ~Service() override;

  const TelemetryConfig& telemetry() const { return telemetry_; }
  common::MetricsRegistry& metrics() { return *metrics_; }

  // Starts the telemetry endpoint and the graph, then writes `ready_file` (if not empty): a
  // JSON object of every published endpoint, written atomically.
  absl::Status start(const std::string& ready_file);
  absl::Status shutdown();

  void publishEndpoint(const std::string& key, const std::string& endpoint) override;
  std::map<std::string, std::string> endpoints() const;

 private:
  Service() = default;
  absl::Status writeReadyFile(const std::string& path) const;

  TelemetryConfig telemetry_;
  std::unique_ptr<common::MetricsRegistry> metrics_;
  std::unique_ptr<pipeline::Graph> graph_;
  std::unique_ptr<common::HttpServer> metrics_server_;
  mutable std::mutex endpoints_mutex_;
  std::map<std::string, std::string> endpoints_;
};

}  // namespace otlpd::server
