#include "query/rollup_queries.h"

#include <algorithm>
#include <limits>

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

}  // namespace otlpd::query
