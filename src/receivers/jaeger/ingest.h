// What every transport of the jaeger receiver does with a decoded Jaeger batch: translate it to
// OTLP wire bytes and hand those to the OTLP receiver's ingest path (admission, the wire view's
// validation, pipeline, counters), so a Jaeger span is counted and refused exactly as an OTLP one.
#pragma once

#include <memory>
#include <optional>

#include "jaeger/model.h"
#include "receivers/otlp/ingest.h"

namespace otlpd::receivers::jaeger {

using otlp::ExportOutcome;
using otlp::Ingestor;
using otlp::Transport;

// The calling thread's decode pools: a decoded batch holds slices of the request's bytes, and
// stays valid until the next decode on this thread.
::otlpd::jaeger::Batch& threadBatch();

ExportOutcome ingestBatch(Ingestor& ingestor, Transport transport,
                          const ::otlpd::jaeger::Batch& batch,
                          std::optional<pipeline::MemoryBudget::Reservation> admitted,
                          std::shared_ptr<const pipeline::RequestMetadata> metadata);

}  // namespace otlpd::receivers::jaeger
