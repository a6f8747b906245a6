#include "otlp/json_wire.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/simdjson.h"
#include "common/string_buffer.h"
#include "otlp/json_codec.h"
#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
namespace ondemand = simdjson::ondemand;

// The same limits as the reflection codec (json_codec.cc), for the same reasons.
constexpr int kMaxMessageDepth = 100;
// simdjson's DOM parser (the reference's) refuses documents nested deeper than this; On-Demand
// checks it only in debug builds, so the decoder counts itself.
constexpr int kMaxJsonDepth = 1024;
constexpr size_t kRetainedParserCapacity = size_t{16} << 20;

absl::string_view av(std::string_view s) {
  return {s.data(), s.size()};
}

// ---------------------------------------------------------------------------------------------
// Field tables, built once from the generated descriptors.

// How a field's values are written on the wire.
enum class Encoding : uint8_t {
  kVarint,    // int32/int64/uint32/uint64/enum/bool
  kZigZag32,  // sint32
  kZigZag64,  // sint64
  kFixed64,   // fixed64/sfixed64
  kFixed32,   // fixed32/sfixed32
  kDouble,
  kFloat,
  kString,
  kBytes,
  kMessage,
};

// The range a JSON number must fall in.
enum class Range : uint8_t { kNone, kInt32, kInt64, kUInt32, kUInt64 };

struct MessageTable;

struct FieldTable {
  const FieldDescriptor* descriptor = nullptr;
  std::string_view json_name;   // descriptor-owned
  std::string_view proto_name;  // descriptor-owned
  std::string quoted_key;       // `"jsonName":`, for the encoder
  uint32_t number = 0;
  uint32_t tag_varint = 0;  // the tag of one value (for packed fields: of the unpacked form)
  Encoding encoding = Encoding::kVarint;
  Range range = Range::kNone;
  wire::WireType wire_type = wire::kVarint;
  bool repeated = false;
  bool packed = false;    // a repeated scalar, written packed
  bool presence = false;  // written even when it holds its default value
  bool hex = false;       // OTLP's hex trace/span ids rather than base64
  bool is_enum = false;
  bool is_bool = false;
  int oneof = -1;  // index of its real oneof in the message, or -1
  uint16_t index = 0;
  const MessageTable* child = nullptr;
  // `jsonName"` (the key's raw text with its closing quote) in little-endian words, the last one
  // masked to its length: a raw key is this field's when its first bytes equal these.
  uint64_t raw_key[4] = {};
  uint64_t raw_key_last_mask = 0;
  uint8_t raw_key_words = 0;  // 0: the name is too long to be matched this way
  // Bytes the length of this field's last nested message took: the guess for the next one
  // (shared by threads; a stale value only costs a move).
  mutable std::atomic<uint8_t> length_guess{1};

  FieldTable() = default;
  FieldTable(FieldTable&& other) noexcept { *this = std::move(other); }
  FieldTable& operator=(FieldTable&& other) noexcept {
    descriptor = other.descriptor, json_name = other.json_name, proto_name = other.proto_name;
    quoted_key = std::move(other.quoted_key), number = other.number;
    tag_varint = other.tag_varint, encoding = other.encoding, range = other.range;
    wire_type = other.wire_type, repeated = other.repeated, packed = other.packed;
    presence = other.presence, hex = other.hex, is_enum = other.is_enum;
    is_bool = other.is_bool, oneof = other.oneof, index = other.index, child = other.child;
    std::memcpy(raw_key, other.raw_key, sizeof(raw_key));
    raw_key_last_mask = other.raw_key_last_mask, raw_key_words = other.raw_key_words;
    length_guess.store(other.length_guess.load());
    return *this;
  }
};

// Messages whose validation rules the decoder checks itself (see JsonToWire::vouched()).
enum class MessageKind : uint8_t { kOther, kTracesRequest, kSpan, kLink };

// A field's `,"jsonName":` for the encoder, padded so that it is copied 32 bytes at a time.
struct JsonKey {
  char text[40] = {};
  uint32_t size = 0;  // with the comma; over 32: written from FieldTable::quoted_key instead
};

// The wire tags of a KeyValue's fields and of the AnyValue kinds read in place (see
// JsonToWire::readKeyValueInPlace()), taken from the descriptors.
struct KeyValueTags {
  uint8_t key = 0, value = 0;                               // KeyValue
  uint8_t string_value = 0, bool_value = 0, int_value = 0;  // AnyValue
};

struct MessageTable {
  const Descriptor* descriptor = nullptr;
  MessageKind kind = MessageKind::kOther;
  // Set for KeyValue when its fields and AnyValue's are as OTLP declares them.
  std::optional<KeyValueTags> key_value;
  std::vector<FieldTable> fields;  // declaration order (the JSON output order)
  std::vector<int16_t> by_number;  // field number -> index in `fields`, or -1
  std::vector<std::string_view> oneof_names;
  bool supported = true;           // false for shapes this codec leaves to reflection (maps)
  std::vector<JsonKey> json_keys;  // by field index
};

bool isHexBytesField(const FieldDescriptor& field) {
  if (field.type() != FieldDescriptor::TYPE_BYTES) return false;
  const std::string& name = field.name();
  return name == "trace_id" || name == "span_id" || name == "parent_span_id";
}

class Tables {
 public:
  const MessageTable& get(const Descriptor* descriptor) {
    auto it = tables_.find(descriptor);
    if (it != tables_.end()) return *it->second;
    auto owned = std::make_unique<MessageTable>();
    MessageTable* table = owned.get();
    tables_.emplace(descriptor, std::move(owned));
    build(descriptor, *table);
    return *table;
  }

 private:
  void build(const Descriptor* d, MessageTable& t) {
    t.descriptor = d;
    const std::string& name = d->full_name();
    if (name == "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest") {
      t.kind = MessageKind::kTracesRequest;
    } else if (name == "opentelemetry.proto.trace.v1.Span") {
      t.kind = MessageKind::kSpan;
    } else if (name == "opentelemetry.proto.trace.v1.Span.Link") {
      t.kind = MessageKind::kLink;
    }
    t.fields.resize(static_cast<size_t>(d->field_count()));
    int max_number = 0;
    for (int i = 0; i < d->field_count(); ++i)
      max_number = std::max(max_number, d->field(i)->number());
    // Field numbers of OTLP messages are small; a message with huge ones would waste memory
    // here, so it is left to reflection.
    if (max_number > 4096 || d->field_count() > 64 || d->real_oneof_decl_count() > 4) {
      t.supported = false;
    }
    t.by_number.assign(t.supported ? static_cast<size_t>(max_number) + 1 : 0, -1);
    for (int i = 0; i < d->real_oneof_decl_count(); ++i) {
      t.oneof_names.push_back(d->oneof_decl(i)->name());
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      FieldTable& ft = t.fields[static_cast<size_t>(i)];
      ft.descriptor = f;
      ft.json_name = f->json_name();
      ft.proto_name = f->name();
      ft.quoted_key = absl::StrCat("\"", f->json_name(), "\":");
      if (const std::string raw = absl::StrCat(f->json_name(), "\""); raw.size() <= 32) {
        char padded[32] = {};
        std::memcpy(padded, raw.data(), raw.size());
        std::memcpy(ft.raw_key, padded, sizeof(padded));
        ft.raw_key_words = static_cast<uint8_t>((raw.size() + 7) / 8);
        const size_t last_bytes = raw.size() - (ft.raw_key_words - 1u) * 8;
        ft.raw_key_last_mask =
            last_bytes == 8 ? ~uint64_t{0} : (uint64_t{1} << (last_bytes * 8)) - 1;
      }
      ft.number = static_cast<uint32_t>(f->number());
      ft.repeated = f->is_repeated();
      ft.presence = !ft.repeated && f->has_presence();
      ft.hex = isHexBytesField(*f);
      ft.index = static_cast<uint16_t>(i);
      if (const auto* oneof = f->real_containing_oneof(); oneof != nullptr) {
        ft.oneof = oneof->index();
      }
      if (f->is_map()) t.supported = false;
      if (t.supported) t.by_number[ft.number] = static_cast<int16_t>(i);
      switch (f->type()) {
        case FieldDescriptor::TYPE_INT32:
          ft.encoding = Encoding::kVarint, ft.range = Range::kInt32;
          break;
        case FieldDescriptor::TYPE_INT64:
          ft.encoding = Encoding::kVarint, ft.range = Range::kInt64;
          break;
        case FieldDescriptor::TYPE_UINT32:
          ft.encoding = Encoding::kVarint, ft.range = Range::kUInt32;
          break;
        case FieldDescriptor::TYPE_UINT64:
          ft.encoding = Encoding::kVarint, ft.range = Range::kUInt64;
          break;
        case FieldDescriptor::TYPE_ENUM:
          ft.encoding = Encoding::kVarint, ft.range = Range::kInt32, ft.is_enum = true;
          break;
        case FieldDescriptor::TYPE_BOOL:
          ft.encoding = Encoding::kVarint, ft.is_bool = true;
          break;
        case FieldDescriptor::TYPE_SINT32:
          ft.encoding = Encoding::kZigZag32, ft.range = Range::kInt32;
          break;
        case FieldDescriptor::TYPE_SINT64:
          ft.encoding = Encoding::kZigZag64, ft.range = Range::kInt64;
          break;
        case FieldDescriptor::TYPE_FIXED64:
          ft.encoding = Encoding::kFixed64, ft.range = Range::kUInt64;
          break;
        case FieldDescriptor::TYPE_SFIXED64:
          ft.encoding = Encoding::kFixed64, ft.range = Range::kInt64;
          break;
        case FieldDescriptor::TYPE_FIXED32:
          ft.encoding = Encoding::kFixed32, ft.range = Range::kUInt32;
          break;
        case FieldDescriptor::TYPE_SFIXED32:
          ft.encoding = Encoding::kFixed32, ft.range = Range::kInt32;
          break;
        case FieldDescriptor::TYPE_DOUBLE:
          ft.encoding = Encoding::kDouble;
          break;
        case FieldDescriptor::TYPE_FLOAT:
          ft.encoding = Encoding::kFloat;
          break;
        case FieldDescriptor::TYPE_STRING:
          ft.encoding = Encoding::kString;
          break;
        case FieldDescriptor::TYPE_BYTES:
          ft.encoding = Encoding::kBytes;
          break;
        case FieldDescriptor::TYPE_MESSAGE:
          ft.encoding = Encoding::kMessage;
          break;
        case FieldDescriptor::TYPE_GROUP:
          t.supported = false;
          break;
      }
      switch (ft.encoding) {
        case Encoding::kFixed64:
        case Encoding::kDouble:
          ft.wire_type = wire::kFixed64;
          break;
        case Encoding::kFixed32:
        case Encoding::kFloat:
          ft.wire_type = wire::kFixed32;
          break;
        case Encoding::kString:
        case Encoding::kBytes:
        case Encoding::kMessage:
          ft.wire_type = wire::kLengthDelimited;
          break;
        default:
          ft.wire_type = wire::kVarint;
          break;
      }
      ft.packed = ft.repeated && ft.wire_type != wire::kLengthDelimited;
      ft.tag_varint = (ft.number << 3) | ft.wire_type;
    }
    t.json_keys.resize(t.fields.size());
    for (size_t i = 0; i < t.fields.size(); ++i) {
      JsonKey& key = t.json_keys[i];
      const std::string& quoted = t.fields[i].quoted_key;
      key.size = static_cast<uint32_t>(quoted.size() + 1);
      if (key.size <= 32) {
        key.text[0] = ',';
        std::memcpy(key.text + 1, quoted.data(), quoted.size());
      }
    }
    // Children after the table is complete: messages refer to each other in cycles (AnyValue).
    for (FieldTable& ft : t.fields) {
      if (ft.encoding == Encoding::kMessage) ft.child = &get(ft.descriptor->message_type());
    }
    if (name == "opentelemetry.proto.common.v1.KeyValue") t.key_value = keyValueTags(t);
  }

