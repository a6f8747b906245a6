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
  explicit OtlpGrpcService(std::shared_ptr<Ingestor> ingestor) : ingestor_(std::move(ingestor)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::shared_ptr<Ingestor> ingestor_;
};

}  // namespace otlpd::receivers::otlp
