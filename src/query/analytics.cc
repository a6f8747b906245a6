#include "query/analytics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "query/jaeger_json.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;
namespace pb_common = otlp::pb_common;
namespace pb_metrics = otlp::pb_metrics;
namespace pb_trace = otlp::pb_trace;

int64_t micros(int64_t ns) {
  return ns / 1000;
}

}  // namespace

void forEachSpan(const otlp::TracesRequest& request,
                 const std::function<void(const SpanFacts&)>& fn) {
  SpanFacts f;
  for (const auto& rs : request.resource_spans()) {
    f.service = serviceNameOf(rs.resource());
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        f.trace_id = span.trace_id();
        f.span_id = span.span_id();
        f.parent_span_id = span.parent_span_id();
        f.name = span.name();
        f.kind = span.kind();
        f.start_unix_nano = static_cast<int64_t>(span.start_time_unix_nano());
        f.end_unix_nano = static_cast<int64_t>(span.end_time_unix_nano());
        f.error = span.status().code() == pb_trace::Status::STATUS_CODE_ERROR;
        fn(f);
      }
    }
  }
}

std::vector<TraceSummary> summarizeTraces(const std::vector<SpanFacts>& spans) {
  struct Building {
    TraceSummary summary;
    const SpanFacts* root = nullptr;
    bool root_has_parent = true;
    std::vector<const SpanFacts*> spans;
  };
  std::unordered_map<std::string, Building> traces;
  for (const SpanFacts& s : spans) {
    Building& b = traces[s.trace_id];
    TraceSummary& t = b.summary;
    if (b.spans.empty()) {
      t.trace_id = s.trace_id;
      t.start_unix_nano = INT64_MAX;
      t.end_unix_nano = INT64_MIN;
    }
    b.spans.push_back(&s);
    t.start_unix_nano = std::min(t.start_unix_nano, s.start_unix_nano);
    t.end_unix_nano = std::max(t.end_unix_nano, std::max(s.end_unix_nano, s.start_unix_nano));
    ++t.spans;
    TraceSummary::ServiceCount& sc = t.services[s.service];
    ++sc.spans;
    if (s.error) {
      ++t.errors;
      ++sc.errors;
    }
    const bool has_parent = !s.parent_span_id.empty();
    // Prefer a span without parent; among equals the earliest, then the smallest span id so that
    // the answer does not depend on store order.
    auto better = [&](const SpanFacts& a, const SpanFacts& c) {
      if (a.start_unix_nano != c.start_unix_nano) return a.start_unix_nano < c.start_unix_nano;
      return a.span_id < c.span_id;
    };
    if (b.root == nullptr || (!has_parent && b.root_has_parent) ||
        (has_parent == b.root_has_parent && better(s, *b.root))) {
      b.root = &s;
      b.root_has_parent = has_parent;
    }
  }
  std::vector<TraceSummary> out;
  out.reserve(traces.size());
  for (auto& [id, b] : traces) {
    std::set<std::string_view> ids;
    for (const SpanFacts* s : b.spans) ids.insert(s->span_id);
    for (const SpanFacts* s : b.spans) {
      if (!s->parent_span_id.empty() && ids.count(s->parent_span_id) == 0) ++b.summary.orphans;
    }
    b.summary.root_service = b.root->service;
    b.summary.root_name = b.root->name;
    out.push_back(std::move(b.summary));
  }
  std::sort(out.begin(), out.end(), [](const TraceSummary& a, const TraceSummary& b) {
    if (a.start_unix_nano != b.start_unix_nano) return a.start_unix_nano > b.start_unix_nano;
    return a.trace_id < b.trace_id;
  });
  return out;
}

json traceSummaries(const std::vector<SpanFacts>& spans) {
  json out = json::array();
  for (const TraceSummary& t : summarizeTraces(spans)) {
    json services = json::array();
    for (const auto& [name, sc] : t.services) {
      services.push_back({{"name", name}, {"spanCount", sc.spans}, {"errorCount", sc.errors}});
    }
    out.push_back({{"traceID", hexId(t.trace_id)},
                   {"rootService", t.root_service},
                   {"rootName", t.root_name},
                   {"startTime", micros(t.start_unix_nano)},
                   {"duration", micros(t.end_unix_nano) - micros(t.start_unix_nano)},
                   {"spanCount", t.spans},
                   {"errorCount", t.errors},
                   {"services", std::move(services)}});
  }
  return out;
}

uint32_t DependencyGraph::intern(const std::string& service) {
  auto [it, inserted] = service_ids_.emplace(service, static_cast<uint32_t>(services_.size()));
  if (inserted) services_.push_back(service);
  return it->second;
}

DependencyGraph::SpanKey DependencyGraph::keyOf(const std::string& trace_id,
                                                const std::string& span_id) {
  SpanKey key{0, 0, 0};
  std::memcpy(key.data(), trace_id.data(), std::min<size_t>(16, trace_id.size()));
  std::memcpy(&key[2], span_id.data(), std::min<size_t>(8, span_id.size()));
  return key;
}

