// The scrape loop against real sockets: targets served on 127.0.0.1 by a test server that answers
// well or badly (slowly, 404, 500, garbage, 100 MB, duplicates, changing types), over TLS, behind
// auth, and discovered from files that change.
#include "receivers/prometheus/scrape_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/compression.h"
#include "common/logging.h"
#include "otlp/proto.h"
#include "receivers/prometheus/scrape_client.h"
#include "test_target_server.h"

namespace otlpd::receivers::prometheus {
namespace {

using ::testing::HasSubstr;
using testing::TargetConnection;
using testing::TargetRequest;
using testing::TestTargetServer;
namespace pb = otlp::pb_metrics;

// Keeps every request the receiver sends down the pipeline.
class CaptureConsumer : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(mu_);
    requests_.push_back(batch.metrics());
    return absl::OkStatus();
  }
  std::vector<otlp::MetricsRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::vector<otlp::MetricsRequest> requests_;
};

std::string resourceAttribute(const otlp::pb_resource::Resource& r, const std::string& key) {
  for (const auto& kv : r.attributes()) {
    if (kv.key() == key) return kv.value().string_value();
  }
  return "";
}

// Every number point of metric `name` whose resource has service.name `job`, in arrival order.
std::vector<pb::NumberDataPoint> numberPoints(const std::vector<otlp::MetricsRequest>& requests,
                                              const std::string& job, const std::string& name) {
  std::vector<pb::NumberDataPoint> out;
  for (const auto& r : requests) {
    for (const auto& rm : r.resource_metrics()) {
      if (resourceAttribute(rm.resource(), "service.name") != job) continue;
      for (const auto& sm : rm.scope_metrics()) {
        for (const auto& m : sm.metrics()) {
          if (m.name() != name) continue;
          const auto& points = m.has_gauge() ? m.gauge().data_points() : m.sum().data_points();
          out.insert(out.end(), points.begin(), points.end());
        }
      }
    }
  }
  return out;
}

template <class Predicate>
bool waitFor(Predicate p, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return p();
}

class ScrapeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("otlpd-promrx-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    logging::setSinkForTesting([this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      logs_.emplace_back(line);
    });
  }
  void TearDown() override {
    if (manager_) manager_->stop();
    logging::setSinkForTesting(nullptr);
    std::filesystem::remove_all(dir_);
  }

  void start(const std::string& yaml, size_t workers = 2) {
    config::ConfigErrors errors;
    config::ConfigNode node(YAML::Load(yaml), "receivers.prometheus", errors);
    PrometheusReceiverConfig cfg = parsePrometheusReceiverConfig(node);
    ASSERT_TRUE(errors.empty()) << errors.toString();
    ScrapeManagerOptions options;
    options.receiver_id = "prometheus";
    options.next = capture_;
    options.metrics = &metrics_;
    options.workers = workers;
    options.file_poll_interval = absl::Milliseconds(50);
    auto m = ScrapeManager::start(std::move(options), std::move(cfg));
    ASSERT_TRUE(m.ok()) << m.status();
    manager_ = *std::move(m);
  }

  common::Labels targetLabels(const std::string& job, const std::string& instance) {
    return {{"receiver", "prometheus"}, {"job", job}, {"instance", instance}};
  }
  uint64_t scrapes(const std::string& job, const std::string& instance) {
    return metrics_.counter("otlpd_prometheus_scrapes_total", "", targetLabels(job, instance))
        .value();
  }
  uint64_t failures(const std::string& job, const std::string& instance,
                    const std::string& reason) {
    common::Labels l = targetLabels(job, instance);
    l.emplace_back("reason", reason);
    return metrics_.counter("otlpd_prometheus_scrape_failures_total", "", l).value();
  }
  uint64_t dropped(const std::string& job, const std::string& instance, const std::string& reason) {
    common::Labels l = targetLabels(job, instance);
    l.emplace_back("reason", reason);
    return metrics_.counter("otlpd_prometheus_dropped_samples_total", "", l).value();
  }
  size_t logLines(const std::string& needle1, const std::string& needle2) {
    std::lock_guard lock(log_mu_);
    size_t n = 0;
    for (const std::string& l : logs_) {
      n += l.find(needle1) != std::string::npos && l.find(needle2) != std::string::npos;
    }
    return n;
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<CaptureConsumer> capture_ = std::make_shared<CaptureConsumer>();
  std::unique_ptr<ScrapeManager> manager_;
  std::mutex log_mu_;
  std::vector<std::string> logs_;
};

