#include "receivers/otlp/ingest.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/validation.h"
#include "otlp/wire_view.h"
#include "pipeline/batch.h"

namespace otlpd::receivers::otlp {
namespace {

using pipeline::Signal;
namespace pb = ::otlpd::otlp;

constexpr std::string_view kRefusedRequests = "otlpd_receiver_refused_requests_total";
constexpr std::string_view kRefusedRequestsHelp =
    "Requests refused before their body was read or decoded, by reason: memory (the memory "
    "budget was spent), backpressure (a stage the request would reach refused everything: an "
    "exporter's full queue, memory_limiter above its limit); the client was told to retry.";

std::string encodeMessage(const google::protobuf::Message& m, Encoding encoding) {
  return encoding == Encoding::kJson ? pb::toOtlpJson(m) : m.SerializeAsString();
}

std::string encodeResponse(Signal signal, const pb::ValidationResult& v, Encoding encoding) {
  // A full success is an empty Export*ServiceResponse: no bytes at all in protobuf.
  if (v.rejected == 0 && encoding == Encoding::kProtobuf) return {};
  switch (signal) {
    case Signal::kTraces: {
      pb::TracesResponse r;
      if (v.rejected > 0) {
        r.mutable_partial_success()->set_rejected_spans(static_cast<int64_t>(v.rejected));
        r.mutable_partial_success()->set_error_message(v.error_message);
      }
      return encodeMessage(r, encoding);
    }
    case Signal::kMetrics: {
      pb::MetricsResponse r;
      if (v.rejected > 0) {
        r.mutable_partial_success()->set_rejected_data_points(static_cast<int64_t>(v.rejected));
        r.mutable_partial_success()->set_error_message(v.error_message);
      }
      return encodeMessage(r, encoding);
    }
    case Signal::kLogs: {
      pb::LogsResponse r;
      if (v.rejected > 0) {
        r.mutable_partial_success()->set_rejected_log_records(static_cast<int64_t>(v.rejected));
        r.mutable_partial_success()->set_error_message(v.error_message);
      }
      return encodeMessage(r, encoding);
    }
  }
  return {};
}

const pb::WireSummary& inspectWire(Signal signal, std::string_view bytes, pb::WireSummary* out) {
  switch (signal) {
    case Signal::kTraces:
      *out = pb::inspectTracesWire(bytes);
      break;
    case Signal::kMetrics:
      *out = pb::inspectMetricsWire(bytes);
      break;
    case Signal::kLogs:
      *out = pb::inspectLogsWire(bytes);
      break;
  }
  return *out;
}

pb::ValidationResult validate(pipeline::Batch& batch) {
  switch (batch.signal()) {
    case Signal::kTraces:
      return pb::validateTraces(batch.mutableTraces());
    case Signal::kMetrics:
      return pb::validateMetrics(batch.mutableMetrics());
    case Signal::kLogs:
      return pb::validateLogs(batch.mutableLogs());
  }
  return {};
}

}  // namespace

std::string_view transportName(Transport transport) {
  switch (transport) {
    case Transport::kGrpc:
      return "grpc";
    case Transport::kHttp:
      return "http";
    case Transport::kEmbedded:
      return "embedded";
    case Transport::kUdp:
      return "udp";
  }
  return "unknown";
}

std::string encodeRpcStatus(int code, std::string_view message, Encoding encoding) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(std::string(message));
  return encodeMessage(status, encoding);
}

