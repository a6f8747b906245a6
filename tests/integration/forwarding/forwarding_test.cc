// Forwarding between two real otlpd processes: a forwarder (otlp receiver → otlp exporter with the
// exporter helper) and a downstream (otlp receiver → file exporter), or a scripted gRPC server in
// this test binary where the downstream must answer errors on demand.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../otlp_data_support.h"
#include "../otlpd_process_support.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace fs = std::filesystem;
namespace pb_collector_logs = ::opentelemetry::proto::collector::logs::v1;
namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;
using namespace std::chrono_literals;

std::string forwarderConfig(const std::string& target, std::string_view exporter_extra) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
exporters:
  otlp:
    endpoint: ")",
                target, R"("
    tls: { insecure: true }
    compression: none
    timeout: 2s
    dead_letter_queue: { directory: "@DIR@/dlq" }
)",
                exporter_extra, R"(
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
)");
}

grpc::Status sendTraces(const std::string& endpoint, const otlp::TracesRequest& req,
                        std::chrono::seconds deadline = 5s) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto stub = pb_collector_trace::TraceService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  otlp::TracesResponse res;
  return stub->Export(&ctx, req, &res);
}

double metric(const OtlpdProcess& p, std::string_view name, const LabelMap& labels) {
  auto v = p.scrapeMetric(name, labels);
  return v.ok() ? *v : -1;
}

bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

// A trace service that answers from a script (then OK) and notes when each call came.
class ScriptedTraceService final : public pb_collector_trace::TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext*, const otlp::TracesRequest* request,
                      otlp::TracesResponse*) override {
    std::lock_guard lock(mu);
    calls.push_back(std::chrono::steady_clock::now());
    for (const auto& rs : request->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) span_names.push_back(span.name());
      }
    }
    if (script.empty()) return always;
    grpc::Status s = script.front();
    script.pop_front();
    return s;
  }
  size_t callCount() {
    std::lock_guard lock(mu);
    return calls.size();
  }
  void answerAlways(grpc::Status status) {
    std::lock_guard lock(mu);
    always = std::move(status);
  }

  std::mutex mu;
  std::deque<grpc::Status> script;
  grpc::Status always = grpc::Status::OK;
  std::vector<std::chrono::steady_clock::time_point> calls;
  std::vector<std::string> span_names;
};

struct ScriptedServer {
  ScriptedServer() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    server = b.BuildAndStart();
  }
  ~ScriptedServer() { server->Shutdown(std::chrono::system_clock::now() + 1s); }
  std::string endpoint() const { return strCat("127.0.0.1:", port); }
  ScriptedTraceService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

grpc::Status unavailableWithRetryInfo(int seconds) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(seconds);
  google::rpc::Status rich;
  rich.set_code(grpc::StatusCode::UNAVAILABLE);
  rich.set_message("busy");
  rich.add_details()->PackFrom(retry);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy", rich.SerializeAsString());
}

constexpr std::string_view kFastRetry =
    "    retry_on_failure: { initial_interval: 100ms, max_interval: 400ms, max_elapsed_time: 60s }";

TEST(Forwarding, DownstreamDownAtStartGetsEverythingOnceItComesUp) {
  const int port = freeLoopbackPort();
  const std::string target = strCat("127.0.0.1:", port);
  auto fwd = OtlpdProcess::start(forwarderConfig(target, kFastRetry));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 0; i < 20; ++i) {
    grpc::Status s = sendTraces((*fwd)->grpcEndpoint(), makeTraces(strCat("down-", i, "-"), 10));
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", target));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "down", 200, nullptr, 15s), 200u);
  std::this_thread::sleep_for(500ms);  // no late duplicates either
  auto names = taggedSpanNames((*down)->readJsonLines("traces.jsonl"), "down");
  EXPECT_EQ(names.size(), 200u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 200u);
  EXPECT_EQ(metric(**fwd, "otlpd_exporter_sent_spans_total", {{"exporter", "otlp"}}), 200);
}

