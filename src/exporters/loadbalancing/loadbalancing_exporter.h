// The `loadbalancing` exporter (the Collector's loadbalancingexporter, alias `load_balancing`):
// sends each span, log record or metric stream to one of several backends chosen by a routing key
// on a consistent-hash ring, so that everything of a trace (or service, or stream) reaches the
// same backend — what tail sampling or span metrics behind it need. Each backend has an
// `otlp_grpc` exporter of its own, built from `protocol.otlp` with the backend's endpoint, so its
// queue, retries, circuit breaker and dead-letter queue hold its share while it is down.
// docs/SCALING.md describes keys, resolvers, hashing and membership changes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics_registry.h"
#include "exporters/loadbalancing/hash_ring.h"
#include "exporters/loadbalancing/regroup.h"
#include "exporters/loadbalancing/resolver.h"
#include "pipeline/factory.h"

namespace otlpd::exporters::loadbalancing {

std::unique_ptr<pipeline::ExporterFactory> makeLoadBalancingExporterFactory();

// Builds (not starts) the exporter of one backend.
using BackendFactory =
    std::function<absl::StatusOr<std::unique_ptr<pipeline::Exporter>>(const std::string& endpoint)>;

class LoadBalancingExporter final : public pipeline::Exporter, public pipeline::Flushable {
 public:
  // The factory gives the Collector's resolvers and otlp_grpc backends; tests give their own.
  LoadBalancingExporter(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                        RoutingKey key, std::unique_ptr<Resolver> resolver,
                        BackendFactory backends);
  ~LoadBalancingExporter() override;

  // Starts the resolver; with a first membership (always for static) the backends are started
  // before this returns, and a backend that cannot start fails the start.
  absl::Status start(pipeline::Host& host) override;
  // Stops the resolver, then shuts every backend down (in parallel), each draining its queue.
  absl::Status shutdown() override;
  // Cuts the batch by routing key and hands each backend its share. No backends: Unavailable
  // (retryable). A backend that refuses its share (queue full): its error, after the other
  // shares were handed over — the client's retry may then duplicate those (at least once).
  absl::Status consume(pipeline::Batch&& batch) override;
  // Flushes every current backend's exporter in turn (a backend that left was drained when it
  // was shut down). What a failing backend hands over to another after that one was flushed may
  // still be on its way.
  absl::Status flush(absl::Time deadline) override;

  // What the resolver reported, less backends that could not be started; sorted.
  std::vector<std::string> backends() const;
  // Applies a membership (what the resolver calls): starts the exporters of new backends, swaps
  // the ring, then shuts down those of backends that left once no consume() uses them.
  void updateMembership(std::vector<std::string> endpoints);

  // "<type>/<name>/<endpoint>": the id a backend's exporter is created with, in its metrics.
  static pipeline::ComponentId backendId(const pipeline::ComponentId& id,
                                         const std::string& endpoint);

 private:
  struct Backend;
  struct Routing;
  struct Scratch;

  absl::Status dispatch(const Routing& routing, size_t backend, pipeline::Batch&& batch);
  // Backends whose exporter keeps failing (beyond the Collector): while one fails, the keys it
  // owns go to the next healthy backend on the ring, and what its queue holds is handed there
  // too, so a backend that is down does not hold its share of traces until it returns.
  struct Fallback;
  absl::Status spread(const Routing& routing, const Fallback& fallback, pipeline::Batch&& batch);
  absl::Status takeOver(const std::string& from, pipeline::Batch&& batch);
  std::unique_ptr<Scratch> takeScratch();
  void returnScratch(std::unique_ptr<Scratch> scratch);
  static void shutdownAll(std::vector<std::shared_ptr<Backend>> backends);

  const std::string id_;
  const pipeline::Signal signal_;
  const RoutingKey key_;
  std::unique_ptr<Resolver> resolver_;
  const BackendFactory make_backend_;
  common::MetricsRegistry& metrics_;

  std::mutex update_mu_;  // one membership change at a time
  bool stopped_ = false;
  absl::Status first_start_error_;  // a backend of the first membership that did not start
  bool first_membership_ = true;

  // Held shared by consume() while it hands batches over, exclusively to swap the routing.
  // absl::Mutex, not std::shared_mutex: a waiting writer holds back new readers, so a membership
  // change is not starved by a steady stream of overlapping consume() calls (glibc's rwlock
  // prefers readers).
  mutable absl::Mutex routing_mu_;
  std::shared_ptr<const Routing> routing_;

  std::mutex scratch_mu_;
  std::vector<std::unique_ptr<Scratch>> scratch_;
  std::atomic<uint64_t> unkeyed_turn_{0};

  common::Gauge* backends_gauge_;
  common::Counter* backend_updates_;
  common::Counter* backend_failures_;
  common::Counter* refused_no_backends_;
  common::Counter* refused_by_backend_;
  common::Counter* refused_malformed_;
  common::Counter* unkeyed_;
  common::Counter* rerouted_;
};

}  // namespace otlpd::exporters::loadbalancing
