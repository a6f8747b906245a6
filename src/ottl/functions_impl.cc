#include "ottl/functions_impl.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <array>
#include <cmath>
#include <vector>

#include "common/simdjson.h"
#include "common/strings.h"

namespace otlpd::ottl {
namespace {

size_t utf8Width(std::string_view s, size_t at) {
  const auto c = static_cast<unsigned char>(s[at]);
  size_t w = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  return std::min(w, s.size() - at);
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's Regexp.Expand for one match.
void expand(const re2::RE2& re, std::string_view tmpl, const re2::StringPiece* groups,
            size_t ngroups, std::string& out) {
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    size_t end;
    if (tmpl[i + 1] == '{') {
      const size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      bool valid = !name.empty();
      for (char n : name) valid = valid && isNameChar(n);
      if (!valid) {
        out += c;
        continue;
      }
      end = close + 1;
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() && isNameChar(tmpl[j])) ++j;
      if (j == i + 1) {
        out += c;
        continue;
      }
      name = tmpl.substr(i + 1, j - i - 1);
      end = j;
    }
    int index = -1;
    bool numeric = true;
    for (char n : name) numeric = numeric && n >= '0' && n <= '9';
    if (numeric) {
      index = name.size() > 9 ? -1 : std::stoi(std::string(name));
    } else {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < ngroups && groups[index].data()) {
      out.append(groups[index].data(), groups[index].size());
    }
    i = end - 1;
  }
}

}  // namespace

std::string transformReplacement(std::string_view replacement, const ReplacementTransform& t) {
  std::string value = t.hash ? sha256Hex(replacement) : std::string(replacement);
  if (t.format.empty()) return value;
  std::string out;
  for (size_t i = 0; i < t.format.size(); ++i) {
    if (t.format[i] == '%' && i + 1 < t.format.size()) {
      if (t.format[i + 1] == 's') {
        out += value;
        ++i;
        continue;
      }
      if (t.format[i + 1] == '%') {
        out += '%';
        ++i;
        continue;
      }
    }
    out += t.format[i];
  }
  return out;
}

std::optional<std::string> replaceAllRegex(const re2::RE2& re, std::string_view text,
                                           std::string_view replacement,
                                           const ReplacementTransform& transform) {
  const int ngroups = re.NumberOfCapturingGroups() + 1;
  // Groups on the stack for the usual few; replace_pattern runs on every item.
  constexpr int kInline = 10;
  std::array<re2::StringPiece, kInline> inline_groups;
  std::vector<re2::StringPiece> heap_groups;
  re2::StringPiece* groups = inline_groups.data();
  if (ngroups > kInline) {
    heap_groups.resize(static_cast<size_t>(ngroups));
    groups = heap_groups.data();
  }
  const bool plain_replacement = replacement.find('$') == std::string_view::npos;
  const bool transforms = transform.hash || !transform.format.empty();
  std::string out;
  size_t pos = 0;     // next byte of `text` not yet copied or replaced
  size_t search = 0;  // where the next match may start
  size_t last_end = std::string_view::npos;
  bool any = false;
  const re2::StringPiece input(text.data(), text.size());
  while (search <= text.size()) {
    // Only the whole match is needed when the replacement refers to no group.
    const int wanted = plain_replacement ? 1 : ngroups;
    if (!re.Match(input, search, text.size(), re2::RE2::UNANCHORED, groups, wanted)) break;
    const size_t start = static_cast<size_t>(groups[0].data() - text.data());
    const size_t end = start + groups[0].size();
    if (start == end && start == last_end) {
      // An empty match right after the previous one: Go skips it.
      if (start >= text.size()) break;
      search = start + utf8Width(text, start);
      continue;
    }
    if (!any) out.reserve(text.size() + replacement.size());
    any = true;
    out.append(text.substr(pos, start - pos));
    if (plain_replacement && !transforms) {
      out.append(replacement);
    } else {
      std::string expanded;
      if (plain_replacement) {
        expanded = replacement;
      } else {
        expand(re, replacement, groups, static_cast<size_t>(ngroups), expanded);
      }
      out += transforms ? transformReplacement(expanded, transform) : expanded;
    }
    pos = end;
    last_end = end;
    if (start == end) {
      if (start >= text.size()) break;
      const size_t w = utf8Width(text, start);
      out.append(text.substr(start, w));
      pos = start + w;
      search = pos;
    } else {
      search = end;
    }
  }
  if (!any) return std::nullopt;
  if (pos < text.size()) out.append(text.substr(pos));
  return out;
}

namespace {

// Matches a [...] class at p[i] (i after '['); sets `next` after ']'.
bool classMatch(std::string_view p, size_t i, char c, size_t& next) {
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) hi = p[++i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
    ++i;
  }
  next = i + 1;
  return matched != negate;
}

}  // namespace