// Without a sending queue the client's OK waits for the delivery, but no receiver thread does:
// while the exporter retries a downstream that answers UNAVAILABLE, the gRPC receiver serves
// other calls (with one polling thread on 2 cores, it served none until the retries ended).
TEST(Forwarding, WithoutASendingQueueTheOkWaitsForDeliveryAndOtherCallsAreServed) {
  ScriptedServer downstream;
  downstream.service.answerAlways(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not yet"));
  auto fwd = OtlpdProcess::start(strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
exporters:
  nop:
  otlp:
    endpoint: ")",
                                        downstream.endpoint(), R"("
    tls: { insecure: true }
    compression: none
    timeout: 2s
    sending_queue: { enabled: false }
)",
                                        kFastRetry, R"(
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
    logs: { receivers: [otlp], exporters: [nop] }
)"));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  const std::string endpoint = (*fwd)->grpcEndpoint();

  std::atomic<bool> answered{false};
  grpc::Status held_status;
  std::thread held_client([&] {
    held_status = sendTraces(endpoint, makeTraces("held", 5), 30s);
    answered = true;
  });
  ASSERT_TRUE(waitUntil([&] { return downstream.service.callCount() >= 2; }, 10s))
      << "the exporter retries the downstream";

  auto logs_stub = pb_collector_logs::LogsService::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  grpc::ClientContext logs_ctx;
  logs_ctx.set_deadline(std::chrono::system_clock::now() + 3s);
  otlp::LogsResponse logs_res;
  const grpc::Status logs_status = logs_stub->Export(&logs_ctx, makeLogs("beside", 3), &logs_res);
  EXPECT_TRUE(logs_status.ok()) << "a call beside the held one: " << logs_status.error_code() << " "
                                << logs_status.error_message();
  EXPECT_FALSE(answered) << "answered before the downstream took the request";

  downstream.service.answerAlways(grpc::Status::OK);
  held_client.join();
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  // Every attempt carried the request (the service notes the spans of failed calls too); the
  // last one, answered OK, is the delivery the client's OK waited for.
  std::lock_guard lock(downstream.service.mu);
  EXPECT_GE(downstream.service.calls.size(), 3u);
  EXPECT_EQ(downstream.service.span_names.size(), 5 * downstream.service.calls.size());
  for (const std::string& name : downstream.service.span_names) {
    EXPECT_TRUE(contains(name, "held")) << name;
  }
}

// SIGTERM while a client's OK is held for a destination that is down (a full sending queue that
// blocks on overflow, or no sending queue): the receiver answers it UNAVAILABLE after its grace
// period instead of waiting for the exporter, which lets go only once it is shut down itself.
// Before, otlpd waited for the retries to give up (max_elapsed_time, minutes), or for SIGKILL.
TEST(Forwarding, ShutdownAnswersHeldRequestsRetryablyInsteadOfWaitingForTheDestination) {
  for (const std::string_view queue :
       {"sending_queue: { queue_size: 1, num_consumers: 1, block_on_overflow: true }",
        "sending_queue: { enabled: false }"}) {
    SCOPED_TRACE(queue);
    ScriptedServer downstream;
    downstream.service.answerAlways(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
    auto fwd = OtlpdProcess::start(forwarderConfig(
        downstream.endpoint(),
        strCat("    ", queue, "\n",
               "    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, "
               "max_elapsed_time: 300s }")));
    ASSERT_TRUE(fwd.ok()) << fwd.status();
    const std::string endpoint = (*fwd)->grpcEndpoint();
    if (contains(queue, "block_on_overflow")) {
      // Fills the queue (acknowledged at once); the next request's OK is held.
      ASSERT_TRUE(sendTraces(endpoint, makeTraces("queued", 2)).ok());
    }
    grpc::Status held_status;
    std::thread held_client(
        [&] { held_status = sendTraces(endpoint, makeTraces("held", 2), 60s); });
    ASSERT_TRUE(waitUntil([&] { return downstream.service.callCount() >= 3; }, 10s))
        << "the exporter retries the destination";
    std::this_thread::sleep_for(200ms);  // the held request is in
    const auto before = std::chrono::steady_clock::now();
    const ExitStatus exit = (*fwd)->stop(30s);
    const auto took = std::chrono::steady_clock::now() - before;
    held_client.join();
    EXPECT_TRUE(exit.cleanExit()) << exit.toString();
    // The receiver's grace period is 5 s, the exporter's drain 2 s (its timeout).
    EXPECT_LT(took, 15s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms";
    EXPECT_EQ(held_status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << held_status.error_message();
  }
}

// The exporter compresses with libdeflate and hands gRPC the message already compressed; gRPC's
// own zlib on the other side (a plain gRPC C++ server) must read it, and so must otlpd's receiver,
// which inflates compressed messages itself (issue #18).
std::string withCompression(std::string config, std::string_view codec = "gzip") {
  const std::string none = "compression: none";
  config.replace(config.find(none), none.size(), strCat("compression: ", codec));
  return config;
}

TEST(Forwarding, GzipForwardingIsReadByGrpcAndByOtlpd) {
  ScriptedServer plain_grpc;
  auto to_grpc =
      OtlpdProcess::start(withCompression(forwarderConfig(plain_grpc.endpoint(), kFastRetry)));
  ASSERT_TRUE(to_grpc.ok()) << to_grpc.status();
  ASSERT_TRUE(sendTraces((*to_grpc)->grpcEndpoint(), makeTraces("gz-grpc-", 25)).ok());
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard lock(plain_grpc.service.mu);
        return plain_grpc.service.span_names.size() >= 25;
      },
      10s));
  {
    std::lock_guard lock(plain_grpc.service.mu);
    EXPECT_EQ(plain_grpc.service.span_names.size(), 25u);
    EXPECT_EQ(plain_grpc.service.span_names.front().rfind("gz-grpc-", 0), 0u);
  }

  const int port = freeLoopbackPort();
  const std::string target = strCat("127.0.0.1:", port);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", target));
  ASSERT_TRUE(down.ok()) << down.status();
  auto to_otlpd = OtlpdProcess::start(withCompression(forwarderConfig(target, kFastRetry)));
  ASSERT_TRUE(to_otlpd.ok()) << to_otlpd.status();
  ASSERT_TRUE(sendTraces((*to_otlpd)->grpcEndpoint(), makeTraces("gz-otlpd-", 30)).ok());
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "gz-otlpd", 30, nullptr, 10s), 30u);
  EXPECT_EQ(metric(**to_otlpd, "otlpd_exporter_sent_spans_total", {{"exporter", "otlp"}}), 30);
}

