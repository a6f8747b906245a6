#pragma once

#include <google/protobuf/arena.h>
#include <google/protobuf/message.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "otlp/proto.h"
#include "pipeline/memory_budget.h"
#include "pipeline/request_metadata.h"
#include "pipeline/signal.h"

namespace otlpd::pipeline {

// Encoded bytes of one Export*ServiceRequest and whatever keeps them alive (a std::string, a
// gRPC slice...), so a batch can hold a transport's buffer without copying it.
struct WireBytes {
  std::string_view bytes;
  std::shared_ptr<const void> owner;

  static WireBytes fromString(std::string bytes);
};

// One OTLP export request of one signal, living on its own arena. Copies are cheap and share the
// request, so fan-out to read-only consumers copies no telemetry; a consumer that changes data
// calls a mutable accessor, which clones the request first if anyone else still holds it.
//
// A batch may instead start as the request's encoded bytes, already checked and counted by the
// wire view (otlp/wire_view.h): then the message is decoded on the batch's arena only when a
// consumer first reads it (once, whichever thread asks first), and `wireBytes()` lets consumers
// that only forward or store bytes skip decoding altogether. Mutable accessors decode and drop
// the bytes, since they no longer describe the request.
class Batch {
 public:
  // An empty request of `signal` on a fresh arena, for a receiver to decode into.
  static Batch create(Signal signal);
  // A request known only by its encoded bytes, which protobuf must parse, and its item count.
  static Batch fromWire(Signal signal, WireBytes wire, size_t items);

  Signal signal() const { return payload_->signal; }
  const google::protobuf::Message& request() const {
    if (!payload_->materialized.load(std::memory_order_acquire)) materialize();
    return *payload_->message;
  }
  google::protobuf::Message& mutableRequest();

  const otlp::TracesRequest& traces() const;
  const otlp::MetricsRequest& metrics() const;
  const otlp::LogsRequest& logs() const;
  otlp::TracesRequest& mutableTraces();
  otlp::MetricsRequest& mutableMetrics();
  otlp::LogsRequest& mutableLogs();

  // The encoded request while the batch still holds it unmodified, valid as long as this batch.
  std::optional<std::string_view> wireBytes() const {
    if (!payload_->wire) return std::nullopt;
    return payload_->wire->bytes;
  }

  // The batch's memory is counted against a budget for as long as any copy of it lives.
  void attachReservation(MemoryBudget::Reservation reservation);
  // What the budget counts for this batch: its reservation, plus its arena once a wire batch
  // was decoded.
  size_t reservedBytes() const;
  // Counts this batch's memory (arena and wire bytes) against the budget `other` is counted
  // against (for batches derived from others: merged, split).
  void reserveLike(const Batch& other);
  // Memory of the request's arena blocks (string contents are on the heap and not included).
  size_t arenaBytes() const {
    if (!payload_->materialized.load(std::memory_order_acquire)) return 0;
    return static_cast<size_t>(payload_->arena->SpaceAllocated());
  }
  // Memory this batch holds: arena blocks plus the encoded bytes it keeps.
  size_t heldBytes() const;

  // What the client sent with the request, when its receiver keeps it (`include_metadata`); null
  // otherwise. Batches derived from one (edited) carry it on; merged ones do not.
  const RequestMetadata* metadata() const { return metadata_.get(); }
  const std::shared_ptr<const RequestMetadata>& sharedMetadata() const { return metadata_; }
  void setMetadata(std::shared_ptr<const RequestMetadata> metadata) {
    metadata_ = std::move(metadata);
  }

  // Spans, metric data points or log records, depending on the signal.
  size_t itemCount() const;
  bool empty() const { return itemCount() == 0; }

 private:
  struct Payload {
    explicit Payload(Signal s) : signal(s) {}
    static google::protobuf::ArenaOptions arenaOptions();
    // Created with the message: a wire batch that is never read allocates no arena block.
    std::optional<google::protobuf::Arena> arena;
    google::protobuf::Message* message = nullptr;
    Signal signal;
    MemoryBudget::Reservation reservation;
    // Wire form: set at creation, dropped only by the sole owner (mutable accessors).
    std::optional<WireBytes> wire;
    size_t wire_items = 0;
    // Whether `message` holds the request; readers on other threads decode under `decode_mu`.
    std::atomic<bool> materialized{true};
    std::mutex decode_mu;
    MemoryBudget::Reservation decoded_reservation;  // the arena, once a wire batch is decoded
  };
  explicit Batch(std::shared_ptr<Payload> payload) : payload_(std::move(payload)) {}
  static google::protobuf::Message* newRequest(Payload& payload);
  void materialize() const;
  void detach();

  std::shared_ptr<Payload> payload_;
  std::shared_ptr<const RequestMetadata> metadata_;
};

}  // namespace otlpd::pipeline