constexpr std::string_view kGoodBody =
    "# HELP requests_total Requests.\n# TYPE requests_total counter\n"
    "requests_total{code=\"200\"} 10\n# TYPE temperature gauge\ntemperature 21.5\n";

std::string job(const std::string& name, const std::string& path, const std::string& target,
                const std::string& extra = "") {
  return "    - job_name: " + name +
         "\n      scrape_interval: 200ms\n      scrape_timeout: 150ms\n" +
         "      metrics_path: " + path + "\n      static_configs: [{targets: ['" + target +
         "']}]\n" + extra;
}

TEST_F(ScrapeManagerTest, BadTargetsAreUpZeroCountedAndLoggedOnceAndNothingElseIsAffected) {
  std::atomic<size_t> largest_huge_send{0};
  TestTargetServer server([&](const TargetRequest& req, TargetConnection& conn) {
    if (req.target == "/good") {
      conn.respond(200, "text/plain; version=0.0.4", kGoodBody);
    } else if (req.target == "/slow") {
      for (int i = 0; i < 40 && !conn.stopping(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      conn.respond(200, "text/plain", kGoodBody);
    } else if (req.target == "/404") {
      conn.respond(404, "text/plain", "not here");
    } else if (req.target == "/500") {
      conn.respond(500, "text/plain", "broken");
    } else if (req.target == "/garbage") {
      conn.respond(200, "text/plain", std::string("\x89PNG\r\n\x1a\n\0\0binary{{{", 20));
    } else if (req.target == "/huge") {
      // 100 MB announced and streamed; the receiver must stop reading at its limit.
      const size_t total = size_t{100} << 20;
      if (!conn.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(total) + "\r\n\r\n")) {
        return;
      }
      const std::string chunk(64 << 10, '#');
      size_t sent = 0;
      while (sent < total && conn.send(chunk)) sent += chunk.size();
      size_t prev = largest_huge_send.load();
      while (sent > prev && !largest_huge_send.compare_exchange_weak(prev, sent)) {
      }
    }
  });
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" + job("good", "/good", t) + job("slow", "/slow", t) +
        job("notfound", "/404", t) + job("error", "/500", t) + job("garbage", "/garbage", t) +
        job("huge", "/huge", t, "      body_size_limit: 1MB\n"));

  ASSERT_TRUE(waitFor([&] {
    for (const char* j : {"good", "slow", "notfound", "error", "garbage", "huge"}) {
      if (scrapes(j, t) < 3) return false;
    }
    return true;
  }));
  manager_->stop();

  EXPECT_GE(failures("slow", t, "timeout"), 3u);
  EXPECT_GE(failures("notfound", t, "http_status"), 3u);
  EXPECT_GE(failures("error", t, "http_status"), 3u);
  EXPECT_GE(failures("garbage", t, "invalid_body"), 3u);
  EXPECT_GE(failures("huge", t, "body_too_large"), 3u)
      << "timeouts " << failures("huge", t, "timeout") << " connection "
      << failures("huge", t, "connection") << " scrapes " << scrapes("huge", t);
  EXPECT_LT(largest_huge_send.load(), size_t{16} << 20) << "the body was not cut off";
  for (const char* reason :
       {"timeout", "http_status", "invalid_body", "body_too_large", "connection"}) {
    EXPECT_EQ(failures("good", t, reason), 0u) << reason;
  }

  const auto requests = capture_->requests();
  for (const char* j : {"slow", "notfound", "error", "garbage", "huge"}) {
    const auto up = numberPoints(requests, j, "up");
    ASSERT_GE(up.size(), 3u) << j;
    for (const auto& p : up) EXPECT_EQ(p.as_double(), 0) << j;
    EXPECT_TRUE(numberPoints(requests, j, "temperature").empty()) << j;
    EXPECT_EQ(metrics_.gauge("otlpd_prometheus_target_up", "", targetLabels(j, t)).value(), 0) << j;
    // One warning per target and reason, however many scrapes failed.
    EXPECT_EQ(logLines("prometheus scrape failed", std::string("\"job\":\"") + j + "\""), 1u) << j;
  }
  // The good target: every scrape up, its data there.
  const auto up = numberPoints(requests, "good", "up");
  ASSERT_GE(up.size(), 3u);
  for (const auto& p : up) EXPECT_EQ(p.as_double(), 1);
  const auto temperature = numberPoints(requests, "good", "temperature");
  ASSERT_GE(temperature.size(), 3u);
  EXPECT_EQ(temperature[0].as_double(), 21.5);
  EXPECT_EQ(logLines("prometheus scrape failed", "\"job\":\"good\""), 0u);
}

