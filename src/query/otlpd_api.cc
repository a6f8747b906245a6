// otlpd's own query endpoints (/api/otlpd/...), the contract of the web UI (docs/API.md).
#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "otlp/json_codec.h"
#include "query/analytics.h"
#include "query/api_support.h"
#include "query/jaeger_api.h"
#include "query/rollup_queries.h"
#include "store/rollup_store.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

constexpr int64_t kHourMicros = int64_t{3600} * 1000000;
// Points kept per series of /metrics/series, and in all (16 bytes each).
constexpr size_t kMaxPointsPerSeries = 10000;
constexpr size_t kMaxPoints = 1000000;
// Metric names of /metrics; groups (services or operations) of /red.
constexpr size_t kMaxMetrics = 2000;
constexpr size_t kMaxRedGroups = 1000;
// Points per group of /red/series.
constexpr int64_t kMaxSeriesSteps = 2000;
// Data points (series × steps) of one /spanmetrics answer.
constexpr size_t kMaxSpanMetricPoints = 100000;

// `limit` of the otlpd endpoints: `fallback` when absent, at most `max`.
int64_t readLimit(Params& params, int64_t fallback, int64_t max) {
  return std::min(
      params.integer("limit", 1, std::numeric_limits<int32_t>::max()).value_or(fallback), max);
}

}  // namespace

ApiResponse JaegerApi::traceSummaries(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  query.service = params.text("service");
  query.name = params.text("operation");
  query.attributes = params.tags("tags");
  if (auto d = params.duration("minDuration")) query.min_duration_ns = *d * 1000;
  if (auto d = params.duration("maxDuration")) query.max_duration_ns = *d * 1000;
  readTimeWindowInto(params, now_us, 0, query);
  const int64_t limit = readLimit(params, 20, options_.max_results);
  if (!params.ok()) return otlpdError(400, params.error());

  ScanBudget b = budget();
  const auto found = store_.findTraces(query, static_cast<size_t>(limit), b);
  const auto traces = store_.fetchTraces(found, b);
  std::vector<SpanFacts> spans;
  for (const auto& [id, request] : traces) {
    forEachSpan(request, [&](const SpanFacts& span) { spans.push_back(span); });
  }
  return otlpdOk(::otlpd::query::traceSummaries(spans), limit, false, b);
}

ApiResponse JaegerApi::logs(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  query.service = params.text("service");
  query.min_severity = params.severity("severity");
  if (auto v = params.text("traceID")) {
    query.trace_id = parseTraceIdHex(*v);
    if (!query.trace_id)
      params.fail("traceID", *v, "is not a hexadecimal trace id of 1 to 32 digits");
  }
  std::optional<std::string> span_id;
  if (auto v = params.text("spanID")) {
    span_id = parseSpanIdHex(*v);
    if (!span_id) params.fail("spanID", *v, "is not a span id of 16 hexadecimal digits");
  }
  std::string body_filter;
  if (auto v = params.text("body")) body_filter = absl::AsciiStrToLower(*v);
  readTimeWindowInto(params, now_us, 0, query);
  const int64_t limit = readLimit(params, 100, options_.max_results);
  if (!params.ok()) return otlpdError(400, params.error());

  // One trace's logs read best in order; a search shows the newest first.
  const bool oldest_first = query.trace_id.has_value();
  query.newest_first = !oldest_first;
  ScanBudget b = budget();
  std::vector<std::pair<int64_t, json>> records;
  store_.scanLogs(query, b, [&](const otlp::LogsRequest& request) {
    for (const auto& rl : request.resource_logs()) {
      for (const auto& sl : rl.scope_logs()) {
        for (const auto& r : sl.log_records()) {
          if (span_id && r.span_id() != *span_id) continue;
          if (!logBodyContains(r, body_filter)) continue;
          records.emplace_back(logTimeNanos(r), logRecordJson(rl.resource(), sl.scope(), r));
        }
      }
    }
    // A whole batch is taken before stopping: its rows are in no time order.
    return static_cast<int64_t>(records.size()) < limit;
  });
  std::stable_sort(records.begin(), records.end(), [&](const auto& a, const auto& b) {
    return oldest_first ? a.first < b.first : a.first > b.first;
  });
  if (static_cast<int64_t>(records.size()) > limit) records.resize(static_cast<size_t>(limit));
  json data = json::array();
  for (auto& [t, record] : records) data.push_back(std::move(record));
  return otlpdOk(std::move(data), limit, false, b);
}

