#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::nop {

// Accepts and discards everything: for benchmarks and for pipelines that only feed side effects.
std::unique_ptr<pipeline::ExporterFactory> makeNopExporterFactory();

}  // namespace otlpd::exporters::nop
