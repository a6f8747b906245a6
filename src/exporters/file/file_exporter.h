#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::exporters::file {

// Appends each batch as one line of OTLP/JSON to a file, like the Collector's file exporter.
std::unique_ptr<pipeline::ExporterFactory> makeFileExporterFactory();

}  // namespace otlpd::exporters::file
