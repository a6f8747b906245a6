// Writing the protobuf wire format: the counterpart of wire_reader.h for code that re-encodes
// the parts of a request it changed. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "otlp/wire_reader.h"

namespace otlpd::otlp::wire {

inline size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void appendVarint(uint64_t v, std::string& out) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline void appendTag(uint32_t field, WireType type, std::string& out) {
  appendVarint((static_cast<uint64_t>(field) << 3) | type, out);
}

inline void appendFixed64(uint64_t v, std::string& out) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

inline void appendFixed32(uint32_t v, std::string& out) {
  char buf[4];
  std::memcpy(buf, &v, 4);
  out.append(buf, 4);
}

inline void appendLengthDelimited(uint32_t field, std::string_view bytes, std::string& out) {
  appendTag(field, kLengthDelimited, out);
  appendVarint(bytes.size(), out);
  out.append(bytes);
}

// Bytes of a length-delimited field of `size` bytes, tag and length included.
inline size_t lengthDelimitedSize(uint32_t field, size_t size) {
  return varintSize(static_cast<uint64_t>(field) << 3) + varintSize(size) + size;
}

}  // namespace otlpd::otlp::wire
