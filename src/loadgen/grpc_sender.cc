// OTLP/gRPC through a generic stub and the callback API: requests are raw bytes (the pre-encoded
// protobuf), and gRPC's own threads complete them, so `--concurrency` calls are in flight on one
// HTTP/2 connection without a thread each.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "common/strings.h"
#include "loadgen/sender.h"

namespace otlpd::loadgen {
namespace {

using pipeline::Signal;

std::string methodFor(Protocol protocol, Signal signal) {
  if (protocol == Protocol::kJaegerGrpc) return "/jaeger.api_v2.CollectorService/PostSpans";
  switch (signal) {
    case Signal::kTraces:
      return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case Signal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case Signal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  }
  return {};
}

std::string stripScheme(const std::string& endpoint) {
  for (std::string_view scheme : {"http://", "grpc://", "dns:///"}) {
    if (endpoint.starts_with(scheme)) return endpoint.substr(scheme.size());
  }
  return endpoint;
}

std::string flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

class GrpcSender final : public Sender {
 public:
  explicit GrpcSender(const SenderOptions& o)
      : options_(o), method_(methodFor(o.protocol, o.signal)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(-1);
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = o.tls_ca_pem;
    channel_ = grpc::CreateCustomChannel(
        stripScheme(o.endpoint),
        o.tls_ca_pem.empty() ? grpc::InsecureChannelCredentials() : grpc::SslCredentials(tls),
        args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
    switch (o.compression) {
      case common::Compression::kGzip:
        algorithm_ = GRPC_COMPRESS_GZIP;
        break;
      case common::Compression::kDeflate:
        algorithm_ = GRPC_COMPRESS_DEFLATE;
        break;
      default:
        algorithm_ = GRPC_COMPRESS_NONE;
    }
  }

  // gRPC runs a call's completion and then destroys its ClientContext on its own thread, after
  // `done` has told the caller the call is over. Tearing the channel down before that
  // destruction has finished frees the channel's callback queue twice, so wait for it.
  ~GrpcSender() override {
    std::unique_lock lock(in_flight_mu_);
    calls_gone_.wait(lock, [this] { return in_flight_ == 0; });
  }

  void send(const EncodedRequest& request, std::function<void(SendResult)> done) override {
    {
      std::lock_guard lock(in_flight_mu_);
      ++in_flight_;
    }
    auto call = std::make_shared<Call>(*this);
    call->request = bufferFor(request);
    call->ctx.set_deadline(std::chrono::system_clock::now() + options_.timeout);
    call->ctx.set_compression_algorithm(algorithm_);
    stub_->UnaryCall(&call->ctx, method_, grpc::StubOptions(), &call->request, &call->response,
                     [this, call, done = std::move(done)](grpc::Status status) {
                       done(resultOf(status, call->response));
                     });
  }

 private:
  // Counts itself out after its members (the ClientContext above all) are destroyed.
  class InFlightToken {
   public:
    explicit InFlightToken(GrpcSender& sender) : sender_(sender) {}
    InFlightToken(const InFlightToken&) = delete;
    InFlightToken& operator=(const InFlightToken&) = delete;
    ~InFlightToken() {
      std::lock_guard lock(sender_.in_flight_mu_);
      if (--sender_.in_flight_ == 0) sender_.calls_gone_.notify_all();
    }

   private:
    GrpcSender& sender_;
  };

  struct Call {
    explicit Call(GrpcSender& sender) : token(sender) {}
    InFlightToken token;  // first member: destroyed last
    grpc::ClientContext ctx;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };

  // One slice per pre-encoded request, made on first use; copies of a ByteBuffer share it. A
  // body renewed for every send is copied every time: a slice kept for its address would send
  // the first send's ids again (and did, until --unique-ids was checked end to end).
  grpc::ByteBuffer bufferFor(const EncodedRequest& request) {
    if (request.renewed_per_send) {
      grpc::Slice slice(request.body.data(), request.body.size());
      return grpc::ByteBuffer(&slice, 1);
    }
    std::lock_guard lock(mu_);
    auto it = buffers_.find(&request);
    if (it == buffers_.end()) {
      grpc::Slice slice(request.body.data(), request.body.size());
      it = buffers_.emplace(&request, grpc::ByteBuffer(&slice, 1)).first;
    }
    return it->second;
  }

  SendResult resultOf(const grpc::Status& status, const grpc::ByteBuffer& response) {
    SendResult r;
    // A server that refuses sends details (RetryInfo) or at least answers on a connected
    // channel; an UNAVAILABLE on a channel that never connected is the transport's own.
    r.answered = status.ok() || !status.error_details().empty() ||
                 channel_->GetState(false) == GRPC_CHANNEL_READY;
    r.outcome = classifyGrpcStatus(static_cast<int>(status.error_code()), r.answered);
    if (!status.ok()) {
      r.error =
          strCat("gRPC ", static_cast<int>(status.error_code()), ": ", status.error_message());
      return r;
    }
    // Jaeger's PostSpansResponse is empty: no partial success to read.
    if (options_.protocol == Protocol::kJaegerGrpc) return r;
    auto rejected = rejectedItems(options_.signal, false, flatten(response));
    if (!rejected.ok()) {
      r.outcome = Outcome::kFailed;
      r.error = strCat("undecodable response: ", rejected.status().message());
      return r;
    }
    r.rejected_items = *rejected;
    return r;
  }

  const SenderOptions options_;
  const std::string method_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc_compression_algorithm algorithm_ = GRPC_COMPRESS_NONE;
  std::mutex mu_;
  std::map<const EncodedRequest*, grpc::ByteBuffer> buffers_;
  std::mutex in_flight_mu_;
  std::condition_variable calls_gone_;
  size_t in_flight_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Sender>> makeGrpcSender(const SenderOptions& options) {
  if (options.compression == common::Compression::kZstd) {
    return absl::InvalidArgumentError("gRPC supports gzip and deflate compression, not zstd");
  }
  return std::make_unique<GrpcSender>(options);
}

}  // namespace otlpd::loadgen
