// Drives a sender: paces requests with the token bucket, keeps `concurrency` in flight, counts
// outcomes and latencies, prints progress, and stops on duration, item count or a stop flag.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "loadgen/payloads.h"
#include "loadgen/report.h"
#include "loadgen/sender.h"

namespace otlpd::loadgen {

struct RunOptions {
  size_t concurrency = 1;
  double rate = 0;  // items/s; 0 = unlimited
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<int64_t> count;  // items
  // Called about once a second with the counts so far (for the progress line).
  std::function<void(const Counters&, double elapsed, double recent_items_per_s)> progress;
  // Set from outside (SIGINT) to stop early; the report still covers what was sent.
  const std::atomic<bool>* stop = nullptr;
};

// Fills the counters, latency, errors and elapsed time of `report`.
void run(const RunOptions& options, Sender& sender, const RequestSet& requests, Report& report);

}  // namespace otlpd::loadgen