TEST_F(ScrapeManagerTest, ConnectionRefused) {
  std::string closed;
  {
    TestTargetServer gone([](const TargetRequest&, TargetConnection&) {});
    closed = gone.endpoint();
  }
  start("config:\n  scrape_configs:\n" + job("gone", "/metrics", closed));
  ASSERT_TRUE(waitFor([&] { return failures("gone", closed, "connection") >= 2; }));
}

TEST_F(ScrapeManagerTest, DuplicateSeriesAreDroppedAndCounted) {
  TestTargetServer server([](const TargetRequest&, TargetConnection& conn) {
    conn.respond(200, "text/plain", "g{a=\"1\"} 1\ng{a=\"1\"} 2\ng{a=\"2\"} 3\n");
  });
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" + job("dups", "/metrics", t));
  ASSERT_TRUE(waitFor([&] { return dropped("dups", t, "duplicate") >= 2; }));
  manager_->stop();
  const auto requests = capture_->requests();
  for (const auto& p : numberPoints(requests, "dups", "up")) EXPECT_EQ(p.as_double(), 1);
  const auto g = numberPoints(requests, "dups", "g");
  ASSERT_GE(g.size(), 4u);
  EXPECT_EQ(g[0].as_double(), 1);  // the first of the duplicates
  EXPECT_EQ(g[1].as_double(), 3);
  EXPECT_EQ(logLines("prometheus samples dropped", "\"job\":\"dups\""), 1u);
}

TEST_F(ScrapeManagerTest, TypeChangeBetweenScrapesIsCountedAndStartsANewSeries) {
  std::atomic<int> n{0};
  TestTargetServer server([&](const TargetRequest&, TargetConnection& conn) {
    conn.respond(200, "text/plain",
                 n++ % 2 == 0 ? "# TYPE flip counter\nflip 5\n" : "# TYPE flip gauge\nflip 5\n");
  });
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" + job("flip", "/metrics", t));
  auto changes = [&] {
    return metrics_.counter("otlpd_prometheus_type_changes_total", "", targetLabels("flip", t))
        .value();
  };
  ASSERT_TRUE(waitFor([&] { return changes() >= 2; }));
  manager_->stop();
  for (const auto& p : numberPoints(capture_->requests(), "flip", "up")) {
    EXPECT_EQ(p.as_double(), 1);
  }
  EXPECT_EQ(logLines("changed its type", "\"job\":\"flip\""), 1u);
}

