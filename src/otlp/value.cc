#include "otlp/value.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/json_escape.h"
#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::otlp {
namespace {

// AnyValue's oneof members.
constexpr uint32_t kString = 1, kBool = 2, kInt = 3, kDouble = 4, kArray = 5, kKvList = 6,
                   kBytes = 7;

bool decodeAt(std::string_view wire, Value& out, int depth);

bool decodeKeyValue(std::string_view wire, std::string& key, Value& value, int depth) {
  wire::Reader reader(wire);
  wire::Field f;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    if (f.type != wire::kLengthDelimited) continue;
    if (f.number == 1) key.assign(f.bytes);
    if (f.number == 2 && !decodeAt(f.bytes, value, depth + 1)) return false;  // the AnyValue
  }
  return true;
}

bool decodeAt(std::string_view wire, Value& out, int depth) {
  // `depth` counts protobuf messages: an array element is 2 deeper, a map entry's value 3.
  if (depth > kMaxValueMessageDepth) return false;
  out = Value();
  wire::Reader reader(wire);
  wire::Field f;
  while (!reader.done()) {
    if (reader.next(f) != wire::Stop::kNone) return false;
    // A oneof keeps its last member, as protobuf does.
    switch (f.number) {
      case kString:
        if (f.type == wire::kLengthDelimited) out = Value::ofString(std::string(f.bytes));
        break;
      case kBytes:
        if (f.type == wire::kLengthDelimited) out = Value::ofBytes(std::string(f.bytes));
        break;
      case kBool:
        if (f.type == wire::kVarint) out = Value::ofBool(f.value != 0);
        break;
      case kInt:
        if (f.type == wire::kVarint) out = Value::ofInt(static_cast<int64_t>(f.value));
        break;
      case kDouble:
        if (f.type == wire::kFixed64) {
          double d;
          std::memcpy(&d, &f.value, sizeof d);
          out = Value::ofDouble(d);
        }
        break;
      case kArray: {
        if (f.type != wire::kLengthDelimited) break;
        Value::Array items;
        wire::Reader inner(f.bytes);
        wire::Field e;
        while (!inner.done()) {
          if (inner.next(e) != wire::Stop::kNone) return false;
          if (e.number != 1 || e.type != wire::kLengthDelimited) continue;
          items.emplace_back();
          if (!decodeAt(e.bytes, items.back(), depth + 2)) return false;
        }
        out = Value::ofArray(std::move(items));
        break;
      }
      case kKvList: {
        if (f.type != wire::kLengthDelimited) break;
        Value::Map entries;
        wire::Reader inner(f.bytes);
        wire::Field e;
        while (!inner.done()) {
          if (inner.next(e) != wire::Stop::kNone) return false;
          if (e.number != 1 || e.type != wire::kLengthDelimited) continue;
          entries.emplace_back();
          if (!decodeKeyValue(e.bytes, entries.back().first, entries.back().second, depth + 2)) {
            return false;
          }
        }
        out = Value::ofMap(std::move(entries));
        break;
      }
      default:
        break;
    }
  }
  return true;
}

size_t keyValueSize(const std::string& key, const Value& value) {
  const size_t v = encodedValueSize(value);
  return wire::lengthDelimitedSize(1, key.size()) + wire::lengthDelimitedSize(2, v);
}

void appendBase64(std::string_view bytes, std::string& out) {
  const size_t start = out.size();
  out.resize(start + 4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(start + static_cast<size_t>(n));
}

void appendDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Go's strconv.FormatFloat(d, 'f', -1, 64): the shortest digits that round-trip, no exponent.
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (ec == std::errc()) out.append(buf, end);
}

// JSON as Go's encoding/json writes it (HTML-safe escapes, sorted map keys).
void appendJsonString(std::string_view s, std::string& out) {
  out += '"';
  common::appendEscaped(out, s, common::Escape::kJsonHtmlSafe);
  out += '"';
}

void appendJson(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kEmpty:
      out += "null";
      return;
    case Value::Kind::kString:
      appendJsonString(v.str(), out);
      return;
    case Value::Kind::kBool:
      out += v.boolean() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.integer());
      return;
    case Value::Kind::kDouble: {
      if (!std::isfinite(v.dbl())) {
        out += "null";
        return;
      }
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.dbl());
      if (ec == std::errc()) out.append(buf, end);
      return;
    }
    case Value::Kind::kBytes:
      out += '"';
      appendBase64(v.str(), out);
      out += '"';
      return;
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.array()) {
        if (!first) out += ',';
        first = false;
        appendJson(item, out);
      }
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      std::vector<const std::pair<std::string, Value>*> sorted;
      sorted.reserve(v.map().size());
      for (const auto& e : v.map()) sorted.push_back(&e);
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
      out += '{';
      bool first = true;
      for (const auto* e : sorted) {
        if (!first) out += ',';
        first = false;
        appendJsonString(e->first, out);
        out += ':';
        appendJson(e->second, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : map_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  for (auto& [k, v] : map_) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kEmpty:
      return true;
    case Value::Kind::kString:
    case Value::Kind::kBytes:
      return a.str_ == b.str_;
    case Value::Kind::kBool:
    case Value::Kind::kInt:
      return a.int_ == b.int_;
    case Value::Kind::kDouble:
      return a.double_ == b.double_;
    case Value::Kind::kArray:
      return a.array_ == b.array_;
    case Value::Kind::kMap:
      return a.map_ == b.map_;
  }
  return false;
}