  // The tags readKeyValueInPlace() writes, if KeyValue and AnyValue have the fields, types and
  // presence it assumes (one-byte tags; `key` skipped when empty, the AnyValue kinds, members of
  // a oneof, written even when they hold their default).
  static std::optional<KeyValueTags> keyValueTags(const MessageTable& kv) {
    auto field = [](const MessageTable& m, std::string_view json_name) -> const FieldTable* {
      for (const FieldTable& f : m.fields) {
        if (f.json_name == json_name && !f.repeated && f.tag_varint < 0x80) return &f;
      }
      return nullptr;
    };
    const FieldTable* key = field(kv, "key");
    const FieldTable* value = field(kv, "value");
    if (key == nullptr || value == nullptr || key->encoding != Encoding::kString || key->presence ||
        value->encoding != Encoding::kMessage || value->child == nullptr ||
        value->child->descriptor->full_name() != "opentelemetry.proto.common.v1.AnyValue") {
      return std::nullopt;
    }
    const MessageTable& any = *value->child;
    const FieldTable* string_value = field(any, "stringValue");
    const FieldTable* bool_value = field(any, "boolValue");
    const FieldTable* int_value = field(any, "intValue");
    if (string_value == nullptr || bool_value == nullptr || int_value == nullptr ||
        string_value->encoding != Encoding::kString || !string_value->presence ||
        !bool_value->is_bool || !bool_value->presence || int_value->range != Range::kInt64 ||
        int_value->encoding != Encoding::kVarint || int_value->is_enum || !int_value->presence) {
      return std::nullopt;
    }
    KeyValueTags tags;
    tags.key = static_cast<uint8_t>(key->tag_varint);
    tags.value = static_cast<uint8_t>(value->tag_varint);
    tags.string_value = static_cast<uint8_t>(string_value->tag_varint);
    tags.bool_value = static_cast<uint8_t>(bool_value->tag_varint);
    tags.int_value = static_cast<uint8_t>(int_value->tag_varint);
    return tags;
  }

  absl::flat_hash_map<const Descriptor*, std::unique_ptr<MessageTable>> tables_;
};

const MessageTable& tableOf(const Descriptor& type) {
  // Built under one lock the first time each root type is asked for; read-only afterwards.
  static std::mutex mutex;
  static Tables* tables = new Tables();
  static absl::flat_hash_map<const Descriptor*, const MessageTable*>* roots =
      new absl::flat_hash_map<const Descriptor*, const MessageTable*>();
  thread_local const Descriptor* last_type = nullptr;
  thread_local const MessageTable* last_table = nullptr;
  if (last_type == &type) return *last_table;
  std::lock_guard lock(mutex);
  auto it = roots->find(&type);
  const MessageTable* table = it != roots->end() ? it->second : &tables->get(&type);
  roots->emplace(&type, table);
  last_type = &type;
  last_table = table;
  return *table;
}

bool supportedDeep(const MessageTable& t, absl::flat_hash_map<const MessageTable*, bool>& seen) {
  if (auto it = seen.find(&t); it != seen.end()) return it->second;
  seen[&t] = true;
  bool ok = t.supported;
  for (const FieldTable& f : t.fields) {
    if (f.child != nullptr && !supportedDeep(*f.child, seen)) ok = false;
  }
  seen[&t] = ok;
  return ok;
}

bool isSupported(const Descriptor& type) {
  static std::mutex mutex;
  static auto* verdicts = new absl::flat_hash_map<const Descriptor*, bool>();
  std::lock_guard lock(mutex);
  auto it = verdicts->find(&type);
  if (it != verdicts->end()) return it->second;
  absl::flat_hash_map<const MessageTable*, bool> seen;
  const bool ok = supportedDeep(tableOf(type), seen);
  verdicts->emplace(&type, ok);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Bytes encodings (as json_codec.cc).

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) {
      v['a' + i] = static_cast<int8_t>(10 + i);
      v['A' + i] = static_cast<int8_t>(10 + i);
    }
  }
};
constexpr HexTable kHex;

