// What both OTLP transports do with a request once its bytes are in hand: decode into a batch,
// validate (partial success), hand to the pipeline, count, and encode the response. The
// transports only adapt this to gRPC statuses or HTTP codes.
#pragma once

#include <google/protobuf/message.h>

#include <array>
#include <atomic>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/compression.h"
#include "common/metrics_registry.h"
#include "pipeline/authenticator.h"
#include "pipeline/batch.h"
#include "pipeline/component.h"

namespace otlpd::receivers::otlp {

// kEmbedded: the `embedded` receiver, whose requests come from the process itself (library API).
// kUdp: the jaeger receiver's agent ports.
enum class Transport { kGrpc = 0, kHttp = 1, kEmbedded = 2, kUdp = 3 };
inline constexpr size_t kTransportCount = 4;
enum class Encoding { kProtobuf, kJson };

struct ExportOutcome {
  enum class Kind {
    kOk,          // accepted, possibly partially; `body` is the encoded Export*ServiceResponse
    kBadRequest,  // undecodable or otherwise permanent: do not retry
    kRetryable,   // the pipeline could not take it now: retry later
  };
  Kind kind = Kind::kOk;
  std::string message;  // why, for errors
  std::string body;
  size_t accepted_items = 0;  // items the pipeline took (for otlpd's own ingest spans)
};

// What a transport's authenticator said about a request.
struct Authentication {
  bool accepted = true;
  pipeline::AuthAttributes attributes;  // for processors, as `auth.<name>`
};

class Ingestor {
 public:
  // Counters are registered for `transports` only; the others must not be used.
  Ingestor(std::string receiver_id, pipeline::SignalConsumers next,
           common::MetricsRegistry& metrics, pipeline::MemoryBudget* memory,
           std::initializer_list<Transport> transports = {Transport::kGrpc, Transport::kHttp});

  bool serves(pipeline::Signal signal) const { return next_.get(signal) != nullptr; }

  // `decode` fills the request message of `signal` from `wire_bytes` bytes; it returns
  // InvalidArgument for bad bytes. The request is refused before decoding when the memory
  // budget cannot take it.
  // `admitted` is what admit() reserved before reading, if the transport called it.
  // `protobuf_body`, for protobuf requests, is the request's bytes (what `decode` parses): when
  // the wire view finds it valid, the batch takes the bytes as they are and nothing is decoded.
  // `vouched_items`: the caller wrote `protobuf_body` itself from another format and vouches that
  // the wire view would find it valid with that many items (the zipkin receiver; its tests hold
  // its encoder to that), so the walk is skipped.
  ExportOutcome exportRequest(
      pipeline::Signal signal, Transport transport, Encoding response_encoding, size_t wire_bytes,
      absl::FunctionRef<absl::Status(google::protobuf::Message&)> decode,
      std::optional<pipeline::MemoryBudget::Reservation> admitted = std::nullopt,
      std::optional<pipeline::WireBytes> protobuf_body = std::nullopt,
      std::shared_ptr<const pipeline::RequestMetadata> metadata = nullptr,
      std::optional<size_t> vouched_items = std::nullopt);

  // Decides, before a request of `signal` is read, whether to read it (`signal` nullopt: a
  // request that will be answered with an error, e.g. an unknown path). Refused (nullopt, with
  // `refusal` set, counted, logged at most once a second) while a stage the request would reach
  // refuses everything (the signal's backpressure gate, pipeline/backpressure.h: an exporter's
  // full queue, memory_limiter above its limit): that costs one atomic load. Then reserves memory
  // for the request, sized from recent requests, so that many requests read at once cannot
  // together overrun the budget; refused as well when the budget cannot take it. The transport
  // refuses without reading (retryable: gRPC UNAVAILABLE with RetryInfo, HTTP 503 with
  // Retry-After). Without a budget limit the reservation is empty.
  // `wire_bytes`, when the transport knows it (HTTP Content-Length), replaces the estimate.
  std::optional<pipeline::MemoryBudget::Reservation> admit(
      Transport transport, std::optional<pipeline::Signal> signal, std::string* refusal,
      std::optional<size_t> wire_bytes = std::nullopt);

