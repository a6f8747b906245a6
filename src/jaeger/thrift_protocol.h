// Apache Thrift's binary and compact protocols, read in place and written, for the few types
// Jaeger's IDL uses. Written from the Thrift protocol specifications (binary: big-endian fixed
// widths, i32-prefixed strings; compact: zigzag varints, field-id deltas, little-endian doubles).
// The reader never allocates by a declared length: strings are slices of the input, and every
// length or element count is checked against the bytes that remain before anything is read.
// Pure.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace otlpd::jaeger::thrift {

enum class Protocol : uint8_t { kBinary, kCompact };

// Thrift's type ids as the binary protocol writes them; the compact protocol's own ids are
// mapped to these by the reader.
enum Type : uint8_t {
  kStop = 0,
  kVoid = 1,
  kBool = 2,
  kByte = 3,
  kDouble = 4,
  kI16 = 6,
  kI32 = 8,
  kI64 = 10,
  kString = 11,
  kStruct = 12,
  kMap = 13,
  kSet = 14,
  kList = 15,
};

// Thrift message types (the agent's UDP packets are CALL or ONEWAY messages).
enum MessageType : uint8_t { kCall = 1, kReply = 2, kException = 3, kOneway = 4 };

// Nesting deeper than this is refused: Jaeger's IDL nests four levels, skipped unknown fields
// may nest a few more, and a hostile packet must not recurse without bound.
constexpr int kMaxDepth = 32;

// The reader's inline loads swap bytes unconditionally.
static_assert(std::endian::native == std::endian::little, "a little-endian host");

