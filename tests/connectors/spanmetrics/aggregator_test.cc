#include "connectors/spanmetrics/aggregator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include "common/metrics_registry.h"
#include "otlp/wire_writer.h"
#include "spanmetrics_test_support.h"

namespace otlpd::connectors::spanmetrics {
namespace {

using testing::configFrom;
using testing::encode;
using testing::kT0;
using testing::readMetrics;
using testing::TestResource;
using testing::TestSpan;

constexpr uint64_t kMs = 1'000'000;

// --- What the tests expect, computed from the spans without the connector's code ---

const char* kindName(int kind) {
  static const char* names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  return names[kind];
}

const char* statusName(int status) {
  static const char* names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
  return names[status];
}

const std::vector<double> kDefaultBoundsMs = {2,   4,   6,    8,    10,   50,   100,   200,
                                              400, 800, 1000, 1400, 2000, 5000, 10000, 15000};

struct Expected {
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> buckets = std::vector<uint64_t>(kDefaultBoundsMs.size() + 1, 0);
};

std::string value(const std::vector<std::pair<std::string, std::string>>& attrs,
                  const std::string& key, bool& found) {
  for (const auto& [k, v] : attrs) {
    if (k == key) {
      found = true;
      return v;
    }
  }
  found = false;
  return "";
}

struct ExpectedDimension {
  std::string name;
  std::optional<std::string> default_value;
};

// Every series of `resources` as the Collector's connector documents them: standard dimensions,
// then each extra one from the span, else the resource, else its default, else left out.
void expect(const std::vector<TestResource>& resources, const std::vector<ExpectedDimension>& dims,
            std::map<std::string, Expected>& out) {
  for (const TestResource& r : resources) {
    bool has_service;
    const std::string service = value(r.attributes, "service.name", has_service);
    if (!has_service) continue;
    std::string resource;
    for (const auto& [k, v] : r.attributes) resource += (resource.empty() ? "" : ",") + k + "=" + v;
    for (const TestSpan& s : r.spans) {
      std::string key = resource + "|service.name=" + service + ",span.name=" + s.name +
                        ",span.kind=" + kindName(s.kind) + ",status.code=" + statusName(s.status);
      for (const ExpectedDimension& d : dims) {
        bool found;
        std::string v = value(s.attributes, d.name, found);
        if (!found) v = value(r.attributes, d.name, found);
        if (!found && d.default_value) {
          v = *d.default_value;
          found = true;
        }
        if (found) key += "," + d.name + "=" + v;
      }
      Expected& e = out[key];
      const double ms = s.end > s.start ? static_cast<double>(s.end - s.start) / 1e6 : 0.0;
      ++e.count;
      e.sum += ms;
      size_t b = 0;
      while (b < kDefaultBoundsMs.size() && ms > kDefaultBoundsMs[b]) ++b;
      ++e.buckets[b];
    }
  }
}

std::vector<TestResource> randomRequest(std::mt19937_64& rng, size_t spans) {
  static const char* kServices[] = {"frontend", "checkout", "payment", "shipping"};
  std::vector<TestResource> resources;
  for (const char* service : kServices) {
    TestResource r;
    r.attributes = {{"service.name", service}, {"host.name", std::string(service) + "-1"}};
    if (service[0] == 'p') r.attributes.emplace_back("region", "eu-west-1");
    resources.push_back(r);
  }
  // Durations include the buckets' bounds exactly, zero, negative and beyond the last bound.
  const uint64_t edges[] = {0,          2 * kMs,     2 * kMs + 1,     10 * kMs,
                            1400 * kMs, 15000 * kMs, 15000 * kMs + 1, 60000 * kMs};
  for (size_t i = 0; i < spans; ++i) {
    TestResource& r = resources[rng() % resources.size()];
    TestSpan s;
    s.name = "operation-" + std::to_string(rng() % 20);
    s.kind = static_cast<int>(rng() % 6);
    s.status = static_cast<int>(rng() % 10 == 0 ? 2 : rng() % 2);
    s.start = 1'700'000'000'000'000'000ULL + rng() % 1'000'000'000;
    const uint64_t pick = rng() % 10;
    if (pick == 0) {
      s.end = s.start + edges[rng() % std::size(edges)];
    } else if (pick == 1) {
      s.end = s.start - rng() % kMs;  // ends before it starts
    } else {
      s.end = s.start + rng() % (3000 * kMs);
    }
    if (rng() % 3 != 0) s.attributes.emplace_back("http.method", rng() % 2 ? "GET" : "POST");
    if (rng() % 2 != 0) s.attributes.emplace_back("http.route", "/r" + std::to_string(rng() % 3));
    if (rng() % 5 == 0) s.attributes.emplace_back("region", "us-east-1");  // overrides resource
    s.attributes.emplace_back("unrelated", std::to_string(rng()));
    s.trace_id.assign(16, '\0');
    for (char& c : s.trace_id) c = static_cast<char>(rng());
    r.spans.push_back(s);
  }
  return resources;
}

void expectMatches(const std::map<std::string, Expected>& expected,
                   const testing::ReadMetrics& got) {
  ASSERT_EQ(got.series.size(), expected.size());
  for (const auto& [key, e] : expected) {
    auto it = got.series.find(key);
    ASSERT_NE(it, got.series.end()) << key;
    const testing::ReadSeries& s = it->second;
    EXPECT_EQ(s.calls, e.count) << key;
    ASSERT_TRUE(s.histogram.has_value()) << key;
    EXPECT_EQ(s.histogram->count(), e.count) << key;
    EXPECT_NEAR(s.histogram->sum(), e.sum, 1e-9 * std::max(1.0, e.sum)) << key;
    ASSERT_EQ(s.histogram->bucket_counts_size(), static_cast<int>(e.buckets.size())) << key;
    for (size_t b = 0; b < e.buckets.size(); ++b) {
      EXPECT_EQ(s.histogram->bucket_counts(static_cast<int>(b)), e.buckets[b])
          << key << " bucket " << b;
    }
  }
}

const std::vector<ExpectedDimension> kDims = {
    {"http.method", "GET"}, {"http.route", std::nullopt}, {"region", std::nullopt}};
const char* kDimsYaml =
    "dimensions: [{name: http.method, default: GET}, {name: http.route}, {name: region}]";

TEST(SpanMetricsAggregator, CountsAndHistogramsEqualWhatTheSpansSay) {
  Aggregator aggregator(configFrom(kDimsYaml));
  std::mt19937_64 rng(7);
  std::map<std::string, Expected> expected;
  for (int request = 0; request < 12; ++request) {
    const auto resources = randomRequest(rng, 400);
    expect(resources, kDims, expected);
    ASSERT_TRUE(aggregator.add(encode(resources), kT0).ok());
  }
  const FlushedMetrics flushed = aggregator.flush(kT0 + absl::Seconds(60));
  const testing::ReadMetrics got = readMetrics(flushed.request);
  expectMatches(expected, got);
  EXPECT_EQ(flushed.data_points, 2 * expected.size());
  EXPECT_EQ(got.data_points, flushed.data_points);
  // Metric names, unit and bounds are the Collector's defaults.
  ASSERT_GE(got.metric_names.size(), 2u);
  EXPECT_EQ(got.metric_names[0], "traces.span.metrics.calls");
  EXPECT_EQ(got.metric_names[1], "traces.span.metrics.duration");
  EXPECT_EQ(got.units[1], "ms");
  const auto& h = *got.series.begin()->second.histogram;
  ASSERT_EQ(h.explicit_bounds_size(), static_cast<int>(kDefaultBoundsMs.size()));
  for (size_t i = 0; i < kDefaultBoundsMs.size(); ++i) {
    EXPECT_EQ(h.explicit_bounds(static_cast<int>(i)), kDefaultBoundsMs[i]);
  }
}

TEST(SpanMetricsAggregator, OneResourceMetricsPerResourceWithItsAttributes) {
  Aggregator aggregator(configFrom(""));
  TestResource a{{{"service.name", "a"}, {"k8s.pod.name", "a-1"}}, {TestSpan{}}};
  TestResource b{{{"service.name", "b"}}, {TestSpan{}, TestSpan{}}};
  ASSERT_TRUE(aggregator.add(encode({a, b}), kT0).ok());
  otlp::MetricsRequest req;
  ASSERT_TRUE(req.ParseFromString(aggregator.flush(kT0).request));
  ASSERT_EQ(req.resource_metrics_size(), 2);
  EXPECT_EQ(testing::render(req.resource_metrics(0).resource().attributes()),
            "service.name=a,k8s.pod.name=a-1");
  EXPECT_EQ(testing::render(req.resource_metrics(1).resource().attributes()), "service.name=b");
  EXPECT_EQ(req.resource_metrics(1).scope_metrics(0).metrics(0).sum().data_points(0).as_int(), 2);
}

TEST(SpanMetricsAggregator, CumulativeKeepsCountingFromTheFirstStart) {
  Aggregator aggregator(configFrom(""));
  const std::string one = encode({{{{"service.name", "s"}}, {TestSpan{}}}});
  ASSERT_TRUE(aggregator.add(one, kT0).ok());
  auto first = readMetrics(aggregator.flush(kT0 + absl::Seconds(10)).request);
  ASSERT_TRUE(aggregator.add(one, kT0 + absl::Seconds(15)).ok());
  ASSERT_TRUE(aggregator.add(one, kT0 + absl::Seconds(16)).ok());
  auto second = readMetrics(aggregator.flush(kT0 + absl::Seconds(20)).request);
  // Nothing new: still exported, unchanged.
  auto third = readMetrics(aggregator.flush(kT0 + absl::Seconds(30)).request);
  ASSERT_EQ(first.series.size(), 1u);
  ASSERT_EQ(second.series.size(), 1u);
  ASSERT_EQ(third.series.size(), 1u);
  const auto& s1 = first.series.begin()->second;
  const auto& s2 = second.series.begin()->second;
  const auto& s3 = third.series.begin()->second;
  EXPECT_EQ(s1.calls, 1u);
  EXPECT_EQ(s2.calls, 3u);
  EXPECT_EQ(s3.calls, 3u);
  EXPECT_EQ(s2.histogram->count(), 3u);
  const uint64_t t0 = static_cast<uint64_t>(absl::ToUnixNanos(kT0));
  EXPECT_EQ(s1.calls_start, t0);
  EXPECT_EQ(s2.calls_start, t0);
  EXPECT_EQ(s2.histogram->start_time_unix_nano(), t0);
  EXPECT_EQ(s2.calls_time, t0 + 20'000'000'000ULL);
  EXPECT_EQ(first.temporalities[0], otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
}

TEST(SpanMetricsAggregator, DeltaCountsEachIntervalAndDropsIdleSeries) {
  Aggregator aggregator(configFrom("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA"));
  TestSpan a;
  a.name = "a";
  TestSpan b;
  b.name = "b";
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, {a, a, b}}}), kT0).ok());
  auto first = readMetrics(aggregator.flush(kT0 + absl::Seconds(10)).request);
  ASSERT_TRUE(
      aggregator.add(encode({{{{"service.name", "s"}}, {a}}}), kT0 + absl::Seconds(12)).ok());
  auto second = readMetrics(aggregator.flush(kT0 + absl::Seconds(20)).request);
  EXPECT_EQ(first.temporalities[0], otlp::pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  ASSERT_EQ(first.series.size(), 2u);
  // Only the series with spans in the interval, counted from zero, starting at the last flush.
  ASSERT_EQ(second.series.size(), 1u);
  const auto& s = second.series.begin()->second;
  EXPECT_NE(second.series.begin()->first.find("span.name=a"), std::string::npos);
  EXPECT_EQ(s.calls, 1u);
  EXPECT_EQ(s.histogram->count(), 1u);
  const uint64_t t0 = static_cast<uint64_t>(absl::ToUnixNanos(kT0));
  EXPECT_EQ(s.calls_start, t0 + 10'000'000'000ULL);
  EXPECT_EQ(s.calls_time, t0 + 20'000'000'000ULL);
  // b had nothing for a whole interval: it is gone; a goes after its own idle interval.
  EXPECT_EQ(aggregator.seriesCount(), 1u);
  EXPECT_TRUE(aggregator.flush(kT0 + absl::Seconds(30)).request.empty());
  EXPECT_EQ(aggregator.seriesCount(), 0u);
  EXPECT_EQ(aggregator.resourceCount(), 0u);
  // A series that comes back starts at the time it is seen again.
  ASSERT_TRUE(
      aggregator.add(encode({{{{"service.name", "s"}}, {b}}}), kT0 + absl::Seconds(33)).ok());
  auto fourth = readMetrics(aggregator.flush(kT0 + absl::Seconds(40)).request);
  ASSERT_EQ(fourth.series.size(), 1u);
  EXPECT_EQ(fourth.series.begin()->second.calls_start, t0 + 33'000'000'000ULL);
}

TEST(SpanMetricsAggregator, DeltaSumsOverFlushesEqualTheCumulativeCount) {
  Aggregator delta(configFrom("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA\n" +
                              std::string(kDimsYaml)));
  Aggregator cumulative(configFrom(kDimsYaml));
  std::mt19937_64 rng(11);
  std::map<std::string, uint64_t> summed;
  testing::ReadMetrics last;
  for (int interval = 0; interval < 5; ++interval) {
    const std::string request = encode(randomRequest(rng, 300));
    ASSERT_TRUE(delta.add(request, kT0).ok());
    ASSERT_TRUE(cumulative.add(request, kT0).ok());
    for (const auto& [key, s] :
         readMetrics(delta.flush(kT0 + absl::Seconds(interval)).request).series) {
      summed[key] += s.calls;
    }
    last = readMetrics(cumulative.flush(kT0 + absl::Seconds(interval)).request);
  }
  ASSERT_EQ(summed.size(), last.series.size());
  for (const auto& [key, s] : last.series) EXPECT_EQ(summed[key], s.calls) << key;
}

TEST(SpanMetricsAggregator, DimensionsDefaultsAndExclusions) {
  Aggregator aggregator(configFrom(
      "dimensions: [{name: http.method, default: GET}, {name: http.route}, {name: region}]\n"
      "exclude_dimensions: [status.code, span.kind]"));
  TestSpan plain;  // no attributes: http.method defaults, http.route is left out
  TestSpan ok = plain;
  ok.status = 1;
  ok.kind = 3;  // another status and kind: the same series once both are excluded
  TestSpan routed = plain;
  routed.attributes = {{"http.method", "GET"}, {"http.route", "/x"}, {"region", "span-region"}};
  TestSpan post = plain;
  post.attributes = {{"http.method", "POST"}};
  ASSERT_TRUE(aggregator
                  .add(encode({{{{"service.name", "s"}, {"region", "resource-region"}},
                                {plain, ok, routed, post}}}),
                       kT0)
                  .ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  std::map<std::string, uint64_t> calls;
  for (const auto& [key, s] : got.series) calls[key.substr(key.find('|') + 1)] = s.calls;
  const std::map<std::string, uint64_t> want = {
      // the default GET and an attribute GET are the same value
      {"service.name=s,span.name=op,http.method=GET,region=resource-region", 2},
      {"service.name=s,span.name=op,http.method=GET,http.route=/x,region=span-region", 1},
      {"service.name=s,span.name=op,http.method=POST,region=resource-region", 1},
  };
  EXPECT_EQ(calls, want);
}

TEST(SpanMetricsAggregator, DimensionValuesKeepTheirType) {
  Aggregator aggregator(configFrom("dimensions: [{name: http.status_code}]"));
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  testing::putString(rs->mutable_resource()->mutable_attributes(), "service.name", "s");
  auto* span = rs->add_scope_spans()->add_spans();
  span->set_name("op");
  testing::putInt(span->mutable_attributes(), "http.status_code", 503);
  ASSERT_TRUE(aggregator.add(req.SerializeAsString(), kT0).ok());
  otlp::MetricsRequest out;
  ASSERT_TRUE(out.ParseFromString(aggregator.flush(kT0).request));
  const auto& attrs =
      out.resource_metrics(0).scope_metrics(0).metrics(0).sum().data_points(0).attributes();
  ASSERT_EQ(attrs.size(), 5);
  EXPECT_EQ(attrs[4].key(), "http.status_code");
  EXPECT_EQ(attrs[4].value().int_value(), 503);
}

TEST(SpanMetricsAggregator, DimensionsCacheSizeNeverLosesSeries) {
  // In the Collector it sizes a cache of attribute maps: more series than that are all kept.
  Aggregator aggregator(configFrom("dimensions_cache_size: 3"));
  std::vector<TestSpan> spans;
  for (int i = 0; i < 10; ++i) {
    TestSpan s;
    s.name = "op" + std::to_string(i % 5);
    spans.push_back(s);
  }
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, spans}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.series.size(), 5u);
  for (const auto& [key, s] : got.series) EXPECT_EQ(s.calls, 2u) << key;
}

TEST(SpanMetricsAggregator, ResourceCacheEvictsTheLeastRecentlySeenAfterItsLastExport) {
  common::Counter removed;
  AggregatorCounters counters;
  counters.removed_by_resource_cache = &removed;
  Aggregator aggregator(configFrom("resource_metrics_cache_size: 2"), counters);
  auto add = [&](const char* service, absl::Duration at) {
    TestSpan a, b;
    b.name = "other";
    ASSERT_TRUE(aggregator.add(encode({{{{"service.name", service}}, {a, b}}}), kT0 + at).ok());
  };
  auto resources = [&](absl::Duration at) {
    std::map<std::string, uint64_t> calls;
    for (const auto& [key, s] : readMetrics(aggregator.flush(kT0 + at).request).series) {
      calls[s.resource] += s.calls;
    }
    return calls;
  };
  add("x", absl::Seconds(1));
  add("y", absl::Seconds(2));
  add("x", absl::Seconds(3));
  add("z", absl::Seconds(4));  // y is out of the cache, but what it counted is not lost
  EXPECT_EQ(aggregator.resourceCount(), 3u);
  EXPECT_EQ(resources(absl::Seconds(5)),
            (std::map<std::string, uint64_t>{
                {"service.name=x", 4}, {"service.name=y", 2}, {"service.name=z", 2}}));
  EXPECT_EQ(removed.value(), 2u);  // y's two series, after that export
  EXPECT_EQ(aggregator.resourceCount(), 2u);
  EXPECT_EQ(aggregator.seriesCount(), 4u);
  EXPECT_EQ(resources(absl::Seconds(6)),
            (std::map<std::string, uint64_t>{{"service.name=x", 4}, {"service.name=z", 2}}));
  // Seen again before the flush, an evicted resource is back in the cache and keeps counting;
  // the least recently seen one makes room.
  add("y", absl::Seconds(7));  // x out (z was seen after it)
  add("x", absl::Seconds(8));  // x back, z out
  EXPECT_EQ(resources(absl::Seconds(9)),
            (std::map<std::string, uint64_t>{
                {"service.name=x", 6}, {"service.name=y", 2}, {"service.name=z", 2}}));
  EXPECT_EQ(aggregator.resourceCount(), 2u);
  EXPECT_EQ(removed.value(), 4u);
}

TEST(SpanMetricsAggregator, CardinalityLimitSendsNewDimensionSetsToAnOverflowSeries) {
  common::Counter overflow;
  AggregatorCounters counters;
  counters.overflow_spans = &overflow;
  Aggregator aggregator(configFrom("aggregation_cardinality_limit: 3"), counters);
  std::vector<TestSpan> spans;
  for (int i = 0; i < 10; ++i) {
    TestSpan s;
    s.name = "op" + std::to_string(i % 5);  // op0..op4, each twice
    spans.push_back(s);
  }
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, spans}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  // Two ordinary series and the overflow series: three in all, and every span is counted.
  ASSERT_EQ(got.series.size(), 3u);
  uint64_t total = 0;
  for (const auto& [key, s] : got.series) total += s.calls;
  EXPECT_EQ(total, 10u);
  auto it = got.series.find("service.name=s|otel.metric.overflow=true");
  ASSERT_NE(it, got.series.end());
  EXPECT_EQ(it->second.calls, 6u);
  EXPECT_EQ(it->second.histogram->count(), 6u);
  EXPECT_EQ(overflow.value(), 6u);
  // The limit is per resource: another service gets its own.
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "t"}}, spans}}), kT0).ok());
  EXPECT_EQ(aggregator.seriesCount(), 6u);
}

