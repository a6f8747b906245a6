#include "prometheus/exposition_store.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"
#include "prometheus/float_format.h"
#include "prometheus/histograms.h"
#include "prometheus/otel_names.h"

namespace otlpd::prometheus {

struct ExpositionStore::Layout {
  std::vector<double> bounds;
  std::vector<std::string> le;  // each bound as its `le` label value
};

struct ExpositionStore::SeriesState {
  std::string labels;  // a="b",c="d" (sorted, escaped, no braces)
  absl::Time updated;
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  double value = 0;  // numbers; the sum of histograms and summaries
  uint64_t count = 0;
  bool has_sum = false;
  std::shared_ptr<const Layout> layout;
  std::vector<uint64_t> cumulative;
  std::vector<std::pair<double, double>> quantiles;
};

struct ExpositionStore::Family {
  std::string name;
  Type type = Type::kGauge;
  std::string help;
  std::string unit;  // the unit suffix, when the name ends with it (OpenMetrics # UNIT)
  std::vector<SeriesState> series;
  absl::flat_hash_map<std::string, uint32_t> index;
  std::shared_ptr<const Layout> last_layout;
};

namespace {

using Type = ExpositionStore::Type;

void appendInt(uint64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(end - buf));
}

void appendTimestamp(uint64_t time_ns, ExpositionFormat format, std::string& out) {
  const uint64_t ms = time_ns / 1'000'000;
  out.push_back(' ');
  if (format == ExpositionFormat::kText004) {
    appendInt(ms, out);
    return;
  }
  // OpenMetrics: seconds.
  appendInt(ms / 1000, out);
  out.push_back('.');
  const uint64_t frac = ms % 1000;
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
}

std::string_view typeName(Type type, ExpositionFormat format) {
  switch (type) {
    case Type::kGauge:
      return "gauge";
    case Type::kCounter:
      return "counter";
    case Type::kHistogram:
      return "histogram";
    case Type::kSummary:
      return "summary";
  }
  return format == ExpositionFormat::kText004 ? "untyped" : "unknown";
}

}  // namespace

void appendEscapedLabelValue(std::string_view value, std::string& out) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(start, i - start));
    out.append(c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n");
    start = i + 1;
  }
  out.append(value.substr(start));
}

void appendEscapedHelp(std::string_view help, bool open_metrics, std::string& out) {
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '"' && open_metrics) {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

ExpositionFormat negotiateFormat(std::string_view accept, bool open_metrics_enabled) {
  if (open_metrics_enabled &&
      absl::AsciiStrToLower(toAbsl(accept)).find("application/openmetrics-text") !=
          std::string::npos) {
    return ExpositionFormat::kOpenMetrics100;
  }
  return ExpositionFormat::kText004;
}

ExpositionStore::ExpositionStore(StoreOptions options)
    : options_(std::move(options)), builder_(options_.labels) {}

ExpositionStore::~ExpositionStore() = default;

size_t ExpositionStore::seriesCount() const {
  size_t n = 0;
  for (const auto& [name, f] : families_) n += f->series.size();
  return n;
}

absl::Status ExpositionStore::add(std::string_view request, absl::Time now) {
  now_ = now;
  return walker_.walk(request, *this);
}

ExpositionStore::Family* ExpositionStore::family(const std::string& name, Type type,
                                                 std::string_view help, std::string_view unit) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = name;
    f->type = type;
    f->help = std::string(help);
    // OpenMetrics wants the unit as the name's suffix (before _total for counters).
    const std::string suffix = unitSuffix(unit);
    std::string_view base = name;
    if (type == Type::kCounter && absl::EndsWith(toAbsl(base), "_total")) {
      base.remove_suffix(6);
    }
    if (!suffix.empty() && absl::EndsWith(toAbsl(base), toAbsl("_" + suffix))) f->unit = suffix;
    it = families_.emplace(name, std::move(f)).first;
  }
  Family* f = it->second.get();
  if (f->type != type) return nullptr;  // a name already used with another type
  if (f->help.empty() && !help.empty()) f->help = std::string(help);
  return f;
}

