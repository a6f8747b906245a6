#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <memory>

#include "otlp/proto.h"
#include "pipeline/memory_budget.h"
#include "pipeline/signal.h"

namespace otlpd::pipeline {

// One OTLP export request of one signal, living on its own arena. Copies are cheap and share the
// request, so fan-out to read-only consumers copies no telemetry; a consumer that changes data
// calls a mutable accessor, which clones the request first if anyone else still holds it.
class Batch {
 public:
  // An empty request of `signal` on a fresh arena, for a receiver to decode into.
  static Batch create(Signal signal);

  Signal signal() const { return payload_->signal; }
  const google::protobuf::Message& request() const { return *payload_->message; }
  google::protobuf::Message& mutableRequest();

  const otlp::TracesRequest& traces() const;
  const otlp::MetricsRequest& metrics() const;
  const otlp::LogsRequest& logs() const;
  otlp::TracesRequest& mutableTraces();
  otlp::MetricsRequest& mutableMetrics();
  otlp::LogsRequest& mutableLogs();

  // The batch's memory is counted against a budget for as long as any copy of it lives.
  void attachReservation(MemoryBudget::Reservation reservation);
  size_t reservedBytes() const { return payload_->reservation.bytes(); }
  // Counts this batch's arena against the budget `other` is counted against (for batches
  // derived from others: merged, split).
  void reserveLike(const Batch& other);
  // Memory of the request's arena blocks (string contents are on the heap and not included).
  size_t arenaBytes() const { return static_cast<size_t>(payload_->arena.SpaceAllocated()); }

  // Spans, metric data points or log records, depending on the signal.
  size_t itemCount() const;
  bool empty() const { return itemCount() == 0; }

 private:
  struct Payload {
    explicit Payload(Signal s) : arena(arenaOptions()), signal(s) {}
    static google::protobuf::ArenaOptions arenaOptions();
    google::protobuf::Arena arena;
    google::protobuf::Message* message = nullptr;
    Signal signal;
    MemoryBudget::Reservation reservation;
  };
  explicit Batch(std::shared_ptr<Payload> payload) : payload_(std::move(payload)) {}
  void detach();

  std::shared_ptr<Payload> payload_;
};

}  // namespace otlpd::pipeline
