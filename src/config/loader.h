// Where a running config comes from: the embedded default or --config files (merged in order),
// then --set overrides, as with the Collector's command line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace otlpd::config {

// Parses YAML text; a syntax error names the source and line:column.
absl::StatusOr<YAML::Node> parseYaml(std::string_view text, std::string_view source_name);

// Loads and deep-merges the files (later files win; lists are replaced, maps merged). With no
// files, the embedded default.
absl::StatusOr<YAML::Node> loadConfig(const std::vector<std::string>& files,
                                      std::string_view default_yaml);

// Applies "a.b.c=value" (value parsed as YAML) to the tree, creating maps on the way.
absl::Status applySet(YAML::Node& root, std::string_view assignment);

// Expands environment references in every scalar value, as the Collector does: ${env:VAR},
// ${VAR}, ${env:VAR:-default} (default when unset or empty), and $$ for a literal $. An unset
// variable without a default becomes empty. Keys are not expanded.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
absl::Status expandEnv(YAML::Node& root, const EnvLookup& lookup);
// The process environment.
std::optional<std::string> processEnv(const std::string& name);

// Deep merge of `overlay` onto a copy of `base`.
YAML::Node mergeYaml(const YAML::Node& base, const YAML::Node& overlay);

}  // namespace otlpd::config
