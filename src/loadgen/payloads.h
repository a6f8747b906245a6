// Pre-encoded OTLP export requests for the load generator. Building and encoding happen once,
// before the run, so that the generator's own CPU goes to the transport and never limits the rate
// being measured.
#pragma once

#include <google/protobuf/message.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/compression.h"
#include "pipeline/signal.h"

namespace otlpd::loadgen {

// The other trace formats carry the same spans as their clients send them, mapped as the
// OpenTelemetry specification maps OTLP to Zipkin and Jaeger:
//   kZipkinJson / kZipkinProto: Zipkin v2 JSON / zipkin.proto3 ListOfSpans to /api/v2/spans;
//   kJaegerThriftHttp: a Thrift binary `jaeger.Batch` to /api/traces (jaeger-client's HTTP sender);
//   kJaegerGrpc: `jaeger.api_v2.CollectorService/PostSpans`.
enum class Protocol {
  kGrpc,
  kHttpProtobuf,
  kHttpJson,
  kZipkinJson,
  kZipkinProto,
  kJaegerThriftHttp,
  kJaegerGrpc
};

// "grpc", "http/protobuf", "http/json": the OTEL_EXPORTER_OTLP_PROTOCOL spellings; the others
// "zipkin/json", "zipkin/proto", "jaeger/thrift_http" (the receiver's protocol key), "jaeger/grpc".
std::string_view protocolName(Protocol p);
std::optional<Protocol> parseProtocol(std::string_view name);
// Every protocol, in the order of the enum (for --help and tests).
inline constexpr Protocol kAllProtocols[] = {Protocol::kGrpc,        Protocol::kHttpProtobuf,
                                             Protocol::kHttpJson,    Protocol::kZipkinJson,
                                             Protocol::kZipkinProto, Protocol::kJaegerThriftHttp,
                                             Protocol::kJaegerGrpc};
// Sent over gRPC (OTLP or Jaeger's CollectorService) rather than HTTP/1.1.
inline bool isGrpc(Protocol p) {
  return p == Protocol::kGrpc || p == Protocol::kJaegerGrpc;
}
// Not OTLP: traces only, and an acknowledgement carries no partial success.
inline bool isForeignTraceFormat(Protocol p) {
  return p == Protocol::kZipkinJson || p == Protocol::kZipkinProto ||
         p == Protocol::kJaegerThriftHttp || p == Protocol::kJaegerGrpc;
}

// kRealistic is what an instrumented service sends: spans ~800 bytes on the wire (service
// resource, 12 attributes of mixed types, an exception event on every 4th span), log records
// ~350 bytes, metric points ~200 bytes. kMinimal is the smallest valid item of each signal, for
// measuring per-request and per-item overhead apart from payload bytes.
enum class Shape { kRealistic, kMinimal };
std::string_view shapeName(Shape s);
std::optional<Shape> parseShape(std::string_view name);

// One Export{Trace,Metrics,Logs}ServiceRequest of `items` spans, metric data points or log
// records. Different seeds give different trace/span ids and attribute values, so that a backend
// that deduplicates or indexes by id sees fresh-looking data. Timestamps start at
// `base_time_unix_nano` (normally now, so that time-window checks accept them).
std::unique_ptr<google::protobuf::Message> makeRequest(pipeline::Signal signal, Shape shape,
                                                       size_t items, uint64_t seed,
                                                       uint64_t base_time_unix_nano);

// Where an OTLP protobuf body holds ids (offsets into it), so that every send can make them new
// (`loadgen --unique-ids`): 8-byte ids (span and parent span ids, the first half of trace ids,
// in spans, links and log records) and the 12 hex digits of the order id in url.full values.
struct IdPlaces {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> hex_ids;
  bool empty() const { return ids.empty() && hex_ids.empty(); }
};
absl::StatusOr<IdPlaces> findIdPlaces(pipeline::Signal signal, std::string_view body);
// XORs every id at `places` with `mask` (the hex ids with its low 48 bits, as hex digits): ids
// equal before stay equal (a child keeps its parent), and two masks give two sets of ids.
void renewIds(std::string& body, const IdPlaces& places, uint64_t mask);

// One request body as the transport sends it.
struct EncodedRequest {
  std::string body;          // protobuf or OTLP/JSON; compressed for HTTP when asked
  size_t items = 0;          // spans, metric points or log records in it
  size_t encoded_bytes = 0;  // size of the encoding before compression
  IdPlaces id_places;        // with RequestSetOptions::unique_ids only
  // A reused copy whose body is rewritten before each send (--unique-ids): a sender must not
  // keep anything made from the body past the send.
  bool renewed_per_send = false;
};

struct RequestSet {
  pipeline::Signal signal = pipeline::Signal::kTraces;
  Protocol protocol = Protocol::kGrpc;
  common::Compression compression = common::Compression::kNone;
  // Requests of `batch` items each, sent round-robin.
  std::vector<EncodedRequest> variants;
  // A smaller last request so that a run bounded by an item count sends exactly that many.
  std::optional<EncodedRequest> tail;

  double encodedBytesPerItem() const;  // protobuf or JSON bytes per item, uncompressed
  double bodyBytesPerItem() const;     // bytes per item handed to the transport
};

// How many distinct requests of `batch` items loadgen sends in turn unless told: as many as hold
// 16,000 items. A store batches 10,000 rows at a time; with fewer distinct items than that, a
// record batch holds the same spans several times and compresses better than production data,
// which never repeats (issue #18: 52.9 instead of 67.5 stored bytes per span with 4 variants).
constexpr size_t defaultVariants(size_t batch) {
  constexpr size_t kDistinctItems = 16'000;
  batch = std::max<size_t>(batch, 1);
  return std::max<size_t>((kDistinctItems + batch - 1) / batch, 1);
}

struct RequestSetOptions {
  pipeline::Signal signal = pipeline::Signal::kTraces;
  Shape shape = Shape::kRealistic;
  Protocol protocol = Protocol::kGrpc;
  // gRPC compresses messages itself (the body stays protobuf); HTTP bodies are compressed here.
  common::Compression compression = common::Compression::kNone;
  size_t batch = 1000;
  size_t variants = defaultVariants(1000);
  size_t tail_items = 0;  // 0: no tail request
  uint64_t base_time_unix_nano = 0;
  // Runs with different seeds send different ids and values (two loadgens at one server, or a
  // warm-up before a measured run); seed 0 sends what loadgen always sent.
  uint32_t seed = 0;
  // Every send carries ids no other send carries (the runner renews them in a copy of the body):
  // data that never repeats at any rate, without a variant per request. OTLP protobuf bodies
  // (grpc, http/protobuf without compression) of traces and logs.
  bool unique_ids = false;
};

absl::StatusOr<RequestSet> buildRequestSet(const RequestSetOptions& options);

// Items the server rejected in an OK response's partial_success, from the response body in the
// request's encoding (protobuf for gRPC and http/protobuf, JSON for http/json). An empty body is
// a full success.
absl::StatusOr<int64_t> rejectedItems(pipeline::Signal signal, bool json, std::string_view body);

}  // namespace otlpd::loadgen