void ExpositionStore::onResource(const ResourceView& resource) {
  builder_.setResource(resource);
  const std::vector<Label>& info = builder_.targetInfo();
  if (info.empty()) return;
  std::string name(kTargetInfo);
  if (!options_.names.name_space.empty()) {
    name = strCat(options_.names.name_space, "_", kTargetInfo);
  }
  Family* f = family(name, Type::kGauge, "Target metadata", "");
  if (f == nullptr) return;
  std::vector<Label> labels = info;
  for (const auto& [k, v] : options_.labels.extra_labels) {
    if (std::none_of(labels.begin(), labels.end(),
                     [&k = k](const Label& l) { return l.name == k; })) {
      labels.push_back({k, v});
    }
  }
  normalizeLabels(labels);
  label_text_.clear();
  for (const Label& l : labels) {
    if (!label_text_.empty()) label_text_.push_back(',');
    label_text_.append(l.name);
    label_text_.append("=\"");
    appendEscapedLabelValue(l.value, label_text_);
    label_text_.push_back('"');
  }
  auto [it, inserted] = f->index.try_emplace(label_text_, static_cast<uint32_t>(f->series.size()));
  if (inserted) {
    f->series.emplace_back();
    f->series.back().labels = label_text_;
  }
  SeriesState& s = f->series[it->second];
  s.value = 1;
  s.updated = now_;
}

void ExpositionStore::onScope(const ScopeView& scope) {
  builder_.setScope(scope);
}

bool ExpositionStore::onMetric(const MetricView& metric) {
  metric_ = metric;
  Type type = Type::kGauge;
  delta_ = metric.temporality == Temporality::kDelta;
  switch (metric.kind) {
    case MetricKind::kGauge:
      type = Type::kGauge;
      delta_ = false;
      break;
    case MetricKind::kSum:
      type = metric.monotonic ? Type::kCounter : Type::kGauge;
      break;
    case MetricKind::kHistogram:
    case MetricKind::kExponentialHistogram:
      type = Type::kHistogram;
      break;
    case MetricKind::kSummary:
      type = Type::kSummary;
      delta_ = false;
      break;
  }
  const std::string name =
      metricName(metric.name, metric.unit, metric.kind, metric.monotonic, options_.names);
  current_ = name.empty() ? nullptr : family(name, type, metric.description, metric.unit);
  if (current_ == nullptr) {
    // Still walked, to count what is dropped.
    return true;
  }
  return true;
}

ExpositionStore::SeriesState* ExpositionStore::seriesFor(const std::vector<Attribute>& attributes,
                                                         bool* created) {
  if (current_ == nullptr) {
    ++counters_.dropped_points;
    return nullptr;
  }
  const std::vector<Label>& labels = builder_.build(attributes);
  label_text_.clear();
  for (const Label& l : labels) {
    if (!label_text_.empty()) label_text_.push_back(',');
    label_text_.append(l.name);
    label_text_.append("=\"");
    appendEscapedLabelValue(l.value, label_text_);
    label_text_.push_back('"');
  }
  auto [it, inserted] =
      current_->index.try_emplace(label_text_, static_cast<uint32_t>(current_->series.size()));
  if (inserted) {
    current_->series.emplace_back();
    current_->series.back().labels = label_text_;
  }
  *created = inserted;
  return &current_->series[it->second];
}

// Whether a point of `time_ns` may update the series; counts the ones that may not.
bool ExpositionStore::acceptTime(SeriesState& s, bool created, uint64_t time_ns) {
  if (!created && time_ns < s.time_ns) {
    ++counters_.dropped_points;
    return false;
  }
  return true;
}

void ExpositionStore::removeSeries(Family& f, size_t index) {
  const size_t last = f.series.size() - 1;
  f.index.erase(f.series[index].labels);
  if (index != last) {
    f.series[index] = std::move(f.series[last]);
    f.index[f.series[index].labels] = static_cast<uint32_t>(index);
  }
  f.series.pop_back();
}

