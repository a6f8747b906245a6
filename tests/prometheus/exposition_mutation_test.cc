// Untrusted bodies, mutated at random from the fixtures: the parser either accepts or refuses with
// InvalidArgument, and whatever it accepts translates into a request that protobuf parses and
// OTLP validation accepts whole (valid UTF-8, consistent histograms, ids of the right length).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "otlp/proto.h"
#include "otlp/validation.h"
#include "prometheus/exposition.h"
#include "prometheus/scrape_translator.h"

namespace otlpd::prometheus {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(OTLPD_SOURCE_DIR) + "/tests/prometheus/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string mutate(std::string s, std::mt19937_64& rng) {
  static const std::string kTokens[] = {"{",
                                        "}",
                                        "\"",
                                        "\\",
                                        "=",
                                        ",",
                                        " ",
                                        "\n",
                                        "#",
                                        "_bucket",
                                        "le=\"+Inf\"",
                                        "NaN",
                                        "-1",
                                        "1e308",
                                        "\xff",
                                        "\xc3\xa9",
                                        "# TYPE x histogram\n",
                                        "# EOF\n",
                                        "_total",
                                        "_created"};
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    const size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0:
        s[pos] = static_cast<char>(rng());
        break;
      case 1:
        s.erase(pos, 1 + rng() % 16);
        break;
      case 2:
        s.insert(pos, kTokens[rng() % std::size(kTokens)]);
        break;
      case 3: {  // repeat a line
        const size_t begin = s.rfind('\n', pos);
        const size_t end = s.find('\n', pos);
        const size_t b = begin == std::string::npos ? 0 : begin + 1;
        if (end != std::string::npos) s.insert(end + 1, s.substr(b, end - b + 1));
        break;
      }
      default: {  // swap two characters far apart
        const size_t other = rng() % s.size();
        std::swap(s[pos], s[other]);
        break;
      }
    }
  }
  return s;
}

TEST(ExpositionMutationTest, AcceptedBodiesTranslateIntoValidOtlp) {
  const std::string seeds[] = {fixture("client_golang.prom"), fixture("openmetrics.om")};
  std::mt19937_64 rng(20261204);
  ExpositionParser parser;
  ParsedExposition parsed;
  ScrapeTarget target;
  target.job = "j";
  target.instance = "h:1";
  target.labels = {{"instance", "h:1"}, {"job", "j"}};
  ScrapeTranslator translator(target, TranslateOptions{});
  int accepted = 0;
  std::string out;
  ScrapeStats stats;
  for (int i = 0; i < 20000; ++i) {
    const bool om = i % 2 == 1;
    const std::string body = mutate(seeds[i % 2], rng);
    for (Format format : {om ? Format::kOpenMetrics : Format::kText, Format::kText}) {
      absl::Status s = parser.parse(body, format, parsed);
      if (!s.ok()) {
        ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
        continue;
      }
      ++accepted;
      translator.translate(parsed, format, 1680150000000 + i * 1000, 0.1, out, stats);
      otlp::MetricsRequest request;
      ASSERT_TRUE(request.ParseFromString(out)) << "undecodable output for:\n" << body;
      const otlp::ValidationResult v = otlp::validateMetrics(request);
      ASSERT_EQ(v.rejected, 0u) << v.error_message << "\nfor:\n" << body;
    }
  }
  // The mutations are mild enough that many bodies still parse: the check above did run.
  EXPECT_GT(accepted, 2500);
}

}  // namespace
}  // namespace otlpd::prometheus
