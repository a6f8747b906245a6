#include "prometheus/otel_names.h"

#include <array>
#include <utility>
#include <vector>

namespace otlpd::prometheus {
namespace {

// OTLP (UCUM c/s) units and the words Prometheus names use for them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 26> kUnits = {{
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
}};

// The unit below a '/': singular.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kPerUnits = {{
    {"s", "second"},
    {"m", "minute"},
    {"h", "hour"},
    {"d", "day"},
    {"w", "week"},
    {"mo", "month"},
    {"y", "year"},
}};

template <size_t N>
std::string_view lookup(const std::array<std::pair<std::string_view, std::string_view>, N>& table,
                        std::string_view key) {
  for (const auto& [k, v] : table) {
    if (k == key) return v;
  }
  return key;
}

std::string_view trimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isAlnumOrColon(char c) {
  return isMetricNameChar(c) && c != '_';
}

// Splits on every character outside [a-zA-Z0-9:] (runs of them, underscores included, separate
// two tokens; leading and trailing ones vanish).
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !isAlnumOrColon(s[i])) ++i;
    const size_t start = i;
    while (i < s.size() && isAlnumOrColon(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Whether `needle` (tokens) occurs in `hay` as consecutive tokens.
bool containsRun(const std::vector<std::string_view>& hay,
                 const std::vector<std::string_view>& needle) {
  if (needle.empty() || needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    bool all = true;
    for (size_t j = 0; j < needle.size() && all; ++j) all = hay[i + j] == needle[j];
    if (all) return true;
  }
  return false;
}

void removeAll(std::vector<std::string_view>& v, std::string_view word) {
  std::erase(v, word);
}

// Main and per unit words ("bytes", "second"); empty where the unit has none or only an
// annotation in braces.
std::pair<std::string_view, std::string_view> unitWords(std::string_view unit) {
  const size_t slash = unit.find('/');
  std::string_view main = trimSpace(unit.substr(0, slash));
  std::string_view per =
      slash == std::string_view::npos ? std::string_view() : trimSpace(unit.substr(slash + 1));
  auto annotated = [](std::string_view u) {
    return u.find_first_of("{}") != std::string_view::npos;
  };
  std::string_view main_word = main.empty() || annotated(main) ? "" : lookup(kUnits, main);
  std::string_view per_word = per.empty() || annotated(per) ? "" : lookup(kPerUnits, per);
  return {main_word, per_word};
}

}  // namespace

std::string unitSuffix(std::string_view unit) {
  auto [main, per] = unitWords(unit);
  std::vector<std::string_view> parts = tokens(main);
  if (!per.empty()) {
    std::vector<std::string_view> per_tokens = tokens(per);
    if (!per_tokens.empty()) {
      parts.push_back("per");
      parts.insert(parts.end(), per_tokens.begin(), per_tokens.end());
    }
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out.push_back('_');
    out.append(p);
  }
  return out;
}

std::string metricName(std::string_view otel_name, std::string_view unit, MetricKind kind,
                       bool monotonic, const NameOptions& options) {
  std::string out;
  if (!options.add_suffixes) {
    // Only invalid characters go (a run of them becomes one '_').
    out.reserve(options.name_space.size() + otel_name.size() + 1);
    if (!options.name_space.empty()) {
      out.append(options.name_space);
      out.push_back('_');
    }
    const size_t base = out.size();
    bool pending = false;
    for (char c : otel_name) {
      if (isMetricNameChar(c)) {
        if (pending && out.size() > base) out.push_back('_');
        pending = false;
        out.push_back(c);
      } else {
        pending = true;
      }
    }
    if (options.name_space.empty() && out.size() > base && out[base] >= '0' && out[base] <= '9') {
      out.insert(out.begin(), '_');
    }
    return out;
  }

  std::vector<std::string_view> name = tokens(otel_name);
  auto [main_word, per_word] = unitWords(unit);
  const std::vector<std::string_view> main_tokens = tokens(main_word);
  std::vector<std::string_view> per_tokens = tokens(per_word);
  if (!per_tokens.empty()) per_tokens.insert(per_tokens.begin(), "per");
  // A suffix the name already carries is not repeated ("http.server.duration.seconds", "s").
  if (!main_tokens.empty() && !containsRun(name, main_tokens)) {
    name.insert(name.end(), main_tokens.begin(), main_tokens.end());
  }
  if (!per_tokens.empty() && !containsRun(name, per_tokens)) {
    name.insert(name.end(), per_tokens.begin(), per_tokens.end());
  }
  if (kind == MetricKind::kSum && monotonic) {
    removeAll(name, "total");
    name.push_back("total");
  }
  if (kind == MetricKind::kGauge && unit == "1") {
    removeAll(name, "ratio");
    name.push_back("ratio");
  }
  if (!options.name_space.empty()) name.insert(name.begin(), options.name_space);
  for (std::string_view t : name) {
    if (!out.empty()) out.push_back('_');
    out.append(t);
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

bool isPlainLabelName(std::string_view key) {
  if (key.empty()) return false;
  if (key[0] >= '0' && key[0] <= '9') return false;
  if (key[0] == '_' && (key.size() < 2 || key[1] != '_')) return false;
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string labelName(std::string_view key) {
  if (isPlainLabelName(key) || key.empty()) return std::string(key);
  std::string out;
  out.reserve(key.size() + 4);
  for (size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x80) {
      // One '_' per character, not per byte: UTF-8 continuation bytes add nothing.
      if ((c & 0xC0) != 0x80) out.push_back('_');
      continue;
    }
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? static_cast<char>(c) : '_');
  }
  if (out[0] >= '0' && out[0] <= '9') {
    out.insert(0, "key_");
  } else if (out[0] == '_' && (out.size() < 2 || out[1] != '_')) {
    out.insert(0, "key");
  }
  return out;
}

}  // namespace otlpd::prometheus
