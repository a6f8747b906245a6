#include "prometheus/scrape_translator.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "otlp/proto.h"
#include "prometheus/exposition.h"

namespace otlpd::prometheus {
namespace {

using otlp::MetricsRequest;
namespace pb = otlp::pb_metrics;

constexpr int64_t kT0 = 1680150000000;  // ms
constexpr uint64_t kMs = 1000000;       // ns

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string testdata(const std::string& name) {
  return std::string(OTLPD_SOURCE_DIR) + "/tests/prometheus/testdata/" + name;
}

ScrapeTarget target(std::vector<std::pair<std::string, std::string>> extra = {}) {
  ScrapeTarget t;
  t.job = "app";
  t.instance = "10.0.0.1:9100";
  t.scheme = "http";
  t.labels = {{"instance", t.instance}, {"job", t.job}};
  for (auto& l : extra) t.labels.push_back(std::move(l));
  std::sort(t.labels.begin(), t.labels.end());
  return t;
}

TranslateOptions options() {
  TranslateOptions o;
  o.scope_version = "test";
  return o;
}

// One translator fed bodies one scrape at a time.
class Scraper {
 public:
  explicit Scraper(ScrapeTarget t = target(), TranslateOptions o = options())
      : translator_(std::move(t), std::move(o)) {}

  MetricsRequest scrape(const std::string& body, int64_t time_ms, Format format = Format::kText) {
    body_ = body;
    absl::Status s = parser_.parse(body_, format, parsed_);
    EXPECT_TRUE(s.ok()) << s;
    std::string out;
    translator_.translate(parsed_, format, time_ms, 0.25, out, stats);
    return decode(out);
  }
  MetricsRequest fail(int64_t time_ms) {
    std::string out;
    translator_.failed(time_ms, 0.5, "connection refused", out, stats);
    return decode(out);
  }
  MetricsRequest finish(int64_t time_ms) {
    std::string out;
    translator_.finish(time_ms, out);
    return decode(out);
  }
  ScrapeTranslator& translator() { return translator_; }

  ScrapeStats stats;

 private:
  static MetricsRequest decode(const std::string& bytes) {
    MetricsRequest r;
    EXPECT_TRUE(r.ParseFromString(bytes));
    return r;
  }
  std::string body_;
  ParsedExposition parsed_;
  ExpositionParser parser_;
  ScrapeTranslator translator_;
};

const pb::Metric* findMetric(const MetricsRequest& r, const std::string& name) {
  for (const auto& rm : r.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        if (m.name() == name) return &m;
      }
    }
  }
  return nullptr;
}

std::map<std::string, std::string> attributes(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& kvs) {
  std::map<std::string, std::string> out;
  for (const auto& kv : kvs) {
    out[kv.key()] = kv.value().has_int_value() ? std::to_string(kv.value().int_value())
                                               : kv.value().string_value();
  }
  return out;
}

// Compares with a golden text-format request; OTLPD_UPDATE_GOLDEN=1 rewrites it (review the diff).
void expectGolden(const MetricsRequest& actual, const std::string& name) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(actual, &text);
  if (std::getenv("OTLPD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(testdata(name)) << text;
  }
  MetricsRequest expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(readFile(testdata(name)), &expected))
      << name;
  google::protobuf::util::MessageDifferencer differ;
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  differ.set_field_comparator(&comparator);
  std::string report;
  differ.ReportDifferencesToString(&report);
  EXPECT_TRUE(differ.Compare(expected, actual)) << report << "\nactual:\n" << text;
}

TEST(ScrapeTranslatorTest, TextFormatGolden) {
  Scraper s;
  MetricsRequest first = s.scrape(readFile(testdata("client_golang.prom")), kT0);
  EXPECT_TRUE(s.stats.up);
  EXPECT_EQ(s.stats.samples_scraped, 22u);
  EXPECT_EQ(s.stats.samples_post_relabeling, 22u);
  EXPECT_EQ(s.stats.series_added, 22u);
  EXPECT_EQ(s.stats.invalid + s.stats.duplicates + s.stats.unsupported, 0u);
  expectGolden(first, "client_golang.otlp.txtpb");
}

