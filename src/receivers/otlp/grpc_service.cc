#include "receivers/otlp/grpc_service.h"

#include <grpcpp/support/slice.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/compression.h"
#include "common/grpc_raw_message.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "otlp/proto.h"
#include "pipeline/deferred_ack.h"
#include "selftrace/tracer.h"

namespace otlpd::receivers::otlp {
namespace {

using pipeline::Signal;

std::optional<Signal> signalForMethod(const std::string& method) {
  if (method == "/opentelemetry.proto.collector.trace.v1.TraceService/Export") {
    return Signal::kTraces;
  }
  if (method == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export") {
    return Signal::kMetrics;
  }
  if (method == "/opentelemetry.proto.collector.logs.v1.LogsService/Export") {
    return Signal::kLogs;
  }
  return std::nullopt;
}

grpc::Status retryableStatus(const std::string& message) {
  // The OTLP spec lets a server say how long to wait; without RetryInfo a client may still
  // retry UNAVAILABLE, but with it the wait is ours to choose.
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  google::rpc::Status rich;
  rich.set_code(grpc::StatusCode::UNAVAILABLE);
  rich.set_message(message);
  rich.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, message, rich.SerializeAsString());
}

}  // namespace

// One call, from the request for it to its answer. Each completed operation comes back to a
// polling thread as this object's tag; `state_` says which operation it was.
class OtlpGrpcService::Call {
 public:
  Call(OtlpGrpcService* service, grpc::ServerCompletionQueue* queue)
      : service_(service), queue_(queue), stream_(&context_) {
    service_->callCreated();
    service_->service_.RequestCall(&context_, &stream_, queue_, queue_, this);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() { service_->callDestroyed(); }

  void proceed(bool ok) {
    switch (state_) {
      case State::kWaitingForCall:
        if (!ok) {  // the server is shutting down
          delete this;
          return;
        }
        new Call(service_, queue_);  // the queue's next call
        state_ = State::kStarted;
        begin();
        return;
      case State::kStarted:  // no operation is pending in this state
        return;
      case State::kReading:
        onRead(ok);
        return;
      case State::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class State { kWaitingForCall, kStarted, kReading, kFinishing };

  // Credentials, then admission, before the message is read: a refused message is never read,
  // so the bytes of a client that is not let in (or of overload) stay with the client (HTTP/2
  // flow control) instead of filling our memory.
  void begin() {
    const Ingestor& ingestor = *service_->ingestor_;
    const std::optional<Signal> signal = signalForMethod(context_.method());
    if (!signal) {
      finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + context_.method()));
      return;
    }
    if (!ingestor.serves(*signal)) {
      finish(grpc::Status(
          grpc::StatusCode::UNIMPLEMENTED,
          "this receiver has no pipeline for " + std::string(pipeline::signalName(*signal))));
      return;
    }
    signal_ = *signal;
    const auto& client_metadata = context_.client_metadata();
    Authentication auth = service_->ingestor_->authenticate(
        Transport::kGrpc, [&](std::string_view name) -> std::optional<std::string_view> {
          auto it = client_metadata.find(grpc::string_ref(name.data(), name.size()));
          if (it == client_metadata.end()) return std::nullopt;
          return std::string_view(it->second.data(), it->second.size());
        });
    if (!auth.accepted) {
      finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated"));
      return;
    }
    std::string refusal;
    auto admitted = service_->ingestor_->admit(Transport::kGrpc, signal_, &refusal);
    if (!admitted) {
      finish(retryableStatus(refusal));
      return;
    }
    admitted_ = *std::move(admitted);
    if (service_->include_metadata_ || !auth.attributes.empty()) {
      auto metadata = std::make_shared<pipeline::RequestMetadata>();
      if (service_->include_metadata_) {
        for (const auto& [key, value] : client_metadata) {
          const std::string_view name(key.data(), key.size());
          if (ingestor.isCredentialsHeader(Transport::kGrpc, name)) continue;
          metadata->add(name, std::string_view(value.data(), value.size()));
        }
      }
      for (const auto& [name, value] : auth.attributes) metadata->addAuth(name, value);
      metadata_ = std::move(metadata);
    }
    if (selftrace::Tracer::installed() != nullptr &&
        client_metadata.find(grpc::string_ref(
            selftrace::ScopedSpan::kSelfTelemetryHeader.data(),
            selftrace::ScopedSpan::kSelfTelemetryHeader.size())) == client_metadata.end()) {
      auto value = [&](std::string_view name) {
        auto it = client_metadata.find(grpc::string_ref(name.data(), name.size()));
        return it == client_metadata.end() ? std::string()
                                           : std::string(it->second.data(), it->second.size());
      };
      trace_headers_.emplace(value("traceparent"), value("tracestate"));
    }
    state_ = State::kReading;
    stream_.Read(&request_, this);
  }

  void onRead(bool ok) {
    Ingestor& ingestor = *service_->ingestor_;
    if (!ok) {
      finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    pipeline::WireBytes body;
    const grpc_compression_algorithm compression = common::receivedCompression(request_);
    if (compression != GRPC_COMPRESS_NONE) {
      absl::StatusOr<pipeline::WireBytes> inflated = inflate(compression);
      if (!inflated.ok()) {
        if (absl::IsUnavailable(inflated.status())) {
          finish(retryableStatus(std::string(inflated.status().message())));
          return;
        }
        ingestor.countMalformed(Transport::kGrpc);
        // The codes gRPC's own decompression answers with.
        finish(grpc::Status(absl::IsResourceExhausted(inflated.status())
                                ? grpc::StatusCode::RESOURCE_EXHAUSTED
                                : grpc::StatusCode::INTERNAL,
                            std::string(inflated.status().message())));
        return;
      }
      body = *std::move(inflated);
    } else {
      // One contiguous buffer the batch can keep: gRPC's own slice when the message arrived in
      // one, else one copy of its slices.
      grpc::Slice slice;
      if (!request_.TrySingleSlice(&slice).ok() && !request_.DumpToSingleSlice(&slice).ok()) {
        ingestor.countMalformed(Transport::kGrpc);
        finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request message unreadable"));
        return;
      }
      auto owner = std::make_shared<const grpc::Slice>(std::move(slice));
      body = pipeline::WireBytes{
          std::string_view(reinterpret_cast<const char*>(owner->begin()), owner->size()), owner};
    }
    auto span = !trace_headers_
                    ? selftrace::ScopedSpan::none()
                    : selftrace::ScopedSpan::server(
                          strCat("ingest ", pipeline::signalName(signal_)),
                          [&](std::string_view name) -> std::optional<std::string_view> {
                            const std::string& v = name == "traceparent" ? trace_headers_->first
                                                                         : trace_headers_->second;
                            if (v.empty()) return std::nullopt;
                            return v;
                          });
    // A consumer that must wait before the OK (the store with `durability: sync`) takes a hold
    // instead of blocking this polling thread; the answer is sent when it is released.
    auto deferred = std::make_shared<pipeline::DeferredAck>();
    ExportOutcome outcome;
    {
      pipeline::DeferredAck::Scope scope(*deferred);
      outcome = ingestor.exportRequest(
          signal_, Transport::kGrpc, Encoding::kProtobuf, body.bytes.size(),
          [&body](google::protobuf::Message& message) -> absl::Status {
            if (!message.ParseFromArray(body.bytes.data(), static_cast<int>(body.bytes.size()))) {
              return absl::InvalidArgumentError("request is not a valid protobuf Export request");
            }
            return absl::OkStatus();
          },
          std::move(admitted_), body, std::move(metadata_));
    }
    request_.Clear();
    if (span.recording()) {
      span.setAttribute("otlpd.transport", std::string("grpc"));
      span.setAttribute("otlpd.items", static_cast<int64_t>(outcome.accepted_items));
      if (outcome.kind != ExportOutcome::Kind::kOk) span.setError(outcome.message);
    }
    switch (outcome.kind) {
      case ExportOutcome::Kind::kOk:
        if (deferred->held()) {
          service_->held_.add(deferred);
          // Called on the releasing thread (or here, if already released; or by stop()).
          // Starting the answer from any thread is allowed: no other operation of this call is
          // pending.
          deferred->whenReleased([this, held = deferred.get(),
                                  body = std::move(outcome.body)](const absl::Status& status) {
            service_->held_.remove(held);
            if (!status.ok()) {
              finish(retryableStatus(std::string(status.message())));
              return;
            }
            answer(body);
          });
          return;
        }
        answer(outcome.body);
        return;
      case ExportOutcome::Kind::kBadRequest:
        finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, outcome.message));
        return;
      case ExportOutcome::Kind::kRetryable:
        finish(retryableStatus(outcome.message));
        return;
    }
  }

