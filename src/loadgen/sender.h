// Transports of the load generator. A sender sends pre-encoded requests asynchronously; the
// runner keeps at most `concurrency` of them in flight, so no sender needs a thread per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "loadgen/payloads.h"
#include "loadgen/report.h"

namespace otlpd::loadgen {

struct SendResult {
  Outcome outcome = Outcome::kFailed;
  int64_t rejected_items = 0;  // from partial_success, when acknowledged
  bool answered = false;       // the server sent a response (its latency is meaningful)
  std::string error;           // for refused and failed requests
};

class Sender {
 public:
  virtual ~Sender() = default;
  // Starts sending `request`, which outlives the call; `done` runs once, on a transport thread.
  // The caller has at most the concurrency given at creation in flight.
  virtual void send(const EncodedRequest& request, std::function<void(SendResult)> done) = 0;
};

struct SenderOptions {
  pipeline::Signal signal = pipeline::Signal::kTraces;
  Protocol protocol = Protocol::kGrpc;
  common::Compression compression = common::Compression::kNone;
  std::string endpoint;  // host:port for gRPC; http://host:port[/base] for HTTP
  size_t concurrency = 1;
  std::chrono::milliseconds timeout{10000};
  // gRPC only: TLS, verifying the server against these roots (PEM text); empty: plaintext.
  std::string tls_ca_pem;
};

absl::StatusOr<std::unique_ptr<Sender>> makeGrpcSender(const SenderOptions& options);
absl::StatusOr<std::unique_ptr<Sender>> makeHttpSender(const SenderOptions& options);

}  // namespace otlpd::loadgen
