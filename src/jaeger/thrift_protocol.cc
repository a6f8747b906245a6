#include "jaeger/thrift_protocol.h"

#include <bit>

#include "common/strings.h"

namespace otlpd::jaeger::thrift {
namespace {

// The compact protocol's type ids (Thrift's compact protocol specification).
enum CompactType : uint8_t {
  kCompactStop = 0,
  kCompactTrue = 1,
  kCompactFalse = 2,
  kCompactByte = 3,
  kCompactI16 = 4,
  kCompactI32 = 5,
  kCompactI64 = 6,
  kCompactDouble = 7,
  kCompactBinary = 8,
  kCompactList = 9,
  kCompactSet = 10,
  kCompactMap = 11,
  kCompactStruct = 12,
};

constexpr uint8_t kCompactProtocolId = 0x82;
constexpr uint8_t kCompactVersion = 1;
constexpr uint32_t kBinaryVersion1 = 0x80010000;

uint64_t loadBigEndian(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

}  // namespace

std::string Reader::error() const {
  if (error_ == nullptr) return {};
  return strCat(
      protocol_ == Protocol::kBinary ? "thrift binary protocol: " : "thrift compact protocol: ",
      error_, " at byte ", error_at_);
}

uint64_t Reader::readVarint() {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) {
      fail("truncated varint");
      return 0;
    }
    const uint8_t byte = *p_++;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return result;
  }
  fail("varint longer than 10 bytes");
  return 0;
}

Type Reader::compactType(uint8_t t) {
  switch (t) {
    case kCompactStop:
      return kStop;
    case kCompactTrue:
    case kCompactFalse:
      return kBool;
    case kCompactByte:
      return kByte;
    case kCompactI16:
      return kI16;
    case kCompactI32:
      return kI32;
    case kCompactI64:
      return kI64;
    case kCompactDouble:
      return kDouble;
    case kCompactBinary:
      return kString;
    case kCompactList:
      return kList;
    case kCompactSet:
      return kSet;
    case kCompactMap:
      return kMap;
    case kCompactStruct:
      return kStruct;
    default:
      fail("unknown compact type");
      return kStop;
  }
}

bool Reader::readMessageBegin(std::string_view& name, MessageType& type, int32_t& seqid) {
  if (protocol_ == Protocol::kCompact) {
    if (!need(2)) return false;
    if (p_[0] != kCompactProtocolId) {
      fail("not a compact protocol message");
      return false;
    }
    if ((p_[1] & 0x1f) != kCompactVersion) {
      fail("unsupported compact protocol version");
      return false;
    }
    type = static_cast<MessageType>(p_[1] >> 5);
    p_ += 2;
    seqid = static_cast<int32_t>(readVarint());
    name = readBinary();
    return ok();
  }
  const int32_t first = readI32();
  if (!ok()) return false;
  if (first < 0) {
    if ((static_cast<uint32_t>(first) & 0xffff0000u) != kBinaryVersion1) {
      fail("unsupported binary protocol version");
      return false;
    }
    type = static_cast<MessageType>(first & 0xff);
    name = readBinary();
    seqid = readI32();
    return ok();
  }
  // The old form: the name's length first, then the name, a type byte and the sequence id.
  if (static_cast<size_t>(first) > remaining()) {
    fail("message name longer than the packet");
    return false;
  }
  name = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(first));
  p_ += first;
  type = static_cast<MessageType>(readByte());
  seqid = readI32();
  return ok();
}

void Reader::compactStructBegin() {
  field_id_stack_.push_back(last_field_id_);
  last_field_id_ = 0;
}

void Reader::compactStructEnd() {
  if (!field_id_stack_.empty()) {
    last_field_id_ = field_id_stack_.back();
    field_id_stack_.pop_back();
  }
}

Type Reader::readFieldSlow(int16_t& id) {
  if (!ok() || !need(1)) return kStop;
  const uint8_t header = *p_++;
  if (protocol_ == Protocol::kBinary) {
    if (header == kStop) return kStop;
    if (!need(2)) return kStop;
    id = static_cast<int16_t>(loadBigEndian(p_, 2));
    p_ += 2;
    switch (header) {
      case kBool:
      case kByte:
      case kDouble:
      case kI16:
      case kI32:
      case kI64:
      case kString:
      case kStruct:
      case kMap:
      case kSet:
      case kList:
        return static_cast<Type>(header);
      default:
        fail("unknown field type");
        return kStop;
    }
  }
  const uint8_t t = header & 0x0f;
  if (t == kCompactStop) return kStop;
  const uint8_t delta = header >> 4;
  if (delta != 0) {
    id = static_cast<int16_t>(last_field_id_ + delta);
  } else {
    id = static_cast<int16_t>(unzigzag(readVarint()));
  }
  last_field_id_ = id;
  const Type type = compactType(t);
  if (type == kBool) pending_bool_ = t == kCompactTrue ? 1 : 0;
  return ok() ? type : kStop;
}

