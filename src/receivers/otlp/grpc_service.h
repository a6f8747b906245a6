#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <memory>

#include "receivers/otlp/ingest.h"

namespace otlpd::receivers::otlp {

// Serves TraceService/Export, MetricsService/Export and LogsService/Export as one generic
// service over raw bytes: gRPC hands us the (decompressed, size-checked) message, we decode it
// on the batch's arena ourselves, and later admission control can refuse before decoding.
class OtlpGrpcService final : public grpc::CallbackGenericService {
 public:
  // `include_metadata`: each batch keeps the call's client metadata (RequestMetadata).
  OtlpGrpcService(std::shared_ptr<Ingestor> ingestor, bool include_metadata)
      : ingestor_(std::move(ingestor)), include_metadata_(include_metadata) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::shared_ptr<Ingestor> ingestor_;
  bool include_metadata_;
};

}  // namespace otlpd::receivers::otlp
