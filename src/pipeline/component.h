// The component model of the OpenTelemetry Collector: receivers feed consumers; processors are
// consumers that feed consumers; exporters are the last consumers; extensions stand beside.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pipeline/backpressure.h"
#include "pipeline/batch.h"
#include "pipeline/memory_budget.h"
#include "pipeline/signal.h"

namespace otlpd::common {
class MetricsRegistry;
}

namespace otlpd::pipeline {

class ExtensionDirectory;

// "type" or "type/name", as component ids are written in Collector configs.
struct ComponentId {
  std::string type;
  std::string name;

  static absl::StatusOr<ComponentId> parse(std::string_view text);
  std::string toString() const { return name.empty() ? type : type + "/" + name; }
  friend bool operator==(const ComponentId&, const ComponentId&) = default;
  friend auto operator<=>(const ComponentId&, const ComponentId&) = default;
};

enum class ComponentKind { kReceiver, kProcessor, kExporter, kExtension, kConnector };
std::string_view componentKindName(ComponentKind kind);  // "receiver", ...

// Takes ownership of a batch. OK means the consumer has it: exported, or held in a bounded
// queue it is responsible for. A failure says which kind it is, as the OTLP spec classifies:
// kInvalidArgument is permanent (retrying cannot help); kUnavailable and kResourceExhausted are
// retryable, so receivers ask the client to retry instead of dropping.
class Consumer {
 public:
  virtual ~Consumer() = default;
  virtual absl::Status consume(Batch&& batch) = 0;
  // Consumers that change batches get their own copy on fan-out; readers share one.
  virtual bool mutatesData() const { return false; }
};

// What the running service offers components while they start.
class Host {
 public:
  virtual ~Host() = default;
  // Where a listener bound (port 0 is resolved here), under a key like "otlp.grpc"; the service
  // logs it and writes it to --ready-file so tests and scripts find ports without guessing.
  virtual void publishEndpoint(const std::string& key, const std::string& endpoint) = 0;
};

class Component {
 public:
  virtual ~Component() = default;
  virtual absl::Status start(Host& host) = 0;
  // Stops taking new work and finishes or hands back what is in flight.
  virtual absl::Status shutdown() = 0;
};

// Optional, for components that hold accepted data between calls (a batch being filled, an
// exporter's queue, rows not yet written to a file): Collector::flush() asks every component of
// the graph that implements it, upstream first, so what one stage hands on is in the next before
// that one is asked. Components that pass data on within consume() need nothing.
class Flushable {
 public:
  virtual ~Flushable() = default;
  // Hands on everything accepted before the call and waits until the next stage has it; an
  // exporter returns once that data is finished with (delivered, written where its readers see
  // it, or failed and counted as such). Data accepted during the call may or may not be included.
  // kDeadlineExceeded when that is not done by `deadline` (the data stays where it is, nothing is
  // dropped); other errors say why it could not be handed on (and were counted).
  virtual absl::Status flush(absl::Time deadline) = 0;
};

class Receiver : public Component {};
class Exporter : public Component, public Consumer {};
class Processor : public Component, public Consumer {
 public:
  // Whether every batch this processor takes reaches its next consumer (changed perhaps, never
  // dropped whole) and that consumer's refusal is this processor's answer: then a stage beyond it
  // that refuses everything makes this processor refuse too, and receivers may refuse before
  // reading a request (pipeline/backpressure.h). False, the safe default, for processors that may
  // drop or hold a whole batch and answer OK (filter, samplers).
  virtual bool passesBackpressure() const { return false; }
};
// A connector joins pipelines, as in the Collector's `connectors:` section: it is an exporter at
// the end of some pipelines and a receiver at the start of others (spanmetrics turns the spans of
// a traces pipeline into metrics for a metrics pipeline; routing picks pipelines by condition).
class Connector : public Component {
 public:
  // The consumer that pipelines of `signal` end in where they name this connector as an exporter.
  // Called only for signals the factory was created with as inputs.
  virtual std::shared_ptr<Consumer> input(Signal signal) = 0;
};

class Extension : public Component {
 public:
  // Told when every pipeline is running (true) and when the service starts to stop (false).
  virtual void setPipelinesReady(bool /*ready*/) {}
};

// What every factory gets to create an instance.
struct CreateSettings {
  ComponentId id;
  common::MetricsRegistry& metrics;
  // The service-wide budget for telemetry in flight and queued; receivers reserve from it and
  // the memory_limiter sets its limit. Null where no budget applies (some tests).
  MemoryBudget* memory = nullptr;
  // The graph's extensions, for components that use one (`auth.authenticator`); null outside a
  // graph (some tests).
  ExtensionDirectory* extensions = nullptr;
};

// The next consumer of each signal a receiver serves; null where no pipeline takes the signal.
struct SignalConsumers {
  std::shared_ptr<Consumer> traces;
  std::shared_ptr<Consumer> metrics;
  std::shared_ptr<Consumer> logs;
  // Per signal (indexed by Signal), closed while a stage that signal's requests would reach
  // refuses everything (pipeline/backpressure.h); null where no stage can say so ahead.
  std::array<std::shared_ptr<const BackpressureGate>, 3> backpressure{};

  Consumer* get(Signal s) const {
    switch (s) {
      case Signal::kTraces:
        return traces.get();
      case Signal::kMetrics:
        return metrics.get();
      case Signal::kLogs:
        return logs.get();
    }
    return nullptr;
  }
};

// A pipeline in which a connector is a receiver: where the connector's output for it goes.
struct ConnectorOutput {
  std::string pipeline;  // "metrics/red", as named in service.pipelines
  Signal signal;
  std::shared_ptr<Consumer> head;  // the pipeline's first processor, or its exporters' fan-out
};

}  // namespace otlpd::pipeline