TEST_F(ScrapeManagerTest, OpenMetricsByNegotiationGzipAndKeepAlive) {
  std::atomic<bool> asked_for_openmetrics{false};
  TestTargetServer server([&](const TargetRequest& req, TargetConnection& conn) {
    const auto accept = req.headers.find("accept");
    asked_for_openmetrics = accept != req.headers.end() &&
                            accept->second.find("application/openmetrics-text;version=1.0.0") == 0;
    auto body = common::compress(common::Compression::kGzip,
                                 "# TYPE c counter\nc_total 3\nc_created 1680000000\n# EOF\n");
    conn.respond(200, "application/openmetrics-text; version=1.0.0; charset=utf-8", *body,
                 "Content-Encoding: gzip\r\n");
  });
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" + job("om", "/metrics", t));
  ASSERT_TRUE(
      waitFor([&] { return numberPoints(capture_->requests(), "om", "c_total").size() >= 3; }));
  manager_->stop();
  EXPECT_TRUE(asked_for_openmetrics.load());
  const auto c = numberPoints(capture_->requests(), "om", "c_total");
  EXPECT_EQ(c[0].start_time_unix_nano(), uint64_t{1680000000} * 1000000000);
  EXPECT_EQ(c[0].as_double(), 3);
  // Kept alive: one connection for every scrape.
  EXPECT_GE(server.requests(), 3);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(ScrapeManagerTest, BasicAuthFromAFileAndBearerToken) {
  TestTargetServer server([](const TargetRequest& req, TargetConnection& conn) {
    const auto auth = req.headers.find("authorization");
    const std::string want = req.target == "/basic" ? "Basic dXNlcjpzM2NyZXQ=" : "Bearer tok3n";
    if (auth == req.headers.end() || auth->second != want) {
      conn.respond(401, "text/plain", "who are you");
      return;
    }
    conn.respond(200, "text/plain", kGoodBody);
  });
  std::ofstream(file("password")) << "s3cret\n";
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" +
        job("basic", "/basic", t,
            "      basic_auth: {username: user, password_file: '" + file("password") + "'}\n") +
        job("bearer", "/bearer", t, "      authorization: {credentials: tok3n}\n") +
        job("none", "/bearer", t));
  ASSERT_TRUE(waitFor([&] {
    return scrapes("basic", t) >= 2 && scrapes("bearer", t) >= 2 && scrapes("none", t) >= 2;
  }));
  manager_->stop();
  EXPECT_EQ(failures("basic", t, "http_status"), 0u);
  EXPECT_EQ(failures("bearer", t, "http_status"), 0u);
  EXPECT_GE(failures("none", t, "http_status"), 2u);
}

TEST_F(ScrapeManagerTest, Tls) {
  const testing::TestCertificate cert = testing::makeTestCertificate(dir_.string());
  TestTargetServer server(
      [](const TargetRequest&, TargetConnection& conn) {
        conn.respond(200, "text/plain", kGoodBody);
      },
      &cert);
  const std::string t = server.endpoint();
  start("config:\n  scrape_configs:\n" +
        job("trusted", "/metrics", t,
            "      scheme: https\n      tls_config: {ca_file: '" + cert.cert_file + "'}\n") +
        job("untrusted", "/other", t, "      scheme: https\n") +
        job("skip", "/skip", t,
            "      scheme: https\n      tls_config: {insecure_skip_verify: true}\n"));
  ASSERT_TRUE(waitFor([&] {
    return scrapes("trusted", t) >= 2 && scrapes("untrusted", t) >= 2 && scrapes("skip", t) >= 2;
  }));
  manager_->stop();
  EXPECT_EQ(metrics_.gauge("otlpd_prometheus_target_up", "", targetLabels("trusted", t)).value(),
            1);
  EXPECT_EQ(metrics_.gauge("otlpd_prometheus_target_up", "", targetLabels("skip", t)).value(), 1);
  EXPECT_GE(failures("untrusted", t, "connection"), 2u);
  const auto requests = capture_->requests();
  bool https = false;
  for (const auto& r : requests) {
    for (const auto& rm : r.resource_metrics()) {
      if (resourceAttribute(rm.resource(), "service.name") == "trusted") {
        https |= resourceAttribute(rm.resource(), "url.scheme") == "https";
      }
    }
  }
  EXPECT_TRUE(https);
}

