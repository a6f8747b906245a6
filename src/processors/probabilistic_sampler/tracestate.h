// The W3C `tracestate` header with its OpenTelemetry entry (`ot=th:…;rv:…`) parsed: what a
// consistent sampler reads and writes back. Other vendors' entries and unknown `ot` sub-keys pass
// through in their order. Syntax and limits as the Collector's pkg/sampling checks them (W3C keys
// and values, at most 32 entries and 1024 bytes; `ot` values of [a-zA-Z0-9._-] under lower-case
// keys, at most 256 bytes). Serialization puts `ot` first (W3C: a changed entry moves to the
// front) and writes `rv`, then `th`, then the other `ot` sub-keys. Views point into the parsed
// text; one object is reused span after span without allocating once warm. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "processors/probabilistic_sampler/consistent_probability.h"

namespace otlpd::processors::probabilistic_sampler {

enum class TraceStateError : uint8_t {
  kNone,
  kSize,    // over a W3C or OpenTelemetry size limit
  kSyntax,  // not a W3C list of key=value, or not an `ot` list of key:value
  kTValue,  // `th` present but not 1..14 hex digits
  kRValue,  // `rv` present but not 14 hex digits
};
std::string_view traceStateErrorMessage(TraceStateError error);

class TraceState {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;

  // Parses `text` ("" is an empty tracestate). On error the object holds what was read before
  // the fault and must not be serialized.
  TraceStateError parse(std::string_view text);

  bool hasThreshold() const { return threshold_.has_value(); }
  Threshold threshold() const { return *threshold_; }
  bool hasRandomness() const { return randomness_.has_value(); }
  Randomness randomness() const { return *randomness_; }

  void setThreshold(Threshold t);
  void clearThreshold() { threshold_.reset(); }
  void setRandomness(Randomness r);

  // Appends the W3C encoding (nothing for an empty state).
  void serialize(std::string& out) const;

  const std::vector<Entry>& otherVendors() const { return vendors_; }
  const std::vector<Entry>& otelExtra() const { return otel_extra_; }

 private:
  TraceStateError parseOtel(std::string_view value);

  std::optional<Threshold> threshold_;
  std::optional<Randomness> randomness_;
  // The texts as they arrived, written back unchanged when the value was not set anew (the
  // Collector keeps an upper-case `rv` as it came).
  std::string_view threshold_text_;
  std::string_view randomness_text_;
  std::vector<Entry> otel_extra_;  // `ot` sub-keys other than th and rv
  std::vector<Entry> vendors_;     // entries other than `ot`
};

}  // namespace otlpd::processors::probabilistic_sampler
