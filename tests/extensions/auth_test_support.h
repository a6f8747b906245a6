// Shared by the authenticator extension tests: create an extension from YAML as the graph does,
// and ask it about a request's headers.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <string>

#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "pipeline/authenticator.h"
#include "pipeline/factory.h"

namespace otlpd::extensions::testing {

class NullHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

struct MadeExtension {
  std::unique_ptr<pipeline::Extension> extension;
  std::string errors;  // as `otlpd validate` prints them, "" when none
};

inline MadeExtension makeExtension(const pipeline::ExtensionFactory& factory,
                                   const std::string& yaml) {
  static common::MetricsRegistry metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
  config::ConfigErrors errors;
  config::ConfigNode node(YAML::Load(yaml), "extensions.auth", errors);
  auto created = factory.create(
      pipeline::CreateSettings{pipeline::ComponentId{std::string(factory.type()), ""}, metrics},
      node);
  node.rejectUnknownKeys();
  MadeExtension out;
  if (created.ok()) out.extension = *std::move(created);
  out.errors = errors.toString();
  return out;
}

// The attributes, or "refused" when the authenticator says no.
inline std::string authenticate(const pipeline::ServerAuthenticator& authenticator,
                                const std::map<std::string, std::string>& headers) {
  auto verdict =
      authenticator.authenticate([&](std::string_view name) -> std::optional<std::string_view> {
        auto it = headers.find(std::string(name));
        if (it == headers.end()) return std::nullopt;
        return it->second;
      });
  if (!verdict.ok()) {
    return verdict.status().code() == absl::StatusCode::kUnauthenticated ? "refused" : "wrong code";
  }
  std::string out = "ok";
  for (const auto& [k, v] : *verdict) out += " " + k + "=" + v;
  return out;
}

}  // namespace otlpd::extensions::testing
