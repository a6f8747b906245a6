#include "processors/resourcedetection/detectors.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace otlpd::processors::resourcedetection {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hexDigit(s[i + 1]);
    const int lo = hexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

void put(DetectedAttributes& attrs, std::string key, otlp::Value value) {
  for (auto& [k, v] : attrs) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  attrs.emplace_back(std::move(key), std::move(value));
}

}  // namespace

absl::StatusOr<DetectedAttributes> parseResourceAttributes(std::string_view text) {
  DetectedAttributes attrs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view member = trim(text.substr(start, end - start));
    start = end + 1;
    // An empty member (a trailing comma, an empty variable) carries nothing.
    if (member.empty()) continue;
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(strCat("'", member, "' is not key=value"));
    }
    const std::string_view key = trim(member.substr(0, eq));
    if (key.empty()) return absl::InvalidArgumentError(strCat("'", member, "' has an empty key"));
    std::optional<std::string> value = percentDecode(trim(member.substr(eq + 1)));
    if (!value) {
      return absl::InvalidArgumentError(
          strCat("the value of '", key, "' has an invalid percent-encoding"));
    }
    put(attrs, std::string(key), otlp::Value::ofString(std::move(*value)));
  }
  return attrs;
}

absl::StatusOr<DetectedAttributes> detectEnv(std::optional<std::string_view> resource_attributes,
                                             std::optional<std::string_view> service_name) {
  DetectedAttributes attrs;
  if (resource_attributes) {
    absl::StatusOr<DetectedAttributes> parsed = parseResourceAttributes(*resource_attributes);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          strCat("OTEL_RESOURCE_ATTRIBUTES is invalid: ", parsed.status().message()));
    }
    attrs = *std::move(parsed);
  }
  if (service_name && !trim(*service_name).empty()) {
    put(attrs, "service.name", otlp::Value::ofString(std::string(trim(*service_name))));
  }
  return attrs;
}

bool isSystemAttributeDetected(std::string_view name) {
  return name == "host.name" || name == "host.id" || name == "host.arch" || name == "os.type" ||
         name == "os.description";
}

std::string hostArch(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64" || machine == "armv8l") return "arm64";
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    return "x86";
  }
  if (machine.substr(0, 3) == "arm") return "arm32";
  if (machine == "ppc64" || machine == "ppc64le") return "ppc64";
  if (machine == "ppc" || machine == "ppcle") return "ppc32";
  if (machine == "ia64") return "ia64";
  return std::string(machine);  // s390x, riscv64...: as the kernel names them
}

std::optional<std::string> osReleaseName(std::string_view os_release) {
  std::optional<std::string> pretty, name, version;
  size_t start = 0;
  while (start < os_release.size()) {
    size_t end = os_release.find('\n', start);
    if (end == std::string_view::npos) end = os_release.size();
    std::string_view line = trim(os_release.substr(start, end - start));
    start = end + 1;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.front() == '#') continue;
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "PRETTY_NAME") pretty = std::string(value);
    if (key == "NAME") name = std::string(value);
    if (key == "VERSION") version = std::string(value);
  }
  if (pretty && !pretty->empty()) return pretty;
  if (name && !name->empty()) return version ? strCat(*name, " ", *version) : *name;
  return std::nullopt;
}

std::string osDescription(const SystemFacts& facts) {
  std::string uname = strCat(facts.sysname, " ", facts.nodename, " ", facts.release, " ",
                             facts.version, " ", facts.machine);
  std::optional<std::string> release =
      facts.os_release ? osReleaseName(*facts.os_release) : std::nullopt;
  if (release) return strCat(*release, " (", uname, ")");
  return uname;
}

absl::StatusOr<DetectedAttributes> detectSystem(const SystemFacts& facts,
                                                const SystemConfig& config) {
  std::optional<std::string> hostname;
  for (const std::string& source : config.hostname_sources) {
    const std::optional<std::string>& candidate = source == "dns" ? facts.fqdn : facts.os_hostname;
    if (candidate && !candidate->empty()) {
      hostname = candidate;
      break;
    }
  }
  if (!hostname) {
    return absl::UnavailableError(strCat("all hostname sources (",
                                         absl::StrJoin(config.hostname_sources, ", "),
                                         ") failed to give a hostname"));
  }
  auto enabled = [&](std::string_view name) { return config.enabled.count(name) != 0; };
  DetectedAttributes attrs;
  if (enabled("host.name")) attrs.emplace_back("host.name", otlp::Value::ofString(*hostname));
  if (enabled("host.id") && facts.machine_id && !facts.machine_id->empty()) {
    attrs.emplace_back("host.id", otlp::Value::ofString(*facts.machine_id));
  }
  if (enabled("host.arch") && !facts.machine.empty()) {
    attrs.emplace_back("host.arch", otlp::Value::ofString(hostArch(facts.machine)));
  }
  if (enabled("os.description")) {
    attrs.emplace_back("os.description", otlp::Value::ofString(osDescription(facts)));
  }
  if (enabled("os.type")) {
    std::string os_type = absl::AsciiStrToLower(facts.sysname.empty() ? "linux" : facts.sysname);
    attrs.emplace_back("os.type", otlp::Value::ofString(std::move(os_type)));
  }
  return attrs;
}

DetectedAttributes mergeDetected(const std::vector<DetectedAttributes>& results) {
  DetectedAttributes merged;
  for (const DetectedAttributes& result : results) {
    for (const auto& attribute : result) {
      // Not a structured binding: clang 14 (the sanitizer and fuzz builds) cannot capture one.
      const auto& key = attribute.first;
      const bool present = std::any_of(merged.begin(), merged.end(),
                                       [&](const auto& entry) { return entry.first == key; });
      if (!present) merged.push_back(attribute);
    }
  }
  return merged;
}

bool applyDetected(const DetectedAttributes& detected, bool override,
                   otlp::AttributeList& attributes) {
  bool changed = false;
  for (const auto& [key, value] : detected) {
    std::optional<size_t> index = attributes.find(key);
    if (!index) {
      attributes.append(key, value);
      changed = true;
    } else if (override && !(attributes.value(*index) == value)) {
      attributes.set(*index, value);
      changed = true;
    }
  }
  return changed;
}

}  // namespace otlpd::processors::resourcedetection
