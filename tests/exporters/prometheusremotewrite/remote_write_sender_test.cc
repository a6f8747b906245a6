// The remote-write sender against a fake endpoint that behaves as Prometheus does: a request with
// any bad sample is answered 400 and nothing of it is stored. The sender isolates the bad series
// (the rest is delivered, the bad ones come back as `rejected`), continues after a retryable
// failure with what is left only, and the exporter (through the helper) dead-letters exactly the
// refused series.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/http_server.h"
#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "exporters/helper/dead_letter.h"
#include "exporters/prometheusremotewrite/remote_write_exporter.h"
#include "otlp/proto.h"
#include "prometheus/remote_write.h"
#include "prometheus/series_translator.h"

namespace otlpd::exporters::prometheusremotewrite {
namespace {

namespace http = boost::beast::http;
namespace rw = otlpd::prometheus::remote_write;
namespace pbm = otlp::pb_metrics;

class FakeRemoteWrite final : public common::HttpHandler {
 public:
  common::HttpResponse handle(common::HttpRequest&& request) override {
    std::lock_guard lock(mu);
    ++requests;
    headers_ok = headers_ok && request[http::field::content_encoding] == "snappy" &&
                 request[http::field::content_type] == "application/x-protobuf" &&
                 request["X-Prometheus-Remote-Write-Version"] == "0.1.0" &&
                 request["X-Scope-OrgID"] == "tenant-1";
    if (fail_request == requests) {
      auto res = common::makeResponse(request, http::status::service_unavailable, "text/plain",
                                      "overloaded");
      res.set(http::field::retry_after, "1");
      return res;
    }
    if (refuse_all) {
      return common::makeResponse(request, http::status::unauthorized, "text/plain", "no");
    }
    auto raw = rw::snappyUncompress(request.body(), 64 << 20);
    if (!raw.ok())
      return common::makeResponse(request, http::status::bad_request, "text/plain", "snappy");
    auto series = rw::decodeRequest(*raw);
    if (!series.ok())
      return common::makeResponse(request, http::status::bad_request, "text/plain", "proto");
    for (const auto& s : *series) {
      for (const auto& [n, v] : s.labels) {
        if (n == "bad") {
          return common::makeResponse(request, http::status::bad_request, "text/plain",
                                      "out of order sample");
        }
      }
    }
    for (const auto& s : *series) {
      std::string key;
      for (const auto& [n, v] : s.labels) key += n + "=" + v + ",";
      for (const auto& sample : s.samples) {
        EXPECT_TRUE(stored[key].insert(sample.timestamp_ms).second) << "sent twice: " << key;
      }
    }
    return common::makeResponse(request, http::status::no_content, "", "");
  }

  size_t storedSamples() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& [k, v] : stored) n += v.size();
    return n;
  }

  std::mutex mu;
  int requests = 0;
  int fail_request = 0;
  bool refuse_all = false;
  bool headers_ok = true;
  std::map<std::string, std::set<int64_t>> stored;
};

struct Endpoint {
  Endpoint() {
    common::HttpServerOptions o;
    o.endpoint = "127.0.0.1:0";
    server = common::HttpServer::start(o, fake).value();
  }
  std::string url() const { return "http://" + server->boundEndpoint() + "/api/v1/write"; }
  std::shared_ptr<FakeRemoteWrite> fake = std::make_shared<FakeRemoteWrite>();
  std::unique_ptr<common::HttpServer> server;
};

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ULL;

// `n` gauge series of 3 samples each; the ones in `bad` carry a label the fake refuses.
pipeline::Batch gauges(int n, std::set<int> bad) {
  otlp::MetricsRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* m = sm->add_metrics();
  m->set_name("queue.depth");
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < 3; ++t) {
      auto* p = m->mutable_gauge()->add_data_points();
      p->set_as_double(i * 10 + t);
      p->set_time_unix_nano(kT0 + static_cast<uint64_t>(t) * 1'000'000'000);
      auto* kv = p->add_attributes();
      kv->set_key("queue");
      kv->mutable_value()->set_string_value(std::string("q") + std::to_string(i));
      if (bad.count(i)) {
        auto* b = p->add_attributes();
        b->set_key("bad");
        b->mutable_value()->set_string_value("true");
      }
    }
  }
  const std::string bytes = req.SerializeAsString();
  return pipeline::Batch::fromWire(pipeline::Signal::kMetrics,
                                   pipeline::WireBytes::fromString(bytes),
                                   static_cast<size_t>(n * 3));
}

RemoteWriteConfig configFor(const Endpoint& e) {
  RemoteWriteConfig c;
  c.url = otlp_http::parseHttpUrl(e.url()).value();
  c.headers["x-scope-orgid"] = "tenant-1";
  c.target_info = false;
  return c;
}

std::set<std::string> seriesOf(const pipeline::Batch& batch) {
  otlpd::prometheus::SeriesTranslator t({});
  EXPECT_TRUE(t.add(*batch.wireBytes()).ok());
  std::set<std::string> out;
  for (const auto& s : t.series()) {
    auto decoded = rw::decodeRequest(rw::encodeRequest({s}, {{0, 0, uint32_t(s.samples.size())}}));
    std::string key;
    for (const auto& [n, v] : (*decoded)[0].labels) key += n + "=" + v + ",";
    out.insert(key);
  }
  return out;
}

