// OTLP metrics → Prometheus series for remote write: every data point becomes samples of series
// named and labelled as docs/PROMETHEUS.md says (histograms as _bucket/_sum/_count,
// exponential histograms as classic buckets, summaries as quantiles/_sum/_count, target_info per
// resource), grouped by series with each series' samples in timestamp order. Reads the wire bytes
// (otlp_metrics_walk.h): the remote-write hot path. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "prometheus/otel_labels.h"
#include "prometheus/otlp_metrics_walk.h"
#include "prometheus/remote_write.h"

namespace otlpd::prometheus {

// The scope of OTLP requests that carry Prometheus series as they are (metric name = __name__,
// attributes = the other labels, one gauge point per sample): what the remote-write exporter
// keeps of series it could not deliver (retries, dead letters). Translated verbatim.
inline constexpr std::string_view kSeriesPassthroughScope = "otlpd.prometheus.series";

// Prometheus' staleness marker: a NaN that is not the usual NaN.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

struct SeriesOptions {
  NameOptions names;
  LabelOptions labels;
  bool target_info = true;
};

class SeriesTranslator final : private MetricsVisitor {
 public:
  explicit SeriesTranslator(SeriesOptions options);

  // Adds the points of an encoded ExportMetricsServiceRequest.
  absl::Status add(std::string_view request);
  // Sorts each series' samples by timestamp (a stable sort: equal timestamps keep their order).
  void finish();

  // Every series known to this translator: those of the requests added since clear() have
  // samples, the others (kept from earlier batches so that their labels are not built, hashed
  // into the index and allocated again) have none, and remote_write::packRequests skips them.
  const std::vector<remote_write::Series>& series() const { return series_; }
  size_t sampleCount() const { return samples_; }
  // Points that remote write cannot carry (delta sums and histograms, as the Collector drops).
  size_t unsupportedPoints() const { return unsupported_; }
  // Forgets the samples (keeping the series of the last batch for the next one, and dropping
  // the others once they outnumber those).
  void clear();

 private:
  void onResource(const ResourceView& resource) override;
  void onScope(const ScopeView& scope) override;
  bool onMetric(const MetricView& metric) override;
  void onNumber(const NumberPoint& point) override;
  void onHistogram(const HistogramPoint& point) override;
  void onExponentialHistogram(const ExponentialHistogramPoint& point) override;
  void onSummary(const SummaryPoint& point) override;

  // The point's labels without __name__ (base_), then one sample of series name{base_, extra}.
  void pointLabels(const std::vector<Attribute>& attributes);
  void addSample(std::string_view name, const Label* extra, double value, int64_t timestamp_ms);
  void flushTargetInfo();

  SeriesOptions options_;
  MetricsWalker walker_;
  LabelBuilder builder_;
  bool passthrough_ = false;
  MetricView metric_;
  std::string name_, bucket_name_, sum_name_, count_name_;
  std::vector<Label> base_;
  std::vector<Label> scratch_;
  std::string encoded_base_;  // base_ encoded, label i at [offsets_[i], offsets_[i+1])
  std::vector<uint32_t> offsets_;
  std::string key_;
  std::string le_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;

  // target_info of the current resource, emitted at the latest timestamp of its samples.
  std::string target_info_labels_;
  int64_t resource_latest_ms_ = 0;
  bool resource_has_samples_ = false;

  // Series kept when they exceed this and twice those of the last batch: the ones that batch
  // did not have are dropped.
  static constexpr size_t kSeriesKeptAnyway = 1024;
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<remote_write::Series> series_;
  std::vector<uint32_t> active_;  // series with samples since clear(), in first-sample order
  size_t samples_ = 0;
  size_t unsupported_ = 0;
};

// OTLP bytes (a request of scope kSeriesPassthroughScope) holding these chunks' samples, and how
// many points (= samples) it has.
std::string encodeSeriesAsOtlp(const std::vector<remote_write::Series>& series,
                               const std::vector<remote_write::Chunk>& chunks, size_t* points);

}  // namespace otlpd::prometheus
