#include "connectors/routing/routing_connector.h"

#include <re2/re2.h>

#include <map>
#include <optional>

#include "absl/time/clock.h"
#include "common/strings.h"
#include "otlp/wire_split.h"
#include "ottl/wire_accessor.h"
#include "pipeline/fanout.h"
#include "processors/common/editing_processor.h"
#include "processors/common/ottl_config.h"

namespace otlpd::connectors::routing {
namespace {

using pipeline::Signal;
using processors::ErrorMode;

// `request["X-Tenant"] == "acme"`: the only grammar the Collector accepts in the request context.
struct RequestCondition {
  std::string key;
  std::string value;
  bool equal = true;
};

struct Route {
  std::string text;                            // the condition as written, for error messages
  std::optional<ottl::Context> context;        // nullopt: request context
  std::unique_ptr<ottl::Condition> condition;  // null: always (a bare `route()`)
  RequestCondition request;
  std::vector<std::string> pipelines;
};

struct Table {
  std::vector<Route> routes;
  std::vector<std::string> default_pipelines;
};

bool contextFits(ottl::Context context, Signal signal) {
  switch (context) {
    case ottl::Context::kResource:
    case ottl::Context::kScope:
      return true;
    case ottl::Context::kSpan:
      return signal == Signal::kTraces;
    case ottl::Context::kLog:
      return signal == Signal::kLogs;
    case ottl::Context::kMetric:
      return signal == Signal::kMetrics;
    default:
      return false;
  }
}

uint32_t itemAttributesField(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return otlp::fields::kSpanAttributes;
    case Signal::kLogs:
      return otlp::fields::kLogAttributes;
    case Signal::kMetrics:
      return 0;
  }
  return 0;
}

ottl::Context itemContext(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return ottl::Context::kSpan;
    case Signal::kLogs:
      return ottl::Context::kLog;
    case Signal::kMetrics:
      return ottl::Context::kMetric;
  }
  return ottl::Context::kSpan;
}

// The destinations of one input signal: per route (then default) the fan-out to its pipelines.
struct Destinations {
  std::vector<std::shared_ptr<pipeline::Consumer>> by_route;  // size routes + 1, may hold nulls
};

class RoutingConnector;

class RoutingInput final : public pipeline::Consumer {
 public:
  RoutingInput(RoutingConnector& connector, Signal signal, Destinations destinations)
      : connector_(connector), signal_(signal), destinations_(std::move(destinations)) {}
  absl::Status consume(pipeline::Batch&& batch) override;

 private:
  RoutingConnector& connector_;
  Signal signal_;
  Destinations destinations_;
};

class RoutingConnector final : public pipeline::Connector {
 public:
  RoutingConnector(const pipeline::CreateSettings& settings, Table table, ErrorMode mode)
      : table_(std::move(table)), errors_(settings, mode) {
    for (const Route& route : table_.routes) {
      item_level_ = item_level_ || (route.context && *route.context != ottl::Context::kResource);
    }
  }
  void addInput(Signal signal, Destinations destinations) {
    inputs_[signal] = std::make_shared<RoutingInput>(*this, signal, std::move(destinations));
  }

  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  std::shared_ptr<pipeline::Consumer> input(Signal signal) override { return inputs_.at(signal); }
  const Table& table() const { return table_; }

  // The route of every item of `request` (index routes.size() = default), in walk order.
  absl::Status route(Signal signal, const pipeline::Batch& batch, std::string_view request,
                     const Destinations& destinations);

 private:
  const Table table_;
  processors::ErrorReporter errors_;
  bool item_level_ = false;
  std::map<Signal, std::shared_ptr<RoutingInput>> inputs_;
};

absl::Status RoutingInput::consume(pipeline::Batch&& batch) {
  std::string serialized;
  std::string_view request;
  if (auto wire = batch.wireBytes()) {
    request = *wire;
  } else if (batch.request().SerializeToString(&serialized)) {
    request = serialized;
  } else {
    return absl::InternalError("routing: cannot encode the batch");
  }
  return connector_.route(signal_, batch, request, destinations_);
}

