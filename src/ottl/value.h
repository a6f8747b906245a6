// The values an OTTL expression evaluates to: an OTLP AnyValue (otlp::Value) widened with what the
// language adds — nil, time.Time and time.Duration — and with strings that may borrow the bytes
// they were read from, so a condition that compares one attribute copies nothing. Pure.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/value.h"

namespace otlpd::ottl {

enum class Type : uint8_t {
  kNil,
  kBool,
  kInt,
  kDouble,
  kString,
  kBytes,
  kMap,
  kList,
  kTime,      // nanoseconds since the Unix epoch
  kDuration,  // nanoseconds
  kAny,       // static type only: known when evaluated (attributes, body, cache)
};
std::string_view typeName(Type type);

class Value {
 public:
  Value() = default;
  static Value ofBool(bool b) { return scalar(Type::kBool, b ? 1 : 0); }
  static Value ofInt(int64_t i) { return scalar(Type::kInt, i); }
  static Value ofTime(int64_t unix_nanos) { return scalar(Type::kTime, unix_nanos); }
  static Value ofDuration(int64_t nanos) { return scalar(Type::kDuration, nanos); }
  static Value ofDouble(double d) {
    Value v;
    v.type_ = Type::kDouble;
    v.double_ = d;
    return v;
  }
  static Value ofString(std::string s) { return owned(Type::kString, std::move(s)); }
  static Value ofBytes(std::string s) { return owned(Type::kBytes, std::move(s)); }
  // Borrowed: valid as long as the bytes it views (one statement's evaluation).
  static Value ofStringView(std::string_view s) { return borrowed(Type::kString, s); }
  static Value ofBytesView(std::string_view s) { return borrowed(Type::kBytes, s); }
  // An OTLP value: empty becomes nil, arrays lists, the rest keeps its kind.
  static Value ofPdata(otlp::Value v);
  static Value ofMap(otlp::Value::Map m) { return ofPdata(otlp::Value::ofMap(std::move(m))); }
  static Value ofList(otlp::Value::Array a) { return ofPdata(otlp::Value::ofArray(std::move(a))); }

  Type type() const { return type_; }
  bool isNil() const { return type_ == Type::kNil; }
  bool boolean() const { return int_ != 0; }
  int64_t integer() const { return int_; }  // int, time and duration
  double dbl() const { return double_; }
  // String and bytes.
  std::string_view str() const { return owned_ ? std::string_view(own_) : view_; }
  // Map and list (as otlp kMap / kArray).
  const otlp::Value& pdata() const { return pdata_ ? *pdata_ : emptyPdata(); }
  // Copies the map or list first when another value shares it.
  otlp::Value& mutablePdata();

  // Copies borrowed bytes so the value outlives what it was read from.
  void own();

  // The value as telemetry stores it; time and duration cannot be stored (the Collector refuses
  // them too).
  absl::StatusOr<otlp::Value> toPdata() const;

 private:
  static Value scalar(Type t, int64_t i) {
    Value v;
    v.type_ = t;
    v.int_ = i;
    return v;
  }
  static Value owned(Type t, std::string s) {
    Value v;
    v.type_ = t;
    v.owned_ = true;
    v.own_ = std::move(s);
    return v;
  }
  static Value borrowed(Type t, std::string_view s) {
    Value v;
    v.type_ = t;
    v.view_ = s;
    return v;
  }

  Type type_ = Type::kNil;
  bool owned_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string_view view_;
  std::string own_;
  static const otlp::Value& emptyPdata();

  // Maps and lists are shared between copies (copied on write), so copying a scalar value is cheap.
  std::shared_ptr<otlp::Value> pdata_;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
std::string_view compareOpText(CompareOp op);

// OTTL's comparison rules: numbers across int/double as doubles, strings and bytes by bytes, false
// < true, times and durations by value; maps and lists only (in)equal; values of different types
// are "not equal" (only != is true); nil equals only nil.
bool compare(const Value& a, const Value& b, CompareOp op);

// pcommon's AsString: strings as they are, numbers and bools in Go's form, bytes base64, maps and
// lists as JSON, nil as "". Time and duration as Go prints them.
std::string asString(const Value& v);

}  // namespace otlpd::ottl
