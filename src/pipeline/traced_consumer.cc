#include "pipeline/traced_consumer.h"

#include "selftrace/tracer.h"

namespace otlpd::pipeline {

absl::Status TracedConsumer::consume(Batch&& batch) {
  auto span = selftrace::ScopedSpan::detail(name_);
  if (!span.recording()) return inner_->consume(std::move(batch));
  span.setAttribute("otlpd.items", static_cast<int64_t>(batch.itemCount()));
  absl::Status s = inner_->consume(std::move(batch));
  if (!s.ok()) span.setError(std::string(s.message()));
  return s;
}

}  // namespace otlpd::pipeline