TEST(SpanMetricsAggregator, MetricsExpirationForgetsResourcesNotSeenSince) {
  common::Counter expired;
  AggregatorCounters counters;
  counters.removed_by_metrics_expiration = &expired;
  Aggregator aggregator(configFrom("metrics_expiration: 30s"), counters);
  auto add = [&](const char* service, absl::Duration at) {
    ASSERT_TRUE(
        aggregator.add(encode({{{{"service.name", service}}, {TestSpan{}}}}), kT0 + at).ok());
  };
  add("old", absl::Seconds(0));
  add("live", absl::Seconds(0));
  EXPECT_EQ(readMetrics(aggregator.flush(kT0 + absl::Seconds(20)).request).series.size(), 2u);
  add("live", absl::Seconds(25));
  auto got = readMetrics(aggregator.flush(kT0 + absl::Seconds(30)).request);
  ASSERT_EQ(got.series.size(), 1u);
  EXPECT_EQ(got.series.begin()->second.resource, "service.name=live");
  EXPECT_EQ(got.series.begin()->second.calls, 2u);
  EXPECT_EQ(expired.value(), 1u);
  EXPECT_EQ(aggregator.resourceCount(), 1u);
  // Seen again after expiring: a new series from zero.
  add("old", absl::Seconds(40));
  got = readMetrics(aggregator.flush(kT0 + absl::Seconds(41)).request);
  EXPECT_EQ(got.series
                .at("service.name=old|service.name=old,span.name=op,span.kind=SPAN_KIND_SERVER,"
                    "status.code=STATUS_CODE_UNSET")
                .calls,
            1u);
}

