#include "common/logging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace otlpd::logging {
namespace {

// Checks a timestamp against a template in which '0' stands for any digit.
bool matchesTimestamp(std::string_view ts, std::string_view pattern) {
  if (ts.size() != pattern.size()) return false;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (pattern[i] == '0' ? !(ts[i] >= '0' && ts[i] <= '9') : ts[i] != pattern[i]) return false;
  }
  return true;
}

constexpr std::string_view kJsonTs = "0000-00-00T00:00:00.000000Z";
constexpr std::string_view kConsoleTs = "0000-00-00T00:00:00.000Z";

// Splits a JSON line into its timestamp and the rest after `"ts":"…",`.
std::string withoutTimestamp(const std::string& line) {
  constexpr std::string_view kPrefix = "{\"ts\":\"";
  const size_t ts_end = kPrefix.size() + kJsonTs.size();
  EXPECT_TRUE(
      line.size() > ts_end + 2 && line.compare(0, kPrefix.size(), kPrefix) == 0 &&
      matchesTimestamp(std::string_view(line).substr(kPrefix.size(), kJsonTs.size()), kJsonTs) &&
      line.compare(ts_end, 2, "\",") == 0)
      << line;
  return line.size() > ts_end + 2 ? line.substr(ts_end + 2) : line;
}

// Captures lines through the test sink and restores the defaults afterwards.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init(Level::kDebug, Format::kJson);
    setSinkForTesting([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    setSinkForTesting(nullptr);
    init(Level::kInfo, Format::kJson);
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

  std::string onlyLineWithoutTimestamp() {
    const auto all = lines();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? std::string() : withoutTimestamp(all.back());
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LoggingTest, JsonLineShape) {
  const std::string id = "otlp";
  const std::string_view ep = "0.0.0.0:4317";
  info("listening", {{"receiver", id}, {"transport", "grpc"}, {"endpoint", ep}});
  EXPECT_EQ(onlyLineWithoutTimestamp(),
            R"("level":"info","msg":"listening","receiver":"otlp","transport":"grpc",)"
            R"("endpoint":"0.0.0.0:4317"})");
}

TEST_F(LoggingTest, NoFields) {
  warn("disk almost full");
  EXPECT_EQ(onlyLineWithoutTimestamp(), R"("level":"warn","msg":"disk almost full"})");
}

TEST_F(LoggingTest, TypedValues) {
  const uint64_t big = std::numeric_limits<uint64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  const size_t count = 3;
  const short tiny = -7;
  const char* null_text = nullptr;
  error("values", {{"int", 42},
                   {"neg", small},
                   {"big", big},
                   {"count", count},
                   {"short", tiny},
                   {"ratio", 0.25},
                   {"float", 1.5f},
                   {"whole", 3.0},
                   {"ok", true},
                   {"bad", false},
                   {"nan", std::nan("")},
                   {"inf", std::numeric_limits<double>::infinity()},
                   {"ninf", -std::numeric_limits<double>::infinity()},
                   {"null", null_text},
                   {"err", absl::UnavailableError("connection refused")},
                   {"fine", absl::OkStatus()}});
  EXPECT_EQ(onlyLineWithoutTimestamp(),
            R"("level":"error","msg":"values","int":42,"neg":-9223372036854775808,)"
            R"("big":18446744073709551615,"count":3,"short":-7,"ratio":0.25,"float":1.5,)"
            R"("whole":3,"ok":true,"bad":false,"nan":"NaN","inf":"+Inf","ninf":"-Inf",)"
            R"("null":null,"err":"UNAVAILABLE: connection refused","fine":"OK"})");
}

TEST_F(LoggingTest, AbslStringViewValue) {
  const absl::Status status = absl::InvalidArgumentError("bad span");
  info("m", {{"reason", status.message()}});
  EXPECT_EQ(onlyLineWithoutTimestamp(), R"("level":"info","msg":"m","reason":"bad span"})");
}

TEST_F(LoggingTest, EscapesStrings) {
  using namespace std::string_literals;
  info("quote \" backslash \\ newline \n tab \t",
       {{"ctl", "\x01\x1f\x7f"s}, {"nul", "a\0b"s}, {"k\"ey", "v"}, {"cr", "\r\b\f"}});
  EXPECT_EQ(onlyLineWithoutTimestamp(),
            R"("level":"info","msg":"quote \" backslash \\ newline \n tab \t",)"
            R"("ctl":"\u0001\u001f\u007f","nul":"a\u0000b","k\"ey":"v","cr":"\r\b\f"})");
}

