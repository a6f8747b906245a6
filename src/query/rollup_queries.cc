#include "query/rollup_queries.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <set>

namespace otlpd::query {
namespace {

using json = nlohmann::json;

constexpr int32_t kServer = 2, kConsumer = 5;

int64_t micros(int64_t ns) {
  return ns / 1000;
}

// The group of each string of a segment: index → interned key, computed once per segment.
const std::string* groupKey(const store::RollupSegment& s, const store::SpanRollup& r,
                            const std::optional<std::string>& service) {
  if (!isRequest(r)) return nullptr;
  if (service) {
    if (s.strings[r.service] != *service) return nullptr;
    return &s.strings[r.operation];
  }
  return &s.strings[r.service];
}

}  // namespace

MinuteRange MinuteRange::of(int64_t start, int64_t end) {
  MinuteRange m;
  if (end <= start) return m;
  m.first = store::minuteOf(start);
  m.last = store::minuteOf(end - 1);
  return m;
}

bool isRequest(const store::SpanRollup& r) {
  return r.kind == kServer || r.kind == kConsumer || r.root;
}

RollupRed::RollupRed(std::optional<std::string> service, MinuteRange minutes, size_t max_groups)
    : service_(std::move(service)), minutes_(minutes), max_groups_(max_groups) {}

void RollupRed::add(const store::RollupSegment& s) {
  for (const store::SpanRollup& r : s.spans) {
    if (!minutes_.contains(r.minute)) continue;
    const std::string* key = groupKey(s, r, service_);
    if (key == nullptr) continue;
    auto it = groups_.find(*key);
    if (it == groups_.end()) {
      if (groups_.size() >= max_groups_) {
        truncated_ = true;
        continue;
      }
      it = groups_.emplace(*key, Group{}).first;
    }
    it->second.requests += r.calls;
    it->second.errors += r.errors;
    it->second.latency.merge(r.latency);
  }
}

json RollupRed::finish(double window_seconds) const {
  json out = json::array();
  for (const auto& [key, g] : groups_) {
    json row = json::object();
    row["service"] = service_ ? *service_ : key;
    if (service_) row["operation"] = key;
    row["requests"] = g.requests;
    row["errors"] = g.errors;
    row["ratePerSecond"] =
        window_seconds > 0 ? static_cast<double>(g.requests) / window_seconds : 0.0;
    row["errorRate"] =
        g.requests > 0 ? static_cast<double>(g.errors) / static_cast<double>(g.requests) : 0.0;
    row["p50"] = micros(g.latency.quantile(0.50));
    row["p95"] = micros(g.latency.quantile(0.95));
    row["p99"] = micros(g.latency.quantile(0.99));
    out.push_back(std::move(row));
  }
  return out;
}

RollupRedSeries::RollupRedSeries(std::optional<std::string> service, MinuteRange minutes,
                                 int64_t step_minutes, size_t max_groups)
    : service_(std::move(service)),
      minutes_(minutes),
      step_(std::max<int64_t>(1, step_minutes)),
      max_groups_(max_groups) {}

void RollupRedSeries::add(const store::RollupSegment& s) {
  for (const store::SpanRollup& r : s.spans) {
    if (!minutes_.contains(r.minute)) continue;
    const std::string* key = groupKey(s, r, service_);
    if (key == nullptr) continue;
    auto it = groups_.find(*key);
    if (it == groups_.end()) {
      if (groups_.size() >= max_groups_) {
        truncated_ = true;
        continue;
      }
      it = groups_.emplace(*key, std::map<int64_t, Point>{}).first;
    }
    // Steps are multiples of step_ since the epoch: with whole hours in a step, an hourly row
    // falls in the step of each of its minutes.
    const int64_t step =
        (r.minute >= 0 ? r.minute / step_ : (r.minute - step_ + 1) / step_) * step_;
    Point& p = it->second[step];
    p.requests += r.calls;
    p.errors += r.errors;
    p.latency.merge(r.latency);
  }
}

json RollupRedSeries::finish() const {
  json out = json::array();
  for (const auto& [key, points] : groups_) {
    json row = json::object();
    row["service"] = service_ ? *service_ : key;
    if (service_) row["operation"] = key;
    json pts = json::array();
    for (const auto& [minute, p] : points) {
      pts.push_back({{"time", minute * 60 * 1000000},
                     {"requests", p.requests},
                     {"errors", p.errors},
                     {"p50", micros(p.latency.quantile(0.50))},
                     {"p95", micros(p.latency.quantile(0.95))},
                     {"p99", micros(p.latency.quantile(0.99))}});
    }
    row["stepSeconds"] = step_ * 60;
    row["points"] = std::move(pts);
    out.push_back(std::move(row));
  }
  return out;
}

void RollupDependencies::add(const store::RollupSegment& s) {
  for (const store::EdgeRollup& e : s.edges) {
    if (!minutes_.contains(e.minute)) continue;
    auto& v = edges_[{s.strings[e.parent], s.strings[e.child]}];
    v.first += e.calls;
    v.second += e.errors;
  }
}

json RollupDependencies::finish() const {
  json out = json::array();
  for (const auto& [edge, v] : edges_) {
    out.push_back({{"parent", edge.first}, {"child", edge.second}, {"callCount", v.first}});
  }
  return out;
}

RollupSpm::RollupSpm(SpmQuery query) : q_(std::move(query)) {}

MinuteRange RollupSpm::minutes() const {
  const int64_t start_ms = q_.end_ms - q_.lookback_ms - q_.rate_per_ms;
  return MinuteRange::of(start_ms * 1000000, q_.end_ms * 1000000);
}

void RollupSpm::add(const store::RollupSegment& s) {
  const MinuteRange range = minutes();
  const std::set<std::string> services(q_.services.begin(), q_.services.end());
  std::vector<int8_t> wanted(s.strings.size(), -1);  // per string: is it a wanted service?
  for (const store::SpanRollup& r : s.spans) {
    if (!range.contains(r.minute)) continue;
    if (std::find(q_.kinds.begin(), q_.kinds.end(), r.kind) == q_.kinds.end()) continue;
    int8_t& w = wanted[r.service];
    if (w < 0) w = services.count(s.strings[r.service]) > 0 ? 1 : 0;
    if (w == 0) continue;
    Minute& m = groups_[{s.strings[r.service],
                         q_.group_by_operation ? s.strings[r.operation] : std::string()}][r.minute];
    m.calls += r.calls;
    m.errors += r.errors;
    if (q_.metric == SpmQuery::Metric::kLatencies) m.latency.merge(r.latency);
  }
}

json RollupSpm::finish() const {
  json out = json::object();
  std::string name, help;
  switch (q_.metric) {
    case SpmQuery::Metric::kCalls:
      name = "service_call_rate";
      help = "calls/sec, grouped by service";
      break;
    case SpmQuery::Metric::kErrors:
      name = "service_error_rate";
      help = "error rate, computed as a fraction of errors/sec over calls/sec, grouped by service";
      break;
    case SpmQuery::Metric::kLatencies: {
      name = "service_latencies";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2fth quantile latency, grouped by service", q_.quantile);
      help = buf;
      break;
    }
  }
  if (q_.group_by_operation) {
    name.replace(0, 7, "service_operation");
    help += " & operation";
  }
  out["name"] = name;
  out["type"] = "GAUGE";
  out["help"] = help;
  json metrics = json::array();
  const int64_t start_ms = q_.end_ms - q_.lookback_ms;
  const double rate_seconds = static_cast<double>(q_.rate_per_ms) / 1000.0;
  for (const auto& [key, by_minute] : groups_) {
    json points = json::array();
    for (int64_t t = start_ms; t <= q_.end_ms; t += q_.step_ms) {
      // Minutes starting in [t − ratePer, t).
      const int64_t from = t - q_.rate_per_ms;
      const int64_t first = from >= 0 ? (from + 59999) / 60000 : -((-from) / 60000);
      const int64_t last_excl = t >= 0 ? (t + 59999) / 60000 : -((-t) / 60000);
      uint64_t calls = 0, errors = 0;
      store::LatencyHistogram latency;
      for (auto it = by_minute.lower_bound(first); it != by_minute.end() && it->first < last_excl;
           ++it) {
        calls += it->second.calls;
        errors += it->second.errors;
        if (q_.metric == SpmQuery::Metric::kLatencies) latency.merge(it->second.latency);
      }
      double value = 0;
      switch (q_.metric) {
        case SpmQuery::Metric::kCalls:
          value = static_cast<double>(calls) / rate_seconds;
          break;
        case SpmQuery::Metric::kErrors:
          if (calls == 0) continue;  // 0/0: Prometheus has no sample either
          value = static_cast<double>(errors) / static_cast<double>(calls);
          break;
        case SpmQuery::Metric::kLatencies:
          if (calls == 0) continue;
          value = static_cast<double>(latency.quantile(q_.quantile)) / 1e6;  // ms
          break;
      }
      points.push_back({{"gaugeValue", {{"doubleValue", value}}},
                        {"timestamp", protoJsonTimestamp(t * 1000000)}});
    }
    json labels = json::array({{{"name", "service_name"}, {"value", key.first}}});
    if (q_.group_by_operation) labels.push_back({{"name", "operation"}, {"value", key.second}});
    metrics.push_back({{"labels", std::move(labels)}, {"metricPoints", std::move(points)}});
  }
  out["metrics"] = std::move(metrics);
  return out;
}

std::string protoJsonTimestamp(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t nanos = unix_nanos % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  const auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos != 0) {
    char frac[16];
    if (nanos % 1000000 == 0) {
      std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(nanos / 1000000));
    } else if (nanos % 1000 == 0) {
      std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(nanos / 1000));
    } else {
      std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    }
    out += frac;
  }
  return out + "Z";
}