// gRPC's "deflate" is the zlib format; both gRPC C++ and otlpd read what the exporter sends.
TEST(Forwarding, DeflateForwardingIsReadByGrpcAndByOtlpd) {
  ScriptedServer plain_grpc;
  auto to_grpc = OtlpdProcess::start(
      withCompression(forwarderConfig(plain_grpc.endpoint(), kFastRetry), "deflate"));
  ASSERT_TRUE(to_grpc.ok()) << to_grpc.status();
  ASSERT_TRUE(sendTraces((*to_grpc)->grpcEndpoint(), makeTraces("df-grpc-", 12)).ok());
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard lock(plain_grpc.service.mu);
        return plain_grpc.service.span_names.size() >= 12;
      },
      10s));

  const int port = freeLoopbackPort();
  const std::string target = strCat("127.0.0.1:", port);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", target));
  ASSERT_TRUE(down.ok()) << down.status();
  auto to_otlpd =
      OtlpdProcess::start(withCompression(forwarderConfig(target, kFastRetry), "deflate"));
  ASSERT_TRUE(to_otlpd.ok()) << to_otlpd.status();
  ASSERT_TRUE(sendTraces((*to_otlpd)->grpcEndpoint(), makeTraces("df-otlpd-", 14)).ok());
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "df-otlpd", 14, nullptr, 10s), 14u);
}

TEST(Forwarding, UnavailableWithRetryInfoWaitsAsToldAndInvalidArgumentGoesToTheDlq) {
  ScriptedServer server;
  server.service.script = {unavailableWithRetryInfo(1), grpc::Status::OK,
                           grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad data")};
  auto fwd = OtlpdProcess::start(forwarderConfig(
      server.endpoint(), strCat(kFastRetry, "\n    sending_queue: { num_consumers: 1 }")));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  ASSERT_TRUE(sendTraces((*fwd)->grpcEndpoint(), makeTraces("throttled", 3)).ok());
  ASSERT_TRUE(waitUntil([&] { return server.service.callCount() >= 2; }, 10s));
  {
    std::lock_guard lock(server.service.mu);
    const auto waited = server.service.calls[1] - server.service.calls[0];
    EXPECT_GE(waited, 900ms);  // RetryInfo said 1s, not our 100ms
    EXPECT_LE(waited, 3000ms);
  }
  ASSERT_TRUE(sendTraces((*fwd)->grpcEndpoint(), makeTraces("refused", 4)).ok());
  EXPECT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_spans_total",
                                {{"exporter", "otlp"}, {"reason", "permanent"}}, 4, 10s)
                .value_or(-1),
            4);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(server.service.callCount(), 3u);  // the refused request was not retried
  auto ls = runOtlpd({"dlq", "ls", (*fwd)->path("dlq")});
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->status.code, 0) << ls->err;
  EXPECT_TRUE(contains(ls->out, "1 dead letters, 4 items")) << ls->out;
  EXPECT_TRUE(contains(ls->out, "permanent error")) << ls->out;
}

