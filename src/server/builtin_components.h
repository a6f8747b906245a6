#pragma once

#include "pipeline/factory.h"

namespace otlpd::server {

// The one explicit list of every component type this binary knows.
void registerBuiltinComponents(pipeline::FactoryRegistry& registry);

}  // namespace otlpd::server