// Decodes hex into `out` (appended); false on odd length or a non-hex digit.
bool appendDecodedHex(std::string_view in, std::string& out) {
  if (in.size() % 2 != 0) return false;
  const size_t start = out.size();
  out.resize(start + in.size() / 2);
  char* p = out.data() + start;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  for (size_t i = 0; i < in.size(); i += 2) {
    const int hi = kHex.v[s[i]];
    const int lo = kHex.v[s[i + 1]];
    if ((hi | lo) < 0) return false;
    *p++ = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

// Per byte of x, 0x80 where the byte lies in [lo, hi], else 0; every byte of x below 0x80 (so
// that no sum carries into the next byte).
constexpr uint64_t bytesInRange(uint64_t x, uint8_t lo, uint8_t hi) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t at_least_lo = x + kOnes * (0x80u - lo);
  const uint64_t above_hi = x + kOnes * (0x7fu - hi);
  return at_least_lo & ~above_hi & kHigh;
}

// Decodes 8 hex digits (as read little-endian from the text) into 4 bytes at `out`; false, with
// `out` written, when one is not a hex digit. The table's verdicts, eight digits at a time.
inline bool decodeHex8(uint64_t x, char* out) {
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  if ((x & kHigh) != 0) return false;
  const uint64_t digit = bytesInRange(x, '0', '9');
  const uint64_t letter = bytesInRange(x, 'a', 'f') | bytesInRange(x, 'A', 'F');
  if ((digit | letter) != kHigh) return false;
  // '0'-'9' are 0x30-0x39, 'a'-'f' and 'A'-'F' end in 1-6: the low nibble, plus 9 for letters.
  const uint64_t nibbles = (x & 0x0f0f0f0f0f0f0f0fULL) + (letter >> 7) * 9;
  // Byte 2k becomes (first digit << 4) | second digit; then the even bytes are packed.
  uint64_t w = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff00ff00ff00ffULL;
  w = (w | (w >> 8)) & 0x0000ffff0000ffffULL;
  w = (w | (w >> 16)) & 0x00000000ffffffffULL;
  const auto four = static_cast<uint32_t>(w);
  std::memcpy(out, &four, 4);
  return true;
}

// Decodes hex of even length into in.size() / 2 bytes at `out`; false on a non-hex digit.
bool decodeHexInto(std::string_view in, char* out) {
  size_t i = 0;
  bool good = true;
  for (; i + 8 <= in.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, in.data() + i, 8);
    good &= decodeHex8(x, out);
    out += 4;
  }
  if (!good) return false;
  in.remove_prefix(i);
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  int bad = 0;
  for (size_t j = 0; j < in.size(); j += 2) {
    const int hi = kHex.v[s[j]];
    const int lo = kHex.v[s[j + 1]];
    bad |= hi | lo;
    *out++ = static_cast<char>((hi << 4) | lo);
  }
  return bad >= 0;
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool appendDecodedBase64(std::string_view in, std::string& out) {
  if (!in.empty() && in.back() == '=') {
    if (in.size() % 4 != 0) return false;
    in.remove_suffix(1);
    if (!in.empty() && in.back() == '=') in.remove_suffix(1);
  }
  if (in.size() % 4 == 1) return false;
  out.reserve(out.size() + in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// The 8 lowercase hex digits of 4 bytes (first in memory first), as a little-endian word: the
// bytes spread to every other byte, their nibbles interleaved, then all 8 made digits at once.
inline uint64_t hexDigits8(uint32_t four) {
  uint64_t x = four;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  const uint64_t nibbles = ((x >> 4) & 0x000F000F000F000FULL) | ((x & 0x000F000F000F000FULL) << 8);
  const uint64_t letters = ((nibbles + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
  return nibbles + 0x3030303030303030ULL + letters * ('a' - '0' - 10);
}

template <class Out>
void appendHex(std::string_view in, Out& out) {
  char* p = out.grow(2 * in.size());
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    uint32_t four;
    std::memcpy(&four, in.data() + i, 4);
    const uint64_t digits = hexDigits8(four);
    std::memcpy(p + 2 * i, &digits, 8);
  }
  for (; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    p[2 * i] = kHexDigits[c >> 4];
    p[2 * i + 1] = kHexDigits[c & 0xF];
  }
}

template <class Out>
void appendBase64(std::string_view in, Out& out) {
  char* p = out.grow((in.size() + 2) / 3 * 4);
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    *p++ = kBase64Chars[(v >> 18) & 63];
    *p++ = kBase64Chars[(v >> 12) & 63];
    *p++ = kBase64Chars[(v >> 6) & 63];
    *p++ = kBase64Chars[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t{s[i]} << 16;
    if (rest == 2) v |= uint32_t{s[i + 1]} << 8;
    *p++ = kBase64Chars[(v >> 18) & 63];
    *p++ = kBase64Chars[(v >> 12) & 63];
    *p++ = rest == 2 ? kBase64Chars[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding: JSON -> wire.

std::string_view jsonTypeName(ondemand::json_type type) {
  switch (type) {
    case ondemand::json_type::array:
      return "array";
    case ondemand::json_type::object:
      return "object";
    case ondemand::json_type::number:
      return "number";
    case ondemand::json_type::string:
      return "string";
    case ondemand::json_type::boolean:
      return "boolean";
    case ondemand::json_type::null:
      return "null";
  }
  return "value";
}

bool isDecimal(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The value of 1 to 19 decimal digits (no sign), which cannot overflow; false for anything else,
// which isDecimal() and parseDecimal() then judge. Timestamps are such strings, one or two a span.
inline bool parseShortDigits(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    const auto digit = static_cast<unsigned char>(c - '0');
    if (digit > 9) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

template <typename T>
bool parseDecimal(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

uint64_t zigzag32(int32_t v) {
  return static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}
uint64_t zigzag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// The decoder's output: a std::string grown ahead and written through a pointer, its final size
// set by finish() (std::string's own push_back and append are not inlined, and were a tenth of the
// decoder's time).
class WireOut {
 public:
  // The room ahead is not zero-filled (common/string_buffer.h): every byte below len_ is written.
  explicit WireOut(std::string& s, size_t expected) : s_(s), len_(s.size()) {
    common::resizeUninitialized(s_, len_ + expected + kSlack);
  }
  void finish() { s_.resize(len_); }

  size_t size() const { return len_; }
  char* at(size_t offset) { return s_.data() + offset; }
  void truncate(size_t n) { len_ = n; }
  // Makes room for `n` more bytes and returns where they go; they count from then on.
  [[gnu::always_inline]] char* grow(size_t n) {
    if (len_ + n + kSlack > s_.size()) [[unlikely]]
      expand(n);
    char* p = s_.data() + len_;
    len_ += n;
    return p;
  }
  void push_back(char c) { *grow(1) = c; }
  void append(std::string_view v) { std::memcpy(grow(v.size()), v.data(), v.size()); }
  [[gnu::always_inline]] void varint(uint64_t v) {
    if (len_ + 10 + kSlack > s_.size()) [[unlikely]]
      expand(10);
    char* p = s_.data() + len_;
    char* start = p;
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    len_ += static_cast<size_t>(p - start);
  }
  void fixed64(uint64_t v) { std::memcpy(grow(8), &v, 8); }
  void fixed32(uint32_t v) { std::memcpy(grow(4), &v, 4); }

 private:
  static constexpr size_t kSlack = 16;
  [[gnu::noinline]] void expand(size_t n) {
    common::resizeUninitialized(s_, std::max(s_.size() * 2, len_ + n + kSlack + 256));
  }

  std::string& s_;
  size_t len_;
};

// The closing quote of the JSON string whose text starts at `p`, or nullptr if an escape comes
// first. The padded input can be read 16 bytes at a time past any string: its closing quote is
// followed by at least SIMDJSON_PADDING (64) bytes.
inline const char* plainStringEnd(const char* p) {
#if defined(__SSE2__)
  // Sixteen bytes at a time where SSE2 is there (every x86-64); attribute values such as URLs,
  // user agents and statements run to 100 bytes and more.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (;;) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto hits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash))));
    if (hits != 0) {
      const char* at = p + std::countr_zero(hits);
      return *at == '"' ? at : nullptr;
    }
    p += 16;
  }
#else
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  for (;;) {
    uint64_t x;
    std::memcpy(&x, p, 8);
    const uint64_t q = x ^ (kOnes * '"');
    const uint64_t b = x ^ (kOnes * '\\');
    const uint64_t hits = (((q - kOnes) & ~q) | ((b - kOnes) & ~b)) & kHigh;
    if (hits != 0) {
      // The lowest hit is exact (borrows only run upwards from a true zero byte).
      const char* at = p + (std::countr_zero(hits) >> 3);
      return *at == '"' ? at : nullptr;
    }
    p += 8;
  }
#endif
}

// Whether n bytes at p hold a backslash; reads whole 8-byte words (the input is padded), with
// no early exit: strings are short and the loop has no dependency between its loads.
inline bool hasBackslash(const char* p, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t hits = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    const uint64_t b = x ^ (kOnes * '\\');
    hits |= (b - kOnes) & ~b;
  }
  if (i < n) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    const uint64_t b = x ^ (kOnes * '\\');
    // Only the bytes below n count; a false hit past a true zero byte is a hit anyway.
    hits |= ((b - kOnes) & ~b) & ((uint64_t{1} << ((n - i) * 8)) - 1);
  }
  return (hits & kHigh) != 0;
}

// On-Demand's get_double() refuses some numbers the DOM parser reads (a zero with a 100-digit
// exponent; found by otlp_json_fuzzer), so a refused token gets the DOM's verdict and value. Rare:
// the cost of a parser here does not matter.
simdjson::error_code readNumberAsDom(std::string_view token, double& d) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(token);
  simdjson::dom::element element;
  if (auto e = parser.parse(padded).get(element); e != simdjson::SUCCESS) return e;
  return element.get_double().get(d);
}

// A JSON number as simdjson's DOM parser reads it. simdjson 3.0's On-Demand get_number() gives 0
// for a fraction of more than 19 significant digits (its slow path), and its get_double() misreads
// some of those too (a 90-digit fraction came back as 4e-69; found by otlp_json_fuzzer). So for a
// fraction get_double() gives only the verdict (what JSON accepts), and std::from_chars, which
// rounds correctly, the value; integers keep get_number(), which refuses those past 64 bits as the
// DOM does.
simdjson::error_code readNumber(ondemand::value& value, ondemand::number_type& type, int64_t& i,
                                uint64_t& u, double& d) {
  if (auto e = value.get_number_type().get(type); e != simdjson::SUCCESS) return e;
  if (type == ondemand::number_type::floating_point_number) {
    const std::string_view token = value.raw_json_token();
    if (auto e = value.get_double().get(d); e != simdjson::SUCCESS)
      return readNumberAsDom(token, d);
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
    (void)end;  // the token runs on to the next structural character; simdjson checked it
    (void)ec;   // a number get_double() accepted is one from_chars reads
    return simdjson::SUCCESS;
  }
  ondemand::number n;
  if (auto e = value.get_number().get(n); e != simdjson::SUCCESS) return e;
  type = n.get_number_type();
  switch (type) {
    case ondemand::number_type::signed_integer:
      i = n.get_int64();
      d = static_cast<double>(i);
      break;
    case ondemand::number_type::unsigned_integer:
      u = n.get_uint64();
      d = static_cast<double>(u);
      break;
    case ondemand::number_type::floating_point_number:
      d = n.get_double();  // "-0", which get_number() reads as a double
      break;
  }
  return simdjson::SUCCESS;
}

// Thrown nowhere: decoding stops by returning false; this says why.
enum class Fault : uint8_t { kNone, kSemantic, kSyntax, kFallback };

class JsonToWire {
 public:
  // `text_end`: the end of the JSON text (the padding after it is not part of it).
  JsonToWire(std::string& out, size_t expected, const char* text_end)
      : out_(out, expected), text_end_(text_end) {}
  // Sets the output's final size; call once, after run().
  void finish() { out_.finish(); }

  absl::Status run(ondemand::document& doc, const MessageTable& root) {
    ondemand::json_type type;
    if (auto e = doc.type().get(type); e != simdjson::SUCCESS) return syntaxStatus(e);
    if (type != ondemand::json_type::object) {
      // The reflection codec reports malformed JSON anywhere before a wrong top level.
      if (simdjson::error_code e = validateDocumentScalar(doc, type); e != simdjson::SUCCESS) {
        return syntaxStatus(e);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("expected a JSON object at the top level, got ", av(jsonTypeName(type))));
    }
    ondemand::object object;
    if (auto e = doc.get_object().get(object); e != simdjson::SUCCESS) return syntaxStatus(e);
    json_depth_ = 1;
    vouch_ = root.kind == MessageKind::kTracesRequest;
    if (!readMessage(object, root, 1)) return faultStatus();
    if (!atEnd(doc)) return syntaxStatus(simdjson::TRAILING_CONTENT);
    return absl::OkStatus();
  }

  bool needsFallback() const { return fault_ == Fault::kFallback; }
  // After a successful run() of a traces request: its span count when the decoder can vouch that
  // the wire view would find the bytes valid (every span passes validation.h's rules, nothing
  // nested deeper than the view reads), so the receiver may skip the view's walk.
  std::optional<size_t> vouched() const {
    if (!vouch_ || !vouchable_) return std::nullopt;
    return spans_;
  }
  bool syntaxFault() const { return fault_ == Fault::kSyntax; }

 private:
  struct PathSegment {
    std::string_view name;  // empty for an index
    size_t index;
  };

  // Whether nothing but white space follows the document's value.
  static bool atEnd(ondemand::document& doc) {
    const char* location = nullptr;
    return doc.current_location().get(location) != simdjson::SUCCESS;
  }

  static absl::Status syntaxStatus(simdjson::error_code e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", simdjson::error_message(e)));
  }

  absl::Status faultStatus() const {
    if (fault_ == Fault::kSyntax) return syntaxStatus(syntax_error_);
    return absl::InvalidArgumentError(error_);
  }

  bool syntax(simdjson::error_code e) {
    fault_ = Fault::kSyntax;
    syntax_error_ = e;
    return false;
  }

  // Counts a container opened; false past the DOM parser's depth limit.
  bool enter() {
    if (++json_depth_ > kMaxJsonDepth) return syntax(simdjson::DEPTH_ERROR);
    return true;
  }

  bool fail(std::string_view what) {
    fault_ = Fault::kSemantic;
    std::string path;
    for (const PathSegment& seg : path_) {
      if (seg.name.empty()) {
        absl::StrAppend(&path, "[", seg.index, "]");
      } else {
        if (!path.empty()) path.push_back('.');
        path.append(seg.name);
      }
    }
    if (path.empty()) path = "(root)";
    error_ = absl::StrCat(path, ": ", av(what));
    return false;
  }

  bool failType(std::string_view expected, ondemand::json_type got) {
    return fail(absl::StrCat("expected ", av(expected), ", got ", av(jsonTypeName(got))));
  }

  // A top-level scalar must still be valid JSON for the reflection codec's verdict.
  static simdjson::error_code validateDocumentScalar(ondemand::document& doc,
                                                     ondemand::json_type type) {
    switch (type) {
      case ondemand::json_type::array: {
        ondemand::array array;
        if (auto e = doc.get_array().get(array); e != simdjson::SUCCESS) return e;
        for (auto item : array) {
          ondemand::value v;
          if (auto e = item.get(v); e != simdjson::SUCCESS) return e;
          if (auto e = validateValue(v, 1); e != simdjson::SUCCESS) return e;
        }
        break;
      }
      case ondemand::json_type::string: {
        std::string_view s;
        if (auto e = doc.get_string().get(s); e != simdjson::SUCCESS) return e;
        break;
      }
      case ondemand::json_type::number: {
        ondemand::number n;
        if (auto e = doc.get_number().get(n); e != simdjson::SUCCESS) return e;
        break;
      }
      case ondemand::json_type::boolean: {
        bool b;
        if (auto e = doc.get_bool().get(b); e != simdjson::SUCCESS) return e;
        break;
      }
      case ondemand::json_type::null: {
        bool is_null = false;
        if (auto e = doc.is_null().get(is_null); e != simdjson::SUCCESS) return e;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        break;
      }
      default:
        break;
    }
    if (!atEnd(doc)) return simdjson::TRAILING_CONTENT;
    return simdjson::SUCCESS;
  }

  // Reads a skipped value in full so that malformed JSON in it is refused, as a DOM parser
  // refuses it.
  static simdjson::error_code validateValue(ondemand::value& value, int depth) {
    ondemand::json_type type;
    if (auto e = value.type().get(type); e != simdjson::SUCCESS) return e;
    if ((type == ondemand::json_type::object || type == ondemand::json_type::array) &&
        depth + 1 > kMaxJsonDepth) {
      return simdjson::DEPTH_ERROR;
    }
    switch (type) {
      case ondemand::json_type::object: {
        ondemand::object object;
        if (auto e = value.get_object().get(object); e != simdjson::SUCCESS) return e;
        for (auto field : object) {
          ondemand::field f;
          if (auto e = std::move(field).get(f); e != simdjson::SUCCESS) return e;
          std::string_view key;
          if (auto e = f.unescaped_key().get(key); e != simdjson::SUCCESS) return e;
          if (auto e = validateValue(f.value(), depth + 1); e != simdjson::SUCCESS) return e;
        }
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::array: {
        ondemand::array array;
        if (auto e = value.get_array().get(array); e != simdjson::SUCCESS) return e;
        for (auto item : array) {
          ondemand::value v;
          if (auto e = item.get(v); e != simdjson::SUCCESS) return e;
          if (auto e = validateValue(v, depth + 1); e != simdjson::SUCCESS) return e;
        }
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::string: {
        std::string_view s;
        return value.get_string().get(s);
      }
      case ondemand::json_type::number: {
        ondemand::number_type t;
        int64_t i;
        uint64_t u;
        double d;
        return readNumber(value, t, i, u, d);
      }
      case ondemand::json_type::boolean: {
        bool b;
        return value.get_bool().get(b);
      }
      case ondemand::json_type::null: {
        bool is_null = false;
        if (auto e = value.is_null().get(is_null); e != simdjson::SUCCESS) return e;
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  // The key of `field` without copying when it has no escapes.
  bool keyOf(ondemand::field& field, std::string_view& key) {
    const char* raw = field.key().raw();
    if (const char* end = plainStringEnd(raw); end != nullptr) {
      key = std::string_view(raw, static_cast<size_t>(end - raw));
      return true;
    }
    if (auto e = field.unescaped_key().get(key); e != simdjson::SUCCESS) return syntax(e);
    return true;
  }

  // Whether the raw key text at `raw` (after its opening quote) is exactly `f`'s JSON name: its
  // bytes equal `jsonName"`, whose quote must then close it (names hold no escapes). The input is
  // padded, so the 32 bytes compared at most are readable.
  static bool rawKeyIs(const FieldTable& f, const char* raw) {
    const unsigned words = f.raw_key_words;
    if (words == 0) return false;
    for (unsigned i = 0; i + 1 < words; ++i) {
      uint64_t w;
      std::memcpy(&w, raw + 8 * i, 8);
      if (w != f.raw_key[i]) return false;
    }
    uint64_t w;
    std::memcpy(&w, raw + 8 * (words - 1), 8);
    return (w & f.raw_key_last_mask) == f.raw_key[words - 1];
  }

  // The field whose JSON name the raw key is, compared in place (no scan for the key's end, no
  // copy), the field after the last one found first; nullptr leaves escaped keys, proto names
  // and unknown keys to keyOf() and findField().
  static const FieldTable* findRawKey(const MessageTable& m, const char* raw, size_t& hint) {
    if (hint < m.fields.size() && rawKeyIs(m.fields[hint], raw)) return &m.fields[hint++];
    for (const FieldTable& f : m.fields) {
      if (rawKeyIs(f, raw)) {
        hint = f.index + 1u;
        return &f;
      }
    }
    return nullptr;
  }

  // Senders write a message's keys in the same order every time (mostly the declaration order),
  // so the field after the last one found is tried first.
  static const FieldTable* findField(const MessageTable& m, std::string_view key, size_t& hint) {
    if (hint < m.fields.size()) {
      const FieldTable& f = m.fields[hint];
      if (f.json_name.size() == key.size() &&
          sameBytes(f.json_name.data(), key.data(), key.size())) {
        ++hint;
        return &f;
      }
    }
    const FieldTable* found = findFieldSlow(m, key);
    if (found != nullptr) hint = found->index + 1u;
    return found;
  }

  // Keys are short: compared inline, eight bytes at a time, rather than through memcmp().
  static bool sameBytes(const char* a, const char* b, size_t n) {
    while (n >= 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
      a += 8, b += 8, n -= 8;
    }
    while (n > 0) {
      if (*a++ != *b++) return false;
      --n;
    }
    return true;
  }

  static const FieldTable* findFieldSlow(const MessageTable& m, std::string_view key) {
    for (const FieldTable& f : m.fields) {
      if (f.json_name.size() == key.size() &&
          sameBytes(f.json_name.data(), key.data(), key.size())) {
        return &f;
      }
    }
    for (const FieldTable& f : m.fields) {
      if (f.proto_name == key) return &f;
    }
    return nullptr;
  }

  // Starts a length-delimited field whose content follows; its length is written by
  // endNested(), in the `guess` bytes kept for it here (moving the content when that was wrong).
  size_t beginNested(uint32_t number, uint8_t guess = 1) {
    out_.varint((static_cast<uint64_t>(number) << 3) | wire::kLengthDelimited);
    out_.grow(guess);
    return out_.size();
  }

  // Returns the number of bytes the length took, the guess for the next field like this one.
  uint8_t endNested(size_t start, uint8_t guess = 1) {
    const size_t length = out_.size() - start;
    if (length < 0x80 && guess == 1) {
      *out_.at(start - 1) = static_cast<char>(length);
      return 1;
    }
    const size_t n = wire::varintSize(length);
    if (n != guess) {
      if (n > guess) out_.grow(n - guess);
      char* content = out_.at(start);
      std::memmove(content + n - guess, content, length);
      if (n < guess) out_.truncate(out_.size() - (guess - n));
    }
    char* base = out_.at(start - guess);
    uint64_t v = length;
    for (size_t i = 0; i + 1 < n; ++i) {
      base[i] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    base[n - 1] = static_cast<char>(v);
    return static_cast<uint8_t>(n);
  }

  bool readMessage(ondemand::object& object, const MessageTable& m, int depth) {
    if (depth > kMaxMessageDepth) {
      return fail(absl::StrCat("messages nested deeper than ", kMaxMessageDepth, " levels"));
    }
    uint64_t written = 0;  // fields written by this object, by index (OTLP messages have < 64)
    int oneof_set[4] = {-1, -1, -1, -1};
    size_t hint = 0;
    const MessageKind outer_kind = kind_;
    IdFacts* outer_facts = facts_;
    IdFacts facts;
    if (vouch_) {
      // The wire view calls anything nested past its depth limit (90) unusual.
      if (depth > kVouchDepth) vouchable_ = false;
      kind_ = m.kind;
      if (m.kind == MessageKind::kSpan || m.kind == MessageKind::kLink) facts_ = &facts;
    }
    for (auto field_result : object) {
      // Used in place: moving it out costs a store-to-load stall on every member.
      if (auto e = field_result.error(); e != simdjson::SUCCESS) return syntax(e);
      ondemand::field& field = field_result.value_unsafe();
      const FieldTable* f = findRawKey(m, field.key().raw(), hint);
      if (f == nullptr) {
        std::string_view key;
        if (!keyOf(field, key)) return false;
        f = findField(m, key, hint);
      }
      ondemand::value& value = field.value();
      if (f == nullptr) {
        // Unknown keys are skipped so that newer senders can talk to us.
        if (auto e = validateValue(value, json_depth_); e != simdjson::SUCCESS) return syntax(e);
        continue;
      }
      ondemand::json_type type;
      if (auto e = value.type().get(type); e != simdjson::SUCCESS) return syntax(e);
      if (type == ondemand::json_type::null) {
        bool is_null = false;
        if (auto e = value.is_null().get(is_null); e != simdjson::SUCCESS) return syntax(e);
        if (!is_null) return syntax(simdjson::N_ATOM_ERROR);
        continue;
      }
      const uint64_t bit = f->index < 64 ? uint64_t{1} << f->index : 0;
      path_.push_back({f->json_name, 0});
      if (f->repeated) {
        if (!readRepeated(value, type, *f, depth)) return false;
      } else {
        if (f->oneof >= 0) {
          int& set = oneof_set[f->oneof & 3];
          if (set >= 0 && set != f->index) {
            return fail(absl::StrCat(
                "conflicts with ", av(m.fields[static_cast<size_t>(set)].json_name),
                " (both in oneof ", av(m.oneof_names[static_cast<size_t>(f->oneof)]), ")"));
          }
          set = f->index;
        }
        if (f->encoding == Encoding::kMessage && (written & bit) != 0) {
          // A second occurrence merges into the first (and may conflict with a oneof set
          // there): rare enough to leave to the reflection codec.
          fault_ = Fault::kFallback;
          return false;
        }
        if (!readSingular(value, type, *f, (written & bit) != 0, depth)) return false;
        written |= bit;
      }
      path_.pop_back();
    }
    if (vouch_) {
      if (m.kind == MessageKind::kSpan) {
        ++spans_;
        if (!facts.validSpan()) vouchable_ = false;
      } else if (m.kind == MessageKind::kLink && !facts.validLink()) {
        vouchable_ = false;
      }
      kind_ = outer_kind;
      facts_ = outer_facts;
    }
    return true;
  }

  bool readRepeated(ondemand::value& value, ondemand::json_type type, const FieldTable& f,
                    int depth) {
    if (type != ondemand::json_type::array) return failType("array", type);
    ondemand::array array;
    if (auto e = value.get_array().get(array); e != simdjson::SUCCESS) return syntax(e);
    if (!enter()) return false;
    size_t packed_start = 0;
    const size_t before = out_.size();
    if (f.packed) packed_start = beginNested(f.number);
    size_t index = 0;
    for (auto item_result : array) {
      ondemand::value item;
      if (auto e = item_result.get(item); e != simdjson::SUCCESS) return syntax(e);
      // Attributes in the form nearly every sender writes are read straight from the text; the
      // array's iterator then skips the item's tokens.
      if (f.child != nullptr && f.child->key_value && depth + 2 <= kVouchDepth &&
          readKeyValueInPlace(item.raw_json_token().data(), f, *f.child->key_value)) {
        ++index;
        continue;
      }
      path_.push_back({{}, index++});
      ondemand::json_type item_type;
      if (auto e = item.type().get(item_type); e != simdjson::SUCCESS) return syntax(e);
      if (item_type == ondemand::json_type::null) {
        bool is_null = false;
        if (auto e = item.is_null().get(is_null); e != simdjson::SUCCESS) return syntax(e);
        if (!is_null) return syntax(simdjson::N_ATOM_ERROR);
        return fail("null is not allowed in a repeated field");
      }
      if (f.packed) {
        if (!readScalar(item, item_type, f, /*write_tag=*/false, /*skip_default=*/false)) {
          return false;
        }
      } else if (f.encoding == Encoding::kMessage) {
        if (item_type != ondemand::json_type::object) return failType("object", item_type);
        ondemand::object object;
        if (auto e = item.get_object().get(object); e != simdjson::SUCCESS) return syntax(e);
        if (!enter()) return false;
        const uint8_t guess = f.length_guess.load(std::memory_order_relaxed);
        const size_t start = beginNested(f.number, guess);
        if (!readMessage(object, *f.child, depth + 1)) return false;
        if (const uint8_t used = endNested(start, guess); used != guess) {
          f.length_guess.store(used, std::memory_order_relaxed);
        }
        --json_depth_;
      } else if (!readScalar(item, item_type, f, /*write_tag=*/true, /*skip_default=*/false)) {
        return false;
      }
      path_.pop_back();
    }
    --json_depth_;
    if (f.packed) {
      if (index == 0) {
        out_.truncate(before);  // no values: no field, as protobuf writes it
      } else {
        endNested(packed_start);
      }
    }
    return true;
  }

  // Reads one attribute written exactly as `{"key":"K","value":{"stringValue":"S"}}` (or with
  // `"intValue":"D"`, D of at most 19 digits within int64, or `"boolValue":true|false`), K and S
  // without escapes, with no white space, and writes its KeyValue as readMessage() would; false
  // (having written nothing) for anything else, which readMessage() then reads. `p` is the item's
  // opening brace in the padded input. Every byte this form allows is one the general path reads
  // the same way (the text in place, no escapes to undo), its structure is complete, and its
  // nesting (two messages, two objects) stays within every depth limit (the caller's check), so
  // the verdict and the bytes are the general path's.
  bool readKeyValueInPlace(const char* p, const FieldTable& f, const KeyValueTags& tags) {
    if (!inText(p, "{\"key\":\"")) return false;
    // Each string below opens with a quote in the text, so stage 1 found it closed in the text.
    const char* key = p + 8;
    const char* key_end = plainStringEnd(key);
    if (key_end == nullptr || !inText(key_end, "\",\"value\":{\"")) return false;
    const char* kind = key_end + 12;
    uint8_t value_bytes[10];  // the AnyValue's bytes, except a string's text
    size_t value_size = 0;
    std::string_view text;
    if (inText(kind, "stringValue\":\"")) {
      const char* begin = kind + 14;
      const char* end = plainStringEnd(begin);
      if (end == nullptr || !inText(end, "\"}}")) return false;
      text = std::string_view(begin, static_cast<size_t>(end - begin));
      value_bytes[0] = tags.string_value;
      value_size = 1 + writeVarint(text.size(), value_bytes + 1);
    } else if (inText(kind, "intValue\":\"")) {
      const char* begin = kind + 11;
      const char* end = plainStringEnd(begin);
      if (end == nullptr || !inText(end, "\"}}")) return false;
      uint64_t digits = 0;
      if (!parseShortDigits(std::string_view(begin, static_cast<size_t>(end - begin)), digits) ||
          digits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return false;
      }
      value_bytes[0] = tags.int_value;
      value_size = 1 + writeVarint(digits, value_bytes + 1);
    } else if (inText(kind, "boolValue\":true}}")) {
      value_bytes[0] = tags.bool_value, value_bytes[1] = 1, value_size = 2;
    } else if (inText(kind, "boolValue\":false}}")) {
      value_bytes[0] = tags.bool_value, value_bytes[1] = 0, value_size = 2;
    } else {
      return false;
    }
    const size_t key_size = static_cast<size_t>(key_end - key);
    const size_t any_size = value_size + text.size();
    const size_t kv_size = (key_size == 0 ? 0 : 1 + wire::varintSize(key_size) + key_size) + 1 +
                           wire::varintSize(any_size) + any_size;
    out_.varint(f.tag_varint);
    out_.varint(kv_size);
    if (key_size != 0) {
      out_.push_back(static_cast<char>(tags.key));
      out_.varint(key_size);
      out_.append(std::string_view(key, key_size));
    }
    out_.push_back(static_cast<char>(tags.value));
    out_.varint(any_size);
    std::memcpy(out_.grow(value_size), value_bytes, value_size);
    if (!text.empty()) out_.append(text);  // (empty for ints and bools: no data pointer)
    return true;
  }

  // Whether the text at `p` (in it) begins with the literal `s`: nothing past the text's end
  // counts, whatever its buffer holds there.
  template <size_t N>
  bool inText(const char* p, const char (&s)[N]) const {
    return static_cast<size_t>(text_end_ - p) >= N - 1 && hasBytes(p, s);
  }

  // Whether the bytes at `p` begin with the literal `s`; reads max(8, N - 1) bytes (the input is
  // padded). Eight bytes at a time, the last word overlapping the one before: memcmp() is a call
  // for these lengths.
  template <size_t N>
  static bool hasBytes(const char* p, const char (&s)[N]) {
    constexpr size_t n = N - 1;
    if constexpr (n < 8) {
      uint64_t word_of_s = 0;  // s and its terminating zero, zero-extended
      std::memcpy(&word_of_s, s, N);
      constexpr uint64_t kMask = (uint64_t{1} << (8 * n)) - 1;
      return ((word(p) ^ word_of_s) & kMask) == 0;
    } else {
      uint64_t differ = 0;
      for (size_t i = 0; i + 8 < n; i += 8) differ |= word(p + i) ^ word(s + i);
      return (differ | (word(p + n - 8) ^ word(s + n - 8))) == 0;
    }
  }

  static uint64_t word(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }

  static size_t writeVarint(uint64_t v, uint8_t* out) {
    size_t n = 0;
    while (v >= 0x80) {
      out[n++] = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    out[n++] = static_cast<uint8_t>(v);
    return n;
  }

  bool readSingular(ondemand::value& value, ondemand::json_type type, const FieldTable& f,
                    bool written_before, int depth) {
    if (f.encoding == Encoding::kMessage) {
      if (type != ondemand::json_type::object) return failType("object", type);
      ondemand::object object;
      if (auto e = value.get_object().get(object); e != simdjson::SUCCESS) return syntax(e);
      if (!enter()) return false;
      const uint8_t guess = f.length_guess.load(std::memory_order_relaxed);
      const size_t start = beginNested(f.number, guess);
      if (!readMessage(object, *f.child, depth + 1)) return false;
      if (const uint8_t used = endNested(start, guess); used != guess) {
        f.length_guess.store(used, std::memory_order_relaxed);
      }
      --json_depth_;
      return true;
    }
    // A default value is not written (as protobuf serialises the message), unless it overrides
    // an earlier occurrence of the key.
    return readScalar(value, type, f, /*write_tag=*/true,
                      /*skip_default=*/!f.presence && !written_before);
  }

  // Strings without escapes (nearly all) are views of the input; others are unescaped into the
  // parser's buffer. Either view lasts until the next document.
  bool readString(ondemand::value& value, ondemand::json_type type, std::string_view& s) {
    if (type != ondemand::json_type::string) return failType("string", type);
    // The token runs from the opening quote to the next structural character: the closing quote
    // is its last byte but white space, so no scan looks for it; only escapes are looked for.
    const std::string_view token = value.raw_json_token();
    const char* begin = token.data() + 1;
    const char* end = token.data() + token.size() - 1;
    while (end > begin && *end != '"') --end;  // white space after the string
    if (end >= begin && *end == '"' && !hasBackslash(begin, static_cast<size_t>(end - begin))) {
      ondemand::raw_json_string raw;
      if (auto e = value.get_raw_json_string().get(raw); e != simdjson::SUCCESS) return syntax(e);
      s = std::string_view(begin, static_cast<size_t>(end - begin));
      return true;
    }
    if (auto e = value.get_string().get(s); e != simdjson::SUCCESS) return syntax(e);
    return true;
  }

  // Reads a JSON number or decimal string into [min, max]; fractions are rejected.
  bool readSigned(ondemand::value& value, ondemand::json_type type, int64_t min, int64_t max,
                  int64_t& out) {
    if (type == ondemand::json_type::number) {
      ondemand::number_type t;
      int64_t i = 0;
      uint64_t u = 0;
      double d = 0;
      if (auto e = readNumber(value, t, i, u, d); e != simdjson::SUCCESS) return syntax(e);
      switch (t) {
        case ondemand::number_type::signed_integer: {
          const int64_t v = i;
          if (v < min || v > max) return fail("integer out of range");
          out = v;
          return true;
        }
        case ondemand::number_type::unsigned_integer:
          return fail("integer out of range");
        case ondemand::number_type::floating_point_number: {
          if (std::trunc(d) != d) return fail("expected an integer, got a fraction");
          if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) ||
              d >= 9223372036854775808.0) {
            return fail("integer out of range");
          }
          out = static_cast<int64_t>(d);
          return true;
        }
      }
      return syntax(simdjson::NUMBER_ERROR);
    }
    if (type == ondemand::json_type::string) {
      std::string_view s;
      if (!readString(value, type, s)) return false;
      if (uint64_t digits = 0; parseShortDigits(s, digits)) {
        // 19 digits may pass int64_t's maximum: compared unsigned.
        if (digits > static_cast<uint64_t>(max) || static_cast<int64_t>(digits) < min) {
          return fail("integer out of range");
        }
        out = static_cast<int64_t>(digits);
        return true;
      }
      if (!isDecimal(s))
        return fail(absl::StrCat("expected a decimal integer, got \"", av(s), "\""));
      int64_t v = 0;
      if (!parseDecimal(s, v) || v < min || v > max) return fail("integer out of range");
      out = v;
      return true;
    }
    return failType("integer", type);
  }

  bool readUnsigned(ondemand::value& value, ondemand::json_type type, uint64_t max, uint64_t& out) {
    if (type == ondemand::json_type::number) {
      ondemand::number_type t;
      int64_t i = 0;
      uint64_t u = 0;
      double d = 0;
      if (auto e = readNumber(value, t, i, u, d); e != simdjson::SUCCESS) return syntax(e);
      switch (t) {
        case ondemand::number_type::signed_integer: {
          const int64_t v = i;
          if (v < 0 || static_cast<uint64_t>(v) > max) return fail("integer out of range");
          out = static_cast<uint64_t>(v);
          return true;
        }
        case ondemand::number_type::unsigned_integer: {
          const uint64_t v = u;
          if (v > max) return fail("integer out of range");
          out = v;
          return true;
        }
        case ondemand::number_type::floating_point_number: {
          if (std::trunc(d) != d) return fail("expected an integer, got a fraction");
          if (!(d >= 0) || d >= 18446744073709551616.0 || static_cast<uint64_t>(d) > max) {
            return fail("integer out of range");
          }
          out = static_cast<uint64_t>(d);
          return true;
        }
      }
      return syntax(simdjson::NUMBER_ERROR);
    }
    if (type == ondemand::json_type::string) {
      std::string_view s;
      if (!readString(value, type, s)) return false;
      uint64_t v = 0;
      if (parseShortDigits(s, v)) {
        if (v > max) return fail("integer out of range");
        out = v;
        return true;
      }
      if (!isDecimal(s))
        return fail(absl::StrCat("expected a decimal integer, got \"", av(s), "\""));
      if (!parseDecimal(s, v) || v > max) return fail("integer out of range");
      out = v;
      return true;
    }
    return failType("integer", type);
  }

  bool readDouble(ondemand::value& value, ondemand::json_type type, double& out) {
    if (type == ondemand::json_type::number) {
      ondemand::number_type t;
      int64_t i = 0;
      uint64_t u = 0;
      if (auto e = readNumber(value, t, i, u, out); e != simdjson::SUCCESS) return syntax(e);
      return true;
    }
    if (type == ondemand::json_type::string) {
      std::string_view s;
      if (auto e = value.get_string().get(s); e != simdjson::SUCCESS) return syntax(e);
      if (s == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
      } else if (s == "Infinity") {
        out = std::numeric_limits<double>::infinity();
      } else if (s == "-Infinity") {
        out = -std::numeric_limits<double>::infinity();
      } else {
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(out)) {
          return fail(absl::StrCat("expected a number, got \"", av(s), "\""));
        }
      }
      return true;
    }
    return failType("number", type);
  }

  // Reads one scalar value of `f` and writes it: with its tag, or bare (inside a packed run).
  bool readScalar(ondemand::value& value, ondemand::json_type type, const FieldTable& f,
                  bool write_tag, bool skip_default) {
    switch (f.encoding) {
      case Encoding::kString: {
        std::string_view s;
        if (!readString(value, type, s)) return false;
        if (skip_default && s.empty()) return true;
        out_.varint(f.tag_varint);
        out_.varint(s.size());
        out_.append(s);
        return true;
      }
      case Encoding::kBytes: {
        std::string_view s;
        if (!readString(value, type, s)) return false;
        if (f.hex && vouch_ && s.empty()) noteId(f, nullptr, 0);
        if (skip_default && s.empty()) return true;
        const size_t before = out_.size();
        if (f.hex) {
          // Ids: 16 or 8 bytes, a one-byte length.
          if (s.size() % 2 != 0 || s.size() / 2 >= 0x80) {
            if (!appendDecodedHex(s, scratch_)) {
              return fail(absl::StrCat("invalid hex id \"", av(s), "\""));
            }
            if (vouch_) noteId(f, scratch_.data(), scratch_.size());
            out_.varint(f.tag_varint);
            out_.varint(scratch_.size());
            out_.append(scratch_);
            scratch_.clear();
            return true;
          }
          out_.varint(f.tag_varint);
          out_.push_back(static_cast<char>(s.size() / 2));
          char* id = out_.grow(s.size() / 2);
          if (!decodeHexInto(s, id)) {
            return fail(absl::StrCat("invalid hex id \"", av(s), "\""));
          }
          if (vouch_) noteId(f, id, s.size() / 2);
          return true;
        }
        scratch_.clear();
        if (!appendDecodedBase64(s, scratch_)) return fail("invalid base64");
        // Base64 of one or two characters decodes to no bytes.
        if (skip_default && scratch_.empty()) {
          out_.truncate(before);
          return true;
        }
        out_.varint(f.tag_varint);
        out_.varint(scratch_.size());
        out_.append(scratch_);
        return true;
      }
      case Encoding::kDouble:
      case Encoding::kFloat: {
        double d = 0;
        if (!readDouble(value, type, d)) return false;
        if (f.encoding == Encoding::kFloat) {
          if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
            return fail("number out of range for float");
          }
          const auto v = static_cast<float>(d);
          if (skip_default && std::bit_cast<uint32_t>(v) == 0) return true;
          if (write_tag) out_.varint(f.tag_varint);
          out_.fixed32(std::bit_cast<uint32_t>(v));
          return true;
        }
        if (skip_default && std::bit_cast<uint64_t>(d) == 0) return true;
        if (write_tag) out_.varint(f.tag_varint);
        out_.fixed64(std::bit_cast<uint64_t>(d));
        return true;
      }
      default:
        break;
    }
    // Integers, enums and booleans.
    uint64_t bits = 0;
    if (f.is_bool) {
      bool b = false;
      if (type != ondemand::json_type::boolean) return failType("boolean", type);
      if (auto e = value.get_bool().get(b); e != simdjson::SUCCESS) return syntax(e);
      bits = b ? 1 : 0;
    } else if (f.is_enum && type == ondemand::json_type::string) {
      std::string_view s;
      if (auto e = value.get_string().get(s); e != simdjson::SUCCESS) return syntax(e);
      const EnumDescriptor* enum_type = f.descriptor->enum_type();
      const EnumValueDescriptor* ev = enum_type->FindValueByName(std::string(s));
      if (ev == nullptr) {
        return fail(absl::StrCat("unknown value \"", av(s), "\" of enum ", enum_type->name()));
      }
      bits = static_cast<uint64_t>(static_cast<int64_t>(ev->number()));
    } else {
      switch (f.range) {
        case Range::kInt32:
        case Range::kInt64: {
          int64_t v = 0;
          const bool narrow = f.range == Range::kInt32;
          if (!readSigned(value, type,
                          narrow ? std::numeric_limits<int32_t>::min()
                                 : std::numeric_limits<int64_t>::min(),
                          narrow ? std::numeric_limits<int32_t>::max()
                                 : std::numeric_limits<int64_t>::max(),
                          v)) {
            return false;
          }
          if (f.encoding == Encoding::kZigZag32) {
            bits = zigzag32(static_cast<int32_t>(v));
          } else if (f.encoding == Encoding::kZigZag64) {
            bits = zigzag64(v);
          } else if (f.encoding == Encoding::kFixed32) {
            bits = static_cast<uint32_t>(static_cast<int32_t>(v));
          } else {
            bits = static_cast<uint64_t>(v);  // int32 and enums sign-extend, as protobuf does
          }
          break;
        }
        case Range::kUInt32:
        case Range::kUInt64: {
          uint64_t v = 0;
          if (!readUnsigned(value, type,
                            f.range == Range::kUInt32 ? std::numeric_limits<uint32_t>::max()
                                                      : std::numeric_limits<uint64_t>::max(),
                            v)) {
            return false;
          }
          bits = v;
          break;
        }
        case Range::kNone:
          return fail("unsupported field type");
      }
    }
    if (facts_ != nullptr && kind_ == MessageKind::kSpan) {
      if (f.number == 7) facts_->start = bits;
      if (f.number == 8) facts_->end = bits;
    }
    if (skip_default && bits == 0) return true;
    if (write_tag) out_.varint(f.tag_varint);
    switch (f.encoding) {
      case Encoding::kFixed64:
        out_.fixed64(bits);
        break;
      case Encoding::kFixed32:
        out_.fixed32(static_cast<uint32_t>(bits));
        break;
      default:
        out_.varint(bits);
        break;
    }
    return true;
  }

  // What validation.h checks of a span or link, as its JSON object is read (the last occurrence
  // of a key counts, as on the wire).
  struct IdFacts {
    size_t trace_id = 0, span_id = 0, parent_span_id = 0;  // decoded sizes
    bool trace_id_zero = true, span_id_zero = true;
    uint64_t start = 0, end = 0;
    bool validSpan() const {
      return trace_id == 16 && !trace_id_zero && span_id == 8 && !span_id_zero &&
             (parent_span_id == 0 || parent_span_id == 8) && end >= start;
    }
    bool validLink() const { return trace_id == 16 && span_id == 8; }
  };

  void noteId(const FieldTable& f, const char* bytes, size_t size) {
    if (facts_ == nullptr || (kind_ != MessageKind::kSpan && kind_ != MessageKind::kLink)) return;
    bool zero = true;
    for (size_t i = 0; i < size; ++i) zero = zero && bytes[i] == 0;
    switch (f.number) {
      case 1:
        facts_->trace_id = size, facts_->trace_id_zero = zero;
        break;
      case 2:
        facts_->span_id = size, facts_->span_id_zero = zero;
        break;
      case 4:
        facts_->parent_span_id = size;
        break;
      default:
        break;
    }
  }

  static constexpr int kVouchDepth = 60;
  bool vouch_ = false;     // a traces request: checking what the wire view would
  bool vouchable_ = true;  // nothing seen yet that the wire view would doubt
  size_t spans_ = 0;
  MessageKind kind_ = MessageKind::kOther;  // of the message being read
  IdFacts* facts_ = nullptr;                // of the span or link being read

  WireOut out_;
  const char* text_end_;
  std::string scratch_;  // base64 and unusual ids, decoded before their length is known
  std::vector<PathSegment> path_;
  std::string error_;
  Fault fault_ = Fault::kNone;
  int json_depth_ = 0;  // containers open around the current value
  simdjson::error_code syntax_error_ = simdjson::SUCCESS;
};

// The reflection codec, for the inputs the direct decoder leaves to it.
absl::Status fallbackToWire(const Descriptor& type, std::string_view json, std::string& out) {
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&type);
  if (prototype == nullptr) return absl::InternalError("no generated message for OTLP/JSON type");
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (absl::Status s = parseOtlpJson(json, *message); !s.ok()) return s;
  if (!message->AppendToString(&out)) {
    return absl::InvalidArgumentError("decoded OTLP/JSON does not serialise as protobuf");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Encoding: wire -> JSON.

static_assert(std::endian::native == std::endian::little, "the encoder reads words little-endian");

// The encoder's output, like the decoder's WireOut: a std::string written through a pointer, its
// room ahead not zero-filled (common/string_buffer.h; zero-filling was ~4% of the encoder's time):
// every byte below len_ is written. Up to kSlack bytes past what grow() counted may be written:
// keys are copied 32 bytes at a time, strings, numbers and hex digits 8.
class JsonOut {
 public:
  static constexpr size_t kSlack = 64;

  JsonOut(std::string& s, size_t expected) : s_(s), len_(s.size()) {
    common::resizeUninitialized(s_, len_ + expected + kSlack);
    base_ = s_.data();
    end_ = s_.size();
  }
  void finish() { s_.resize(len_); }

  size_t size() const { return len_; }
  void truncate(size_t n) { len_ = n; }
  // Makes room for `n` more bytes and returns where they go; they count from then on.
  [[gnu::always_inline]] char* grow(size_t n) {
    if (len_ + n + kSlack > end_) [[unlikely]]
      expand(n);
    char* p = base_ + len_;
    len_ += n;
    return p;
  }
  // Makes room for up to `n` more bytes; the caller counts those it wrote with setEnd().
  [[gnu::always_inline]] char* room(size_t n) {
    if (len_ + n + kSlack > end_) [[unlikely]]
      expand(n);
    return base_ + len_;
  }
  void setEnd(const char* end) { len_ = static_cast<size_t>(end - base_); }
  void push_back(char c) { *grow(1) = c; }
  void append(std::string_view v) { std::memcpy(grow(v.size()), v.data(), v.size()); }

  // Moves the text from `from` to the end so that it starts at `to` (< from), and the text that
  // was at [to, from) after it.
  void moveTailTo(size_t to, size_t from) {
    const size_t moved = len_ - from;
    char small[128];
    std::string large;
    char* keep = small;
    if (moved > sizeof(small)) {
      large.assign(base_ + from, moved);
      keep = large.data();
    } else {
      std::memcpy(small, base_ + from, moved);
    }
    std::memmove(base_ + to + moved, base_ + to, from - to);
    std::memcpy(base_ + to, keep, moved);
  }

 private:
  [[gnu::noinline]] void expand(size_t n) {
    common::resizeUninitialized(s_, std::max(end_ * 2, len_ + n + kSlack + 256));
    base_ = s_.data();
    end_ = s_.size();
  }

  std::string& s_;
  char* base_ = nullptr;
  size_t len_;
  size_t end_ = 0;
};

// The eight decimal digits of x < 10^8, most significant first, as byte values 0-9 of a
// little-endian word: two lanes of four digits, split into four of two, then eight of one, each
// step one multiplication for all lanes (a reciprocal exact over the lane's range).
inline uint64_t decimalDigits8(uint32_t x) {
  const uint64_t fours = (x / 10000) | (uint64_t{x % 10000} << 32);
  const uint64_t high2 = ((fours * 10486) >> 20) & ((uint64_t{0x7F} << 32) | 0x7F);  // / 100
  const uint64_t twos = ((fours - 100 * high2) << 16) + high2;
  constexpr uint64_t kLow4 = 0x000F000F000F000FULL;
  const uint64_t high1 = ((twos * 103) >> 10) & kLow4;  // / 10
  return high1 + ((twos - 10 * high1) << 8);
}

constexpr uint64_t kAsciiZeros = 0x3030303030303030ULL;

// Writes 1 <= v < 10^8 without leading zeros at `p` (8 bytes may be written); returns the end.
inline char* writeDecimalUpTo8(uint32_t v, char* p) {
  const uint64_t digits = decimalDigits8(v);
  const int leading_zeros = std::countr_zero(digits) / 8;  // digits != 0 since v != 0
  const uint64_t text = (digits + kAsciiZeros) >> (8 * leading_zeros);
  std::memcpy(p, &text, 8);
  return p + 8 - leading_zeros;
}

inline char* writeDecimalExactly8(uint32_t v, char* p) {
  const uint64_t text = decimalDigits8(v) + kAsciiZeros;
  std::memcpy(p, &text, 8);
  return p + 8;
}

// Writes v in decimal at `p` (at most 20 digits, and up to 7 scratch bytes past them); returns
// the end. Timestamps (19 digits) are three words of digits rather than ten divisions by 100.
inline char* writeDecimal(uint64_t v, char* p) {
  constexpr uint64_t k1e8 = 100'000'000;
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < k1e8) return writeDecimalUpTo8(static_cast<uint32_t>(v), p);
  if (v < k1e8 * k1e8) {
    p = writeDecimalUpTo8(static_cast<uint32_t>(v / k1e8), p);
    return writeDecimalExactly8(static_cast<uint32_t>(v % k1e8), p);
  }
  const uint64_t low16 = v % (k1e8 * k1e8);
  p = writeDecimalUpTo8(static_cast<uint32_t>(v / (k1e8 * k1e8)), p);
  p = writeDecimalExactly8(static_cast<uint32_t>(low16 / k1e8), p);
  return writeDecimalExactly8(static_cast<uint32_t>(low16 % k1e8), p);
}

inline char* writeDecimal(int64_t v, char* p) {
  if (v >= 0) return writeDecimal(static_cast<uint64_t>(v), p);
  *p++ = '-';
  return writeDecimal(0 - static_cast<uint64_t>(v), p);
}

template <typename T, class Out>
void appendNumber(T v, Out& out) {
  if constexpr (std::is_integral_v<T>) {
    char* p = out.room(32);
    if constexpr (std::is_signed_v<T>) {
      out.setEnd(writeDecimal(static_cast<int64_t>(v), p));
    } else {
      out.setEnd(writeDecimal(static_cast<uint64_t>(v), p));
    }
  } else {
    char* p = out.room(32);
    auto [end, ec] = std::to_chars(p, p + 32, v);
    (void)ec;  // 32 bytes always fit a shortest-form double
    out.setEnd(end);
  }
}

template <typename T, class Out>
void appendFloating(T v, Out& out) {
  if (std::isnan(v)) {
    out.append("\"NaN\"");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if (std::fabs(v) >= 1e18) {
    char* p = out.room(32);
    auto [end, ec] = std::to_chars(p, p + 32, v, std::chars_format::scientific);
    (void)ec;
    out.setEnd(end);
  } else {
    appendNumber(v, out);
  }
}

struct EscapeTable {
  bool escape[256];
  constexpr EscapeTable() : escape() {
    for (int i = 0; i < 256; ++i) escape[i] = i < 0x20 || i == '"' || i == '\\';
  }
};
constexpr EscapeTable kEscape;

// Bit 7 of each of the 8 bytes that needs escaping in JSON (< 0x20, '"' or '\\'). Exact up to the
// first such byte: borrows only run upwards, from a byte that is itself flagged.
inline uint64_t escapedBytes8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t control = (x - kOnes * 0x20) & ~x;
  const uint64_t q = x ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t b = x ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b;
  return (control | quote | backslash) & kHigh;
}

// As escapedBytes8, and the bytes that are not ASCII (the UTF-8 check's business).
inline uint64_t specialBytes8(uint64_t x) {
  return escapedBytes8(x) | (x & 0x8080808080808080ULL);
}

// Copies `s` to `to` for as long as it is ASCII that needs no escape, and returns how many bytes
// that is (s.size() for most telemetry strings). Reads and writes 8 bytes at a time: it may read
// past s's end up to `readable_end`, and write up to 7 bytes past what it counts.
inline size_t copyPlainAscii(std::string_view s, const char* readable_end, char* to) {
  const char* in = s.data();
  const size_t n = s.size();
  size_t i = 0;
  uint64_t x;
  for (; i + 8 <= n; i += 8) {
    std::memcpy(&x, in + i, 8);
    if (specialBytes8(x) != 0) return i;
    std::memcpy(to + i, &x, 8);
  }
  if (i == n) return n;
  if (readable_end - (in + i) >= 8) {
    std::memcpy(&x, in + i, 8);
    const uint64_t mine = (uint64_t{1} << (8 * (n - i))) - 1;  // the bytes that are s's
    if ((specialBytes8(x) & mine) != 0) return i;
    std::memcpy(to + i, &x, 8);
    return n;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80 || kEscape.escape[c]) return i;
    to[i] = in[i];
  }
  return n;
}

// Appends valid UTF-8 `s` JSON-escaped (without quotes).
template <class Out>
void appendEscaped(std::string_view s, Out& out) {
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    // Skip eight bytes at a time while none needs an escape (non-ASCII ones need none).
    if (i + 8 <= s.size()) {
      uint64_t x;
      std::memcpy(&x, s.data() + i, 8);
      if (escapedBytes8(x) == 0) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kEscape.escape[c]) {
      ++i;
      continue;
    }
    out.append(std::string_view(s.data() + run, i - run));
    run = ++i;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
        out.append(std::string_view(esc, sizeof(esc)));
        break;
      }
    }
  }
  out.append(std::string_view(s.data() + run, s.size() - run));
}

struct WireEntry {
  uint16_t index;  // in the message table
  uint32_t seq;    // order on the wire, from 1
  wire::Field field;
};

class WireToJson {
 public:
  using Entry = WireEntry;
  // `entries` holds one reusable vector per nesting level (kMaxMessageDepth + 2 of them). `wire`
  // is the whole message being encoded: every string is a slice of it, and may be read 8 bytes at
  // a time up to its end.
  WireToJson(std::string& out, std::vector<std::vector<Entry>>& entries, std::string_view wire)
      : out_(out, 2 * wire.size() + 64), entries_(entries), wire_end_(wire.data() + wire.size()) {}
  // Sets the output's final size; call once, at the end.
  void finish() { out_.finish(); }
  size_t size() const { return out_.size(); }

  bool writeMessage(std::string_view bytes, const MessageTable& m, size_t depth) {
    // Protobuf's parser stops at 100 levels; so does this writer (never reached by OTLP data
    // that came through a receiver).
    if (depth > static_cast<size_t>(kMaxMessageDepth)) return false;
    const size_t mark = out_.size();
    switch (writeStreaming(bytes, m, depth)) {
      case Streamed::kDone:
        return true;
      case Streamed::kDeclined:
        return false;
      case Streamed::kUnordered:
        out_.truncate(mark);  // written again below, field by field
        break;
    }
    std::vector<Entry>& entries = entries_[depth];
    entries.clear();
    wire::Reader reader(bytes);
    wire::Field field;
    bool sorted = true;
    uint16_t last_index = 0;
    while (!reader.done()) {
      if (reader.next(field) != wire::Stop::kNone) return false;
      if (field.number >= m.by_number.size()) continue;  // unknown: dropped, as by protobuf
      const int16_t index = m.by_number[field.number];
      if (index < 0) continue;
      const FieldTable& f = m.fields[static_cast<size_t>(index)];
      if (field.type != f.wire_type && !(f.packed && field.type == wire::kLengthDelimited)) {
        continue;  // another wire type: protobuf keeps it as an unknown field
      }
      if (f.encoding == Encoding::kString && !wire::validUtf8(field.bytes)) return false;
      if (entries.size() > 0 && f.index < last_index) sorted = false;
      last_index = f.index;
      entries.push_back({f.index, static_cast<uint32_t>(entries.size() + 1), field});
    }
    // Oneofs: only the member set last survives, as when protobuf parses the bytes.
    uint32_t oneof_last[4] = {0, 0, 0, 0};
    if (!m.oneof_names.empty()) {
      for (const Entry& e : entries) {
        const FieldTable& f = m.fields[e.index];
        if (f.oneof >= 0) oneof_last[f.oneof & 3] = std::max(oneof_last[f.oneof & 3], e.seq);
      }
    }
    out_.push_back('{');
    bool first = true;
    if (!sorted) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const Entry& a, const Entry& b) { return a.index < b.index; });
    }
    size_t i = 0;
    while (i < entries.size()) {
      size_t j = i + 1;
      while (j < entries.size() && entries[j].index == entries[i].index) ++j;
      if (!writeGroup(m, entries, i, j, oneof_last, first, depth)) return false;
      i = j;
    }
    out_.push_back('}');
    return true;
  }

 private:
  enum class Streamed { kDone, kDeclined, kUnordered };

  // The fast path, taken by every message a serialiser wrote: the fields are written as they are
  // read. Each field's occurrences must be adjacent, a singular field or a oneof set once;
  // anything else is left to the general path (writeMessage's). Fields that come after fields
  // declared after them (canonical bytes are in field-number order, JSON is in declaration order:
  // a Span's flags, a LogRecord's observedTimeUnixNano, a data point's attributes) are written at
  // the end and then moved to where they belong.
  Streamed writeStreaming(std::string_view bytes, const MessageTable& m, size_t depth) {
    wire::Reader reader(bytes);
    wire::Field field;
    {
      // A message of one singular field (every AnyValue) needs none of the bookkeeping below.
      wire::Reader probe = reader;
      if (!probe.done() && probe.next(field) == wire::Stop::kNone && probe.done() &&
          field.number < m.by_number.size() && m.by_number[field.number] >= 0) {
        const FieldTable& f = m.fields[static_cast<size_t>(m.by_number[field.number])];
        if (field.type == f.wire_type && !f.repeated) {
          out_.push_back('{');
          if (f.presence || !isDefault(f, field)) {
            writeKey(m, f, false);
            if (!writeValue(f, field.value, field.bytes, depth)) return Streamed::kDeclined;
          }
          out_.push_back('}');
          return Streamed::kDone;
        }
      }
    }
    out_.push_back('{');
    uint64_t seen = 0;     // fields read, by index
    uint64_t written = 0;  // fields with text in the object, by index
    size_t key_at[64];     // where the key of each written field starts
    int previous = -1;     // the index of the field read last
    int open = -1;         // the repeated field whose array is open
    bool open_first = true;
    uint8_t oneofs_seen = 0;
    // The field being written at the end, to be moved before the text of later-declared fields.
    static constexpr size_t kNoMove = ~size_t{0};
    size_t move_to = kNoMove;
    size_t move_from = 0;
    uint64_t move_bit = 0;

    // A field's key, where the field's text goes.
    auto startField = [&](const FieldTable& f) {
      const uint64_t bit = uint64_t{1} << f.index;
      const uint64_t later = written & ~((bit << 1) - 1);  // written fields declared after f
      if (later == 0) [[likely]] {
        writeKey(m, f, written != 0);
        key_at[f.index] = out_.size() - m.json_keys[f.index].size + 1;
      } else {
        move_to = key_at[std::countr_zero(later)];
        move_from = out_.size();
        move_bit = bit;
        key_at[f.index] = move_to;
        writeKey(m, f, false);
      }
      written |= bit;
    };
    // Ends the field read last: closes its array, moves its text where it belongs.
    auto endField = [&] {
      if (open >= 0) {
        out_.push_back(']');
        open = -1;
      }
      if (move_to != kNoMove) [[unlikely]] {
        out_.push_back(',');  // it goes before a key
        out_.moveTailTo(move_to, move_from);
        const size_t moved = out_.size() - move_from;
        for (uint64_t later = written & ~((move_bit << 1) - 1); later != 0; later &= later - 1) {
          key_at[std::countr_zero(later)] += moved;
        }
        move_to = kNoMove;
      }
    };

    while (!reader.done()) {
      if (reader.next(field) != wire::Stop::kNone) return Streamed::kDeclined;
      if (field.number >= m.by_number.size()) continue;  // unknown: dropped, as by protobuf
      const int16_t index = m.by_number[field.number];
      if (index < 0) continue;
      const FieldTable& f = m.fields[static_cast<size_t>(index)];
      if (field.type != f.wire_type && !(f.packed && field.type == wire::kLengthDelimited)) {
        continue;  // another wire type: protobuf keeps it as an unknown field
      }
      if (f.index != previous) {
        endField();
        const uint64_t bit = uint64_t{1} << f.index;
        if ((seen & bit) != 0) return Streamed::kUnordered;  // its occurrences apart
        seen |= bit;
        if (f.oneof >= 0) {
          const auto oneof_bit = static_cast<uint8_t>(1u << (f.oneof & 7));
          if ((oneofs_seen & oneof_bit) != 0) return Streamed::kUnordered;  // the last one wins
          oneofs_seen |= oneof_bit;
        }
        previous = f.index;
      } else if (!f.repeated) {
        return Streamed::kUnordered;  // a singular field twice: the last one wins
      }
      if (!f.repeated) {
        if (!f.presence && isDefault(f, field)) continue;
        startField(f);
        if (!writeValue(f, field.value, field.bytes, depth)) return Streamed::kDeclined;
        continue;
      }
      auto openArray = [&] {
        if (open != f.index) {
          startField(f);
          out_.push_back('[');
          open = f.index;
          open_first = true;
        }
      };
      if (f.packed && field.type == wire::kLengthDelimited) {
        if (!forEachPacked(f, field.bytes, [](uint64_t) {})) return Streamed::kDeclined;
        forEachPacked(f, field.bytes, [&](uint64_t v) {
          openArray();
          if (!open_first) out_.push_back(',');
          open_first = false;
          writeValue(f, v, {}, depth);
        });
        continue;
      }
      openArray();
      if (!open_first) out_.push_back(',');
      open_first = false;
      if (!writeValue(f, field.value, field.bytes, depth)) return Streamed::kDeclined;
    }
    endField();
    out_.push_back('}');
    return Streamed::kDone;
  }

  // Writes `"jsonName":`, after a comma if `comma`.
  [[gnu::always_inline]] void writeKey(const MessageTable& m, const FieldTable& f, bool comma) {
    const JsonKey& key = m.json_keys[f.index];
    if (key.size <= 32) [[likely]] {
      const char* text = key.text + (comma ? 0 : 1);
      std::memcpy(out_.grow(key.size - (comma ? 0 : 1)), text, 32);
    } else {
      if (comma) out_.push_back(',');
      out_.append(f.quoted_key);
    }
  }

  // Writes the occurrences entries[i, j) of one field.
  bool writeGroup(const MessageTable& m, const std::vector<Entry>& entries, size_t i, size_t j,
                  const uint32_t* oneof_last, bool& first, size_t depth) {
    const FieldTable& f = m.fields[entries[i].index];
    if (f.repeated) return writeRepeated(m, f, entries, i, j, first, depth);
    const Entry& last = entries[j - 1];
    if (f.encoding == Encoding::kMessage && j - i > 1) return false;  // protobuf merges
    if (f.oneof >= 0 && oneof_last[f.oneof & 3] != last.seq) {
      // Another member of the oneof came later and cleared this one; protobuf still parses it,
      // so malformed bytes in it must decline here too.
      if (f.encoding == Encoding::kMessage) {
        const size_t mark = out_.size();
        const bool ok = writeMessage(last.field.bytes, *f.child, depth + 1);
        out_.truncate(mark);
        if (!ok) return false;
      }
      return true;
    }
    if (!f.presence && isDefault(f, last.field)) return true;
    writeKey(m, f, !first);
    first = false;
    return writeValue(f, last.field.value, last.field.bytes, depth);
  }

  bool isDefault(const FieldTable& f, const wire::Field& field) {
    switch (f.encoding) {
      case Encoding::kString:
      case Encoding::kBytes:
        return field.bytes.empty();
      case Encoding::kMessage:
        return false;
      case Encoding::kFixed32:
      case Encoding::kFloat:
        return static_cast<uint32_t>(field.value) == 0;
      case Encoding::kVarint:
        // 32-bit fields keep the low 32 bits; bool is any non-zero value.
        if (f.range == Range::kInt32 || f.range == Range::kUInt32) {
          return static_cast<uint32_t>(field.value) == 0;
        }
        return field.value == 0;
      case Encoding::kZigZag32:
        return static_cast<uint32_t>(field.value) == 0;
      default:
        return field.value == 0;
    }
  }

  // A string field's value, quoted; false if it is not valid UTF-8 (protobuf's parser refuses
  // such proto3 strings).
  bool writeString(std::string_view s) {
    const size_t start = out_.size();
    char* p = out_.grow(s.size() + 2);
    *p = '"';
    const size_t plain = copyPlainAscii(s, wire_end_, p + 1);
    if (plain == s.size()) [[likely]] {
      p[1 + plain] = '"';
      return true;
    }
    // Escapes or non-ASCII text from `plain` on (a character boundary: all before is ASCII).
    const std::string_view rest = s.substr(plain);
    if (!wire::validUtf8(rest)) return false;
    out_.truncate(start + 1 + plain);
    appendEscaped(rest, out_);
    out_.push_back('"');
    return true;
  }

  bool writeValue(const FieldTable& f, uint64_t v, std::string_view bytes, size_t depth) {
    switch (f.encoding) {
      case Encoding::kMessage:
        return writeMessage(bytes, *f.child, depth + 1);
      case Encoding::kString:
        return writeString(bytes);
      case Encoding::kBytes:
        out_.push_back('"');
        f.hex ? appendHex(bytes, out_) : appendBase64(bytes, out_);
        out_.push_back('"');
        return true;
      case Encoding::kDouble:
        appendFloating(std::bit_cast<double>(v), out_);
        return true;
      case Encoding::kFloat:
        appendFloating(std::bit_cast<float>(static_cast<uint32_t>(v)), out_);
        return true;
      default:
        break;
    }
    if (f.is_bool) {
      out_.append(v != 0 ? std::string_view("true") : std::string_view("false"));
      return true;
    }
    switch (f.range) {
      case Range::kInt32: {
        int32_t x = 0;
        if (f.encoding == Encoding::kZigZag32) {
          const auto u = static_cast<uint32_t>(v);
          x = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
        } else {
          x = static_cast<int32_t>(static_cast<uint32_t>(v));
        }
        appendNumber(x, out_);
        return true;
      }
      case Range::kUInt32:
        appendNumber(static_cast<uint32_t>(v), out_);
        return true;
      case Range::kInt64: {
        const int64_t x = f.encoding == Encoding::kZigZag64
                              ? static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1))
                              : static_cast<int64_t>(v);
        char* p = out_.room(32);
        *p = '"';
        p = writeDecimal(x, p + 1);
        *p = '"';
        out_.setEnd(p + 1);
        return true;
      }
      case Range::kUInt64: {
        char* p = out_.room(32);
        *p = '"';
        p = writeDecimal(v, p + 1);
        *p = '"';
        out_.setEnd(p + 1);
        return true;
      }
      case Range::kNone:
        break;
    }
    return false;
  }

  // Reads the values of a packed run; false if it is malformed.
  template <typename Fn>
  static bool forEachPacked(const FieldTable& f, std::string_view run, Fn&& fn) {
    wire::Reader reader(run);
    if (f.wire_type == wire::kVarint) {
      while (!reader.done()) {
        uint64_t v = 0;
        if (reader.readVarint(v) != wire::Stop::kNone) return false;
        fn(v);
      }
      return true;
    }
    const size_t width = f.wire_type == wire::kFixed64 ? 8 : 4;
    if (run.size() % width != 0) return false;
    for (size_t p = 0; p < run.size(); p += width) {
      uint64_t v = 0;
      std::memcpy(&v, run.data() + p, width);  // little-endian
      fn(v);
    }
    return true;
  }

  bool writeRepeated(const MessageTable& m, const FieldTable& f, const std::vector<Entry>& entries,
                     size_t from, size_t to, bool& first, size_t depth) {
    if (f.packed) {
      // Count first: a field of empty packed runs has no values and is not written.
      size_t count = 0;
      for (size_t k = from; k < to; ++k) {
        const wire::Field& field = entries[k].field;
        if (field.type != wire::kLengthDelimited) {
          ++count;
        } else if (!forEachPacked(f, field.bytes, [&](uint64_t) { ++count; })) {
          return false;
        }
      }
      if (count == 0) return true;
      writeKey(m, f, !first);
      first = false;
      out_.push_back('[');
      bool first_value = true;
      for (size_t k = from; k < to; ++k) {
        const wire::Field& field = entries[k].field;
        auto one = [&](uint64_t v) {
          if (!first_value) out_.push_back(',');
          first_value = false;
          writeValue(f, v, {}, depth);
        };
        if (field.type != wire::kLengthDelimited) {
          one(field.value);
        } else {
          forEachPacked(f, field.bytes, one);
        }
      }
      out_.push_back(']');
      return true;
    }
    writeKey(m, f, !first);
    first = false;
    out_.push_back('[');
    for (size_t k = from; k < to; ++k) {
      if (k > from) out_.push_back(',');
      const wire::Field& field = entries[k].field;
      if (!writeValue(f, field.value, field.bytes, depth)) return false;
    }
    out_.push_back(']');
    return true;
  }

  JsonOut out_;
  std::vector<std::vector<Entry>>& entries_;
  const char* wire_end_;
};

}  // namespace

