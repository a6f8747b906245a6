// otlpd's self-metrics pushed as OTLP (`service.telemetry.metrics.readers` with a `periodic`
// reader, the Collector's shape): every interval the registry's current values are read, turned
// into an ExportMetricsServiceRequest of resource service.name = otlpd (counters as cumulative
// monotonic sums with start times, gauges as gauges — the Prometheus-to-OTLP mapping the
// prometheus receiver already implements) and handed to a sender on the reader's own thread.
// Optionally under the Collector's names (otelcol_receiver_accepted_spans...) so Collector
// dashboards work unchanged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics_registry.h"
#include "prometheus/exposition.h"
#include "prometheus/scrape_translator.h"

namespace otlpd::selfmetrics {

// The Collector's name of an otlpd self-metric, as its OTLP push names it: otlpd_receiver_*,
// otlpd_exporter_* and otlpd_processor_* become otelcol_*, without the Prometheus `_total` of
// counters; other names stay as they are.
std::string collectorName(std::string_view otlpd_name, bool monotonic_sum);

// Turns Prometheus text exposition of the registry into OTLP metrics. One per reader: it
// remembers start times of counters between calls. Pure apart from that state.
class SelfMetricsEncoder {
 public:
  explicit SelfMetricsEncoder(bool collector_names);
  // The encoded ExportMetricsServiceRequest of `exposition` read at `now_ms` (Unix ms).
  absl::StatusOr<std::string> encode(std::string_view exposition, int64_t now_ms);

 private:
  bool collector_names_;
  prometheus::ExpositionParser parser_;
  prometheus::ParsedExposition parsed_;
  prometheus::ScrapeTranslator translator_;
};

struct PeriodicReaderOptions {
  std::chrono::milliseconds interval{60000};
  bool collector_names = false;
  // Sends one encoded ExportMetricsServiceRequest; called on the reader's thread only.
  std::function<absl::Status(const std::string& body)> send;
};

class PeriodicReader {
 public:
  PeriodicReader(PeriodicReaderOptions options, common::MetricsRegistry& metrics);
  ~PeriodicReader();  // one last push (bounded by the sender's deadline), then stops
  PeriodicReader(const PeriodicReader&) = delete;
  PeriodicReader& operator=(const PeriodicReader&) = delete;

 private:
  void run();
  void pushOnce();

  PeriodicReaderOptions options_;
  common::MetricsRegistry& metrics_;
  SelfMetricsEncoder encoder_;
  common::Counter* exported_;
  common::Counter* failed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace otlpd::selfmetrics
