#include "server/service.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::unique_ptr<Service> Service::build(const YAML::Node& root,
                                        const pipeline::FactoryRegistry& factories,
                                        config::ConfigErrors& errors) {
  std::unique_ptr<Service> service(new Service());
  service->metrics_ = std::make_unique<common::MetricsRegistry>();
  config::ConfigNode root_node(root, "", errors);
  config::ConfigNode service_node = root_node.child("service");
  service->telemetry_ = parseTelemetry(service_node.child("telemetry"));
  service->graph_ = pipeline::Graph::build(root_node, service_node, factories, *service->metrics_);
  service_node.rejectUnknownKeys();
  root_node.rejectUnknownKeys();
  if (!errors.empty()) return nullptr;
  return service;
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
  if (absl::Status s = graph_->start(*this); !s.ok()) {
    (void)shutdown();
    return s;
  }
  const auto counts = graph_->counts();
  logging::info("otlpd started", {{"pipelines", counts.pipelines},
                                  {"receivers", counts.receivers},
                                  {"exporters", counts.exporters},
                                  {"extensions", counts.extensions}});
  if (!ready_file.empty()) return writeReadyFile(ready_file);
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
    entries.push_back(strCat(jsonString(key), ":", jsonString(endpoint)));
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
