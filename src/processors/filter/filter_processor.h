#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::filter {

// The Collector's filter processor with OTTL conditions: `traces.span`, `traces.spanevent`,
// `metrics.metric`, `metrics.datapoint`, `logs.log_record`, `error_mode`. An item any condition
// matches is dropped; a dropped span takes its events along, and a metric left without data points
// is removed. The legacy include/exclude keys are refused with a pointer to the OTTL ones.
std::unique_ptr<pipeline::ProcessorFactory> makeFilterProcessorFactory();

}  // namespace otlpd::processors::filter