ApiResponse JaegerApi::metrics(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  query.service = params.text("service");
  readTimeWindowInto(params, now_us, kHourMicros, query);
  if (!params.ok()) return otlpdError(400, params.error());
  query.newest_first = true;
  ScanBudget b = budget();
  MetricCatalog catalog(kMaxMetrics);
  store_.scanMetrics(query, b, [&](const otlp::MetricsRequest& request) {
    catalog.add(request);
    return true;
  });
  return otlpdOk(catalog.finish(), static_cast<int64_t>(kMaxMetrics), catalog.truncated(), b);
}

ApiResponse JaegerApi::metricSeries(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  query.name = params.text("name");
  query.service = params.text("service");
  query.attributes = params.tags("tags");
  readTimeWindowInto(params, now_us, kHourMicros, query);
  const int64_t limit = readLimit(params, 100, options_.max_results);
  if (!params.ok()) return otlpdError(400, params.error());
  if (!query.name) return otlpdError(400, "parameter 'name' is required");
  // Newest first, so that a scan cut short by max_scan_mib keeps the recent end of the window.
  query.newest_first = true;
  ScanBudget b = budget();
  SeriesBuilder series(static_cast<size_t>(limit), kMaxPointsPerSeries, kMaxPoints);
  store_.scanMetrics(query, b, [&](const otlp::MetricsRequest& request) {
    series.add(request, *query.name, query.attributes);
    return true;
  });
  return otlpdOk(series.finish(), limit, series.truncated(), b);
}

ApiResponse JaegerApi::red(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  const std::optional<std::string> service = params.text("service");
  const TimeWindow window = readTimeWindowInto(params, now_us, kHourMicros, query);
  if (!params.ok()) return otlpdError(400, params.error());
  // Whole minutes from the rollups (docs/API.md): the cost follows services × minutes.
  const MinuteRange minutes =
      MinuteRange::of(window.start_unix_nano, std::min(window.end_unix_nano, now_us * 1000 + 1000));
  ScanBudget b = budget();
  RollupRed red(service, minutes, kMaxRedGroups);
  readRollupsInto(minutes, b, [&](const store::RollupSegment& s) { red.add(s); });
  const int64_t end_ns = std::min(window.end_unix_nano, now_us * 1000);
  const double seconds = static_cast<double>(end_ns - window.start_unix_nano) / 1e9;
  return otlpdOk(red.finish(seconds), static_cast<int64_t>(kMaxRedGroups), red.truncated(), b);
}

ApiResponse JaegerApi::redSeries(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  const std::optional<std::string> service = params.text("service");
  const TimeWindow window = readTimeWindowInto(params, now_us, kHourMicros, query);
  const std::optional<int64_t> step_us = params.duration("step");
  if (step_us && *step_us < 60 * 1000000)
    params.fail("step", std::to_string(*step_us), "is under 1m");
  if (!params.ok()) return otlpdError(400, params.error());
  const MinuteRange minutes =
      MinuteRange::of(window.start_unix_nano, std::min(window.end_unix_nano, now_us * 1000 + 1000));
  const int64_t span = minutes.last - minutes.first + 1;
  // Never more than kMaxSeriesSteps points.
  int64_t step = 1;
  if (step_us) {
    step = *step_us / (60 * 1000000);
  } else {
    // About 200 points, in steps a chart labels well (whole hours from an hour on).
    for (int64_t nice : {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440}) {
      step = nice;
      if (span <= nice * 200) break;
    }
  }
  step = std::max(step, (span + kMaxSeriesSteps - 1) / kMaxSeriesSteps);
  ScanBudget b = budget();
  RollupRedSeries series(service, minutes, step, kMaxRedGroups);
  readRollupsInto(
      minutes, b, [&](const store::RollupSegment& s) { series.add(s); },
      /*use_hours=*/step % 60 == 0);
  return otlpdOk(series.finish(), static_cast<int64_t>(kMaxRedGroups), series.truncated(), b);
}

