// What a transport (OTLP/gRPC, OTLP/HTTP, ...) gives the exporter helper: one attempt to deliver
// one batch, and a classified answer. Everything around the attempt — queueing, batching,
// retrying, the circuit breaker, the dead-letter queue — is the helper's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pipeline/batch.h"

namespace otlpd::exporters::helper {

struct SendResult {
  // OK: delivered (possibly partially, see `rejected_items`). InvalidArgument: permanent, the
  // destination will never take this data. Anything else: retryable.
  absl::Status status;
  // The wait the destination asked for (Retry-After, RetryInfo).
  std::optional<absl::Duration> retry_after;
  // Items a partial success refused; they are logged and counted, never retried.
  int64_t rejected_items = 0;
  std::string rejected_message;
  // For senders that deliver a batch in several requests (prometheusremotewrite): the part the
  // destination refused for good, dead-lettered instead of the whole batch (rejected_items is then
  // its item count), with any status...
  std::optional<pipeline::Batch> rejected = std::nullopt;
  // ...and, with a retryable status, the part still to deliver: retried instead of the batch, so
  // that what was delivered is not sent twice.
  std::optional<pipeline::Batch> remaining = std::nullopt;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // One attempt, bounded by `timeout`. Never throws; safe to call from several threads.
  virtual SendResult send(const pipeline::Batch& batch, absl::Duration timeout) = 0;
  // Where data goes, for logs and dead letters (e.g. "grpc://collector:4317").
  virtual std::string destination() const = 0;
};

}  // namespace otlpd::exporters::helper
