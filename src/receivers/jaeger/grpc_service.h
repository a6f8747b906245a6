#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <memory>

#include "receivers/jaeger/ingest.h"

namespace otlpd::receivers::jaeger {

// jaeger.api_v2.CollectorService/PostSpans as a generic service over raw bytes, like the otlp
// receiver's: credentials and memory are checked before the message is read, and the message is
// read in place (jaeger/proto_decode.cc), never into generated classes.
class JaegerGrpcService final : public grpc::CallbackGenericService {
 public:
  JaegerGrpcService(std::shared_ptr<Ingestor> ingestor, bool include_metadata)
      : ingestor_(std::move(ingestor)), include_metadata_(include_metadata) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::shared_ptr<Ingestor> ingestor_;
  bool include_metadata_;
};

}  // namespace otlpd::receivers::jaeger
