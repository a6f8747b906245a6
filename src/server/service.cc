#include "server/service.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_escape.h"
#include "common/process_memory.h"
#include "common/strings.h"

namespace otlpd::server {
namespace {

namespace http = boost::beast::http;

class MetricsHandler final : public common::HttpHandler {
 public:
  explicit MetricsHandler(common::MetricsRegistry& metrics) : metrics_(metrics) {}
  common::HttpResponse handle(common::HttpRequest&& request) override {
    std::string_view target = request.target();
    if (target.substr(0, target.find('?')) != "/metrics") {
      return common::makeResponse(request, http::status::not_found, "text/plain",
                                  "not found: scrape /metrics\n");
    }
    return common::makeResponse(request, http::status::ok,
                                "text/plain; version=0.0.4; charset=utf-8",
                                metrics_.renderPrometheus());
  }

 private:
  common::MetricsRegistry& metrics_;
};

TelemetryConfig parseTelemetry(config::ConfigNode node) {
  TelemetryConfig t;
  config::ConfigNode logs = node.child("logs");
  const std::string level = logs.getString("level", "info");
  if (auto parsed = logging::parseLevel(level); parsed.ok()) {
    t.log_level = *parsed;
  } else {
    logs.addError("level", "must be debug, info, warn or error");
  }
  const std::string encoding = logs.getString("encoding", "json");
  if (encoding == "console") {
    t.log_format = logging::Format::kConsole;
  } else if (encoding != "json") {
    logs.addError("encoding", "must be json or console");
  }
  logs.rejectUnknownKeys();
  config::ConfigNode metrics = node.child("metrics");
  t.metrics_address = metrics.getString("address", t.metrics_address);
  t.metrics_tls = common::readTlsServerConfig(metrics);
  const std::string metrics_level = metrics.getString("level", "normal");
  if (metrics_level == "none") {
    t.metrics_address.clear();
  } else if (metrics_level != "basic" && metrics_level != "normal" && metrics_level != "detailed") {
    metrics.addError("level", "must be none, basic, normal or detailed");
  }
  metrics.rejectUnknownKeys();
  node.rejectUnknownKeys();
  return t;
}

// The budget without a memory_limiter: a quarter of the cgroup limit or of physical memory
// leaves the rest to the process itself, the allocator's slack and what transports hold.
constexpr int64_t kDefaultBudgetPercentage = 25;
constexpr size_t kMinimumBudgetBytes = size_t{32} << 20;

}  // namespace

std::unique_ptr<pipeline::Graph> Service::buildGraph(const YAML::Node& root,
                                                     const pipeline::FactoryRegistry& factories,
                                                     config::ConfigErrors& errors,
                                                     TelemetryConfig& telemetry) {
  config::ConfigNode root_node(root, "", errors);
  config::ConfigNode service_node = root_node.child("service");
  telemetry = parseTelemetry(service_node.child("telemetry"));
  // The limit comes from memory_limiter processors, if the new graph has any.
  const size_t previous_limit = memory_.limit();
  memory_.setLimit(0);
  auto graph = pipeline::Graph::build(root_node, service_node, factories, *metrics_, &memory_);
  // Without a memory_limiter the budget still holds (a client must not be able to drive the
  // service out of memory): service.memory_budget, or a share of what the process may use.
  config::ConfigNode budget = service_node.child("memory_budget");
  const int64_t budget_mib = budget.getInt("limit_mib", 0, 0);
  const int64_t budget_pct = budget.getInt("limit_percentage", kDefaultBudgetPercentage, 1, 100);
  const bool budget_configured = budget_mib > 0 || budget.getYaml("limit_percentage").has_value();
  budget.rejectUnknownKeys();
  if (memory_.limit() == 0) {
    const size_t available = common::availableMemoryBytes().value_or(size_t{4} << 30);
    const size_t limit = budget_mib > 0 ? static_cast<size_t>(budget_mib) << 20
                                        : available / 100 * static_cast<size_t>(budget_pct);
    const size_t bytes = std::max<size_t>(limit, kMinimumBudgetBytes);
    if (budget_configured) {
      memory_.setLimit(bytes);
    } else {
      memory_.setDefaultLimit(bytes);
    }
  }
  service_node.rejectUnknownKeys();
  root_node.rejectUnknownKeys();
  if (!errors.empty()) {
    memory_.setLimit(previous_limit);
    return nullptr;
  }
  return graph;
}

std::unique_ptr<Service> Service::build(const YAML::Node& root,
                                        const pipeline::FactoryRegistry& factories,
                                        config::ConfigErrors& errors) {
  std::unique_ptr<Service> service(new Service());
  service->metrics_ = std::make_unique<common::MetricsRegistry>();
  service->graph_ = service->buildGraph(root, factories, errors, service->telemetry_);
  if (!service->graph_) return nullptr;
  service->running_config_ = root;
  pipeline::MemoryBudget* memory = &service->memory_;
  service->metrics_->callbackGauge(
      "otlpd_memory_budget_in_use_bytes",
      "Bytes of telemetry in flight and queued, counted against the memory budget.", {},
      [memory] { return static_cast<double>(memory->inUse()); });
  service->metrics_->callbackGauge(
      "otlpd_memory_budget_limit_bytes",
      "The memory budget for telemetry in flight and queued: from memory_limiter, else "
      "service.memory_budget (default 25% of the cgroup limit or physical memory).",
      {}, [memory] { return static_cast<double>(memory->limit()); });
  return service;
}

absl::Status Service::startGraph() {
  if (absl::Status s = graph_->start(*this); !s.ok()) return s;
  const auto counts = graph_->counts();
  logging::info("pipelines running", {{"pipelines", counts.pipelines},
                                      {"receivers", counts.receivers},
                                      {"processors", counts.processors},
                                      {"exporters", counts.exporters},
                                      {"extensions", counts.extensions},
                                      {"connectors", counts.connectors}});
  if (!ready_file_.empty()) return writeReadyFile(ready_file_);
  return absl::OkStatus();
}

absl::Status Service::reload(const YAML::Node& root, const pipeline::FactoryRegistry& factories,
                             config::ConfigErrors& errors) {
  TelemetryConfig telemetry;
  const size_t running_limit = memory_.limit();
  std::unique_ptr<pipeline::Graph> next = buildGraph(root, factories, errors, telemetry);
  if (!next) return errors.toStatus();
  if (absl::Status s = graph_->shutdown(); !s.ok()) {
    logging::warn("the previous pipelines stopped with an error", {{"error", s.ToString()}});
  }
  {
    std::lock_guard lock(endpoints_mutex_);
    std::erase_if(endpoints_, [](const auto& kv) { return kv.first != "telemetry.metrics"; });
  }
  std::unique_ptr<pipeline::Graph> previous = std::move(graph_);
  graph_ = std::move(next);
  if (absl::Status s = startGraph(); !s.ok()) {
    // The new graph could not start (a port taken, say): go back to what ran before.
    logging::error("the reloaded config failed to start; restoring the previous one",
                   {{"error", s.ToString()}});
    (void)graph_->shutdown();
    graph_ = std::move(previous);
    memory_.setLimit(running_limit);
    if (absl::Status restored = startGraph(); !restored.ok()) {
      return absl::InternalError(
          strCat("reload failed (", s.message(),
                 ") and the previous config did not restart: ", restored.message()));
    }
    return s;
  }
  running_config_ = root;
  return absl::OkStatus();
}

Service::~Service() {
  (void)shutdown();
}

absl::Status Service::start(const std::string& ready_file) {
  if (!telemetry_.metrics_address.empty()) {
    common::HttpServerOptions options;
    options.endpoint = telemetry_.metrics_address;
    options.max_body_bytes = 4096;
    options.io_threads = 1;
    options.metrics = metrics_.get();
    options.listener = "telemetry.metrics";
    if (telemetry_.metrics_tls) {
      auto tls = common::TlsContextSource::create(*telemetry_.metrics_tls, common::TlsAlpn::kHttp11,
                                                  metrics_.get(), "telemetry.metrics");
      if (!tls.ok()) {
        return absl::Status(tls.status().code(),
                            strCat("telemetry metrics: ", tls.status().message()));
      }
      options.tls = *std::move(tls);
    }
    auto server = common::HttpServer::start(options, std::make_shared<MetricsHandler>(*metrics_));
    if (!server.ok()) {
      return absl::Status(server.status().code(),
                          strCat("telemetry metrics: ", server.status().message()));
    }
    metrics_server_ = *std::move(server);
    publishEndpoint("telemetry.metrics", metrics_server_->boundEndpoint());
  }
  metrics_->gauge("otlpd_build_info", "otlpd version; always 1.", {{"version", OTLPD_VERSION}})
      .set(1);
  ready_file_ = ready_file;
  if (absl::Status s = startGraph(); !s.ok()) {
    (void)shutdown();
    return s;
  }
  return absl::OkStatus();
}

absl::Status Service::shutdown() {
  absl::Status s;
  if (graph_) s = graph_->shutdown();
  if (metrics_server_) {
    metrics_server_->stop();
    metrics_server_.reset();
  }
  return s;
}

absl::Status Service::flush(absl::Time deadline) {
  if (!graph_) return absl::FailedPreconditionError("the service is not running");
  return graph_->flush(deadline);
}

void Service::publishEndpoint(const std::string& key, const std::string& endpoint) {
  std::lock_guard lock(endpoints_mutex_);
  endpoints_[key] = endpoint;
}

std::map<std::string, std::string> Service::endpoints() const {
  std::lock_guard lock(endpoints_mutex_);
  return endpoints_;
}

absl::Status Service::writeReadyFile(const std::string& path) const {
  std::vector<std::string> entries;
  for (const auto& [key, endpoint] : endpoints()) {
    entries.push_back(strCat(common::jsonString(key), ":", common::jsonString(endpoint)));
  }
  const std::string tmp = strCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{" << absl::StrJoin(entries, ",") << "}\n";
    if (!out.good()) return absl::UnavailableError(strCat("cannot write ", tmp));
  }
  // Readers see either no file or the whole file.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(strCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace otlpd::server
