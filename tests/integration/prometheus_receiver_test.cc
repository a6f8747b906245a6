// The prometheus receiver in the real binary: it scrapes a real `prometheus` server's own /metrics
// (Debian's 2.42, started here on a free port with a temporary data directory) and otlpd's own
// self-metrics endpoint, and writes what it made to a file exporter as OTLP/JSON.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

namespace pb = otlp::pb_metrics;

// A `prometheus` server of our own, stopped by its PID.
class PrometheusServer {
 public:
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> start() {
    auto p = std::unique_ptr<PrometheusServer>(new PrometheusServer);
    p->dir_ = std::filesystem::temp_directory_path() /
              ("otlpd-prometheus-" + std::to_string(::getpid()) + "-" +
               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(p->dir_ / "data");
    // Nothing to scrape: we only want its own /metrics.
    std::ofstream(p->dir_ / "prometheus.yml") << "global:\n  scrape_interval: 1m\n";
    p->port_ = freeLoopbackPort();
    const std::string config = "--config.file=" + (p->dir_ / "prometheus.yml").string();
    const std::string storage = "--storage.tsdb.path=" + (p->dir_ / "data").string();
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(p->port_);
    const std::string log = (p->dir_ / "prometheus.log").string();
    p->pid_ = ::fork();
    if (p->pid_ < 0) return absl::InternalError("fork failed");
    if (p->pid_ == 0) {
      std::FILE* out = std::freopen(log.c_str(), "w", stderr);
      (void)out;
      ::execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
               "--log.level=warn", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Ready when /-/ready answers 200.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
        p->pid_ = -1;
        std::ifstream in(log);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return absl::FailedPreconditionError("prometheus exited: " + text);
      }
      auto r = httpRequest(p->endpoint(), "GET", "/-/ready");
      if (r.ok() && r->status == 200) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return absl::DeadlineExceededError("prometheus did not become ready");
  }

  ~PrometheusServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      int status = 0;
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  PrometheusServer() = default;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

std::vector<otlp::MetricsRequest> readRequests(const OtlpdProcess& otlpd) {
  std::vector<otlp::MetricsRequest> out;
  for (const std::string& line : otlpd.readJsonLines("metrics.jsonl")) {
    otlp::MetricsRequest r;
    absl::Status s = otlp::parseOtlpJson(line, r);
    EXPECT_TRUE(s.ok()) << s;
    if (s.ok()) out.push_back(std::move(r));
  }
  return out;
}

std::string attr(const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& kvs,
                 const std::string& key) {
  for (const auto& kv : kvs) {
    if (kv.key() != key) continue;
    return kv.value().has_int_value() ? std::to_string(kv.value().int_value())
                                      : kv.value().string_value();
  }
  return "";
}

// The metrics of the latest request that has `name` from service `job`, by name; and that
// request's resource.
struct Scrape {
  std::map<std::string, pb::Metric> metrics;
  otlp::pb_resource::Resource resource;
};

std::optional<Scrape> scrapeWith(const std::vector<otlp::MetricsRequest>& requests,
                                 const std::string& job, const std::string& name) {
  for (auto r = requests.rbegin(); r != requests.rend(); ++r) {
    for (const auto& rm : r->resource_metrics()) {
      if (attr(rm.resource().attributes(), "service.name") != job) continue;
      Scrape s;
      s.resource = rm.resource();
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) s.metrics.emplace(m.name(), m);
      }
      if (s.metrics.count(name)) return s;
    }
  }
  return std::nullopt;
}

std::string config(const std::string& targets_yaml, int self_port) {
  return strCat(R"(
receivers:
  prometheus:
    config:
      scrape_configs:
)",
                targets_yaml, R"(
exporters:
  file/metrics: { path: "@DIR@/metrics.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:)",
                self_port, R"(" } }
  pipelines:
    metrics: { receivers: [prometheus], exporters: [file/metrics] }
)");
}

