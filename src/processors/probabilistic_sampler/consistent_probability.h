// OpenTelemetry's consistent probability sampling, as numbers: 56-bit randomness R (the low 7
// bytes of a W3C trace id, or an explicit `rv` value), a rejection threshold T in [0, 2^56] (an
// item is kept iff R >= T; T = 0 keeps everything), T's `th` encoding (up to 14 hex digits,
// trailing zeros removed) and its derivation from a probability at a given precision, plus the
// probabilistic_sampler's legacy `hash_seed` randomness (FNV-1a of seed and bytes, 14 bits).
// The rules follow the specification (trace/tracestate-probability-sampling) and the Collector's
// pkg/sampling where the specification leaves room. Pure, allocation-free except for encodings.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otlpd::processors::probabilistic_sampler {

inline constexpr int kHexDigits = 14;                      // 56 bits
inline constexpr uint64_t kMaxAdjustedCount = 1ULL << 56;  // number of randomness values
inline constexpr double kMinSamplingProbability = 1.0 / static_cast<double>(kMaxAdjustedCount);

// 56 bits of randomness.
struct Randomness {
  uint64_t value = 0;  // [0, 2^56)
  friend bool operator==(Randomness, Randomness) = default;
};

// Randomness that every threshold but "never" keeps: what an item without randomness is tested
// with (the Collector's AllProbabilitiesRandomness).
inline constexpr Randomness kAllProbabilitiesRandomness{kMaxAdjustedCount - 1};

class Threshold {
 public:
  constexpr Threshold() = default;
  static constexpr Threshold always() { return Threshold(0); }
  static constexpr Threshold never() { return Threshold(kMaxAdjustedCount); }
  // nullopt above 2^56.
  static constexpr std::optional<Threshold> fromUnsigned(uint64_t t) {
    if (t > kMaxAdjustedCount) return std::nullopt;
    return Threshold(t);
  }

  constexpr uint64_t unsignedValue() const { return t_; }
  constexpr bool shouldSample(Randomness r) const { return r.value >= t_; }
  // The probability this threshold keeps an item with: (2^56 - T) / 2^56.
  double probability() const;
  // The `th` value: 14 hex digits with trailing zeros removed, "0" for always; "" for never,
  // which has no encoding.
  std::string tvalue() const;
  void appendTValue(std::string& out) const;

  friend constexpr auto operator<=>(Threshold, Threshold) = default;

 private:
  constexpr explicit Threshold(uint64_t t) : t_(t) {}
  uint64_t t_ = 0;
};

// Why a `th` or `rv` value does not parse; the messages are the Collector's.
enum class ValueError : uint8_t {
  kNone,
  kTValueEmpty,  // "t-value is empty"
  kTValueSize,   // "t-value exceeds 14 hex digits"
  kRValueSize,   // "r-value must have 14 hex digits"
  kSyntax,       // "invalid syntax": not hexadecimal
};
std::string_view valueErrorMessage(ValueError error);

// `th`: 1 to 14 hex digits (either case, as the Collector accepts them), the missing trailing
// digits being zeros.
ValueError parseTValue(std::string_view text, Threshold& out);
// `rv`: exactly 14 hex digits.
ValueError parseRValue(std::string_view text, Randomness& out);
// The `rv` encoding: 14 lower-case hex digits.
std::string rvalue(Randomness r);
void appendRValue(Randomness r, std::string& out);

// The randomness of a W3C trace id (16 bytes): its last 7 bytes, big-endian. The caller checks the
// id is valid (16 bytes, not all zero).
Randomness randomnessFromTraceId(std::string_view trace_id);
// True for a 16-byte id with a non-zero byte: what W3C calls a valid trace id.
bool isValidTraceId(std::string_view trace_id);

// The threshold of `probability` with `precision` significant hex digits (1..14; 0 means 14),
// rounded to nearest. Leading `f` digits (small probabilities) and leading `0` digits
// (probabilities near 1) do not count as significant: precision grows by one for each, as the
// Collector's pkg/sampling does, so that relative error stays bounded at the extremes. nullopt
// outside [2^-56, 1].
std::optional<Threshold> probabilityToThreshold(double probability, int precision);

// --- hash_seed mode: the probabilistic_sampler's original method, kept bit for bit ---------------

inline constexpr uint32_t kHashBuckets = 1u << 14;

// FNV-1a (32 bits) over the seed's 4 bytes (little-endian) followed by `bytes`.
uint32_t fnvHash(std::string_view bytes, uint32_t seed);
// The 56-bit randomness the hash_seed mode derives from the hash of `bytes`: the top 14 bits are
// 2^14 - 1 - (hash mod 2^14), so that "hash bucket < accepted buckets" (the original decision)
// is exactly "R >= T" for T = (2^14 - accepted buckets) << 42; the lower 42 bits are filled from
// the remaining hash bits, as the Collector fills them (written to `rv` and log records).
Randomness hashSeedRandomness(std::string_view bytes, uint32_t seed);
// The hash_seed threshold of a sampling percentage: the accepted buckets are the percentage
// scaled to 2^14 in 32-bit floating point and truncated (as the original code computed them);
// nullopt when that is zero buckets (nothing is sampled). `percentage` is already clamped to 100.
std::optional<Threshold> hashSeedThreshold(float percentage);

}  // namespace otlpd::processors::probabilistic_sampler
