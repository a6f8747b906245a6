#include "otlp/json_codec.h"

#include <google/protobuf/descriptor.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/simdjson.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;
namespace dom = simdjson::dom;

// Protobuf's binary parser refuses messages nested deeper than 100 by default; holding JSON to the
// same limit means whatever we accept can be re-encoded and decoded by any protobuf peer, and our
// recursion stays far from the stack limit.
constexpr int kMaxMessageDepth = 100;

// A thread's parser keeps buffers sized for the largest document it has seen; past this size they
// are released after use so one huge request does not pin memory in every worker thread.
constexpr size_t kRetainedParserCapacity = size_t{16} << 20;

// Debian's abseil is built with its own string_view type, which StrCat does not take from
// std::string_view implicitly.
absl::string_view av(std::string_view s) {
  return {s.data(), s.size()};
}

// ---------------------------------------------------------------------------------------------
// Per-message field tables, built once per thread and message type.

struct MessageInfo;

struct FieldInfo {
  const FieldDescriptor* field = nullptr;
  // OTLP sends these bytes fields as hex rather than proto3 JSON's base64.
  bool hex_bytes = false;
  // `"jsonName":`, ready to append.
  std::string quoted_key;
  // Resolved lazily for message fields; the cache is per thread, so no lock is needed.
  mutable const MessageInfo* child = nullptr;
};

struct MessageInfo {
  const Descriptor* descriptor = nullptr;
  std::vector<FieldInfo> fields;  // declaration order, which is the output order
  // Keys point into descriptor-owned strings, which outlive the table.
  absl::flat_hash_map<std::string_view, const FieldInfo*> by_key;
};

bool isHexBytesField(const FieldDescriptor& field) {
  if (field.type() != FieldDescriptor::TYPE_BYTES) return false;
  const std::string& name = field.name();
  return name == "trace_id" || name == "span_id" || name == "parent_span_id";
}

const MessageInfo& messageInfo(const Descriptor* descriptor) {
  thread_local absl::flat_hash_map<const Descriptor*, std::unique_ptr<MessageInfo>> cache;
  std::unique_ptr<MessageInfo>& slot = cache[descriptor];
  if (slot != nullptr) return *slot;
  auto info = std::make_unique<MessageInfo>();
  info->descriptor = descriptor;
  info->fields.resize(static_cast<size_t>(descriptor->field_count()));
  for (int i = 0; i < descriptor->field_count(); ++i) {
    FieldInfo& fi = info->fields[static_cast<size_t>(i)];
    fi.field = descriptor->field(i);
    fi.hex_bytes = isHexBytesField(*fi.field);
    fi.quoted_key = absl::StrCat("\"", fi.field->json_name(), "\":");
    info->by_key.emplace(fi.field->json_name(), &fi);
    info->by_key.emplace(fi.field->name(), &fi);
  }
  slot = std::move(info);
  return *slot;
}

const MessageInfo& childInfo(const FieldInfo& fi) {
  if (fi.child == nullptr) fi.child = &messageInfo(fi.field->message_type());
  return *fi.child;
}

// ---------------------------------------------------------------------------------------------
// Encodings of bytes.

