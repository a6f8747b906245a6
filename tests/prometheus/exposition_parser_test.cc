#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "prometheus/exposition.h"

namespace otlpd::prometheus {
namespace {

using ::testing::HasSubstr;

std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(OTLPD_SOURCE_DIR) + "/tests/prometheus/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> labelsOf(const ParsedExposition& p, const Sample& s) {
  std::map<std::string, std::string> out;
  for (uint32_t i = 0; i < s.label_count; ++i) {
    out[std::string(p.labelsOf(s)[i].name)] = std::string(p.labelsOf(s)[i].value);
  }
  return out;
}

const Family& familyOf(const ParsedExposition& p, const Sample& s) {
  return p.families[s.family];
}

TEST(ExpositionParserTest, ClientGolangTextFormat) {
  const std::string body = readFixture("client_golang.prom");
  ParsedExposition p;
  ExpositionParser parser;
  ASSERT_TRUE(parser.parse(body, Format::kText, p).ok()) << parser.parse(body, Format::kText, p);
  ASSERT_EQ(p.samples.size(), 22u);

  const Sample& q0 = p.samples[0];
  EXPECT_EQ(q0.name, "go_gc_duration_seconds");
  EXPECT_EQ(familyOf(p, q0).type, MetricType::kSummary);
  EXPECT_EQ(familyOf(p, q0).help, "A summary of the pause duration of garbage collection cycles.");
  EXPECT_EQ(labelsOf(p, q0), (std::map<std::string, std::string>{{"quantile", "0"}}));
  EXPECT_DOUBLE_EQ(q0.value, 4.2947e-05);
  // _sum and _count belong to the summary's family.
  EXPECT_EQ(p.samples[5].name, "go_gc_duration_seconds_sum");
  EXPECT_EQ(p.samples[5].family, q0.family);
  EXPECT_EQ(p.samples[6].family, q0.family);
  EXPECT_DOUBLE_EQ(p.samples[6].value, 231);

  EXPECT_EQ(familyOf(p, p.samples[7]).type, MetricType::kGauge);
  EXPECT_EQ(familyOf(p, p.samples[9]).name, "http_requests_total");
  EXPECT_EQ(familyOf(p, p.samples[9]).type, MetricType::kCounter);
  EXPECT_DOUBLE_EQ(p.samples[11].value, 1.5e6);

  const Sample& bucket = p.samples[12];
  EXPECT_EQ(bucket.name, "http_request_duration_seconds_bucket");
  EXPECT_EQ(familyOf(p, bucket).name, "http_request_duration_seconds");
  EXPECT_EQ(familyOf(p, bucket).type, MetricType::kHistogram);
  EXPECT_EQ(labelsOf(p, p.samples[15]).at("le"), "+Inf");
  EXPECT_EQ(p.samples[17].family, bucket.family);

  const Sample& escaped = p.samples[19];
  EXPECT_EQ(familyOf(p, escaped).help, "Help with a backslash \\ and a newline \n in it.");
  EXPECT_EQ(labelsOf(p, escaped),
            (std::map<std::string, std::string>{
                {"path", "C:\\dir\\file"}, {"quote", "say \"hi\""}, {"multi", "a\nb"}}));
  EXPECT_TRUE(std::isinf(escaped.value) && escaped.value < 0);

  // Leading tab, blanks around label syntax, a trailing comma and a timestamp in milliseconds.
  const Sample& untyped = p.samples[20];
  EXPECT_EQ(untyped.name, "untyped_metric");
  EXPECT_FALSE(familyOf(p, untyped).declared);
  EXPECT_EQ(labelsOf(p, untyped), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(untyped.has_timestamp);
  EXPECT_EQ(untyped.timestamp_ms, 1680150000123);
  EXPECT_TRUE(std::isnan(p.samples[21].value));
  EXPECT_EQ(familyOf(p, p.samples[21]).type, MetricType::kUnknown);
  EXPECT_FALSE(p.samples[0].has_timestamp);
}

// An empty body from a scrape target: refused for OpenMetrics (no # EOF), empty for the text
// format; never a read through a null line start (found by the prometheus_exposition fuzz target:
// the error message read the "current line" from address 0).
TEST(ExpositionParserTest, EmptyBodiesAreHandled) {
  ExpositionParser parser;
  ParsedExposition p;
  const std::string empty;
  const absl::Status s = parser.parse(empty, Format::kOpenMetrics, p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(std::string(s.message()).find("# EOF"), std::string::npos) << s;
  EXPECT_EQ(parser.parse(std::string_view(), Format::kOpenMetrics, p).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(parser.parse(empty, Format::kText, p).ok());
  EXPECT_TRUE(p.samples.empty());
}

// An OpenMetrics timestamp (seconds, a float) beyond what int64 milliseconds hold is refused
// before the conversion, which would be undefined (found by the prometheus_exposition fuzz target).
TEST(ExpositionParserTest, OpenMetricsTimestampOutOfRangeIsRefused) {
  ExpositionParser parser;
  ParsedExposition p;
  const absl::Status s = parser.parse("m 1 1.68e62\n# EOF\n", Format::kOpenMetrics, p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(std::string(s.message()).find("timestamp out of range"), std::string::npos) << s;
  ASSERT_TRUE(parser.parse("m 1 1700000000.5\n# EOF\n", Format::kOpenMetrics, p).ok());
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].timestamp_ms, 1'700'000'000'500);
}

TEST(ExpositionParserTest, OpenMetricsFamiliesUnitsCreatedAndExemplars) {
  const std::string body = readFixture("openmetrics.om");
  ParsedExposition p;
  ExpositionParser parser;
  absl::Status s = parser.parse(body, Format::kOpenMetrics, p);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(p.samples.size(), 24u);

  const Sample& counter = p.samples[0];
  const Family& requests = familyOf(p, counter);
  EXPECT_EQ(requests.name, "http_requests");
  EXPECT_EQ(requests.type, MetricType::kCounter);
  EXPECT_EQ(requests.unit, "requests");
  EXPECT_EQ(requests.help, "Total HTTP requests.");
  EXPECT_EQ(counter.name, "http_requests_total");
  ASSERT_GE(counter.exemplar, 0);
  const Exemplar& e = p.exemplars[counter.exemplar];
  EXPECT_DOUBLE_EQ(e.value, 1);
  EXPECT_TRUE(e.has_timestamp);
  EXPECT_DOUBLE_EQ(e.timestamp_seconds, 1680150000.5);
  ASSERT_EQ(e.label_count, 2u);
  EXPECT_EQ(p.labelsOf(e)[0].name, "trace_id");
  EXPECT_EQ(p.labelsOf(e)[1].value, "00f067aa0ba902b7");
  EXPECT_EQ(p.samples[1].name, "http_requests_created");
  EXPECT_EQ(p.samples[1].family, counter.family);
  EXPECT_DOUBLE_EQ(p.samples[1].value, 1680100000.25);

  const Sample& b01 = p.samples[5];
  EXPECT_EQ(familyOf(p, b01).type, MetricType::kHistogram);
  ASSERT_GE(b01.exemplar, 0);
  EXPECT_FALSE(p.exemplars[b01.exemplar].has_timestamp);
  EXPECT_EQ(p.samples[10].name, "rpc_duration_seconds_created");
  EXPECT_EQ(p.samples[10].family, b01.family);

  EXPECT_EQ(familyOf(p, p.samples[11]).type, MetricType::kSummary);
  EXPECT_EQ(familyOf(p, p.samples[15]).type, MetricType::kGaugeHistogram);
  EXPECT_EQ(p.samples[17].name, "queue_depth_gcount");
  EXPECT_EQ(p.samples[17].family, p.samples[15].family);

  const Sample& info = p.samples[19];
  EXPECT_EQ(info.name, "build_info");
  EXPECT_EQ(familyOf(p, info).name, "build");
  EXPECT_EQ(familyOf(p, info).type, MetricType::kInfo);
  EXPECT_EQ(familyOf(p, p.samples[20]).type, MetricType::kStateSet);

  // OpenMetrics timestamps are seconds; Prometheus truncates them to milliseconds.
  const Sample& temperature = p.samples[22];
  EXPECT_TRUE(temperature.has_timestamp);
  EXPECT_EQ(temperature.timestamp_ms, 1680150000125);
  EXPECT_EQ(familyOf(p, temperature).unit, "celsius");
  EXPECT_EQ(familyOf(p, p.samples[23]).type, MetricType::kUnknown);
  EXPECT_TRUE(familyOf(p, p.samples[23]).declared);
}

TEST(ExpositionParserTest, SampleOutsideItsFamilysRunFindsTheDeclaredFamily) {
  ParsedExposition p;
  ExpositionParser parser;
  const std::string body =
      "# TYPE a histogram\n"
      "a_bucket{le=\"1\"} 1\n"
      "# TYPE b gauge\n"
      "b 2\n"
      "a_count 1\n"
      "a_other 3\n";
  ASSERT_TRUE(parser.parse(body, Format::kText, p).ok());
  ASSERT_EQ(p.samples.size(), 4u);
  EXPECT_EQ(p.samples[2].family, p.samples[0].family);
  // Not a histogram suffix: an untyped family of its own.
  EXPECT_EQ(familyOf(p, p.samples[3]).name, "a_other");
  EXPECT_EQ(familyOf(p, p.samples[3]).type, MetricType::kUnknown);
}

TEST(ExpositionParserTest, ConflictingTypeLineMakesAConflictingFamily) {
  ParsedExposition p;
  ExpositionParser parser;
  ASSERT_TRUE(parser
                  .parse("# TYPE x counter\nx 1\n# TYPE x gauge\nx{a=\"b\"} 2\n# TYPE x counter\n",
                         Format::kText, p)
                  .ok());
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_FALSE(familyOf(p, p.samples[0]).conflicting);
  EXPECT_TRUE(familyOf(p, p.samples[1]).conflicting);
  EXPECT_EQ(familyOf(p, p.samples[1]).type, MetricType::kGauge);
}

struct BadBody {
  Format format;
  std::string body;
  std::string error;
};

class ExpositionParserRejects : public ::testing::TestWithParam<BadBody> {};

TEST_P(ExpositionParserRejects, WithTheLine) {
  ParsedExposition p;
  ExpositionParser parser;
  absl::Status s = parser.parse(GetParam().body, GetParam().format, p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << GetParam().body;
  EXPECT_THAT(std::string(s.message()), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ExpositionParserRejects,
    ::testing::Values(
        BadBody{Format::kText, "ok 1\n<html>garbage</html>\n", "line 2: expected a metric name"},
        BadBody{Format::kText, "m{a=\"1\",a=\"2\"} 1\n", "a label name appears twice"},
        BadBody{Format::kText, "m{a=\"1} 1\n", "unterminated label value"},
        BadBody{Format::kText, "m{1a=\"1\"} 1\n", "invalid label name"},
        BadBody{Format::kText, "m{a=1} 1\n", "expected a quoted label value"},
        BadBody{Format::kText, "m 1x\n", "invalid sample value"},
        BadBody{Format::kText, "m 1 12.5\n", "invalid timestamp"},
        BadBody{Format::kText, "m\n", "expected a space before the value"},
        BadBody{Format::kText, "m 1 2 3\n", "unexpected characters"},
        BadBody{Format::kText, "# TYPE m histogramm\n", "unknown metric type"},
        BadBody{Format::kText, "# TYPE m info\n", "unknown metric type"},
        BadBody{Format::kText, std::string("m{a=\"\xff\xfe\"} 1\n"), "not valid UTF-8"},
        BadBody{Format::kText, std::string("m{a=\"\xc0\xaf\"} 1\n"), "not valid UTF-8"},
        BadBody{Format::kOpenMetrics, "m 1\n", "does not end with # EOF"},
        BadBody{Format::kOpenMetrics, "m  1\n# EOF\n", "invalid sample value"},
        BadBody{Format::kOpenMetrics, "m{a=\"1\", b=\"2\"} 1\n# EOF\n", "invalid label name"},
        BadBody{Format::kOpenMetrics, "# EOF\nm 1\n", "content after # EOF"},
        BadBody{Format::kOpenMetrics, "# random comment\n# EOF\n", "unknown comment"},
        BadBody{Format::kOpenMetrics, "\nm 1\n# EOF\n", "expected a metric name"},
        BadBody{Format::kOpenMetrics, "m 1 # {a=\"b\"}\n# EOF\n", "exemplar value"},
        BadBody{Format::kOpenMetrics, "m 1 NaN\n# EOF\n", "invalid timestamp"},
        BadBody{Format::kOpenMetrics, std::string("# UNIT m celsi\x99s\n# EOF\n"),
                "unit is not valid UTF-8"},
        BadBody{Format::kText, std::string("# HELP m caf\xe9\n"), "help text is not valid UTF-8"}));

TEST(ExpositionParserTest, FloatsAsGoParsesThem) {
  double v = 0;
  EXPECT_TRUE(parseFloat("42", v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(parseFloat("-0.5", v));
  EXPECT_EQ(v, -0.5);
  EXPECT_TRUE(parseFloat("+1e3", v));
  EXPECT_EQ(v, 1000);
  EXPECT_TRUE(parseFloat(".25", v));
  EXPECT_EQ(v, 0.25);
  EXPECT_TRUE(parseFloat("0x1p-2", v));
  EXPECT_EQ(v, 0.25);
  EXPECT_TRUE(parseFloat("+Inf", v));
  EXPECT_TRUE(std::isinf(v) && v > 0);
  EXPECT_TRUE(parseFloat("-inf", v));
  EXPECT_TRUE(std::isinf(v) && v < 0);
  EXPECT_TRUE(parseFloat("NaN", v));
  EXPECT_TRUE(std::isnan(v));
  EXPECT_TRUE(parseFloat("123456789012345678901234567890", v));
  EXPECT_DOUBLE_EQ(v, 1.2345678901234568e29);
  EXPECT_FALSE(parseFloat("", v));
  EXPECT_FALSE(parseFloat("-", v));
  EXPECT_FALSE(parseFloat("1e", v));
  EXPECT_FALSE(parseFloat("nan1", v));
  EXPECT_FALSE(parseFloat("1_000", v));
  EXPECT_FALSE(parseFloat("1e999", v));  // out of range: Go's ParseFloat fails too
}

TEST(ExpositionParserTest, ContentNegotiation) {
  EXPECT_EQ(formatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::kOpenMetrics);
  EXPECT_EQ(formatFromContentType("Application/OpenMetrics-Text;version=0.0.1"),
            Format::kOpenMetrics);
  EXPECT_EQ(formatFromContentType("text/plain; version=0.0.4; charset=utf-8"), Format::kText);
  EXPECT_EQ(formatFromContentType(""), Format::kText);
  EXPECT_EQ(formatFromContentType("application/json"), Format::kText);
  EXPECT_THAT(std::string(kScrapeAcceptHeader),
              HasSubstr("application/openmetrics-text;version=1.0.0,"));
}

TEST(ExpositionParserTest, ReusedParserForgetsThePreviousBody) {
  ParsedExposition p;
  ExpositionParser parser;
  ASSERT_TRUE(parser.parse("# TYPE a counter\na 1\n", Format::kText, p).ok());
  ASSERT_TRUE(parser.parse("a 2\n", Format::kText, p).ok());
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_FALSE(p.families[0].declared);
}

}  // namespace
}  // namespace otlpd::prometheus
