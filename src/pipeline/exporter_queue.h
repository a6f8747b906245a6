// A bounded queue in front of an exporter that exports synchronously, so that a slow or
// stalled exporter holds up only its own queue, never the other exporters of a fan-out.
#pragma once

#include <memory>
#include <string>

#include "pipeline/component.h"

namespace otlpd::common {
class MetricsRegistry;
}

namespace otlpd::pipeline {

struct ExporterQueueOptions {
  size_t capacity_bytes = size_t{64} << 20;  // batches' arena bytes waiting to be exported
  absl::Duration drain_timeout = absl::Seconds(10);
  // A full queue makes the caller wait for room instead of refusing (the Collector's
  // sending_queue key of the same name): up to capacity_bytes more are taken with their
  // acknowledgement held back (pipeline::DeferredAck) until they fit; a caller without a
  // deferred-ack scope waits in place, for longest_wait_in_place at most. Past that, requests are
  // refused as without it.
  bool block_on_overflow = false;
  absl::Duration longest_wait_in_place = absl::Seconds(5);
};

// Accepts a batch when it fits in the queue (that is the acknowledgement), otherwise refuses it
// as retryable (or, with block_on_overflow, acknowledges it once it fits). A worker hands batches
// to the exporter in order; retryable failures are retried with backoff, permanent ones are counted
// and logged. At shutdown the queue drains within `drain_timeout`; what cannot be exported by then
// is counted and logged as dropped.
std::unique_ptr<Exporter> makeQueuedExporter(std::unique_ptr<Exporter> inner, std::string id,
                                             Signal signal, common::MetricsRegistry& metrics,
                                             ExporterQueueOptions options = {});

}  // namespace otlpd::pipeline
