#include "pipeline/graph.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "pipeline/exporter_queue.h"
#include "pipeline/fanout.h"
#include "pipeline/traced_consumer.h"

namespace otlpd::pipeline {
namespace {

// A component id as written in a pipeline list, with where it was written.
struct IdRef {
  ComponentId id;
  std::string path;  // "service.pipelines.traces.exporters[1]"
  YAML::Mark mark;
};

struct PipelineSpec {
  std::string name;  // "traces" or "traces/2"
  Signal signal;
  std::vector<IdRef> receivers, processors, exporters;
};

// The section of the config that defines components of one kind, e.g. `exporters:`.
class Section {
 public:
  Section(config::ConfigNode& root, std::string_view key, ComponentKind kind,
          const FactoryRegistry& factories)
      : node_(root.child(key)), kind_(kind), factories_(factories) {}

  // The factory and config of a defined component; records an error and returns nullopt if the
  // id is not defined here or its type is unknown.
  const Factory* factoryFor(const IdRef& ref) {
    if (!(node_.yaml().IsMap() && node_.yaml()[ref.id.toString()])) {
      node_.errors().add(ref.path, ref.mark,
                         strCat(componentKindName(kind_), " '", ref.id.toString(),
                                "' is used but not defined in ", node_.path()));
      return nullptr;
    }
    return factories_.find(kind_, ref.id.type);
  }

  // Config of a component, read with errors reported once however often it is created.
  config::ConfigNode configFor(const ComponentId& id, config::ConfigErrors& scratch) {
    const std::string key = id.toString();
    if (reported_.insert(key).second) return node_.child(key);
    return config::ConfigNode(node_.yaml()[key], strCat(node_.path(), ".", key), scratch);
  }

  bool defines(const ComponentId& id) const {
    return node_.yaml().IsMap() && node_.yaml()[id.toString()];
  }

  // Every defined id must parse and have a known type, used or not.
  void checkDefinitions() {
    if (!node_.yaml().IsMap()) return;
    for (const auto& kv : node_.yaml()) {
      const std::string key = kv.first.Scalar();
      const std::string path = strCat(node_.path(), ".", key);
      auto id = ComponentId::parse(key);
      if (!id.ok()) {
        node_.errors().add(path, kv.first.Mark(), std::string(id.status().message()));
      } else if (factories_.find(kind_, id->type) == nullptr) {
        node_.errors().add(
            path, kv.first.Mark(),
            strCat("unknown ", componentKindName(kind_), " type '", id->type, "'", knownTypes()));
      }
      // Definitions that no pipeline uses are still accepted, as the Collector does.
      node_.child(key);
    }
  }

 private:
  std::string knownTypes() const {
    std::vector<std::string> names;
    for (const Factory* f : factories_.all()) {
      if (f->kind() == kind_) names.emplace_back(f->type());
    }
    if (names.empty()) return "";
    return strCat(" (known: ", absl::StrJoin(names, ", "), ")");
  }

