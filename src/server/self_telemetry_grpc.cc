#include "server/self_telemetry_grpc.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>

#include "common/logging.h"
#include "common/strings.h"
#include "pipeline/self_telemetry.h"

namespace otlpd::server {
namespace {

std::string exportMethod(pipeline::Signal signal) {
  switch (signal) {
    case pipeline::Signal::kTraces:
      return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case pipeline::Signal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case pipeline::Signal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  }
  return {};
}

// The body is already an encoded request: a generic stub sends the bytes as they are.
class GrpcSelfTelemetrySender {
 public:
  GrpcSelfTelemetrySender(std::shared_ptr<grpc::Channel> channel, std::string method,
                          std::chrono::milliseconds timeout)
      : channel_(std::move(channel)),
        stub_(channel_),
        method_(std::move(method)),
        timeout_(timeout) {}

  absl::Status send(const std::string& body) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
    ctx.AddMetadata(std::string(pipeline::kSelfTelemetryKey), "1");
    grpc::Slice slice(body.data(), body.size());
    grpc::ByteBuffer request(&slice, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub_.UnaryCall(&ctx, method_, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      done = true;
      cv.notify_one();
    });
    // The deadline bounds the call; gRPC always runs the callback, also on cancellation.
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    if (status.ok()) return absl::OkStatus();
    return absl::UnavailableError(
        strCat("gRPC ", static_cast<int>(status.error_code()), ": ", status.error_message()));
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  const std::string method_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace

absl::StatusOr<std::function<absl::Status(const std::string&)>> selfTelemetryGrpcSender(
    const std::string& endpoint, bool insecure, pipeline::Signal signal,
    std::chrono::milliseconds timeout, std::string_view what) {
  std::string target = endpoint;
  bool tls = false;
  if (target.starts_with("https://")) {
    tls = !insecure;
    target = target.substr(8);
  } else if (target.starts_with("http://")) {
    target = target.substr(7);
  }
  while (!target.empty() && target.back() == '/') target.pop_back();
  if (target.empty() || target.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        strCat(what, " endpoint: '", endpoint, "' must be host:port (gRPC has no path)"));
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  auto channel = grpc::CreateCustomChannel(target,
                                           tls ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                                               : grpc::InsecureChannelCredentials(),
                                           args);
  logging::info("self-telemetry export",
                {{"what", what}, {"endpoint", target}, {"protocol", "grpc"}, {"tls", tls}});
  auto sender =
      std::make_shared<GrpcSelfTelemetrySender>(std::move(channel), exportMethod(signal), timeout);
  return std::function<absl::Status(const std::string&)>(
      [sender](const std::string& body) { return sender->send(body); });
}

}  // namespace otlpd::server
