// One target's scrapes → OTLP metrics, as the OpenTelemetry specification's "Prometheus and
// OpenMetrics Compatibility" maps them and the Collector's prometheus receiver does: cumulative
// sums, histograms and summaries with start times (from `_created`, else the first observation,
// restarted when a counter goes down), staleness as points flagged no_recorded_value, the report
// series Prometheus adds per scrape, and the target as the resource. Writes the encoded
// ExportMetricsServiceRequest directly (no protobuf objects). Pure: the caller brings the parsed
// body and the clock; one translator per target, used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "prometheus/exposition.h"
#include "prometheus/relabel.h"

namespace otlpd::prometheus {

// A scrape target after target relabeling.
struct ScrapeTarget {
  // Every target label (job, instance, and the static / discovered ones that survived
  // relabeling), sorted by name, none empty. job and instance become the resource; the others
  // are added to every point.
  std::vector<std::pair<std::string, std::string>> labels;
  std::string scheme = "http";  // url.scheme
  std::string job;
  std::string instance;
};

struct TranslateOptions {
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<RelabelRule> metric_relabel_configs;
  uint64_t sample_limit = 0;  // 0: none
  // The instrumentation scope of metrics that name none (otel_scope_name).
  std::string scope_name = "otlpd/receiver/prometheus";
  std::string scope_version;
};

// What one scrape came to, for the report series, self-metrics and logs.
struct ScrapeStats {
  bool up = false;
  uint64_t samples_scraped = 0;          // sample lines in the body
  uint64_t samples_post_relabeling = 0;  // left after metric_relabel_configs
  uint64_t series_added = 0;             // samples of series the previous scrape did not have
  // Samples dropped, by why (the scrape itself succeeded):
  uint64_t duplicates = 0;      // a series (or bucket, quantile) twice in one body
  uint64_t type_conflicts = 0;  // under a TYPE that contradicts an earlier one in the body
  uint64_t invalid = 0;         // a histogram without _count, buckets going down, bad le...
  uint64_t unsupported = 0;     // gauge histograms (the specification drops them)
  uint64_t type_changes = 0;    // metrics whose type differs from the previous scrape
  uint64_t stale_markers = 0;   // points flagged no_recorded_value
  uint64_t points = 0;          // data points encoded, report series included
  std::string error;            // why up is 0
};

class ScrapeTranslator {
 public:
  ScrapeTranslator(ScrapeTarget target, TranslateOptions options);
  ~ScrapeTranslator();
  ScrapeTranslator(const ScrapeTranslator&) = delete;
  ScrapeTranslator& operator=(const ScrapeTranslator&) = delete;

  // A scrape that fetched and parsed: its points, stale markers for the series it lost, and the
  // report series, encoded into `out` (cleared first). Over sample_limit the scrape fails as in
  // Prometheus: nothing of it is kept (stats.up is false, stats.error says why) and the previous
  // scrape's series go stale. `scrape_time_ms` is when the scrape started (Unix ms), the time of
  // every point without its own timestamp; `format` tells how the body was parsed.
  void translate(const ParsedExposition& parsed, Format format, int64_t scrape_time_ms,
                 double duration_seconds, std::string& out, ScrapeStats& stats);

  // A scrape that failed (fetch, HTTP status, size, parse): up = 0 and every series of the
  // previous scrape marked stale.
  void failed(int64_t scrape_time_ms, double duration_seconds, std::string error, std::string& out,
              ScrapeStats& stats);

  // The target is gone: every series it had, the report series too, marked stale. `out` is empty
  // when there is nothing to say. Returns the number of points written.
  uint64_t finish(int64_t time_ms, std::string& out);

  const ScrapeTarget& target() const { return target_; }
  // Series remembered for start times and staleness (for tests and memory estimates).
  size_t seriesCount() const;

 private:
  struct State;
  void staleMarker(const std::string& key, int64_t start_ns, int64_t time_ms, ScrapeStats& stats);
  void reportSeries(int64_t time_ms, double duration_seconds, const ScrapeStats& stats);
  ScrapeTarget target_;
  TranslateOptions options_;
  std::unique_ptr<State> state_;
};

// OpenMetrics UNIT → OpenTelemetry unit: full words to UCUM abbreviations ("seconds" → "s",
// "bytes" → "By"), "ratio" → "1", "x_per_y" → "x/y"; anything else as written.
std::string otelUnitFromPrometheus(std::string_view unit);

}  // namespace otlpd::prometheus
