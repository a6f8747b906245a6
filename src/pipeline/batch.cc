#include "pipeline/batch.h"

#include <cassert>

#include "otlp/counts.h"

namespace otlpd::pipeline {
namespace {

google::protobuf::Message* newRequestOn(Signal signal, google::protobuf::Arena* arena) {
  switch (signal) {
    case Signal::kTraces:
      return google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(arena);
    case Signal::kMetrics:
      return google::protobuf::Arena::CreateMessage<otlp::MetricsRequest>(arena);
    case Signal::kLogs:
      return google::protobuf::Arena::CreateMessage<otlp::LogsRequest>(arena);
  }
  return nullptr;
}

}  // namespace

google::protobuf::Message* Batch::newRequest(Payload& payload) {
  payload.arena.emplace(Payload::arenaOptions());
  return newRequestOn(payload.signal, &*payload.arena);
}

google::protobuf::ArenaOptions Batch::Payload::arenaOptions() {
  // Requests of a few spans stay small; large ones grow in blocks of up to 1 MiB, which fewer
  // mallocs serve and which (being mmap-sized) go back to the OS when the batch is freed rather
  // than lingering in malloc's free lists.
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 * 1024;
  options.max_block_size = 1024 * 1024;
  return options;
}

WireBytes WireBytes::fromString(std::string bytes) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  WireBytes wire;
  wire.bytes = *owned;
  wire.owner = std::move(owned);
  return wire;
}

Batch Batch::create(Signal signal) {
  auto payload = std::make_shared<Payload>(signal);
  payload->message = newRequest(*payload);
  return Batch(std::move(payload));
}

Batch Batch::fromWire(Signal signal, WireBytes wire, size_t items) {
  auto payload = std::make_shared<Payload>(signal);
  payload->wire = std::move(wire);
  payload->wire_items = items;
  payload->materialized.store(false, std::memory_order_relaxed);
  return Batch(std::move(payload));
}

void Batch::materialize() const {
  Payload& p = *payload_;
  std::lock_guard lock(p.decode_mu);
  if (p.materialized.load(std::memory_order_relaxed)) return;
  p.message = newRequest(p);
  // The wire view accepted these bytes, so protobuf parses them; should it not, the request
  // stays empty rather than half decoded.
  if (!p.message->ParseFromArray(p.wire->bytes.data(), static_cast<int>(p.wire->bytes.size()))) {
    p.message->Clear();
  }
  // Decoded strings live on the heap (protobuf 3.21) and add up to at most the wire size.
  p.decoded_reservation = p.reservation.forceSibling(
      static_cast<size_t>(p.arena->SpaceAllocated()) + p.wire->bytes.size());
  p.materialized.store(true, std::memory_order_release);
}

void Batch::detach() {
  if (payload_.use_count() == 1) {
    if (!payload_->wire) return;
    // The sole owner is about to change the request: its bytes would no longer describe it.
    if (!payload_->materialized.load(std::memory_order_acquire)) materialize();
    payload_->wire.reset();
    return;
  }
  auto copy = std::make_shared<Payload>(payload_->signal);
  copy->message = newRequest(*copy);
  if (payload_->wire) {
    const std::string_view bytes = payload_->wire->bytes;
    if (!copy->message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      copy->message->Clear();
    }
  } else {
    copy->message->CopyFrom(*payload_->message);
  }
  copy->reservation =
      payload_->reservation.forceSibling(static_cast<size_t>(copy->arena->SpaceAllocated()));
  payload_ = std::move(copy);
}

void Batch::attachReservation(MemoryBudget::Reservation reservation) {
  payload_->reservation = std::move(reservation);
}

size_t Batch::reservedBytes() const {
  size_t bytes = payload_->reservation.bytes();
  if (payload_->materialized.load(std::memory_order_acquire)) {
    bytes += payload_->decoded_reservation.bytes();
  }
  return bytes;
}

size_t Batch::heldBytes() const {
  return arenaBytes() + (payload_->wire ? payload_->wire->bytes.size() : 0);
}

void Batch::reserveLike(const Batch& other) {
  payload_->reservation = other.payload_->reservation.forceSibling(heldBytes());
}

google::protobuf::Message& Batch::mutableRequest() {
  detach();
  return *payload_->message;
}

const otlp::TracesRequest& Batch::traces() const {
  assert(signal() == Signal::kTraces);
  return static_cast<const otlp::TracesRequest&>(request());
}
const otlp::MetricsRequest& Batch::metrics() const {
  assert(signal() == Signal::kMetrics);
  return static_cast<const otlp::MetricsRequest&>(request());
}
const otlp::LogsRequest& Batch::logs() const {
  assert(signal() == Signal::kLogs);
  return static_cast<const otlp::LogsRequest&>(request());
}
otlp::TracesRequest& Batch::mutableTraces() {
  assert(signal() == Signal::kTraces);
  return static_cast<otlp::TracesRequest&>(mutableRequest());
}
otlp::MetricsRequest& Batch::mutableMetrics() {
  assert(signal() == Signal::kMetrics);
  return static_cast<otlp::MetricsRequest&>(mutableRequest());
}
otlp::LogsRequest& Batch::mutableLogs() {
  assert(signal() == Signal::kLogs);
  return static_cast<otlp::LogsRequest&>(mutableRequest());
}

size_t Batch::itemCount() const {
  if (payload_->wire) return payload_->wire_items;
  switch (signal()) {
    case Signal::kTraces:
      return otlp::countSpans(traces());
    case Signal::kMetrics:
      return otlp::countDataPoints(metrics());
    case Signal::kLogs:
      return otlp::countLogRecords(logs());
  }
  return 0;
}

}  // namespace otlpd::pipeline
