#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::resource {

// The Collector's resource processor: the attribute actions under `attributes` applied to every
// resource of every signal. Only the resources are opened; spans, records and points are copied
// as bytes, so it costs per resource, not per item.
std::unique_ptr<pipeline::ProcessorFactory> makeResourceProcessorFactory();

}  // namespace otlpd::processors::resource
