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
  // `max_message_bytes`: the most a compressed message may inflate to. The server is built with
  // gRPC's own per-message decompression off (receiver.cc); compressed messages reach the
  // service as they are and are inflated here with common/compression.h (libdeflate, bounded).
  OtlpGrpcService(std::shared_ptr<Ingestor> ingestor, bool include_metadata,
                  size_t max_message_bytes)
      : ingestor_(std::move(ingestor)),
        include_metadata_(include_metadata),
        max_message_bytes_(max_message_bytes) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::shared_ptr<Ingestor> ingestor_;
  bool include_metadata_;
  size_t max_message_bytes_;
};

}  // namespace otlpd::receivers::otlp
