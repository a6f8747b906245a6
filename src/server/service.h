#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/http_server.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/tls_server_config.h"
#include "config/config_node.h"
#include "pipeline/graph.h"
#include "pipeline/memory_budget.h"
#include "selftrace/tracer.h"

namespace otlpd::server {

struct TelemetryConfig {
  logging::Level log_level = logging::Level::kInfo;
  logging::Format log_format = logging::Format::kJson;
  std::string metrics_address = "localhost:8888";  // empty: no /metrics endpoint
  // service.telemetry.metrics.tls: HTTPS for /metrics (an otlpd addition; the Collector's
  // telemetry has no TLS).
  std::optional<common::TlsServerConfig> metrics_tls;
  // service.telemetry.traces: otlpd's own spans (selftrace/), off unless an exporter is named.
  std::string traces_level = "basic";  // none | basic | detailed
  std::string traces_endpoint;         // OTLP/HTTP URL of /v1/traces; empty: off
  double traces_sampling_ratio = 1.0;  // for traces that start in otlpd
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
  pipeline::MemoryBudget& memory() { return memory_; }

  // Starts the telemetry endpoint and the graph, then writes `ready_file` (if not empty): a
  // JSON object of every published endpoint, written atomically.
  absl::Status start(const std::string& ready_file);
  // Builds the graph of `root` first; with any config error the running graph stays as it is
  // and the errors are returned. Otherwise the running graph is stopped (receivers first, so
  // everything in flight drains into its exporters) and the new one started. Self-metrics,
  // the memory budget and the telemetry endpoint carry over; service.telemetry changes need a
  // restart.
  absl::Status reload(const YAML::Node& root, const pipeline::FactoryRegistry& factories,
                      config::ConfigErrors& errors);
  absl::Status shutdown();

  void publishEndpoint(const std::string& key, const std::string& endpoint) override;
  std::map<std::string, std::string> endpoints() const;

 private:
  absl::Status startTracer();
  Service() = default;
  absl::Status writeReadyFile(const std::string& path) const;
  std::unique_ptr<pipeline::Graph> buildGraph(const YAML::Node& root,
                                              const pipeline::FactoryRegistry& factories,
                                              config::ConfigErrors& errors,
                                              TelemetryConfig& telemetry);
  absl::Status startGraph();

  TelemetryConfig telemetry_;
  std::unique_ptr<common::MetricsRegistry> metrics_;
  pipeline::MemoryBudget memory_;
  std::string ready_file_;
  YAML::Node running_config_;
  std::unique_ptr<pipeline::Graph> graph_;
  std::unique_ptr<common::HttpServer> metrics_server_;
  std::unique_ptr<selftrace::Tracer> tracer_;  // service.telemetry.traces; null: off
  mutable std::mutex endpoints_mutex_;
  std::map<std::string, std::string> endpoints_;
};

}  // namespace otlpd::server
