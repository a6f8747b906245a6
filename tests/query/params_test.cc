// Query-string parameters: every bad value is named, times and durations parse as documented.
#include "query/params.h"

#include <gtest/gtest.h>

#include <limits>

namespace otlpd::query {
namespace {

TEST(ParamsTest, DecodesAndReadsTypedValues) {
  Params p("service=my+svc&operation=GET%20%2Fx&limit=5&empty=&start=1000&lookback=1h");
  EXPECT_EQ(p.text("service"), "my svc");
  EXPECT_EQ(p.text("operation"), "GET /x");
  EXPECT_EQ(p.text("empty"), std::nullopt);
  EXPECT_EQ(p.text("absent"), std::nullopt);
  EXPECT_EQ(p.integer("limit", 1, 10), 5);
  EXPECT_EQ(p.micros("start"), 1000);
  EXPECT_EQ(p.duration("lookback"), int64_t{3600} * 1000000);
  EXPECT_TRUE(p.ok());
}

TEST(ParamsTest, NamesTheFirstBadParameter) {
  Params p("limit=0&start=yesterday");
  EXPECT_EQ(p.integer("limit", 1, 10), std::nullopt);
  EXPECT_EQ(p.micros("start"), std::nullopt);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.error(), "malformed parameter 'limit': '0' is not an integer between 1 and 10");
}

TEST(ParamsTest, LongValuesAreShortenedInErrors) {
  Params p("limit=" + std::string(500, '9'));
  p.integer("limit", 1, 10);
  EXPECT_LT(p.error().size(), 200u);
  EXPECT_NE(p.error().find("..."), std::string::npos);
}

TEST(ParamsTest, Tags) {
  Params p(R"(tags=%7B%22http.status_code%22%3A500%2C%22a%22%3A%22b%22%2C%22ok%22%3Atrue%7D)");
  auto tags = p.tags("tags");
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0], (std::pair<std::string, std::string>{"a", "b"}));
  EXPECT_EQ(tags[1], (std::pair<std::string, std::string>{"http.status_code", "500"}));
  EXPECT_EQ(tags[2], (std::pair<std::string, std::string>{"ok", "true"}));
  for (const char* bad : {"tags=%5B1%5D", "tags=%7B", "tags=3"}) {
    Params q(bad);
    q.tags("tags");
    EXPECT_NE(q.error().find("'tags'"), std::string::npos) << bad;
  }
}

TEST(ParamsTest, Severity) {
  EXPECT_EQ(parseSeverity("9"), 9);
  EXPECT_EQ(parseSeverity("warn"), 13);
  EXPECT_EQ(parseSeverity("ERROR"), 17);
  EXPECT_EQ(parseSeverity("Fatal"), 21);
  EXPECT_EQ(parseSeverity("TRACE"), 1);
  EXPECT_EQ(parseSeverity("DEBUG"), 5);
  EXPECT_EQ(parseSeverity("0"), std::nullopt);
  EXPECT_EQ(parseSeverity("25"), std::nullopt);
  EXPECT_EQ(parseSeverity("LOUD"), std::nullopt);
}

TEST(ParamsTest, Rfc3339) {
  EXPECT_EQ(parseRfc3339Nanos("2025-01-01T00:00:00Z"), int64_t{1735689600} * 1000000000);
  EXPECT_EQ(parseRfc3339Nanos("2025-01-01T00:00:00.5Z"),
            int64_t{1735689600} * 1000000000 + 500000000);
  EXPECT_EQ(parseRfc3339Nanos("2025-01-01T01:00:00.000000001+01:00"),
            int64_t{1735689600} * 1000000000 + 1);
  EXPECT_EQ(parseRfc3339Nanos("2024-12-31T23:30:00-00:30"), int64_t{1735689600} * 1000000000);
  EXPECT_EQ(parseRfc3339Nanos("1970-01-01T00:00:00Z"), 0);
  for (const char* bad :
       {"", "2025-01-01", "2025-13-01T00:00:00Z", "2025-01-01T00:00:00", "2025-01-01T00:00:00.Z",
        "2025-01-01T24:00:00Z", "yesterday", "2025-01-01T00:00:00Zjunk"}) {
    EXPECT_EQ(parseRfc3339Nanos(bad), std::nullopt) << bad;
  }
}

TEST(ParamsTest, TimeWindow) {
  const int64_t now = 10'000'000'000;  // µs
  {
    Params p("");
    const TimeWindow w = readTimeWindow(p, now, 0);
    EXPECT_EQ(w.start_unix_nano, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(w.end_unix_nano, std::numeric_limits<int64_t>::max());
  }
  {
    Params p("");
    const TimeWindow w = readTimeWindow(p, now, 1'000'000);
    EXPECT_EQ(w.start_unix_nano, (now - 1'000'000) * 1000);
  }
  {
    Params p("end=5000000&lookback=2s");
    const TimeWindow w = readTimeWindow(p, now, 0);
    EXPECT_EQ(w.start_unix_nano, 3'000'000'000);
    EXPECT_EQ(w.end_unix_nano, 5'000'001'000);  // end is inclusive
  }
  {
    Params p("start=7&end=5");
    readTimeWindow(p, now, 0);
    EXPECT_NE(p.error().find("'start'"), std::string::npos);
  }
  {
    Params p("lookback=custom&start=1");
    const TimeWindow w = readTimeWindow(p, now, 0);
    EXPECT_TRUE(p.ok());
    EXPECT_EQ(w.start_unix_nano, 1000);
  }
}

}  // namespace
}  // namespace otlpd::query

namespace otlpd::query {
namespace {

TEST(ParamsAliasTest, CanonicalNamesWinAliasesAreNamedInErrorsUnknownNamesFail) {
  Params camel("query.serviceName=a&query.service_name=b");
  camel.alias("query.serviceName", "query.service_name");
  EXPECT_EQ(camel.text("query.serviceName"), "a");
  camel.rejectUnknown();
  EXPECT_TRUE(camel.ok()) << camel.error();

  Params snake("query.start_time_min=soon");
  snake.alias("query.startTimeMin", "query.start_time_min");
  EXPECT_EQ(snake.rfc3339("query.startTimeMin"), std::nullopt);
  EXPECT_NE(snake.error().find("'query.start_time_min'"), std::string::npos) << snake.error();

  Params unknown("service=a&colour=red");
  EXPECT_EQ(unknown.text("service"), "a");
  unknown.rejectUnknown();
  EXPECT_EQ(unknown.error(), "unknown parameter 'colour'");

  Params repeated("traceID=a&traceID=b&traceID=c");
  EXPECT_EQ(repeated.all("traceID"), (std::vector<std::string>{"a", "b", "c"}));
  Params flag("raw=maybe");
  EXPECT_EQ(flag.boolean("raw"), std::nullopt);
  EXPECT_FALSE(flag.ok());
}

}  // namespace
}  // namespace otlpd::query