TEST(ScrapeTranslatorTest, OpenMetricsGolden) {
  Scraper s;
  MetricsRequest first = s.scrape(readFile(testdata("openmetrics.om")), kT0, Format::kOpenMetrics);
  EXPECT_TRUE(s.stats.up);
  EXPECT_EQ(s.stats.samples_scraped, 24u);
  EXPECT_EQ(s.stats.unsupported, 4u);  // the gauge histogram's samples
  expectGolden(first, "openmetrics.otlp.txtpb");
}

TEST(ScrapeTranslatorTest, CounterStartTimesAndResets) {
  Scraper s;
  const std::string type = "# TYPE c_total counter\n";
  auto point = [&](const MetricsRequest& r) {
    return findMetric(r, "c_total")->sum().data_points(0);
  };

  // First observation: start unknown, a zero-length point.
  auto p1 = point(s.scrape(type + "c_total 10\n", kT0));
  EXPECT_EQ(p1.start_time_unix_nano(), kT0 * kMs);
  EXPECT_EQ(p1.time_unix_nano(), kT0 * kMs);
  auto p2 = point(s.scrape(type + "c_total 15\n", kT0 + 15000));
  EXPECT_EQ(p2.start_time_unix_nano(), kT0 * kMs);
  EXPECT_EQ(p2.as_double(), 15);
  // Went down: the target restarted after the previous scrape (1 ms after it).
  auto p3 = point(s.scrape(type + "c_total 3\n", kT0 + 30000));
  EXPECT_EQ(p3.start_time_unix_nano(), (kT0 + 15001) * kMs);
  EXPECT_EQ(p3.time_unix_nano(), (kT0 + 30000) * kMs);
  auto p4 = point(s.scrape(type + "c_total 4\n", kT0 + 45000));
  EXPECT_EQ(p4.start_time_unix_nano(), (kT0 + 15001) * kMs);
  const MetricsRequest last = s.scrape(type + "c_total 5\n", kT0 + 60000);
  const pb::Metric* m = findMetric(last, "c_total");
  EXPECT_TRUE(m->sum().is_monotonic());
  EXPECT_EQ(m->sum().aggregation_temporality(), pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
}

TEST(ScrapeTranslatorTest, HistogramAndSummaryResetOnCount) {
  Scraper s;
  auto body = [](int count) {
    return "# TYPE h histogram\nh_bucket{le=\"1\"} " + std::to_string(count) +
           "\nh_bucket{le=\"+Inf\"} " + std::to_string(count) + "\nh_count " +
           std::to_string(count) + "\nh_sum 1\n# TYPE s summary\ns_count " + std::to_string(count) +
           "\ns_sum 2\n";
  };
  s.scrape(body(5), kT0);
  // The first point had start == time (unknown start); the restarted stream must not share it.
  auto r = s.scrape(body(2), kT0 + 1000);
  EXPECT_EQ(findMetric(r, "h")->histogram().data_points(0).start_time_unix_nano(), (kT0 + 1) * kMs);
  EXPECT_EQ(findMetric(r, "s")->summary().data_points(0).start_time_unix_nano(), (kT0 + 1) * kMs);
  // The restarted stream keeps its start.
  r = s.scrape(body(7), kT0 + 2000);
  EXPECT_EQ(findMetric(r, "h")->histogram().data_points(0).start_time_unix_nano(), (kT0 + 1) * kMs);
  EXPECT_EQ(findMetric(r, "h")->histogram().data_points(0).count(), 7u);
}

TEST(ScrapeTranslatorTest, CreatedGivesTheStartTime) {
  Scraper s;
  const std::string body = "# TYPE c counter\nc_total 7\nc_created 1680100000.5\n# EOF\n";
  auto r = s.scrape(body, kT0, Format::kOpenMetrics);
  const auto& p = findMetric(r, "c_total")->sum().data_points(0);
  EXPECT_EQ(p.start_time_unix_nano(), 1680100000500 * kMs);
  // _created wins over reset detection too.
  r = s.scrape("# TYPE c counter\nc_total 1\nc_created 1680100000.5\n# EOF\n", kT0 + 1000,
               Format::kOpenMetrics);
  EXPECT_EQ(findMetric(r, "c_total")->sum().data_points(0).start_time_unix_nano(),
            1680100000500 * kMs);
  // A _created after the sample's time is not a start.
  r = s.scrape("# TYPE c counter\nc_total 2\nc_created 1780100000\n# EOF\n", kT0 + 2000,
               Format::kOpenMetrics);
  EXPECT_LE(findMetric(r, "c_total")->sum().data_points(0).start_time_unix_nano(),
            (kT0 + 2000) * kMs);
}

TEST(ScrapeTranslatorTest, DisappearedSeriesGetAStaleMarkerOnce) {
  Scraper s;
  s.scrape("# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n# TYPE c counter\nc 5\n", kT0);
  auto r = s.scrape("# HELP g Gauge g.\n# TYPE g gauge\ng{a=\"1\"} 1\n", kT0 + 1000);
  EXPECT_EQ(s.stats.stale_markers, 2u);
  const pb::Metric* g = findMetric(r, "g");
  ASSERT_NE(g, nullptr);
  // One metric for the stale and the live point, described by the live one.
  EXPECT_EQ(g->description(), "Gauge g.");
  ASSERT_EQ(g->metadata_size(), 1);
  EXPECT_EQ(g->metadata(0).value().string_value(), "gauge");
  ASSERT_EQ(g->gauge().data_points_size(), 2);
  // Stale markers come first.
  const auto& stale = g->gauge().data_points(0);
  EXPECT_EQ(attributes(stale.attributes()), (std::map<std::string, std::string>{{"a", "2"}}));
  EXPECT_EQ(stale.flags(), 1u);  // FLAG_NO_RECORDED_VALUE
  EXPECT_EQ(stale.value_case(), pb::NumberDataPoint::VALUE_NOT_SET);
  EXPECT_EQ(stale.time_unix_nano(), (kT0 + 1000) * kMs);
  const auto& stale_counter = findMetric(r, "c")->sum().data_points(0);
  EXPECT_EQ(stale_counter.flags(), 1u);
  EXPECT_EQ(stale_counter.start_time_unix_nano(), kT0 * kMs);
  EXPECT_EQ(g->gauge().data_points(1).flags(), 0u);

  r = s.scrape("# TYPE g gauge\ng{a=\"1\"} 1\n", kT0 + 2000);
  EXPECT_EQ(s.stats.stale_markers, 0u);
  EXPECT_EQ(findMetric(r, "c"), nullptr);
  // Back again: a new stream.
  r = s.scrape("# TYPE c counter\nc 9\n", kT0 + 3000);
  EXPECT_EQ(findMetric(r, "c")->sum().data_points(0).start_time_unix_nano(), (kT0 + 3000) * kMs);
}

TEST(ScrapeTranslatorTest, StaleHistogramAndSummary) {
  Scraper s;
  s.scrape(
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n"
      "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\ns_sum 1\n",
      kT0);
  auto r = s.scrape("", kT0 + 1000);
  const auto& h = findMetric(r, "h")->histogram().data_points(0);
  EXPECT_EQ(h.flags(), 1u);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.bucket_counts_size(), 0);
  EXPECT_EQ(findMetric(r, "s")->summary().data_points(0).flags(), 1u);
}

