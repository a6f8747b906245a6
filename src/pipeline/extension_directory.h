// The extensions of one graph by id, for components that use an extension (an authenticator named
// by `auth.authenticator`). A component asks while it is created; the graph answers once every
// extension exists, so neither the order of `service.extensions` nor an extension using another
// (jaeger_query using an authenticator) matters. Every reference that names no enabled extension,
// or one of the wrong kind, is a config error at its path, so `otlpd validate` reports it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_node.h"
#include "pipeline/component.h"

namespace otlpd::pipeline {

class ExtensionDirectory {
 public:
  // Takes the extension the reference names; false when it is not of the kind the user needs.
  using Bind = std::function<bool(const std::shared_ptr<Extension>&)>;

  // A component created with `node` uses extension `id`, written at `key` of `node`. `role` names
  // what it must be, for the error ("server authenticator"). Bound when the graph is complete, or
  // at once when it already is (components created while running: load-balancing backends).
  void use(const ComponentId& id, config::ConfigNode& node, std::string_view key,
           std::string_view role, Bind bind);

  // For the graph: the `extensions:` section (what is defined), each extension enabled in
  // service.extensions with its instance (null when its config failed: already reported), and
  // then resolve(), which binds or reports every recorded use.
  void setDefinitions(YAML::Node extensions_section);
  void enable(const ComponentId& id, std::shared_ptr<Extension> instance);
  void resolve();
  // Whether some component uses `id` (such extensions start first).
  bool used(const ComponentId& id) const;

 private:
  struct Use {
    ComponentId id;
    config::ConfigErrors* errors;
    std::string path;
    YAML::Mark mark;
    std::string role;
    Bind bind;
  };
  void bindOne(const Use& use) const;

  mutable std::mutex mu_;
  YAML::Node definitions_;
  std::map<ComponentId, std::shared_ptr<Extension>> enabled_;
  std::set<ComponentId> used_;
  std::vector<Use> pending_;
  bool resolved_ = false;
};

}  // namespace otlpd::pipeline