void ExpositionStore::onNumber(const NumberPoint& p) {
  bool created = false;
  SeriesState* s = seriesFor(p.attributes, &created);
  if (s == nullptr) return;
  if (p.flags & kFlagNoRecordedValue) {
    // The series ended: stop exposing it.
    removeSeries(*current_, static_cast<size_t>(s - current_->series.data()));
    return;
  }
  if (!acceptTime(*s, created, p.time_ns)) return;
  if (delta_ && !created) {
    if (p.time_ns == s->time_ns) {
      ++counters_.dropped_points;  // the same delta twice (a retried export)
      return;
    }
    if (p.start_ns >= s->time_ns || p.start_ns == 0) {
      s->value += p.value;  // contiguous (or after a gap): accumulate
    } else {
      s->value = p.value;  // overlapping: the producer restarted
      s->start_ns = p.start_ns;
    }
  } else {
    s->value = p.value;
    s->start_ns = p.start_ns;
  }
  s->time_ns = p.time_ns;
  s->updated = now_;
  ++counters_.accepted_points;
}

void ExpositionStore::histogramPoint(const PointCommon& p, std::vector<double>& bounds,
                                     std::vector<uint64_t>& cumulative, uint64_t count, double sum,
                                     bool has_sum) {
  bool created = false;
  SeriesState* s = seriesFor(p.attributes, &created);
  if (s == nullptr) return;
  if (p.flags & kFlagNoRecordedValue) {
    removeSeries(*current_, static_cast<size_t>(s - current_->series.data()));
    return;
  }
  if (!acceptTime(*s, created, p.time_ns)) return;
  // Series of a family mostly share their buckets: one layout (and its `le` texts) for them.
  std::shared_ptr<const Layout> layout = current_->last_layout;
  if (!layout || layout->bounds != bounds) {
    auto fresh = std::make_shared<Layout>();
    fresh->bounds = bounds;
    for (double b : bounds) fresh->le.push_back(formatFloat(b));
    layout = fresh;
    current_->last_layout = layout;
  }
  const bool same_layout = s->layout && s->layout->bounds == bounds;
  if (delta_ && !created && same_layout && p.time_ns != s->time_ns &&
      (p.start_ns >= s->time_ns || p.start_ns == 0)) {
    for (size_t i = 0; i < cumulative.size(); ++i) s->cumulative[i] += cumulative[i];
    s->count += count;
    s->value += sum;
    s->has_sum = s->has_sum || has_sum;
  } else if (delta_ && !created && p.time_ns == s->time_ns) {
    ++counters_.dropped_points;
    return;
  } else {
    s->cumulative = cumulative;
    s->count = count;
    s->value = sum;
    s->has_sum = has_sum;
    s->start_ns = p.start_ns;
  }
  s->layout = std::move(layout);
  s->time_ns = p.time_ns;
  s->updated = now_;
  ++counters_.accepted_points;
}

void ExpositionStore::onHistogram(const HistogramPoint& p) {
  cumulativeBuckets(p.bounds, p.bucket_counts, cumulative_);
  bounds_ = p.bounds;
  histogramPoint(p, bounds_, cumulative_, p.count, p.sum, p.has_sum);
}

void ExpositionStore::onExponentialHistogram(const ExponentialHistogramPoint& p) {
  exponentialAsClassic(p, bounds_, cumulative_);
  histogramPoint(p, bounds_, cumulative_, p.count, p.sum, p.has_sum);
}

void ExpositionStore::onSummary(const SummaryPoint& p) {
  bool created = false;
  SeriesState* s = seriesFor(p.attributes, &created);
  if (s == nullptr) return;
  if (p.flags & kFlagNoRecordedValue) {
    removeSeries(*current_, static_cast<size_t>(s - current_->series.data()));
    return;
  }
  if (!acceptTime(*s, created, p.time_ns)) return;
  s->quantiles = p.quantiles;
  s->count = p.count;
  s->value = p.sum;
  s->has_sum = true;
  s->start_ns = p.start_ns;
  s->time_ns = p.time_ns;
  s->updated = now_;
  ++counters_.accepted_points;
}

void ExpositionStore::expire(absl::Time now) {
  const absl::Time oldest = now - options_.expiration;
  for (auto it = families_.begin(); it != families_.end();) {
    Family& f = *it->second;
    for (size_t i = f.series.size(); i-- > 0;) {
      if (f.series[i].updated < oldest) {
        removeSeries(f, i);
        ++counters_.expired_series;
      }
    }
    it = f.series.empty() ? families_.erase(it) : std::next(it);
  }
}

