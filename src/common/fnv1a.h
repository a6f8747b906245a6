// FNV-1a 64: a small, stable (across processes and versions) hash of bytes, for checksums and
// content tags — not for hash tables or anything an attacker chooses collisions against.
#pragma once

#include <cstdint>
#include <string_view>

namespace otlpd::common {

inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace otlpd::common