void DependencyGraph::add(const SpanFacts& span) {
  if (span_service_.size() >= max_spans_) {
    truncated_ = true;
    return;
  }
  const uint32_t service = intern(span.service);
  span_service_[keyOf(span.trace_id, span.span_id)] = service;
  if (!span.parent_span_id.empty()) {
    children_.emplace_back(keyOf(span.trace_id, span.parent_span_id), service);
  }
}

json DependencyGraph::finish() const {
  std::map<std::pair<std::string, std::string>, uint64_t> calls;
  for (const auto& [parent_key, child] : children_) {
    auto it = span_service_.find(parent_key);
    if (it == span_service_.end() || it->second == child) continue;
    ++calls[{services_[it->second], services_[child]}];
  }
  json out = json::array();
  for (const auto& [edge, count] : calls) {
    out.push_back({{"parent", edge.first}, {"child", edge.second}, {"callCount", count}});
  }
  return out;
}

int64_t percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank - 1), values.end());
  return values[rank - 1];
}

RedAggregator::RedAggregator(std::optional<std::string> service, size_t max_groups)
    : service_(std::move(service)), max_groups_(max_groups) {}

void RedAggregator::add(const SpanFacts& span) {
  const bool entry = span.kind == pb_trace::Span::SPAN_KIND_SERVER ||
                     span.kind == pb_trace::Span::SPAN_KIND_CONSUMER || span.parent_span_id.empty();
  if (!entry) return;
  if (service_ && span.service != *service_) return;
  const std::string& key = service_ ? span.name : span.service;
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (groups_.size() >= max_groups_) {
      truncated_ = true;
      return;
    }
    it = groups_.emplace(key, Group{}).first;
  }
  Group& g = it->second;
  ++g.requests;
  if (span.error) ++g.errors;
  const int64_t d = micros(std::max<int64_t>(0, span.end_unix_nano - span.start_unix_nano));
  if (g.durations_us.size() < kMaxSamplesPerGroup) {
    g.durations_us.push_back(d);
  } else {
    // Reservoir sampling keeps every request equally likely to be among the samples.
    std::uniform_int_distribution<uint64_t> pick(0, g.requests - 1);
    const uint64_t slot = pick(rng_);
    if (slot < kMaxSamplesPerGroup) g.durations_us[slot] = d;
  }
}

json RedAggregator::finish(double window_seconds) const {
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
    row["p50"] = percentile(g.durations_us, 50);
    row["p95"] = percentile(g.durations_us, 95);
    row["p99"] = percentile(g.durations_us, 99);
    out.push_back(std::move(row));
  }
  return out;
}

int64_t logTimeNanos(const otlp::pb_logs::LogRecord& r) {
  return static_cast<int64_t>(r.time_unix_nano() != 0 ? r.time_unix_nano()
                                                      : r.observed_time_unix_nano());
}

json logRecordJson(const otlp::pb_resource::Resource& resource,
                   const pb_common::InstrumentationScope& scope,
                   const otlp::pb_logs::LogRecord& r) {
  json out = json::object();
  out["time"] = micros(logTimeNanos(r));
  out["timeUnixNano"] = std::to_string(r.time_unix_nano());
  out["observedTimeUnixNano"] = std::to_string(r.observed_time_unix_nano());
  out["severityNumber"] = static_cast<int>(r.severity_number());
  out["severityText"] = r.severity_text();
  out["body"] = r.has_body() ? anyValueJson(r.body()) : json("");
  out["service"] = serviceNameOf(resource);
  out["traceID"] = r.trace_id().size() == 16 ? hexId(r.trace_id()) : "";
  out["spanID"] = r.span_id().size() == 8 ? hexId(r.span_id()) : "";
  out["attributes"] = attributesJson(r.attributes());
  out["resource"] = attributesJson(resource.attributes());
  out["scope"] = {{"name", scope.name()}, {"version", scope.version()}};
  out["eventName"] = r.event_name();
  return out;
}

bool logBodyContains(const otlp::pb_logs::LogRecord& r, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  if (!r.has_body()) return false;
  const std::string text = absl::AsciiStrToLower(
      r.body().has_string_value() ? r.body().string_value() : dumpJson(anyValueJson(r.body())));
  return text.find(lower_needle) != std::string::npos;
}

std::string_view metricType(const pb_metrics::Metric& m) {
  switch (m.data_case()) {
    case pb_metrics::Metric::kGauge:
      return "gauge";
    case pb_metrics::Metric::kSum:
      return "sum";
    case pb_metrics::Metric::kHistogram:
      return "histogram";
    case pb_metrics::Metric::kExponentialHistogram:
      return "exponential_histogram";
    case pb_metrics::Metric::kSummary:
      return "summary";
    default:
      return "";
  }
}

