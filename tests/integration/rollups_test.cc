// The rollups behind RED, dependencies and Jaeger's Monitor tab against the real binary: spans
// of several services sent over OTLP/HTTP, the process killed with SIGKILL half-way and started
// again on the same store, the rest sent: the answers equal what a full scan of every span sent
// computes (counts exactly, percentiles within 1%), nothing lost or counted twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../store/rollup_metrics_test_support.h"
#include "../store/rollup_test_data.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

using json = nlohmann::json;
using store::testing::distributedTraces;
using store::testing::ReferenceRollups;

constexpr std::string_view kConfig = R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  store:
    directory: "@STORE@"
    write_interval: 50ms
    rollups: { interval: 1s }
extensions:
  jaeger_query:
    endpoint: "127.0.0.1:0"
    store: { directory: "@STORE@" }
service:
  extensions: [jaeger_query]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
)";

// 2025-01-01T00:00:00Z, data over five minutes.
constexpr int64_t kT0 = int64_t{1735689600} * 1000000000;

std::string configFor(const std::string& store_dir) {
  std::string c(kConfig);
  for (size_t at; (at = c.find("@STORE@")) != std::string::npos;) c.replace(at, 7, store_dir);
  return c;
}

json getJson(const OtlpdProcess& p, const std::string& target) {
  auto res = httpRequest(p.endpoint("jaeger_query"), "GET", target, {});
  EXPECT_TRUE(res.ok()) << res.status();
  if (!res.ok()) return {};
  EXPECT_EQ(res->status, 200) << target << ": " << res->body;
  return json::parse(res->body, nullptr, false);
}

void sendAll(const OtlpdProcess& p, const std::vector<otlp::TracesRequest>& requests, size_t begin,
             size_t end) {
  for (size_t i = begin; i < end; ++i) {
    auto sent =
        httpRequest(p.httpEndpoint(), "POST", "/v1/traces",
                    {{"Content-Type", "application/x-protobuf"}}, requests[i].SerializeAsString());
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_EQ(sent->status, 200) << sent->body;
  }
}

const std::string kRedWindow = "start=" + std::to_string(kT0 / 1000) +
                               "&end=" + std::to_string(kT0 / 1000 + 10 * 60 * 1000000);
const std::string kDepsWindow =
    "endTs=" + std::to_string(kT0 / 1000000 + 10 * 60 * 1000) + "&lookback=600000";

// Requests per service as a full scan counts them (entry spans: SERVER, CONSUMER or root).
std::map<std::string, std::pair<uint64_t, uint64_t>> expectedRed(const ReferenceRollups& ref) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  for (const auto& [k, v] : ref.spans) {
    const auto& [minute, service, op, kind, status, root] = k;
    if (kind != 2 && kind != 5 && !root) continue;
    out[service].first += v.calls;
    out[service].second += v.errors;
  }
  return out;
}

std::map<std::string, std::pair<uint64_t, uint64_t>> redOf(const json& body) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  for (const json& row : body["data"]) {
    out[row["service"].get<std::string>()] = {row["requests"].get<uint64_t>(),
                                              row["errors"].get<uint64_t>()};
  }
  return out;
}

std::map<std::pair<std::string, std::string>, uint64_t> expectedDeps(const ReferenceRollups& ref) {
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  for (const auto& [k, v] : ref.edges) out[{std::get<1>(k), std::get<2>(k)}] += v.first;
  return out;
}

std::map<std::pair<std::string, std::string>, uint64_t> depsOf(const json& body) {
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  for (const json& e : body["data"]) {
    out[{e["parent"].get<std::string>(), e["child"].get<std::string>()}] =
        e["callCount"].get<uint64_t>();
  }
  return out;
}

// Polls /api/otlpd/red until it counts `requests` in all, bounded.
json waitForRequests(const OtlpdProcess& p, uint64_t requests) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = getJson(p, "/api/otlpd/red?" + kRedWindow);
    uint64_t n = 0;
    for (const json& row : last["data"]) n += row["requests"].get<uint64_t>();
    if (n >= requests) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

