// A trace id as a hash-table key: 16 bytes held as two words.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace otlpd::processors::tail_sampling {

struct TraceKey {
  uint64_t high = 0;
  uint64_t low = 0;

  // `id` must be 16 bytes.
  static TraceKey from(std::string_view id) {
    TraceKey key;
    std::memcpy(&key.high, id.data(), 8);
    std::memcpy(&key.low, id.data() + 8, 8);
    return key;
  }
  // The id's 16 bytes as they came.
  std::string_view bytes() const { return {reinterpret_cast<const char*>(this), 16}; }
  friend bool operator==(const TraceKey&, const TraceKey&) = default;
};
static_assert(sizeof(TraceKey) == 16);

// Trace ids are random (W3C trace context asks for at least the low 7 bytes), but nothing forces
// a client to send random ones, so both words are mixed (a multiply-xorshift, as splitmix64).
struct TraceKeyHash {
  size_t operator()(const TraceKey& key) const {
    uint64_t h = key.low ^ (key.high * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

}  // namespace otlpd::processors::tail_sampling
