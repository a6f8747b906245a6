// Reading the protobuf wire format in place: tags, varints, fixed-width values and length-
// delimited slices of the caller's buffer, checked against its end. Nothing is copied or
// allocated. Pure; used by the OTLP wire view (wire_view.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace otlpd::otlp::wire {

enum WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Why a walk stopped. kMalformed: protobuf's parser rejects these bytes too (truncated or
// overlong values, lengths past the end, invalid UTF-8 in a string field). kUnusual: bytes
// protobuf may accept but that we do not interpret (groups, field number 0, tags over 32 bits,
// a known field with another wire type, which protobuf keeps as an unknown field): the caller
// must let protobuf decide.
enum class Stop : uint8_t { kNone, kMalformed, kUnusual };

struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t value = 0;      // varint and fixed-width fields
  std::string_view bytes;  // length-delimited fields: a slice of the input
};

class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }
  // Where the next field starts, for callers that keep a field's raw bytes (tag included).
  const char* position() const { return reinterpret_cast<const char*>(p_); }

  // Reads the next field, value included, and leaves the reader after it.
  Stop next(Field& field) {
    uint64_t tag;
    if (p_ < end_ && *p_ < 0x80) {
      tag = *p_++;
    } else {
      const uint8_t* start = p_;
      if (Stop s = readVarint(tag); s != Stop::kNone) return s;
      // protobuf reads a tag in at most 5 bytes and rejects an overlong one (found by fuzzing).
      if (tag > UINT32_MAX || p_ - start > 5) return Stop::kUnusual;
    }
    field.number = static_cast<uint32_t>(tag >> 3);
    field.type = static_cast<WireType>(tag & 7);
    if (field.number == 0) return Stop::kUnusual;
    switch (field.type) {
      case kVarint:
        return readVarint(field.value);
      case kFixed64:
        if (end_ - p_ < 8) return Stop::kMalformed;
        std::memcpy(&field.value, p_, 8);
        p_ += 8;
        return Stop::kNone;
      case kFixed32: {
        if (end_ - p_ < 4) return Stop::kMalformed;
        uint32_t v;
        std::memcpy(&v, p_, 4);
        field.value = v;
        p_ += 4;
        return Stop::kNone;
      }
      case kLengthDelimited: {
        uint64_t length;
        if (Stop s = readVarint(length); s != Stop::kNone) return s;
        // protobuf reads lengths as int32: anything over 2 GiB fails there too.
        if (length > static_cast<uint64_t>(end_ - p_) || length > INT32_MAX) {
          return Stop::kMalformed;
        }
        field.bytes = std::string_view(reinterpret_cast<const char*>(p_), length);
        p_ += length;
        return Stop::kNone;
      }
      default:
        return Stop::kUnusual;
    }
  }

  // A varint of at most 10 bytes whose last byte only holds bit 63; longer or truncated ones
  // are malformed; a 10th byte with other bits set is left to protobuf.
  Stop readVarint(uint64_t& value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return Stop::kMalformed;
      const uint8_t byte = *p_++;
      if (shift == 63 && byte > 1) return byte < 0x80 ? Stop::kUnusual : Stop::kMalformed;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        value = result;
        return Stop::kNone;
      }
    }
    return Stop::kMalformed;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// The last occurrence of a length-delimited / varint field of an encoded message (protobuf keeps
// the last one), or empty / 0; a malformed message yields what was read before the fault.
inline std::string_view lastLengthDelimited(std::string_view message, uint32_t number) {
  Reader reader(message);
  Field field;
  std::string_view value;
  while (!reader.done() && reader.next(field) == Stop::kNone) {
    if (field.number == number && field.type == kLengthDelimited) value = field.bytes;
  }
  return value;
}
inline uint64_t lastVarint(std::string_view message, uint32_t number) {
  Reader reader(message);
  Field field;
  uint64_t value = 0;
  while (!reader.done() && reader.next(field) == Stop::kNone) {
    if (field.number == number && field.type == kVarint) value = field.value;
  }
  return value;
}

// Structurally valid UTF-8 as protobuf 3.21 checks it for proto3 `string` fields: no overlong
// forms, no surrogates, nothing above U+10FFFF.
bool validUtf8(std::string_view s);

}  // namespace otlpd::otlp::wire