Ingestor::Ingestor(std::string receiver_id, pipeline::SignalConsumers next,
                   common::MetricsRegistry& metrics, pipeline::MemoryBudget* memory,
                   std::initializer_list<Transport> transports)
    : id_(std::move(receiver_id)), next_(std::move(next)), memory_(memory) {
  for (Transport t : transports) {
    const common::Labels labels = {{"receiver", id_}, {"transport", std::string(transportName(t))}};
    for (Signal s : pipeline::kAllSignals) {
      const std::string item(pipeline::itemName(s));
      counters_[static_cast<int>(t)][static_cast<int>(s)] = Counters{
          &metrics.counter(strCat("otlpd_receiver_accepted_", item, "_total"),
                           strCat("Items successfully pushed into the pipeline (", item, ")."),
                           labels),
          &metrics.counter(strCat("otlpd_receiver_refused_", item, "_total"),
                           strCat("Items the receiver did not accept, invalid or refused by "
                                  "the pipeline; the client was told (",
                                  item, ")."),
                           labels),
          &metrics.counter(strCat("otlpd_receiver_invalid_", item, "_total"),
                           strCat("Items rejected by validation and reported in a partial "
                                  "success (",
                                  item, ")."),
                           labels),
      };
    }
    malformed_[static_cast<int>(t)] = &metrics.counter(
        "otlpd_receiver_malformed_requests_total",
        "Requests refused before their items could be counted (undecodable, too large, "
        "unsupported encoding).",
        labels);
    unauthenticated_[static_cast<int>(t)] = &metrics.counter(
        "otlpd_receiver_unauthenticated_requests_total",
        "Requests refused because the authenticator did not accept their credentials (HTTP 401, "
        "gRPC UNAUTHENTICATED), before their bodies were read.",
        labels);
    refused_for_memory_[static_cast<int>(t)] = &metrics.counter(
        kRefusedRequests, kRefusedRequestsHelp,
        {{"receiver", id_}, {"transport", std::string(transportName(t))}, {"reason", "memory"}});
    refused_for_backpressure_[static_cast<int>(t)] =
        &metrics.counter(kRefusedRequests, kRefusedRequestsHelp,
                         {{"receiver", id_},
                          {"transport", std::string(transportName(t))},
                          {"reason", "backpressure"}});
  }
}

std::optional<pipeline::MemoryBudget::Reservation> Ingestor::admit(
    Transport transport, std::optional<Signal> signal, std::string* refusal,
    std::optional<size_t> wire_bytes) {
  if (signal) {
    const auto& gate = next_.backpressure[static_cast<size_t>(*signal)];
    if (gate != nullptr && gate->closed()) {
      refuseForBackpressure(transport, *signal, refusal);
      return std::nullopt;
    }
  }
  if (memory_ == nullptr || memory_->limit() == 0) return pipeline::MemoryBudget::Reservation();
  // Reading a request and decoding it takes about twice its wire size. Without a declared size
  // the guess from recent requests is capped at an eighth of the limit: a few huge requests
  // (refused once read) must not make the guess one an idle budget can never grant, which locked
  // every later request out for good (requests refused here never correct the average).
  const size_t estimate = wire_bytes
                              ? 2 * *wire_bytes
                              : std::min(2 * typical_request_bytes_.load(std::memory_order_relaxed),
                                         memory_->limit() / 8);
  auto reservation = memory_->tryReserve(estimate);
  if (!reservation) {
    refuseForMemory(transport, refusal);
  }
  return reservation;
}

std::optional<size_t> Ingestor::largestAdmissibleBody() const {
  if (memory_ == nullptr || memory_->limit() == 0) return std::nullopt;
  return memory_->limit() / 2;
}

void Ingestor::refuseForBackpressure(Transport transport, Signal signal, std::string* refusal) {
  refused_for_backpressure_[static_cast<int>(transport)]->add();
  *refusal = strCat("the ", pipeline::signalName(signal),
                    " pipeline cannot take more data now (an exporter's queue is full or "
                    "memory_limiter is above its limit); retry later");
  // One line a second at most: at saturation this happens for most requests.
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_backpressure_warning_ns_.load(std::memory_order_relaxed);
  if (now - last >= 1'000'000'000 &&
      last_backpressure_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    logging::warn("refusing requests before reading them: the pipeline cannot take more",
                  {{"receiver", id_},
                   {"transport", transportName(transport)},
                   {"signal", pipeline::signalName(signal)}});
  }
}