TEST(SpanMetricsAggregator, SeriesExpirationForgetsSeriesNotUpdatedSince) {
  common::Counter expired;
  AggregatorCounters counters;
  counters.removed_by_series_expiration = &expired;
  Aggregator aggregator(configFrom("series_expiration: 30s"), counters);
  TestSpan a, b;
  b.name = "b";
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, {a, b}}}), kT0).ok());
  ASSERT_TRUE(
      aggregator.add(encode({{{{"service.name", "s"}}, {a}}}), kT0 + absl::Seconds(20)).ok());
  auto got = readMetrics(aggregator.flush(kT0 + absl::Seconds(30)).request);
  ASSERT_EQ(got.series.size(), 1u);
  EXPECT_NE(got.series.begin()->first.find("span.name=op"), std::string::npos);
  EXPECT_EQ(got.series.begin()->second.calls, 2u);
  EXPECT_EQ(expired.value(), 1u);
  // The last series of a resource takes the resource with it.
  EXPECT_TRUE(aggregator.flush(kT0 + absl::Seconds(50)).request.empty());
  EXPECT_EQ(aggregator.resourceCount(), 0u);
  EXPECT_EQ(expired.value(), 2u);
}

TEST(SpanMetricsAggregator, ExemplarsCarryTheSpansOfTheIntervalUpToTheLimit) {
  Aggregator aggregator(configFrom("exemplars: {enabled: true, max_per_data_point: 2}"));
  std::vector<TestSpan> spans;
  for (int i = 0; i < 5; ++i) {
    TestSpan s;
    s.trace_id = std::string(15, '\0') + static_cast<char>('a' + i);
    s.span_id = std::string(7, '\0') + static_cast<char>('A' + i);
    s.end = s.start + static_cast<uint64_t>(i + 1) * kMs;
    spans.push_back(s);
  }
  TestSpan untraced;
  untraced.name = "untraced";
  untraced.trace_id = std::string(16, '\0');  // no valid trace id: no exemplar
  spans.push_back(untraced);
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, spans}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.series.size(), 2u);
  for (const auto& [key, s] : got.series) {
    const bool traced = key.find("untraced") == std::string::npos;
    ASSERT_EQ(s.histogram->exemplars_size(), traced ? 2 : 0) << key;
    ASSERT_EQ(s.call_exemplars.size(), traced ? 2u : 0u) << key;
    for (int e = 0; e < s.histogram->exemplars_size(); ++e) {
      const auto& x = s.histogram->exemplars(e);
      ASSERT_EQ(x.trace_id().size(), 16u);
      const int i = x.trace_id()[15] - 'a';
      EXPECT_EQ(x.span_id(), spans[static_cast<size_t>(i)].span_id);
      EXPECT_EQ(x.as_double(), i + 1.0);  // the span's duration in ms
      EXPECT_EQ(x.time_unix_nano(), spans[static_cast<size_t>(i)].end);
      EXPECT_EQ(s.call_exemplars[static_cast<size_t>(e)].trace_id(), x.trace_id());
    }
  }
  // Exemplars belong to one interval.
  got = readMetrics(aggregator.flush(kT0 + absl::Seconds(1)).request);
  for (const auto& [key, s] : got.series) EXPECT_EQ(s.histogram->exemplars_size(), 0) << key;
}

