#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/config_node.h"
#include "pipeline/component.h"
#include "pipeline/extension_directory.h"
#include "pipeline/factory.h"

namespace otlpd::pipeline {

// The running shape of a config: every component named in service.pipelines and
// service.extensions, created once and wired. Start order is downstream first (extensions, then
// each pipeline's exporters and processors — pipelines fed by a connector before the pipelines
// that feed it, the connector in between — then receivers) so no stage receives data before its
// consumers run; stop order is the reverse, so every stage drains into a consumer that is still
// there.
class Graph {
 public:
  // Reads receivers/processors/exporters/extensions from `root` and pipelines/extensions from
  // `service`. Every problem is added to root.errors(); the result is null when there was any.
  // `trace_stages` (service.telemetry.traces.level: detailed) puts a TracedConsumer in front of
  // every processor and exporter.
  static std::unique_ptr<Graph> build(config::ConfigNode& root, config::ConfigNode& service,
                                      const FactoryRegistry& factories,
                                      common::MetricsRegistry& metrics,
                                      MemoryBudget* memory = nullptr, bool trace_stages = false);

  absl::Status start(Host& host);
  absl::Status shutdown();
  // Asks every Flushable processor, connector and exporter, upstream first (the reverse of the
  // start order), to hand on what it holds; receivers keep running. Stops at the first component
  // that misses `deadline` (kDeadlineExceeded, naming it); otherwise the first other error, after
  // every component was asked.
  absl::Status flush(absl::Time deadline);

  struct Counts {
    size_t receivers = 0, processors = 0, exporters = 0, extensions = 0, pipelines = 0,
           connectors = 0;
  };
  Counts counts() const;

 private:
  struct Node {
    std::string description;  // "exporter debug (traces)"
    std::shared_ptr<Component> component;
    ComponentId id = {};  // set for extensions
  };
  Graph() = default;

  // First, so it is destroyed last: components created while running (load-balancing backends)
  // look extensions up in it.
  std::shared_ptr<ExtensionDirectory> directory_ = std::make_shared<ExtensionDirectory>();
  std::vector<Node> extensions_, receivers_;
  // Exporters, processors and connectors in creation order, which is downstream first.
  std::vector<Node> pipeline_nodes_;
  size_t exporter_count_ = 0, processor_count_ = 0, connector_count_ = 0;
  size_t pipelines_ = 0;
  size_t started_ = 0;  // how many nodes, in start order, were started
};

}  // namespace otlpd::pipeline
