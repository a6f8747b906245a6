// Jaeger's span model as both of its wire formats carry it (Thrift `jaeger.Batch`, protobuf
// `jaeger.api_v2.Batch`), decoded into flat pools of slices of the request's bytes: decoding
// allocates nothing per span once the pools have grown, and the translation to OTLP
// (to_otlp.h) reads the same model whichever format it came from. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace otlpd::jaeger {

// Thrift's TagType numbering; protobuf's ValueType is mapped onto it by its decoder.
enum class TagType : int32_t { kString = 0, kDouble = 1, kBool = 2, kLong = 3, kBinary = 4 };

struct Tag {
  std::string_view key;
  int32_t type = 0;      // a TagType, or an unknown value the sender wrote
  std::string_view str;  // vStr, or vBinary for kBinary
  double dbl = 0;
  int64_t i64 = 0;
  bool b = false;
};

// A run of elements in one of the batch's pools.
struct Range {
  uint32_t begin = 0;
  uint32_t count = 0;
};

struct Log {
  uint64_t time_unix_nano = 0;
  Range fields;  // in Batch::tags
};

struct SpanRef {
  bool follows_from = false;  // else CHILD_OF
  uint64_t trace_id_high = 0;
  uint64_t trace_id_low = 0;
  uint64_t span_id = 0;
};

struct Process {
  bool present = false;
  std::string_view service_name;
  Range tags;  // in Batch::tags
};

struct Span {
  uint64_t trace_id_high = 0;
  uint64_t trace_id_low = 0;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  std::string_view operation_name;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  uint32_t flags = 0;
  Range tags;  // in Batch::tags
  Range logs;  // in Batch::logs
  Range refs;  // in Batch::refs
  // protobuf only: the span's own process (Batch::span_processes), which wins over the
  // batch's; -1: the batch's.
  int32_t process = -1;
  // Nothing at all was set: the Collector skips such spans, and so do we.
  bool blank = true;
};

struct Batch {
  Process process;
  std::vector<Span> spans;
  std::vector<Tag> tags;
  std::vector<Log> logs;
  std::vector<SpanRef> refs;
  std::vector<Process> span_processes;

  // Empties the pools and keeps their memory, for the next request on this thread.
  void clear() {
    process = Process{};
    spans.clear();
    tags.clear();
    logs.clear();
    refs.clear();
    span_processes.clear();
  }
};

// A `jaeger.Batch` struct in Thrift's binary or compact protocol (the thrift_http body, and the
// argument of the agent's emitBatch). InvalidArgument with the fault and its byte offset for
// bytes that are not one; `batch` is cleared first.
absl::Status decodeThriftBatch(std::string_view bytes, bool compact, Batch& batch);

// A UDP packet to the agent ports: a Thrift message calling `Agent.emitBatch(1: Batch batch)`
// (compact on 6831, binary on 6832). `emitZipkinBatch` and anything else is refused.
absl::Status decodeAgentPacket(std::string_view packet, bool compact, Batch& batch);

// `jaeger.api_v2.PostSpansRequest` (the gRPC CollectorService's request), in protobuf.
absl::Status decodePostSpansRequest(std::string_view bytes, Batch& batch);

}  // namespace otlpd::jaeger
