// Jaeger's Service Performance Monitoring API (/api/metrics/..., the Monitor tab of Jaeger UI),
// answered from the store's per-minute rollups instead of a Prometheus holding spanmetrics
// (docs/API.md). Parameters and shapes as jaeger-query's HTTP handler.
#include <cstdlib>
#include <limits>

#include "common/strings.h"
#include "query/api_support.h"
#include "query/jaeger_api.h"
#include "query/rollup_queries.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;

// Jaeger's defaults.
constexpr int64_t kDefaultLookbackMs = 3600 * 1000;
constexpr int64_t kDefaultStepMs = 5000;
constexpr int64_t kDefaultRatePerMs = 10 * 60 * 1000;
// The rollups' granularity, answered by /api/metrics/minstep.
constexpr int64_t kMinStepMs = 60 * 1000;
// Bounds of one request (documented in docs/API.md).
constexpr int64_t kMaxLookbackMs = int64_t{90} * 24 * 3600 * 1000;
constexpr int64_t kMaxPoints = 11000;
constexpr size_t kMaxServices = 100;

std::optional<int32_t> spanKindOf(std::string_view name) {
  if (name == "unspecified") return 0;
  if (name == "internal") return 1;
  if (name == "server") return 2;
  if (name == "client") return 3;
  if (name == "producer") return 4;
  if (name == "consumer") return 5;
  return std::nullopt;
}

}  // namespace

ApiResponse JaegerApi::spmMetrics(std::string_view which, std::string_view query_text,
                                  int64_t now_us) const {
  if (which == "minstep") {
    Params params(query_text);
    (void)params.text("prettyPrint");
    params.rejectUnknown();
    if (!params.ok()) return classicError(400, params.error());
    return classicOk(kMinStepMs, 0, budget());
  }
  SpmQuery q;
  if (which == "calls") {
    q.metric = SpmQuery::Metric::kCalls;
  } else if (which == "errors") {
    q.metric = SpmQuery::Metric::kErrors;
  } else if (which == "latencies") {
    q.metric = SpmQuery::Metric::kLatencies;
  } else {
    return classicError(404, strCat("no such endpoint: /api/metrics/", which));
  }
  Params params(query_text);
  q.services = params.all("service");
  if (q.services.empty() || q.services.size() > kMaxServices) {
    params.fail("service", "",
                q.services.empty() ? "please provide at least one service name"
                                   : "at most 100 services per request");
  }
  q.group_by_operation = params.boolean("groupByOperation").value_or(false);
  for (const std::string& k : params.all("spanKind")) {
    if (auto kind = spanKindOf(k)) {
      q.kinds.push_back(*kind);
    } else {
      params.fail("spanKind", k,
                  "is not a span kind (unspecified, internal, server, client, "
                  "producer, consumer)");
    }
  }
  if (q.kinds.empty()) q.kinds.push_back(2);  // server, as Jaeger
  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 1000000 - 1;
  q.end_ms = params.integer("endTs", 0, kMaxMs).value_or(now_us / 1000);
  q.lookback_ms = params.integer("lookback", 1, kMaxLookbackMs).value_or(kDefaultLookbackMs);
  q.step_ms = params.integer("step", 1, kMaxLookbackMs).value_or(kDefaultStepMs);
  q.rate_per_ms = params.integer("ratePer", 1, kMaxLookbackMs).value_or(kDefaultRatePerMs);
  if (q.metric == SpmQuery::Metric::kLatencies) {
    const std::optional<std::string> text = params.text("quantile");
    char* end = nullptr;
    const double v = text ? std::strtod(text->c_str(), &end) : 0;
    if (!text) {
      params.fail("quantile", "", "is required");
    } else if (end == text->c_str() || *end != '\0' || !(v > 0 && v <= 1)) {
      params.fail("quantile", *text, "is not a number in (0, 1]");
    }
    q.quantile = v;
  }
  (void)params.text("prettyPrint");
  params.rejectUnknown();
  if (params.ok() && q.lookback_ms / q.step_ms >= kMaxPoints) {
    params.fail("step", std::to_string(q.step_ms),
                strCat("gives more than ", kMaxPoints, " points over the lookback"));
  }
  if (!params.ok()) return classicError(400, params.error());
  RollupSpm spm(q);
  ScanBudget b = budget();
  readRollupsInto(
      spm.minutes(), b, [&](const store::RollupSegment& s) { spm.add(s); },
      /*use_hours=*/false);
  if (!b.error.empty()) return classicError(500, b.error);
  return {200, dumpJson(spm.finish())};
}

}  // namespace otlpd::query
