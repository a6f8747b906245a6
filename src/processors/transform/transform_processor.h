#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::transform {

// The Collector's transform processor: `trace_statements`, `metric_statements`, `log_statements`,
// each a list of `{context, conditions, statements, error_mode}` groups or of bare statements
// whose context is inferred from their paths' prefixes, and `error_mode`. Groups run in order, each
// over the whole request in its context; a group's statements run in order on every item its
// conditions (any of them) select.
std::unique_ptr<pipeline::ProcessorFactory> makeTransformProcessorFactory();

}  // namespace otlpd::processors::transform
