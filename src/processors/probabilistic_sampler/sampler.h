// The probabilistic_sampler's decision for one span or one log record, as the Collector's
// probabilisticsamplerprocessor makes it: where the randomness comes from (the hash of the trace
// id or of a log attribute in `hash_seed` mode; the trace id's last 56 bits or an explicit `rv`
// in the consistent modes), the threshold the mode sets (fixed; `equalizing`: the larger of the
// configured and the arriving one; `proportional`: the arriving probability times the configured
// one), what an error (no randomness, an unreadable or inconsistent tracestate) does under
// `fail_closed`, the `sampling.priority` override, and the sampling information written back
// into the kept item (`ot=th:…;rv:…` in the span's tracestate; `sampling.threshold` and
// `sampling.randomness` attributes of a log record). Pure: no I/O, no counters; one Sampler
// serves every thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "processors/probabilistic_sampler/consistent_probability.h"
#include "processors/probabilistic_sampler/tracestate.h"

namespace otlpd::processors::probabilistic_sampler {

enum class Mode : uint8_t { kHashSeed, kProportional, kEqualizing };
enum class AttributeSource : uint8_t { kTraceId, kRecord };

struct SamplerConfig {
  float sampling_percentage = 0;  // float32, as the Collector reads it
  uint32_t hash_seed = 0;
  // Unset: hash_seed (the Collector's default since it grew the other modes).
  std::optional<Mode> mode;
  int sampling_precision = 4;
  bool fail_closed = true;
  // Logs only.
  AttributeSource attribute_source = AttributeSource::kTraceId;
  std::string from_attribute;
  std::string sampling_priority;
};

// The `policy` label of the Collector's sampled/not-sampled counts: where the randomness came
// from, or what overrode the decision.
enum class Policy : uint8_t {
  kTraceIdHash,         // hash_seed of the trace id
  kTraceIdW3C,          // the trace id's 56 random bits
  kSamplingRandomness,  // an explicit rv / sampling.randomness
  kSamplingPriority,    // sampling.priority (or a 0% sampler, which needs no randomness)
  kMissingRandomness,   // no randomness at all
  kAttribute,           // hash_seed of the log attribute `from_attribute` (labelled by its name)
};
inline constexpr size_t kPolicyCount = 6;

// Why an item had no usable sampling information; fail_closed decides what happens to it.
enum class SamplerError : uint8_t {
  kNone,
  kInvalidTraceState,      // tracestate (or sampling.* attribute) does not parse
  kMissingRandomness,      // no valid trace id, no rv (and no from_attribute value)
  kInconsistentThreshold,  // arriving th would not have kept this randomness: it is erased
  kRandomnessInUse,        // hash_seed mode: the item already carries rv
  kThresholdInUse,         // hash_seed mode: the item already carries th
};
inline constexpr size_t kSamplerErrorCount = 6;
std::string_view samplerErrorName(SamplerError error);

// sampling.priority on a span: 0 drops, > 0 keeps, anything else (negative, not a number, absent)
// leaves the decision to the sampler.
enum class SpanPriority : uint8_t { kDefer, kMustSample, kDoNotSample };

struct Decision {
  bool sampled = false;
  Policy policy = Policy::kMissingRandomness;
  SamplerError error = SamplerError::kNone;
};

struct SpanDecision : Decision {
  // Set when sampled and the tracestate changes: the new value is in the caller's buffer.
  bool tracestate_changed = false;
};

// What a log record offers the sampler, read from its attributes by the caller.
struct LogRecordInput {
  std::string_view trace_id;
  // sampling.threshold / sampling.randomness when present as string attributes.
  std::optional<std::string_view> threshold;
  std::optional<std::string_view> randomness;
  // The bytes of `from_attribute` (a bytes value as is, any other as the Collector's AsString).
  std::optional<std::string_view> source_attribute;
  // `sampling_priority` when present as an int or double attribute.
  std::optional<double> priority;
};

struct LogDecision : Decision {
  // Attributes to put on a sampled record (empty: leave as is).
  std::string threshold;   // sampling.threshold
  std::string randomness;  // sampling.randomness
};

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& config);

  Mode mode() const { return mode_; }
  // True when nothing can pass but sampling.priority (0%).
  bool never() const { return never_; }
  // The threshold the configured percentage gives on its own (proportional: relative to 100%).
  Threshold configuredThreshold() const { return threshold_; }

  // Decides for a span with `trace_id` and `tracestate`; when the tracestate changes, the new one
  // replaces the contents of `new_tracestate`. `scratch` is reused from span to span.
  SpanDecision decideSpan(std::string_view trace_id, std::string_view tracestate,
                          SpanPriority priority, TraceState& scratch,
                          std::string& new_tracestate) const;

  LogDecision decideLogRecord(const LogRecordInput& record) const;

 private:
  // The mode's threshold for an item whose carrier holds `arriving` (if any).
  Threshold decide(std::optional<Threshold> arriving) const;
  std::optional<Threshold> logPriorityThreshold(double percentage) const;

  Mode mode_;
  bool never_ = false;
  bool fail_closed_;
  uint32_t hash_seed_;
  int precision_;
  double ratio_ = 0;           // proportional
  Threshold threshold_;        // hash_seed, equalizing
  bool logs_trace_id_ = true;  // hash_seed logs: attribute_source traceID
  bool has_from_attribute_ = false;
};

// sampling.priority as the Collector reads it from a span attribute: ints and doubles by value,
// strings parsed as floating point numbers.
SpanPriority spanPriorityOfInt(int64_t value);
SpanPriority spanPriorityOfDouble(double value);
SpanPriority spanPriorityOfString(std::string_view value);

}  // namespace otlpd::processors::probabilistic_sampler
