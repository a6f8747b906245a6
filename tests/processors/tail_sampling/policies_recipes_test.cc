// The four recipes of docs/SAMPLING.md, read from that page exactly as written there, and
// checked on generated traces: what each keeps is what its text promises.
#include <fstream>
#include <map>
#include <sstream>

#include "policies_test_support.h"

namespace otlpd::processors::tail_sampling {
namespace {

using namespace testing;  // NOLINT: test helpers

constexpr const char* kRecipesDoc = OTLPD_SOURCE_DIR "/docs/SAMPLING.md";

// The ```yaml block that follows `<!-- recipe: name -->` in the doc.
std::string recipeYaml(const std::string& name) {
  std::ifstream in(kRecipesDoc);
  EXPECT_TRUE(in.good()) << kRecipesDoc;
  std::string line, yaml;
  bool marker = false, inside = false;
  while (std::getline(in, line)) {
    if (inside) {
      if (line == "```") return yaml;
      yaml += line + "\n";
    } else if (marker && line == "```yaml") {
      inside = true;
    } else if (line == "<!-- recipe: " + name + " -->") {
      marker = true;
    }
  }
  ADD_FAILURE() << "no recipe " << name << " in " << kRecipesDoc;
  return "";
}

// The recipe's policies, read through readPolicies from processors.tail_sampling of its YAML.
std::vector<NamedPolicy> recipe(const std::string& name) {
  const std::string yaml = recipeYaml(name);
  auto root = config::parseYaml(yaml, name);
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return {};
  config::ConfigErrors errors;
  config::ConfigNode processor((*root)["processors"]["tail_sampling"], "processors.tail_sampling",
                               errors);
  std::vector<NamedPolicy> policies = readPolicies(processor);
  processor.rejectUnknownKeys();
  EXPECT_EQ(errors.toString(), "") << name;
  EXPECT_FALSE(policies.empty()) << name;
  return policies;
}

// What a probabilistic policy with the default salt answers for this trace.
bool inPercent(const TestTrace& t, double percent) {
  const uint64_t hash = fnv1a64(fnv1a64(kFnvOffset64, "default-hash-seed"), t.view().trace_id);
  return hash <= probabilityThreshold(percent / 100);
}

TestTrace traceOf(uint64_t n, const std::vector<std::string>& services, bool error = false,
                  int64_t duration_ms = 5) {
  TraceBuilder b(n);
  for (const std::string& service : services) {
    b.service(service);
    b.span();
    pbt::Span& s = b.span();
    s.set_end_time_unix_nano(s.start_time_unix_nano() + static_cast<uint64_t>(duration_ms * kMs));
    if (error && &service == &services.back()) {
      s.mutable_status()->set_code(pbt::Status::STATUS_CODE_ERROR);
    }
  }
  return b.build();
}

TEST(TailSamplingRecipes, ErrorBiasedKeepsEveryErrorAndTenPercentOfTheRest) {
  std::vector<NamedPolicy> policies = recipe("error-biased");
  ASSERT_EQ(policies.size(), 2u);
  int errors = 0, others = 0, others_kept = 0;
  for (uint64_t n = 1; n <= 10000; ++n) {
    const bool error = n % 20 == 0;
    TestTrace t = traceOf(n, {"frontend", "checkout"}, error);
    const bool kept = decideAll(policies, t).sampled;
    if (error) {
      ++errors;
      EXPECT_TRUE(kept) << n;
    } else {
      ++others;
      EXPECT_EQ(kept, inPercent(t, 10)) << n;
      if (kept) ++others_kept;
    }
  }
  EXPECT_EQ(errors, 500);
  EXPECT_NEAR(100.0 * others_kept / others, 10.0, 1.0);
}

TEST(TailSamplingRecipes, ServiceAwareGivesEachServiceItsRate) {
  std::vector<NamedPolicy> policies = recipe("service-aware");
  ASSERT_EQ(policies.size(), 3u);
  struct Kind {
    std::vector<std::string> services;
    double percent;
  };
  const std::vector<Kind> kinds = {
      {{"checkout"}, 100},
      {{"payments"}, 100},
      {{"frontend"}, 25},
      {{"inventory"}, 1},
      {{"frontend", "checkout"}, 100},  // the highest rate of the services it touches
      {{"frontend", "inventory"}, 25},
      {{"shipping", "inventory"}, 1},
  };
  uint64_t n = 0;
  for (const Kind& kind : kinds) {
    int kept = 0;
    const int traces = 4000;
    for (int i = 0; i < traces; ++i) {
      TestTrace t = traceOf(++n, kind.services);
      const bool k = decideAll(policies, t).sampled;
      EXPECT_EQ(k, kind.percent >= 100 || inPercent(t, kind.percent));
      if (k) ++kept;
    }
    EXPECT_NEAR(100.0 * kept / traces, kind.percent, kind.percent < 5 ? 0.5 : 2.5)
        << kind.services[0];
  }
  // A trace without service.name is one of the "other services".
  TraceBuilder anonymous(12345);
  anonymous.resource().spans(2);
  TestTrace t = anonymous.build();
  EXPECT_EQ(decideAll(policies, t).sampled, inPercent(t, 1));
}

TEST(TailSamplingRecipes, RateLimitedHoldsTheTotalAndEachServiceShare) {
  std::vector<NamedPolicy> policies = recipe("rate-limited");
  ASSERT_EQ(policies.size(), 1u);
  const std::vector<std::string> services = {"checkout", "frontend", "inventory", "shipping"};
  uint64_t n = 0;
  for (int second = 0; second < 5; ++second) {
    std::map<std::string, int64_t> kept_spans;
    int64_t total = 0;
    // Every 5 ms a trace of 10 spans from each service: 2000 spans/s offered per service.
    for (int tick = 0; tick < 200; ++tick) {
      const int64_t now = kNow + second * kSecond + tick * 5 * kMs;
      for (const std::string& service : services) {
        TraceBuilder b(++n);
        b.service(service).spans(10);
        TestTrace t = b.build();
        if (decideAll(policies, t, now).sampled) {
          kept_spans[service] += 10;
          total += 10;
        }
      }
    }
    EXPECT_EQ(kept_spans["checkout"], 500) << second;
    EXPECT_EQ(kept_spans["frontend"], 300) << second;
    EXPECT_EQ(kept_spans["inventory"] + kept_spans["shipping"], 200) << second;
    EXPECT_EQ(total, 1000) << second;
  }
  // Under the budget, everything passes.
  TestTrace quiet = TraceBuilder(++n).service("checkout").spans(10).build();
  EXPECT_TRUE(decideAll(policies, quiet, kNow + 60 * kSecond).sampled);
}

TEST(TailSamplingRecipes, LatencyBiasedKeepsSlowTracesHalfTheMediumAndABaseline) {
  std::vector<NamedPolicy> policies = recipe("latency-biased");
  ASSERT_EQ(policies.size(), 3u);
  std::map<int64_t, int> kept;
  const int traces = 4000;
  for (int64_t ms : {50, 500, 1500}) {
    for (int i = 0; i < traces; ++i) {
      TestTrace t = traceOf(static_cast<uint64_t>(ms * 100000 + i), {"api", "db"}, false, ms);
      const bool k = decideAll(policies, t).sampled;
      const bool expected = ms >= 1000 || (ms > 200 && inPercent(t, 50)) || inPercent(t, 1);
      EXPECT_EQ(k, expected) << ms << " " << i;
      if (k) ++kept[ms];
    }
  }
  EXPECT_EQ(kept[1500], traces);
  EXPECT_NEAR(100.0 * kept[500] / traces, 50, 2.5);
  EXPECT_NEAR(100.0 * kept[50] / traces, 1, 0.5);
  // The trace's duration, not a span's: two short spans far apart make a slow trace.
  TraceBuilder far_apart(99);
  far_apart.span();
  pbt::Span& late = far_apart.span();
  late.set_start_time_unix_nano(late.start_time_unix_nano() + 2 * kSecond);
  late.set_end_time_unix_nano(late.start_time_unix_nano() + kMs);
  EXPECT_TRUE(decideAll(policies, far_apart.build()).sampled);
}

}  // namespace
}  // namespace otlpd::processors::tail_sampling
