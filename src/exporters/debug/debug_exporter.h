#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::debug {

std::unique_ptr<pipeline::ExporterFactory> makeDebugExporterFactory();

}  // namespace otlpd::exporters::debug
