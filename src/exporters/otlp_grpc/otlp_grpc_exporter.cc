#include "exporters/otlp_grpc/otlp_grpc_exporter.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/match.h"
#include "common/compression.h"
#include "common/grpc_raw_message.h"
#include "common/logging.h"
#include "common/strings.h"
#include "exporters/helper/config.h"
#include "exporters/helper/otlp_client_config.h"
#include "exporters/helper/queued_exporter.h"
#include "otlp/proto.h"
#include "pipeline/authenticator.h"
#include "pipeline/self_telemetry.h"
#include "selftrace/tracer.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::exporters::otlp_grpc {
namespace {

using pipeline::Signal;
namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;
namespace pb_collector_metrics = ::opentelemetry::proto::collector::metrics::v1;
namespace pb_collector_logs = ::opentelemetry::proto::collector::logs::v1;

struct KeepaliveConfig {
  absl::Duration time = absl::ZeroDuration();  // zero: gRPC's default (off)
  absl::Duration timeout = absl::Seconds(20);
  bool permit_without_stream = false;
};

struct GrpcExporterConfig {
  helper::HelperConfig helper;
  helper::OtlpClientConfig client;
  std::string target;  // host:port for gRPC
  KeepaliveConfig keepalive;
  bool plaintext = false;
  pipeline::ClientAuthRef auth;  // `auth.authenticator`; null: none
};

// Channels are shared by every signal's exporter that connects the same way, so that traces,
// metrics and logs to one destination use one connection.
std::shared_ptr<grpc::Channel> sharedChannel(
    const GrpcExporterConfig& c, const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<grpc::Channel>> channels;
  const std::string key =
      strCat(c.target, "|", c.plaintext, "|", c.client.tls.identity(), "|",
             absl::ToInt64Milliseconds(c.keepalive.time), "|",
             absl::ToInt64Milliseconds(c.keepalive.timeout), "|", c.keepalive.permit_without_stream,
             "|", c.client.tls.server_name_override);
  std::lock_guard lock(mu);
  if (auto existing = channels[key].lock()) return existing;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(-1);
  if (c.keepalive.time > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                static_cast<int>(absl::ToInt64Milliseconds(c.keepalive.time)));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                static_cast<int>(absl::ToInt64Milliseconds(c.keepalive.timeout)));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, c.keepalive.permit_without_stream ? 1 : 0);
  }
  if (!c.client.tls.server_name_override.empty()) {
    args.SetSslTargetNameOverride(c.client.tls.server_name_override);
  }
  auto channel = grpc::CreateCustomChannel(c.target, creds, args);
  channels[key] = channel;
  return channel;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentialsFor(
    const GrpcExporterConfig& c) {
  if (c.plaintext) return grpc::InsecureChannelCredentials();
  const helper::TlsClientConfig& tls = c.client.tls;
  auto pem = helper::loadTlsClientPem(tls);
  if (!pem.ok()) return pem.status();
  const std::string& cert = pem->cert;
  const std::string& key = pem->key;
  if (tls.insecure_skip_verify) {
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_verify_server_certs(false);
    options.set_check_call_host(false);
    // Not verifying the server is no reason to withhold our certificate from one that asks.
    if (!cert.empty()) {
      options.set_certificate_provider(
          std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
              std::vector<grpc::experimental::IdentityKeyCertPair>{{key, cert}}));
      options.watch_identity_key_cert_pairs();
    }
    return grpc::experimental::TlsCredentials(options);
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem->ca;
  options.pem_cert_chain = cert;
  options.pem_private_key = key;
  return grpc::SslCredentials(options);
}