absl::Status RoutingConnector::route(Signal signal, const pipeline::Batch& batch,
                                     std::string_view request, const Destinations& destinations) {
  const size_t default_route = table_.routes.size();
  // Request routes decide for the whole batch before any item is looked at; the first route that
  // holds, in table order, wins, as for items.
  std::vector<bool> request_match(table_.routes.size(), false);
  for (size_t r = 0; r < table_.routes.size(); ++r) {
    const Route& route = table_.routes[r];
    if (route.context) continue;
    std::optional<std::string_view> value;
    if (const pipeline::RequestMetadata* metadata = batch.metadata()) {
      value = metadata->first(route.request.key);
    }
    request_match[r] = route.request.equal ? (value && *value == route.request.value)
                                           : (!value || *value != route.request.value);
  }

  otlp::ItemWalker walker;
  std::vector<otlp::RequestBuilder> builders(default_route + 1);
  // Items as OTLP counts them: data points for metrics, otherwise what the builder holds.
  std::vector<size_t> points(default_route + 1, 0);
  auto add = [&](size_t r, const otlp::ItemSlice& slice) {
    builders[r].add(slice);
    if (signal == Signal::kMetrics) points[r] += otlp::metricPointCount(slice.item);
  };
  otlp::MessageEdit resource, scope, item;
  ottl::WireItem accessor;
  ottl::EvalState state;
  state.now_unix_nanos = absl::GetCurrentTimeNanos();
  absl::Status failure;
  int64_t last_resource = -1, last_scope = -1;
  size_t resource_route = default_route;  // when every route is decided per resource
  const uint32_t item_attributes = itemAttributesField(signal);

  auto decide = [&](bool item_open) -> size_t {
    for (size_t r = 0; r < table_.routes.size(); ++r) {
      const Route& route = table_.routes[r];
      if (!route.context) {
        if (request_match[r]) return r;
        continue;
      }
      if (!contextFits(*route.context, signal)) continue;
      if (*route.context != ottl::Context::kResource && !item_open) continue;
      if (!route.condition) return r;
      absl::StatusOr<bool> holds = route.condition->evaluate(accessor, state);
      if (!holds.ok()) {
        const std::string message =
            strCat("condition \"", route.text, "\": ", toStd(holds.status().message()));
        errors_.report(message);
        if (errors_.mode() == ErrorMode::kPropagate && failure.ok()) {
          failure = absl::InvalidArgumentError(strCat("routing: ", message));
        }
        return default_route;  // ignore/silent: the Collector sends it to the default pipelines
      }
      if (*holds) return r;
    }
    return default_route;
  };

  absl::Status walked = walker.walk(request, [&](const otlp::ItemSlice& slice) {
    if (static_cast<int64_t>(slice.resource_index) != last_resource) {
      last_resource = slice.resource_index;
      resource.open(otlp::wire::lastLengthDelimited(slice.resource_envelope, 1),
                    otlp::fields::kResourceAttributes);
      accessor.clear();
      accessor.bind(ottl::Context::kResource, resource);
      if (!item_level_) resource_route = decide(false);
    }
    if (!item_level_) {
      add(resource_route, slice);
      return;
    }
    if (static_cast<int64_t>(slice.scope_index) != last_scope) {
      last_scope = slice.scope_index;
      scope.open(otlp::wire::lastLengthDelimited(slice.scope_envelope, 1),
                 otlp::fields::kScopeAttributes);
      accessor.bind(ottl::Context::kScope, scope);
    }
    item.open(slice.item, item_attributes);
    accessor.bind(itemContext(signal), item);
    if (signal == Signal::kMetrics) accessor.setMetricType(otlp::metricTypeOf(item));
    add(decide(true), slice);
  });
  if (!walked.ok()) return walked;
  if (!failure.ok()) return failure;

  absl::Status first_error;
  for (size_t r = 0; r <= default_route; ++r) {
    if (builders[r].empty()) continue;
    if (!destinations.by_route[r]) {
      builders[r].finish();  // no pipeline of this signal on that route: not routed, as in the
      continue;              // Collector
    }
    const size_t items = signal == Signal::kMetrics ? points[r] : builders[r].items();
    pipeline::Batch routed = pipeline::Batch::fromWire(
        signal, pipeline::WireBytes::fromString(builders[r].finish()), items);
    routed.reserveLike(batch);
    routed.setMetadata(batch.sharedMetadata());
    absl::Status s = destinations.by_route[r]->consume(std::move(routed));
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

// `route()` or `route() where <condition>`: the condition part, or empty for always.
std::optional<std::string> conditionOfStatement(std::string_view statement) {
  static const RE2 kRoute(R"(\s*route\(\s*\)\s*(?:where\s+(.*\S))?\s*)");
  std::string condition;
  if (!RE2::FullMatch(statement, kRoute, &condition)) return std::nullopt;
  return condition;
}

std::optional<RequestCondition> parseRequestCondition(std::string_view text) {
  static const RE2 kRequest(R"re(\s*request\["([^"]+)"\]\s*(==|!=)\s*"([^"]*)"\s*)re");
  RequestCondition out;
  std::string op;
  if (!RE2::FullMatch(text, kRequest, &out.key, &op, &out.value)) return std::nullopt;
  out.equal = op == "==";
  return out;
}

Table readTable(config::ConfigNode& config) {
  Table table;
  table.default_pipelines = config.getStringList("default_pipelines");
  std::vector<config::ConfigNode> entries = config.getMappingList("table");
  if (entries.empty()) config.addError("table", "the routing table needs at least one route");
  for (config::ConfigNode& entry : entries) {
    Route route;
    const std::string context_name = entry.getString("context", "resource");
    const bool has_statement = entry.getYaml("statement").has_value();
    const bool has_condition = entry.getYaml("condition").has_value();
    const std::string key = has_statement ? "statement" : "condition";
    const std::string text = entry.getString(key, "");
    route.pipelines = entry.getStringList("pipelines");
    entry.rejectUnknownKeys();
    if (route.pipelines.empty()) entry.addError("pipelines", "a route needs at least one pipeline");
    if (has_statement == has_condition) {
      entry.addError(has_statement ? "condition" : "statement",
                     "a route has either a statement or a condition");
      continue;
    }
    if (context_name == "request") {
      if (has_statement) {
        entry.addError("statement", "the request context takes a condition, not a statement");
        continue;
      }
      auto request = parseRequestCondition(text);
      if (!request) {
        entry.addError("condition",
                       strCat("request conditions are request[\"key\"] == \"value\" or != "
                              "\"value\", got \"",
                              text, "\""));
        continue;
      }
      route.text = text;
      route.request = *request;
      table.routes.push_back(std::move(route));
      continue;
    }
    std::optional<ottl::Context> context = ottl::contextFromName(context_name);
    if (!context || *context == ottl::Context::kDataPoint ||
        *context == ottl::Context::kSpanEvent) {
      entry.addError("context",
                     strCat("context '", context_name,
                            "' is not supported (resource, span, log, metric or request)"));
      continue;
    }
    std::string condition = text;
    if (has_statement) {
      auto extracted = conditionOfStatement(text);
      if (!extracted) {
        entry.addError(
            "statement",
            strCat("a routing statement is route() where <condition>, got \"", text, "\""));
        continue;
      }
      condition = *extracted;
    }
    route.text = text;
    route.context = context;
    if (!condition.empty()) {
      const YAML::Node node = entry.yaml()[key];
      processors::OttlSource source{condition, strCat(entry.path(), ".", key), node.Mark()};
      route.condition = processors::compileCondition(entry.errors(), source, *context);
      if (!route.condition) continue;
    }
    table.routes.push_back(std::move(route));
  }
  return table;
}

class RoutingConnectorFactory final : public pipeline::ConnectorFactory {
 public:
  std::string_view type() const override { return "routing"; }
  bool supportsPair(Signal from, Signal to) const override { return from == to; }

  absl::StatusOr<std::unique_ptr<pipeline::Connector>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      std::vector<Signal> inputs, std::vector<pipeline::ConnectorOutput> outputs) const override {
    const ErrorMode mode = processors::readErrorMode(config);
    Table table = readTable(config);
    // Every pipeline a route names must be one this connector feeds.
    std::map<std::string, const pipeline::ConnectorOutput*> by_name;
    for (const auto& output : outputs) by_name[output.pipeline] = &output;
    auto check = [&](const std::vector<std::string>& names, const std::string& key) {
      for (const std::string& name : names) {
        if (by_name.count(name) == 0) {
          config.addError(key, strCat("pipeline '", name,
                                      "' does not name this connector among its receivers"));
        }
      }
    };
    check(table.default_pipelines, "default_pipelines");
    for (size_t r = 0; r < table.routes.size(); ++r) {
      check(table.routes[r].pipelines, strCat("table[", r, "].pipelines"));
      const Route& route = table.routes[r];
      if (!route.context) continue;
      bool fits = false;
      for (Signal s : inputs) fits = fits || contextFits(*route.context, s);
      if (!fits) {
        config.addError(strCat("table[", r, "].context"),
                        strCat("the ", ottl::contextName(*route.context),
                               " context does not apply to the pipelines routed here"));
      }
    }
    auto connector = std::make_unique<RoutingConnector>(settings, std::move(table), mode);
    // Heads per route, per signal: a route's pipelines of another signal are not its business.
    for (Signal signal : inputs) {
      const Table& t = connector->table();
      Destinations destinations;
      auto heads = [&](const std::vector<std::string>& names) {
        std::vector<std::shared_ptr<pipeline::Consumer>> list;
        for (const std::string& name : names) {
          auto it = by_name.find(name);
          if (it != by_name.end() && it->second->signal == signal) list.push_back(it->second->head);
        }
        return list.empty() ? nullptr : pipeline::fanOut(std::move(list));
      };
      for (const Route& route : t.routes) destinations.by_route.push_back(heads(route.pipelines));
      destinations.by_route.push_back(heads(t.default_pipelines));
      connector->addInput(signal, std::move(destinations));
    }
    return connector;
  }
};

}  // namespace

std::unique_ptr<pipeline::ConnectorFactory> makeRoutingConnectorFactory() {
  return std::make_unique<RoutingConnectorFactory>();
}

}  // namespace otlpd::connectors::routing
