// The jaeger receiver: Jaeger's collector and agent protocols with the OpenTelemetry Collector's
// keys (`protocols.{grpc, thrift_http, thrift_compact, thrift_binary}`), each translated to OTLP
// (jaeger/to_otlp.h) and ingested through the otlp receiver's path.
#include <grpcpp/grpcpp.h>

#include <optional>

#include "common/endpoint.h"
#include "common/grpc_server_config.h"
#include "common/grpc_tls_listener.h"
#include "common/http_cors.h"
#include "common/http_server.h"
#include "common/http_server_config.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/tls_server_config.h"
#include "pipeline/authenticator.h"
#include "receivers/jaeger/factory.h"
#include "receivers/jaeger/grpc_service.h"
#include "receivers/jaeger/thrift_http_handler.h"
#include "receivers/jaeger/udp_server.h"

namespace otlpd::receivers::jaeger {
namespace {

constexpr int64_t kDefaultMaxMessageMib = 4;  // configgrpc's and confighttp's defaults differ;
                                              // Jaeger clients send small batches

struct GrpcConfig {
  std::string endpoint = "localhost:14250";
  int64_t max_recv_msg_size_mib = kDefaultMaxMessageMib;
  int64_t max_concurrent_streams = 0;
  std::vector<std::pair<const char*, int>> channel_args;  // keepalive
  bool include_metadata = false;
  std::optional<common::TlsServerConfig> tls;
  pipeline::ServerAuthRef auth;
};

struct HttpConfig {
  std::string endpoint = "localhost:14268";
  common::HttpServerOptions limits;
  int64_t max_request_body_size = 20 << 20;  // confighttp's default
  bool include_metadata = false;
  common::CorsPolicy cors;  // confighttp's `cors`
  std::optional<common::TlsServerConfig> tls;
  pipeline::ServerAuthRef auth;
};

struct JaegerReceiverConfig {
  std::optional<GrpcConfig> grpc;
  std::optional<HttpConfig> thrift_http;
  std::optional<UdpOptions> thrift_compact;
  std::optional<UdpOptions> thrift_binary;
};

UdpOptions readUdp(config::ConfigNode& node, std::string default_endpoint, bool compact) {
  UdpOptions udp;
  udp.compact = compact;
  udp.endpoint = node.getString("endpoint", default_endpoint);
  udp.queue_size = node.getInt("queue_size", udp.queue_size, 1, 1'000'000);
  udp.max_packet_size = node.getInt("max_packet_size", udp.max_packet_size, 1, 65'535);
  udp.workers = node.getInt("workers", udp.workers, 1, 1000);
  udp.socket_buffer_size = node.getInt("socket_buffer_size", 0, 0, INT32_MAX);
  node.rejectUnknownKeys();
  return udp;
}

JaegerReceiverConfig parseConfig(config::ConfigNode& node,
                                 const pipeline::CreateSettings& settings) {
  JaegerReceiverConfig cfg;
  config::ConfigNode protocols = node.child("protocols");
  const bool is_map = protocols.yaml().IsMap();
  if (is_map && protocols.yaml()["grpc"]) {
    config::ConfigNode g = protocols.child("grpc");
    GrpcConfig grpc;
    grpc.endpoint = g.getString("endpoint", grpc.endpoint);
    grpc.max_recv_msg_size_mib =
        g.getInt("max_recv_msg_size_mib", grpc.max_recv_msg_size_mib, 1, 2047);
    grpc.max_concurrent_streams = g.getInt("max_concurrent_streams", 0, 0, INT32_MAX);
    grpc.include_metadata = g.getBool("include_metadata", false);
    grpc.channel_args = common::readGrpcKeepalive(g);
    grpc.tls = common::readTlsServerConfig(g);
    grpc.auth = pipeline::readServerAuthenticator(g, settings);
    g.rejectUnknownKeys();
    cfg.grpc = grpc;
  }
  if (is_map && protocols.yaml()["thrift_http"]) {
    config::ConfigNode h = protocols.child("thrift_http");
    HttpConfig http;
    http.endpoint = h.getString("endpoint", http.endpoint);
    http.max_request_body_size =
        h.getInt("max_request_body_size", http.max_request_body_size, 1, int64_t{1} << 34);
    http.include_metadata = h.getBool("include_metadata", false);
    http.cors = common::CorsPolicy::read(h);
    common::readHttpServerLimits(h, http.limits);
    http.tls = common::readTlsServerConfig(h);
    http.auth = pipeline::readServerAuthenticator(h, settings);
    h.rejectUnknownKeys();
    cfg.thrift_http = http;
  }
  if (is_map && protocols.yaml()["thrift_compact"]) {
    config::ConfigNode u = protocols.child("thrift_compact");
    cfg.thrift_compact = readUdp(u, "localhost:6831", true);
  }
  if (is_map && protocols.yaml()["thrift_binary"]) {
    config::ConfigNode u = protocols.child("thrift_binary");
    cfg.thrift_binary = readUdp(u, "localhost:6832", false);
  }
  protocols.rejectUnknownKeys();
  if (!cfg.grpc && !cfg.thrift_http && !cfg.thrift_compact && !cfg.thrift_binary) {
    node.addError("protocols",
                  "enable at least one of grpc, thrift_http, thrift_compact or thrift_binary");
  }
  return cfg;
}

class JaegerReceiver final : public pipeline::Receiver {
 public:
  JaegerReceiver(const pipeline::CreateSettings& settings, JaegerReceiverConfig config,
                 pipeline::SignalConsumers next)
      : id_(settings.id.toString()),
        config_(std::move(config)),
        metrics_(settings.metrics),
        memory_(settings.memory),
        ingestor_(
            std::make_shared<Ingestor>(id_, std::move(next), settings.metrics, settings.memory,
                                       std::initializer_list<Transport>{
                                           Transport::kGrpc, Transport::kHttp, Transport::kUdp})) {}

  ~JaegerReceiver() override { (void)shutdown(); }

  absl::Status start(pipeline::Host& host) override {
    for (auto [transport, auth] :
         {std::pair{Transport::kGrpc, config_.grpc ? config_.grpc->auth : nullptr},
          std::pair{Transport::kHttp, config_.thrift_http ? config_.thrift_http->auth : nullptr}}) {
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
    if (config_.thrift_http) {
      if (absl::Status s = startHttp(host); !s.ok()) return s;
    }
    for (const auto& [udp, name] : {std::pair{&config_.thrift_compact, "thrift_compact"},
                                    std::pair{&config_.thrift_binary, "thrift_binary"}}) {
      if (!udp->has_value()) continue;
      auto server = UdpServer::start(**udp, ingestor_, metrics_, id_);
      if (!server.ok()) return server.status();
      host.publishEndpoint(strCat(id_, ".", name), (*server)->boundEndpoint());
      logging::info(
          "receiver listening",
          {{"receiver", id_}, {"transport", name}, {"endpoint", (*server)->boundEndpoint()}});
      udp_servers_.push_back(*std::move(server));
    }
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    for (auto& udp : udp_servers_) udp->stop();
    udp_servers_.clear();
    if (http_server_) {
      http_server_->stop();
      http_server_.reset();
    }
    if (grpc_tls_) grpc_tls_->stopAccepting();
    if (grpc_server_) {
      grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
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
  absl::Status startHttp(pipeline::Host& host) {
    const HttpConfig& cfg = *config_.thrift_http;
    common::HttpServerOptions options = cfg.limits;
    options.endpoint = cfg.endpoint;
    options.metrics = &metrics_;
    options.listener = id_ + ".thrift_http";
    options.max_body_bytes = static_cast<size_t>(cfg.max_request_body_size);
    if (cfg.tls) {
      auto tls = common::TlsContextSource::create(*cfg.tls, common::TlsAlpn::kHttp11, &metrics_,
                                                  options.listener);
      if (!tls.ok()) return tls.status();
      options.tls = *std::move(tls);
    }
    auto handler = std::make_shared<ThriftHttpHandler>(ingestor_, options.max_body_bytes,
                                                       cfg.include_metadata, cfg.cors);
    auto server = common::HttpServer::start(options, handler);
    if (!server.ok()) return server.status();
    http_server_ = std::move(*server);
    host.publishEndpoint(id_ + ".thrift_http", http_server_->boundEndpoint());
    logging::info("receiver listening", {{"receiver", id_},
                                         {"transport", "thrift_http"},
                                         {"endpoint", http_server_->boundEndpoint()},
                                         {"tls", cfg.tls.has_value()}});
    return absl::OkStatus();
  }

  absl::Status startGrpc(pipeline::Host& host) {
    const GrpcConfig& cfg = *config_.grpc;
    auto hp = common::HostPort::parse(cfg.endpoint);
    if (!hp.ok()) return hp.status();
    grpc_service_ = std::make_unique<JaegerGrpcService>(ingestor_, cfg.include_metadata);
    grpc::ServerBuilder builder;
    int port = 0;
    const std::string address = hp->host.empty() ? strCat("0.0.0.0:", hp->port) : cfg.endpoint;
    if (cfg.tls) {
      auto tls = common::TlsContextSource::create(*cfg.tls, common::TlsAlpn::kH2, &metrics_,
                                                  id_ + ".grpc");
      if (!tls.ok()) return tls.status();
      common::GrpcTlsListenerOptions options;
      options.endpoint = cfg.endpoint;
      options.tls = *std::move(tls);
      options.metrics = &metrics_;
      options.listener = id_ + ".grpc";
      auto listener = common::GrpcTlsListener::bind(options);
      if (!listener.ok()) return listener.status();
      grpc_tls_ = *std::move(listener);
      auto bound = common::HostPort::parse(grpc_tls_->boundEndpoint());
      if (bound.ok()) port = bound->port;
    } else {
      builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
    }
    builder.SetMaxReceiveMessageSize(static_cast<int>(cfg.max_recv_msg_size_mib << 20));
    builder.RegisterCallbackGenericService(grpc_service_.get());
    const int64_t max_streams = cfg.max_concurrent_streams > 0 ? cfg.max_concurrent_streams
                                : memory_ != nullptr
                                    ? common::defaultMaxConcurrentStreams(memory_->limit())
                                    : 0;
    if (max_streams > 0) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, static_cast<int>(max_streams));
    }
    for (const auto& [name, value] : cfg.channel_args) builder.AddChannelArgument(name, value);
    if (memory_ != nullptr) common::limitGrpcReadMemory(builder, memory_->limit(), id_ + ".grpc");
    grpc_server_ = builder.BuildAndStart();
    if (!grpc_server_ || port == 0) {
      grpc_server_.reset();
      grpc_tls_.reset();
      return absl::UnavailableError(strCat("cannot listen for Jaeger gRPC on ", cfg.endpoint));
    }
    if (grpc_tls_) grpc_tls_->start(grpc_server_.get());
    common::HostPort bound = *hp;
    bound.port = static_cast<uint16_t>(port);
    if (bound.host.empty()) bound.host = "0.0.0.0";
    host.publishEndpoint(id_ + ".grpc", bound.toString());
    logging::info("receiver listening", {{"receiver", id_},
                                         {"transport", "grpc"},
                                         {"endpoint", bound.toString()},
                                         {"tls", cfg.tls.has_value()}});
    return absl::OkStatus();
  }

  std::string id_;
  JaegerReceiverConfig config_;
  common::MetricsRegistry& metrics_;
  pipeline::MemoryBudget* memory_;
  std::shared_ptr<Ingestor> ingestor_;
  std::unique_ptr<JaegerGrpcService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<common::GrpcTlsListener> grpc_tls_;
  std::unique_ptr<common::HttpServer> http_server_;
  std::vector<std::unique_ptr<UdpServer>> udp_servers_;
};

class JaegerReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "jaeger"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kTraces;
  }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    JaegerReceiverConfig cfg = parseConfig(config, settings);
    return std::make_unique<JaegerReceiver>(settings, std::move(cfg), std::move(next));
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makeJaegerReceiverFactory() {
  return std::make_unique<JaegerReceiverFactory>();
}

}  // namespace otlpd::receivers::jaeger