  config::ConfigNode node_;
  ComponentKind kind_;
  const FactoryRegistry& factories_;
  std::set<std::string> reported_;
};

std::vector<IdRef> parseIdList(config::ConfigNode& pipeline, std::string_view key) {
  std::vector<IdRef> ids;
  const std::vector<std::string> names = pipeline.getStringList(key);
  const YAML::Node& list = pipeline.yaml()[std::string(key)];
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = strCat(pipeline.path(), ".", key, "[", i, "]");
    const YAML::Mark mark =
        list.IsSequence() && i < list.size() ? list[i].Mark() : YAML::Mark::null_mark();
    auto id = ComponentId::parse(names[i]);
    if (!id.ok()) {
      pipeline.errors().add(path, mark, std::string(id.status().message()));
      continue;
    }
    ids.push_back(IdRef{*std::move(id), path, mark});
  }
  return ids;
}

std::vector<PipelineSpec> parsePipelines(config::ConfigNode& service) {
  std::vector<PipelineSpec> out;
  config::ConfigNode pipelines = service.child("pipelines");
  if (!pipelines.yaml().IsMap() || pipelines.yaml().size() == 0) {
    service.addError("pipelines", "at least one pipeline is required");
    return out;
  }
  for (const auto& kv : pipelines.yaml()) {
    const std::string name = kv.first.Scalar();
    config::ConfigNode p = pipelines.child(name);
    auto id = ComponentId::parse(name);
    std::optional<Signal> signal = id.ok() ? parseSignal(id->type) : std::nullopt;
    if (!signal) {
      pipelines.addError(name, "pipeline names start with traces, metrics or logs (e.g. traces/2)");
      continue;
    }
    PipelineSpec spec{name, *signal, parseIdList(p, "receivers"), parseIdList(p, "processors"),
                      parseIdList(p, "exporters")};
    if (spec.receivers.empty()) p.addError("receivers", "a pipeline needs at least one receiver");
    if (spec.exporters.empty()) p.addError("exporters", "a pipeline needs at least one exporter");
    p.rejectUnknownKeys();
    out.push_back(std::move(spec));
  }
  return out;
}

bool checkSignal(const Factory* factory, const IdRef& ref, const PipelineSpec& p,
                 config::ConfigErrors& errors) {
  if (factory->supports(p.signal)) return true;
  errors.add(ref.path, ref.mark,
             strCat(componentKindName(factory->kind()), " '", ref.id.toString(),
                    "' does not support ", signalName(p.signal)));
  return false;
}

}  // namespace

namespace {

// Which pipelines name a connector, on which side.
struct ConnectorUse {
  std::vector<size_t> as_exporter;  // pipelines that end in it
  std::vector<size_t> as_receiver;  // pipelines it feeds
  std::vector<const IdRef*> exporter_refs;
  std::vector<const IdRef*> receiver_refs;
};

// Pipelines that feed a connector are built after the pipelines it feeds (their heads must
// exist), so the build order is a topological order of "pipeline → pipelines it feeds through a
// connector". Returns the order, or reports the cycle.
std::optional<std::vector<size_t>> buildOrder(const std::vector<PipelineSpec>& pipelines,
                                              const std::map<ComponentId, ConnectorUse>& uses,
                                              config::ConfigNode& service) {
  std::vector<std::vector<std::pair<size_t, const ComponentId*>>> feeds(pipelines.size());
  for (const auto& [id, use] : uses) {
    for (size_t from : use.as_exporter) {
      for (size_t to : use.as_receiver) feeds[from].push_back({to, &id});
    }
  }
  enum class Mark { kNone, kVisiting, kDone };
  std::vector<Mark> marks(pipelines.size(), Mark::kNone);
  std::vector<size_t> order;
  std::optional<std::string> cycle;
  std::function<void(size_t)> visit = [&](size_t p) {
    marks[p] = Mark::kVisiting;
    for (const auto& [next, via] : feeds[p]) {
      if (cycle) return;
      if (marks[next] == Mark::kVisiting) {
        cycle =
            strCat("pipelines form a cycle: ", pipelines[p].name, " feeds ", pipelines[next].name,
                   " through connector '", via->toString(), "', which feeds back into it");
        return;
      }
      if (marks[next] == Mark::kNone) visit(next);
    }
    marks[p] = Mark::kDone;
    order.push_back(p);  // after every pipeline it feeds
  };
  for (size_t p = 0; p < pipelines.size() && !cycle; ++p) {
    if (marks[p] == Mark::kNone) visit(p);
  }
  if (cycle) {
    service.addError("pipelines", *cycle);
    return std::nullopt;
  }
  return order;
}

}  // namespace

