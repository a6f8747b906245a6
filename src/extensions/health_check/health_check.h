#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::extensions::health_check {

// HTTP health endpoint like the Collector's health_check extension: 200 while serving.
std::unique_ptr<pipeline::ExtensionFactory> makeHealthCheckFactory();

}  // namespace otlpd::extensions::health_check
