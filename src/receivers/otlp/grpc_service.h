#pragma once

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/deferred_ack.h"
#include "receivers/otlp/ingest.h"

namespace otlpd::receivers::otlp {

// Serves TraceService/Export, MetricsService/Export and LogsService/Export as one generic
// service over raw bytes: gRPC hands us the (size-checked) message, we decode it on the batch's
// arena ourselves, and admission control can refuse before the message is read.
//
// gRPC's asynchronous API, on polling threads of our own, each with its own completion queue:
// a call's bytes are read, handled and answered on the thread that polled them. gRPC's callback
// API (before, issue #18) passed every completion between its two "nexting" threads and its
// executor: ~13 context switches per request, each ~10 µs on this project's VMs.
class OtlpGrpcService {
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
  OtlpGrpcService(const OtlpGrpcService&) = delete;
  OtlpGrpcService& operator=(const OtlpGrpcService&) = delete;
  ~OtlpGrpcService();

  // Before the builder builds the server: the service and one completion queue per thread.
  void registerWith(grpc::ServerBuilder& builder, size_t threads);
  // Once the server is started: the polling threads take calls.
  void start();
  // Once the server is shut down (every call answered): drains the queues, joins the threads.
  // The server must be destroyed before this service (its queues).
  void stop();

  // Polling threads for a machine of `cores` cores: one per two cores, from one to eight. Their
  // work per span is a small part of the pipeline's, so more would mostly add hand-offs.
  static size_t threadsFor(unsigned cores) { return std::clamp<size_t>(cores / 2, 1, 8); }

 private:
  class Call;
  static constexpr int kCallsRequestedPerQueue = 8;

  std::shared_ptr<Ingestor> ingestor_;
  bool include_metadata_;
  size_t max_message_bytes_;
  grpc::AsyncGenericService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues_;
  void callCreated();
  void callDestroyed();

  std::vector<std::thread> threads_;
  bool stopped_ = false;
  std::mutex calls_mu_;
  std::condition_variable calls_gone_;
  size_t live_calls_ = 0;  // Call objects: requested, open, or answering
  // Calls whose answer a consumer holds: stop() answers those still held UNAVAILABLE.
  pipeline::HeldAcks held_;
};

}  // namespace otlpd::receivers::otlp
