#include "pipeline/extension_directory.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace otlpd::pipeline {

void ExtensionDirectory::use(const ComponentId& id, config::ConfigNode& node, std::string_view key,
                             std::string_view role, Bind bind) {
  YAML::Mark mark = YAML::Mark::null_mark();
  // (yaml-cpp throws when reading through a missing key: look up through a const node.)
  const YAML::Node& yaml = node.yaml();
  if (yaml.IsMap()) {
    if (const YAML::Node value = yaml[std::string(key)]; value) mark = value.Mark();
  }
  Use u{id,   &node.errors(),    strCat(node.path(), ".", key),
        mark, std::string(role), std::move(bind)};
  std::lock_guard lock(mu_);
  used_.insert(id);
  if (resolved_) {
    bindOne(u);
  } else {
    pending_.push_back(std::move(u));
  }
}

void ExtensionDirectory::setDefinitions(YAML::Node extensions_section) {
  std::lock_guard lock(mu_);
  definitions_ = std::move(extensions_section);
}

void ExtensionDirectory::enable(const ComponentId& id, std::shared_ptr<Extension> instance) {
  std::lock_guard lock(mu_);
  enabled_[id] = std::move(instance);
}

void ExtensionDirectory::resolve() {
  std::lock_guard lock(mu_);
  resolved_ = true;
  for (const Use& u : pending_) bindOne(u);
  pending_.clear();
}

bool ExtensionDirectory::used(const ComponentId& id) const {
  std::lock_guard lock(mu_);
  return used_.count(id) != 0;
}

void ExtensionDirectory::bindOne(const Use& u) const {
  const std::string name = u.id.toString();
  if (auto it = enabled_.find(u.id); it != enabled_.end()) {
    if (it->second == nullptr) return;  // its own config failed, which is reported there
    if (!u.bind(it->second)) {
      u.errors->add(u.path, u.mark,
                    strCat("extension '", name, "' (type ", u.id.type, ") is not a ", u.role));
    }
    return;
  }
  const YAML::Node& definitions = definitions_;
  const bool defined = definitions.IsMap() && definitions[name];
  u.errors->add(u.path, u.mark,
                defined ? strCat(u.role, " '", name,
                                 "' is defined but not enabled: add it to service.extensions")
                        : strCat(u.role, " '", name, "' is not defined in extensions"));
}

}  // namespace otlpd::pipeline