absl::Status Ingestor::decompressAdmitted(
    Transport transport, common::Compression compression, std::string_view body,
    size_t max_output_bytes, std::string& out,
    std::optional<pipeline::MemoryBudget::Reservation>& admitted) {
  if (!admitted || memory_ == nullptr || memory_->limit() == 0) {
    return common::decompress(compression, body, max_output_bytes, out);
  }
  size_t never_fits = 0;  // what a body needed that is more than the whole budget
  absl::Status status =
      common::decompress(compression, body, max_output_bytes, out, [&](size_t output_bytes) {
        // Twice the output, as admit() counts a body: what it decompresses to is then converted
        // or decoded (Zipkin and Jaeger to OTLP, JSON to protobuf) while it is still held.
        const size_t needed = std::max(admitted->bytes(), body.size() + 2 * output_bytes);
        if (needed > memory_->limit()) {
          never_fits = needed;
          return false;
        }
        return admitted->tryResize(needed);
      });
  if (never_fits > 0 && absl::IsUnavailable(status)) {
    // Retrying cannot help (a 503 had clients resend it forever): too large, as for a body over
    // the size limit (HTTP 413, gRPC RESOURCE_EXHAUSTED).
    out.clear();
    absl::Status too_large = absl::ResourceExhaustedError(
        strCat("decompressed request needs more than ", never_fits >> 20,
               " MiB, over the memory limit of ", memory_->limit() >> 20, " MiB"));
    too_large.SetPayload(kOverMemoryLimit, absl::Cord());
    return too_large;
  }
  if (absl::IsUnavailable(status)) {
    std::string refusal;
    refuseForMemory(transport, &refusal);
    return absl::UnavailableError(refusal);
  }
  return status;
}

void Ingestor::refuseForMemory(Transport transport, std::string* refusal) {
  refused_for_memory_[static_cast<int>(transport)]->add();
  *refusal = strCat("memory limit reached (", memory_->inUse() >> 20, " of ",
                    memory_->limit() >> 20, " MiB of telemetry in flight or queued); retry later");
}

void Ingestor::countMalformed(Transport transport) {
  malformed_[static_cast<int>(transport)]->add();
}

void Ingestor::setAuthenticator(Transport transport,
                                std::shared_ptr<pipeline::ServerAuthenticator> authenticator) {
  authenticators_[static_cast<int>(transport)] = std::move(authenticator);
}

Authentication Ingestor::authenticate(Transport transport, pipeline::HeaderLookup headers) {
  const auto& authenticator = authenticators_[static_cast<int>(transport)];
  if (authenticator == nullptr) return {};
  absl::StatusOr<pipeline::AuthAttributes> attributes = authenticator->authenticate(headers);
  if (attributes.ok()) return {true, *std::move(attributes)};
  unauthenticated_[static_cast<int>(transport)]->add();
  // The reason is for the operator (never the credentials themselves), one line a second at most.
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_auth_warning_ns_.load(std::memory_order_relaxed);
  if (now - last >= 1'000'000'000 &&
      last_auth_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    logging::warn("request refused: unauthenticated", {{"receiver", id_},
                                                       {"transport", transportName(transport)},
                                                       {"reason", attributes.status().message()}});
  }
  return {false, {}};
}

std::string Ingestor::challenge(Transport transport) const {
  const auto& authenticator = authenticators_[static_cast<int>(transport)];
  return authenticator ? authenticator->challenge() : std::string();
}

bool Ingestor::isCredentialsHeader(Transport transport, std::string_view name) const {
  const auto& authenticator = authenticators_[static_cast<int>(transport)];
  return authenticator != nullptr && name == authenticator->credentialsHeader();
}

void Ingestor::warnRateLimited(std::string_view message, Signal signal, Transport transport,
                               const absl::Status& status) {
  // One line per second at most: a misbehaving client must not turn our log into a flood.
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_warning_ns_.load(std::memory_order_relaxed);
  if (now - last < 1'000'000'000 ||
      !last_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;
  }
  logging::warn(message, {{"receiver", id_},
                          {"transport", transportName(transport)},
                          {"signal", pipeline::signalName(signal)},
                          {"error", status.ToString()}});
}

