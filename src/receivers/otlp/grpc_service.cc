#include "receivers/otlp/grpc_service.h"

#include <grpcpp/support/slice.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/compression.h"
#include "common/grpc_raw_message.h"
#include "common/strings.h"
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

class ExportReactor final : public grpc::ServerGenericBidiReactor {
 public:
  // `trace_headers`: the call's traceparent and tracestate, kept only when otlpd traces itself.
  ExportReactor(std::shared_ptr<Ingestor> ingestor, Signal signal,
                pipeline::MemoryBudget::Reservation admitted,
                std::shared_ptr<const pipeline::RequestMetadata> metadata,
                std::optional<std::pair<std::string, std::string>> trace_headers,
                size_t max_message_bytes)
      : ingestor_(std::move(ingestor)),
        signal_(signal),
        max_message_bytes_(max_message_bytes),
        admitted_(std::move(admitted)),
        metadata_(std::move(metadata)),
        trace_headers_(std::move(trace_headers)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    pipeline::WireBytes body;
    const grpc_compression_algorithm compression = common::receivedCompression(request_);
    if (compression != GRPC_COMPRESS_NONE) {
      absl::StatusOr<pipeline::WireBytes> inflated = inflate(compression);
      if (!inflated.ok()) {
        if (absl::IsUnavailable(inflated.status())) {
          Finish(retryableStatus(std::string(inflated.status().message())));
          return;
        }
        ingestor_->countMalformed(Transport::kGrpc);
        // The codes gRPC's own decompression answers with.
        Finish(grpc::Status(absl::IsResourceExhausted(inflated.status())
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
        ingestor_->countMalformed(Transport::kGrpc);
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request message unreadable"));
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
    // instead of blocking this callback thread; the answer is sent when it is released.
    auto deferred = std::make_shared<pipeline::DeferredAck>();
    ExportOutcome outcome;
    {
      pipeline::DeferredAck::Scope scope(*deferred);
      outcome = ingestor_->exportRequest(
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
      case ExportOutcome::Kind::kOk: {
        if (deferred->held()) {
          // Called on the releasing thread (or here, if already released); the reactor lives
          // until Finish completes.
          deferred->whenReleased([this, body = std::move(outcome.body)](absl::Status status) {
            if (!status.ok()) {
              Finish(retryableStatus(std::string(status.message())));
              return;
            }
            grpc::Slice slice(body);
            response_ = grpc::ByteBuffer(&slice, 1);
            StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
          });
          return;
        }
        grpc::Slice slice(outcome.body);
        response_ = grpc::ByteBuffer(&slice, 1);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        return;
      }
      case ExportOutcome::Kind::kBadRequest:
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, outcome.message));
        return;
      case ExportOutcome::Kind::kRetryable:
        Finish(retryableStatus(outcome.message));
        return;
    }
  }

  void OnDone() override { delete this; }

 private:
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
    absl::Status status = ingestor_->decompressAdmitted(Transport::kGrpc, codec, compressed,
                                                        max_message_bytes_, inflated, admitted);
    admitted_ = *std::move(admitted);
    if (!status.ok()) {
      if (absl::IsUnavailable(status)) return status;
      if (absl::IsResourceExhausted(status)) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "received message larger than max (", max_message_bytes_, " bytes) once decompressed"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected error decompressing data: ", status.message()));
    }
    return pipeline::WireBytes::fromString(std::move(inflated));
  }

  std::shared_ptr<Ingestor> ingestor_;
  Signal signal_;
  size_t max_message_bytes_;
  pipeline::MemoryBudget::Reservation admitted_;
  std::shared_ptr<const pipeline::RequestMetadata> metadata_;
  std::optional<std::pair<std::string, std::string>> trace_headers_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class FinishingReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit FinishingReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* OtlpGrpcService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  std::optional<Signal> signal = signalForMethod(ctx->method());
  if (!signal) {
    return new FinishingReactor(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx->method()));
  }
  if (!ingestor_->serves(*signal)) {
    return new FinishingReactor(grpc::Status(
        grpc::StatusCode::UNIMPLEMENTED,
        "this receiver has no pipeline for " + std::string(pipeline::signalName(*signal))));
  }
  // Credentials, then admission, before StartRead: a refused message is never read, so the
  // bytes of a client that is not let in (or of overload) stay with the client (HTTP/2 flow
  // control) instead of filling our memory.
  const auto& client_metadata = ctx->client_metadata();
  Authentication auth = ingestor_->authenticate(
      Transport::kGrpc, [&](std::string_view name) -> std::optional<std::string_view> {
        auto it = client_metadata.find(grpc::string_ref(name.data(), name.size()));
        if (it == client_metadata.end()) return std::nullopt;
        return std::string_view(it->second.data(), it->second.size());
      });
  if (!auth.accepted) {
    return new FinishingReactor(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated"));
  }
  std::string refusal;
  auto admitted = ingestor_->admit(Transport::kGrpc, *signal, &refusal);
  if (!admitted) return new FinishingReactor(retryableStatus(refusal));
  std::shared_ptr<pipeline::RequestMetadata> metadata;
  if (include_metadata_ || !auth.attributes.empty()) {
    metadata = std::make_shared<pipeline::RequestMetadata>();
    if (include_metadata_) {
      for (const auto& [key, value] : client_metadata) {
        const std::string_view name(key.data(), key.size());
        if (ingestor_->isCredentialsHeader(Transport::kGrpc, name)) continue;
        metadata->add(name, std::string_view(value.data(), value.size()));
      }
    }
    for (const auto& [name, value] : auth.attributes) metadata->addAuth(name, value);
  }
  std::optional<std::pair<std::string, std::string>> trace_headers;
  if (selftrace::Tracer::installed() != nullptr &&
      client_metadata.find(grpc::string_ref(selftrace::ScopedSpan::kSelfTelemetryHeader.data(),
                                            selftrace::ScopedSpan::kSelfTelemetryHeader.size())) ==
          client_metadata.end()) {
    auto value = [&](std::string_view name) {
      auto it = client_metadata.find(grpc::string_ref(name.data(), name.size()));
      return it == client_metadata.end() ? std::string()
                                         : std::string(it->second.data(), it->second.size());
    };
    trace_headers.emplace(value("traceparent"), value("tracestate"));
  }
  return new ExportReactor(ingestor_, *signal, *std::move(admitted), std::move(metadata),
                           std::move(trace_headers), max_message_bytes_);
}

}  // namespace otlpd::receivers::otlp