void ExpositionStore::render(ExpositionFormat format, absl::Time now, std::string& out) {
  expire(now);
  const bool om = format == ExpositionFormat::kOpenMetrics100;
  const bool timestamps = options_.send_timestamps;
  for (const auto& [key, fp] : families_) {
    const Family& f = *fp;
    // OpenMetrics names a counter family without its _total, which its samples carry.
    std::string_view family_name = f.name;
    std::string counter_sample;
    if (f.type == Type::kCounter && om) {
      if (absl::EndsWith(toAbsl(family_name), "_total")) {
        family_name.remove_suffix(6);
        counter_sample = f.name;
      } else {
        counter_sample = f.name + "_total";
      }
    }
    if (!f.help.empty()) {
      out.append("# HELP ");
      out.append(family_name);
      out.push_back(' ');
      appendEscapedHelp(f.help, om, out);
      out.push_back('\n');
    }
    out.append("# TYPE ");
    out.append(family_name);
    out.push_back(' ');
    out.append(typeName(f.type, format));
    out.push_back('\n');
    if (om && !f.unit.empty()) {
      out.append("# UNIT ");
      out.append(family_name);
      out.push_back(' ');
      out.append(f.unit);
      out.push_back('\n');
    }
    auto sampleStart = [&](std::string_view name, const SeriesState& s, std::string_view extra_name,
                           std::string_view extra_value) {
      out.append(name);
      if (!s.labels.empty() || !extra_name.empty()) {
        out.push_back('{');
        out.append(s.labels);
        if (!extra_name.empty()) {
          if (!s.labels.empty()) out.push_back(',');
          out.append(extra_name);
          out.append("=\"");
          out.append(extra_value);
          out.push_back('"');
        }
        out.push_back('}');
      }
      out.push_back(' ');
    };
    auto sampleEnd = [&](const SeriesState& s) {
      if (timestamps && s.time_ns != 0) appendTimestamp(s.time_ns, format, out);
      out.push_back('\n');
    };
    switch (f.type) {
      case Type::kGauge:
      case Type::kCounter: {
        const std::string_view sample_name = counter_sample.empty() ? f.name : counter_sample;
        for (const SeriesState& s : f.series) {
          sampleStart(sample_name, s, {}, {});
          appendFloat(s.value, out);
          sampleEnd(s);
        }
        break;
      }
      case Type::kHistogram: {
        const std::string bucket = f.name + "_bucket", sum = f.name + "_sum",
                          count = f.name + "_count";
        for (const SeriesState& s : f.series) {
          if (s.layout) {
            for (size_t i = 0; i < s.layout->le.size() && i < s.cumulative.size(); ++i) {
              sampleStart(bucket, s, "le", s.layout->le[i]);
              appendInt(s.cumulative[i], out);
              sampleEnd(s);
            }
          }
          sampleStart(bucket, s, "le", "+Inf");
          appendInt(s.count, out);
          sampleEnd(s);
          if (s.has_sum) {
            sampleStart(sum, s, {}, {});
            appendFloat(s.value, out);
            sampleEnd(s);
          }
          sampleStart(count, s, {}, {});
          appendInt(s.count, out);
          sampleEnd(s);
        }
        break;
      }
      case Type::kSummary: {
        const std::string sum = f.name + "_sum", count = f.name + "_count";
        std::string q;
        for (const SeriesState& s : f.series) {
          for (const auto& [quantile, value] : s.quantiles) {
            q.clear();
            appendFloat(quantile, q);
            sampleStart(f.name, s, "quantile", q);
            appendFloat(value, out);
            sampleEnd(s);
          }
          sampleStart(sum, s, {}, {});
          appendFloat(s.value, out);
          sampleEnd(s);
          sampleStart(count, s, {}, {});
          appendInt(s.count, out);
          sampleEnd(s);
        }
        break;
      }
    }
  }
  if (om) out.append("# EOF\n");
}

}  // namespace otlpd::prometheus
