// Factories know a component type, which signals it serves, and how to build an instance from
// its config. The core wires components only through these; it knows none by name.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config_node.h"
#include "pipeline/component.h"

namespace otlpd::pipeline {

class Factory {
 public:
  virtual ~Factory() = default;
  virtual std::string_view type() const = 0;
  // Other names the type is known by (the Collector's spellings, e.g. "otlphttp").
  virtual std::vector<std::string_view> aliases() const { return {}; }
  virtual ComponentKind kind() const = 0;
  virtual bool supports(Signal signal) const = 0;
};

// Creating a component reads and validates its config (errors go to config.errors(), with
// paths) but binds no port and opens no file: that happens in start(). So `otlpd validate`
// builds the whole graph without side effects.
class ReceiverFactory : public Factory {
 public:
  ComponentKind kind() const final { return ComponentKind::kReceiver; }
  virtual absl::StatusOr<std::unique_ptr<Receiver>> create(const CreateSettings& settings,
                                                           config::ConfigNode& config,
                                                           SignalConsumers next) const = 0;
};

class ProcessorFactory : public Factory {
 public:
  ComponentKind kind() const final { return ComponentKind::kProcessor; }
  virtual absl::StatusOr<std::unique_ptr<Processor>> create(
      const CreateSettings& settings, config::ConfigNode& config, Signal signal,
      std::shared_ptr<Consumer> next) const = 0;
};

class ExporterFactory : public Factory {
 public:
  ComponentKind kind() const final { return ComponentKind::kExporter; }
  // Exporters that do not queue (and retry) on their own get a bounded queue from the graph, so
  // that a slow one never holds up the other exporters of a pipeline.
  virtual bool queuesInternally() const { return false; }
  virtual absl::StatusOr<std::unique_ptr<Exporter>> create(const CreateSettings& settings,
                                                           config::ConfigNode& config,
                                                           Signal signal) const = 0;
};

// A connector type says which signal pairs it joins (exporter side → receiver side); it is
// created once per id with every pipeline it joins, after the pipelines it feeds were built.
class ConnectorFactory : public Factory {
 public:
  ComponentKind kind() const final { return ComponentKind::kConnector; }
  virtual bool supportsPair(Signal from, Signal to) const = 0;
  bool supports(Signal signal) const final {
    for (Signal other : kAllSignals) {
      if (supportsPair(signal, other) || supportsPair(other, signal)) return true;
    }
    return false;
  }
  // `inputs`: the signals of the pipelines that export to it; `outputs`: the pipelines it
  // receives for, with their heads. Errors in the config go to config.errors() as for others.
  virtual absl::StatusOr<std::unique_ptr<Connector>> create(
      const CreateSettings& settings, config::ConfigNode& config, std::vector<Signal> inputs,
      std::vector<ConnectorOutput> outputs) const = 0;
};

class ExtensionFactory : public Factory {
 public:
  ComponentKind kind() const final { return ComponentKind::kExtension; }
  bool supports(Signal) const final { return false; }
  virtual absl::StatusOr<std::unique_ptr<Extension>> create(const CreateSettings& settings,
                                                            config::ConfigNode& config) const = 0;
};

// The set of component types a binary knows, filled from one explicit list at start-up.
class FactoryRegistry {
 public:
  void add(std::unique_ptr<Factory> factory);
  const Factory* find(ComponentKind kind, std::string_view type) const;
  std::vector<const Factory*> all() const;

 private:
  std::vector<std::unique_ptr<Factory>> factories_;
};

}  // namespace otlpd::pipeline
