#include "receivers/jaeger/grpc_service.h"

#include <grpcpp/support/slice.h>

#include "otlp/proto.h"

namespace otlpd::receivers::jaeger {
namespace {

constexpr std::string_view kPostSpans = "/jaeger.api_v2.CollectorService/PostSpans";

grpc::Status retryableStatus(const std::string& message) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  google::rpc::Status rich;
  rich.set_code(grpc::StatusCode::UNAVAILABLE);
  rich.set_message(message);
  rich.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, message, rich.SerializeAsString());
}

class PostSpansReactor final : public grpc::ServerGenericBidiReactor {
 public:
  PostSpansReactor(std::shared_ptr<Ingestor> ingestor, pipeline::MemoryBudget::Reservation admitted,
                   std::shared_ptr<const pipeline::RequestMetadata> metadata)
      : ingestor_(std::move(ingestor)),
        admitted_(std::move(admitted)),
        metadata_(std::move(metadata)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message received"));
      return;
    }
    grpc::Slice slice;
    if (!request_.TrySingleSlice(&slice).ok() && !request_.DumpToSingleSlice(&slice).ok()) {
      ingestor_->countMalformed(Transport::kGrpc);
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request message unreadable"));
      return;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(slice.begin()), slice.size());
    ::otlpd::jaeger::Batch& batch = threadBatch();
    if (absl::Status s = ::otlpd::jaeger::decodePostSpansRequest(bytes, batch); !s.ok()) {
      ingestor_->countMalformed(Transport::kGrpc);
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
      return;
    }
    ExportOutcome outcome = ingestBatch(*ingestor_, Transport::kGrpc, batch, std::move(admitted_),
                                        std::move(metadata_));
    request_.Clear();
    switch (outcome.kind) {
      case ExportOutcome::Kind::kOk:
        // PostSpansResponse is empty: zero bytes.
        response_ = grpc::ByteBuffer(nullptr, 0);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        return;
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
  std::shared_ptr<Ingestor> ingestor_;
  pipeline::MemoryBudget::Reservation admitted_;
  std::shared_ptr<const pipeline::RequestMetadata> metadata_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class FinishingReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit FinishingReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* JaegerGrpcService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  if (ctx->method() != kPostSpans) {
    return new FinishingReactor(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx->method()));
  }
  const auto& client_metadata = ctx->client_metadata();
  otlp::Authentication auth = ingestor_->authenticate(
      Transport::kGrpc, [&](std::string_view name) -> std::optional<std::string_view> {
        auto it = client_metadata.find(grpc::string_ref(name.data(), name.size()));
        if (it == client_metadata.end()) return std::nullopt;
        return std::string_view(it->second.data(), it->second.size());
      });
  if (!auth.accepted) {
    return new FinishingReactor(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unauthenticated"));
  }
  std::string refusal;
  auto admitted = ingestor_->admit(Transport::kGrpc, pipeline::Signal::kTraces, &refusal);
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
  return new PostSpansReactor(ingestor_, *std::move(admitted), std::move(metadata));
}

}  // namespace otlpd::receivers::jaeger