// gRPC C++ 1.51 offers a channel no say in TLS versions or suites (it always negotiates TLS 1.2 or
// 1.3 with its own list), and its credentials are fixed when the channel is made: a setting it
// cannot honour is a config error rather than silently ignored.
void rejectWhatGrpcCannotDo(config::ConfigNode& tls, const helper::TlsClientConfig& c) {
  constexpr std::string_view kWhy =
      " is not possible with gRPC C++ 1.51, which always negotiates TLS 1.2 or 1.3 with its own "
      "cipher suites; the otlp_http exporter honours it";
  if (c.min_version == common::TlsVersion::k13)
    tls.addError("min_version", strCat("\"1.3\"", kWhy));
  if (c.max_version < common::TlsVersion::k13) {
    tls.addError("max_version", strCat("\"", common::tlsVersionName(c.max_version), "\"", kWhy));
  }
  if (!c.cipher_suites.empty()) tls.addError("cipher_suites", strCat("choosing suites", kWhy));
  if (!c.curve_preferences.empty()) {
    tls.addError("curve_preferences", strCat("choosing groups", kWhy));
  }
  if (c.reload_interval > absl::ZeroDuration()) {
    tls.addError("reload_interval",
                 "is not supported by the otlp_grpc exporter yet (its credentials are fixed when "
                 "the channel is made); the otlp_http exporter reloads");
  }
}

// The OTLP spec's retryable codes, plus RESOURCE_EXHAUSTED even without RetryInfo: a downstream
// collector's memory limiter answers that while it recovers, and treating it as permanent is how
// forwarding loses data. max_elapsed_time still bounds it, and then the dead-letter queue keeps it.
bool retryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
    // A deviation from the Collector, which drops: credentials refused are fixed by rotating them
    // (a token file rewritten here or there), not by changing the data, so retrying until
    // max_elapsed_time and then the dead-letter queue keeps what a drop would lose.
    case grpc::StatusCode::UNAUTHENTICATED:
      return true;
    default:
      return false;
  }
}

