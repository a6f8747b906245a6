// The zipkin receiver, configured with the OpenTelemetry Collector's keys: `endpoint` (default
// localhost:9411), `parse_string_tags`, and the HTTP server settings every listener of ours reads
// (timeouts, connection limits, max_request_body_size, tls, auth, cors, include_metadata).
#include "absl/strings/str_cat.h"
#include "common/http_server.h"
#include "common/http_server_config.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/tls_server_config.h"
#include "pipeline/authenticator.h"
#include "receivers/otlp/ingest.h"
#include "receivers/zipkin/factory.h"
#include "receivers/zipkin/http_handler.h"

namespace otlpd::receivers::zipkin {
namespace {

struct ZipkinReceiverConfig {
  std::string endpoint = "localhost:9411";
  common::HttpServerOptions limits;
  int64_t max_request_body_size = int64_t{64} << 20;
  ::otlpd::zipkin::ToOtlpOptions translation;
  ZipkinCors cors;
  bool include_metadata = false;
  std::optional<common::TlsServerConfig> tls;
  pipeline::ServerAuthRef auth;
};

ZipkinReceiverConfig parseConfig(config::ConfigNode& node,
                                 const pipeline::CreateSettings& settings) {
  ZipkinReceiverConfig c;
  c.endpoint = node.getString("endpoint", c.endpoint);
  c.translation.parse_string_tags = node.getBool("parse_string_tags", false);
  c.max_request_body_size =
      node.getInt("max_request_body_size", c.max_request_body_size, 1, int64_t{1} << 34);
  c.include_metadata = node.getBool("include_metadata", false);
  config::ConfigNode cors = node.child("cors");
  c.cors.allowed_origins = cors.getStringList("allowed_origins");
  c.cors.allowed_headers = cors.getStringList("allowed_headers");
  c.cors.max_age_seconds = static_cast<int>(cors.getInt("max_age", 0, 0, 86400 * 365));
  cors.rejectUnknownKeys();
  common::readHttpServerLimits(node, c.limits);
  c.tls = common::readTlsServerConfig(node);
  c.auth = pipeline::readServerAuthenticator(node, settings);
  node.rejectUnknownKeys();
  return c;
}

class ZipkinReceiver final : public pipeline::Receiver {
 public:
  ZipkinReceiver(const pipeline::CreateSettings& settings, ZipkinReceiverConfig config,
                 pipeline::SignalConsumers next)
      : id_(settings.id.toString()),
        config_(std::move(config)),
        metrics_(settings.metrics),
        ingestor_(std::make_shared<otlp::Ingestor>(id_, std::move(next), settings.metrics,
                                                   settings.memory)) {}

  ~ZipkinReceiver() override { (void)shutdown(); }

  absl::Status start(pipeline::Host& host) override {
    if (config_.auth) {
      if (config_.auth->authenticator == nullptr) {
        return absl::FailedPreconditionError(
            strCat("authenticator '", config_.auth->id.toString(), "' is not available"));
      }
      ingestor_->setAuthenticator(otlp::Transport::kHttp, config_.auth->authenticator);
    }
    common::HttpServerOptions options = config_.limits;
    options.endpoint = config_.endpoint;
    options.metrics = &metrics_;
    options.listener = id_ + ".http";
    options.max_body_bytes = static_cast<size_t>(config_.max_request_body_size);
    if (config_.tls) {
      auto tls = common::TlsContextSource::create(*config_.tls, common::TlsAlpn::kHttp11, &metrics_,
                                                  options.listener);
      if (!tls.ok()) return tls.status();
      options.tls = *std::move(tls);
    }
    auto handler =
        std::make_shared<ZipkinHttpHandler>(ingestor_, config_.translation, options.max_body_bytes,
                                            config_.cors, config_.include_metadata, id_);
    auto server = common::HttpServer::start(options, handler);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    host.publishEndpoint(id_ + ".http", server_->boundEndpoint());
    logging::info("receiver listening", {{"receiver", id_},
                                         {"transport", "http"},
                                         {"endpoint", server_->boundEndpoint()},
                                         {"tls", config_.tls.has_value()}});
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (server_) {
      server_->stop();
      server_.reset();
    }
    return absl::OkStatus();
  }

 private:
  std::string id_;
  ZipkinReceiverConfig config_;
  common::MetricsRegistry& metrics_;
  std::shared_ptr<otlp::Ingestor> ingestor_;
  std::unique_ptr<common::HttpServer> server_;
};

class ZipkinReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "zipkin"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kTraces;
  }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    ZipkinReceiverConfig c = parseConfig(config, settings);
    return std::make_unique<ZipkinReceiver>(settings, std::move(c), std::move(next));
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makeZipkinReceiverFactory() {
  return std::make_unique<ZipkinReceiverFactory>();
}

}  // namespace otlpd::receivers::zipkin