  void answer(const std::string& body) {
    grpc::Slice slice(body);
    response_ = grpc::ByteBuffer(&slice, 1);
    state_ = State::kFinishing;
    stream_.WriteAndFinish(response_, grpc::WriteOptions(), grpc::Status::OK, this);
  }

  void finish(const grpc::Status& status) {
    state_ = State::kFinishing;
    stream_.Finish(status, this);
  }

  absl::StatusOr<pipeline::WireBytes> inflate(grpc_compression_algorithm algorithm) {
    common::Compression codec;
    switch (algorithm) {
      case GRPC_COMPRESS_GZIP:
        codec = common::Compression::kGzip;
        break;
      case GRPC_COMPRESS_DEFLATE:
        codec = common::Compression::kDeflate;
        break;
      default:
        return absl::InvalidArgumentError("unsupported message compression");
    }
    std::string scratch;
    const std::string_view compressed = common::rawMessageBytes(request_, scratch);
    std::string inflated;
    std::optional<pipeline::MemoryBudget::Reservation> admitted(std::move(admitted_));
    const size_t max_bytes = service_->max_message_bytes_;
    absl::Status status = service_->ingestor_->decompressAdmitted(
        Transport::kGrpc, codec, compressed, max_bytes, inflated, admitted);
    admitted_ = *std::move(admitted);
    if (!status.ok()) {
      if (absl::IsUnavailable(status)) return status;
      if (status.GetPayload(Ingestor::kOverMemoryLimit).has_value()) return status;
      if (absl::IsResourceExhausted(status)) {
        return absl::ResourceExhaustedError(absl::StrCat("received message larger than max (",
                                                         max_bytes, " bytes) once decompressed"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected error decompressing data: ", status.message()));
    }
    return pipeline::WireBytes::fromString(std::move(inflated));
  }

  OtlpGrpcService* service_;
  grpc::ServerCompletionQueue* queue_;
  grpc::GenericServerContext context_;
  grpc::GenericServerAsyncReaderWriter stream_;
  State state_ = State::kWaitingForCall;
  Signal signal_ = Signal::kTraces;
  pipeline::MemoryBudget::Reservation admitted_;
  std::shared_ptr<const pipeline::RequestMetadata> metadata_;
  std::optional<std::pair<std::string, std::string>> trace_headers_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

OtlpGrpcService::~OtlpGrpcService() {
  stop();
}

void OtlpGrpcService::registerWith(grpc::ServerBuilder& builder, size_t threads) {
  builder.RegisterAsyncGenericService(&service_);
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
    queues_.push_back(builder.AddCompletionQueue());
  }
}

void OtlpGrpcService::start() {
  for (auto& queue : queues_) {
    grpc::ServerCompletionQueue* q = queue.get();
    // Several calls requested at once: a call that arrives while its queue's thread is busy
    // waits for a request to match it.
    for (int i = 0; i < kCallsRequestedPerQueue; ++i) new Call(this, q);
    threads_.emplace_back([q] {
      common::nameThisThread("otlp-grpc");
      void* tag = nullptr;
      bool ok = false;
      while (q->Next(&tag, &ok)) static_cast<Call*>(tag)->proceed(ok);
    });
  }
}

void OtlpGrpcService::callCreated() {
  std::lock_guard lock(calls_mu_);
  ++live_calls_;
}

void OtlpGrpcService::callDestroyed() {
  std::lock_guard lock(calls_mu_);
  if (--live_calls_ == 0) calls_gone_.notify_all();
}

void OtlpGrpcService::stop() {
  if (stopped_) return;
  stopped_ = true;
  // The server gave the calls in flight their grace period (Server::Shutdown's deadline). A call
  // whose answer is still held waits for a consumer that may let go only when the pipeline behind
  // stops, which is after this: a sending queue blocking on overflow, or an exporter without a
  // queue, while the destination is down. Such calls are answered now, retryably; their data may
  // still go out, so a client's resend may duplicate it, never lose it.
  held_.answerAllNow(absl::UnavailableError("the receiver is shutting down; retry"));
  // Server::Shutdown() fails the calls requested and not taken, and returns at its deadline
  // with taken calls still open: those whose answer a consumer holds (DeferredAck) are answered
  // when it lets go, which may be later, once the pipeline behind stops. gRPC cancelled them,
  // so the answer ends them at once. Until every call object is gone the queues must poll:
  // an operation on a queue already shut down is a crash. A call requests the next one before
  // it starts, so the count cannot touch zero while a call still has work to do.
  {
    std::unique_lock lock(calls_mu_);
    calls_gone_.wait(lock, [&] { return live_calls_ == 0 || threads_.empty(); });
  }
  for (auto& queue : queues_) queue->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  // A queue must be drained before it is destroyed, also when its thread never started.
  for (auto& queue : queues_) {
    void* tag = nullptr;
    bool ok = false;
    while (queue->Next(&tag, &ok)) static_cast<Call*>(tag)->proceed(ok);
  }
}

}  // namespace otlpd::receivers::otlp