class Reader {
 public:
  Reader(std::string_view bytes, Protocol protocol)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())),
        begin_(p_),
        end_(p_ + bytes.size()),
        protocol_(protocol) {}

  bool ok() const { return error_ == nullptr; }
  // What went wrong, and where (a byte offset), for a 400 body.
  std::string error() const;
  bool atEnd() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  // A message header (name, type, sequence id); binary accepts the strict and the old form.
  bool readMessageBegin(std::string_view& name, MessageType& type, int32_t& seqid);

  // Structs: call structBegin(), then readField() until it yields kStop, then structEnd().
  void structBegin() {
    if (protocol_ == Protocol::kCompact) compactStructBegin();
  }
  void structEnd() {
    if (protocol_ == Protocol::kCompact) compactStructEnd();
  }
  // The next field's type and id; kStop at the struct's end (or on error).
  Type readField(int16_t& id) {
    // The binary protocol's common case inline (decoding is most of a receiver's time); the
    // rest, and every error, out of line.
    if (protocol_ == Protocol::kBinary && remaining() >= 3) {
      const uint8_t header = p_[0];
      if (header == kStop) {
        ++p_;
        return kStop;
      }
      if (header < 16 && ((kBinaryFieldTypes >> header) & 1) != 0) {
        id = static_cast<int16_t>(load16(p_ + 1));
        p_ += 3;
        return static_cast<Type>(header);
      }
    } else if (protocol_ == Protocol::kCompact && remaining() >= 1) {
      // A short-form header (the id a delta from the last one) of a type other than bool.
      const uint8_t header = p_[0];
      const uint8_t t = header & 0x0f;
      if (t == 0) {
        ++p_;
        return kStop;
      }
      if ((header >> 4) != 0 && t >= 3 && t <= 12) {
        ++p_;
        id = static_cast<int16_t>(last_field_id_ + (header >> 4));
        last_field_id_ = id;
        return kCompactTypes[t];
      }
    }
    return readFieldSlow(id);
  }

  bool readBool() {
    if (protocol_ == Protocol::kBinary && remaining() >= 1) return *p_++ != 0;
    return readBoolSlow();
  }
  int8_t readByte();
  int16_t readI16();
  int32_t readI32() {
    if (protocol_ == Protocol::kBinary && remaining() >= 4) {
      const auto v = static_cast<int32_t>(load32(p_));
      p_ += 4;
      return v;
    }
    uint64_t v;
    if (protocol_ == Protocol::kCompact && fastVarint(v)) return static_cast<int32_t>(unzigzag(v));
    return readI32Slow();
  }
  int64_t readI64() {
    if (protocol_ == Protocol::kBinary && remaining() >= 8) {
      const auto v = static_cast<int64_t>(load64(p_));
      p_ += 8;
      return v;
    }
    uint64_t v;
    if (protocol_ == Protocol::kCompact && fastVarint(v)) return unzigzag(v);
    return readI64Slow();
  }
  double readDouble() {
    if (protocol_ == Protocol::kBinary && remaining() >= 8) {
      const uint64_t bits = load64(p_);
      p_ += 8;
      double v;
      std::memcpy(&v, &bits, 8);
      return v;
    }
    return readDoubleSlow();
  }
  // string and binary: a slice of the input.
  std::string_view readBinary() {
    if (protocol_ == Protocol::kBinary && remaining() >= 4) {
      const auto n = static_cast<int32_t>(load32(p_));
      if (n >= 0 && static_cast<size_t>(n) <= remaining() - 4) {
        std::string_view s(reinterpret_cast<const char*>(p_ + 4), static_cast<size_t>(n));
        p_ += 4 + n;
        return s;
      }
    } else if (protocol_ == Protocol::kCompact && remaining() >= 1 && p_[0] < 0x80 &&
               p_[0] <= remaining() - 1) {
      std::string_view s(reinterpret_cast<const char*>(p_ + 1), p_[0]);
      p_ += 1 + p_[0];
      return s;
    }
    return readBinarySlow();
  }
  // A list's or set's element type and count; the count is checked against what remains.
  bool readListBegin(Type& element, uint32_t& count);
  // Skips a value of any type, nested at most kMaxDepth.
  void skip(Type type, int depth = 0);

  void fail(const char* what) {
    if (error_ == nullptr) {
      error_ = what;
      error_at_ = static_cast<size_t>(p_ - begin_);
    }
    p_ = end_;
  }

 private:
  // The binary protocol's field types (a bit per type id).
  static constexpr uint32_t kBinaryFieldTypes =
      1u << kBool | 1u << kByte | 1u << kDouble | 1u << kI16 | 1u << kI32 | 1u << kI64 |
      1u << kString | 1u << kStruct | 1u << kMap | 1u << kSet | 1u << kList;
  // Big-endian loads (the binary protocol's byte order).
  static uint32_t load16(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 8 | p[1]; }
  static uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
  }
  static uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
  }
  // The compact protocol's type ids 3..12 (byte to struct) as Type.
  static constexpr Type kCompactTypes[13] = {kStop,   kStop,   kStop, kByte, kI16, kI32,   kI64,
                                             kDouble, kString, kList, kSet,  kMap, kStruct};
  static int64_t unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  // A varint with at least 10 bytes left to read from; false (nothing consumed) otherwise, or
  // when it runs past 10 bytes: the out-of-line reader then reads it or reports the fault.
  bool fastVarint(uint64_t& v) {
    if (remaining() < 10) return false;
    const uint8_t* p = p_;
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      const uint8_t byte = *p++;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        p_ = p;
        v = result;
        return true;
      }
    }
    return false;
  }
  void compactStructBegin();
  void compactStructEnd();
  Type readFieldSlow(int16_t& id);
  bool readBoolSlow();
  int32_t readI32Slow();
  int64_t readI64Slow();
  double readDoubleSlow();
  std::string_view readBinarySlow();
  bool need(size_t n) {
    if (static_cast<size_t>(end_ - p_) >= n) return true;
    fail("truncated");
    return false;
  }
  uint64_t readVarint();
  Type compactType(uint8_t t);

  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  Protocol protocol_;
  const char* error_ = nullptr;
  size_t error_at_ = 0;
  // Compact protocol: the last field id of each open struct, and a bool field's value carried
  // in its header.
  int16_t last_field_id_ = 0;
  std::vector<int16_t> field_id_stack_;
  int8_t pending_bool_ = -1;
};

class Writer {
 public:
  Writer(std::string& out, Protocol protocol) : out_(out), protocol_(protocol) {}

  void messageBegin(std::string_view name, MessageType type, int32_t seqid);
  void structBegin();
  void structEnd();  // writes the STOP field
  void field(Type type, int16_t id);
  // A bool field in one call (compact carries the value in the field header).
  void boolField(int16_t id, bool value);
  void i32(int32_t v);
  void i64(int64_t v);
  void dbl(double v);
  void binary(std::string_view s);
  void listBegin(Type element, uint32_t count);

 private:
  void varint(uint64_t v);
  uint8_t compactType(Type t) const;

  std::string& out_;
  Protocol protocol_;
  int16_t last_field_id_ = 0;
  std::vector<int16_t> field_id_stack_;
};

}  // namespace otlpd::jaeger::thrift
