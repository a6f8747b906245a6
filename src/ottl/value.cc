#include "ottl/value.h"

#include <cmath>

#include "absl/time/time.h"
#include "common/strings.h"

namespace otlpd::ottl {

std::string_view typeName(Type type) {
  switch (type) {
    case Type::kNil:
      return "nil";
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kBytes:
      return "bytes";
    case Type::kMap:
      return "map";
    case Type::kList:
      return "list";
    case Type::kTime:
      return "time";
    case Type::kDuration:
      return "duration";
    case Type::kAny:
      return "any";
  }
  return "?";
}

Value Value::ofPdata(otlp::Value v) {
  switch (v.kind()) {
    case otlp::Value::Kind::kEmpty:
      return Value();
    case otlp::Value::Kind::kString:
      return ofString(std::move(v.mutableStr()));
    case otlp::Value::Kind::kBytes:
      return ofBytes(std::move(v.mutableStr()));
    case otlp::Value::Kind::kBool:
      return ofBool(v.boolean());
    case otlp::Value::Kind::kInt:
      return ofInt(v.integer());
    case otlp::Value::Kind::kDouble:
      return ofDouble(v.dbl());
    case otlp::Value::Kind::kArray: {
      Value out;
      out.type_ = Type::kList;
      out.pdata_ = std::make_shared<otlp::Value>(std::move(v));
      return out;
    }
    case otlp::Value::Kind::kMap: {
      Value out;
      out.type_ = Type::kMap;
      out.pdata_ = std::make_shared<otlp::Value>(std::move(v));
      return out;
    }
  }
  return Value();
}

const otlp::Value& Value::emptyPdata() {
  static const otlp::Value empty;
  return empty;
}

otlp::Value& Value::mutablePdata() {
  if (!pdata_) {
    pdata_ = std::make_shared<otlp::Value>();
  } else if (pdata_.use_count() > 1) {
    pdata_ = std::make_shared<otlp::Value>(*pdata_);
  }
  return *pdata_;
}

void Value::own() {
  if (owned_ || (type_ != Type::kString && type_ != Type::kBytes)) return;
  own_.assign(view_.data(), view_.size());
  owned_ = true;
  view_ = {};
}

absl::StatusOr<otlp::Value> Value::toPdata() const {
  switch (type_) {
    case Type::kNil:
      return otlp::Value();
    case Type::kBool:
      return otlp::Value::ofBool(boolean());
    case Type::kInt:
      return otlp::Value::ofInt(int_);
    case Type::kDouble:
      return otlp::Value::ofDouble(double_);
    case Type::kString:
      return otlp::Value::ofString(std::string(str()));
    case Type::kBytes:
      return otlp::Value::ofBytes(std::string(str()));
    case Type::kMap:
    case Type::kList:
      return pdata();
    case Type::kTime:
    case Type::kDuration:
    case Type::kAny:
      break;
  }
  return absl::InvalidArgumentError(
      strCat("a ", typeName(type_), " value cannot be stored in telemetry"));
}

std::string_view compareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

namespace {

template <class T>
bool ordered(const T& a, const T& b, CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return !(a == b);
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

bool numeric(Type t) {
  return t == Type::kInt || t == Type::kDouble;
}

}  // namespace

bool compare(const Value& a, const Value& b, CompareOp op) {
  const Type ta = a.type(), tb = b.type();
  if (ta != tb) {
    if (numeric(ta) && numeric(tb)) {
      const double x = ta == Type::kInt ? static_cast<double>(a.integer()) : a.dbl();
      const double y = tb == Type::kInt ? static_cast<double>(b.integer()) : b.dbl();
      return ordered(x, y, op);
    }
    return op == CompareOp::kNe;
  }
  switch (ta) {
    case Type::kNil:
      return op == CompareOp::kEq || op == CompareOp::kLe || op == CompareOp::kGe;
    case Type::kBool:
      return ordered(a.boolean(), b.boolean(), op);
    case Type::kInt:
    case Type::kTime:
    case Type::kDuration:
      return ordered(a.integer(), b.integer(), op);
    case Type::kDouble:
      return ordered(a.dbl(), b.dbl(), op);
    case Type::kString:
    case Type::kBytes:
      return ordered(a.str(), b.str(), op);
    case Type::kMap:
    case Type::kList:
      if (op == CompareOp::kEq) return a.pdata() == b.pdata();
      if (op == CompareOp::kNe) return !(a.pdata() == b.pdata());
      return false;
    case Type::kAny:
      break;
  }
  return false;
}

namespace {

// Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s".
std::string goDuration(int64_t d) {
  if (d == 0) return "0s";
  const bool negative = d < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  std::string out;
  auto fraction = [](uint64_t v, int digits) {  // v / 10^digits with trailing zeros trimmed
    std::string whole = std::to_string(v);
    if (static_cast<int>(whole.size()) <= digits) {
      whole.insert(0, static_cast<size_t>(digits) + 1 - whole.size(), '0');
    }
    std::string head = whole.substr(0, whole.size() - static_cast<size_t>(digits));
    std::string tail = whole.substr(whole.size() - static_cast<size_t>(digits));
    while (!tail.empty() && tail.back() == '0') tail.pop_back();
    return tail.empty() ? head : head + "." + tail;
  };
  if (u < 1000) {
    out = std::to_string(u) + "ns";
  } else if (u < 1000000) {
    out = fraction(u, 3) + "µs";
  } else if (u < 1000000000) {
    out = fraction(u, 6) + "ms";
  } else {
    const uint64_t hours = u / 3600000000000ULL;
    u -= hours * 3600000000000ULL;
    const uint64_t minutes = u / 60000000000ULL;
    u -= minutes * 60000000000ULL;
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
    out += fraction(u, 9) + "s";
  }
  return negative ? "-" + out : out;
}

}  // namespace

std::string asString(const Value& v) {
  switch (v.type()) {
    case Type::kNil:
    case Type::kAny:
      return "";
    case Type::kString:
      return std::string(v.str());
    case Type::kBytes:
      return otlp::valueAsString(otlp::Value::ofBytes(std::string(v.str())));
    case Type::kBool:
      return v.boolean() ? "true" : "false";
    case Type::kInt:
      return std::to_string(v.integer());
    case Type::kDouble:
      return otlp::valueAsString(otlp::Value::ofDouble(v.dbl()));
    case Type::kMap:
    case Type::kList:
      return otlp::valueAsString(v.pdata());
    case Type::kTime:
      return absl::FormatTime("%Y-%m-%d %H:%M:%E*S +0000 UTC", absl::FromUnixNanos(v.integer()),
                              absl::UTCTimeZone());
    case Type::kDuration:
      return goDuration(v.integer());
  }
  return "";
}

}  // namespace otlpd::ottl