TEST_F(ScrapeManagerTest, ProbeStyleParamsAndRelabeling) {
  std::atomic<bool> right_url{false};
  TestTargetServer server([&](const TargetRequest& req, TargetConnection& conn) {
    right_url = req.target == "/probe?module=http_2xx&target=example.org%3A443";
    conn.respond(200, "text/plain", "probe_success 1\n");
  });
  start(R"(config:
  scrape_configs:
    - job_name: blackbox
      scrape_interval: 200ms
      scrape_timeout: 150ms
      metrics_path: /probe
      params: {module: [http_2xx]}
      static_configs: [{targets: ['example.org:443'], labels: {team: web}}]
      relabel_configs:
        - {source_labels: [__address__], target_label: __param_target}
        - {source_labels: [__param_target], target_label: instance}
        - {target_label: __address__, replacement: ')" +
        server.endpoint() + R"('}
)");
  ASSERT_TRUE(waitFor([&] { return scrapes("blackbox", "example.org:443") >= 2; }));
  manager_->stop();
  EXPECT_TRUE(right_url.load());
  const auto points = numberPoints(capture_->requests(), "blackbox", "probe_success");
  ASSERT_FALSE(points.empty());
  ASSERT_EQ(points[0].attributes_size(), 1);
  EXPECT_EQ(points[0].attributes(0).key(), "team");
  EXPECT_EQ(points[0].attributes(0).value().string_value(), "web");
}

TEST_F(ScrapeManagerTest, FileSdIsWatchedAndRemovedTargetsGoStale) {
  TestTargetServer a([](const TargetRequest&, TargetConnection& conn) {
    conn.respond(200, "text/plain", "from_a 1\n");
  });
  TestTargetServer b([](const TargetRequest&, TargetConnection& conn) {
    conn.respond(200, "text/plain", "from_b 1\n");
  });
  const std::string targets = file("targets.json");
  std::ofstream(targets) << R"([{"targets": [")" << a.endpoint()
                         << R"("], "labels": {"env": "a"}}])";
  start(R"(config:
  scrape_configs:
    - job_name: files
      scrape_interval: 200ms
      scrape_timeout: 150ms
      file_sd_configs: [{files: [')" +
        dir_.string() + R"(/*.json']}]
)");
  ASSERT_TRUE(waitFor([&] { return scrapes("files", a.endpoint()) >= 2; }));
  // Replace the file atomically, as tools do: now only b.
  std::ofstream(targets + ".tmp") << R"([{"targets": [")" << b.endpoint() << R"("]}])";
  std::filesystem::rename(targets + ".tmp", targets);
  ASSERT_TRUE(waitFor([&] { return scrapes("files", b.endpoint()) >= 2; }));
  auto stale = [&] {
    for (const auto& p : numberPoints(capture_->requests(), "files", "from_a")) {
      if (p.flags() == 1) return true;
    }
    return false;
  };
  ASSERT_TRUE(waitFor(stale));
  const uint64_t a_scrapes = scrapes("files", a.endpoint());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(scrapes("files", a.endpoint()), a_scrapes) << "a removed target is still scraped";
  EXPECT_EQ(
      metrics_.gauge("otlpd_prometheus_targets", "", {{"receiver", "prometheus"}, {"job", "files"}})
          .value(),
      1);
  // The file's labels and path reach the points of a's series (env) but __meta_ labels do not.
  const auto from_a = numberPoints(capture_->requests(), "files", "from_a");
  ASSERT_FALSE(from_a.empty());
  ASSERT_EQ(from_a[0].attributes_size(), 1);
  EXPECT_EQ(from_a[0].attributes(0).key(), "env");

  // A broken file keeps the previous targets. Replaced atomically too: written in place, the
  // watcher may read it truncated, and an empty file is a valid list of no targets.
  std::ofstream(targets + ".tmp") << "[{not json";
  std::filesystem::rename(targets + ".tmp", targets);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t b_scrapes = scrapes("files", b.endpoint());
  ASSERT_TRUE(waitFor([&] { return scrapes("files", b.endpoint()) >= b_scrapes + 2; }));
}

TEST_F(ScrapeManagerTest, TargetsSpreadOverTheInterval) {
  // Ten targets of one job scraped every second: their first scrapes do not all fall together.
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> times;
  TestTargetServer server([&](const TargetRequest&, TargetConnection& conn) {
    {
      std::lock_guard lock(mu);
      times.push_back(std::chrono::steady_clock::now());
    }
    conn.respond(200, "text/plain", "x 1\n");
  });
  std::string groups;
  for (int i = 0; i < 10; ++i) {
    groups +=
        "{targets: ['" + server.endpoint() + "'], labels: {shard: '" + std::to_string(i) + "'}},";
  }
  start(
      "config:\n  scrape_configs:\n    - job_name: spread\n      scrape_interval: 1s\n"
      "      static_configs: [" +
      groups + "]\n");
  ASSERT_TRUE(waitFor(
      [&] {
        std::lock_guard lock(mu);
        return times.size() >= 10;
      },
      std::chrono::seconds(5)));
  std::lock_guard lock(mu);
  std::sort(times.begin(), times.begin() + 10);
  EXPECT_GT(times[9] - times[0], std::chrono::milliseconds(300));
}

}  // namespace
}  // namespace otlpd::receivers::prometheus

