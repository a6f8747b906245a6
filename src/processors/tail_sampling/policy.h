// The tail_sampling processor's policies, as the Collector defines them: each looks at a whole
// trace and says what it wants; combine() turns the answers into keep or drop. The trace is seen
// as its spans' encoded bytes with their resource and scope envelopes (otlp/wire_split.h), never
// as decoded objects. Pure: no I/O, no clock of their own (time comes in as an argument).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_node.h"

namespace otlpd::processors::tail_sampling {

// One buffered span: the raw envelopes are the Resource*/Scope* fields other than the children
// (see otlp::ItemSlice), the span is the Span message's bytes.
struct SpanPiece {
  std::string_view resource_envelope;
  std::string_view scope_envelope;
  std::string_view span;
};

struct TraceView {
  std::string_view trace_id;  // 16 bytes
  std::span<const SpanPiece> spans;
  uint64_t encoded_bytes = 0;          // sum of the spans' encoded sizes
  int64_t first_arrival_unix_nanos = 0;
};

// The Collector's decisions. kInvert* come from `invert_match`; kDropped from the `drop` policy.
enum class Decision : uint8_t {
  kNotSampled,
  kSampled,
  kInvertNotSampled,
  kInvertSampled,
  kDropped,
  kError,  // the policy could not evaluate (counted; the others still decide)
};

class Policy {
 public:
  virtual ~Policy() = default;
  // Called from one thread at a time. Stateful policies (rate_limiting, bytes_limiting,
  // composite) count against `now_unix_nanos`.
  virtual Decision evaluate(const TraceView& trace, int64_t now_unix_nanos) = 0;
};

struct NamedPolicy {
  std::string name;  // the policy's `name`, used in metrics
  std::string type;  // "latency", ...
  std::unique_ptr<Policy> policy;
};

// Reads the `policies` list of a tail_sampling config (the node of the processor itself); every
// problem is reported with its path. An empty result with no error means no policies were given.
std::vector<NamedPolicy> readPolicies(config::ConfigNode& processor_config);

struct FinalDecision {
  bool sampled = false;
  // The policy whose answer decided (for per-policy counts), or npos when none did (no policy
  // sampled: the trace is dropped by default).
  size_t deciding_policy = static_cast<size_t>(-1);
};

// The Collector's precedence: any kDropped drops, then any kInvertNotSampled drops, then any
// kSampled keeps, then any kInvertSampled keeps unless a policy answered kNotSampled; otherwise the
// trace is dropped (kError answers count for nothing). The deciding policy is the first to give
// the deciding answer.
FinalDecision combine(std::span<const Decision> decisions);

}  // namespace otlpd::processors::tail_sampling
