#include "server/service.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_escape.h"
#include "common/process_memory.h"
#include "common/strings.h"
#include "exporters/otlp_http/http_client.h"
#include "pipeline/self_telemetry.h"
#include "server/self_telemetry_grpc.h"

namespace otlpd::server {
namespace {

namespace http = boost::beast::http;

static_assert(selftrace::ScopedSpan::kSelfTelemetryHeader == pipeline::kSelfTelemetryKey,
              "one mark for otlpd's own telemetry, on the network and in pipelines");

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

// A time in milliseconds as the configuration schema writes it (an integer), or a Go duration.
std::chrono::milliseconds readMillis(config::ConfigNode& node, std::string_view key,
                                     std::chrono::milliseconds default_value) {
  std::optional<YAML::Node> value = node.getYaml(key);
  if (!value) return default_value;
  if (value->IsScalar()) {
    int64_t ms = 0;
    if (YAML::convert<int64_t>::decode(*value, ms)) {
      if (ms <= 0) node.addError(key, "must be positive");
      return std::chrono::milliseconds(std::max<int64_t>(ms, 1));
    }
    if (auto d = config::parseDuration(value->as<std::string>(""));
        d.ok() && *d > absl::ZeroDuration()) {
      return std::chrono::milliseconds(absl::ToInt64Milliseconds(*d));
    }
  }
  node.addError(key, "must be milliseconds (an integer) or a duration such as 10s");
  return default_value;
}

// service.telemetry.traces in the Collector's shape (the OpenTelemetry configuration schema):
//   level: none | basic | detailed
//   sampler: always_on | always_off | trace_id_ratio_based | parent_based { root: ... }
//   processors: [ { batch: { exporter: { otlp: { protocol: http/protobuf, endpoint } } } } ]
//     or exporter: { pipelines: { receiver: embedded/<name> } } (otlpd's own pipelines)
//   propagators: [ tracecontext ]
// Whether `receiver` is an `embedded` receiver that a pipeline of `signal` in `root` lists.
bool isEmbeddedReceiverOf(const YAML::Node& root, const std::string& receiver,
                          std::string_view signal) {
  if (receiver.substr(0, receiver.find('/')) != "embedded") return false;
  const YAML::Node receivers = root["receivers"];
  if (!receivers.IsMap() || !receivers[receiver]) return false;
  const YAML::Node pipelines = root["service"]["pipelines"];
  if (!pipelines.IsMap()) return false;
  for (const auto& pipeline : pipelines) {
    const std::string name = pipeline.first.as<std::string>("");
    if (name.substr(0, name.find('/')) != signal) continue;
    const YAML::Node listed = pipeline.second["receivers"];
    if (!listed.IsSequence()) continue;
    for (const auto& r : listed) {
      if (r.as<std::string>("") == receiver) return true;
    }
  }
  return false;
}

// The configuration schema's otlp exporter `protocol`: http/protobuf or grpc (http/json, which
// the schema also names, is refused: otlpd encodes its own telemetry as protobuf).
std::string readOtlpProtocol(config::ConfigNode& otlp) {
  std::string protocol = otlp.getString("protocol", "http/protobuf");
  if (protocol != "http/protobuf" && protocol != "grpc") {
    otlp.addError("protocol", "must be http/protobuf or grpc");
    protocol = "http/protobuf";
  }
  return protocol;
}

void parseTraces(config::ConfigNode traces, const YAML::Node& root, TelemetryConfig& t) {
  t.traces_level = traces.getString("level", t.traces_level);
  if (t.traces_level != "none" && t.traces_level != "basic" && t.traces_level != "detailed") {
    traces.addError("level", "must be none, basic or detailed");
  }
  for (const std::string& p : traces.getStringList("propagators")) {
    if (p != "tracecontext") traces.addError("propagators", "only tracecontext is supported");
  }
  config::ConfigNode sampler = traces.child("sampler");
  auto readRatio = [&](config::ConfigNode& s) {
    if (s.has("always_on")) {
      (void)s.getYaml("always_on");
      t.traces_sampling_ratio = 1.0;
    }
    if (s.has("always_off")) {
      (void)s.getYaml("always_off");
      t.traces_sampling_ratio = 0.0;
    }
    if (s.has("trace_id_ratio_based")) {
      config::ConfigNode r = s.child("trace_id_ratio_based");
      t.traces_sampling_ratio = r.getDouble("ratio", 1.0);
      if (t.traces_sampling_ratio < 0 || t.traces_sampling_ratio > 1) {
        r.addError("ratio", "must be between 0 and 1");
      }
      r.rejectUnknownKeys();
    }
  };
  if (sampler.has("parent_based")) {
    // Parents decide for their children (our only behaviour); the root sampler for new traces.
    config::ConfigNode parent_based = sampler.child("parent_based");
    config::ConfigNode root = parent_based.child("root");
    readRatio(root);
    root.rejectUnknownKeys();
    parent_based.rejectUnknownKeys();
  }
  readRatio(sampler);
  sampler.rejectUnknownKeys();
  for (config::ConfigNode processor : traces.getMappingList("processors")) {
    config::ConfigNode batch = processor.child(processor.has("simple") ? "simple" : "batch");
    config::ConfigNode exporter = batch.child("exporter");
    if (exporter.has("pipelines")) {
      config::ConfigNode pipelines = exporter.child("pipelines");
      t.traces_receiver = pipelines.getString("receiver", "");
      if (!isEmbeddedReceiverOf(root, t.traces_receiver, "traces")) {
        pipelines.addError("receiver",
                           "must name a receiver of type embedded that a traces pipeline lists");
      }
      pipelines.rejectUnknownKeys();
    }
    // The batch span processor's tuning (the configuration schema's keys and units).
    t.traces_export_interval = readMillis(batch, "schedule_delay", t.traces_export_interval);
    t.traces_max_queue = static_cast<size_t>(
        batch.getInt("max_queue_size", static_cast<int64_t>(t.traces_max_queue), 1, 1 << 20));
    t.traces_max_batch = static_cast<size_t>(batch.getInt(
        "max_export_batch_size", static_cast<int64_t>(t.traces_max_batch), 1, 1 << 20));
    (void)batch.getYaml("export_timeout");  // each export has its own 5 s deadline
    if (exporter.has("pipelines") && !exporter.has("otlp")) {
      exporter.rejectUnknownKeys();
      batch.rejectUnknownKeys();
      processor.rejectUnknownKeys();
      continue;
    }
    config::ConfigNode otlp = exporter.child("otlp");
    t.traces_protocol = readOtlpProtocol(otlp);
    t.traces_insecure = otlp.getBool("insecure", false);
    std::string endpoint = otlp.getString("endpoint", "");
    if (endpoint.empty()) otlp.addError("endpoint", "is required");
    t.traces_endpoint = endpoint;
    otlp.rejectUnknownKeys();
    exporter.rejectUnknownKeys();
    batch.rejectUnknownKeys();
    processor.rejectUnknownKeys();
  }
  traces.rejectUnknownKeys();
}

// service.telemetry.metrics.readers in the Collector's shape:
//   - pull: { exporter: { prometheus: { host, port } } }  (the /metrics endpoint)
//   - periodic: { interval, timeout, exporter: { otlp: { protocol: http/protobuf, endpoint } } }
//     or exporter: { pipelines: { receiver: embedded/<name> } } (otlpd's own pipelines)
// Given readers replace the default endpoint: /metrics listens only where a pull reader (or
// `address`) says.
void parseMetricsReaders(config::ConfigNode& metrics, const YAML::Node& root, bool address_given,
                         TelemetryConfig& t) {
  if (!metrics.has("readers")) return;
  std::string pull_address;
  for (config::ConfigNode reader : metrics.getMappingList("readers")) {
    if (reader.has("pull")) {
      config::ConfigNode pull = reader.child("pull");
      config::ConfigNode exporter = pull.child("exporter");
      config::ConfigNode prometheus = exporter.child("prometheus");
      const std::string host = prometheus.getString("host", "localhost");
      const int64_t port = prometheus.getInt("port", 8888, 0, 65535);
      // Accepted for Collector configs; otlpd's exposition has no scope info, units or suffixes
      // to leave out.
      (void)prometheus.getYaml("without_scope_info");
      (void)prometheus.getYaml("without_units");
      (void)prometheus.getYaml("without_type_suffix");
      prometheus.rejectUnknownKeys();
      exporter.rejectUnknownKeys();
      pull.rejectUnknownKeys();
      pull_address = strCat(host, ":", port);
    }
    if (reader.has("periodic")) {
      config::ConfigNode periodic = reader.child("periodic");
      TelemetryConfig::MetricsReader r;
      r.interval = readMillis(periodic, "interval", std::chrono::milliseconds(60000));
      (void)readMillis(periodic, "timeout", std::chrono::milliseconds(30000));
      config::ConfigNode exporter = periodic.child("exporter");
      if (exporter.has("pipelines")) {
        config::ConfigNode pipelines = exporter.child("pipelines");
        r.receiver = pipelines.getString("receiver", "");
        if (!isEmbeddedReceiverOf(root, r.receiver, "metrics")) {
          pipelines.addError("receiver",
                             "must name a receiver of type embedded that a metrics pipeline lists");
        }
        pipelines.rejectUnknownKeys();
      } else {
        config::ConfigNode otlp = exporter.child("otlp");
        r.protocol = readOtlpProtocol(otlp);
        r.insecure = otlp.getBool("insecure", false);
        r.endpoint = otlp.getString("endpoint", "");
        if (r.endpoint.empty()) otlp.addError("endpoint", "is required");
        const std::string temporality = otlp.getString("temporality_preference", "cumulative");
        if (temporality != "cumulative") {
          otlp.addError("temporality_preference", "only cumulative is supported");
        }
        otlp.rejectUnknownKeys();
      }
      exporter.rejectUnknownKeys();
      periodic.rejectUnknownKeys();
      t.metrics_readers.push_back(std::move(r));
    }
    reader.rejectUnknownKeys();
  }
  if (!address_given) t.metrics_address = pull_address;
}

TelemetryConfig parseTelemetry(config::ConfigNode node, const YAML::Node& root) {
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
  const bool address_given = metrics.has("address");
  t.metrics_address = metrics.getString("address", t.metrics_address);
  parseMetricsReaders(metrics, root, address_given, t);
  t.metrics_collector_names = metrics.getBool("collector_names", false);
  t.metrics_tls = common::readTlsServerConfig(metrics);
  const std::string metrics_level = metrics.getString("level", "normal");
  if (metrics_level == "none") {
    t.metrics_address.clear();
    t.metrics_readers.clear();
  } else if (metrics_level != "basic" && metrics_level != "normal" && metrics_level != "detailed") {
    metrics.addError("level", "must be none, basic, normal or detailed");
  }
  metrics.rejectUnknownKeys();
  parseTraces(node.child("traces"), root, t);
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
  telemetry = parseTelemetry(service_node.child("telemetry"), root);
  // The limit comes from memory_limiter processors, if the new graph has any.
  const size_t previous_limit = memory_.limit();
  memory_.setLimit(0);
  auto graph = pipeline::Graph::build(root_node, service_node, factories, *metrics_, &memory_,
                                      /*trace_stages=*/telemetry.traces_level == "detailed");
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

std::unique_ptr<Service> Service::build(
    const YAML::Node& root, const pipeline::FactoryRegistry& factories,
    config::ConfigErrors& errors, std::shared_ptr<receivers::embedded::EmbeddedIngress> ingress) {
  std::unique_ptr<Service> service(new Service());
  service->ingress_ = std::move(ingress);
  service->metrics_ = std::make_unique<common::MetricsRegistry>();
  service->graph_ = service->buildGraph(root, factories, errors, service->telemetry_);
  if (!service->graph_) return nullptr;
  if (service->ingress_) {
    std::vector<std::string> self_receivers;
    if (!service->telemetry_.traces_receiver.empty()) {
      self_receivers.push_back(service->telemetry_.traces_receiver);
    }
    for (const auto& r : service->telemetry_.metrics_readers) {
      if (!r.receiver.empty()) self_receivers.push_back(r.receiver);
    }
    service->ingress_->setSelfTelemetryReceivers(std::move(self_receivers));
  }
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
  auto span = selftrace::ScopedSpan::child("config reload");
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

absl::StatusOr<Service::Sender> Service::otlpHttpSender(const std::string& endpoint,
                                                        std::string_view default_path,
                                                        std::string_view what) {
  return selfTelemetryHttpSender(endpoint, default_path, what);
}

absl::StatusOr<std::function<absl::Status(const std::string&)>> selfTelemetryHttpSender(
    const std::string& endpoint, std::string_view default_path, std::string_view what) {
  using Sender = std::function<absl::Status(const std::string&)>;
  auto url = exporters::otlp_http::parseHttpUrl(endpoint);
  if (!url.ok()) {
    return absl::InvalidArgumentError(strCat(what, " endpoint: ", url.status().message()));
  }
  // An endpoint without a path is the OTLP/HTTP base URL.
  if (url->target == "/") url->target = std::string(default_path);
  exporters::helper::TlsClientConfig tls;
  tls.insecure = !url->tls;
  auto pool = exporters::otlp_http::ConnectionPool::shared(std::string(what), *url, tls, 1);
  if (!pool.ok()) return pool.status();
  logging::info("self-telemetry export", {{"what", what}, {"endpoint", url->toString()}});
  return Sender([pool = *pool, target = url->target](const std::string& body) -> absl::Status {
    // Marked, so that an otlpd receiving it does not trace its ingest (no loops).
    auto answer = pool->post(target,
                             {{"Content-Type", "application/x-protobuf"},
                              {std::string(pipeline::kSelfTelemetryKey), "1"}},
                             body, absl::Now() + absl::Seconds(5));
    if (!answer.ok()) return answer.status();
    if (answer->status < 200 || answer->status > 299) {
      return absl::UnavailableError(strCat("HTTP ", answer->status));
    }
    return absl::OkStatus();
  });
}

// Into otlpd's own pipelines through an `embedded` receiver: no network hop. The caller's thread
// (the tracer's or a reader's, never the data path's) makes the call and may wait for the
// pipeline. The batch carries the self-telemetry mark, so no component traces its handling (no
// loops). While the receiver does not run (before start, during a reload) sends fail (counted).
absl::StatusOr<Service::Sender> Service::pipelineSender(pipeline::Signal signal,
                                                        const std::string& receiver) {
  if (!ingress_) {
    return absl::FailedPreconditionError(
        "service.telemetry: this program has no embedded receivers");
  }
  logging::info("self-telemetry into pipelines",
                {{"signal", pipeline::signalName(signal)}, {"receiver", receiver}});
  return Sender([ingress = ingress_, signal, receiver](const std::string& body) -> absl::Status {
    bool found = false;
    receivers::otlp::ExportOutcome outcome =
        ingress->exportRequest(signal, receiver, std::string(body),
                               /*json=*/false, &found, pipeline::selfTelemetryMetadata());
    if (!found) return absl::UnavailableError(strCat("receiver ", receiver, " is not running"));
    if (outcome.kind != receivers::otlp::ExportOutcome::Kind::kOk) {
      return absl::UnavailableError(outcome.message);
    }
    return absl::OkStatus();
  });
}

absl::Status Service::startTracer() {
  if (telemetry_.traces_level == "none") return absl::OkStatus();
  absl::StatusOr<Sender> send =
      !telemetry_.traces_receiver.empty()
          ? pipelineSender(pipeline::Signal::kTraces, telemetry_.traces_receiver)
      : telemetry_.traces_endpoint.empty() ? absl::StatusOr<Sender>(Sender())
      : telemetry_.traces_protocol == "grpc"
          ? selfTelemetryGrpcSender(telemetry_.traces_endpoint, telemetry_.traces_insecure,
                                    pipeline::Signal::kTraces, std::chrono::seconds(5),
                                    "service.telemetry.traces")
          : otlpHttpSender(telemetry_.traces_endpoint, "/v1/traces", "service.telemetry.traces");
  if (!send.ok()) return send.status();
  if (!*send) return absl::OkStatus();
  selftrace::TracerOptions options;
  options.sampling_ratio = telemetry_.traces_sampling_ratio;
  options.detailed = telemetry_.traces_level == "detailed";
  options.export_interval = telemetry_.traces_export_interval;
  options.max_queued_spans = telemetry_.traces_max_queue;
  options.max_export_batch = std::min(telemetry_.traces_max_batch, telemetry_.traces_max_queue);
  options.send = *std::move(send);
  tracer_ = std::make_unique<selftrace::Tracer>(std::move(options), *metrics_);
  selftrace::Tracer::install(tracer_.get());
  logging::info("self-tracing on", {{"sampling_ratio", telemetry_.traces_sampling_ratio}});
  return absl::OkStatus();
}

absl::Status Service::startMetricsReaders() {
  for (const TelemetryConfig::MetricsReader& r : telemetry_.metrics_readers) {
    absl::StatusOr<Sender> send =
        !r.receiver.empty() ? pipelineSender(pipeline::Signal::kMetrics, r.receiver)
        : r.protocol == "grpc"
            ? selfTelemetryGrpcSender(r.endpoint, r.insecure, pipeline::Signal::kMetrics,
                                      std::chrono::seconds(5), "service.telemetry.metrics.readers")
            : otlpHttpSender(r.endpoint, "/v1/metrics", "service.telemetry.metrics.readers");
    if (!send.ok()) return send.status();
    selfmetrics::PeriodicReaderOptions options;
    options.interval = r.interval;
    options.collector_names = telemetry_.metrics_collector_names;
    options.send = *std::move(send);
    metrics_readers_.push_back(
        std::make_unique<selfmetrics::PeriodicReader>(std::move(options), *metrics_));
  }
  return absl::OkStatus();
}

absl::Status Service::start(const std::string& ready_file) {
  if (absl::Status s = startTracer(); !s.ok()) return s;
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
  if (absl::Status s = startMetricsReaders(); !s.ok()) {
    (void)shutdown();
    return s;
  }
  return absl::OkStatus();
}

absl::Status Service::shutdown() {
  // First: each reader pushes its last values while its pipeline still runs.
  metrics_readers_.clear();
  absl::Status s;
  if (graph_) s = graph_->shutdown();
  if (metrics_server_) {
    metrics_server_->stop();
    metrics_server_.reset();
  }
  // Last: the graph's shutdown may still end spans. The tracer exports what it holds.
  if (tracer_) {
    selftrace::Tracer::install(nullptr);
    tracer_.reset();
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
