// The store's span rollups (rollup.h) as OTLP metrics named as the spanmetrics connector names
// them (docs/CONNECTORS.md): `<namespace>.calls` (monotonic Sum) and `<namespace>.duration`
// (Histogram with explicit buckets), per service.name, span.name, span.kind and status.code, so
// the numbers the store keeps can go wherever a metrics pipeline goes (Prometheus included).
// Pure: rows in, an ExportMetricsServiceRequest out.
//
// Re-bucketing is honest but not exact: a rollup bucket holds durations within 1% of its middle
// and is counted whole in the explicit bucket that holds that middle, so a span within 1% of an
// explicit bound can land in the neighbouring bucket. Counts and sums are exact.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "otlp/proto.h"
#include "store/rollup.h"

namespace otlpd::store {

struct SpanMetricsOptions {
  // "<namespace>.calls" and "<namespace>.duration"; bare "calls" / "duration" when empty.
  std::string metrics_namespace = "traces.span.metrics";
  bool seconds = false;  // histogram unit: "ms" (default) or "s"
  // Upper bounds in ns, ascending; the spanmetrics connector's default (2ms ... 15s).
  std::vector<uint64_t> explicit_bounds_ns = defaultBounds();
  bool histogram_disabled = false;
  bool delta = false;  // AGGREGATION_TEMPORALITY_DELTA, else cumulative
  std::string scope_name = "otlpd.store.rollups";
  // exclude_dimensions: spans differing only there are counted together, the attribute is left
  // out (service.name cannot be left out: the rollups are kept per service).
  bool exclude_span_name = false;
  bool exclude_span_kind = false;
  bool exclude_status_code = false;

  static std::vector<uint64_t> defaultBounds();
  double nanosPerUnit() const { return seconds ? 1e9 : 1e6; }
};

// What a series is told apart by (the connector's four standard dimensions).
struct SpanSeriesKey {
  std::string service;
  std::string operation;  // span name
  int32_t kind = 0;       // OTLP SpanKind
  int32_t status = 0;     // OTLP StatusCode
  auto operator<=>(const SpanSeriesKey&) const = default;
};

// A series' numbers re-bucketed to explicit bounds. Additive: the totals of two sets of rollup
// rows are the sum of their totals, and (being counts) a later total minus an earlier one is
// what came in between.
struct SpanSeriesTotals {
  uint64_t calls = 0;
  double sum_nanos = 0;
  std::vector<uint64_t> buckets;  // explicit_bounds_ns.size() + 1 (empty with the histogram off)

  void add(const SpanRollup& row, const SpanMetricsOptions& options);
  void add(const SpanSeriesTotals& other);
  // this − earlier, clamped at 0 (for delta temporality from cumulative totals).
  SpanSeriesTotals minus(const SpanSeriesTotals& earlier) const;
  bool empty() const { return calls == 0; }
};

// The index of the explicit bucket (upper bounds inclusive, as OTLP defines them) that a rollup
// bucket with this representative duration is counted in.
size_t explicitBucketOf(int64_t representative_nanos, const std::vector<uint64_t>& bounds_ns);

// Totals per series; rows of any minute (and root or not) add up.
class SpanMetricsTotals {
 public:
  // Rows of spans without a service.name are left out, as the spanmetrics connector skips such
  // spans; they are counted in skipped().
  void add(const RollupSegment& segment, const SpanMetricsOptions& options);
  // Subtracts totals added before (the rows a reader had already given), clamped at 0.
  void subtract(const SpanMetricsTotals& other);
  void add(const SpanMetricsTotals& other);
  const std::map<SpanSeriesKey, SpanSeriesTotals>& series() const { return series_; }
  std::map<SpanSeriesKey, SpanSeriesTotals>& mutableSeries() { return series_; }
  uint64_t skipped() const { return skipped_; }
  bool empty() const { return series_.empty(); }

 private:
  std::map<SpanSeriesKey, SpanSeriesTotals> series_;
  uint64_t skipped_ = 0;
};

struct SpanMetricPoint {
  SpanSeriesKey key;
  int64_t start_unix_nano = 0;
  int64_t time_unix_nano = 0;
  SpanSeriesTotals totals;
};

// One ResourceMetrics per service (resource attribute service.name), one scope, the calls Sum and
// the duration Histogram with a data point per point given (the points of a series may repeat with
// different times). Data point attributes: service.name, span.name, span.kind (SPAN_KIND_…),
// status.code (STATUS_CODE_…), as the connector writes them.
otlp::MetricsRequest spanMetricsRequest(const std::vector<SpanMetricPoint>& points,
                                        const SpanMetricsOptions& options);

std::string_view spanKindName(int32_t kind);
std::string_view statusCodeName(int32_t status);

}  // namespace otlpd::store