ExportOutcome Ingestor::exportRequest(
    Signal signal, Transport transport, Encoding response_encoding, size_t wire_bytes,
    absl::FunctionRef<absl::Status(google::protobuf::Message&)> decode,
    std::optional<pipeline::MemoryBudget::Reservation> admitted,
    std::optional<pipeline::WireBytes> protobuf_body,
    std::shared_ptr<const pipeline::RequestMetadata> metadata,
    std::optional<size_t> vouched_items) {
  ExportOutcome out;
  pipeline::Consumer* next = next_.get(signal);
  if (next == nullptr) {
    out.kind = ExportOutcome::Kind::kBadRequest;
    out.message = strCat("no pipeline takes ", pipeline::signalName(signal));
    return out;
  }
  // Decoded requests take about twice their wire size on an arena; the estimate is corrected
  // to the real size right after decoding.
  std::optional<pipeline::MemoryBudget::Reservation> reservation;
  if (memory_ != nullptr) {
    const size_t typical = typical_request_bytes_.load(std::memory_order_relaxed);
    typical_request_bytes_.store((typical * 7 + wire_bytes) / 8, std::memory_order_relaxed);
    // The estimate taken before reading is swapped for one sized from the real request.
    if (admitted) admitted->release();
    reservation = memory_->tryReserve(2 * wire_bytes);
    if (!reservation) {
      refused_for_memory_[static_cast<int>(transport)]->add();
      out.kind = ExportOutcome::Kind::kRetryable;
      out.message =
          strCat("memory limit reached (", memory_->inUse() >> 20, " of ", memory_->limit() >> 20,
                 " MiB of telemetry in flight or queued); retry later");
      warnRateLimited("refusing data: memory budget spent", signal, transport,
                      absl::ResourceExhaustedError(out.message));
      return out;
    }
  }
  const Counters& c = counters_[static_cast<int>(transport)][static_cast<int>(signal)];
  pb::ValidationResult validation;
  pb::WireSummary wire_summary;
  // The wire view: a valid protobuf request is taken as it is, its bytes kept and decoded only
  // if a consumer reads them.
  if (protobuf_body && vouched_items) wire_summary.items = *vouched_items;
  const bool as_wire =
      protobuf_body && (vouched_items.has_value() ||
                        inspectWire(signal, protobuf_body->bytes, &wire_summary).valid());
  pipeline::Batch batch =
      as_wire ? pipeline::Batch::fromWire(signal, *std::move(protobuf_body), wire_summary.items)
              : pipeline::Batch::create(signal);
  if (as_wire) {
    if (reservation) {
      reservation->resize(wire_bytes);
      batch.attachReservation(*std::move(reservation));
    }
  } else {
    // Invalid, unusual or malformed bytes, and JSON: decode, and let validation say what to
    // remove.
    if (absl::Status s = decode(batch.mutableRequest()); !s.ok()) {
      countMalformed(transport);
      warnRateLimited("malformed request", signal, transport, s);
      out.kind = ExportOutcome::Kind::kBadRequest;
      out.message = std::string(s.message());
      return out;
    }
    if (reservation) {
      // String contents live on the ordinary heap, not on the arena (protobuf 3.21), and add
      // up to at most the wire size: counting both keeps the budget true for string-heavy data.
      reservation->resize(batch.arenaBytes() + wire_bytes);
      batch.attachReservation(*std::move(reservation));
    }
    validation = validate(batch);
    if (validation.rejected > 0) {
      c.invalid->add(validation.rejected);
      c.refused->add(validation.rejected);
    }
  }
  batch.setMetadata(std::move(metadata));
  const size_t items = batch.itemCount();
  if (items > 0) {
    absl::Status s = next->consume(std::move(batch));
    if (!s.ok()) {
      c.refused->add(items);
      warnRateLimited("pipeline refused data", signal, transport, s);
      out.kind = s.code() == absl::StatusCode::kInvalidArgument ? ExportOutcome::Kind::kBadRequest
                                                                : ExportOutcome::Kind::kRetryable;
      out.message = std::string(s.message());
      return out;
    }
    c.accepted->add(items);
    out.accepted_items = items;
  }
  out.body = encodeResponse(signal, validation, response_encoding);
  return out;
}

}  // namespace otlpd::receivers::otlp
