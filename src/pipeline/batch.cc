#include "pipeline/batch.h"

#include <cassert>

#include "otlp/counts.h"

namespace otlpd::pipeline {
namespace {

google::protobuf::Message* newRequest(Signal signal, google::protobuf::Arena* arena) {
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

google::protobuf::ArenaOptions Batch::Payload::arenaOptions() {
  // Requests of a few spans stay small; large ones grow in blocks of up to 1 MiB, which fewer
  // mallocs serve and which (being mmap-sized) go back to the OS when the batch is freed rather
  // than lingering in malloc's free lists.
  google::protobuf::ArenaOptions options;
  options.start_block_size = 16 * 1024;
  options.max_block_size = 1024 * 1024;
  return options;
}

Batch Batch::create(Signal signal) {
  auto payload = std::make_shared<Payload>(signal);
  payload->message = newRequest(signal, &payload->arena);
  return Batch(std::move(payload));
}

void Batch::detach() {
  if (payload_.use_count() == 1) return;
  auto copy = std::make_shared<Payload>(payload_->signal);
  copy->message = newRequest(payload_->signal, &copy->arena);
  copy->message->CopyFrom(*payload_->message);
  copy->reservation =
      payload_->reservation.forceSibling(static_cast<size_t>(copy->arena.SpaceAllocated()));
  payload_ = std::move(copy);
}

void Batch::attachReservation(MemoryBudget::Reservation reservation) {
  payload_->reservation = std::move(reservation);
}

void Batch::reserveLike(const Batch& other) {
  payload_->reservation = other.payload_->reservation.forceSibling(arenaBytes());
}

google::protobuf::Message& Batch::mutableRequest() {
  detach();
  return *payload_->message;
}

const otlp::TracesRequest& Batch::traces() const {
  assert(signal() == Signal::kTraces);
  return static_cast<const otlp::TracesRequest&>(*payload_->message);
}
const otlp::MetricsRequest& Batch::metrics() const {
  assert(signal() == Signal::kMetrics);
  return static_cast<const otlp::MetricsRequest&>(*payload_->message);
}
const otlp::LogsRequest& Batch::logs() const {
  assert(signal() == Signal::kLogs);
  return static_cast<const otlp::LogsRequest&>(*payload_->message);
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