TEST(ScrapeTranslatorTest, SeriesWithTheirOwnTimestampsAreNotMarkedStale) {
  Scraper s;
  s.scrape("g 1 1680150000000\n", kT0);
  s.scrape("", kT0 + 1000);
  EXPECT_EQ(s.stats.stale_markers, 0u);
}

TEST(ScrapeTranslatorTest, FailedScrapeMarksEverythingStaleAndUpZero) {
  Scraper s;
  s.scrape("# TYPE c counter\nc 5\ng 1\n", kT0);
  auto r = s.fail(kT0 + 1000);
  EXPECT_FALSE(s.stats.up);
  EXPECT_EQ(s.stats.stale_markers, 2u);
  EXPECT_EQ(findMetric(r, "up")->gauge().data_points(0).as_double(), 0);
  EXPECT_EQ(findMetric(r, "scrape_duration_seconds")->gauge().data_points(0).as_double(), 0.5);
  EXPECT_EQ(findMetric(r, "c")->sum().data_points(0).flags(), 1u);
  // The next good scrape starts every stream afresh.
  r = s.scrape("# TYPE c counter\nc 6\n", kT0 + 2000);
  EXPECT_EQ(findMetric(r, "c")->sum().data_points(0).start_time_unix_nano(), (kT0 + 2000) * kMs);
  EXPECT_EQ(findMetric(r, "up")->gauge().data_points(0).as_double(), 1);
}