bool decodeValue(std::string_view wire, Value& out) {
  return decodeAt(wire, out, 0);
}

size_t encodedValueSize(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kEmpty:
      return 0;
    case Value::Kind::kString:
    case Value::Kind::kBytes:
      return wire::lengthDelimitedSize(kString, value.str().size());
    case Value::Kind::kBool:
      return 2;
    case Value::Kind::kInt:
      return 1 + wire::varintSize(static_cast<uint64_t>(value.integer()));
    case Value::Kind::kDouble:
      return 9;
    case Value::Kind::kArray: {
      size_t inner = 0;
      for (const Value& item : value.array()) {
        inner += wire::lengthDelimitedSize(1, encodedValueSize(item));
      }
      return wire::lengthDelimitedSize(kArray, inner);
    }
    case Value::Kind::kMap: {
      size_t inner = 0;
      for (const auto& [k, v] : value.map()) {
        inner += wire::lengthDelimitedSize(1, keyValueSize(k, v));
      }
      return wire::lengthDelimitedSize(kKvList, inner);
    }
  }
  return 0;
}

void encodeValue(const Value& value, std::string& out) {
  switch (value.kind()) {
    case Value::Kind::kEmpty:
      return;
    case Value::Kind::kString:
      wire::appendLengthDelimited(kString, value.str(), out);
      return;
    case Value::Kind::kBytes:
      wire::appendLengthDelimited(kBytes, value.str(), out);
      return;
    case Value::Kind::kBool:
      wire::appendTag(kBool, wire::kVarint, out);
      wire::appendVarint(value.boolean() ? 1 : 0, out);
      return;
    case Value::Kind::kInt:
      wire::appendTag(kInt, wire::kVarint, out);
      wire::appendVarint(static_cast<uint64_t>(value.integer()), out);
      return;
    case Value::Kind::kDouble: {
      uint64_t bits;
      const double d = value.dbl();
      std::memcpy(&bits, &d, sizeof bits);
      wire::appendTag(kDouble, wire::kFixed64, out);
      wire::appendFixed64(bits, out);
      return;
    }
    case Value::Kind::kArray: {
      size_t inner = 0;
      for (const Value& item : value.array()) {
        inner += wire::lengthDelimitedSize(1, encodedValueSize(item));
      }
      wire::appendTag(kArray, wire::kLengthDelimited, out);
      wire::appendVarint(inner, out);
      for (const Value& item : value.array()) {
        wire::appendTag(1, wire::kLengthDelimited, out);
        wire::appendVarint(encodedValueSize(item), out);
        encodeValue(item, out);
      }
      return;
    }
    case Value::Kind::kMap: {
      size_t inner = 0;
      for (const auto& [k, v] : value.map()) {
        inner += wire::lengthDelimitedSize(1, keyValueSize(k, v));
      }
      wire::appendTag(kKvList, wire::kLengthDelimited, out);
      wire::appendVarint(inner, out);
      for (const auto& [k, v] : value.map()) {
        wire::appendTag(1, wire::kLengthDelimited, out);
        wire::appendVarint(keyValueSize(k, v), out);
        wire::appendLengthDelimited(1, k, out);
        wire::appendTag(2, wire::kLengthDelimited, out);
        wire::appendVarint(encodedValueSize(v), out);
        encodeValue(v, out);
      }
      return;
    }
  }
}

std::string valueAsString(const Value& value) {
  std::string out;
  switch (value.kind()) {
    case Value::Kind::kEmpty:
      break;
    case Value::Kind::kString:
      out = value.str();
      break;
    case Value::Kind::kBool:
      out = value.boolean() ? "true" : "false";
      break;
    case Value::Kind::kInt:
      out = std::to_string(value.integer());
      break;
    case Value::Kind::kDouble:
      appendDouble(value.dbl(), out);
      break;
    case Value::Kind::kBytes:
      appendBase64(value.str(), out);
      break;
    case Value::Kind::kArray:
    case Value::Kind::kMap:
      appendJson(value, out);
      break;
  }
  return out;
}

}  // namespace otlpd::otlp
