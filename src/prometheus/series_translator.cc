#include "prometheus/series_translator.h"

#include <algorithm>
#include <cstring>

#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"
#include "prometheus/float_format.h"
#include "prometheus/histograms.h"

namespace otlpd::prometheus {
namespace {

namespace wire = otlp::wire;
using remote_write::Sample;
using remote_write::Series;

constexpr std::string_view kNameLabel = "__name__";

double staleNaN() {
  double d;
  std::memcpy(&d, &kStaleNaNBits, sizeof d);
  return d;
}

int64_t toMillis(uint64_t ns) {
  return static_cast<int64_t>(ns / 1'000'000);
}

// Inserts `label` into the sorted `labels`, replacing one of the same name.
void insertSorted(std::vector<Label>& labels, const Label& label) {
  auto it = std::lower_bound(labels.begin(), labels.end(), label,
                             [](const Label& a, const Label& b) { return a.name < b.name; });
  if (it != labels.end() && it->name == label.name) {
    it->value = label.value;
  } else {
    labels.insert(it, label);
  }
}

}  // namespace

SeriesTranslator::SeriesTranslator(SeriesOptions options)
    : options_(std::move(options)), builder_(options_.labels) {}

void SeriesTranslator::clear() {
  if (series_.size() > kSeriesKeptAnyway && series_.size() > 2 * active_.size()) {
    std::vector<Series> kept;
    kept.reserve(active_.size());
    for (uint32_t i : active_) kept.push_back(std::move(series_[i]));
    series_ = std::move(kept);
    index_.clear();
    for (uint32_t i = 0; i < series_.size(); ++i) index_.emplace(series_[i].encoded_labels, i);
    for (Series& s : series_) s.samples.clear();
  } else {
    for (uint32_t i : active_) series_[i].samples.clear();
  }
  active_.clear();
  samples_ = 0;
  unsupported_ = 0;
}

absl::Status SeriesTranslator::add(std::string_view request) {
  target_info_labels_.clear();
  resource_has_samples_ = false;
  absl::Status s = walker_.walk(request, *this);
  flushTargetInfo();
  return s;
}

void SeriesTranslator::finish() {
  for (uint32_t i : active_) {
    Series& s = series_[i];
    if (!std::is_sorted(s.samples.begin(), s.samples.end(), [](const Sample& a, const Sample& b) {
          return a.timestamp_ms < b.timestamp_ms;
        })) {
      std::stable_sort(s.samples.begin(), s.samples.end(), [](const Sample& a, const Sample& b) {
        return a.timestamp_ms < b.timestamp_ms;
      });
    }
  }
}

void SeriesTranslator::flushTargetInfo() {
  if (!target_info_labels_.empty() && resource_has_samples_) {
    std::string labels = std::move(target_info_labels_);
    auto [it, inserted] = index_.try_emplace(labels, static_cast<uint32_t>(series_.size()));
    if (inserted) series_.push_back(Series{std::move(labels), {}});
    Series& series = series_[it->second];
    if (series.samples.empty()) active_.push_back(it->second);
    series.samples.push_back({1.0, resource_latest_ms_});
    ++samples_;
  }
  target_info_labels_.clear();
  resource_has_samples_ = false;
  resource_latest_ms_ = 0;
}

void SeriesTranslator::onResource(const ResourceView& resource) {
  flushTargetInfo();
  builder_.setResource(resource);
  if (!options_.target_info || builder_.targetInfo().empty()) return;
  scratch_ = builder_.targetInfo();
  for (const auto& [name, value] : options_.labels.extra_labels) {
    if (std::none_of(scratch_.begin(), scratch_.end(),
                     [&name = name](const Label& l) { return l.name == name; })) {
      insertSorted(scratch_, {name, value});
    }
  }
  std::string_view target_info = kTargetInfo;
  std::string prefixed;
  if (!options_.names.name_space.empty()) {
    prefixed = std::string(options_.names.name_space) + "_" + std::string(kTargetInfo);
    target_info = prefixed;
  }
  insertSorted(scratch_, {kNameLabel, target_info});
  for (const Label& l : scratch_) remote_write::appendLabel(l.name, l.value, target_info_labels_);
}

void SeriesTranslator::onScope(const ScopeView& scope) {
  passthrough_ = scope.name == kSeriesPassthroughScope;
  builder_.setScope(scope);
}

bool SeriesTranslator::onMetric(const MetricView& metric) {
  metric_ = metric;
  if (passthrough_) {
    name_.assign(metric.name);
    return metric.kind == MetricKind::kGauge;
  }
  const bool cumulative_only = metric.kind == MetricKind::kSum ||
                               metric.kind == MetricKind::kHistogram ||
                               metric.kind == MetricKind::kExponentialHistogram;
  if (cumulative_only && metric.temporality != Temporality::kCumulative) {
    // Counted per point by the caller's walk: we still need the points to count them.
    return true;
  }
  name_ = metricName(metric.name, metric.unit, metric.kind, metric.monotonic, options_.names);
  bucket_name_ = name_ + "_bucket";
  sum_name_ = name_ + "_sum";
  count_name_ = name_ + "_count";
  return true;
}

void SeriesTranslator::pointLabels(const std::vector<Attribute>& attributes) {
  if (passthrough_) {
    base_.clear();
    for (const Attribute& a : attributes) base_.push_back({a.key, a.value});
    normalizeLabels(base_);
  } else {
    base_ = builder_.build(attributes);
  }
  encoded_base_.clear();
  offsets_.clear();
  for (const Label& l : base_) {
    offsets_.push_back(static_cast<uint32_t>(encoded_base_.size()));
    remote_write::appendLabel(l.name, l.value, encoded_base_);
  }
  offsets_.push_back(static_cast<uint32_t>(encoded_base_.size()));
}

void SeriesTranslator::addSample(std::string_view name, const Label* extra, double value,
                                 int64_t timestamp_ms) {
  // Labels in name order: __name__ and the extra one (le, quantile) merged into the sorted base,
  // whose labels were encoded once for the point (a point gives up to a dozen series).
  Label first{kNameLabel, name};
  Label second{};
  bool two = extra != nullptr;
  if (two) {
    second = *extra;
    if (second.name < first.name) std::swap(first, second);
  }
  int pending = two ? 2 : 1;
  auto emitBefore = [&](std::string_view next) {
    while (pending > 0) {
      const Label& l = (two && pending == 1) ? second : first;
      if (!(l.name < next)) return;
      remote_write::appendLabel(l.name, l.value, key_);
      if (two && pending == 2) {
        pending = 1;
      } else {
        pending = 0;
      }
    }
  };
  key_.clear();
  for (size_t i = 0; i < base_.size(); ++i) {
    const std::string_view n = base_[i].name;
    if (n == kNameLabel || (extra != nullptr && n == extra->name)) continue;  // ours win
    emitBefore(n);
    key_.append(encoded_base_, offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  emitBefore("\x7f\x7f\x7f\x7f");  // after every label name

  auto it = index_.find(key_);
  if (it == index_.end()) {
    it = index_.emplace(key_, static_cast<uint32_t>(series_.size())).first;
    series_.push_back(Series{key_, {}});
  }
  Series& series = series_[it->second];
  if (series.samples.empty()) active_.push_back(it->second);
  series.samples.push_back({value, timestamp_ms});
  ++samples_;
  if (!resource_has_samples_ || timestamp_ms > resource_latest_ms_) {
    resource_latest_ms_ = timestamp_ms;
  }
  resource_has_samples_ = true;
}

void SeriesTranslator::onNumber(const NumberPoint& p) {
  if (!passthrough_ && metric_.kind == MetricKind::kSum &&
      metric_.temporality != Temporality::kCumulative) {
    ++unsupported_;
    return;
  }
  pointLabels(p.attributes);
  const double value = (p.flags & kFlagNoRecordedValue) ? staleNaN() : p.value;
  addSample(name_, nullptr, value, toMillis(p.time_ns));
}

void SeriesTranslator::onHistogram(const HistogramPoint& p) {
  if (metric_.temporality != Temporality::kCumulative) {
    ++unsupported_;
    return;
  }
  pointLabels(p.attributes);
  const int64_t ts = toMillis(p.time_ns);
  const bool stale = (p.flags & kFlagNoRecordedValue) != 0;
  cumulativeBuckets(p.bounds, p.bucket_counts, counts_);
  for (size_t i = 0; i < p.bounds.size(); ++i) {
    le_.clear();
    appendFloat(p.bounds[i], le_);
    const Label le{"le", le_};
    addSample(bucket_name_, &le, stale ? staleNaN() : static_cast<double>(counts_[i]), ts);
  }
  const Label inf{"le", "+Inf"};
  addSample(bucket_name_, &inf, stale ? staleNaN() : static_cast<double>(p.count), ts);
  if (p.has_sum) addSample(sum_name_, nullptr, stale ? staleNaN() : p.sum, ts);
  addSample(count_name_, nullptr, stale ? staleNaN() : static_cast<double>(p.count), ts);
}

void SeriesTranslator::onExponentialHistogram(const ExponentialHistogramPoint& p) {
  if (metric_.temporality != Temporality::kCumulative) {
    ++unsupported_;
    return;
  }
  pointLabels(p.attributes);
  const int64_t ts = toMillis(p.time_ns);
  const bool stale = (p.flags & kFlagNoRecordedValue) != 0;
  exponentialAsClassic(p, bounds_, counts_);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    le_.clear();
    appendFloat(bounds_[i], le_);
    const Label le{"le", le_};
    addSample(bucket_name_, &le, stale ? staleNaN() : static_cast<double>(counts_[i]), ts);
  }
  const Label inf{"le", "+Inf"};
  addSample(bucket_name_, &inf, stale ? staleNaN() : static_cast<double>(p.count), ts);
  if (p.has_sum) addSample(sum_name_, nullptr, stale ? staleNaN() : p.sum, ts);
  addSample(count_name_, nullptr, stale ? staleNaN() : static_cast<double>(p.count), ts);
}

void SeriesTranslator::onSummary(const SummaryPoint& p) {
  pointLabels(p.attributes);
  const int64_t ts = toMillis(p.time_ns);
  const bool stale = (p.flags & kFlagNoRecordedValue) != 0;
  for (const auto& [q, v] : p.quantiles) {
    le_.clear();
    appendFloat(q, le_);
    const Label quantile{"quantile", le_};
    addSample(name_, &quantile, stale ? staleNaN() : v, ts);
  }
  addSample(sum_name_, nullptr, stale ? staleNaN() : p.sum, ts);
  addSample(count_name_, nullptr, stale ? staleNaN() : static_cast<double>(p.count), ts);
}

std::string encodeSeriesAsOtlp(const std::vector<Series>& series,
                               const std::vector<remote_write::Chunk>& chunks, size_t* points) {
  // ExportMetricsServiceRequest { resource_metrics { resource {} scope_metrics { scope { name }
  // metrics [...] } } }, each chunk one gauge metric.
  std::string metrics;
  std::string metric, gauge, point, kv, any;
  size_t count = 0;
  for (const remote_write::Chunk& c : chunks) {
    const Series& s = series[c.series];
    std::string_view name;
    std::string attributes;
    wire::Reader r(s.encoded_labels);
    wire::Field f;
    while (!r.done() && r.next(f) == wire::Stop::kNone) {
      std::string_view label_name = wire::lastLengthDelimited(f.bytes, 1);
      std::string_view label_value = wire::lastLengthDelimited(f.bytes, 2);
      if (label_name == kNameLabel) {
        name = label_value;
        continue;
      }
      any.clear();
      wire::appendLengthDelimited(1, label_value, any);  // AnyValue.string_value
      kv.clear();
      wire::appendLengthDelimited(1, label_name, kv);
      wire::appendLengthDelimited(2, any, kv);
      wire::appendLengthDelimited(7, kv, attributes);  // NumberDataPoint.attributes
    }
    gauge.clear();
    for (uint32_t i = c.begin; i < c.end; ++i) {
      const Sample& sample = s.samples[i];
      point = attributes;
      wire::appendTag(3, wire::kFixed64, point);  // time_unix_nano
      wire::appendFixed64(static_cast<uint64_t>(sample.timestamp_ms) * 1'000'000, point);
      wire::appendTag(4, wire::kFixed64, point);  // as_double
      uint64_t bits;
      std::memcpy(&bits, &sample.value, 8);
      wire::appendFixed64(bits, point);
      wire::appendLengthDelimited(1, point, gauge);
      ++count;
    }
    metric.clear();
    wire::appendLengthDelimited(1, name, metric);
    wire::appendLengthDelimited(5, gauge, metric);
    wire::appendLengthDelimited(2, metric, metrics);  // ScopeMetrics.metrics
  }
  std::string scope_name;
  wire::appendLengthDelimited(1, kSeriesPassthroughScope, scope_name);
  std::string scope_metrics;
  wire::appendLengthDelimited(1, scope_name, scope_metrics);
  scope_metrics.append(metrics);
  std::string resource_metrics;
  wire::appendLengthDelimited(1, "", resource_metrics);
  wire::appendLengthDelimited(2, scope_metrics, resource_metrics);
  std::string request;
  wire::appendLengthDelimited(1, resource_metrics, request);
  if (points != nullptr) *points = count;
  return request;
}

}  // namespace otlpd::prometheus
