#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/tls_server_config.h"
#include "config/config_node.h"
#include "pipeline/graph.h"
#include "pipeline/memory_budget.h"
#include "receivers/embedded/embedded_receiver.h"
#include "selfmetrics/periodic_reader.h"
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
  // The otlp exporter's `protocol`: http/protobuf (the default) or grpc (traces_endpoint is then
  // host:port), and `insecure` (gRPC: plaintext even for an https:// endpoint).
  std::string traces_protocol = "http/protobuf";
  bool traces_insecure = false;
  // Or an `embedded` receiver of otlpd's own pipelines (exporter `pipelines`, an otlpd
  // addition): spans enter there without a network hop. Empty: not this way.
  std::string traces_receiver;
  // service.telemetry.metrics.readers[].periodic: self-metrics pushed as OTLP, to an OTLP/HTTP
  // endpoint or into an `embedded` receiver of a metrics pipeline.
  struct MetricsReader {
    std::chrono::milliseconds interval{60000};
    std::string endpoint;                    // OTLP/HTTP URL of /v1/metrics, or host:port with grpc
    std::string protocol = "http/protobuf";  // or grpc
    bool insecure = false;
    std::string receiver;  // or an embedded receiver
  };
  std::vector<MetricsReader> metrics_readers;
  // service.telemetry.metrics.collector_names (otlpd's): pushed self-metrics under the
  // Collector's names (otelcol_receiver_accepted_spans...).
  bool metrics_collector_names = false;
  double traces_sampling_ratio = 1.0;  // for traces that start in otlpd
  // The batch span processor's schedule_delay, max_queue_size, max_export_batch_size.
  std::chrono::milliseconds traces_export_interval{1000};
  size_t traces_max_queue = 2048;
  size_t traces_max_batch = 512;
};

// A sender of otlpd's own telemetry (encoded OTLP requests) to an OTLP/HTTP endpoint; an endpoint
// without a path gets `default_path`. Requests carry the self-telemetry mark. `what` names the
// config key in errors and logs.
absl::StatusOr<std::function<absl::Status(const std::string&)>> selfTelemetryHttpSender(
    const std::string& endpoint, std::string_view default_path, std::string_view what);

// One running configuration: the component graph plus otlpd's own telemetry endpoint.
class Service final : public pipeline::Host {
 public:
  // Builds everything the config names without binding ports or opening files; every config
  // problem is in the returned errors.
  // `ingress` reaches the running `embedded` receivers: otlpd's own telemetry enters its
  // pipelines there when service.telemetry names one.
  static std::unique_ptr<Service> build(
      const YAML::Node& root, const pipeline::FactoryRegistry& factories,
      config::ConfigErrors& errors,
      std::shared_ptr<receivers::embedded::EmbeddedIngress> ingress = nullptr);
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
  // Everything accepted so far handed to the exporters and finished with, receivers untouched
  // (pipeline::Graph::flush).
  absl::Status flush(absl::Time deadline);

  void publishEndpoint(const std::string& key, const std::string& endpoint) override;
  std::map<std::string, std::string> endpoints() const;

 private:
  absl::Status startTracer();
  absl::Status startMetricsReaders();
  // Sends one encoded request: over OTLP/HTTP, or into an embedded receiver of our pipelines.
  using Sender = std::function<absl::Status(const std::string& body)>;
  absl::StatusOr<Sender> otlpHttpSender(const std::string& endpoint, std::string_view default_path,
                                        std::string_view what);
  absl::StatusOr<Sender> pipelineSender(pipeline::Signal signal, const std::string& receiver);
  Service() = default;
  absl::Status writeReadyFile(const std::string& path) const;
  std::unique_ptr<pipeline::Graph> buildGraph(const YAML::Node& root,
                                              const pipeline::FactoryRegistry& factories,
                                              config::ConfigErrors& errors,
                                              TelemetryConfig& telemetry);
  absl::Status startGraph();

  TelemetryConfig telemetry_;
  std::shared_ptr<receivers::embedded::EmbeddedIngress> ingress_;
  std::unique_ptr<common::MetricsRegistry> metrics_;
  pipeline::MemoryBudget memory_;
  std::string ready_file_;
  YAML::Node running_config_;
  std::unique_ptr<pipeline::Graph> graph_;
  std::unique_ptr<common::HttpServer> metrics_server_;
  std::unique_ptr<selftrace::Tracer> tracer_;  // service.telemetry.traces; null: off
  std::vector<std::unique_ptr<selfmetrics::PeriodicReader>> metrics_readers_;
  mutable std::mutex endpoints_mutex_;
  std::map<std::string, std::string> endpoints_;
};

}  // namespace otlpd::server
