// `service.telemetry.traces.level: detailed`: the graph puts one of these in front of every
// processor and exporter, so that a sampled ingest request's trace shows each stage it went
// through (a span per stage, with its item count and result). Outside a sampled span it only
// forwards: the check is a pointer load and a flag (selftrace::ScopedSpan::detail).
#pragma once

#include <memory>
#include <string>

#include "pipeline/component.h"

namespace otlpd::pipeline {

class TracedConsumer final : public Consumer {
 public:
  // `name` is the span's name, e.g. "processor batch" or "exporter otlp_grpc/downstream".
  TracedConsumer(std::string name, std::shared_ptr<Consumer> inner)
      : name_(std::move(name)), inner_(std::move(inner)) {}
  absl::Status consume(Batch&& batch) override;
  bool mutatesData() const override { return inner_->mutatesData(); }
  Consumer* inner() const { return inner_.get(); }

 private:
  const std::string name_;
  const std::shared_ptr<Consumer> inner_;
};

// The consumer behind any TracedConsumer in front of it (components that look at their next
// stage, such as the editing processors that run in one walk, see through the tracing).
inline Consumer* untraced(Consumer* consumer) {
  while (auto* traced = dynamic_cast<TracedConsumer*>(consumer)) consumer = traced->inner();
  return consumer;
}

}  // namespace otlpd::pipeline
