// The otlp receiver: OTLP/gRPC and OTLP/HTTP, configured with the OpenTelemetry Collector's keys.
#include <grpcpp/grpcpp.h>

#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/endpoint.h"
#include "common/grpc_server_config.h"
#include "common/grpc_tls_listener.h"
#include "common/http_server.h"
#include "common/http_server_config.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/tls_server_config.h"
#include "pipeline/authenticator.h"
#include "receivers/otlp/factory.h"
#include "receivers/otlp/grpc_service.h"
#include "receivers/otlp/http_handler.h"

namespace otlpd::receivers::otlp {
namespace {

// Above the Collector's defaults (gRPC's 4 MiB, confighttp's 20 MiB), which Collector agents
// with large batches run into; what a request holds is admitted from the memory budget anyway.
constexpr int64_t kDefaultMaxMessageMib = 64;

struct GrpcConfig {
  std::string endpoint = "localhost:4317";
  int64_t max_recv_msg_size_mib = kDefaultMaxMessageMib;
  bool include_metadata = false;
  // The Collector's server settings that bound what a client holds (configgrpc); 0: gRPC's
  // default. Channel arguments by name, in milliseconds where they are durations.
  int64_t max_concurrent_streams = 0;
  // With TLS (otlpd's termination, common/grpc_tls_listener.h): connections held at once.
  int64_t max_connections = 10000;
  std::vector<std::pair<const char*, int>> channel_args;
  std::optional<common::TlsServerConfig> tls;
  pipeline::ServerAuthRef auth;  // `auth.authenticator`; null: no authentication
};

struct HttpConfig {
  std::string endpoint = "localhost:4318";
  common::HttpServerOptions limits;  // timeouts and connection limits
  int64_t max_request_body_size = kDefaultMaxMessageMib << 20;
  HttpPaths paths;
  CorsConfig cors;
  bool include_metadata = false;
  std::optional<common::TlsServerConfig> tls;
  pipeline::ServerAuthRef auth;
};

struct OtlpReceiverConfig {
  std::optional<GrpcConfig> grpc;
  std::optional<HttpConfig> http;
};

OtlpReceiverConfig parseConfig(config::ConfigNode& node, const pipeline::CreateSettings& settings) {
  OtlpReceiverConfig cfg;
  config::ConfigNode protocols = node.child("protocols");
  if (protocols.yaml().IsMap() && protocols.yaml()["grpc"]) {
    config::ConfigNode g = protocols.child("grpc");
    GrpcConfig grpc;
    grpc.endpoint = g.getString("endpoint", grpc.endpoint);
    grpc.max_recv_msg_size_mib =
        g.getInt("max_recv_msg_size_mib", grpc.max_recv_msg_size_mib, 1, 2047);
    grpc.include_metadata = g.getBool("include_metadata", false);
    grpc.max_concurrent_streams = g.getInt("max_concurrent_streams", 0, 0, INT32_MAX);
    grpc.max_connections = g.getInt("max_connections", grpc.max_connections, 1, INT32_MAX);
    grpc.channel_args = common::readGrpcKeepalive(g);
    grpc.tls = common::readTlsServerConfig(g);
    grpc.auth = pipeline::readServerAuthenticator(g, settings);
    g.rejectUnknownKeys();
    cfg.grpc = grpc;
  }
  if (protocols.yaml().IsMap() && protocols.yaml()["http"]) {
    config::ConfigNode h = protocols.child("http");
    HttpConfig http;
    http.endpoint = h.getString("endpoint", http.endpoint);
    http.max_request_body_size =
        h.getInt("max_request_body_size", http.max_request_body_size, 1, int64_t{1} << 34);
    http.include_metadata = h.getBool("include_metadata", false);
    common::readHttpServerLimits(h, http.limits);
    http.tls = common::readTlsServerConfig(h);
    http.auth = pipeline::readServerAuthenticator(h, settings);
    http.paths.traces = h.getString("traces_url_path", http.paths.traces);
    http.paths.metrics = h.getString("metrics_url_path", http.paths.metrics);
    http.paths.logs = h.getString("logs_url_path", http.paths.logs);
    config::ConfigNode cors = h.child("cors");
    http.cors.allowed_origins = cors.getStringList("allowed_origins");
    http.cors.allowed_headers = cors.getStringList("allowed_headers");
    http.cors.max_age_seconds = static_cast<int>(cors.getInt("max_age", 0, 0, 86400 * 365));
    cors.rejectUnknownKeys();
    h.rejectUnknownKeys();
    cfg.http = http;
  }
  protocols.rejectUnknownKeys();
  if (!cfg.grpc && !cfg.http) {
    node.addError("protocols", "enable at least one of grpc or http");
  }
  return cfg;
}

class OtlpReceiver final : public pipeline::Receiver {
 public:
  OtlpReceiver(const pipeline::CreateSettings& settings, OtlpReceiverConfig config,
               pipeline::SignalConsumers next)
      : id_(settings.id.toString()),
        config_(std::move(config)),
        memory_(settings.memory),
        metrics_(settings.metrics),
        ingestor_(
            std::make_shared<Ingestor>(id_, std::move(next), settings.metrics, settings.memory)) {}