TEST(SpanMetricsAggregator, NoExemplarsUnlessEnabled) {
  Aggregator aggregator(configFrom(""));
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  EXPECT_EQ(got.series.begin()->second.histogram->exemplars_size(), 0);
  EXPECT_TRUE(got.series.begin()->second.call_exemplars.empty());
}

TEST(SpanMetricsAggregator, SecondsUnitAndCustomBuckets) {
  Aggregator aggregator(configFrom("histogram: {unit: s, explicit: {buckets: [100us, 1ms, 1s]}}"));
  std::vector<TestSpan> spans;
  for (uint64_t d :
       {uint64_t{50'000}, uint64_t{100'000}, uint64_t{100'001}, 2 * kMs, 1000 * kMs, 1001 * kMs}) {
    TestSpan s;
    s.end = s.start + d;
    spans.push_back(s);
  }
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, spans}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.units[1], "s");
  const auto& h = *got.series.begin()->second.histogram;
  ASSERT_EQ(h.explicit_bounds_size(), 3);
  EXPECT_DOUBLE_EQ(h.explicit_bounds(0), 0.0001);
  EXPECT_DOUBLE_EQ(h.explicit_bounds(1), 0.001);
  EXPECT_DOUBLE_EQ(h.explicit_bounds(2), 1.0);
  ASSERT_EQ(h.bucket_counts_size(), 4);
  EXPECT_EQ(h.bucket_counts(0), 2u);  // 50us, 100us (bounds are inclusive)
  EXPECT_EQ(h.bucket_counts(1), 1u);  // 100.001us
  EXPECT_EQ(h.bucket_counts(2), 2u);  // 2ms, 1s
  EXPECT_EQ(h.bucket_counts(3), 1u);  // 1.001s
  EXPECT_NEAR(h.sum(), (50'000 + 100'000 + 100'001 + 2e6 + 1e9 + 1.001e9) / 1e9, 1e-12);
}

TEST(SpanMetricsAggregator, NamespaceAndDisabledHistogram) {
  Aggregator aggregator(configFrom("namespace: ''\nhistogram: {disable: true}"));
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), kT0).ok());
  const FlushedMetrics flushed = aggregator.flush(kT0);
  auto got = readMetrics(flushed.request);
  EXPECT_EQ(got.metric_names, std::vector<std::string>{"calls"});
  EXPECT_EQ(flushed.data_points, 1u);
  Aggregator named(configFrom("namespace: red"));
  ASSERT_TRUE(named.add(encode({{{{"service.name", "s"}}, {TestSpan{}}}}), kT0).ok());
  EXPECT_EQ(readMetrics(named.flush(kT0).request).metric_names,
            (std::vector<std::string>{"red.calls", "red.duration"}));
}