TEST(Forwarding, CircuitBreakerOpensThenHalfOpensAsConfigured) {
  ScriptedServer server;
  server.service.always = grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
  auto fwd = OtlpdProcess::start(forwarderConfig(
      server.endpoint(),
      strCat(kFastRetry,
             "\n    sending_queue: { num_consumers: 1 }"
             "\n    circuit_breaker: { consecutive_failures: 3, open_duration: 700ms }")));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  const LabelMap labels = {{"exporter", "otlp"}, {"signal", "traces"}};
  EXPECT_EQ(metric(**fwd, "otlpd_exporter_circuit_breaker_state", labels), 0);
  ASSERT_TRUE(sendTraces((*fwd)->grpcEndpoint(), makeTraces("breaker", 1)).ok());
  EXPECT_EQ(
      (*fwd)->waitForMetric("otlpd_exporter_circuit_breaker_state", labels, 1, 5s).value_or(-1), 1);
  const size_t calls_when_open = server.service.callCount();
  EXPECT_EQ(calls_when_open, 3u);
  // While open nothing is sent; after the cool-down one probe goes, fails, and it opens again.
  LabelMap half = labels;
  half["state"] = "half_open";
  EXPECT_GE((*fwd)
                ->waitForMetric("otlpd_exporter_circuit_breaker_transitions_total", half, 1, 5s)
                .value_or(-1),
            1);
  // The downstream recovers: the next probe closes the breaker and the span is delivered.
  {
    std::lock_guard lock(server.service.mu);
    server.service.always = grpc::Status::OK;
  }
  EXPECT_EQ(
      (*fwd)->waitForMetric("otlpd_exporter_circuit_breaker_state", labels, 0, 5s).value_or(-1), 0);
  EXPECT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_sent_spans_total", {{"exporter", "otlp"}}, 1, 5s)
                .value_or(-1),
            1);
}

TEST(Forwarding, KilledForwarderWithPersistentQueueLosesNothingItAcknowledged) {
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  char tmpl[] = "/tmp/otlpd-crash-XXXXXX";
  const std::string queue_dir = ::mkdtemp(tmpl);
  const std::string cfg = forwarderConfig(
      (*down)->grpcEndpoint(), strCat(kFastRetry, "\n    sending_queue: { storage: \"", queue_dir,
                                      "\", num_consumers: 4, queue_size: 100000 }"));
  std::set<std::string> acknowledged;
  int seq = 0;
  for (int round = 0; round < 4; ++round) {
    auto fwd = OtlpdProcess::start(cfg);
    ASSERT_TRUE(fwd.ok()) << fwd.status();
    const std::string endpoint = (*fwd)->grpcEndpoint();
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      while (!stop) {
        const std::string tag = strCat("crash-", seq++, "-");
        if (sendTraces(endpoint, makeTraces(tag, 5)).ok()) {
          for (int i = 0; i < 5; ++i) acknowledged.insert(strCat(tag, "-", i));
        }
      }
    });
    std::this_thread::sleep_for(600ms);
    if (round < 3) {
      ASSERT_EQ(::kill((*fwd)->pid(), SIGKILL), 0);  // mid-stream, no goodbye
      std::this_thread::sleep_for(100ms);
      stop = true;
      sender.join();
    } else {
      stop = true;
      sender.join();
      // The last run drains the backlog of the killed ones.
      EXPECT_TRUE(waitUntil(
          [&] {
            auto names = taggedSpanNames((*down)->readJsonLines("traces.jsonl"), "crash");
            std::set<std::string> got(names.begin(), names.end());
            return std::includes(got.begin(), got.end(), acknowledged.begin(), acknowledged.end());
          },
          30s));
    }
  }
  auto names = taggedSpanNames((*down)->readJsonLines("traces.jsonl"), "crash");
  std::set<std::string> delivered(names.begin(), names.end());
  size_t lost = 0;
  for (const std::string& n : acknowledged) lost += delivered.count(n) == 0 ? 1 : 0;
  const size_t duplicates = names.size() - delivered.size();
  std::cout << "crash test: " << acknowledged.size() << " spans acknowledged, " << names.size()
            << " received, " << duplicates << " duplicates, " << lost << " lost\n";
  EXPECT_GT(acknowledged.size(), 100u);
  EXPECT_EQ(lost, 0u);
  for (const std::string& n : acknowledged) {
    if (delivered.count(n) == 0) {
      std::cout << "lost: " << n << "\n";
      break;
    }
  }
  fs::remove_all(queue_dir);
}

