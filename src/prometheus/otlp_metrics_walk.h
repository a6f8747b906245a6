// Reading an encoded ExportMetricsServiceRequest for the Prometheus exporters: resources, scopes,
// metrics and data points handed to a visitor as views of the wire bytes (attribute values that
// are not strings are rendered once into a scratch buffer). No protobuf classes, nothing
// allocated per point once warm: the remote-write hot path reads OTLP at this speed. Pure.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "prometheus/otel_names.h"

namespace otlpd::prometheus {

// An attribute with its value as a label value (the Collector's AsString rendering).
struct Attribute {
  std::string_view key;
  std::string_view value;
};

struct ResourceView {
  std::vector<Attribute> attributes;
};

struct ScopeView {
  std::string_view name;
  std::string_view version;
};

enum class Temporality : uint8_t { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

struct MetricView {
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  MetricKind kind = MetricKind::kGauge;
  Temporality temporality = Temporality::kUnspecified;
  bool monotonic = false;
};

// OTLP DataPointFlags: the point marks a series that stopped (Prometheus' staleness marker).
inline constexpr uint32_t kFlagNoRecordedValue = 1;

struct PointCommon {
  std::vector<Attribute> attributes;
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  uint32_t flags = 0;
  // Ordinal of the point within its metric (what OTLP counts as an item).
  uint32_t index = 0;
};

struct NumberPoint : PointCommon {
  double value = 0;
};

struct HistogramPoint : PointCommon {
  uint64_t count = 0;
  double sum = 0;
  bool has_sum = false;
  std::vector<uint64_t> bucket_counts;
  std::vector<double> bounds;
};

struct ExponentialBuckets {
  int32_t offset = 0;
  std::vector<uint64_t> counts;
};

struct ExponentialHistogramPoint : PointCommon {
  uint64_t count = 0;
  double sum = 0;
  bool has_sum = false;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  double zero_threshold = 0;
  ExponentialBuckets positive;
  ExponentialBuckets negative;
};

struct SummaryPoint : PointCommon {
  uint64_t count = 0;
  double sum = 0;
  std::vector<std::pair<double, double>> quantiles;  // (quantile, value)
};

// What the walk calls, in document order: onResource, then for each scope onScope, then for each
// metric onMetric followed by its points. Views are valid until the next call of the same kind.
class MetricsVisitor {
 public:
  virtual ~MetricsVisitor() = default;
  virtual void onResource(const ResourceView& resource) = 0;
  virtual void onScope(const ScopeView& scope) = 0;
  // False skips the metric's points.
  virtual bool onMetric(const MetricView& metric) = 0;
  virtual void onNumber(const NumberPoint& point) = 0;
  virtual void onHistogram(const HistogramPoint& point) = 0;
  virtual void onExponentialHistogram(const ExponentialHistogramPoint& point) = 0;
  virtual void onSummary(const SummaryPoint& point) = 0;
};

// Reusable across requests (keeps its buffers). Malformed bytes give InvalidArgument; what was
// visited before the fault has been visited.
class MetricsWalker {
 public:
  absl::Status walk(std::string_view request, MetricsVisitor& visitor);

 private:
  bool readResource(std::string_view bytes);
  bool readScopeMetrics(std::string_view bytes, MetricsVisitor& visitor);
  bool readMetric(std::string_view bytes, MetricsVisitor& visitor);
  bool readAttributes(std::string_view keyvalue, std::vector<Attribute>& out);

  ResourceView resource_;
  ScopeView scope_;
  MetricView metric_;
  NumberPoint number_;
  HistogramPoint histogram_;
  ExponentialHistogramPoint exponential_;
  SummaryPoint summary_;
  // Rendered non-string attribute values, reused: a deque keeps views stable while it grows. The
  // resource's stay for its whole walk, a point's until the next point.
  std::deque<std::string> rendered_;
  size_t rendered_used_ = 0;
  size_t resource_rendered_ = 0;
};

}  // namespace otlpd::prometheus
