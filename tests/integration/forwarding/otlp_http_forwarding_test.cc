// The otlp_http exporter between two real otlpd processes: a forwarder (otlp receiver →
// otlp_http exporter) and a downstream (OTLP/HTTP receiver → file exporters), or a scripted
// HTTP server in this test binary where the downstream must answer errors on demand.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "../otlp_data_support.h"
#include "../otlpd_process_support.h"
#include "common/http_server.h"
#include "common/strings.h"
#include "otlp/proto.h"

namespace otlpd::integration {
namespace {

using namespace std::chrono_literals;

// Retries fast so that tests that need a retry do not wait for the defaults.
constexpr std::string_view kFastRetry =
    "    retry_on_failure: { initial_interval: 100ms, max_interval: 400ms, max_elapsed_time: 60s "
    "}";

std::string forwarderConfig(const std::string& base_url, std::string_view exporter_extra) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  otlp_http:
    endpoint: ")",
                base_url, R"("
    timeout: 2s
    dead_letter_queue: { directory: "@DIR@/dlq" }
)",
                kFastRetry, "\n", exporter_extra, R"(
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp_http] }
    metrics: { receivers: [otlp], exporters: [otlp_http] }
    logs: { receivers: [otlp], exporters: [otlp_http] }
)");
}

// Sends one request to the forwarder's OTLP/HTTP receiver; true when it was acknowledged.
bool post(const OtlpdProcess& p, std::string_view path, const google::protobuf::Message& m) {
  auto r = httpRequest(p.httpEndpoint(), "POST", path, {{"Content-Type", "application/x-protobuf"}},
                       m.SerializeAsString());
  return r.ok() && r->status == 200;
}

bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

struct Codec {
  std::string encoding;
  std::string compression;
};

// gtest prints parameters through this (instead of their bytes).
void PrintTo(const Codec& c, std::ostream* os) {
  *os << c.encoding << "/" << c.compression;
}

class OtlpHttpForwarding : public ::testing::TestWithParam<Codec> {};

TEST_P(OtlpHttpForwarding, EverySignalDeliveredExactlyOnce) {
  const Codec codec = GetParam();
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  auto fwd = OtlpdProcess::start(forwarderConfig(
      strCat("http://", (*down)->httpEndpoint()),
      strCat("    encoding: ", codec.encoding, "\n    compression: ", codec.compression)));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces(strCat("ht-", i), 10)));
    ASSERT_TRUE(post(**fwd, "/v1/metrics", makeMetrics(strCat("hm-", i), 4)));
    ASSERT_TRUE(post(**fwd, "/v1/logs", makeLogs(strCat("hl-", i), 6)));
  }
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "ht", 50, nullptr, 10s), 50u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kMetrics, "hm", 20, nullptr, 10s), 20u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kLogs, "hl", 30, nullptr, 10s), 30u);
  std::this_thread::sleep_for(300ms);  // no late duplicates either
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "ht", 50, nullptr, 0ms), 50u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kMetrics, "hm", 20, nullptr, 0ms), 20u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kLogs, "hl", 30, nullptr, 0ms), 30u);
  const LabelMap exporter = {{"exporter", "otlp_http"}};
  EXPECT_EQ((*fwd)->scrapeMetric("otlpd_exporter_sent_spans_total", exporter).value_or(-1), 50);
  EXPECT_EQ((*fwd)->scrapeMetric("otlpd_exporter_sent_log_records_total", exporter).value_or(-1),
            30);
  // The downstream really got the encoding asked for.
  auto counters = readReceiverCounters(**down, "http");
  ASSERT_TRUE(counters.ok()) << counters.status();
  EXPECT_EQ(counters->accepted_spans, 50);
  EXPECT_EQ(counters->malformed, 0);
}

INSTANTIATE_TEST_SUITE_P(Codecs, OtlpHttpForwarding,
                         ::testing::Values(Codec{"proto", "gzip"}, Codec{"json", "zstd"},
                                           Codec{"json", "gzip"}, Codec{"proto", "zstd"}),
                         [](const auto& info) {
                           return info.param.encoding + "_" + info.param.compression;
                         });

TEST(OtlpHttpForwardingQueue, DownstreamDownAtStartGetsEverythingOnceItComesUp) {
  const int port = freeLoopbackPort();
  auto fwd = OtlpdProcess::start(forwarderConfig(strCat("http://127.0.0.1:", port), ""));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces(strCat("hdown-", i), 10)));
  }
  auto down = OtlpdProcess::start(
      OtlpdProcess::standardConfigListeningOn("http", strCat("127.0.0.1:", port)));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "hdown", 200, nullptr, 15s), 200u);
  std::this_thread::sleep_for(500ms);
  auto names = taggedSpanNames((*down)->readJsonLines("traces.jsonl"), "hdown");
  EXPECT_EQ(names.size(), 200u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 200u);
  EXPECT_EQ(
      (*fwd)
          ->waitForMetric("otlpd_exporter_sent_spans_total", {{"exporter", "otlp_http"}}, 200, 5s)
          .value_or(-1),
      200);
}

// An OTLP/HTTP traces endpoint that answers from a script (then 200) and notes when each call
// came and what it carried.
class ScriptedHandler final : public common::HttpHandler {
 public:
  struct Answer {
    int status = 200;
    std::string retry_after;
    int64_t rejected = 0;  // partial success on a 200
  };