TEST(RemoteWriteSender, DeliversEverythingWithTheHeadersOfTheProtocol) {
  Endpoint e;
  auto sender = makeRemoteWriteSender(configFor(e), "rw-happy", nullptr);
  ASSERT_NE(sender, nullptr);
  helper::SendResult r = sender->send(gauges(50, {}), absl::Seconds(5));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_FALSE(r.rejected.has_value());
  EXPECT_EQ(e.fake->storedSamples(), 150u);
  EXPECT_EQ(e.fake->requests, 1);
  EXPECT_TRUE(e.fake->headers_ok);
}

TEST(RemoteWriteSender, IsolatesTheSeriesAn400RefusesAndDeliversTheRest) {
  Endpoint e;
  RemoteWriteConfig c = configFor(e);
  auto sender = makeRemoteWriteSender(c, "rw-isolate", nullptr);
  helper::SendResult r = sender->send(gauges(40, {7, 31}), absl::Seconds(5));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(e.fake->storedSamples(), 38u * 3);
  ASSERT_TRUE(r.rejected.has_value());
  EXPECT_EQ(r.rejected->itemCount(), 6u);
  EXPECT_EQ(seriesOf(*r.rejected),
            (std::set<std::string>{"__name__=queue_depth,bad=true,queue=q31,",
                                   "__name__=queue_depth,bad=true,queue=q7,"}));
  EXPECT_NE(r.rejected_message.find("out of order sample"), std::string::npos);
  // Bounded: 1 + 2·(2 bad)·(log2(40 series) + log2(3 samples)) requests at most.
  EXPECT_LE(e.fake->requests, 1 + 2 * 2 * (6 + 2));
}

TEST(RemoteWriteSender, WithoutIsolationBudgetTheWholeRequestIsRejected) {
  Endpoint e;
  RemoteWriteConfig c = configFor(e);
  c.max_isolation_requests = 0;
  auto sender = makeRemoteWriteSender(c, "rw-nobudget", nullptr);
  helper::SendResult r = sender->send(gauges(10, {3}), absl::Seconds(5));
  ASSERT_TRUE(r.status.ok());
  ASSERT_TRUE(r.rejected.has_value());
  EXPECT_EQ(r.rejected->itemCount(), 30u);
  EXPECT_EQ(e.fake->storedSamples(), 0u);
}

TEST(RemoteWriteSender, ARetryableFailureHandsBackOnlyWhatWasNotDelivered) {
  Endpoint e;
  RemoteWriteConfig c = configFor(e);
  c.max_batch_size_bytes = 1024;  // several requests
  e.fake->fail_request = 3;
  auto sender = makeRemoteWriteSender(c, "rw-retry", nullptr);
  helper::SendResult r = sender->send(gauges(60, {}), absl::Seconds(5));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, absl::Seconds(1));
  ASSERT_TRUE(r.remaining.has_value());
  const size_t delivered = e.fake->storedSamples();
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(delivered + r.remaining->itemCount(), 180u);
  helper::SendResult again = sender->send(*r.remaining, absl::Seconds(5));
  ASSERT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(e.fake->storedSamples(), 180u);  // each sample once (the fake checks)
}

TEST(RemoteWriteSender, ARefusingEndpointRefusesTheBatch) {
  Endpoint e;
  e.fake->refuse_all = true;
  auto sender = makeRemoteWriteSender(configFor(e), "rw-refused", nullptr);
  helper::SendResult r = sender->send(gauges(5, {}), absl::Seconds(5));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("401"), std::string::npos);
  EXPECT_FALSE(r.rejected.has_value());
}

class NoHost : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

TEST(RemoteWriteExporter, DeadLettersExactlyTheRefusedSeries) {
  Endpoint e;
  char tmpl[] = "/tmp/otlpd-rw-dlq-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string yaml = std::string("endpoint: ") + e.url() +
                           "\nheaders: {X-Scope-OrgID: tenant-1}\ntarget_info: {enabled: false}\n"
                           "dead_letter_queue: {directory: " +
                           dir + "}\n";
  config::ConfigErrors errors;
  config::ConfigNode node(YAML::Load(yaml), "exporters.prometheusremotewrite", errors);
  common::MetricsRegistry metrics;
  pipeline::CreateSettings settings{{"prometheusremotewrite", ""}, metrics, nullptr};
  auto factory = makePrometheusRemoteWriteExporterFactory();
  auto exporter = factory->create(settings, node, pipeline::Signal::kMetrics);
  node.rejectUnknownKeys();
  ASSERT_TRUE(errors.empty()) << errors.toString();
  ASSERT_TRUE(exporter.ok());
  NoHost host;
  ASSERT_TRUE((*exporter)->start(host).ok());
  ASSERT_TRUE((*exporter)->consume(gauges(30, {12})).ok());
  std::vector<helper::DeadLetter> letters;
  for (int i = 0; i < 200 && letters.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    letters = helper::listDeadLetters(dir, true, nullptr).value();
  }
  ASSERT_TRUE((*exporter)->shutdown().ok());
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].header.items, 3);
  EXPECT_FALSE(letters[0].header.partial);
  auto batch = helper::decodeDeadLetter(letters[0]);
  ASSERT_TRUE(batch.ok());
  std::string bytes = batch->metrics().SerializeAsString();
  auto again = pipeline::Batch::fromWire(pipeline::Signal::kMetrics,
                                         pipeline::WireBytes::fromString(bytes), 3);
  EXPECT_EQ(seriesOf(again), (std::set<std::string>{"__name__=queue_depth,bad=true,queue=q12,"}));
  EXPECT_EQ(e.fake->storedSamples(), 29u * 3);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace otlpd::exporters::prometheusremotewrite