std::optional<absl::Duration> retryInfoDelay(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& detail : rich.details()) {
    google::rpc::RetryInfo info;
    if (detail.Is<google::rpc::RetryInfo>() && detail.UnpackTo(&info)) {
      return absl::Seconds(info.retry_delay().seconds()) +
             absl::Nanoseconds(info.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

class GrpcSender final : public helper::Sender {
 public:
  GrpcSender(const GrpcExporterConfig& c, Signal signal, std::shared_ptr<grpc::Channel> channel)
      : signal_(signal),
        auth_(c.auth ? c.auth->authenticator : nullptr),
        channel_(std::move(channel)),
        destination_(strCat(c.plaintext ? "grpc://" : "grpcs://", c.target)),
        headers_(c.client.headers),
        compression_(c.client.compression == common::Compression::kGzip      ? GRPC_COMPRESS_GZIP
                     : c.client.compression == common::Compression::kDeflate ? GRPC_COMPRESS_DEFLATE
                                                                             : GRPC_COMPRESS_NONE) {
    export_method_ = std::make_unique<grpc::internal::RpcMethod>(
        exportMethodName(signal), grpc::internal::RpcMethod::NORMAL_RPC, channel_);
    switch (signal) {
      case Signal::kTraces:
        traces_ = pb_collector_trace::TraceService::NewStub(channel_);
        break;
      case Signal::kMetrics:
        metrics_ = pb_collector_metrics::MetricsService::NewStub(channel_);
        break;
      case Signal::kLogs:
        logs_ = pb_collector_logs::LogsService::NewStub(channel_);
        break;
    }
  }

  std::string destination() const override { return destination_; }

  helper::SendResult send(const pipeline::Batch& batch, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    ctx.set_compression_algorithm(compression_);
    // Asked per attempt: a retry after the credentials were rotated sends the new ones. They
    // replace configured headers of the same name.
    std::vector<std::pair<std::string, std::string>> credentials;
    if (auth_) credentials = auth_->requestHeaders();
    for (const auto& [k, v] : headers_) {
      const bool replaced = std::any_of(credentials.begin(), credentials.end(),
                                        [&k = k](const auto& c) { return c.first == k; });
      if (!replaced) ctx.AddMetadata(k, v);
    }
    for (const auto& [k, v] : credentials) ctx.AddMetadata(k, v);
    // A client span per attempt when otlpd traces itself; the downstream continues the trace.
    // Never for otlpd's own telemetry, which says so downstream too (no loops).
    const bool self_telemetry = pipeline::isSelfTelemetry(batch.metadata());
    if (self_telemetry) ctx.AddMetadata(std::string(pipeline::kSelfTelemetryKey), "1");
    auto span = self_telemetry
                    ? selftrace::ScopedSpan::none()
                    : selftrace::ScopedSpan::child(strCat("export ", pipeline::signalName(signal_)),
                                                   selftrace::SpanKind::kClient);
    if (span.recording()) {
      ctx.AddMetadata("traceparent", span.traceparent());
      if (!span.tracestate().empty()) ctx.AddMetadata("tracestate", span.tracestate());
      span.setAttribute("server.address", destination_);
      span.setAttribute("otlpd.items", static_cast<int64_t>(batch.itemCount()));
    }
    helper::SendResult result;
    grpc::Status status;
    std::optional<std::string_view> wire = batch.wireBytes();
    // Compressed messages are compressed here (libdeflate, several times zlib's speed) and sent
    // marked as compressed, so gRPC's zlib never sees them: a decoded batch is serialized first.
    std::string serialized;
    if (!wire && compression_ != GRPC_COMPRESS_NONE) {
      serialized = signal_ == Signal::kTraces    ? batch.traces().SerializeAsString()
                   : signal_ == Signal::kMetrics ? batch.metrics().SerializeAsString()
                                                 : batch.logs().SerializeAsString();
      wire = serialized;
    }
    switch (signal_) {
      case Signal::kTraces: {
        otlp::TracesResponse response;
        status = wire ? exportBytes(&ctx, batch, *wire, &response)
                      : traces_->Export(&ctx, batch.traces(), &response);
        if (status.ok() && response.has_partial_success()) {
          result.rejected_items = response.partial_success().rejected_spans();
          result.rejected_message = response.partial_success().error_message();
        }
        break;
      }
      case Signal::kMetrics: {
        otlp::MetricsResponse response;
        status = wire ? exportBytes(&ctx, batch, *wire, &response)
                      : metrics_->Export(&ctx, batch.metrics(), &response);
        if (status.ok() && response.has_partial_success()) {
          result.rejected_items = response.partial_success().rejected_data_points();
          result.rejected_message = response.partial_success().error_message();
        }
        break;
      }
      case Signal::kLogs: {
        otlp::LogsResponse response;
        status = wire ? exportBytes(&ctx, batch, *wire, &response)
                      : logs_->Export(&ctx, batch.logs(), &response);
        if (status.ok() && response.has_partial_success()) {
          result.rejected_items = response.partial_success().rejected_log_records();
          result.rejected_message = response.partial_success().error_message();
        }
        break;
      }
    }
    if (status.ok()) return result;
    span.setError(status.error_message());
    const std::string message =
        strCat("gRPC ", static_cast<int>(status.error_code()), ": ", status.error_message());
    result.retry_after = retryInfoDelay(status);
    result.status = retryable(status.error_code()) ? absl::UnavailableError(message)
                                                   : absl::InvalidArgumentError(message);
    return result;
  }

 private:
  static const char* exportMethodName(Signal signal) {
    switch (signal) {
      case Signal::kTraces:
        return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
      case Signal::kMetrics:
        return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
      case Signal::kLogs:
        return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    }
    return "";
  }

  // Sends a request still in wire form as it is: no re-encoding and no copy. gRPC holds a copy
  // of the batch (sharing its bytes) for as long as it needs the slice.
  template <class Response>
  grpc::Status exportBytes(grpc::ClientContext* ctx, const pipeline::Batch& batch,
                           std::string_view bytes, Response* response) {
    if (compression_ != GRPC_COMPRESS_NONE) {
      absl::StatusOr<std::string> compressed =
          common::compress(compression_ == GRPC_COMPRESS_GZIP ? common::Compression::kGzip
                                                              : common::Compression::kDeflate,
                           bytes);
      if (!compressed.ok()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            strCat("compressing the request: ", compressed.status().message()));
      }
      auto* held = new std::string(*std::move(compressed));
      grpc::Slice slice(
          held->data(), held->size(), [](void* p) { delete static_cast<std::string*>(p); }, held);
      grpc::ByteBuffer request(&slice, 1);
      common::markCompressed(request, compression_);
      return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, Response, grpc::ByteBuffer,
                                               grpc::protobuf::MessageLite>(
          channel_.get(), *export_method_, ctx, request, response);
    }
    auto* keep_alive = new pipeline::Batch(batch);
    grpc::Slice slice(
        const_cast<char*>(bytes.data()), bytes.size(),
        [](void* held) { delete static_cast<pipeline::Batch*>(held); }, keep_alive);
    grpc::ByteBuffer request(&slice, 1);
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, Response, grpc::ByteBuffer,
                                             grpc::protobuf::MessageLite>(
        channel_.get(), *export_method_, ctx, request, response);
  }

  Signal signal_;
  std::shared_ptr<pipeline::ClientAuthenticator> auth_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::internal::RpcMethod> export_method_;
  std::string destination_;
  std::map<std::string, std::string> headers_;
  grpc_compression_algorithm compression_;
  std::unique_ptr<pb_collector_trace::TraceService::Stub> traces_;
  std::unique_ptr<pb_collector_metrics::MetricsService::Stub> metrics_;
  std::unique_ptr<pb_collector_logs::LogsService::Stub> logs_;
};

class OtlpGrpcExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "otlp_grpc"; }
  std::vector<std::string_view> aliases() const override { return {"otlp"}; }
  bool supports(Signal) const override { return true; }
  bool queuesInternally() const override { return true; }  // the exporter helper's queue

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      Signal signal) const override {
    GrpcExporterConfig c;
    c.helper = helper::parseHelperConfig(config);
    c.client = helper::parseOtlpClientConfig(config, signal);
    std::string endpoint =
        config.getString("endpoint", helper::otlpEnv(signal, "ENDPOINT").value_or(""));
    if (endpoint.empty()) config.addError("endpoint", "is required (host:port)");
    config::ConfigNode tls = config.child("tls");
    rejectWhatGrpcCannotDo(tls, c.client.tls);
    c.plaintext = c.client.tls.insecure;
    // A scheme says whether TLS is wanted, as the Collector reads it.
    if (absl::StartsWith(toAbsl(endpoint), "http://")) {
      c.plaintext = true;
      endpoint = endpoint.substr(7);
    } else if (absl::StartsWith(toAbsl(endpoint), "https://")) {
      endpoint = endpoint.substr(8);
    }
    if (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    c.target = endpoint;
    if (c.client.compression == common::Compression::kZstd) {
      config.addError("compression",
                      "zstd is not available for gRPC in this build (gRPC C++ 1.51 has gzip and "
                      "deflate); use gzip, none, or the otlp_http exporter for zstd");
    }
    config::ConfigNode k = config.child("keepalive");
    c.keepalive.time = k.getDuration("time", c.keepalive.time);
    c.keepalive.timeout = k.getDuration("timeout", c.keepalive.timeout);
    c.keepalive.permit_without_stream = k.getBool("permit_without_stream", false);
    k.rejectUnknownKeys();
    c.auth = pipeline::readClientAuthenticator(config, settings);
    auto factory =
        [c, signal,
         id = settings.id.toString()]() -> absl::StatusOr<std::shared_ptr<helper::Sender>> {
      if (c.auth && c.auth->authenticator == nullptr) {
        return absl::FailedPreconditionError(
            strCat("authenticator '", c.auth->id.toString(), "' is not available"));
      }
      if (c.auth && c.plaintext) {
        logging::warn("exporter sends credentials without TLS",
                      {{"exporter", id}, {"endpoint", c.target}});
      }
      auto creds = credentialsFor(c);
      if (!creds.ok()) return creds.status();
      return std::make_shared<GrpcSender>(c, signal, sharedChannel(c, *creds));
    };
    return helper::makeQueuedExporter(settings, signal, c.helper, std::move(factory));
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<helper::Sender>> makeOtlpGrpcSender(
    Signal signal, const std::string& endpoint, common::Compression compression) {
  GrpcExporterConfig c;
  c.client.compression = compression;
  c.plaintext = !absl::StartsWith(toAbsl(endpoint), "https://");
  c.target = endpoint;
  if (absl::StartsWith(toAbsl(endpoint), "https://")) c.target = endpoint.substr(8);
  if (absl::StartsWith(toAbsl(endpoint), "http://")) c.target = endpoint.substr(7);
  auto creds = credentialsFor(c);
  if (!creds.ok()) return creds.status();
  return std::shared_ptr<helper::Sender>(
      std::make_shared<GrpcSender>(c, signal, sharedChannel(c, *creds)));
}

std::unique_ptr<pipeline::ExporterFactory> makeOtlpGrpcExporterFactory() {
  return std::make_unique<OtlpGrpcExporterFactory>();
}

}  // namespace otlpd::exporters::otlp_grpc