namespace otlpd::receivers::prometheus {
namespace {

// 100 MB announced (or, with `chunked`/`until_close`, not announced) and streamed: the client must
// stop at its limit, long before the end, whichever way the body is framed.
void hugeBodyIsCutOff(const std::string& framing) {
  std::atomic<size_t> sent_total{0};
  auto server = std::make_unique<testing::TestTargetServer>(
      [&](const testing::TargetRequest&, testing::TargetConnection& conn) {
        const size_t total = size_t{100} << 20;
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
        if (framing == "length") head += "Content-Length: " + std::to_string(total) + "\r\n";
        if (framing == "chunked") head += "Transfer-Encoding: chunked\r\n";
        if (framing == "until_close") head += "Connection: close\r\n";
        if (!conn.send(head + "\r\n")) return;
        std::string chunk(64 << 10, '#');
        if (framing == "chunked") chunk = "10000\r\n" + chunk + "\r\n";
        size_t sent = 0;
        while (sent < total && conn.send(chunk)) sent += 64 << 10;
        sent_total += sent;
      });
  boost::asio::io_context ioc;
  ScrapeClient client(ioc, nullptr, TlsConfig{});
  FetchRequest r;
  r.host = "127.0.0.1";
  r.port = static_cast<uint16_t>(std::stoi(server->endpoint().substr(10)));
  r.target = "/huge";
  r.body_limit = 1 << 20;
  r.timeout = absl::Seconds(5);
  FetchResult result;
  client.fetch(r, [&](FetchResult res) { result = std::move(res); });
  ioc.run();
  EXPECT_EQ(result.failure, FetchFailure::kBodyTooLarge)
      << framing << ": " << result.status << " http " << result.http_status << " body "
      << result.body.size();
  client.close();
  server.reset();  // joins the connection threads, so sent_total is final
  // An announced length over the limit may be refused from the headers alone, before the server
  // writes any of the body (its first write then fails on the closed connection).
  if (framing != "length") {
    EXPECT_GT(sent_total.load(), 0u) << framing;
  }
  EXPECT_LT(sent_total.load(), size_t{32} << 20) << framing;
}

TEST(ScrapeClientTest, HugeBodyIsCutOffAtTheLimit) {
  hugeBodyIsCutOff("length");
  hugeBodyIsCutOff("chunked");
  hugeBodyIsCutOff("until_close");
}

}  // namespace
}  // namespace otlpd::receivers::prometheus
