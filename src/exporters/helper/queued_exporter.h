// The exporter helper: every exporter that sends data somewhere composes this instead of writing
// its own queue, batching, retry, timeout, circuit breaker and dead-letter handling (the
// Collector's exporterhelper, plus what otlpd promises on top: whatever it acknowledged is
// delivered, or on disk with the reason it could not be).
//
//   consume() ─► [write-ahead log] ─► bounded queue of Batches ─► consumers: merge (batch) ─►
//     breaker ─► Sender::send (timeout) ─► retry with backoff / server's delay ─► ack
//                                                   └─ permanent / gave up ─► dead-letter queue
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "exporters/helper/config.h"
#include "exporters/helper/sender.h"
#include "pipeline/component.h"

namespace otlpd::exporters::helper {

// What an exporter of the helper offers a component that spreads data over several of them (the
// loadbalancing exporter): whether its destination keeps failing, and a way to hand what it holds
// to another destination instead of retrying it here.
class Failover {
 public:
  virtual ~Failover() = default;
  // `take_over` is offered, from the exporter's sending thread, each batch whose destination is
  // failing (after the attempt that failed, or instead of an attempt while failing, except for
  // one probe a second); OK means it took the batch, which then counts as delivered here.
  virtual void setFailover(std::function<absl::Status(pipeline::Batch&&)> take_over) = 0;
  // Since kFailingAfter consecutive retryable failures, until a send succeeds.
  virtual bool failing() const = 0;
  static constexpr int kFailingAfter = 2;
};

// Called in start(), so that creating an exporter binds and connects nothing.
using SenderFactory = std::function<absl::StatusOr<std::shared_ptr<Sender>>()>;

// Test seams: the clock and the sleeps of the retry loop.
struct HelperHooks {
  std::function<absl::Time()> now;
};

std::unique_ptr<pipeline::Exporter> makeQueuedExporter(const pipeline::CreateSettings& settings,
                                                       pipeline::Signal signal, HelperConfig config,
                                                       SenderFactory sender_factory,
                                                       HelperHooks hooks = {});

}  // namespace otlpd::exporters::helper
