#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::attributes {

// The Collector's attributes processor: the attribute actions under `actions` applied to span
// attributes (not span event attributes, as in the Collector), log record attributes and data
// point attributes, on the items `include` / `exclude` select.
std::unique_ptr<pipeline::ProcessorFactory> makeAttributesProcessorFactory();

}  // namespace otlpd::processors::attributes