TEST(SpanMetricsAggregator, ExponentialHistogramBucketsMatchTheDurations) {
  Aggregator aggregator(configFrom("histogram: {exponential: {max_size: 20}}"));
  std::mt19937_64 rng(3);
  std::vector<TestSpan> spans;
  std::vector<double> values;
  for (int i = 0; i < 2000; ++i) {
    TestSpan s;
    const uint64_t d = i % 100 == 0 ? 0 : i % 50 == 0 ? 4 * kMs : 1 + rng() % (800 * kMs);
    s.end = s.start + d;
    spans.push_back(s);
    values.push_back(static_cast<double>(d) / 1e6);
  }
  ASSERT_TRUE(aggregator.add(encode({{{{"service.name", "s"}}, spans}}), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.series.size(), 1u);
  ASSERT_TRUE(got.series.begin()->second.exponential.has_value());
  const auto& h = *got.series.begin()->second.exponential;
  EXPECT_EQ(h.count(), 2000u);
  EXPECT_EQ(h.zero_count(), 20u);
  ASSERT_LE(h.positive().bucket_counts_size(), 20);
  // Each value in the bucket (base^i, base^(i+1)] at the reported scale, found by search.
  auto indexAt = [](double v, int scale) {
    const long double base = std::pow(2.0L, std::pow(2.0L, -scale));
    int64_t i = static_cast<int64_t>(
        std::floor(std::log2(static_cast<long double>(v)) * std::pow(2.0L, scale)));
    while (std::pow(base, static_cast<long double>(i + 1)) < v) ++i;
    while (std::pow(base, static_cast<long double>(i)) >= v) --i;
    return i;
  };
  std::map<int64_t, uint64_t> expected;
  double sum = 0;
  int64_t finer_low = INT64_MAX, finer_high = INT64_MIN;
  for (double v : values) {
    sum += v;
    if (v == 0) continue;
    ++expected[indexAt(v, h.scale())];
    finer_low = std::min(finer_low, indexAt(v, h.scale() + 1));
    finer_high = std::max(finer_high, indexAt(v, h.scale() + 1));
  }
  std::map<int64_t, uint64_t> actual;
  for (int b = 0; b < h.positive().bucket_counts_size(); ++b) {
    if (h.positive().bucket_counts(b) != 0) {
      actual[h.positive().offset() + b] = h.positive().bucket_counts(b);
    }
  }
  EXPECT_EQ(actual, expected);
  EXPECT_NEAR(h.sum(), sum, 1e-9 * sum);
  // The finest scale that fits: one scale finer would need more than max_size buckets.
  EXPECT_GT(finer_high - finer_low + 1, 20);
}

TEST(SpanMetricsAggregator, ResourceKeyAttributesMergeResourcesThatDifferElsewhere) {
  Aggregator aggregator(configFrom("resource_metrics_key_attributes: [service.name]"));
  ASSERT_TRUE(aggregator
                  .add(encode({{{{"service.name", "s"}, {"process.pid", "1"}}, {TestSpan{}}},
                               {{{"service.name", "s"}, {"process.pid", "2"}}, {TestSpan{}}}}),
                       kT0)
                  .ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.series.size(), 1u);
  EXPECT_EQ(got.series.begin()->second.calls, 2u);
  // The resource as first seen.
  EXPECT_EQ(got.series.begin()->second.resource, "service.name=s,process.pid=1");
  Aggregator all(configFrom(""));
  ASSERT_TRUE(all.add(encode({{{{"service.name", "s"}, {"process.pid", "1"}}, {TestSpan{}}},
                              {{{"service.name", "s"}, {"process.pid", "2"}}, {TestSpan{}}}}),
                      kT0)
                  .ok());
  EXPECT_EQ(all.resourceCount(), 2u);
}

TEST(SpanMetricsAggregator, AttributeOrderDoesNotMakeAnotherResource) {
  Aggregator aggregator(configFrom(""));
  ASSERT_TRUE(aggregator
                  .add(encode({{{{"service.name", "s"}, {"host.name", "h"}}, {TestSpan{}}},
                               {{{"host.name", "h"}, {"service.name", "s"}}, {TestSpan{}}}}),
                       kT0)
                  .ok());
  EXPECT_EQ(aggregator.resourceCount(), 1u);
  EXPECT_EQ(aggregator.seriesCount(), 1u);
}

TEST(SpanMetricsAggregator, SpansWithoutServiceNameAreSkippedAndCounted) {
  common::Counter spans, skipped;
  AggregatorCounters counters;
  counters.spans = &spans;
  counters.spans_without_service = &skipped;
  Aggregator aggregator(configFrom(""), counters);
  ASSERT_TRUE(aggregator
                  .add(encode({{{{"host.name", "h"}}, {TestSpan{}, TestSpan{}}},
                               {{{"service.name", "s"}}, {TestSpan{}}}}),
                       kT0)
                  .ok());
  EXPECT_EQ(spans.value(), 1u);
  EXPECT_EQ(skipped.value(), 2u);
  EXPECT_EQ(aggregator.resourceCount(), 1u);
}

TEST(SpanMetricsAggregator, MalformedRequestsCountNothing) {
  common::Counter spans;
  AggregatorCounters counters;
  counters.spans = &spans;
  Aggregator aggregator(configFrom(""), counters);
  std::string bytes = encode({{{{"service.name", "s"}}, {TestSpan{}, TestSpan{}}}});
  bytes.resize(bytes.size() - 3);  // cut inside the last span
  EXPECT_EQ(aggregator.add(bytes, kT0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(aggregator.add("\xff\xff\xff", kT0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spans.value(), 0u);
  EXPECT_EQ(aggregator.seriesCount(), 0u);
  EXPECT_TRUE(aggregator.flush(kT0).request.empty());
  // A span whose own bytes are cut short, inside a request whose lengths are consistent.
  auto wrap = [](uint32_t field, std::string_view bytes) {
    std::string out;
    otlp::wire::appendLengthDelimited(field, bytes, out);
    return out;
  };
  const std::string resource = wrap(1, wrap(1, wrap(1, "service.name") + wrap(2, wrap(1, "s"))));
  const std::string bad_span =
      std::string("\x2a\x05") + "ab";  // name (5): 5 bytes announced, 2 there
  EXPECT_EQ(aggregator.add(wrap(1, resource + wrap(2, wrap(2, bad_span))), kT0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spans.value(), 0u);
  // An empty request is valid and holds nothing.
  EXPECT_TRUE(aggregator.add("", kT0).ok());
}

TEST(SpanMetricsAggregator, ReadsFieldsInAnyOrder) {
  // Protobuf writers may put fields in any order and repeat them (the last one counts); the
  // resource may come after the spans.
  auto wrap = [](uint32_t field, std::string_view bytes) {
    std::string out;
    otlp::wire::appendLengthDelimited(field, bytes, out);
    return out;
  };
  Aggregator aggregator(configFrom("dimensions: [{name: http.method}]"));
  const std::string method_value_first = wrap(2, wrap(1, "PUT")) + wrap(1, "http.method");
  std::string span = wrap(9, method_value_first) + wrap(5, "first-name") + wrap(5, "op");
  const std::string resource = wrap(1, wrap(1, wrap(2, wrap(1, "s")) + wrap(1, "service.name")));
  ASSERT_TRUE(aggregator.add(wrap(1, wrap(2, wrap(2, span)) + resource), kT0).ok());
  auto got = readMetrics(aggregator.flush(kT0).request);
  ASSERT_EQ(got.series.size(), 1u);
  EXPECT_EQ(got.series.begin()->first,
            "service.name=s|service.name=s,span.name=op,span.kind=SPAN_KIND_UNSPECIFIED,"
            "status.code=STATUS_CODE_UNSET,http.method=PUT");
}

TEST(SpanMetricsAggregator, CorruptedRequestsAreRefusedOrCountedNeverCrash) {
  common::Counter spans;
  AggregatorCounters counters;
  counters.spans = &spans;
  Aggregator aggregator(
      configFrom(std::string(kDimsYaml) + "\nexemplars: {enabled: true}\n"
                                          "histogram: {exponential: {max_size: 8}}"),
      counters);
  std::mt19937_64 rng(21);
  const std::string valid = encode(randomRequest(rng, 50));
  size_t accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = valid;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    const absl::Status s = aggregator.add(bytes, kT0);
    ASSERT_TRUE(s.ok() || s.code() == absl::StatusCode::kInvalidArgument) << s;
    accepted += s.ok() ? 1 : 0;
  }
  EXPECT_GT(accepted, 0u);
  // Whatever was accepted is counted once and comes out as a valid request.
  otlp::MetricsRequest out;
  ASSERT_TRUE(out.ParseFromString(aggregator.flush(kT0).request));
  uint64_t calls = 0;
  for (const auto& rm : out.resource_metrics()) {
    for (const auto& m : rm.scope_metrics(0).metrics()) {
      for (const auto& p : m.sum().data_points()) calls += static_cast<uint64_t>(p.as_int());
    }
  }
  EXPECT_EQ(calls, spans.value());
}

TEST(SpanMetricsAggregator, ConcurrentAddsAndFlushesLoseNothing) {
  Aggregator aggregator(configFrom(std::string(kDimsYaml) +
                                   "\naggregation_temporality: AGGREGATION_TEMPORALITY_DELTA"));
  std::vector<std::string> requests;
  std::map<std::string, Expected> expected;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 8; ++i) {
    auto resources = randomRequest(rng, 200);
    expect(resources, kDims, expected);
    requests.push_back(encode(resources));
  }
  constexpr int kThreads = 4, kRounds = 24;  // each thread adds each request 3 times
  std::map<std::string, uint64_t> summed;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        EXPECT_TRUE(aggregator.add(requests[static_cast<size_t>((t + r) % 8)], kT0).ok());
      }
      --running;
    });
  }
  auto collect = [&] {
    for (const auto& [key, s] : readMetrics(aggregator.flush(kT0).request).series) {
      summed[key] += s.calls;
    }
  };
  while (running.load() > 0) collect();
  for (auto& t : threads) t.join();
  collect();
  // Every request was added kThreads * kRounds / 8 times.
  ASSERT_EQ(summed.size(), expected.size());
  for (const auto& [key, e] : expected) {
    EXPECT_EQ(summed[key], e.count * kThreads * kRounds / 8) << key;
  }
}

}  // namespace
}  // namespace otlpd::connectors::spanmetrics
