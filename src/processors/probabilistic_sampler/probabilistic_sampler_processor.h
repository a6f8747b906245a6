#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::processors::probabilistic_sampler {

// The Collector's probabilistic_sampler (traces and logs): `sampling_percentage`, `hash_seed`,
// `mode` (hash_seed | proportional | equalizing; hash_seed when unset), `sampling_precision`,
// `fail_closed`, and for logs `attribute_source`, `from_attribute`, `sampling_priority`. Spans
// and log records are kept or dropped one by one, consistently with OpenTelemetry's probability
// sampling (sampler.h), on the encoded request: spans through a walk that reads only their trace
// id, trace_state and sampling.priority (span_rewriter.h), log records through the wire editor.
// docs/SAMPLING.md.
std::unique_ptr<pipeline::ProcessorFactory> makeProbabilisticSamplerFactory();

}  // namespace otlpd::processors::probabilistic_sampler
