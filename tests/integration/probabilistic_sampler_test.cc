// Two real otlpd processes with the same probabilistic_sampler config keep exactly the same traces:
// the decision depends on the trace id alone, not on which instance sees a span, in which request
// or in which order. Spans of a trace are spread over different requests, sent to the two
// instances in opposite orders; both keep the same complete traces, the ones the sampler's own
// arithmetic predicts, with the same tracestate, and log records follow their traces.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"
#include "processors/probabilistic_sampler/sampler.h"

namespace otlpd::integration {
namespace {

namespace ps = processors::probabilistic_sampler;
using namespace std::chrono_literals;

constexpr int kTraces = 3000;
constexpr int kSpansPerTrace = 4;
constexpr int kRequests = 60;  // 200 spans each; a trace's spans land in 4 different requests
constexpr float kPercentage = 25;
constexpr uint32_t kSeed = 22;

std::string samplerConfig(std::string_view mode) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
processors:
  probabilistic_sampler:
    sampling_percentage: 25
    hash_seed: 22
    mode: )",
                mode, R"(
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
  file/logs: { path: "@DIR@/logs.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], processors: [probabilistic_sampler], exporters: [file/traces] }
    logs: { receivers: [otlp], processors: [probabilistic_sampler], exporters: [file/logs] }
)");
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kHex[(static_cast<uint8_t>(c) >> 4) & 0xf]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
  }
  return out;
}

struct Workload {
  std::vector<std::string> trace_ids;
  std::vector<otlp::TracesRequest> span_requests;
  otlp::LogsRequest logs;
};

Workload makeWorkload() {
  Workload w;
  std::mt19937_64 rng(20240612);
  for (int t = 0; t < kTraces; ++t) {
    std::string id(16, '\0');
    for (char& c : id) c = static_cast<char>(rng());
    w.trace_ids.push_back(id);
  }
  w.span_requests.resize(kRequests);
  for (auto& req : w.span_requests) {
    for (const char* service : {"frontend", "checkout"}) {
      auto* rs = req.add_resource_spans();
      auto* attr = rs->mutable_resource()->add_attributes();
      attr->set_key("service.name");
      attr->mutable_value()->set_string_value(service);
      rs->add_scope_spans()->mutable_scope()->set_name("integration");
    }
  }
  for (int t = 0; t < kTraces; ++t) {
    for (int s = 0; s < kSpansPerTrace; ++s) {
      auto& req = w.span_requests[static_cast<size_t>((t + s * 17) % kRequests)];
      auto* span = req.mutable_resource_spans(s % 2)->mutable_scope_spans(0)->add_spans();
      span->set_trace_id(w.trace_ids[static_cast<size_t>(t)]);
      std::string span_id(8, '\0');
      for (char& c : span_id) c = static_cast<char>(rng());
      span_id[0] = 1;
      span->set_span_id(span_id);
      span->set_name(strCat("span-", t, "-", s));
      span->set_start_time_unix_nano(1'700'000'000'000'000'000ULL + static_cast<uint64_t>(t));
      span->set_end_time_unix_nano(1'700'000'000'000'000'000ULL + static_cast<uint64_t>(t) + 5);
      if (s == 0) span->set_trace_state("vendor=abc");
    }
  }
  // One log record per trace (with its trace id), in a single request.
  auto* logs = w.logs.add_resource_logs()->add_scope_logs();
  for (int t = 0; t < kTraces; ++t) {
    auto* record = logs->add_log_records();
    record->set_trace_id(w.trace_ids[static_cast<size_t>(t)]);
    record->set_time_unix_nano(1'700'000'000'000'000'000ULL);
    record->mutable_body()->set_string_value(strCat("log-", t));
  }
  return w;
}

// trace id (hex) -> the tracestates of its kept spans, as one instance wrote them.
using Kept = std::map<std::string, std::multiset<std::string>>;

Kept readKeptSpans(const OtlpdProcess& process, size_t expected_spans) {
  Kept kept;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (true) {
    kept.clear();
    size_t spans = 0;
    for (const std::string& line : process.readJsonLines("traces.jsonl")) {
      otlp::TracesRequest req;
      if (!otlp::parseOtlpJson(line, req).ok()) continue;
      for (const auto& rs : req.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& span : ss.spans()) {
            kept[hex(span.trace_id())].insert(span.trace_state());
            ++spans;
          }
        }
      }
    }
    if (spans >= expected_spans || std::chrono::steady_clock::now() >= deadline) return kept;
    std::this_thread::sleep_for(50ms);
  }
}

std::set<std::string> readKeptLogTraceIds(const OtlpdProcess& process, size_t expected) {
  std::set<std::string> ids;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (true) {
    ids.clear();
    for (const std::string& line : process.readJsonLines("logs.jsonl")) {
      otlp::LogsRequest req;
      if (!otlp::parseOtlpJson(line, req).ok()) continue;
      for (const auto& rl : req.resource_logs()) {
        for (const auto& sl : rl.scope_logs()) {
          for (const auto& record : sl.log_records()) ids.insert(hex(record.trace_id()));
        }
      }
    }
    if (ids.size() >= expected || std::chrono::steady_clock::now() >= deadline) return ids;
    std::this_thread::sleep_for(50ms);
  }
}

