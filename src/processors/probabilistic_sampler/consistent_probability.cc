#include "processors/probabilistic_sampler/consistent_probability.h"

#include <algorithm>
#include <cmath>

namespace otlpd::processors::probabilistic_sampler {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` (at most 14 digits) as a number; false when a character is not a hex digit.
bool parseHex(std::string_view text, uint64_t& out) {
  uint64_t v = 0;
  for (char c : text) {
    const int d = hexDigit(c);
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// The 14 hex digits of a 56-bit value, leading zeros included.
void appendHex14(uint64_t v, char (&digits)[kHexDigits]) {
  for (int i = kHexDigits - 1; i >= 0; --i) {
    digits[i] = kHex[v & 0xf];
    v >>= 4;
  }
}

}  // namespace

double Threshold::probability() const {
  return static_cast<double>(kMaxAdjustedCount - t_) / static_cast<double>(kMaxAdjustedCount);
}

void Threshold::appendTValue(std::string& out) const {
  if (t_ == 0) {
    out.push_back('0');
    return;
  }
  if (t_ >= kMaxAdjustedCount) return;
  char digits[kHexDigits];
  appendHex14(t_, digits);
  size_t n = kHexDigits;
  while (n > 1 && digits[n - 1] == '0') --n;
  out.append(digits, n);
}

std::string Threshold::tvalue() const {
  std::string out;
  appendTValue(out);
  return out;
}

std::string_view valueErrorMessage(ValueError error) {
  switch (error) {
    case ValueError::kNone:
      return "";
    case ValueError::kTValueEmpty:
      return "t-value is empty";
    case ValueError::kTValueSize:
      return "t-value exceeds 14 hex digits";
    case ValueError::kRValueSize:
      return "r-value must have 14 hex digits";
    case ValueError::kSyntax:
      return "invalid syntax";
  }
  return "";
}

ValueError parseTValue(std::string_view text, Threshold& out) {
  if (text.size() > kHexDigits) return ValueError::kTValueSize;
  if (text.empty()) return ValueError::kTValueEmpty;
  uint64_t v;
  if (!parseHex(text, v)) return ValueError::kSyntax;
  // The digits left out are trailing zeros.
  out = *Threshold::fromUnsigned(v << (4 * (kHexDigits - text.size())));
  return ValueError::kNone;
}

ValueError parseRValue(std::string_view text, Randomness& out) {
  if (text.size() != kHexDigits) return ValueError::kRValueSize;
  uint64_t v;
  if (!parseHex(text, v)) return ValueError::kSyntax;
  out = Randomness{v};
  return ValueError::kNone;
}

void appendRValue(Randomness r, std::string& out) {
  char digits[kHexDigits];
  appendHex14(r.value, digits);
  out.append(digits, kHexDigits);
}

std::string rvalue(Randomness r) {
  std::string out;
  appendRValue(r, out);
  return out;
}

bool isValidTraceId(std::string_view trace_id) {
  if (trace_id.size() != 16) return false;
  for (char c : trace_id) {
    if (c != 0) return true;
  }
  return false;
}

Randomness randomnessFromTraceId(std::string_view trace_id) {
  uint64_t v = 0;
  for (size_t i = 9; i < 16 && i < trace_id.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(trace_id[i]);
  }
  return Randomness{v};
}

std::optional<Threshold> probabilityToThreshold(double probability, int precision) {
  if (!(probability >= kMinSamplingProbability && probability <= 1)) return std::nullopt;
  if (precision <= 0 || precision > kHexDigits) precision = kHexDigits;
  if (probability == 1) return Threshold::always();
  // One more digit for each leading 0 (probability near 1) or f (probability near 0) of the
  // threshold: frexp's exponent is <= -4 once there is one.
  int exp_probability = 0;
  int exp_rejection = 0;
  std::frexp(probability, &exp_probability);
  std::frexp(1 - probability, &exp_rejection);
  precision = std::min(kHexDigits,
                       std::max(precision + exp_probability / -4, precision + exp_rejection / -4));
  const auto scaled =
      static_cast<uint64_t>(std::round(probability * static_cast<double>(kMaxAdjustedCount)));
  uint64_t threshold = kMaxAdjustedCount - scaled;
  if (const int shift = 4 * (kHexDigits - precision); shift != 0) {
    threshold += 1ULL << (shift - 1);  // round half up
    threshold >>= shift;
    threshold <<= shift;
  }
  return Threshold::fromUnsigned(std::min(threshold, kMaxAdjustedCount));
}

uint32_t fnvHash(std::string_view bytes, uint32_t seed) {
  constexpr uint32_t kOffset = 2166136261u;
  constexpr uint32_t kPrime = 16777619u;
  uint32_t h = kOffset;
  for (int i = 0; i < 4; ++i) {
    h ^= (seed >> (8 * i)) & 0xff;
    h *= kPrime;
  }
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= kPrime;
  }
  return h;
}

Randomness hashSeedRandomness(std::string_view bytes, uint32_t seed) {
  const uint32_t hash = fnvHash(bytes, seed);
  const uint64_t bucket = hash & (kHashBuckets - 1);
  const uint64_t reversed = kHashBuckets - 1 - bucket;
  const uint64_t high =
      hash >> 18;  // the hash bits above the bucket's, as the Collector takes them
  const uint64_t mixed = high ^ (high << 10);
  return Randomness{(reversed << 42) | (mixed << 14) | bucket};
}

std::optional<Threshold> hashSeedThreshold(float percentage) {
  // 32-bit float arithmetic and truncation, as the original code did: the same percentage must
  // select the same buckets as every Collector since.
  constexpr float kScale = static_cast<float>(kHashBuckets) / 100.0f;
  const float scaled_float = percentage * kScale;
  const auto accepted = static_cast<uint32_t>(std::max(0.0f, scaled_float));
  if (accepted == 0) return std::nullopt;
  const uint64_t rejected = kHashBuckets - std::min<uint32_t>(accepted, kHashBuckets);
  return Threshold::fromUnsigned(rejected << 42);
}

}  // namespace otlpd::processors::probabilistic_sampler
