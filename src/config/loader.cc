#include "config/loader.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace otlpd::config {

namespace {

// Every walk of a config (env expansion, merging, building) recurses through its tree, in which
// an alias is the node it names again. An alias inside the node it names makes the tree endless,
// and aliases of aliases grow it exponentially ("billion laughs"), so a document is refused when
// its tree, aliases expanded, is deeper or larger than any config needs.
constexpr int kMaxConfigDepth = 64;
constexpr size_t kMaxConfigNodes = 200'000;

absl::Status checkShape(const YAML::Node& node, int depth, size_t& nodes) {
  if (++nodes > kMaxConfigNodes) {
    return absl::InvalidArgumentError(
        strCat("more than ", kMaxConfigNodes, " nodes once aliases are expanded"));
  }
  if (depth > kMaxConfigDepth) {
    return absl::InvalidArgumentError(
        strCat("nested deeper than ", kMaxConfigDepth,
               " levels (or an alias refers to a node that contains it)"));
  }
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (absl::Status s = checkShape(kv.first, depth + 1, nodes); !s.ok()) return s;
      if (absl::Status s = checkShape(kv.second, depth + 1, nodes); !s.ok()) return s;
    }
  } else if (node.IsSequence()) {
    for (const auto& child : node) {
      if (absl::Status s = checkShape(child, depth + 1, nodes); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status checkShape(const YAML::Node& node, std::string_view source_name) {
  size_t nodes = 0;
  absl::Status s = checkShape(node, 0, nodes);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(strCat(source_name, ": ", s.message()));
}

}  // namespace

absl::StatusOr<YAML::Node> parseYaml(std::string_view text, std::string_view source_name) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    if (absl::Status s = checkShape(node, source_name); !s.ok()) return s;
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
  if (!base.IsMap() || !overlay.IsMap()) return overlay;
  // Builds a new map that refers to the inputs' nodes instead of cloning them: yaml-cpp's Clone
  // drops source positions, and errors must still point at the file's line and column.
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : base) out[kv.first] = kv.second;
  for (const auto& kv : overlay) {
    // Node keys are looked up by identity, string keys by value: a key the base has is
    // replaced through its string, a new one is added with its own node (and position).
    const std::string key = kv.first.Scalar();
    const YAML::Node existing = base[key];
    if (!existing.IsDefined()) {
      out[kv.first] = kv.second;
    } else if (existing.IsMap() && kv.second.IsMap()) {
      out[key] = mergeYaml(existing, kv.second);
    } else {
      out[key] = kv.second;
    }
  }
  return out;
}

namespace {

bool validEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> expandScalar(std::string_view text, const EnvLookup& lookup) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    if (dollar + 1 < text.size() && text[dollar + 1] == '$') {
      out.push_back('$');
      i = dollar + 2;
      continue;
    }
    if (dollar + 1 >= text.size() || text[dollar + 1] != '{') {
      out.push_back('$');
      i = dollar + 1;
      continue;
    }
    const size_t close = text.find('}', dollar);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          strCat("unterminated '${' in '", text, "' (write $$ for a literal $)"));
    }
    std::string_view ref = text.substr(dollar + 2, close - dollar - 2);
    if (ref.starts_with("env:")) ref.remove_prefix(4);
    std::string_view fallback;
    bool has_fallback = false;
    if (const size_t sep = ref.find(":-"); sep != std::string_view::npos) {
      fallback = ref.substr(sep + 2);
      ref = ref.substr(0, sep);
      has_fallback = true;
    }
    if (!validEnvName(ref)) {
      return absl::InvalidArgumentError(
          strCat("'${", text.substr(dollar + 2, close - dollar - 2),
                 "}' is not an environment reference (use ${env:NAME} or ${env:NAME:-default})"));
    }
    std::optional<std::string> value = lookup(std::string(ref));
    if ((!value || value->empty()) && has_fallback) {
      out.append(fallback);
    } else if (value) {
      out.append(*value);
    }
    i = close + 1;
  }
  return out;
}

absl::Status expandNode(YAML::Node node, const std::string& path, const EnvLookup& lookup) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find('$') == std::string::npos) return absl::OkStatus();
    auto expanded = expandScalar(text, lookup);
    if (!expanded.ok()) {
      return absl::InvalidArgumentError(strCat(path, " (line ", node.Mark().line + 1, ":",
                                               node.Mark().column + 1,
                                               "): ", expanded.status().message()));
    }
    node = *expanded;
    return absl::OkStatus();
  }
  if (node.IsMap()) {
    for (auto kv : node) {
      const std::string child =
          path.empty() ? kv.first.Scalar() : strCat(path, ".", kv.first.Scalar());
      if (absl::Status s = expandNode(kv.second, child, lookup); !s.ok()) return s;
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (absl::Status s = expandNode(node[i], strCat(path, "[", i, "]"), lookup); !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> processEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

absl::Status expandEnv(YAML::Node& root, const EnvLookup& lookup) {
  return expandNode(root, "", lookup);
}

absl::StatusOr<YAML::Node> loadConfig(const std::vector<std::string>& files,
                                      std::string_view default_yaml) {
  if (files.empty()) return parseYaml(default_yaml, "embedded default config");
  YAML::Node merged;
  for (const std::string& path : files) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(strCat("cannot read config file ", path));
    std::stringstream text;
    text << in.rdbuf();
    auto node = parseYaml(text.str(), path);
    if (!node.ok()) return node.status();
    merged = merged.IsDefined() && merged.IsMap() ? mergeYaml(merged, *node) : *node;
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
  if (absl::Status s = checkShape(*value, strCat("--set '", assignment, "'")); !s.ok()) return s;
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
