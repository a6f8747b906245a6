// An OTLP AnyValue as a plain value: what processors and OTTL read, compare and write. Decoded from
// and encoded to the wire form of `opentelemetry.proto.common.v1.AnyValue` directly (no protobuf
// classes), so code that edits encoded requests (wire_edit.h) never materialises a message. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::otlp {

class Value {
 public:
  enum class Kind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kArray, kMap };
  using Array = std::vector<Value>;
  using Map = std::vector<std::pair<std::string, Value>>;  // KeyValueList keeps the wire's order

  Value() = default;
  static Value ofString(std::string s) { return Value(Kind::kString, std::move(s)); }
  static Value ofBytes(std::string s) { return Value(Kind::kBytes, std::move(s)); }
  static Value ofBool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.int_ = b ? 1 : 0;
    return v;
  }
  static Value ofInt(int64_t i) {
    Value v;
    v.kind_ = Kind::kInt;
    v.int_ = i;
    return v;
  }
  static Value ofDouble(double d) {
    Value v;
    v.kind_ = Kind::kDouble;
    v.double_ = d;
    return v;
  }
  static Value ofArray(Array a) {
    Value v;
    v.kind_ = Kind::kArray;
    v.array_ = std::move(a);
    return v;
  }
  static Value ofMap(Map m) {
    Value v;
    v.kind_ = Kind::kMap;
    v.map_ = std::move(m);
    return v;
  }

  Kind kind() const { return kind_; }
  bool isEmpty() const { return kind_ == Kind::kEmpty; }
  // String and bytes values share the storage.
  const std::string& str() const { return str_; }
  std::string& mutableStr() { return str_; }
  bool boolean() const { return int_ != 0; }
  int64_t integer() const { return int_; }
  double dbl() const { return double_; }
  const Array& array() const { return array_; }
  Array& mutableArray() { return array_; }
  const Map& map() const { return map_; }
  Map& mutableMap() { return map_; }
  // The entry of a map value, or null.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);

  friend bool operator==(const Value& a, const Value& b);

 private:
  Value(Kind k, std::string s) : kind_(k), str_(std::move(s)) {}

  Kind kind_ = Kind::kEmpty;
  int64_t int_ = 0;
  double double_ = 0;
  std::string str_;
  Array array_;
  Map map_;
};

// protobuf refuses messages nested deeper than 100; a level of a map value costs three of them
// (KeyValueList, KeyValue, AnyValue), of an array two. Values we build (ParseJSON, lookup tables)
// nest at most 30 levels, which below a span event's or a data point's attribute (itself 7 or 8
// messages deep) stays within 100, so what we write the next protobuf decoder accepts.
inline constexpr int kMaxValueDepth = 30;
// decodeValue accepts what protobuf accepts below an attribute: nesting counted in messages.
inline constexpr int kMaxValueMessageDepth = 92;

// Decodes the content of an encoded AnyValue message (no tag, no length). False when the bytes are
// malformed or nest deeper than kMaxValueMessageDepth; `out` is then unspecified.
bool decodeValue(std::string_view wire, Value& out);
// Appends the content of the AnyValue message encoding `value` (no tag, no length).
void encodeValue(const Value& value, std::string& out);
// Its encoded size, as encodeValue would append it.
size_t encodedValueSize(const Value& value);

// The value as the Collector's pcommon `Value.AsString()` renders it: strings as they are, ints
// and bools in decimal / "true"/"false", doubles in Go's shortest 'g'-like form, bytes in base64,
// maps and arrays as JSON, empty as "".
std::string valueAsString(const Value& value);

}  // namespace otlpd::otlp
