// What the tail_sampling policy files share: reading the few span, resource and attribute fields a
// policy looks at straight from the wire bytes of a SpanPiece (nothing else is decoded, nothing is
// allocated), and the readers of each policy type's config section. readPolicies() and combine()
// (policy.h) are the public entry points; this header is for the policy files and their tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config_node.h"
#include "otlp/wire_edit.h"
#include "otlp/wire_reader.h"
#include "processors/tail_sampling/policy.h"

namespace otlpd::processors::tail_sampling {

// ---- Reading spans from their bytes ----

// Field numbers the policies read beyond otlp::fields.
namespace wirefields {
inline constexpr uint32_t kEnvelopeMessage = 1;  // Resource / InstrumentationScope in an envelope
inline constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;
inline constexpr uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4, kAnyArray = 5,
                          kAnyKvList = 6, kAnyBytes = 7;
}  // namespace wirefields

// A span's start and end times (0 when absent); protobuf keeps a field's last occurrence, so do we.
struct SpanTimes {
  uint64_t start = 0;
  uint64_t end = 0;
};
inline SpanTimes spanTimes(std::string_view span) {
  SpanTimes t;
  otlp::wire::Reader reader(span);
  otlp::wire::Field f;
  while (!reader.done() && reader.next(f) == otlp::wire::Stop::kNone) {
    if (f.type != otlp::wire::kFixed64) continue;
    if (f.number == otlp::fields::kSpanStartTime) {
      t.start = f.value;
    } else if (f.number == otlp::fields::kSpanEndTime) {
      t.end = f.value;
    }
  }
  return t;
}

// The span's status code (0 unset, 1 ok, 2 error; other numbers as they are).
inline uint64_t spanStatusCode(std::string_view span) {
  const std::string_view status = otlp::wire::lastLengthDelimited(span, otlp::fields::kSpanStatus);
  if (status.empty()) return 0;
  return otlp::wire::lastVarint(status, otlp::fields::kStatusCode);
}

// The Resource message inside a raw resource envelope (or the scope inside a scope envelope).
inline std::string_view envelopeMessage(std::string_view envelope) {
  return otlp::wire::lastLengthDelimited(envelope, wirefields::kEnvelopeMessage);
}

// An attribute value as the attribute policies compare it: the scalar kinds, read in place.
struct AttributeScalar {
  enum class Kind : uint8_t { kNone, kString, kBool, kInt, kDouble, kOther };
  Kind kind = Kind::kNone;
  std::string_view str;  // kString
  int64_t integer = 0;   // kInt, kBool (0 / 1)
  double dbl = 0;        // kDouble
};
// Decodes the content of an encoded AnyValue (the last member of the oneof wins, as in protobuf).
AttributeScalar decodeScalar(std::string_view any_value);

// The encoded AnyValue of the first attribute `key` among the repeated KeyValue field
// `attributes_field` of `message`; false when there is none.
bool findAttribute(std::string_view message, uint32_t attributes_field, std::string_view key,
                   std::string_view& any_value);

// The value of `key` in a W3C tracestate header ("k1=v1,k2=v2"); false when absent.
bool traceStateValue(std::string_view trace_state, std::string_view key, std::string_view& value);

// ---- probabilistic: the Collector's hashing of the trace id ----

inline constexpr uint64_t kFnvOffset64 = 14695981039346656037ULL;
inline constexpr uint64_t kFnvPrime64 = 1099511628211ULL;
// FNV-1a over `bytes`, continuing from `state` (start with kFnvOffset64).
inline uint64_t fnv1a64(uint64_t state, std::string_view bytes) {
  for (unsigned char c : bytes) {
    state ^= c;
    state *= kFnvPrime64;
  }
  return state;
}
// `ratio` of 2^64-1 as the Collector computes it: the product rounded to 64 significant bits
// (nearest, ties to even), then truncated to an integer; 0 below 0, 2^64-1 from 1 up.
uint64_t probabilityThreshold(double ratio);

// ---- Reading policies from the config ----

// Reports `message` at element `index` of list `key` of `node` ("...status_codes[1]").
void addListError(config::ConfigNode& node, std::string_view key, size_t index,
                  std::string message);

// Where a policy sits decides which types it may have: `and` and `drop` take the plain policies,
// `composite` takes those and `and`, the top level takes every type.
enum class PolicyLevel : uint8_t { kTop, kAnd, kComposite, kDrop };

struct ReadPolicy {
  std::string name;
  std::string type;
  std::unique_ptr<Policy> policy;  // null when the config had errors (they are reported)
};
// Reads one policy mapping (`name`, `type` and the section of its type).
ReadPolicy readPolicy(config::ConfigNode& node, PolicyLevel level);

// The readers of each type's section; null when it has errors (reported with their paths).
std::unique_ptr<Policy> makeAlwaysSample();
std::unique_ptr<Policy> readLatency(config::ConfigNode& section);
std::unique_ptr<Policy> readStatusCode(config::ConfigNode& section);
std::unique_ptr<Policy> readProbabilistic(config::ConfigNode& section);
std::unique_ptr<Policy> readSpanCount(config::ConfigNode& section);
std::unique_ptr<Policy> readTraceState(config::ConfigNode& section);
std::unique_ptr<Policy> readNumericAttribute(config::ConfigNode& section);
std::unique_ptr<Policy> readStringAttribute(config::ConfigNode& section);
std::unique_ptr<Policy> readBooleanAttribute(config::ConfigNode& section);
std::unique_ptr<Policy> readRateLimiting(config::ConfigNode& section);
std::unique_ptr<Policy> readBytesLimiting(config::ConfigNode& section);
std::unique_ptr<Policy> readOttlCondition(config::ConfigNode& section);
std::unique_ptr<Policy> readAnd(config::ConfigNode& section);
std::unique_ptr<Policy> readDrop(config::ConfigNode& section);
std::unique_ptr<Policy> readComposite(config::ConfigNode& section);

}  // namespace otlpd::processors::tail_sampling