void send(const OtlpdProcess& process, std::string_view path, const std::string& body) {
  auto res = httpRequest(process.httpEndpoint(), "POST", path,
                         {{"Content-Type", "application/x-protobuf"}}, body);
  ASSERT_TRUE(res.ok()) << res.status();
  ASSERT_EQ(res->status, 200) << res->body;
}

class ProbabilisticSamplerIntegration : public ::testing::TestWithParam<const char*> {};

TEST_P(ProbabilisticSamplerIntegration, TwoInstancesKeepExactlyTheSameTraces) {
  const std::string mode = GetParam();
  const bool hash_seed = mode == "hash_seed";
  const Workload w = makeWorkload();

  // What the configured sampler keeps, by its own arithmetic.
  ps::SamplerConfig config;
  config.sampling_percentage = kPercentage;
  config.hash_seed = kSeed;
  config.mode = hash_seed ? ps::Mode::kHashSeed : ps::Mode::kProportional;
  const ps::Sampler sampler(config);
  std::set<std::string> expected;
  std::map<std::string, std::string> expected_randomness;
  for (const std::string& id : w.trace_ids) {
    ps::TraceState scratch;
    std::string out;
    if (sampler.decideSpan(id, "", ps::SpanPriority::kDefer, scratch, out).sampled) {
      expected.insert(hex(id));
      expected_randomness[hex(id)] =
          hash_seed ? strCat("rv:", ps::rvalue(ps::hashSeedRandomness(id, kSeed)), ";") : "";
    }
  }
  ASSERT_GT(expected.size(), kTraces * 0.2);
  ASSERT_LT(expected.size(), kTraces * 0.3);

  auto a = OtlpdProcess::start(samplerConfig(mode));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = OtlpdProcess::start(samplerConfig(mode));
  ASSERT_TRUE(b.ok()) << b.status();

  // The same requests, in opposite orders, from two threads at once.
  std::thread to_a([&] {
    for (int i = 0; i < kRequests; ++i) {
      send(**a, "/v1/traces", w.span_requests[static_cast<size_t>(i)].SerializeAsString());
    }
    send(**a, "/v1/logs", w.logs.SerializeAsString());
  });
  std::thread to_b([&] {
    send(**b, "/v1/logs", w.logs.SerializeAsString());
    for (int i = kRequests - 1; i >= 0; --i) {
      send(**b, "/v1/traces", w.span_requests[static_cast<size_t>(i)].SerializeAsString());
    }
  });
  to_a.join();
  to_b.join();

  const size_t expected_spans = expected.size() * kSpansPerTrace;
  const Kept kept_a = readKeptSpans(**a, expected_spans);
  const Kept kept_b = readKeptSpans(**b, expected_spans);

  std::set<std::string> ids_a;
  for (const auto& [id, states] : kept_a) ids_a.insert(id);
  std::set<std::string> ids_b;
  for (const auto& [id, states] : kept_b) ids_b.insert(id);
  EXPECT_EQ(ids_a, expected);
  EXPECT_EQ(ids_b, expected);
  // Same spans, same tracestate: th for 25% (and in hash_seed mode rv, the hash as randomness);
  // other vendors' entries kept.
  EXPECT_EQ(kept_a, kept_b);
  for (const auto& [id, states] : kept_a) {
    ASSERT_EQ(states.size(), static_cast<size_t>(kSpansPerTrace)) << "trace " << id;  // complete
    const std::string ot = strCat("ot=", expected_randomness[id], "th:c");
    EXPECT_EQ(states.count(ot), static_cast<size_t>(kSpansPerTrace - 1)) << id;
    EXPECT_EQ(states.count(strCat(ot, ",vendor=abc")), 1u) << id;
  }

  // Log records are sampled by the same hash of the same trace ids.
  EXPECT_EQ(readKeptLogTraceIds(**a, expected.size()), expected);
  EXPECT_EQ(readKeptLogTraceIds(**b, expected.size()), expected);

  // Self-metrics count every span.
  const std::string policy = hash_seed ? "trace_id_hash" : "trace_id_w3c";
  for (const auto* process : {&**a, &**b}) {
    auto sampled = process->waitForMetric(
        "otlpd_processor_probabilistic_sampler_count_spans_processed_total",
        {{"processor", "probabilistic_sampler"}, {"policy", policy}, {"sampled", "true"}},
        static_cast<double>(expected_spans));
    ASSERT_TRUE(sampled.ok()) << sampled.status();
    EXPECT_EQ(*sampled, static_cast<double>(expected_spans));
    auto dropped = process->scrapeMetric(
        "otlpd_processor_probabilistic_sampler_count_spans_processed_total",
        {{"processor", "probabilistic_sampler"}, {"policy", policy}, {"sampled", "false"}});
    ASSERT_TRUE(dropped.ok()) << dropped.status();
    EXPECT_EQ(*dropped, static_cast<double>(kTraces * kSpansPerTrace - expected_spans));
  }
  EXPECT_TRUE((*a)->stop().cleanExit());
  EXPECT_TRUE((*b)->stop().cleanExit());
}

INSTANTIATE_TEST_SUITE_P(Modes, ProbabilisticSamplerIntegration,
                         ::testing::Values("hash_seed", "proportional"));

}  // namespace
}  // namespace otlpd::integration