absl::Status otlpJsonToWire(const Descriptor& type, std::string_view json, std::string& out) {
  return otlpJsonToWire(type, json, json.size(), out);
}

absl::Status otlpJsonToWire(const Descriptor& type, std::string_view json, size_t readable,
                            std::string& out) {
  return otlpJsonToWire(type, json, readable, out, nullptr);
}

absl::Status otlpJsonToWire(const Descriptor& type, std::string_view json, size_t readable,
                            std::string& out, std::optional<size_t>* vouched_items) {
  if (vouched_items != nullptr) vouched_items->reset();
  if (!isSupported(type)) return fallbackToWire(type, json, out);
  try {
    thread_local std::unique_ptr<ondemand::parser> parser;
    thread_local std::string padded;
    if (parser == nullptr) parser = std::make_unique<ondemand::parser>();
    // On-Demand reads up to SIMDJSON_PADDING bytes past the end of the input: the text is read
    // in place when its buffer has them, else from a copy.
    simdjson::padded_string_view view;
    if (readable >= json.size() + simdjson::SIMDJSON_PADDING) {
      view = simdjson::padded_string_view(json.data(), json.size(), readable);
    } else {
      padded.reserve(json.size() + simdjson::SIMDJSON_PADDING);
      padded.assign(json);
      view = simdjson::padded_string_view(padded.data(), padded.size(), padded.capacity());
    }
    const size_t start = out.size();
    absl::Status status;
    bool fallback = false;
    {
      ondemand::document doc;
      if (auto e = parser->iterate(view).get(doc); e != simdjson::SUCCESS) {
        status = absl::InvalidArgumentError(
            absl::StrCat("malformed JSON: ", simdjson::error_message(e)));
      } else {
        // Wire bytes take up to ~60% of the JSON's size (loadgen's spans: 59%; metrics and logs
        // less): room for that up front, since growing the buffer later copies and zero-fills.
        JsonToWire decoder(out, json.size() / 8 * 5 + 64, view.data() + view.size());
        status = decoder.run(doc, tableOf(type));
        decoder.finish();
        fallback = decoder.needsFallback();
        if (status.ok() && vouched_items != nullptr) *vouched_items = decoder.vouched();
      }
    }
    if (parser->capacity() > kRetainedParserCapacity) parser.reset();
    if (padded.capacity() > kRetainedParserCapacity) std::string().swap(padded);
    if (fallback) {
      out.resize(start);
      return fallbackToWire(type, json, out);
    }
    return status;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing OTLP/JSON");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("OTLP/JSON parse failed: ", e.what()));
  }
}

bool appendOtlpJsonFromWire(const Descriptor& type, std::string_view wire, std::string& out) {
  if (!isSupported(type)) return false;
  const size_t start = out.size();
  try {
    thread_local std::vector<std::vector<WireEntry>> entries(kMaxMessageDepth + 2);
    WireToJson writer(out, entries, wire);
    const bool ok = writer.writeMessage(wire, tableOf(type), 1);
    writer.finish();
    if (ok) return true;
  } catch (const std::bad_alloc&) {
  }
  out.resize(start);
  return false;
}

}  // namespace otlpd::otlp