TEST(RollupsTest, EqualAFullScanAcrossKillNineAndRestart) {
  const auto requests = distributedTraces(300, 21, kT0, 5);
  ReferenceRollups first_half, all;
  const size_t half = requests.size() / 2 / 4 * 4;  // whole traces (four requests each)
  first_half.add({requests.begin(), requests.begin() + static_cast<ptrdiff_t>(half)});
  all.add(requests);
  auto total = [](const std::map<std::string, std::pair<uint64_t, uint64_t>>& m) {
    uint64_t n = 0;
    for (const auto& [s, v] : m) n += v.first;
    return n;
  };

  auto first = OtlpdProcess::start(configFor("@DIR@/store"));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string store_dir = (*first)->path("store");
  sendAll(**first, requests, 0, half);
  const json before = waitForRequests(**first, total(expectedRed(first_half)));
  EXPECT_EQ(redOf(before), expectedRed(first_half));
  // Acknowledged and stored (the answer comes from written batches only): now kill -9, which
  // leaves the rollups of the last batches in no frame.
  ASSERT_EQ(::kill((*first)->pid(), SIGKILL), 0);
  const ExitStatus exit = (*first)->stop(std::chrono::seconds(5));
  EXPECT_EQ(exit.signal, SIGKILL);

  auto second = OtlpdProcess::start(configFor(store_dir));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(redOf(getJson(**second, "/api/otlpd/red?" + kRedWindow)), expectedRed(first_half))
      << "after the restart, before new data";
  sendAll(**second, requests, half, requests.size());
  const json red = waitForRequests(**second, total(expectedRed(all)));
  EXPECT_EQ(redOf(red), expectedRed(all));
  EXPECT_EQ(depsOf(getJson(**second, "/api/dependencies?" + kDepsWindow)), expectedDeps(all));
  // Percentiles of one operation within 1% of the exact nearest-rank value.
  const json ops = getJson(**second, "/api/otlpd/red?service=payments&" + kRedWindow);
  ASSERT_EQ(ops["data"].size(), 1u);
  std::vector<int64_t> durations;
  for (const auto& [k, v] : all.spans) {
    if (std::get<1>(k) == "payments") {
      for (int64_t d : v.durations) durations.push_back(d / 1000);  // µs, as the API
    }
  }
  for (const auto& [name, q] : {std::pair{"p50", 0.5}, std::pair{"p95", 0.95}}) {
    const auto exact = static_cast<double>(ReferenceRollups::exactQuantile(durations, q));
    EXPECT_NEAR(ops["data"][0][name].get<double>(), exact, exact * 0.01 + 1) << name;
  }
  // Jaeger's Monitor tab: calls of the SERVER spans of checkout over the whole data.
  const json calls = getJson(**second, "/api/metrics/calls?service=checkout&endTs=" +
                                           std::to_string(kT0 / 1000000 + 6 * 60000) +
                                           "&lookback=1&ratePer=600000");
  ASSERT_EQ(calls["metrics"].size(), 1u) << calls.dump();
  EXPECT_NEAR(calls["metrics"][0]["metricPoints"][0]["gaugeValue"]["doubleValue"].get<double>(),
              static_cast<double>(expectedRed(all)["checkout"].first) / 600.0, 1e-9);
}

// The store's rollups as span metrics (the store_rollups receiver) beside the spanmetrics
// connector, both fed by the same traces pipeline of the real binary: series by series the same
// numbers.
TEST(RollupsIntegration, StoreRollupsReceiverEqualsTheSpanmetricsConnector) {
  auto process = OtlpdProcess::start(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
  store_rollups:
    directory: "@DIR@/store"
    collection_interval: 1h
exporters:
  store:
    directory: "@DIR@/store"
    write_interval: 50ms
  file/connector: { path: "@DIR@/connector.jsonl" }
  file/rollups: { path: "@DIR@/rollups.jsonl" }
connectors:
  spanmetrics:
    metrics_flush_interval: 1h
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [store, spanmetrics] }
    metrics/connector: { receivers: [spanmetrics], exporters: [file/connector] }
    metrics/rollups: { receivers: [store_rollups], exporters: [file/rollups] }
)");
  ASSERT_TRUE(process.ok()) << process.status();
  const auto requests = store::testing::spanMetricsRequests(31, 16, 100, kT0, 5, true);
  sendAll(**process, requests, 0, requests.size());
  // Written (and so in the rollups) before the receivers stop and send their last totals.
  auto written = (*process)->waitForMetric("otlpd_store_rows_written_total",
                                           {{"exporter", "store"}, {"signal", "traces"}}, 1600);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(*written, 1600);
  const ExitStatus exit = (*process)->stop();
  ASSERT_TRUE(exit.cleanExit()) << exit.toString() << (*process)->stderrContents();
  auto last = [&](std::string_view file) {
    const std::vector<std::string> lines = (*process)->readJsonLines(file);
    otlp::MetricsRequest r;
    EXPECT_FALSE(lines.empty()) << file;
    if (!lines.empty()) {
      EXPECT_TRUE(otlp::parseOtlpJson(lines.back(), r).ok());
    }
    return store::testing::readSpanMetrics(r);
  };
  const auto want = last("connector.jsonl");
  const auto got = last("rollups.jsonl");
  ASSERT_EQ(got.size(), want.size());
  uint64_t calls = 0;
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end());
    EXPECT_EQ(it->second.calls, w.calls);
    EXPECT_EQ(it->second.buckets, w.buckets);
    EXPECT_NEAR(it->second.sum, w.sum, 1e-9 * w.sum + 1e-6);
    calls += it->second.calls;
  }
  EXPECT_EQ(calls, 1600u);
}

}  // namespace
}  // namespace otlpd::integration