RollupSpanMetrics::RollupSpanMetrics(std::optional<std::string> service, MinuteRange minutes,
                                     int64_t step_minutes, int64_t origin_minute,
                                     store::SpanMetricsOptions options)
    : service_(std::move(service)),
      minutes_(minutes),
      step_(std::max<int64_t>(step_minutes, 1)),
      origin_(origin_minute),
      options_(std::move(options)) {}

void RollupSpanMetrics::add(const store::RollupSegment& segment) {
  for (const store::SpanRollup& row : segment.spans) {
    if (!minutes_.contains(row.minute)) continue;
    if (row.service >= segment.strings.size() || row.operation >= segment.strings.size()) continue;
    const std::string& service = segment.strings[row.service];
    // As the spanmetrics connector: spans without a service.name are not counted.
    if (service.empty() || (service_ && service != *service_)) continue;
    store::SpanSeriesKey key{
        service, options_.exclude_span_name ? "" : segment.strings[row.operation],
        options_.exclude_span_kind ? 0 : row.kind, options_.exclude_status_code ? 0 : row.status};
    const int64_t at = row.minute - origin_;
    const int64_t q = at / step_;
    const int64_t step_start = origin_ + (at % step_ < 0 ? q - 1 : q) * step_;
    series_[std::move(key)][step_start].add(row, options_);
  }
}

size_t RollupSpanMetrics::points() const {
  size_t n = 0;
  for (const auto& [key, steps] : series_) n += steps.size();
  return n;
}

otlp::MetricsRequest RollupSpanMetrics::finish(int64_t now_unix_nano) const {
  std::vector<store::SpanMetricPoint> points;
  const int64_t window_start = minutes_.first * store::kNanosPerMinute;
  for (const auto& [key, steps] : series_) {
    store::SpanSeriesTotals running;
    for (const auto& [step_start, totals] : steps) {
      store::SpanMetricPoint p;
      p.key = key;
      const int64_t first = std::max(step_start, minutes_.first);
      const int64_t end = std::min(step_start + step_, minutes_.last + 1);
      p.time_unix_nano = std::min(end * store::kNanosPerMinute, now_unix_nano);
      if (options_.delta) {
        p.start_unix_nano = first * store::kNanosPerMinute;
        p.totals = totals;
      } else {
        running.add(totals);
        p.start_unix_nano = window_start;
        p.totals = running;
      }
      points.push_back(std::move(p));
    }
  }
  return store::spanMetricsRequest(points, options_);
}

}  // namespace otlpd::query