namespace {

// Calls `fn` with the data points of `m`, whatever their type.
template <class Fn>
void withDataPoints(const pb_metrics::Metric& m, Fn fn) {
  switch (m.data_case()) {
    case pb_metrics::Metric::kGauge:
      fn(m.gauge().data_points());
      break;
    case pb_metrics::Metric::kSum:
      fn(m.sum().data_points());
      break;
    case pb_metrics::Metric::kHistogram:
      fn(m.histogram().data_points());
      break;
    case pb_metrics::Metric::kExponentialHistogram:
      fn(m.exponential_histogram().data_points());
      break;
    case pb_metrics::Metric::kSummary:
      fn(m.summary().data_points());
      break;
    default:
      break;
  }
}

bool hasTags(const google::protobuf::RepeatedPtrField<pb_common::KeyValue>& attributes,
             const std::vector<std::pair<std::string, std::string>>& tags) {
  for (const auto& [key, want] : tags) {
    bool found = false;
    for (const auto& kv : attributes) {
      if (kv.key() != key) continue;
      const json v = anyValueJson(kv.value());
      found = v.is_string() ? v.get<std::string>() == want : dumpJson(v) == want;
      break;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

void MetricCatalog::add(const otlp::MetricsRequest& request) {
  for (const auto& rm : request.resource_metrics()) {
    const std::string service = serviceNameOf(rm.resource());
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        auto it = entries_.find(m.name());
        if (it == entries_.end()) {
          if (entries_.size() >= max_metrics_) {
            truncated_ = true;
            continue;
          }
          it = entries_.emplace(m.name(), Entry{}).first;
          it->second.type = std::string(metricType(m));
          it->second.unit = m.unit();
          it->second.description = m.description();
        }
        Entry& e = it->second;
        if (e.services.size() < kMaxServicesPerMetric) e.services.insert(service);
        withDataPoints(m, [&](const auto& points) {
          for (const auto& p : points) {
            for (const auto& kv : p.attributes()) {
              if (e.attribute_keys.size() >= kMaxKeysPerMetric) break;
              e.attribute_keys.insert(kv.key());
            }
          }
        });
      }
    }
  }
}

json MetricCatalog::finish() const {
  json out = json::array();
  for (const auto& [name, e] : entries_) {
    out.push_back({{"name", name},
                   {"type", e.type},
                   {"unit", e.unit},
                   {"description", e.description},
                   {"services", e.services},
                   {"attributeKeys", e.attribute_keys}});
  }
  return out;
}

std::optional<double> pointValue(const pb_metrics::NumberDataPoint& p) {
  if (p.value_case() == pb_metrics::NumberDataPoint::kAsInt) return static_cast<double>(p.as_int());
  if (p.value_case() == pb_metrics::NumberDataPoint::kAsDouble) return p.as_double();
  return std::nullopt;
}
std::optional<double> pointValue(const pb_metrics::HistogramDataPoint& p) {
  if (p.count() == 0 || !p.has_sum()) return std::nullopt;
  return p.sum() / static_cast<double>(p.count());
}
std::optional<double> pointValue(const pb_metrics::ExponentialHistogramDataPoint& p) {
  if (p.count() == 0 || !p.has_sum()) return std::nullopt;
  return p.sum() / static_cast<double>(p.count());
}
std::optional<double> pointValue(const pb_metrics::SummaryDataPoint& p) {
  if (p.count() == 0) return std::nullopt;
  return p.sum() / static_cast<double>(p.count());
}

void SeriesBuilder::add(const otlp::MetricsRequest& request, const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& tags) {
  name_ = name;
  for (const auto& rm : request.resource_metrics()) {
    const std::string service = serviceNameOf(rm.resource());
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        if (m.name() != name) continue;
        auto addPoints = [&](const auto& points) {
          for (const auto& p : points) {
            if (!hasTags(p.attributes(), tags)) continue;
            const std::optional<double> value = pointValue(p);
            if (!value || !std::isfinite(*value)) continue;
            json attributes = attributesJson(p.attributes());
            std::string key = service;
            key.push_back('\0');
            key += dumpJson(attributes);
            auto it = series_.find(key);
            if (it == series_.end()) {
              if (series_.size() >= max_series_) {
                truncated_ = true;
                continue;
              }
              it = series_
                       .emplace(std::move(key), Series{std::string(metricType(m)),
                                                       m.unit(),
                                                       service,
                                                       std::move(attributes),
                                                       {}})
                       .first;
            }
            if (it->second.points.size() >= max_points_ || total_points_ >= max_total_points_) {
              truncated_ = true;
              continue;
            }
            ++total_points_;
            it->second.points.emplace_back(micros(static_cast<int64_t>(p.time_unix_nano())),
                                           *value);
          }
        };
        withDataPoints(m, addPoints);
      }
    }
  }
}

json SeriesBuilder::finish() const {
  json out = json::array();
  for (const auto& [key, s] : series_) {
    std::vector<std::pair<int64_t, double>> points = s.points;
    std::stable_sort(points.begin(), points.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json pts = json::array();
    for (const auto& [t, v] : points) pts.push_back(json::array({t, v}));
    out.push_back({{"name", name_},
                   {"type", s.type},
                   {"unit", s.unit},
                   {"service", s.service},
                   {"attributes", s.attributes},
                   {"points", std::move(pts)}});
  }
  return out;
}

}  // namespace otlpd::query
