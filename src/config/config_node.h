// Reading component configs out of YAML with errors that name where they are. Every getter
// records a path-qualified error (with line:column when the YAML came from a file) instead of
// failing fast, so one run reports every mistake at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace otlpd::config {

struct ConfigError {
  std::string path;  // e.g. "receivers.otlp.protocols.grpc.endpoint"
  int line = -1;     // 1-based; -1 when the value did not come from a file
  int column = -1;
  std::string message;

  std::string toString() const;
};

class ConfigErrors {
 public:
  void add(std::string path, const YAML::Mark& mark, std::string message);
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<ConfigError>& all() const { return errors_; }
  // All errors, one per line, in the order found.
  std::string toString() const;
  absl::Status toStatus() const;

 private:
  std::vector<ConfigError> errors_;
};

// A view of one YAML mapping plus the path that leads to it.
class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string path, ConfigErrors& errors);

  const std::string& path() const { return path_; }
  ConfigErrors& errors() { return *errors_; }
  const YAML::Node& yaml() const { return node_; }
  bool has(std::string_view key) const;

  std::string getString(std::string_view key, std::string default_value);
  int64_t getInt(std::string_view key, int64_t default_value, int64_t min = INT64_MIN,
                 int64_t max = INT64_MAX);
  double getDouble(std::string_view key, double default_value);
  bool getBool(std::string_view key, bool default_value);
  // Go-style durations as the Collector writes them: "200ms", "5s", "1m30s"; a bare integer is
  // taken as seconds.
  absl::Duration getDuration(std::string_view key, absl::Duration default_value);
  std::vector<std::string> getStringList(std::string_view key);
  // A list of mappings (e.g. the `actions` of the attributes processor), each a ConfigNode whose
  // path ends in its index ("actions[2]"); absent or null gives none.
  std::vector<ConfigNode> getMappingList(std::string_view key);
  // The YAML under `key` whatever its type (e.g. an attribute value a user writes as a string, a
  // number, a bool, a list or a map); nullopt when absent or null.
  std::optional<YAML::Node> getYaml(std::string_view key);
  // A nested mapping; absent or null gives an empty one.
  ConfigNode child(std::string_view key);
  // Records an error for every key of this mapping that no getter asked for.
  void rejectUnknownKeys();

  void addError(std::string_view key, std::string message);

 private:
  // The value under `key`, or nullopt when absent or null.
  std::optional<YAML::Node> lookup(std::string_view key);
  std::string keyPath(std::string_view key) const;

  YAML::Node node_;
  std::string path_;
  ConfigErrors* errors_;
  std::set<std::string, std::less<>> used_;
};

absl::StatusOr<absl::Duration> parseDuration(std::string_view text);

}  // namespace otlpd::config