TEST(Forwarding, DlqReplayDeliversEverythingAndEmptiesTheQueue) {
  ScriptedServer refusing;
  refusing.service.always = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "schema mismatch");
  auto fwd = OtlpdProcess::start(forwarderConfig(refusing.endpoint(), kFastRetry));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(sendTraces((*fwd)->grpcEndpoint(), makeTraces(strCat("replay-", i, "-"), 5)).ok());
  }
  ASSERT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_spans_total",
                                {{"exporter", "otlp"}, {"reason", "permanent"}}, 30, 10s)
                .value_or(-1),
            30);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  auto replay =
      runOtlpd({"dlq", "replay", (*fwd)->path("dlq"), "--to", (*down)->grpcEndpoint()}, 30s);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status.code, 0) << replay->out << replay->err;
  EXPECT_TRUE(contains(replay->out, "replayed 6 of 6 dead letters (30 items)")) << replay->out;
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "replay", 30, nullptr, 10s), 30u);
  auto ls = runOtlpd({"dlq", "ls", (*fwd)->path("dlq")});
  ASSERT_TRUE(ls.ok());
  EXPECT_TRUE(contains(ls->out, "0 dead letters")) << ls->out;
}

// With the SDKs' OTLP endpoint variable set, a replay is traced: a `dlq replay` span and, as its
// child, a client span per send, exported to that endpoint.
TEST(Forwarding, DlqReplayIsTracedWhenAnOtlpEndpointIsSet) {
  ScriptedServer refusing;
  refusing.service.always = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "schema mismatch");
  auto fwd = OtlpdProcess::start(forwarderConfig(refusing.endpoint(), kFastRetry));
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  ASSERT_TRUE(sendTraces((*fwd)->grpcEndpoint(), makeTraces("traced-replay-", 2)).ok());
  ASSERT_EQ((*fwd)
                ->waitForMetric("otlpd_exporter_dead_letter_spans_total",
                                {{"exporter", "otlp"}, {"reason", "permanent"}}, 2, 10s)
                .value_or(-1),
            2);
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfig());
  ASSERT_TRUE(down.ok()) << down.status();
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", strCat("http://", (*down)->httpEndpoint()).c_str(), 1);
  auto replay =
      runOtlpd({"dlq", "replay", (*fwd)->path("dlq"), "--to", (*down)->grpcEndpoint()}, 30s);
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status.code, 0) << replay->out << replay->err;
  // The tracer exports before the command exits: the spans are there once B wrote them.
  std::string replay_span_id, export_parent_id;
  EXPECT_TRUE(waitUntil(
      [&] {
        for (const std::string& line : (*down)->readJsonLines("traces.jsonl")) {
          otlp::TracesRequest request;
          if (!otlp::parseOtlpJson(line, request).ok()) continue;
          for (const auto& rs : request.resource_spans()) {
            for (const auto& ss : rs.scope_spans()) {
              for (const auto& span : ss.spans()) {
                if (span.name() == "dlq replay") replay_span_id = span.span_id();
                if (span.name() == "export traces") export_parent_id = span.parent_span_id();
              }
            }
          }
        }
        return !replay_span_id.empty() && !export_parent_id.empty();
      },
      10s));
  EXPECT_EQ(export_parent_id, replay_span_id);
}

}  // namespace
}  // namespace otlpd::integration