bool Reader::readBoolSlow() {
  if (protocol_ == Protocol::kCompact && pending_bool_ >= 0) {
    const bool v = pending_bool_ == 1;
    pending_bool_ = -1;
    return v;
  }
  if (!need(1)) return false;
  const uint8_t b = *p_++;
  return protocol_ == Protocol::kCompact ? b == kCompactTrue : b != 0;
}

int8_t Reader::readByte() {
  if (!need(1)) return 0;
  return static_cast<int8_t>(*p_++);
}

int16_t Reader::readI16() {
  if (protocol_ == Protocol::kCompact) return static_cast<int16_t>(unzigzag(readVarint()));
  if (!need(2)) return 0;
  const auto v = static_cast<int16_t>(loadBigEndian(p_, 2));
  p_ += 2;
  return v;
}

int32_t Reader::readI32Slow() {
  if (protocol_ == Protocol::kCompact) return static_cast<int32_t>(unzigzag(readVarint()));
  if (!need(4)) return 0;
  const auto v = static_cast<int32_t>(loadBigEndian(p_, 4));
  p_ += 4;
  return v;
}

int64_t Reader::readI64Slow() {
  if (protocol_ == Protocol::kCompact) return unzigzag(readVarint());
  if (!need(8)) return 0;
  const auto v = static_cast<int64_t>(loadBigEndian(p_, 8));
  p_ += 8;
  return v;
}

double Reader::readDoubleSlow() {
  if (!need(8)) return 0;
  uint64_t bits;
  if (protocol_ == Protocol::kCompact) {
    std::memcpy(&bits, p_, 8);  // little-endian on the wire, as on our hosts
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap64(bits);
  } else {
    bits = loadBigEndian(p_, 8);
  }
  p_ += 8;
  return std::bit_cast<double>(bits);
}

std::string_view Reader::readBinarySlow() {
  uint64_t length;
  if (protocol_ == Protocol::kCompact) {
    length = readVarint();
  } else {
    const int32_t n = readI32();
    if (n < 0) {
      fail("negative string length");
      return {};
    }
    length = static_cast<uint64_t>(n);
  }
  if (!ok()) return {};
  if (length > remaining()) {
    fail("string length past the end of the input");
    return {};
  }
  std::string_view s(reinterpret_cast<const char*>(p_), length);
  p_ += length;
  return s;
}

bool Reader::readListBegin(Type& element, uint32_t& count) {
  if (!need(1)) return false;
  uint64_t n;
  if (protocol_ == Protocol::kCompact) {
    const uint8_t header = *p_++;
    element = compactType(header & 0x0f);
    n = header >> 4;
    if (n == 15) n = readVarint();
  } else {
    element = static_cast<Type>(*p_++);
    const int32_t size = readI32();
    if (size < 0) {
      fail("negative list size");
      return false;
    }
    n = static_cast<uint64_t>(size);
  }
  if (!ok()) return false;
  // Every element takes at least one byte: a count beyond what remains is a lie.
  if (n > remaining()) {
    fail("list size past the end of the input");
    return false;
  }
  count = static_cast<uint32_t>(n);
  return true;
}

void Reader::skip(Type type, int depth) {
  if (depth > kMaxDepth) {
    fail("nesting too deep");
    return;
  }
  switch (type) {
    case kBool:
      readBool();
      return;
    case kByte:
      readByte();
      return;
    case kI16:
      readI16();
      return;
    case kI32:
      readI32();
      return;
    case kI64:
      readI64();
      return;
    case kDouble:
      readDouble();
      return;
    case kString:
      readBinary();
      return;
    case kStruct: {
      structBegin();
      int16_t id;
      for (Type t = readField(id); t != kStop; t = readField(id)) skip(t, depth + 1);
      structEnd();
      return;
    }
    case kList:
    case kSet: {
      Type element;
      uint32_t count = 0;
      if (!readListBegin(element, count)) return;
      for (uint32_t i = 0; i < count && ok(); ++i) skip(element, depth + 1);
      return;
    }
    case kMap: {
      uint64_t n;
      Type key = kStop, value = kStop;
      if (protocol_ == Protocol::kCompact) {
        n = readVarint();
        if (n > 0 && need(1)) {
          const uint8_t kv = *p_++;
          key = compactType(kv >> 4);
          value = compactType(kv & 0x0f);
        }
      } else {
        if (!need(6)) return;
        key = static_cast<Type>(p_[0]);
        value = static_cast<Type>(p_[1]);
        p_ += 2;
        const int32_t size = readI32();
        if (size < 0) {
          fail("negative map size");
          return;
        }
        n = static_cast<uint64_t>(size);
      }
      if (!ok()) return;
      if (n > remaining() / 2) {
        fail("map size past the end of the input");
        return;
      }
      for (uint64_t i = 0; i < n && ok(); ++i) {
        skip(key, depth + 1);
        skip(value, depth + 1);
      }
      return;
    }
    default:
      fail("cannot skip a value of unknown type");
      return;
  }
}

