// The prometheus receiver end to end on loopback (issue #14: 200 targets x 5,000 series every
// 15 s <= 25% of one core). A child process serves the same 5,000-sample exposition (values
// changing every request) to 200 targets; this process runs the receiver's scrape manager (HTTP
// client, parse, translate, hand-off to a counting consumer) at a 1 s interval — 15x the rate —
// and measures its own CPU time (getrusage, the child excluded) over several intervals after the
// first. `core_share_at_15s` is that CPU per wall second divided by 15.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "common/metrics_registry.h"
#include "receivers/prometheus/scrape_manager.h"
#include "tests/receivers/prometheus/test_target_server.h"

namespace otlpd::bench {
namespace {

namespace recv = otlpd::receivers::prometheus;

double cpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// 5,000 samples: 40 handlers x 4 methods of counters and 12-bucket histograms, gauges by device.
std::string body(uint64_t generation) {
  std::string out;
  out.reserve(600000);
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  static const char* kBounds[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                  "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  out += "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n";
  size_t n = 0;
  for (int h = 0; h < 40; ++h) {
    for (const char* m : kMethods) {
      for (const char* c : {"200", "201", "400", "404", "500"}) {
        out += "http_requests_total{code=\"" + std::string(c) + "\",handler=\"/api/v1/r" +
               std::to_string(h) + "\",method=\"" + m + "\"} " +
               std::to_string(generation * 7 + h) + "\n";
        ++n;
      }
    }
  }
  out +=
      "# HELP http_request_duration_seconds Latency.\n"
      "# TYPE http_request_duration_seconds histogram\n";
  for (int h = 0; h < 40; ++h) {
    for (const char* m : kMethods) {
      const std::string base =
          "handler=\"/api/v1/r" + std::to_string(h) + "\",method=\"" + m + "\"";
      uint64_t cumulative = generation;
      for (const char* le : kBounds) {
        cumulative += 3;
        out += "http_request_duration_seconds_bucket{" + base + ",le=\"" + le + "\"} " +
               std::to_string(cumulative) + "\n";
        ++n;
      }
      out += "http_request_duration_seconds_sum{" + base + "} 12.5\n";
      out +=
          "http_request_duration_seconds_count{" + base + "} " + std::to_string(cumulative) + "\n";
      n += 2;
    }
  }
  out += "# TYPE node_filesystem_avail_bytes gauge\n";
  for (int d = 0; n < 5000; ++d, ++n) {
    out += "node_filesystem_avail_bytes{device=\"/dev/sd" + std::to_string(d) +
           "\",fstype=\"ext4\",mountpoint=\"/data" + std::to_string(d) + "\"} " +
           std::to_string(1000000 + generation * 13 + d) + "\n";
  }
  return out;
}

class CountingConsumer : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    points += batch.itemCount();
    ++requests;
    return absl::OkStatus();
  }
  std::atomic<uint64_t> points{0};
  std::atomic<uint64_t> requests{0};
};

void BM_PrometheusScrapeLoopback(benchmark::State& state) {
  constexpr int kTargets = 200;
  constexpr int kIntervals = 4;  // measured, after a first one that creates every series
  int port_pipe[2];
  int stop_pipe[2];
  if (::pipe(port_pipe) != 0 || ::pipe(stop_pipe) != 0) {
    state.SkipWithError("pipe");
    return;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    // The targets: one server, every request a fresh body (the values change).
    std::atomic<uint64_t> generation{0};
    const std::string bodies[2] = {body(1), body(2)};
    receivers::prometheus::testing::TestTargetServer server(
        [&](const receivers::prometheus::testing::TargetRequest&,
            receivers::prometheus::testing::TargetConnection& conn) {
          conn.respond(200, "text/plain; version=0.0.4", bodies[generation++ / kTargets % 2]);
        });
    const int port = std::stoi(server.endpoint().substr(10));
    (void)!::write(port_pipe[1], &port, sizeof port);
    char c;
    (void)!::read(stop_pipe[0], &c, 1);
    ::_exit(0);
  }
  int port = 0;
  if (::read(port_pipe[0], &port, sizeof port) != sizeof port) {
    state.SkipWithError("no target server");
    return;
  }
  std::string groups;
  for (int i = 0; i < kTargets; ++i) {
    groups += "{targets: ['127.0.0.1:" + std::to_string(port) + "'], labels: {shard: '" +
              std::to_string(i) + "'}},";
  }
  config::ConfigErrors errors;
  config::ConfigNode node(
      YAML::Load("config: {scrape_configs: [{job_name: load, scrape_interval: 1s, "
                 "scrape_timeout: 1s, static_configs: [" +
                 groups + "]}]}"),
      "bench", errors);
  recv::PrometheusReceiverConfig cfg = recv::parsePrometheusReceiverConfig(node);
  common::MetricsRegistry metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
  auto consumer = std::make_shared<CountingConsumer>();
  for (auto _ : state) {
    recv::ScrapeManagerOptions options;
    options.receiver_id = "prometheus";
    options.next = consumer;
    options.metrics = &metrics;
    auto manager = recv::ScrapeManager::start(std::move(options), cfg);
    if (!manager.ok()) {
      state.SkipWithError(std::string(manager.status().message()).c_str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const uint64_t scrapes0 = consumer->requests.load();
    const double cpu0 = cpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(kIntervals));
    const double cpu = cpuSeconds() - cpu0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double scrapes = static_cast<double>(consumer->requests.load() - scrapes0);
    (*manager)->stop();
    state.SetIterationTime(wall);
    state.counters["cpu_share_at_1s"] = cpu / wall;
    state.counters["core_share_at_15s"] = cpu / wall / 15;
    state.counters["scrapes_per_s"] = scrapes / wall;
    state.counters["cpu_us_per_scrape"] = scrapes == 0 ? 0 : cpu * 1e6 / scrapes;
  }
  (void)!::write(stop_pipe[1], "x", 1);
  int status = 0;
  ::waitpid(child, &status, 0);
}
BENCHMARK(BM_PrometheusScrapeLoopback)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace
}  // namespace otlpd::bench
