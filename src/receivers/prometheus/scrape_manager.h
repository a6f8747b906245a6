// Runs a prometheus receiver's scrapes: one loop per target, each on a fixed grid of its
// interval offset by a hash of the target (so a job's targets spread over the interval, as in
// Prometheus), HTTP on one I/O thread for all targets, parsing and translation on a small pool of
// workers, and file_sd_configs polled for changes (targets that go away get their series marked
// stale).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics_registry.h"
#include "pipeline/component.h"
#include "pipeline/memory_budget.h"
#include "receivers/prometheus/config.h"

namespace otlpd::receivers::prometheus {

struct ScrapeManagerOptions {
  std::string receiver_id;
  std::shared_ptr<pipeline::Consumer> next;  // the metrics pipeline
  common::MetricsRegistry* metrics = nullptr;
  pipeline::MemoryBudget* memory = nullptr;
  size_t workers = 2;
  // How often file_sd files are checked for changes (a stat each); a full re-read happens every
  // refresh_interval besides.
  absl::Duration file_poll_interval = absl::Seconds(1);
};

class ScrapeManager {
 public:
  // Resolves the static targets, reads the file_sd files and starts scraping. Fails when a job's
  // TLS files cannot be loaded.
  static absl::StatusOr<std::unique_ptr<ScrapeManager>> start(ScrapeManagerOptions options,
                                                              PrometheusReceiverConfig config);
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Stops every loop (no stale markers: the receiver is going away, not the targets), waits for
  // the scrapes in hand. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit ScrapeManager(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace otlpd::receivers::prometheus