TEST(ScrapeTranslatorTest, FinishMarksTheReportSeriesStaleToo) {
  Scraper s;
  s.scrape("g 1\n", kT0);
  auto r = s.finish(kT0 + 500);
  for (const char* name : {"g", "up", "scrape_duration_seconds", "scrape_samples_scraped",
                           "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
    const pb::Metric* m = findMetric(r, name);
    ASSERT_NE(m, nullptr) << name;
    EXPECT_EQ(m->gauge().data_points(0).flags(), 1u) << name;
  }
  Scraper never;
  EXPECT_EQ(never.finish(kT0).resource_metrics_size(), 0);
}

TEST(ScrapeTranslatorTest, DuplicatesAreDroppedAndCounted) {
  Scraper s;
  auto r = s.scrape(
      "g{a=\"1\"} 1\ng{a=\"1\"} 2\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_count 1\n",
      kT0);
  EXPECT_EQ(s.stats.duplicates, 3u);
  ASSERT_EQ(findMetric(r, "g")->gauge().data_points_size(), 1);
  EXPECT_EQ(findMetric(r, "g")->gauge().data_points(0).as_double(), 1);  // the first one wins
  const auto& h = findMetric(r, "h")->histogram().data_points(0);
  EXPECT_THAT(h.bucket_counts(), ::testing::ElementsAre(1, 0));
}

TEST(ScrapeTranslatorTest, TypeChangeBetweenScrapesStartsANewSeries) {
  Scraper s;
  s.scrape("# TYPE m counter\nm 5\n", kT0);
  auto r = s.scrape("# TYPE m gauge\nm 3\n", kT0 + 1000);
  EXPECT_EQ(s.stats.type_changes, 1u);
  // The counter's stale marker, then the gauge.
  ASSERT_GE(r.resource_metrics(0).scope_metrics(0).metrics_size(), 2);
  EXPECT_TRUE(r.resource_metrics(0).scope_metrics(0).metrics(0).has_sum());
  EXPECT_TRUE(r.resource_metrics(0).scope_metrics(0).metrics(1).has_gauge());
  int gauges = 0, sums = 0;
  for (const auto& m : r.resource_metrics(0).scope_metrics(0).metrics()) {
    if (m.name() != "m") continue;
    if (m.has_gauge()) {
      ++gauges;
      EXPECT_EQ(m.gauge().data_points(0).as_double(), 3);
    }
    if (m.has_sum()) {
      ++sums;
      EXPECT_EQ(m.sum().data_points(0).flags(), 1u);
    }
  }
  EXPECT_EQ(gauges, 1);
  EXPECT_EQ(sums, 1);
  s.scrape("# TYPE m gauge\nm 4\n", kT0 + 2000);
  EXPECT_EQ(s.stats.type_changes, 0u);
}

TEST(ScrapeTranslatorTest, ConflictingTypeInOneBodyDropsTheLaterFamily) {
  Scraper s;
  auto r = s.scrape("# TYPE m counter\nm 5\n# TYPE m gauge\nm{x=\"1\"} 3\n", kT0);
  EXPECT_EQ(s.stats.type_conflicts, 1u);
  EXPECT_EQ(findMetric(r, "m")->sum().data_points_size(), 1);
}

TEST(ScrapeTranslatorTest, InvalidHistogramsAreDropped) {
  Scraper s;
  auto r = s.scrape(
      "# TYPE no_count histogram\nno_count_bucket{le=\"+Inf\"} 1\nno_count_sum 1\n"
      "# TYPE down histogram\ndown_bucket{le=\"1\"} 5\ndown_bucket{le=\"2\"} 3\ndown_count 5\n"
      "# TYPE bad_le histogram\nbad_le_bucket{le=\"x\"} 1\nbad_le_count 1\n"
      "# TYPE ok histogram\nok_bucket{le=\"2\"} 2\nok_bucket{le=\"1\"} 1\nok_count 3\n",
      kT0);
  EXPECT_EQ(s.stats.invalid, 3u);
  EXPECT_EQ(findMetric(r, "no_count"), nullptr);
  EXPECT_EQ(findMetric(r, "down"), nullptr);
  EXPECT_NE(findMetric(r, "bad_le"), nullptr);  // its _count alone still makes a histogram
  // Buckets out of order are sorted; no +Inf bucket: the last count is what _count leaves.
  const auto& ok = findMetric(r, "ok")->histogram().data_points(0);
  EXPECT_THAT(ok.explicit_bounds(), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(ok.bucket_counts(), ::testing::ElementsAre(1, 1, 1));
  EXPECT_FALSE(ok.has_sum());
}

TEST(ScrapeTranslatorTest, SampleLimitFailsTheScrape) {
  TranslateOptions o = options();
  o.sample_limit = 2;
  Scraper s(target(), o);
  s.scrape("a 1\n", kT0);
  auto r = s.scrape("a 1\nb 2\nc 3\n", kT0 + 1000);
  EXPECT_FALSE(s.stats.up);
  EXPECT_THAT(s.stats.error, ::testing::HasSubstr("sample_limit"));
  EXPECT_EQ(s.stats.samples_scraped, 3u);
  EXPECT_EQ(findMetric(r, "b"), nullptr);
  EXPECT_EQ(findMetric(r, "a")->gauge().data_points(0).flags(), 1u);
  EXPECT_EQ(findMetric(r, "up")->gauge().data_points(0).as_double(), 0);
}

TEST(ScrapeTranslatorTest, TargetLabelsAndHonorLabels) {
  Scraper s(target({{"team", "blue"}}));
  auto r = s.scrape("m{job=\"other\",team=\"red\",x=\"1\"} 1\n", kT0);
  ASSERT_EQ(r.resource_metrics_size(), 1);
  EXPECT_EQ(
      attributes(findMetric(r, "m")->gauge().data_points(0).attributes()),
      (std::map<std::string, std::string>{
          {"exported_job", "other"}, {"exported_team", "red"}, {"team", "blue"}, {"x", "1"}}));
  EXPECT_EQ(attributes(findMetric(r, "up")->gauge().data_points(0).attributes()),
            (std::map<std::string, std::string>{{"team", "blue"}}));

  TranslateOptions o = options();
  o.honor_labels = true;
  Scraper honored(target({{"team", "blue"}}), o);
  r = honored.scrape("m{job=\"other\",team=\"red\"} 1\nn 2\n", kT0);
  // The scraped job wins and makes a resource of its own.
  ASSERT_EQ(r.resource_metrics_size(), 2);
  std::map<std::string, std::string> resource_of_m;
  for (const auto& rm : r.resource_metrics()) {
    for (const auto& m : rm.scope_metrics(0).metrics()) {
      if (m.name() == "m") {
        resource_of_m = attributes(rm.resource().attributes());
        EXPECT_EQ(attributes(m.gauge().data_points(0).attributes()),
                  (std::map<std::string, std::string>{{"team", "red"}}));
      }
    }
  }
  EXPECT_EQ(resource_of_m.at("service.name"), "other");
  EXPECT_EQ(resource_of_m.at("service.instance.id"), "10.0.0.1:9100");
}

TEST(ScrapeTranslatorTest, MetricRelabelConfigs) {
  config::ConfigErrors errors;
  config::ConfigNode node(YAML::Load(R"(rules:
    - {source_labels: [__name__], regex: 'go_.*', action: drop}
    - {regex: 'secret', action: labeldrop}
    - {source_labels: [__name__], regex: 'm', target_label: __name__, replacement: renamed})"),
                          "x", errors);
  TranslateOptions o = options();
  o.metric_relabel_configs = readRelabelRules(node, "rules");
  ASSERT_TRUE(errors.empty()) << errors.toString();
  Scraper s(target(), o);
  auto r = s.scrape("go_goroutines 5\nm{secret=\"x\",ok=\"y\"} 1\n", kT0);
  EXPECT_EQ(s.stats.samples_scraped, 2u);
  EXPECT_EQ(s.stats.samples_post_relabeling, 1u);
  EXPECT_EQ(findMetric(r, "go_goroutines"), nullptr);
  EXPECT_EQ(findMetric(r, "m"), nullptr);
  EXPECT_EQ(attributes(findMetric(r, "renamed")->gauge().data_points(0).attributes()),
            (std::map<std::string, std::string>{{"ok", "y"}}));
  EXPECT_EQ(
      findMetric(r, "scrape_samples_post_metric_relabeling")->gauge().data_points(0).as_double(),
      1);
}

TEST(ScrapeTranslatorTest, HonorTimestamps) {
  auto run = [](bool honor) {
    TranslateOptions o = options();
    o.honor_timestamps = honor;
    Scraper s(target(), o);
    return findMetric(s.scrape("g 1 1680140000000\n", kT0), "g")
        ->gauge()
        .data_points(0)
        .time_unix_nano();
  };
  EXPECT_EQ(run(true), 1680140000000 * kMs);
  EXPECT_EQ(run(false), kT0 * kMs);
}

TEST(ScrapeTranslatorTest, TargetInfoAndScopes) {
  Scraper s;
  auto r = s.scrape(
      "# TYPE target info\ntarget_info{env=\"prod\",region=\"eu\"} 1\n"
      "# TYPE otel_scope info\n"
      "otel_scope_info{otel_scope_name=\"lib\",otel_scope_version=\"1.0\",mascot=\"bear\"} 1\n"
      "# TYPE req counter\nreq_total{otel_scope_name=\"lib\",otel_scope_version=\"1.0\"} 4\n"
      "# EOF\n",
      kT0, Format::kOpenMetrics);
  ASSERT_EQ(r.resource_metrics_size(), 1);
  const auto& rm = r.resource_metrics(0);
  EXPECT_EQ(attributes(rm.resource().attributes()),
            (std::map<std::string, std::string>{{"service.name", "app"},
                                                {"service.instance.id", "10.0.0.1:9100"},
                                                {"server.address", "10.0.0.1"},
                                                {"server.port", "9100"},
                                                {"url.scheme", "http"},
                                                {"env", "prod"},
                                                {"region", "eu"}}));
  EXPECT_EQ(findMetric(r, "target_info"), nullptr);
  EXPECT_EQ(findMetric(r, "otel_scope_info"), nullptr);
  bool found = false;
  for (const auto& sm : rm.scope_metrics()) {
    if (sm.scope().name() != "lib") continue;
    found = true;
    EXPECT_EQ(sm.scope().version(), "1.0");
    EXPECT_EQ(attributes(sm.scope().attributes()),
              (std::map<std::string, std::string>{{"mascot", "bear"}}));
    ASSERT_EQ(sm.metrics_size(), 1);
    EXPECT_EQ(sm.metrics(0).name(), "req_total");
    EXPECT_TRUE(sm.metrics(0).sum().data_points(0).attributes().empty());
  }
  EXPECT_TRUE(found);
}

TEST(ScrapeTranslatorTest, UnitsFromOpenMetrics) {
  EXPECT_EQ(otelUnitFromPrometheus("seconds"), "s");
  EXPECT_EQ(otelUnitFromPrometheus("bytes"), "By");
  EXPECT_EQ(otelUnitFromPrometheus("ratio"), "1");
  EXPECT_EQ(otelUnitFromPrometheus("bytes_per_second"), "By/s");
  EXPECT_EQ(otelUnitFromPrometheus("requests"), "requests");
  EXPECT_EQ(otelUnitFromPrometheus("meters_per_seconds"), "m/s");
}

}  // namespace
}  // namespace otlpd::prometheus