TEST_F(LoggingTest, KeepsValidUtf8AndReplacesInvalid) {
  info("utf8", {{"ok", "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"},
                {"lone_continuation", "a\x80z"},
                {"truncated", "a\xE2\x82"},
                {"overlong", "\xC0\xAF"},
                {"surrogate", "\xED\xA0\x80"},
                {"too_big", "\xF4\x90\x80\x80"}});
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(
      onlyLineWithoutTimestamp(),
      "\"level\":\"info\",\"msg\":\"utf8\",\"ok\":\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\","
      "\"lone_continuation\":\"a" +
          r + "z\",\"truncated\":\"a" + r + r + "\",\"overlong\":\"" + r + r +
          "\",\"surrogate\":\"" + r + r + r + "\",\"too_big\":\"" + r + r + r + r + "\"}");
}

TEST_F(LoggingTest, LevelFiltering) {
  init(Level::kWarn);
  EXPECT_FALSE(enabled(Level::kDebug));
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kWarn));
  EXPECT_TRUE(enabled(Level::kError));
  debug("d");
  info("i");
  warn("w");
  error("e");
  log(Level::kInfo, "i2");
  log(Level::kError, "e2");
  const auto all = lines();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(withoutTimestamp(all[0]), R"("level":"warn","msg":"w"})");
  EXPECT_EQ(withoutTimestamp(all[1]), R"("level":"error","msg":"e"})");
  EXPECT_EQ(withoutTimestamp(all[2]), R"("level":"error","msg":"e2"})");

  init(Level::kDebug);
  debug("d2");
  ASSERT_EQ(lines().size(), 4u);
  EXPECT_EQ(withoutTimestamp(lines()[3]), R"("level":"debug","msg":"d2"})");
}

TEST_F(LoggingTest, ConsoleFormat) {
  init(Level::kDebug, Format::kConsole);
  info("listening", {{"receiver", "otlp"}, {"port", 4317}, {"ratio", 0.5}, {"tls", false}});
  error("export failed", {{"error", absl::UnavailableError("no route")},
                          {"empty", ""},
                          {"spaced", "a b"},
                          {"nan", std::nan("")}});
  debug("two\nlines");
  const auto all = lines();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& line : all) {
    EXPECT_TRUE(matchesTimestamp(line.substr(0, kConsoleTs.size()), kConsoleTs)) << line;
  }
  EXPECT_EQ(all[0].substr(25), "info  listening receiver=otlp port=4317 ratio=0.5 tls=false");
  EXPECT_EQ(all[1].substr(25),
            R"(error export failed error="UNAVAILABLE: no route" empty="" spaced="a b" nan=NaN)");
  EXPECT_EQ(all[2].substr(25), R"(debug two\nlines)");
}

TEST_F(LoggingTest, ConcurrentLinesStayWhole) {
  constexpr int kThreads = 8;
  constexpr int kLines = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  const auto all = lines();
  ASSERT_EQ(all.size(), size_t{kThreads} * kLines);
  std::multiset<std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kLines; ++i) {
      expected.insert(R"("level":"info","msg":"tick","thread":)" + std::to_string(t) +
                      ",\"i\":" + std::to_string(i) + "}");
    }
  }
  std::multiset<std::string> actual;
  for (const auto& line : all) actual.insert(withoutTimestamp(line));
  EXPECT_EQ(actual, expected);
}

TEST(LoggingParseLevelTest, AcceptsNamesCaseInsensitively) {
  EXPECT_EQ(*parseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*parseLevel("INFO"), Level::kInfo);
  EXPECT_EQ(*parseLevel("Warn"), Level::kWarn);
  EXPECT_EQ(*parseLevel("warning"), Level::kWarn);
  EXPECT_EQ(*parseLevel("ERROR"), Level::kError);
  const auto bad = parseLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("verbose"), absl::string_view::npos);
  EXPECT_FALSE(parseLevel("").ok());
}

// The real stderr path: whole lines from many threads, each ending in a newline.
TEST(LoggingStderrTest, WritesWholeLinesToStderr) {
  char path[] = "/tmp/otlpd_logging_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_GE(::dup2(fd, STDERR_FILENO), 0);

  init(Level::kInfo, Format::kJson);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      const std::string padding(300, 'x');
      for (int i = 0; i < 500; ++i) info("stderr line", {{"i", i}, {"pad", padding}});
    });
  }
  for (auto& th : threads) th.join();
  debug("filtered out");

  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string content;
  ::lseek(fd, 0, SEEK_SET);
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) content.append(buf, n);
  ::close(fd);
  ::unlink(path);

  const std::string padding(300, 'x');
  std::multiset<std::string> expected;
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 500; ++i) {
      expected.insert(R"("level":"info","msg":"stderr line","i":)" + std::to_string(i) +
                      R"(,"pad":")" + padding + "\"}");
    }
  }
  std::multiset<std::string> actual;
  size_t start = 0;
  while (start < content.size()) {
    const size_t end = content.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "last line lacks a newline";
    actual.insert(withoutTimestamp(content.substr(start, end - start)));
    start = end + 1;
  }
  EXPECT_EQ(actual, expected);
}

}  // namespace
}  // namespace otlpd::logging
