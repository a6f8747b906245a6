#include "config/loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace otlpd::config {

absl::StatusOr<YAML::Node> parseYaml(std::string_view text, std::string_view source_name) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (node.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!node.IsMap()) {
      return absl::InvalidArgumentError(strCat(source_name, ": the top level must be a mapping"));
    }
    return node;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        strCat(source_name, " (line ", e.mark.line + 1, ":", e.mark.column + 1, "): ", e.msg));
  }
}

YAML::Node mergeYaml(const YAML::Node& base, const YAML::Node& overlay) {
  if (!base.IsMap() || !overlay.IsMap()) return YAML::Clone(overlay);
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : overlay) {
    const std::string key = kv.first.Scalar();
    const YAML::Node existing = out[key];
    if (existing.IsDefined() && existing.IsMap() && kv.second.IsMap()) {
      out[key] = mergeYaml(existing, kv.second);
    } else {
      out[key] = YAML::Clone(kv.second);
    }
  }
  return out;
}

absl::StatusOr<YAML::Node> loadConfig(const std::vector<std::string>& files,
                                      std::string_view default_yaml) {
  if (files.empty()) return parseYaml(default_yaml, "embedded default config");
  YAML::Node merged(YAML::NodeType::Map);
  for (const std::string& path : files) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(strCat("cannot read config file ", path));
    std::stringstream text;
    text << in.rdbuf();
    auto node = parseYaml(text.str(), path);
    if (!node.ok()) return node.status();
    merged = mergeYaml(merged, *node);
  }
  return merged;
}

absl::Status applySet(YAML::Node& root, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        strCat("--set '", assignment, "' must look like key.path=value"));
  }
  std::vector<std::string> keys = absl::StrSplit(toAbsl(assignment.substr(0, eq)), '.');
  auto value = [&]() -> absl::StatusOr<YAML::Node> {
    try {
      return YAML::Load(std::string(assignment.substr(eq + 1)));
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(strCat("--set '", assignment, "': ", e.msg));
    }
  }();
  if (!value.ok()) return value.status();
  YAML::Node overlay = *value;
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    if (it->empty()) {
      return absl::InvalidArgumentError(strCat("--set '", assignment, "' has an empty key"));
    }
    YAML::Node wrapper(YAML::NodeType::Map);
    wrapper[*it] = overlay;
    overlay = wrapper;
  }
  root = mergeYaml(root, overlay);
  return absl::OkStatus();
}

}  // namespace otlpd::config
