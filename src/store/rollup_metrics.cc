#include "store/rollup_metrics.h"

#include <algorithm>
#include <iterator>

namespace otlpd::store {

std::vector<uint64_t> SpanMetricsOptions::defaultBounds() {
  // The spanmetrics connector's (and the Collector's) default buckets, in milliseconds.
  constexpr uint64_t kMillis[] = {2,   4,   6,    8,    10,   50,   100,   200,
                                  400, 800, 1000, 1400, 2000, 5000, 10000, 15000};
  std::vector<uint64_t> out;
  for (uint64_t ms : kMillis) out.push_back(ms * 1'000'000);
  return out;
}

std::string_view spanKindName(int32_t kind) {
  static constexpr std::string_view kNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  return kind >= 0 && static_cast<size_t>(kind) < std::size(kNames) ? kNames[kind]
                                                                    : std::string_view();
}

std::string_view statusCodeName(int32_t status) {
  static constexpr std::string_view kNames[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                "STATUS_CODE_ERROR"};
  return status >= 0 && static_cast<size_t>(status) < std::size(kNames) ? kNames[status]
                                                                        : std::string_view();
}

size_t explicitBucketOf(int64_t representative_nanos, const std::vector<uint64_t>& bounds_ns) {
  const auto d = static_cast<uint64_t>(std::max<int64_t>(representative_nanos, 0));
  // Upper bounds are inclusive: the first bound >= the duration (as the connector counts).
  return static_cast<size_t>(std::lower_bound(bounds_ns.begin(), bounds_ns.end(), d) -
                             bounds_ns.begin());
}

void SpanSeriesTotals::add(const SpanRollup& row, const SpanMetricsOptions& options) {
  calls += row.calls;
  sum_nanos += static_cast<double>(row.latency.sumNanos());
  if (options.histogram_disabled) return;
  const size_t slots = options.explicit_bounds_ns.size() + 1;
  if (buckets.size() < slots) buckets.resize(slots, 0);
  row.latency.forEachBucket([&](int64_t representative, uint64_t count) {
    buckets[explicitBucketOf(representative, options.explicit_bounds_ns)] += count;
  });
}

void SpanSeriesTotals::add(const SpanSeriesTotals& other) {
  calls += other.calls;
  sum_nanos += other.sum_nanos;
  if (buckets.size() < other.buckets.size()) buckets.resize(other.buckets.size(), 0);
  for (size_t i = 0; i < other.buckets.size(); ++i) buckets[i] += other.buckets[i];
}

SpanSeriesTotals SpanSeriesTotals::minus(const SpanSeriesTotals& earlier) const {
  SpanSeriesTotals out = *this;
  out.calls = calls > earlier.calls ? calls - earlier.calls : 0;
  out.sum_nanos = std::max(0.0, sum_nanos - earlier.sum_nanos);
  for (size_t i = 0; i < out.buckets.size() && i < earlier.buckets.size(); ++i) {
    out.buckets[i] = out.buckets[i] > earlier.buckets[i] ? out.buckets[i] - earlier.buckets[i] : 0;
  }
  return out;
}

void SpanMetricsTotals::add(const RollupSegment& segment, const SpanMetricsOptions& options) {
  for (const SpanRollup& row : segment.spans) {
    if (row.service >= segment.strings.size() || row.operation >= segment.strings.size()) continue;
    const std::string& service = segment.strings[row.service];
    if (service.empty()) {
      skipped_ += row.calls;
      continue;
    }
    SpanSeriesKey key{service, options.exclude_span_name ? "" : segment.strings[row.operation],
                      options.exclude_span_kind ? 0 : row.kind,
                      options.exclude_status_code ? 0 : row.status};
    series_[std::move(key)].add(row, options);
  }
}

void SpanMetricsTotals::add(const SpanMetricsTotals& other) {
  for (const auto& [key, totals] : other.series_) series_[key].add(totals);
  skipped_ += other.skipped_;
}

void SpanMetricsTotals::subtract(const SpanMetricsTotals& other) {
  for (const auto& [key, totals] : other.series_) {
    auto it = series_.find(key);
    if (it == series_.end()) continue;
    it->second = it->second.minus(totals);
  }
  skipped_ = skipped_ > other.skipped_ ? skipped_ - other.skipped_ : 0;
}

namespace {

void addStringAttribute(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attrs,
                        std::string_view key, std::string_view value) {
  otlp::pb_common::KeyValue* kv = attrs.Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

template <typename Point>
void setPointAttributes(Point& p, const SpanSeriesKey& key, const SpanMetricsOptions& options) {
  auto& attrs = *p.mutable_attributes();
  addStringAttribute(attrs, "service.name", key.service);
  if (!options.exclude_span_name) addStringAttribute(attrs, "span.name", key.operation);
  if (!options.exclude_span_kind) addStringAttribute(attrs, "span.kind", spanKindName(key.kind));
  if (!options.exclude_status_code) {
    addStringAttribute(attrs, "status.code", statusCodeName(key.status));
  }
}

}  // namespace

otlp::MetricsRequest spanMetricsRequest(const std::vector<SpanMetricPoint>& points,
                                        const SpanMetricsOptions& options) {
  namespace pbm = otlp::pb_metrics;
  const std::string prefix =
      options.metrics_namespace.empty() ? std::string() : options.metrics_namespace + ".";
  const auto temporality =
      options.delta ? pbm::AGGREGATION_TEMPORALITY_DELTA : pbm::AGGREGATION_TEMPORALITY_CUMULATIVE;
  // Points grouped by service, in the order of their keys.
  std::map<std::string, std::vector<const SpanMetricPoint*>> by_service;
  for (const SpanMetricPoint& p : points) by_service[p.key.service].push_back(&p);

  otlp::MetricsRequest request;
  for (const auto& [service, group] : by_service) {
    pbm::ResourceMetrics* rm = request.add_resource_metrics();
    addStringAttribute(*rm->mutable_resource()->mutable_attributes(), "service.name", service);
    pbm::ScopeMetrics* sm = rm->add_scope_metrics();
    sm->mutable_scope()->set_name(options.scope_name);

    pbm::Metric* calls = sm->add_metrics();
    calls->set_name(prefix + "calls");
    pbm::Sum* sum = calls->mutable_sum();
    sum->set_aggregation_temporality(temporality);
    sum->set_is_monotonic(true);
    for (const SpanMetricPoint* p : group) {
      pbm::NumberDataPoint* dp = sum->add_data_points();
      setPointAttributes(*dp, p->key, options);
      dp->set_start_time_unix_nano(static_cast<uint64_t>(p->start_unix_nano));
      dp->set_time_unix_nano(static_cast<uint64_t>(p->time_unix_nano));
      dp->set_as_int(static_cast<int64_t>(p->totals.calls));
    }
    if (options.histogram_disabled) continue;

    pbm::Metric* duration = sm->add_metrics();
    duration->set_name(prefix + "duration");
    duration->set_unit(options.seconds ? "s" : "ms");
    pbm::Histogram* hist = duration->mutable_histogram();
    hist->set_aggregation_temporality(temporality);
    const size_t slots = options.explicit_bounds_ns.size() + 1;
    for (const SpanMetricPoint* p : group) {
      pbm::HistogramDataPoint* dp = hist->add_data_points();
      setPointAttributes(*dp, p->key, options);
      dp->set_start_time_unix_nano(static_cast<uint64_t>(p->start_unix_nano));
      dp->set_time_unix_nano(static_cast<uint64_t>(p->time_unix_nano));
      dp->set_count(p->totals.calls);
      dp->set_sum(p->totals.sum_nanos / options.nanosPerUnit());
      for (size_t b = 0; b < slots; ++b) {
        dp->add_bucket_counts(b < p->totals.buckets.size() ? p->totals.buckets[b] : 0);
      }
      for (uint64_t bound : options.explicit_bounds_ns) {
        dp->add_explicit_bounds(static_cast<double>(bound) / options.nanosPerUnit());
      }
    }
  }
  return request;
}

}  // namespace otlpd::store
