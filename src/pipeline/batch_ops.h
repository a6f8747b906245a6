// Pure operations on batches: merging several requests into one and splitting a request by item
// count, keeping each item's resource and scope.
#pragma once

#include <vector>

#include "pipeline/batch.h"

namespace otlpd::pipeline {

// One batch holding every resource group of `batches`, in order (all of one signal).
Batch mergeBatches(const std::vector<Batch>& batches);

// Batches of at most `max_items` items each (spans, data points or log records); a batch that
// already fits is returned as is.
std::vector<Batch> splitBatch(const Batch& batch, size_t max_items);

}  // namespace otlpd::pipeline