constexpr char kHexDigits[] = "0123456789abcdef";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decodeHex(std::string_view in, std::string& out) {
  if (in.size() % 2 != 0) return false;
  out.resize(in.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hexValue(in[2 * i]);
    const int lo = hexValue(in[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

void appendHex(std::string_view in, std::string& out) {
  const size_t start = out.size();
  out.resize(start + 2 * in.size());
  char* p = out.data() + start;
  for (unsigned char c : in) {
    *p++ = kHexDigits[c >> 4];
    *p++ = kHexDigits[c & 0xF];
  }
}

// Accepts both the standard and the URL-safe alphabet, since senders use either.
int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool decodeBase64(std::string_view in, std::string& out) {
  // Padding is optional, but when present it must complete the last quantum.
  if (!in.empty() && in.back() == '=') {
    if (in.size() % 4 != 0) return false;
    in.remove_suffix(1);
    if (!in.empty() && in.back() == '=') in.remove_suffix(1);
  }
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() / 4 * 3 + 2);
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

void appendBase64(std::string_view in, std::string& out) {
  out += absl::Base64Escape(absl::string_view(in.data(), in.size()));
}

// ---------------------------------------------------------------------------------------------
// Parsing.

std::string_view jsonTypeName(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "number";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "value";
}

class JsonReader {
 public:
  absl::Status read(dom::element root, Message& message) {
    dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected a JSON object at the top level, got ", av(jsonTypeName(root.type()))));
    }
    if (!readMessage(object, message, messageInfo(message.GetDescriptor()), 1)) {
      return absl::InvalidArgumentError(error_);
    }
    return absl::OkStatus();
  }

 private:
  struct PathSegment {
    enum class Kind { kField, kIndex, kMapKey };
    Kind kind;
    std::string_view name;
    size_t index;
  };

  // Records the error at the current path; returns false so callers can `return fail(...)`.
  bool fail(std::string_view what) {
    std::string path;
    for (const PathSegment& seg : path_) {
      switch (seg.kind) {
        case PathSegment::Kind::kField:
          if (!path.empty()) path.push_back('.');
          path.append(seg.name);
          break;
        case PathSegment::Kind::kIndex:
          absl::StrAppend(&path, "[", seg.index, "]");
          break;
        case PathSegment::Kind::kMapKey:
          absl::StrAppend(&path, "[\"", av(seg.name), "\"]");
          break;
      }
    }
    if (path.empty()) path = "(root)";
    error_ = absl::StrCat(path, ": ", av(what));
    return false;
  }

  bool failType(std::string_view expected, dom::element value) {
    return fail(absl::StrCat("expected ", av(expected), ", got ", av(jsonTypeName(value.type()))));
  }

  bool readMessage(dom::object object, Message& message, const MessageInfo& info, int depth) {
    if (depth > kMaxMessageDepth) {
      return fail(absl::StrCat("messages nested deeper than ", kMaxMessageDepth, " levels"));
    }
    const Reflection* r = message.GetReflection();
    for (dom::key_value_pair kv : object) {
      auto it = info.by_key.find(kv.key);
      // Unknown keys are skipped so that newer senders can talk to us.
      if (it == info.by_key.end()) continue;
      if (kv.value.is_null()) continue;
      const FieldInfo& fi = *it->second;
      path_.push_back({PathSegment::Kind::kField, fi.field->json_name(), 0});
      if (!readField(kv.value, message, r, fi, depth)) return false;
      path_.pop_back();
    }
    return true;
  }

  bool readField(dom::element value, Message& message, const Reflection* r, const FieldInfo& fi,
                 int depth) {
    const FieldDescriptor* field = fi.field;
    if (field->is_map()) return readMap(value, message, r, fi, depth);
    if (field->is_repeated()) {
      dom::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return failType("array", value);
      size_t index = 0;
      for (dom::element item : array) {
        path_.push_back({PathSegment::Kind::kIndex, {}, index++});
        if (item.is_null()) return fail("null is not allowed in a repeated field");
        if (!readValue(item, message, r, fi, /*repeated=*/true, depth)) return false;
        path_.pop_back();
      }
      return true;
    }
    if (const OneofDescriptor* oneof = field->real_containing_oneof(); oneof != nullptr) {
      const FieldDescriptor* set = r->GetOneofFieldDescriptor(message, oneof);
      if (set != nullptr && set != field) {
        return fail(absl::StrCat("conflicts with ", set->json_name(), " (both in oneof ",
                                 oneof->name(), ")"));
      }
    }
    return readValue(value, message, r, fi, /*repeated=*/false, depth);
  }

  bool readMap(dom::element value, Message& message, const Reflection* r, const FieldInfo& fi,
               int depth) {
    dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return failType("object", value);
    const MessageInfo& entry_info = childInfo(fi);
    const FieldDescriptor* key_field = fi.field->message_type()->map_key();
    const FieldInfo* value_fi = nullptr;
    for (const FieldInfo& f : entry_info.fields) {
      if (f.field->number() == 2) value_fi = &f;
    }
    if (value_fi == nullptr) return fail("malformed map entry type");
    for (dom::key_value_pair kv : object) {
      path_.push_back({PathSegment::Kind::kMapKey, kv.key, 0});
      Message* entry = r->AddMessage(&message, fi.field);
      const Reflection* er = entry->GetReflection();
      if (!setMapKey(kv.key, *entry, er, key_field)) return false;
      if (!kv.value.is_null() && !readValue(kv.value, *entry, er, *value_fi, false, depth + 1)) {
        return false;
      }
      path_.pop_back();
    }
    return true;
  }

  bool setMapKey(std::string_view key, Message& entry, const Reflection* r,
                 const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(&entry, field, std::string(key));
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (key != "true" && key != "false") return fail("map key must be true or false");
        r->SetBool(&entry, field, key == "true");
        return true;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v = 0;
        if (!parseDecimal(key, v)) return fail("map key is not a decimal integer");
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
          r->SetInt64(&entry, field, v);
        } else if (!inRange<int32_t>(v)) {
          return fail("map key is out of range");
        } else {
          r->SetInt32(&entry, field, static_cast<int32_t>(v));
        }
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v = 0;
        if (!parseDecimal(key, v)) return fail("map key is not a decimal integer");
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
          r->SetUInt64(&entry, field, v);
        } else if (v > std::numeric_limits<uint32_t>::max()) {
          return fail("map key is out of range");
        } else {
          r->SetUInt32(&entry, field, static_cast<uint32_t>(v));
        }
        return true;
      }
      default:
        return fail("unsupported map key type");
    }
  }

  template <typename T>
  static bool inRange(int64_t v) {
    return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
  }

  // The shape of a decimal integer (optional '-', then digits), whatever its range.
  static bool isDecimal(std::string_view s) {
    if (!s.empty() && s.front() == '-') s.remove_prefix(1);
    if (s.empty()) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  // Strict decimal: optional '-' for signed types, digits only, no spaces or '+'.
  template <typename T>
  static bool parseDecimal(std::string_view s, T& out) {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
  }

  // Reads a JSON number or decimal string into [min, max]; fractions are rejected.
  bool readSigned(dom::element value, int64_t min, int64_t max, int64_t& out) {
    switch (value.type()) {
      case dom::element_type::INT64: {
        int64_t v = 0;
        v = value.get_int64().value_unsafe();
        if (v < min || v > max) return fail("integer out of range");
        out = v;
        return true;
      }
      case dom::element_type::UINT64:
        return fail("integer out of range");
      case dom::element_type::DOUBLE: {
        double d = 0;
        d = value.get_double().value_unsafe();
        if (std::trunc(d) != d) return fail("expected an integer, got a fraction");
        // Both bounds are powers of two (or their negation), so the comparisons are exact.
        if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) ||
            d >= 9223372036854775808.0) {
          return fail("integer out of range");
        }
        out = static_cast<int64_t>(d);
        return true;
      }
      case dom::element_type::STRING: {
        std::string_view s;
        s = value.get_string().value_unsafe();
        int64_t v = 0;
        if (!isDecimal(s))
          return fail(absl::StrCat("expected a decimal integer, got \"", av(s), "\""));
        if (!parseDecimal(s, v) || v < min || v > max) return fail("integer out of range");
        out = v;
        return true;
      }
      default:
        return failType("integer", value);
    }
  }

  bool readUnsigned(dom::element value, uint64_t max, uint64_t& out) {
    switch (value.type()) {
      case dom::element_type::INT64: {
        int64_t v = 0;
        v = value.get_int64().value_unsafe();
        if (v < 0 || static_cast<uint64_t>(v) > max) return fail("integer out of range");
        out = static_cast<uint64_t>(v);
        return true;
      }
      case dom::element_type::UINT64: {
        uint64_t v = 0;
        v = value.get_uint64().value_unsafe();
        if (v > max) return fail("integer out of range");
        out = v;
        return true;
      }
      case dom::element_type::DOUBLE: {
        double d = 0;
        d = value.get_double().value_unsafe();
        if (std::trunc(d) != d) return fail("expected an integer, got a fraction");
        if (!(d >= 0) || d >= 18446744073709551616.0 || static_cast<uint64_t>(d) > max) {
          return fail("integer out of range");
        }
        out = static_cast<uint64_t>(d);
        return true;
      }
      case dom::element_type::STRING: {
        std::string_view s;
        s = value.get_string().value_unsafe();
        uint64_t v = 0;
        if (!isDecimal(s))
          return fail(absl::StrCat("expected a decimal integer, got \"", av(s), "\""));
        if (!parseDecimal(s, v) || v > max) return fail("integer out of range");
        out = v;
        return true;
      }
      default:
        return failType("integer", value);
    }
  }

  bool readDouble(dom::element value, double& out) {
    switch (value.type()) {
      case dom::element_type::INT64:
      case dom::element_type::UINT64:
      case dom::element_type::DOUBLE:
        out = value.get_double().value_unsafe();
        return true;
      case dom::element_type::STRING: {
        std::string_view s;
        s = value.get_string().value_unsafe();
        if (s == "NaN") {
          out = std::numeric_limits<double>::quiet_NaN();
        } else if (s == "Infinity") {
          out = std::numeric_limits<double>::infinity();
        } else if (s == "-Infinity") {
          out = -std::numeric_limits<double>::infinity();
        } else {
          // proto3 JSON also allows a number written as a string.
          auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
          if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(out)) {
            return fail(absl::StrCat("expected a number, got \"", av(s), "\""));
          }
        }
        return true;
      }
      default:
        return failType("number", value);
    }
  }

  bool readBytes(dom::element value, const FieldInfo& fi, std::string& out) {
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) return failType("string", value);
    if (fi.hex_bytes) {
      if (!decodeHex(s, out)) return fail(absl::StrCat("invalid hex id \"", av(s), "\""));
    } else if (!decodeBase64(s, out)) {
      return fail("invalid base64");
    }
    return true;
  }

  bool readEnum(dom::element value, const FieldDescriptor* field, int& out) {
    if (value.type() == dom::element_type::STRING) {
      std::string_view s;
      s = value.get_string().value_unsafe();
      const EnumValueDescriptor* ev = field->enum_type()->FindValueByName(std::string(s));
      if (ev == nullptr) {
        return fail(
            absl::StrCat("unknown value \"", av(s), "\" of enum ", field->enum_type()->name()));
      }
      out = ev->number();
      return true;
    }
    int64_t v = 0;
    if (!readSigned(value, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                    v)) {
      return false;
    }
    // proto3 enums are open: an unknown number is kept, as the binary format would.
    out = static_cast<int>(v);
    return true;
  }

  bool readValue(dom::element value, Message& message, const Reflection* r, const FieldInfo& fi,
                 bool repeated, int depth) {
    const FieldDescriptor* field = fi.field;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        dom::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) return failType("object", value);
        Message* child =
            repeated ? r->AddMessage(&message, field) : r->MutableMessage(&message, field);
        return readMessage(object, *child, childInfo(fi), depth + 1);
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s;
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          if (!readBytes(value, fi, s)) return false;
        } else {
          std::string_view sv;
          if (value.get_string().get(sv) != simdjson::SUCCESS) return failType("string", value);
          s.assign(sv);
        }
        repeated ? r->AddString(&message, field, std::move(s))
                 : r->SetString(&message, field, std::move(s));
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v = 0;
        if (!readSigned(value, std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::max(), v)) {
          return false;
        }
        repeated ? r->AddInt64(&message, field, v) : r->SetInt64(&message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32: {
        int64_t v = 0;
        if (!readSigned(value, std::numeric_limits<int32_t>::min(),
                        std::numeric_limits<int32_t>::max(), v)) {
          return false;
        }
        const auto v32 = static_cast<int32_t>(v);
        repeated ? r->AddInt32(&message, field, v32) : r->SetInt32(&message, field, v32);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v = 0;
        if (!readUnsigned(value, std::numeric_limits<uint64_t>::max(), v)) return false;
        repeated ? r->AddUInt64(&message, field, v) : r->SetUInt64(&message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint64_t v = 0;
        if (!readUnsigned(value, std::numeric_limits<uint32_t>::max(), v)) return false;
        const auto v32 = static_cast<uint32_t>(v);
        repeated ? r->AddUInt32(&message, field, v32) : r->SetUInt32(&message, field, v32);
        return true;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        double v = 0;
        if (!readDouble(value, v)) return false;
        repeated ? r->AddDouble(&message, field, v) : r->SetDouble(&message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double v = 0;
        if (!readDouble(value, v)) return false;
        if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()) {
          return fail("number out of range for float");
        }
        const auto f = static_cast<float>(v);
        repeated ? r->AddFloat(&message, field, f) : r->SetFloat(&message, field, f);
        return true;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool v = false;
        if (value.get_bool().get(v) != simdjson::SUCCESS) return failType("boolean", value);
        repeated ? r->AddBool(&message, field, v) : r->SetBool(&message, field, v);
        return true;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        int v = 0;
        if (!readEnum(value, field, v)) return false;
        repeated ? r->AddEnumValue(&message, field, v) : r->SetEnumValue(&message, field, v);
        return true;
      }
    }
    return fail("unsupported field type");
  }

  std::vector<PathSegment> path_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Serialising.

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void writeMessage(const Message& message, const MessageInfo& info) {
    const Reflection* r = message.GetReflection();
    out_.push_back('{');
    bool first = true;
    for (const FieldInfo& fi : info.fields) {
      const FieldDescriptor* field = fi.field;
      if (field->is_repeated() ? r->FieldSize(message, field) == 0 : !r->HasField(message, field)) {
        continue;
      }
      if (!first) out_.push_back(',');
      first = false;
      out_.append(fi.quoted_key);
      if (field->is_map()) {
        writeMap(message, r, fi);
      } else if (field->is_repeated()) {
        out_.push_back('[');
        const int size = r->FieldSize(message, field);
        for (int i = 0; i < size; ++i) {
          if (i > 0) out_.push_back(',');
          writeValue(message, r, fi, i);
        }
        out_.push_back(']');
      } else {
        writeValue(message, r, fi, -1);
      }
    }
    out_.push_back('}');
  }

 private:
  void writeMap(const Message& message, const Reflection* r, const FieldInfo& fi) {
    const MessageInfo& entry_info = childInfo(fi);
    const FieldDescriptor* key_field = fi.field->message_type()->map_key();
    const FieldInfo* value_fi = nullptr;
    for (const FieldInfo& f : entry_info.fields) {
      if (f.field->number() == 2) value_fi = &f;
    }
    out_.push_back('{');
    const int size = r->FieldSize(message, fi.field);
    for (int i = 0; i < size; ++i) {
      const Message& entry = r->GetRepeatedMessage(message, fi.field, i);
      const Reflection* er = entry.GetReflection();
      if (i > 0) out_.push_back(',');
      switch (key_field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string scratch;
          writeString(er->GetStringReference(entry, key_field, &scratch));
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL:
          out_.append(er->GetBool(entry, key_field) ? "\"true\"" : "\"false\"");
          break;
        default:
          out_.push_back('"');
          writeInteger(entry, er, key_field, -1);
          out_.push_back('"');
          break;
      }
      out_.push_back(':');
      if (value_fi != nullptr) writeValue(entry, er, *value_fi, -1);
    }
    out_.push_back('}');
  }

  template <typename T>
  void appendNumber(T v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    (void)ec;  // 32 bytes always fit an integer or a shortest-form double
    out_.append(buf, end);
  }

  template <typename T>
  void appendFloating(T v) {
    if (std::isnan(v)) {
      out_.append("\"NaN\"");
    } else if (std::isinf(v)) {
      out_.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else if (std::fabs(v) >= 1e18) {
      // The shortest form of 2^64 is 20 digits without a point, which JSON readers (simdjson
      // among them) take for an out-of-range integer; an exponent keeps it a double.
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
      (void)ec;
      out_.append(buf, end);
    } else {
      appendNumber(v);
    }
  }

  // Writes an integer-typed field; index < 0 means the singular value.
  void writeInteger(const Message& m, const Reflection* r, const FieldDescriptor* f, int index) {
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        appendNumber(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        appendNumber(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        appendNumber(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        appendNumber(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
        break;
      default:
        break;
    }
  }

  void writeValue(const Message& m, const Reflection* r, const FieldInfo& fi, int index) {
    const FieldDescriptor* f = fi.field;
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        writeMessage(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), childInfo(fi));
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        if (f->type() != FieldDescriptor::TYPE_BYTES) {
          writeString(s);
        } else {
          out_.push_back('"');
          fi.hex_bytes ? appendHex(s, out_) : appendBase64(s, out_);
          out_.push_back('"');
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        // 64-bit integers are strings because JSON readers commonly hold numbers as doubles.
        out_.push_back('"');
        writeInteger(m, r, f, index);
        out_.push_back('"');
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        writeInteger(m, r, f, index);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        appendFloating(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        appendFloating(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_.append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        appendNumber(rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f));
        break;
    }
  }

  void writeString(std::string_view s) {
    out_.push_back('"');
    if (simdjson::validate_utf8(s.data(), s.size())) {
      appendEscaped(s);
    } else {
      appendEscapedRepairingUtf8(s);
    }
    out_.push_back('"');
  }

  void appendEscaped(std::string_view s) {
    size_t run = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_.append("\\\"");
          break;
        case '\\':
          out_.append("\\\\");
          break;
        case '\n':
          out_.append("\\n");
          break;
        case '\r':
          out_.append("\\r");
          break;
        case '\t':
          out_.append("\\t");
          break;
        case '\b':
          out_.append("\\b");
          break;
        case '\f':
          out_.append("\\f");
          break;
        default: {
          const char esc[] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
          out_.append(esc, sizeof(esc));
          break;
        }
      }
    }
    out_.append(s.data() + run, s.size() - run);
  }

  // Strings set through the API may hold bytes that are not UTF-8; JSON cannot carry them, so
  // each invalid byte becomes U+FFFD rather than producing a document no reader accepts.
  void appendEscapedRepairingUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      size_t len = c < 0x80           ? 1
                   : (c >> 5) == 0x6  ? 2
                   : (c >> 4) == 0xE  ? 3
                   : (c >> 3) == 0x1E ? 4
                                      : 0;
      if (len == 0 || i + len > s.size() || !simdjson::validate_utf8(s.data() + i, len)) {
        out_.append("\xEF\xBF\xBD");
        ++i;
        continue;
      }
      appendEscaped(s.substr(i, len));
      i += len;
    }
  }

  std::string& out_;
};

}  // namespace

absl::Status parseOtlpJson(std::string_view json, google::protobuf::Message& message) {
  try {
    message.Clear();
    thread_local std::unique_ptr<dom::parser> parser;
    if (parser == nullptr) parser = std::make_unique<dom::parser>();
    absl::Status status;
    {
      dom::element root;
      // The input is copied into the parser's padded buffer; simdjson reads past the end.
      const simdjson::error_code error = parser->parse(json.data(), json.size()).get(root);
      if (error != simdjson::SUCCESS) {
        status = absl::InvalidArgumentError(
            absl::StrCat("malformed JSON: ", simdjson::error_message(error)));
      } else {
        status = JsonReader().read(root, message);
      }
    }
    if (parser->capacity() > kRetainedParserCapacity) parser.reset();
    return status;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing OTLP/JSON");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("OTLP/JSON parse failed: ", e.what()));
  }
}

void appendOtlpJson(const google::protobuf::Message& message, std::string& out) {
  JsonWriter(out).writeMessage(message, messageInfo(message.GetDescriptor()));
}

std::string toOtlpJson(const google::protobuf::Message& message) {
  std::string out;
  appendOtlpJson(message, out);
  return out;
}

}  // namespace otlpd::otlp