std::unique_ptr<Graph> Graph::build(config::ConfigNode& root, config::ConfigNode& service,
                                    const FactoryRegistry& factories,
                                    common::MetricsRegistry& metrics, MemoryBudget* memory,
                                    bool trace_stages) {
  config::ConfigErrors& errors = root.errors();
  const size_t errors_before = errors.size();
  std::unique_ptr<Graph> graph(new Graph());

  Section receivers(root, "receivers", ComponentKind::kReceiver, factories);
  Section processors(root, "processors", ComponentKind::kProcessor, factories);
  Section exporters(root, "exporters", ComponentKind::kExporter, factories);
  Section extensions(root, "extensions", ComponentKind::kExtension, factories);
  Section connectors(root, "connectors", ComponentKind::kConnector, factories);
  for (Section* s : {&receivers, &processors, &exporters, &extensions, &connectors}) {
    s->checkDefinitions();
  }

  ExtensionDirectory* directory = graph->directory_.get();
  {
    const YAML::Node& root_yaml = root.yaml();
    if (root_yaml.IsMap() && root_yaml["extensions"]) {
      directory->setDefinitions(root_yaml["extensions"]);
    }
  }
  // What every factory gets; `id` is set per component.
  auto settingsFor = [&](const ComponentId& id) {
    return CreateSettings{id, metrics, memory, directory};
  };

  config::ConfigErrors scratch;  // repeated reads of one component's config
  std::vector<PipelineSpec> pipelines = parsePipelines(service);
  graph->pipelines_ = pipelines.size();

  // A connector id stands in pipelines' exporter and receiver lists; an id defined under
  // `connectors:` is the connector there.
  std::map<ComponentId, ConnectorUse> connector_uses;
  for (size_t i = 0; i < pipelines.size(); ++i) {
    for (const IdRef& ref : pipelines[i].exporters) {
      if (!connectors.defines(ref.id)) continue;
      connector_uses[ref.id].as_exporter.push_back(i);
      connector_uses[ref.id].exporter_refs.push_back(&ref);
    }
    for (const IdRef& ref : pipelines[i].receivers) {
      if (!connectors.defines(ref.id)) continue;
      connector_uses[ref.id].as_receiver.push_back(i);
      connector_uses[ref.id].receiver_refs.push_back(&ref);
    }
  }
  std::set<ComponentId> unusable_connectors;  // reported; left out of the build
  for (const auto& [id, use] : connector_uses) {
    unusable_connectors.insert(id);
    const size_t connector_errors_before = errors.size();
    const IdRef& first = use.exporter_refs.empty() ? *use.receiver_refs[0] : *use.exporter_refs[0];
    if (exporters.defines(id) || receivers.defines(id)) {
      errors.add(first.path, first.mark,
                 strCat("'", id.toString(),
                        "' is defined both as a connector and as an exporter or receiver"));
      continue;
    }
    const auto* f =
        static_cast<const ConnectorFactory*>(factories.find(ComponentKind::kConnector, id.type));
    if (f == nullptr) continue;  // reported by checkDefinitions
    if (use.as_receiver.empty() || use.as_exporter.empty()) {
      errors.add(first.path, first.mark,
                 strCat("connector '", id.toString(), "' is used as ",
                        use.as_receiver.empty() ? "an exporter" : "a receiver", " but not as ",
                        use.as_receiver.empty() ? "a receiver" : "an exporter",
                        " in any pipeline (a connector joins pipelines)"));
      continue;
    }
    // Every side must be joined to something the type supports.
    for (size_t k = 0; k < use.as_exporter.size(); ++k) {
      const Signal from = pipelines[use.as_exporter[k]].signal;
      bool joined = false;
      for (size_t to : use.as_receiver) joined |= f->supportsPair(from, pipelines[to].signal);
      if (!joined) {
        errors.add(use.exporter_refs[k]->path, use.exporter_refs[k]->mark,
                   strCat("connector '", id.toString(), "' cannot send ", signalName(from),
                          " to any pipeline it feeds"));
      }
    }
    for (size_t k = 0; k < use.as_receiver.size(); ++k) {
      const Signal to = pipelines[use.as_receiver[k]].signal;
      bool joined = false;
      for (size_t from : use.as_exporter) joined |= f->supportsPair(pipelines[from].signal, to);
      if (!joined) {
        errors.add(use.receiver_refs[k]->path, use.receiver_refs[k]->mark,
                   strCat("connector '", id.toString(), "' cannot produce ", signalName(to),
                          " from any pipeline that exports to it"));
      }
    }
    if (errors.size() == connector_errors_before) unusable_connectors.erase(id);
  }
  std::optional<std::vector<size_t>> order = buildOrder(pipelines, connector_uses, service);
  if (!order) return nullptr;

  // Exporters are shared by every pipeline of a signal that names them.
  std::map<std::pair<ComponentId, Signal>, std::shared_ptr<Exporter>> exporter_instances;
  std::map<ComponentId, std::shared_ptr<Connector>> connector_instances;
  std::vector<std::shared_ptr<Consumer>> heads(pipelines.size());
  // Per receiver and signal, the heads of the pipelines it feeds, and the stages whose
  // backpressure reaches it through them (pipeline/backpressure.h).
  std::map<ComponentId, std::map<Signal, std::vector<std::shared_ptr<Consumer>>>> receiver_heads;
  std::map<ComponentId, std::map<Signal, BackpressureSet>> receiver_backpressure;

  // Created when the first pipeline that exports to it is built: every pipeline it feeds is
  // built by then.
  auto connectorFor = [&](const ComponentId& id) -> Connector* {
    if (unusable_connectors.count(id) != 0) return nullptr;
    auto& instance = connector_instances[id];
    if (instance) return instance.get();
    const ConnectorUse& use = connector_uses.at(id);
    std::vector<Signal> inputs;
    for (size_t from : use.as_exporter) {
      if (std::find(inputs.begin(), inputs.end(), pipelines[from].signal) == inputs.end()) {
        inputs.push_back(pipelines[from].signal);
      }
    }
    std::vector<ConnectorOutput> outputs;
    for (size_t to : use.as_receiver) {
      if (heads[to]) outputs.push_back({pipelines[to].name, pipelines[to].signal, heads[to]});
    }
    const auto* f =
        static_cast<const ConnectorFactory*>(factories.find(ComponentKind::kConnector, id.type));
    config::ConfigNode cfg = connectors.configFor(id, scratch);
    auto created = f->create(settingsFor(id), cfg, std::move(inputs), std::move(outputs));
    cfg.rejectUnknownKeys();
    if (!created.ok()) {
      errors.add(cfg.path(), YAML::Mark::null_mark(), std::string(created.status().message()));
      return nullptr;
    }
    instance = std::shared_ptr<Connector>(std::move(*created));
    graph->pipeline_nodes_.push_back({strCat("connector ", id.toString()), instance});
    ++graph->connector_count_;
    return instance.get();
  };

  auto traced = [trace_stages](std::string name,
                               std::shared_ptr<Consumer> consumer) -> std::shared_ptr<Consumer> {
    if (!trace_stages) return consumer;
    return std::make_shared<TracedConsumer>(std::move(name), std::move(consumer));
  };
  for (size_t index : *order) {
    const PipelineSpec& p = pipelines[index];
    std::vector<std::shared_ptr<Consumer>> sinks;
    // The fan-out answers with the first failure: any sink's backpressure is the pipeline's.
    // A connector's input says nothing ahead (what it feeds is up to it).
    BackpressureSet backpressure;
    for (const IdRef& ref : p.exporters) {
      const ComponentId& id = ref.id;
      if (connectors.defines(id)) {
        if (Connector* connector = connectorFor(id)) {
          // Null when none of the pipelines it feeds could be built (their errors are reported).
          if (auto input = connector->input(p.signal)) sinks.push_back(std::move(input));
        }
        continue;
      }
      const Factory* f = exporters.factoryFor(ref);
      if (f == nullptr || !checkSignal(f, ref, p, errors)) continue;
      auto& instance = exporter_instances[{id, p.signal}];
      if (!instance) {
        config::ConfigNode cfg = exporters.configFor(id, scratch);
        auto created =
            static_cast<const ExporterFactory*>(f)->create(settingsFor(id), cfg, p.signal);
        cfg.rejectUnknownKeys();
        if (!created.ok()) {
          errors.add(cfg.path(), YAML::Mark::null_mark(), std::string(created.status().message()));
          continue;
        }
        std::unique_ptr<Exporter> exporter = std::move(*created);
        if (!static_cast<const ExporterFactory*>(f)->queuesInternally()) {
          exporter = makeQueuedExporter(std::move(exporter), id.toString(), p.signal, metrics);
        }
        instance = std::shared_ptr<Exporter>(std::move(exporter));
        graph->pipeline_nodes_.push_back(
            {strCat("exporter ", id.toString(), " (", signalName(p.signal), ")"), instance});
        ++graph->exporter_count_;
      }
      if (auto* reporter = dynamic_cast<BackpressureReporter*>(instance.get())) {
        backpressure.add(&reporter->backpressure());
      }
      sinks.push_back(traced(strCat("exporter ", id.toString()), instance));
    }
    if (sinks.empty()) continue;

    std::shared_ptr<Consumer> head = fanOut(std::move(sinks));
    for (auto it = p.processors.rbegin(); it != p.processors.rend(); ++it) {
      const Factory* f = processors.factoryFor(*it);
      if (f == nullptr || !checkSignal(f, *it, p, errors)) continue;
      config::ConfigNode cfg = processors.configFor(it->id, scratch);
      auto created =
          static_cast<const ProcessorFactory*>(f)->create(settingsFor(it->id), cfg, p.signal, head);
      cfg.rejectUnknownKeys();
      if (!created.ok()) {
        errors.add(cfg.path(), YAML::Mark::null_mark(), std::string(created.status().message()));
        continue;
      }
      std::shared_ptr<Processor> processor(std::move(*created));
      // Beyond a processor that may answer OK without asking its next consumer (a filter that
      // drops a whole batch), that consumer's refusals are not the pipeline's.
      if (!processor->passesBackpressure()) backpressure = BackpressureSet();
      if (auto* reporter = dynamic_cast<BackpressureReporter*>(processor.get())) {
        backpressure.add(&reporter->backpressure());
      }
      graph->pipeline_nodes_.push_back(
          {strCat("processor ", it->id.toString(), " in ", p.name), processor});
      ++graph->processor_count_;
      head = traced(strCat("processor ", it->id.toString()), processor);
    }
    heads[index] = head;
    for (const IdRef& ref : p.receivers) {
      if (connectors.defines(ref.id)) continue;  // the connector holds this pipeline's head
      const Factory* f = receivers.factoryFor(ref);
      if (f == nullptr || !checkSignal(f, ref, p, errors)) continue;
      receiver_heads[ref.id][p.signal].push_back(head);
      receiver_backpressure[ref.id][p.signal].addAll(backpressure);
    }
  }

  // One receiver instance serves every pipeline that names it.
  for (auto& [id, heads] : receiver_heads) {
    SignalConsumers next;
    for (auto& [signal, list] : heads) {
      std::shared_ptr<Consumer> c = fanOut(std::move(list));
      if (signal == Signal::kTraces) next.traces = c;
      if (signal == Signal::kMetrics) next.metrics = c;
      if (signal == Signal::kLogs) next.logs = c;
      next.backpressure[static_cast<size_t>(signal)] = receiver_backpressure[id][signal].makeGate();
    }
    const Factory* f = factories.find(ComponentKind::kReceiver, id.type);
    config::ConfigNode cfg = receivers.configFor(id, scratch);
    auto created =
        static_cast<const ReceiverFactory*>(f)->create(settingsFor(id), cfg, std::move(next));
    cfg.rejectUnknownKeys();
    if (!created.ok()) {
      errors.add(cfg.path(), YAML::Mark::null_mark(), std::string(created.status().message()));
      continue;
    }
    graph->receivers_.push_back(
        {strCat("receiver ", id.toString()), std::shared_ptr<Receiver>(std::move(*created))});
  }

  for (const IdRef& ref : parseIdList(service, "extensions")) {
    const ComponentId* id = &ref.id;
    const Factory* f = extensions.factoryFor(ref);
    if (f == nullptr) {
      // Defined with an unknown type (reported): not also "not defined" where it is used.
      if (extensions.defines(*id)) directory->enable(*id, nullptr);
      continue;
    }
    config::ConfigNode cfg = extensions.configFor(*id, scratch);
    auto created = static_cast<const ExtensionFactory*>(f)->create(settingsFor(*id), cfg);
    cfg.rejectUnknownKeys();
    if (!created.ok()) {
      errors.add(cfg.path(), YAML::Mark::null_mark(), std::string(created.status().message()));
      directory->enable(*id, nullptr);
      continue;
    }
    auto instance = std::shared_ptr<Extension>(std::move(*created));
    directory->enable(*id, instance);
    graph->extensions_.push_back({strCat("extension ", id->toString()), instance, *id});
  }
  // Every extension exists now: bind (or report) what components use.
  directory->resolve();
  // Extensions others use (authenticators) start first and stop last.
  std::stable_partition(graph->extensions_.begin(), graph->extensions_.end(),
                        [directory](const Node& n) { return directory->used(n.id); });

  if (errors.size() != errors_before) return nullptr;
  return graph;
}