  ~OtlpReceiver() override { (void)shutdown(); }

  absl::Status start(pipeline::Host& host) override {
    for (auto [transport, auth] :
         {std::pair{Transport::kGrpc, config_.grpc ? config_.grpc->auth : nullptr},
          std::pair{Transport::kHttp, config_.http ? config_.http->auth : nullptr}}) {
      if (auth == nullptr) continue;
      if (auth->authenticator == nullptr) {
        return absl::FailedPreconditionError(
            strCat("authenticator '", auth->id.toString(), "' is not available"));
      }
      ingestor_->setAuthenticator(transport, auth->authenticator);
    }
    if (config_.grpc) {
      if (absl::Status s = startGrpc(host); !s.ok()) return s;
    }
    if (config_.http) {
      common::HttpServerOptions options = config_.http->limits;
      options.endpoint = config_.http->endpoint;
      options.metrics = &metrics_;
      options.listener = id_ + ".http";
      options.max_body_bytes = static_cast<size_t>(config_.http->max_request_body_size);
      if (config_.http->tls) {
        auto tls = common::TlsContextSource::create(*config_.http->tls, common::TlsAlpn::kHttp11,
                                                    &metrics_, options.listener);
        if (!tls.ok()) return tls.status();
        options.tls = *std::move(tls);
      }
      auto handler =
          std::make_shared<OtlpHttpHandler>(ingestor_, config_.http->paths, config_.http->cors,
                                            options.max_body_bytes, config_.http->include_metadata);
      auto server = common::HttpServer::start(options, handler);
      if (!server.ok()) return server.status();
      http_server_ = std::move(*server);
      host.publishEndpoint(id_ + ".http", http_server_->boundEndpoint());
      logging::info("receiver listening", {{"receiver", id_},
                                           {"transport", "http"},
                                           {"endpoint", http_server_->boundEndpoint()},
                                           {"tls", config_.http->tls.has_value()}});
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (http_server_) {
      http_server_->stop();
      http_server_.reset();
    }
    if (grpc_tls_) grpc_tls_->stopAccepting();
    if (grpc_server_) {
      // In-flight calls get a moment to finish; new ones are refused at once.
      grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
      grpc_service_->stop();
    }
    if (grpc_tls_) {
      grpc_tls_->stop();
      grpc_tls_.reset();
    }
    grpc_server_.reset();
    grpc_service_.reset();
    return absl::OkStatus();
  }

 private:
  absl::Status startGrpc(pipeline::Host& host) {
    auto hp = common::HostPort::parse(config_.grpc->endpoint);
    if (!hp.ok()) return hp.status();
    grpc_service_ = std::make_unique<OtlpGrpcService>(
        ingestor_, config_.grpc->include_metadata,
        static_cast<size_t>(config_.grpc->max_recv_msg_size_mib) << 20);
    grpc::ServerBuilder builder;
    int port = 0;
    // gRPC resolves "localhost" to every loopback address itself.
    const std::string address =
        hp->host.empty() ? strCat("0.0.0.0:", hp->port) : config_.grpc->endpoint;
    // With TLS our listener accepts and does the handshake, then hands gRPC the plaintext (see
    // common/grpc_tls_listener.h); without, gRPC listens itself.
    if (config_.grpc->tls) {
      auto tls = common::TlsContextSource::create(*config_.grpc->tls, common::TlsAlpn::kH2,
                                                  &metrics_, id_ + ".grpc");
      if (!tls.ok()) return tls.status();
      common::GrpcTlsListenerOptions options;
      options.endpoint = config_.grpc->endpoint;
      options.tls = *std::move(tls);
      options.metrics = &metrics_;
      options.listener = id_ + ".grpc";
      options.max_connections = static_cast<size_t>(config_.grpc->max_connections);
      auto listener = common::GrpcTlsListener::bind(options);
      if (!listener.ok()) return listener.status();
      grpc_tls_ = *std::move(listener);
      auto bound = common::HostPort::parse(grpc_tls_->boundEndpoint());
      if (bound.ok()) port = bound->port;
    } else {
      builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
    }
    const int max_bytes =
        static_cast<int>(static_cast<size_t>(config_.grpc->max_recv_msg_size_mib) << 20);
    builder.SetMaxReceiveMessageSize(max_bytes);
    grpc_service_->registerWith(builder,
                                OtlpGrpcService::threadsFor(std::thread::hardware_concurrency()));
    // Compressed messages reach OtlpGrpcService still compressed and are inflated there with
    // libdeflate and our output limit: several times the speed of gRPC's zlib (issue #18).
    builder.AddChannelArgument(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
    const int64_t max_streams =
        config_.grpc->max_concurrent_streams > 0 ? config_.grpc->max_concurrent_streams
        : memory_ != nullptr ? common::defaultMaxConcurrentStreams(memory_->limit())
                             : 0;
    if (max_streams > 0) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(max_streams));
    }
    for (const auto& [name, value] : config_.grpc->channel_args) {
      builder.AddChannelArgument(name, value);
    }
    if (memory_ != nullptr && memory_->limitIsExplicit()) {
      // Admission happens before a message is read (see OtlpGrpcService), so a refused stream
      // must not have its message pulled in anyway: without BDP probing, an unread stream holds
      // at most its flow-control window instead of a growing one. Not for the default budget
      // (a safety net, rarely reached): BDP probing is worth 12-16% spans per CPU-second
      // (traces → nop, A/B on one machine, 2026-12-04).
      builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
    }
    if (memory_ != nullptr) common::limitGrpcReadMemory(builder, memory_->limit(), id_ + ".grpc");
    grpc_server_ = builder.BuildAndStart();
    if (!grpc_server_ || port == 0) {
      grpc_server_.reset();
      grpc_tls_.reset();
      return absl::UnavailableError(
          strCat("cannot listen for OTLP/gRPC on ", config_.grpc->endpoint));
    }
    grpc_service_->start();
    if (grpc_tls_) grpc_tls_->start(grpc_server_.get());
    common::HostPort bound = *hp;
    bound.port = static_cast<uint16_t>(port);
    if (bound.host.empty()) bound.host = "0.0.0.0";
    host.publishEndpoint(id_ + ".grpc", bound.toString());
    logging::info("receiver listening", {{"receiver", id_},
                                         {"transport", "grpc"},
                                         {"endpoint", bound.toString()},
                                         {"tls", config_.grpc->tls.has_value()}});
    return absl::OkStatus();
  }

  std::string id_;
  OtlpReceiverConfig config_;
  pipeline::MemoryBudget* memory_;
  common::MetricsRegistry& metrics_;
  std::shared_ptr<Ingestor> ingestor_;
  std::unique_ptr<OtlpGrpcService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<common::GrpcTlsListener> grpc_tls_;  // with tls: accepts for grpc_server_
  std::unique_ptr<common::HttpServer> http_server_;
};

class OtlpReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "otlp"; }
  bool supports(pipeline::Signal) const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    OtlpReceiverConfig cfg = parseConfig(config, settings);
    return std::make_unique<OtlpReceiver>(settings, std::move(cfg), std::move(next));
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makeOtlpReceiverFactory() {
  return std::make_unique<OtlpReceiverFactory>();
}

}  // namespace otlpd::receivers::otlp