ApiResponse JaegerApi::spanMetrics(std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  store::ScanQuery query;
  const std::optional<std::string> service = params.text("service");
  const TimeWindow window = readTimeWindowInto(params, now_us, kHourMicros, query);
  const std::optional<int64_t> step_us = params.duration("step");
  if (step_us && (*step_us < 60 * 1000000 || *step_us % (60 * 1000000) != 0)) {
    params.fail("step", std::to_string(*step_us), "is not a whole number of minutes");
  }
  const std::optional<std::string> temporality = params.text("temporality");
  if (temporality && *temporality != "delta" && *temporality != "cumulative") {
    params.fail("temporality", *temporality, "is not delta or cumulative");
  }
  params.rejectUnknown();
  if (!params.ok()) return otlpdError(400, params.error());
  const MinuteRange minutes =
      MinuteRange::of(window.start_unix_nano, std::min(window.end_unix_nano, now_us * 1000 + 1000));
  // Without a step, one point per series for the whole window.
  const int64_t span = std::max<int64_t>(minutes.last - minutes.first + 1, 1);
  const int64_t step = step_us ? *step_us / (60 * 1000000) : span;
  if (step_us && span / step > kMaxSeriesSteps) {
    return otlpdError(400, strCat("more than ", kMaxSeriesSteps, " steps: raise step"));
  }
  store::SpanMetricsOptions options;
  options.delta = temporality.value_or("delta") == "delta";
  ScanBudget b = budget();
  RollupSpanMetrics metrics(service, minutes, step, step_us ? 0 : minutes.first, options);
  // Hourly rows fit only steps that are whole hours since the epoch (or one step for it all).
  const bool use_hours = !step_us || step % 60 == 0;
  readRollupsInto(
      minutes, b, [&](const store::RollupSegment& s) { metrics.add(s); }, use_hours);
  if (!b.error.empty()) return otlpdError(500, b.error);
  if (metrics.points() > kMaxSpanMetricPoints) {
    return otlpdError(400, strCat("more than ", kMaxSpanMetricPoints,
                                  " data points: narrow the window, raise step or pick a service"));
  }
  return ApiResponse{200, otlp::toOtlpJson(metrics.finish(now_us * 1000))};
}

std::variant<std::unique_ptr<LiveSearch>, ApiResponse> JaegerApi::openLive(
    std::string_view query_text, int64_t now_us) const {
  Params params(query_text);
  // The search's filters, checked as the search checks them.
  (void)params.text("service");
  (void)params.text("operation");
  (void)params.tags("tags");
  (void)params.duration("minDuration");
  (void)params.duration("maxDuration");
  const int64_t max_per_second = params.integer("maxPerSecond", 1, 100).value_or(10);
  params.rejectUnknown();
  if (!params.ok()) return otlpdError(400, params.error());
  std::string filters;
  for (std::string_view rest = query_text; !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty() || item.starts_with("maxPerSecond=")) continue;
    if (!filters.empty()) filters += '&';
    filters += item;
  }
  return std::make_unique<LiveSearch>(this, std::move(filters), max_per_second, now_us);
}

void JaegerApi::readRollupsInto(const MinuteRange& minutes, ScanBudget& budget,
                                const std::function<void(const store::RollupSegment&)>& fn,
                                bool use_hours) const {
  if (minutes.last < minutes.first) return;
  store::RollupReadStats st;
  std::string err =
      store::readRollups(options_.store_directory, minutes.first, minutes.last, fn, &st, use_hours);
  budget.stats.bytes_scanned += st.bytes_read;
  if (!err.empty() && !isMissingStoreError(err) && budget.error.empty()) budget.error = err;
}

}  // namespace otlpd::query