absl::Status Graph::start(Host& host) {
  for (auto* group : {&extensions_, &pipeline_nodes_, &receivers_}) {
    for (Node& n : *group) {
      absl::Status s = n.component->start(host);
      if (!s.ok()) {
        return absl::Status(s.code(), strCat(n.description, ": ", s.message()));
      }
      ++started_;
    }
  }
  for (Node& n : extensions_) static_cast<Extension&>(*n.component).setPipelinesReady(true);
  return absl::OkStatus();
}

absl::Status Graph::shutdown() {
  std::vector<Node*> order;
  for (auto* group : {&extensions_, &pipeline_nodes_, &receivers_}) {
    for (Node& n : *group) order.push_back(&n);
  }
  for (Node& n : extensions_) static_cast<Extension&>(*n.component).setPipelinesReady(false);
  absl::Status first_error;
  // Only what started is stopped, last started first.
  for (size_t i = started_; i > 0; --i) {
    absl::Status s = order[i - 1]->component->shutdown();
    if (!s.ok() && first_error.ok()) {
      first_error = absl::Status(s.code(), strCat(order[i - 1]->description, ": ", s.message()));
    }
  }
  started_ = 0;
  return first_error;
}

absl::Status Graph::flush(absl::Time deadline) {
  if (started_ == 0) return absl::FailedPreconditionError("the pipelines are not running");
  absl::Status first_error;
  // Creation order is downstream first, so its reverse hands data on before asking its consumer.
  for (auto it = pipeline_nodes_.rbegin(); it != pipeline_nodes_.rend(); ++it) {
    auto* flushable = dynamic_cast<Flushable*>(it->component.get());
    if (flushable == nullptr) continue;
    absl::Status s = flushable->flush(deadline);
    if (s.ok()) continue;
    s = absl::Status(s.code(), strCat(it->description, ": ", s.message()));
    if (s.code() == absl::StatusCode::kDeadlineExceeded) return s;
    if (first_error.ok()) first_error = s;
  }
  return first_error;
}

Graph::Counts Graph::counts() const {
  return Counts{receivers_.size(),  processor_count_, exporter_count_,
                extensions_.size(), pipelines_,       connector_count_};
}

}  // namespace otlpd::pipeline