TEST(PrometheusReceiverTest, ScrapesARealPrometheusServer) {
  auto prometheus = PrometheusServer::start();
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  const std::string target = (*prometheus)->endpoint();
  auto otlpd = OtlpdProcess::start(config(strCat(R"(        - job_name: prometheus
          scrape_interval: 1s
          static_configs: [{targets: [')",
                                                 target, R"('], labels: {env: test}}]
)"),
                                          freeLoopbackPort()));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();

  // Two scrapes: the second has start times carried over from the first.
  std::optional<Scrape> first, second;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto requests = readRequests(**otlpd);
    int scrapes = 0;
    for (const auto& r : requests) {
      for (const auto& rm : r.resource_metrics()) {
        if (attr(rm.resource().attributes(), "service.name") != "prometheus") continue;
        for (const auto& sm : rm.scope_metrics()) {
          for (const auto& m : sm.metrics()) {
            if (m.name() == "prometheus_build_info") ++scrapes;
          }
        }
      }
    }
    if (scrapes >= 2) {
      first = scrapeWith(requests, "prometheus", "prometheus_build_info");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(first) << (*otlpd)->stderrContents();
  const auto& metrics = first->metrics;

  // The target as the resource.
  const auto& resource = first->resource.attributes();
  EXPECT_EQ(attr(resource, "service.name"), "prometheus");
  EXPECT_EQ(attr(resource, "service.instance.id"), target);
  EXPECT_EQ(attr(resource, "server.address"), "127.0.0.1");
  EXPECT_EQ(attr(resource, "server.port"), std::to_string((*prometheus)->port()));
  EXPECT_EQ(attr(resource, "url.scheme"), "http");

  // prometheus_build_info: a gauge of 1 with the build as labels, and the target's label.
  const pb::Metric& build = metrics.at("prometheus_build_info");
  ASSERT_TRUE(build.has_gauge());
  ASSERT_EQ(build.gauge().data_points_size(), 1);
  const auto& bp = build.gauge().data_points(0);
  EXPECT_EQ(bp.as_double(), 1);
  EXPECT_EQ(attr(bp.attributes(), "version").rfind("2.", 0), 0u)
      << attr(bp.attributes(), "version");
  EXPECT_FALSE(attr(bp.attributes(), "goversion").empty());
  EXPECT_EQ(attr(bp.attributes(), "env"), "test");
  EXPECT_EQ(attr(bp.attributes(), "job"), "");  // job and instance are the resource

  // go_goroutines: a gauge above zero, with its help as description.
  const pb::Metric& goroutines = metrics.at("go_goroutines");
  ASSERT_TRUE(goroutines.has_gauge());
  EXPECT_GT(goroutines.gauge().data_points(0).as_double(), 0);
  EXPECT_EQ(goroutines.description(), "Number of goroutines that currently exist.");

  // A histogram with Prometheus's HTTP latency buckets, one point per handler.
  const pb::Metric& latency = metrics.at("prometheus_http_request_duration_seconds");
  ASSERT_TRUE(latency.has_histogram());
  EXPECT_EQ(latency.histogram().aggregation_temporality(), pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
  std::set<std::string> handlers;
  for (const auto& p : latency.histogram().data_points()) {
    handlers.insert(attr(p.attributes(), "handler"));
    EXPECT_EQ(p.bucket_counts_size(), p.explicit_bounds_size() + 1);
    uint64_t total = 0;
    for (uint64_t c : p.bucket_counts()) total += c;
    EXPECT_EQ(total, p.count());
    EXPECT_GT(p.start_time_unix_nano(), 0u);
  }
  EXPECT_TRUE(handlers.count("/-/ready")) << "our readiness polls were counted by handler";
  EXPECT_EQ(latency.histogram().data_points(0).explicit_bounds(0), 0.1);

  // A counter: a monotonic cumulative sum named as scraped.
  const pb::Metric& requests_total = metrics.at("prometheus_http_requests_total");
  ASSERT_TRUE(requests_total.has_sum());
  EXPECT_TRUE(requests_total.sum().is_monotonic());
  // A summary: go_gc_duration_seconds with its quantiles.
  const pb::Metric& gc = metrics.at("go_gc_duration_seconds");
  ASSERT_TRUE(gc.has_summary());
  EXPECT_EQ(gc.summary().data_points(0).quantile_values_size(), 5);
  // Prometheus 2.42 answers with the text format; the TYPE lines become metadata.
  EXPECT_EQ(attr(requests_total.metadata(), "prometheus.type"), "counter");

  // The report series of a good scrape.
  EXPECT_EQ(metrics.at("up").gauge().data_points(0).as_double(), 1);
  EXPECT_GT(metrics.at("scrape_samples_scraped").gauge().data_points(0).as_double(), 100);
  EXPECT_GT(metrics.at("scrape_duration_seconds").gauge().data_points(0).as_double(), 0);

  // And otlpd counted the scrapes.
  auto scraped = (*otlpd)->scrapeMetric(
      "otlpd_prometheus_scrapes_total",
      {{"receiver", "prometheus"}, {"job", "prometheus"}, {"instance", target}});
  ASSERT_TRUE(scraped.ok()) << scraped.status();
  EXPECT_GE(*scraped, 2);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

TEST(PrometheusReceiverTest, ScrapesItsOwnSelfMetrics) {
  const int self_port = freeLoopbackPort();
  const std::string target = "127.0.0.1:" + std::to_string(self_port);
  auto otlpd = OtlpdProcess::start(config(strCat(R"(        - job_name: otlpd
          scrape_interval: 500ms
          static_configs: [{targets: [')",
                                                 target, R"(']}]
)"),
                                          self_port));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  std::optional<Scrape> scrape;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  // From the second scrape on, otlpd's metrics count its earlier scrapes.
  auto counted = [](const std::optional<Scrape>& s) {
    return s &&
           s->metrics.at("otlpd_prometheus_scrapes_total").sum().data_points(0).as_double() >= 1;
  };
  while (std::chrono::steady_clock::now() < deadline && !counted(scrape)) {
    scrape = scrapeWith(readRequests(**otlpd), "otlpd", "otlpd_prometheus_scrapes_total");
    if (!counted(scrape)) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(scrape) << (*otlpd)->stderrContents();
  const pb::Metric& scrapes = scrape->metrics.at("otlpd_prometheus_scrapes_total");
  ASSERT_TRUE(scrapes.has_sum());
  EXPECT_TRUE(scrapes.sum().is_monotonic());
  const auto& p = scrapes.sum().data_points(0);
  EXPECT_EQ(attr(p.attributes(), "receiver"), "prometheus");
  // Its own job and instance labels clash with the target's: renamed, as Prometheus does
  // without honor_labels.
  EXPECT_EQ(attr(p.attributes(), "exported_job"), "otlpd");
  EXPECT_EQ(attr(p.attributes(), "exported_instance"), target);
  EXPECT_EQ(attr(p.attributes(), "job"), "");
  EXPECT_GE(p.as_double(), 1);
  EXPECT_TRUE(scrape->metrics.at("otlpd_prometheus_target_up").has_gauge());
  EXPECT_TRUE(scrape->metrics.at("process_resident_memory_bytes").has_gauge());
  EXPECT_EQ(scrape->metrics.at("up").gauge().data_points(0).as_double(), 1);
  EXPECT_EQ(attr(scrape->resource.attributes(), "service.instance.id"), target);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

// Scraped metrics are metrics like any other: the store keeps them and the query API behind the
// UI's metrics page serves them (here otlpd's own, scraped by itself).
TEST(PrometheusReceiverTest, ScrapedMetricsReachTheStoreAndTheQueryApi) {
  const int self_port = freeLoopbackPort();
  auto otlpd = OtlpdProcess::start(strCat(R"(
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: otlpd
          scrape_interval: 300ms
          static_configs: [{targets: ['127.0.0.1:)",
                                          self_port, R"(']}]
exporters:
  store: { directory: "@DIR@/store", write_interval: 100ms }
extensions:
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" } }
service:
  extensions: [jaeger_query]
  telemetry: { metrics: { address: "127.0.0.1:)",
                                          self_port, R"(" } }
  pipelines:
    metrics: { receivers: [prometheus], exporters: [store] }
)"));
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string query = (*otlpd)->endpoint("jaeger_query");
  ASSERT_FALSE(query.empty());
  nlohmann::json up;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = httpRequest(query, "GET", "/api/otlpd/metrics/series?name=up&service=otlpd");
    if (r.ok() && r->status == 200) {
      up = nlohmann::json::parse(r->body, nullptr, false);
      if (up.is_object() && up["data"].is_array() && !up["data"].empty() &&
          up["data"][0]["points"].size() >= 2) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(up.is_object() && !up["data"].empty()) << up.dump();
  const auto& series = up["data"][0];
  EXPECT_EQ(series["type"], "gauge");
  EXPECT_EQ(series["service"], "otlpd");
  ASSERT_GE(series["points"].size(), 2u);
  EXPECT_EQ(series["points"].back()[1], 1.0);

  auto catalog = httpRequest(query, "GET", "/api/otlpd/metrics?service=otlpd");
  ASSERT_TRUE(catalog.ok() && catalog->status == 200);
  const auto metrics = nlohmann::json::parse(catalog->body, nullptr, false);
  bool found = false;
  for (const auto& m : metrics["data"]) {
    if (m["name"] == "otlpd_prometheus_scrapes_total") {
      found = true;
      EXPECT_EQ(m["type"], "sum");
    }
  }
  EXPECT_TRUE(found) << catalog->body.substr(0, 2000);
  EXPECT_TRUE((*otlpd)->stop().cleanExit());
}

}  // namespace
}  // namespace otlpd::integration
