#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::batch {

// The Collector's batch processor keys (send_batch_size, timeout, send_batch_max_size), but
// honest: a caller's consume() returns only once the batch holding its items was handed to the
// next consumer, with that consumer's result. Nothing is acknowledged before the pipeline
// accepted it, and no error is swallowed.
std::unique_ptr<pipeline::ProcessorFactory> makeBatchProcessorFactory();

}  // namespace otlpd::processors::batch
