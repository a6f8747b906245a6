// What the prometheus exporter serves: the latest state of every series it was sent, kept as
// Prometheus series (names and labels translated once, when a point arrives), with delta points
// accumulated into cumulative ones and series that were not updated for `expiration` dropped; and
// its rendering in the text format 0.0.4 or OpenMetrics 1.0. Pure (the caller passes the time),
// not thread-safe (the exporter locks).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/otel_labels.h"
#include "prometheus/otlp_metrics_walk.h"

namespace otlpd::prometheus {

enum class ExpositionFormat { kText004, kOpenMetrics100 };

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The format a scraper asked for in its Accept header: OpenMetrics when it names
// application/openmetrics-text (and `open_metrics_enabled`), else the text format.
ExpositionFormat negotiateFormat(std::string_view accept, bool open_metrics_enabled);

struct StoreOptions {
  NameOptions names;
  LabelOptions labels;  // const_labels as extra_labels
  absl::Duration expiration = absl::Minutes(5);
  bool send_timestamps = false;
};

struct StoreCounters {
  uint64_t accepted_points = 0;
  // Points older than the series' last one, or of a name already used with another type.
  uint64_t dropped_points = 0;
  uint64_t expired_series = 0;
};

class ExpositionStore final : private MetricsVisitor {
 public:
  explicit ExpositionStore(StoreOptions options);
  ~ExpositionStore() override;

  // Takes the points of an encoded ExportMetricsServiceRequest, received at `now`.
  absl::Status add(std::string_view request, absl::Time now);
  // Drops series not updated since now − expiration.
  void expire(absl::Time now);
  // Appends every family to `out` (after expire(now)).
  void render(ExpositionFormat format, absl::Time now, std::string& out);

  size_t seriesCount() const;
  const StoreCounters& counters() const { return counters_; }

  enum class Type : uint8_t { kGauge, kCounter, kHistogram, kSummary };
  struct Layout;
  struct SeriesState;
  struct Family;

 private:
  void onResource(const ResourceView& resource) override;
  void onScope(const ScopeView& scope) override;
  bool onMetric(const MetricView& metric) override;
  void onNumber(const NumberPoint& point) override;
  void onHistogram(const HistogramPoint& point) override;
  void onExponentialHistogram(const ExponentialHistogramPoint& point) override;
  void onSummary(const SummaryPoint& point) override;

  // The series of the current family for these point attributes (created if new); null when
  // the point is to be dropped.
  SeriesState* seriesFor(const std::vector<Attribute>& attributes, bool* created);
  bool acceptTime(SeriesState& s, bool created, uint64_t time_ns);
  void histogramPoint(const PointCommon& p, std::vector<double>& bounds,
                      std::vector<uint64_t>& cumulative, uint64_t count, double sum, bool has_sum);
  Family* family(const std::string& name, Type type, std::string_view help, std::string_view unit);
  void removeSeries(Family& f, size_t index);

  StoreOptions options_;
  MetricsWalker walker_;
  LabelBuilder builder_;
  absl::Time now_;
  MetricView metric_;
  Family* current_ = nullptr;
  bool delta_ = false;
  std::string label_text_;
  std::vector<double> bounds_;
  std::vector<uint64_t> cumulative_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  StoreCounters counters_;
};

// Label values and HELP text escaped as the exposition formats require.
void appendEscapedLabelValue(std::string_view value, std::string& out);
void appendEscapedHelp(std::string_view help, bool open_metrics, std::string& out);

}  // namespace otlpd::prometheus
