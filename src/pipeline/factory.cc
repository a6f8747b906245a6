#include "pipeline/factory.h"

#include <cassert>

namespace otlpd::pipeline {

void FactoryRegistry::add(std::unique_ptr<Factory> factory) {
  assert(find(factory->kind(), factory->type()) == nullptr);
  factories_.push_back(std::move(factory));
}

const Factory* FactoryRegistry::find(ComponentKind kind, std::string_view type) const {
  for (const auto& f : factories_) {
    if (f->kind() != kind) continue;
    if (f->type() == type) return f.get();
    for (std::string_view alias : f->aliases()) {
      if (alias == type) return f.get();
    }
  }
  return nullptr;
}

std::vector<const Factory*> FactoryRegistry::all() const {
  std::vector<const Factory*> out;
  for (const auto& f : factories_) out.push_back(f.get());
  return out;
}

}  // namespace otlpd::pipeline
