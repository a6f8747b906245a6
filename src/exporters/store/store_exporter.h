#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::store {

// Keeps telemetry in local Arrow IPC files (DIR/<signal>/<start>-<seq>.arrow), see
// docs/STORAGE.md.
std::unique_ptr<pipeline::ExporterFactory> makeStoreExporterFactory();

}  // namespace otlpd::exporters::store