  common::HttpResponse handle(common::HttpRequest&& request) override {
    Answer a = always;
    {
      std::lock_guard lock(mu);
      calls.push_back(std::chrono::steady_clock::now());
      targets.push_back(std::string(request.target()));
      if (!script.empty()) {
        a = script.front();
        script.pop_front();
      }
    }
    std::string body;
    if (a.status == 200) {
      otlp::TracesResponse response;
      if (a.rejected > 0) {
        response.mutable_partial_success()->set_rejected_spans(a.rejected);
        response.mutable_partial_success()->set_error_message("too old");
      }
      body = response.SerializeAsString();
    } else {
      google::rpc::Status status;
      status.set_code(a.status == 400 ? 3 : 14);
      status.set_message(strCat("scripted ", a.status));
      body = status.SerializeAsString();
    }
    common::HttpResponse res =
        common::makeResponse(request, static_cast<boost::beast::http::status>(a.status),
                             "application/x-protobuf", std::move(body));
    if (!a.retry_after.empty()) res.set(boost::beast::http::field::retry_after, a.retry_after);
    return res;
  }
  size_t callCount() {
    std::lock_guard lock(mu);
    return calls.size();
  }

  std::mutex mu;
  std::deque<Answer> script;
  Answer always;  // once the script is used up
  std::vector<std::chrono::steady_clock::time_point> calls;
  std::vector<std::string> targets;
};

TEST(OtlpHttpForwardingScripted, RetryAfterIsHonouredBadRequestGoesToTheDlqPartialIsCounted) {
  auto handler = std::make_shared<ScriptedHandler>();
  handler->script = {{503, "1", 0}, {200, "", 0}, {400, "", 0}, {200, "", 2}};
  common::HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto server = common::HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok()) << server.status();
  auto fwd =
      OtlpdProcess::start(forwarderConfig(strCat("http://", (*server)->boundEndpoint(), "/prefix"),
                                          "    sending_queue: { num_consumers: 1 }"));
  ASSERT_TRUE(fwd.ok()) << fwd.status();

  ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces("throttled", 3)));
  ASSERT_TRUE(waitUntil([&] { return handler->callCount() >= 2; }, 10s));
  {
    std::lock_guard lock(handler->mu);
    const auto waited = handler->calls[1] - handler->calls[0];
    EXPECT_GE(waited, 900ms);  // Retry-After said 1 s, not our 100 ms
    EXPECT_LE(waited, 3000ms);
    EXPECT_EQ(handler->targets[0], "/prefix/v1/traces");
  }
  const LabelMap exporter = {{"exporter", "otlp_http"}};
  EXPECT_EQ((*fwd)->waitForMetric("otlpd_exporter_sent_spans_total", exporter, 3, 5s).value_or(-1),
            3);

  ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces("refused", 4)));
  EXPECT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_spans_total",
                                {{"exporter", "otlp_http"}, {"reason", "permanent"}}, 4, 10s)
                .value_or(-1),
            4);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(handler->callCount(), 3u);  // the refused request was not retried

  ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces("partly", 5)));
  EXPECT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_partial_rejected_spans_total", exporter, 2, 5s)
                .value_or(-1),
            2);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(handler->callCount(), 4u);  // a partial success is not retried either

  auto ls = runOtlpd({"dlq", "ls", (*fwd)->path("dlq")});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->status.code, 0) << ls->err;
  EXPECT_TRUE(contains(ls->out, "2 dead letters")) << ls->out;
  EXPECT_TRUE(contains(ls->out, "/prefix/v1/traces")) << ls->out;
  EXPECT_TRUE(contains(ls->out, "partial")) << ls->out;
  (*fwd)->stop();
  (*server)->stop();
}

TEST(OtlpHttpForwardingScripted, DlqReplayOverHttpDeliversEverything) {
  auto handler = std::make_shared<ScriptedHandler>();
  handler->always = {400, "", 0};
  common::HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto server = common::HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok()) << server.status();
  auto fwd =
      OtlpdProcess::start(forwarderConfig(strCat("http://", (*server)->boundEndpoint()), ""));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(post(**fwd, "/v1/traces", makeTraces(strCat("hreplay-", i), 5)));
  }
  ASSERT_TRUE(post(**fwd, "/v1/logs", makeLogs("hreplaylog", 2)));
  ASSERT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_spans_total",
                                {{"exporter", "otlp_http"}, {"reason", "permanent"}}, 15, 10s)
                .value_or(-1),
            15);
  ASSERT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_log_records_total",
                                {{"exporter", "otlp_http"}, {"reason", "permanent"}}, 2, 10s)
                .value_or(-1),
            2);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  auto replay = runOtlpd(
      {"dlq", "replay", (*fwd)->path("dlq"), "--to", strCat("http://", (*down)->httpEndpoint()),
       "--protocol", "http/json", "--compression", "zstd"},
      20s);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status.code, 0) << replay->out << replay->err;
  EXPECT_TRUE(contains(replay->out, "replayed 4 of 4 dead letters (17 items)")) << replay->out;
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "hreplay", 15, nullptr, 10s), 15u);
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kLogs, "hreplaylog", 2, nullptr, 10s), 2u);
  (*fwd)->stop();
  (*server)->stop();
}

}  // namespace
}  // namespace otlpd::integration
