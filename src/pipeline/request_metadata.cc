#include "pipeline/request_metadata.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"

namespace otlpd::pipeline {

void RequestMetadata::add(std::string_view key, std::string_view value) {
  entries_.emplace_back(absl::AsciiStrToLower(toAbsl(key)), std::string(value));
}

std::optional<std::string_view> RequestMetadata::first(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (absl::EqualsIgnoreCase(toAbsl(k), toAbsl(key))) return v;
  }
  return std::nullopt;
}

std::vector<std::string_view> RequestMetadata::all(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : entries_) {
    if (absl::EqualsIgnoreCase(toAbsl(k), toAbsl(key))) out.push_back(v);
  }
  return out;
}

void RequestMetadata::addAuth(std::string_view name, std::string_view value) {
  auth_.emplace_back(std::string(name), std::string(value));
}

std::optional<std::string_view> RequestMetadata::auth(std::string_view name) const {
  for (const auto& [k, v] : auth_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

}  // namespace otlpd::pipeline
