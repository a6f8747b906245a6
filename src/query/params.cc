#include "query/params.h"

#include <cctype>
#include <charconv>
#include <limits>

#include "common/strings.h"
#include "query/jaeger_json.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<int64_t> parseInt(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max() / 1000 - 1;

}  // namespace

std::string urlDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::optional<int64_t> parseRfc3339Nanos(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    if (pos + n > t.size()) return std::nullopt;
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t fraction_ns = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    const size_t begin = pos;
    int64_t scale = 100000000;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
      fraction_ns += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == begin) return std::nullopt;
  }
  if (pos >= t.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (t[pos] == 'Z' || t[pos] == 'z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= t.size() || t[pos + 3] != ':' || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset_s = (*oh * 3600 + *om * 60) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  const int64_t days = daysFromCivil(*year, *month, *day);
  const int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_s;
  if (seconds < -9000000000LL || seconds > 9000000000LL) return std::nullopt;
  return seconds * 1000000000 + fraction_ns;
}

std::optional<int32_t> parseSeverity(std::string_view text) {
  if (auto n = parseInt(text)) {
    if (*n >= 1 && *n <= 24) return static_cast<int32_t>(*n);
    return std::nullopt;
  }
  std::string upper;
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  static constexpr std::pair<std::string_view, int32_t> kLevels[] = {
      {"TRACE", 1},    {"DEBUG", 5},  {"INFO", 9},  {"WARN", 13},
      {"WARNING", 13}, {"ERROR", 17}, {"FATAL", 21}};
  for (const auto& [name, number] : kLevels) {
    if (upper == name) return number;
  }
  return std::nullopt;
}

Params::Params(std::string_view query) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string key = urlDecode(part.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : urlDecode(part.substr(eq + 1), true);
    values_.emplace(std::move(key), std::move(value));
  }
}

void Params::fail(std::string_view name, std::string_view value, std::string_view why) {
  if (!error_.empty()) return;
  // Echo at most a short prefix of the value: answers must stay small whatever is sent.
  constexpr size_t kMaxEcho = 80;
  std::string shown(value.substr(0, kMaxEcho));
  if (value.size() > kMaxEcho) shown += "...";
  auto written = written_as_.find(name);
  const std::string_view shown_name = written == written_as_.end() ? name : written->second;
  error_ = strCat("malformed parameter '", shown_name, "': '", shown, "' ", why);
}

std::optional<std::string> Params::text(std::string_view name) const {
  asked_.emplace(name);
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Params::all(std::string_view name) const {
  asked_.emplace(name);
  std::vector<std::string> out;
  auto [first, last] = values_.equal_range(name);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

std::optional<bool> Params::boolean(std::string_view name) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  fail(name, *v, "is not true or false");
  return std::nullopt;
}

void Params::alias(std::string_view name, std::string_view old_name) {
  asked_.emplace(old_name);
  if (values_.find(name) != values_.end()) return;
  auto [first, last] = values_.equal_range(old_name);
  std::vector<std::string> moved;
  for (auto it = first; it != last; ++it) moved.push_back(it->second);
  for (std::string& v : moved) values_.emplace(std::string(name), std::move(v));
  if (!moved.empty()) written_as_[std::string(name)] = std::string(old_name);
}

void Params::rejectUnknown() {
  if (!error_.empty()) return;
  for (const auto& [key, value] : values_) {
    if (asked_.count(key) != 0) continue;
    constexpr size_t kMaxEcho = 80;
    std::string shown(std::string_view(key).substr(0, kMaxEcho));
    if (key.size() > kMaxEcho) shown += "...";
    error_ = strCat("unknown parameter '", shown, "'");
    return;
  }
}

std::optional<int64_t> Params::integer(std::string_view name, int64_t min, int64_t max) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  auto n = parseInt(*v);
  if (!n || *n < min || *n > max) {
    fail(name, *v, strCat("is not an integer between ", min, " and ", max));
    return std::nullopt;
  }
  return n;
}

std::optional<int64_t> Params::micros(std::string_view name) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  auto n = parseInt(*v);
  if (!n || *n < 0 || *n > kMaxMicros) {
    fail(name, *v, "is not a time in microseconds since the Unix epoch");
    return std::nullopt;
  }
  return n;
}

std::optional<int64_t> Params::duration(std::string_view name) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  auto d = parseDurationMicros(*v);
  if (!d || *d > kMaxMicros) {
    fail(name, *v, "is not a duration like 1.5s, 100ms or 1h");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> Params::rfc3339(std::string_view name) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  auto t = parseRfc3339Nanos(*v);
  if (!t) {
    fail(name, *v, "is not an RFC 3339 time like 2024-01-02T03:04:05Z");
    return std::nullopt;
  }
  return t;
}

std::vector<std::pair<std::string, std::string>> Params::tags(std::string_view name) {
  std::vector<std::pair<std::string, std::string>> out;
  auto v = text(name);
  if (!v || !ok()) return out;
  json tags = json::parse(*v, nullptr, /*allow_exceptions=*/false);
  if (tags.is_discarded() || !tags.is_object()) {
    fail(name, *v, "is not a JSON object like {\"http.status_code\":\"500\"}");
    return out;
  }
  for (auto& [key, value] : tags.items()) {
    out.emplace_back(key, value.is_string() ? value.get<std::string>() : dumpJson(value));
  }
  return out;
}

std::optional<int32_t> Params::severity(std::string_view name) {
  auto v = text(name);
  if (!v || !ok()) return std::nullopt;
  auto s = parseSeverity(*v);
  if (!s) {
    fail(name, *v, "is not a severity number 1..24 or TRACE, DEBUG, INFO, WARN, ERROR, FATAL");
  }
  return s;
}

TimeWindow readTimeWindow(Params& params, int64_t now_unix_micros, int64_t default_lookback_us) {
  TimeWindow w{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  const std::optional<int64_t> end = params.micros("end");
  std::optional<int64_t> start = params.micros("start");
  std::optional<int64_t> lookback;
  if (params.text("lookback") != "custom") lookback = params.duration("lookback");
  if (!params.ok()) return w;
  if (!start && !lookback && default_lookback_us > 0) lookback = default_lookback_us;
  if (!start && lookback) start = std::max<int64_t>(0, end.value_or(now_unix_micros) - *lookback);
  if (start) w.start_unix_nano = *start * 1000;
  // `end` is inclusive (Jaeger's); the store's end is exclusive.
  if (end) w.end_unix_nano = *end * 1000 + 1000;
  if (start && end && *start > *end) params.fail("start", std::to_string(*start), "is after 'end'");
  return w;
}

}  // namespace otlpd::query
