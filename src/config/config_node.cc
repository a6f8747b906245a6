#include "config/config_node.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"

namespace otlpd::config {

std::string ConfigError::toString() const {
  if (line >= 0) return strCat(path, " (line ", line, ":", column, "): ", message);
  return strCat(path, ": ", message);
}

void ConfigErrors::add(std::string path, const YAML::Mark& mark, std::string message) {
  ConfigError e;
  e.path = std::move(path);
  if (!mark.is_null()) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

std::string ConfigErrors::toString() const {
  std::vector<std::string> lines;
  lines.reserve(errors_.size());
  for (const auto& e : errors_) lines.push_back(e.toString());
  return absl::StrJoin(lines, "\n");
}

absl::Status ConfigErrors::toStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(toString());
}

ConfigNode::ConfigNode(YAML::Node node, std::string path, ConfigErrors& errors)
    : node_(std::move(node)), path_(std::move(path)), errors_(&errors) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    errors_->add(path_, node_.Mark(), "must be a mapping");
    node_ = YAML::Node(YAML::NodeType::Map);
  }
}

std::string ConfigNode::keyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : strCat(path_, ".", key);
}

bool ConfigNode::has(std::string_view key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node v = node_[std::string(key)];
  return v.IsDefined() && !v.IsNull();
}

std::optional<YAML::Node> ConfigNode::lookup(std::string_view key) {
  used_.emplace(key);
  const YAML::Node& node = node_;  // const: a lookup must never insert the key
  if (!node.IsMap()) return std::nullopt;
  YAML::Node v = node[std::string(key)];
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return v;
}

void ConfigNode::addError(std::string_view key, std::string message) {
  const YAML::Node& node = node_;
  YAML::Node v = node.IsMap() ? node[std::string(key)] : YAML::Node();
  errors_->add(keyPath(key), v.IsDefined() ? v.Mark() : node_.Mark(), std::move(message));
}

std::string ConfigNode::getString(std::string_view key, std::string default_value) {
  std::optional<YAML::Node> found = lookup(key);
  if (!found) return default_value;
  const YAML::Node& v = *found;
  if (!v.IsScalar()) {
    addError(key, "must be a string");
    return default_value;
  }
  return v.Scalar();
}

int64_t ConfigNode::getInt(std::string_view key, int64_t default_value, int64_t min, int64_t max) {
  std::optional<YAML::Node> found = lookup(key);
  if (!found) return default_value;
  const YAML::Node& v = *found;
  int64_t out = 0;
  const std::string& s = v.IsScalar() ? v.Scalar() : std::string();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (!v.IsScalar() || ec != std::errc() || ptr != s.data() + s.size()) {
    addError(key, strCat("must be an integer, got '", s, "'"));
    return default_value;
  }
  if (out < min || out > max) {
    addError(key, strCat("must be between ", min, " and ", max, ", got ", out));
    return default_value;
  }
  return out;
}

double ConfigNode::getDouble(std::string_view key, double default_value) {
  std::optional<YAML::Node> found = lookup(key);
  if (!found) return default_value;
  const YAML::Node& v = *found;
  double out = 0;
  if (!v.IsScalar() || !YAML::convert<double>::decode(v, out) || !std::isfinite(out)) {
    addError(key, "must be a number");
    return default_value;
  }
  return out;
}

bool ConfigNode::getBool(std::string_view key, bool default_value) {
  std::optional<YAML::Node> found = lookup(key);
  if (!found) return default_value;
  const YAML::Node& v = *found;
  bool out = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, out)) {
    addError(key, "must be true or false");
    return default_value;
  }
  return out;
}

absl::Duration ConfigNode::getDuration(std::string_view key, absl::Duration default_value) {
  std::optional<YAML::Node> found = lookup(key);
  if (!found) return default_value;
  const YAML::Node& v = *found;
  if (!v.IsScalar()) {
    addError(key, "must be a duration such as 200ms, 5s or 1m");
    return default_value;
  }
  auto d = parseDuration(v.Scalar());
  if (!d.ok()) {
    addError(key, std::string(d.status().message()));
    return default_value;
  }
  return *d;
}

std::vector<std::string> ConfigNode::getStringList(std::string_view key) {
  std::optional<YAML::Node> found = lookup(key);
  std::vector<std::string> out;
  if (!found) return out;
  const YAML::Node& v = *found;
  if (!v.IsSequence()) {
    addError(key, "must be a list");
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      errors_->add(strCat(keyPath(key), "[", i, "]"), v[i].Mark(), "must be a string");
      continue;
    }
    out.push_back(v[i].Scalar());
  }
  return out;
}

std::optional<YAML::Node> ConfigNode::getYaml(std::string_view key) {
  return lookup(key);
}

std::vector<ConfigNode> ConfigNode::getMappingList(std::string_view key) {
  std::optional<YAML::Node> found = lookup(key);
  std::vector<ConfigNode> out;
  if (!found) return out;
  const YAML::Node& v = *found;
  if (!v.IsSequence()) {
    addError(key, "must be a list");
    return out;
  }
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = strCat(keyPath(key), "[", i, "]");
    if (!v[i].IsMap()) {
      errors_->add(path, v[i].Mark(), "must be a mapping");
      continue;
    }
    out.emplace_back(v[i], path, *errors_);
  }
  return out;
}

ConfigNode ConfigNode::child(std::string_view key) {
  std::optional<YAML::Node> found = lookup(key);
  return ConfigNode(found ? *found : YAML::Node(YAML::NodeType::Map), keyPath(key), *errors_);
}

void ConfigNode::rejectUnknownKeys() {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (used_.find(key) == used_.end()) {
      errors_->add(keyPath(key), kv.first.Mark(), "unknown key");
    }
  }
}

absl::StatusOr<absl::Duration> parseDuration(std::string_view text) {
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && ptr == text.data() + text.size()) return absl::Seconds(seconds);
  absl::Duration d;
  // absl's syntax is Go's ("1h2m3.5s", "200ms", "1us"), which is what Collector configs use.
  if (!text.empty() && absl::ParseDuration(std::string(text), &d) && d >= absl::ZeroDuration()) {
    return d;
  }
  return absl::InvalidArgumentError(
      strCat("invalid duration '", text, "' (use e.g. 200ms, 5s, 1m30s)"));
}

}  // namespace otlpd::config
