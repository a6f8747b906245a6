// GET /api/otlpd/spanmetrics: the store's rollups of a window as spanmetrics-named OTLP/JSON,
// over a real store, against the spanmetrics connector fed the same spans.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../connectors/spanmetrics/spanmetrics_test_support.h"
#include "../store/rollup_metrics_test_support.h"
#include "../store/store_test_support.h"
#include "connectors/spanmetrics/aggregator.h"
#include "otlp/json_codec.h"
#include "query/jaeger_api.h"
#include "store/signal_store.h"

namespace otlpd::query {
namespace {

using store::testing::readSpanMetrics;
using store::testing::spanMetricsRequests;

constexpr int64_t kBase = 1'700'000'040'000'000'000;  // a whole minute
constexpr int64_t kNowMicros = kBase / 1000 + int64_t{3600} * 1000000;

class SpanMetricsEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    requests_ = spanMetricsRequests(21, 24, 60, kBase, 10, /*clear_of_bounds=*/true);
    store::StoreOptions o;
    o.directory = dir_.path();
    o.fsync = store::FsyncPolicy::kNever;
    auto s = store::SignalStore::open(pipeline::Signal::kTraces, o, &clock_);
    ASSERT_TRUE(s.ok()) << s.status();
    for (size_t i = 0; i < requests_.size(); ++i) {
      ASSERT_TRUE((*s)->append(requests_[i]).ok());
      if (i % 6 == 5) {
        clock_.advance(absl::Minutes(2));
        ASSERT_TRUE((*s)->flush().ok());
      }
    }
    ASSERT_TRUE((*s)->close().ok());
  }

  otlp::MetricsRequest get(const std::string& query, int expected_status = 200) {
    JaegerApiOptions o;
    o.store_directory = dir_.path();
    JaegerApi api(o);
    const ApiResponse r = api.handle("/api/otlpd/spanmetrics?" + query, kNowMicros);
    EXPECT_EQ(r.status, expected_status) << r.body;
    otlp::MetricsRequest out;
    if (expected_status == 200) {
      EXPECT_TRUE(otlp::parseOtlpJson(r.body, out).ok()) << r.body;
    }
    last_body_ = r.body;
    return out;
  }

  std::string window() const {
    return "start=" + std::to_string(kBase / 1000) +
           "&end=" + std::to_string(kBase / 1000 + int64_t{600} * 1000000 - 1);
  }

  store::testing::TempDir dir_{"spanmetrics-endpoint"};
  store::testing::FakeClock clock_;
  std::vector<otlp::TracesRequest> requests_;
  std::string last_body_;
};

TEST_F(SpanMetricsEndpoint, TheWindowEqualsTheConnector) {
  connectors::spanmetrics::Aggregator aggregator(connectors::spanmetrics::testing::configFrom(""));
  for (const auto& r : requests_) {
    ASSERT_TRUE(aggregator.add(r.SerializeAsString(), absl::FromUnixNanos(kBase)).ok());
  }
  otlp::MetricsRequest want_request;
  ASSERT_TRUE(want_request.ParseFromString(aggregator.flush(absl::FromUnixNanos(kBase)).request));
  const auto want = readSpanMetrics(want_request);

  for (const std::string extra : {"", "&step=1m", "&step=2m&temporality=delta"}) {
    SCOPED_TRACE(extra);
    const auto got = readSpanMetrics(get(window() + extra));
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, w] : want) {
      const auto& g = got.at(name);
      EXPECT_EQ(g.calls, w.calls);
      EXPECT_EQ(g.buckets, w.buckets);
      EXPECT_NEAR(g.sum, w.sum, 1e-9 * w.sum + 1e-9);
    }
  }
  // Without a step: one point per series covering the window.
  const otlp::MetricsRequest whole = get(window());
  const auto& point = whole.resource_metrics(0).scope_metrics(0).metrics(0).sum().data_points(0);
  EXPECT_EQ(point.start_time_unix_nano(), static_cast<uint64_t>(kBase));
  EXPECT_EQ(point.time_unix_nano(), static_cast<uint64_t>(kBase + int64_t{600} * 1'000'000'000));
}

TEST_F(SpanMetricsEndpoint, CumulativeStepsEndAtTheWindowTotals) {
  const otlp::MetricsRequest r = get(window() + "&step=1m&temporality=cumulative&service=svc1");
  ASSERT_EQ(r.resource_metrics_size(), 1);
  EXPECT_EQ(r.resource_metrics(0).resource().attributes(0).value().string_value(), "svc1");
  const auto& calls = r.resource_metrics(0).scope_metrics(0).metrics(0).sum();
  EXPECT_EQ(calls.aggregation_temporality(), otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  // Per series, points grow and all start at the window's start.
  std::map<std::string, std::pair<int64_t, uint64_t>> last;  // series → (value, time)
  for (const auto& p : calls.data_points()) {
    std::string key;
    for (const auto& kv : p.attributes()) key += kv.value().string_value() + "|";
    EXPECT_EQ(p.start_time_unix_nano(), static_cast<uint64_t>(kBase));
    auto [it, fresh] = last.try_emplace(key, p.as_int(), p.time_unix_nano());
    if (!fresh) {
      EXPECT_GE(p.as_int(), it->second.first);
      EXPECT_GT(p.time_unix_nano(), it->second.second);
      it->second = {p.as_int(), p.time_unix_nano()};
    }
  }
  uint64_t total = 0;
  for (const auto& [key, v] : last) total += static_cast<uint64_t>(v.first);
  uint64_t want = 0;
  for (size_t i = 1; i < requests_.size(); i += 4) {  // svc1's requests
    want += static_cast<uint64_t>(requests_[i].resource_spans(0).scope_spans(0).spans_size());
  }
  EXPECT_EQ(total, want);
}

TEST_F(SpanMetricsEndpoint, BadParameters) {
  get(window() + "&step=30s", 400);
  get(window() + "&temporality=sometimes", 400);
  get(window() + "&color=red", 400);
  EXPECT_NE(last_body_.find("color"), std::string::npos);
}

}  // namespace
}  // namespace otlpd::query
