#include "processors/common/config_value.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace otlpd::processors {
namespace {

bool isNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> parseBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// What Go's strconv.ParseInt(s, 0, 64) accepts after YAML removed underscores: a sign, then
// decimal digits or a 0x / 0o / 0b prefixed number.
std::optional<int64_t> parseInt(std::string_view s) {
  std::string digits;
  digits.reserve(s.size());
  for (char c : s) {
    if (c != '_') digits.push_back(c);
  }
  std::string_view d = digits;
  bool negative = false;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
    negative = d[0] == '-';
    d.remove_prefix(1);
  }
  int base = 10;
  if (d.size() > 2 && d[0] == '0') {
    const char p = static_cast<char>(d[1] | 0x20);
    if (p == 'x') base = 16;
    if (p == 'o') base = 8;
    if (p == 'b') base = 2;
    if (base != 10) d.remove_prefix(2);
  }
  if (d.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), magnitude, base);
  if (ec != std::errc() || ptr != d.data() + d.size()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

// YAML 1.2's float forms: [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf / .nan.
std::optional<double> parseFloat(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  std::string_view d = s;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) d.remove_prefix(1);
  size_t i = 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < d.size() && d[i] >= '0' && d[i] <= '9') ++i, ++int_digits;
  if (i < d.size() && d[i] == '.') {
    ++i;
    while (i < d.size() && d[i] >= '0' && d[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return std::nullopt;
  if (i < d.size() && (d[i] == 'e' || d[i] == 'E')) {
    ++i;
    if (i < d.size() && (d[i] == '+' || d[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < d.size() && d[i] >= '0' && d[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != d.size()) return std::nullopt;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  double out = 0;
  auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  }
  if (ec != std::errc()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<otlp::Value> valueFromYaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (node.IsSequence()) {
    otlp::Value::Array items;
    items.reserve(node.size());
    for (const auto& item : node) items.push_back(valueFromYaml(item).value_or(otlp::Value()));
    return otlp::Value::ofArray(std::move(items));
  }
  if (node.IsMap()) {
    otlp::Value::Map entries;
    for (const auto& kv : node) {
      entries.emplace_back(kv.first.Scalar(), valueFromYaml(kv.second).value_or(otlp::Value()));
    }
    return otlp::Value::ofMap(std::move(entries));
  }
  const std::string& s = node.Scalar();
  // yaml-cpp tags quoted scalars "!" and plain ones "?"; explicit tags say what they are.
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return otlp::Value::ofString(s);
  if (isNull(s)) return std::nullopt;
  if (auto b = parseBool(s)) return otlp::Value::ofBool(*b);
  if (auto i = parseInt(s)) return otlp::Value::ofInt(*i);
  if (auto d = parseFloat(s)) return otlp::Value::ofDouble(*d);
  return otlp::Value::ofString(s);
}

}  // namespace otlpd::processors