// --- Writer --------------------------------------------------------------------------------

void Writer::varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

uint8_t Writer::compactType(Type t) const {
  switch (t) {
    case kBool:
      return kCompactTrue;
    case kByte:
      return kCompactByte;
    case kI16:
      return kCompactI16;
    case kI32:
      return kCompactI32;
    case kI64:
      return kCompactI64;
    case kDouble:
      return kCompactDouble;
    case kString:
      return kCompactBinary;
    case kList:
      return kCompactList;
    case kSet:
      return kCompactSet;
    case kMap:
      return kCompactMap;
    case kStruct:
      return kCompactStruct;
    default:
      return kCompactStop;
  }
}

void Writer::messageBegin(std::string_view name, MessageType type, int32_t seqid) {
  if (protocol_ == Protocol::kCompact) {
    out_.push_back(static_cast<char>(kCompactProtocolId));
    out_.push_back(static_cast<char>((type << 5) | kCompactVersion));
    varint(static_cast<uint32_t>(seqid));
    binary(name);
    return;
  }
  i32(static_cast<int32_t>(kBinaryVersion1 | type));
  binary(name);
  i32(seqid);
}

void Writer::structBegin() {
  if (protocol_ == Protocol::kCompact) {
    field_id_stack_.push_back(last_field_id_);
    last_field_id_ = 0;
  }
}

void Writer::structEnd() {
  out_.push_back(0);
  if (protocol_ == Protocol::kCompact && !field_id_stack_.empty()) {
    last_field_id_ = field_id_stack_.back();
    field_id_stack_.pop_back();
  }
}

void Writer::field(Type type, int16_t id) {
  if (protocol_ == Protocol::kBinary) {
    out_.push_back(static_cast<char>(type));
    out_.push_back(static_cast<char>(id >> 8));
    out_.push_back(static_cast<char>(id & 0xff));
    return;
  }
  const uint8_t t = compactType(type);
  const int delta = id - last_field_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | t));
  } else {
    out_.push_back(static_cast<char>(t));
    varint(zigzag(id));
  }
  last_field_id_ = id;
}

void Writer::boolField(int16_t id, bool value) {
  if (protocol_ == Protocol::kBinary) {
    field(kBool, id);
    out_.push_back(value ? 1 : 0);
    return;
  }
  const uint8_t t = value ? kCompactTrue : kCompactFalse;
  const int delta = id - last_field_id_;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | t));
  } else {
    out_.push_back(static_cast<char>(t));
    varint(zigzag(id));
  }
  last_field_id_ = id;
}

void Writer::i32(int32_t v) {
  if (protocol_ == Protocol::kCompact) {
    varint(zigzag(v));
    return;
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    out_.push_back(static_cast<char>((static_cast<uint32_t>(v) >> shift) & 0xff));
  }
}

void Writer::i64(int64_t v) {
  if (protocol_ == Protocol::kCompact) {
    varint(zigzag(v));
    return;
  }
  for (int shift = 56; shift >= 0; shift -= 8) {
    out_.push_back(static_cast<char>((static_cast<uint64_t>(v) >> shift) & 0xff));
  }
}

void Writer::dbl(double v) {
  const auto bits = std::bit_cast<uint64_t>(v);
  if (protocol_ == Protocol::kCompact) {
    for (int shift = 0; shift < 64; shift += 8) {
      out_.push_back(static_cast<char>((bits >> shift) & 0xff));
    }
    return;
  }
  i64(static_cast<int64_t>(bits));
}

void Writer::binary(std::string_view s) {
  if (protocol_ == Protocol::kCompact) {
    varint(s.size());
  } else {
    i32(static_cast<int32_t>(s.size()));
  }
  out_.append(s);
}

void Writer::listBegin(Type element, uint32_t count) {
  if (protocol_ == Protocol::kBinary) {
    out_.push_back(static_cast<char>(element));
    i32(static_cast<int32_t>(count));
    return;
  }
  const uint8_t t = compactType(element);
  if (count < 15) {
    out_.push_back(static_cast<char>((count << 4) | t));
  } else {
    out_.push_back(static_cast<char>(0xf0 | t));
    varint(count);
  }
}

}  // namespace otlpd::jaeger::thrift