  // The largest body the memory budget can ever hold (a body takes twice its size, as admit()
  // counts); none without a budget limit. A body that grows past it is answered 413, not 503:
  // retrying it can never succeed. Not on the announced Content-Length: an announced length
  // holds no memory, and such a client is closed by the body deadline as any staller is.
  std::optional<size_t> largestAdmissibleBody() const;

  // Counts a refusal for memory that admit() did not see (a body that outgrew its reservation)
  // and says why in `refusal`.
  void refuseForMemory(Transport transport, std::string* refusal);

  // Decompresses a request body into `out` (common::decompress, at most `max_output_bytes`),
  // growing `admitted` (what admit() reserved; none: no budget to ask) as the output grows, to
  // the compressed body and twice its decompressed form (which is converted or decoded while it
  // is still held, as admit() counts twice a body's wire size). When the budget
  // cannot grant it: Unavailable, counted as a refusal for memory (the client retries later);
  // when it needs more than the whole budget: ResourceExhausted (too large, no use retrying),
  // carrying the payload kOverMemoryLimit.
  static constexpr char kOverMemoryLimit[] = "otlpd/over-memory-limit";
  absl::Status decompressAdmitted(Transport transport, common::Compression compression,
                                  std::string_view body, size_t max_output_bytes, std::string& out,
                                  std::optional<pipeline::MemoryBudget::Reservation>& admitted);

  // Counts a request refused before decoding (too large, bad encoding, overload...).
  void countMalformed(Transport transport);
  // The authenticator of a transport (`auth.authenticator` of its protocol); set before serving.
  void setAuthenticator(Transport transport,
                        std::shared_ptr<pipeline::ServerAuthenticator> authenticator);
  bool requiresAuthentication(Transport transport) const {
    return authenticators_[static_cast<int>(transport)] != nullptr;
  }
  // Asks the transport's authenticator (accepted, without attributes, when it has none). A
  // refusal is counted and logged, rate-limited; the client is told nothing about why.
  Authentication authenticate(Transport transport, pipeline::HeaderLookup headers);
  // The WWW-Authenticate value for an HTTP 401.
  std::string challenge(Transport transport) const;
  // Whether a header (lower-case) carries the credentials: kept out of request metadata.
  bool isCredentialsHeader(Transport transport, std::string_view name) const;

 private:
  // Counts and logs (rate-limited) a refusal because the signal's backpressure gate is closed.
  void refuseForBackpressure(Transport transport, pipeline::Signal signal, std::string* refusal);
  struct Counters {
    common::Counter* accepted;
    common::Counter* refused;
    common::Counter* invalid;
  };
  void warnRateLimited(std::string_view message, pipeline::Signal signal, Transport transport,
                       const absl::Status& status);

  std::string id_;
  pipeline::SignalConsumers next_;
  std::array<std::array<Counters, 3>, kTransportCount> counters_{};  // [transport][signal]
  std::array<common::Counter*, kTransportCount> malformed_{};
  std::array<common::Counter*, kTransportCount> unauthenticated_{};
  std::array<std::shared_ptr<pipeline::ServerAuthenticator>, kTransportCount> authenticators_{};
  std::atomic<int64_t> last_auth_warning_ns_{0};
  std::array<common::Counter*, kTransportCount> refused_for_memory_{};
  std::array<common::Counter*, kTransportCount> refused_for_backpressure_{};
  std::atomic<int64_t> last_backpressure_warning_ns_{0};
  pipeline::MemoryBudget* memory_;
  std::atomic<size_t> typical_request_bytes_{256 * 1024};  // running average of wire sizes
  std::atomic<int64_t> last_warning_ns_{0};
};

std::string_view transportName(Transport transport);

// google.rpc.Status, the error body of OTLP/HTTP, in the given encoding.
std::string encodeRpcStatus(int code, std::string_view message, Encoding encoding);

}  // namespace otlpd::receivers::otlp