bool globMatch(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      const char pc = p[pi];
      if (pc == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        si += utf8Width(s, si);
        continue;
      }
      if (pc == '[') {
        size_t next;
        if (classMatch(p, pi + 1, s[si], next)) {
          pi = next;
          ++si;
          continue;
        }
      } else {
        char lit = pc;
        size_t adv = 1;
        if (pc == '\\' && pi + 1 < p.size()) {
          lit = p[pi + 1];
          adv = 2;
        }
        if (lit == s[si]) {
          pi += adv;
          ++si;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::string toSnakeCase(std::string_view in) {
  size_t b = 0, e = in.size();
  while (b < e && std::isspace(static_cast<unsigned char>(in[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(in[e - 1]))) --e;
  const std::string_view s = in.substr(b, e - b);
  std::string n;
  auto isCap = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto isLow = [](char c) { return c >= 'a' && c <= 'z'; };
  auto isNum = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < s.size(); ++i) {
    char v = s[i];
    const bool v_cap = isCap(v), v_low = isLow(v), v_num = isNum(v);
    if (v_cap) v = static_cast<char>(v - 'A' + 'a');
    if (i + 1 < s.size()) {
      const char next = s[i + 1];
      const bool n_cap = isCap(next), n_low = isLow(next), n_num = isNum(next);
      if ((v_cap && (n_low || n_num)) || (v_low && (n_cap || n_num)) ||
          (v_num && (n_cap || n_low))) {
        if (v_cap && n_low && i > 0 && isCap(s[i - 1])) n += '_';
        n += v;
        if (v_low || v_num || n_num) n += '_';
        continue;
      }
    }
    if (v == ' ' || v == '_' || v == '-' || v == '.') {
      n += '_';
    } else {
      n += v;
    }
  }
  return n;
}

std::string toCamelCase(std::string_view in) {
  size_t b = 0, e = in.size();
  while (b < e && std::isspace(static_cast<unsigned char>(in[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(in[e - 1]))) --e;
  const std::string_view s = in.substr(b, e - b);
  std::string n;
  bool cap_next = true;
  bool prev_cap = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char v = s[i];
    const bool v_cap = v >= 'A' && v <= 'Z';
    const bool v_low = v >= 'a' && v <= 'z';
    if (cap_next) {
      if (v_low) v = static_cast<char>(v - 'a' + 'A');
    } else if (prev_cap && v_cap) {
      v = static_cast<char>(v - 'A' + 'a');
    }
    prev_cap = v_cap;
    if (v_cap || v_low) {
      n += v;
      cap_next = false;
    } else if (v >= '0' && v <= '9') {
      n += v;
      cap_next = true;
    } else {
      cap_next = v == '_' || v == ' ' || v == '-' || v == '.';
    }
  }
  return n;
}

absl::StatusOr<int64_t> parseGoDuration(std::string_view text) {
  const std::string original(text);
  auto invalid = [&] {
    return absl::InvalidArgumentError(strCat("invalid duration \"", original, "\""));
  };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return 0;
  if (text.empty()) return invalid();
  double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == 0) return invalid();
    const std::string number(text.substr(0, i));
    if (number == ".") return invalid();
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !((text[u] >= '0' && text[u] <= '9') || text[u] == '.')) ++u;
    const std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    double scale;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else if (unit.empty()) {
      return absl::InvalidArgumentError(strCat("missing unit in duration \"", original, "\""));
    } else {
      return absl::InvalidArgumentError(
          strCat("unknown unit \"", unit, "\" in duration \"", original, "\""));
    }
    total += std::strtod(number.c_str(), nullptr) * scale;
  }
  if (total > 9.223372036854775e18) return invalid();
  const auto nanos = static_cast<int64_t>(std::llround(total));
  return negative ? -nanos : nanos;
}

std::string hexLower(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::optional<std::string> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return hexLower(std::string_view(reinterpret_cast<const char*>(digest), size));
}

namespace {

absl::Status fromJson(simdjson::dom::element e, otlp::Value& out, int depth) {
  if (depth > otlp::kMaxValueDepth) {
    return absl::InvalidArgumentError("JSON nested too deeply");
  }
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      otlp::Value::Map map;
      for (auto field : simdjson::dom::object(e)) {
        otlp::Value v;
        if (absl::Status s = fromJson(field.value, v, depth + 1); !s.ok()) return s;
        map.emplace_back(std::string(field.key), std::move(v));
      }
      out = otlp::Value::ofMap(std::move(map));
      return absl::OkStatus();
    }
    case simdjson::dom::element_type::ARRAY: {
      otlp::Value::Array array;
      for (auto item : simdjson::dom::array(e)) {
        otlp::Value v;
        if (absl::Status s = fromJson(item, v, depth + 1); !s.ok()) return s;
        array.push_back(std::move(v));
      }
      out = otlp::Value::ofArray(std::move(array));
      return absl::OkStatus();
    }
    case simdjson::dom::element_type::STRING:
      out = otlp::Value::ofString(std::string(std::string_view(e)));
      return absl::OkStatus();
    case simdjson::dom::element_type::INT64:
      out = otlp::Value::ofDouble(static_cast<double>(int64_t(e)));
      return absl::OkStatus();
    case simdjson::dom::element_type::UINT64:
      out = otlp::Value::ofDouble(static_cast<double>(uint64_t(e)));
      return absl::OkStatus();
    case simdjson::dom::element_type::DOUBLE:
      out = otlp::Value::ofDouble(double(e));
      return absl::OkStatus();
    case simdjson::dom::element_type::BOOL:
      out = otlp::Value::ofBool(bool(e));
      return absl::OkStatus();
    case simdjson::dom::element_type::NULL_VALUE:
      out = otlp::Value();
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unexpected JSON value");
}

}  // namespace

absl::StatusOr<otlp::Value> parseJsonValue(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        strCat("ParseJSON: invalid JSON: ", simdjson::error_message(error)));
  }
  if (root.type() != simdjson::dom::element_type::OBJECT &&
      root.type() != simdjson::dom::element_type::ARRAY) {
    return absl::InvalidArgumentError("ParseJSON: the JSON is neither an object nor an array");
  }
  otlp::Value out;
  if (absl::Status s = fromJson(root, out, 0); !s.ok()) return s;
  return out;
}

}  // namespace otlpd::ottl
