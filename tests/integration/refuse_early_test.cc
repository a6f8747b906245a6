// Refusing before reading, against the real binary: while the only exporter's queue is full (a
// forwarder whose downstream is not up yet), OTLP/HTTP, OTLP/gRPC, Zipkin and Jaeger Thrift/HTTP
// requests are answered "retry later" from their headers alone — the body of an HTTP request is
// never waited for, a gRPC message is never read — and counted; once the queue drains, requests
// are taken again.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <tuple>

#include "common/strings.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace collector_trace = ::opentelemetry::proto::collector::trace::v1;
using namespace std::chrono_literals;

// One request fills the sending queue (queue_size 1, counted until delivered), and its consumer
// keeps retrying while nothing listens at `target`. gRPC messages above 1 MiB are refused if read.
std::string forwarderConfig(const std::string& target) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1 }
      http: { endpoint: "127.0.0.1:0" }
  zipkin: { endpoint: "127.0.0.1:0" }
  jaeger:
    protocols:
      thrift_http: { endpoint: "127.0.0.1:0" }
exporters:
  otlp:
    endpoint: ")",
                target, R"("
    tls: { insecure: true }
    compression: none
    timeout: 2s
    sending_queue: { queue_size: 1, num_consumers: 1 }
    retry_on_failure: { initial_interval: 50ms, max_interval: 100ms, max_elapsed_time: 0s }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp, zipkin, jaeger], exporters: [otlp] }
)");
}

grpc::Status sendTraces(const std::string& endpoint, const otlp::TracesRequest& request) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto stub = collector_trace::TraceService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  otlp::TracesResponse response;
  return stub->Export(&ctx, request, &response);
}

bool hasRetryInfo(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return false;
  for (const auto& detail : rich.details()) {
    if (detail.Is<google::rpc::RetryInfo>()) return true;
  }
  return false;
}

double metric(const OtlpdProcess& p, std::string_view name, const LabelMap& labels) {
  auto v = p.scrapeMetric(name, labels);
  return v.ok() ? *v : -1;
}

LabelMap refusedEarly(std::string_view transport) {
  return {{"receiver", "otlp"}, {"transport", std::string(transport)}, {"reason", "backpressure"}};
}

TEST(RefuseEarly, AFullQueueRefusesBeforeReadingOverHttpAndGrpcUntilItDrains) {
  const std::string target = strCat("127.0.0.1:", freeLoopbackPort());
  auto process = OtlpdProcess::start(forwarderConfig(target));
  ASSERT_TRUE(process.ok()) << process.status();
  const OtlpdProcess& fwd = **process;

  // Taken: the queue holds it, and is full from now on.
  grpc::Status first = sendTraces(fwd.grpcEndpoint(), makeTraces("first", 5));
  ASSERT_TRUE(first.ok()) << first.error_message();

  // HTTP: the headers announce a megabyte and no body byte is ever sent. An answer at all proves
  // the server did not wait for the body (it would until its body deadline, tens of seconds, and
  // then close without one); the connection is closed after it, since the body was not read.
  {
    auto connection = HttpConnection::open(fwd.httpEndpoint(), 30s);
    ASSERT_TRUE(connection.ok()) << connection.status();
    auto result =
        (*connection)
            ->request("POST", "/v1/traces",
                      {{"Content-Type", "application/x-protobuf"}, {"Content-Length", "1000000"}});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->status, 503) << result->body;
    EXPECT_EQ(result->header("retry-after"), "1");
    EXPECT_FALSE(result->keep_alive);
    google::rpc::Status status;
    ASSERT_TRUE(status.ParseFromString(result->body));
    EXPECT_EQ(status.code(), 14);  // UNAVAILABLE
    EXPECT_TRUE(contains(status.message(), "cannot take more")) << status.message();
  }

  // The zipkin and jaeger receivers admit through the same Ingestor: refused from the headers too.
  for (const auto& [key, path, type] :
       {std::tuple<std::string, std::string, std::string>{"zipkin.http", "/api/v2/spans",
                                                          "application/json"},
        {"jaeger.thrift_http", "/api/traces", "application/x-thrift"}}) {
    auto connection = HttpConnection::open(fwd.endpoint(key), 30s);
    ASSERT_TRUE(connection.ok()) << key << ": " << connection.status();
    auto result =
        (*connection)
            ->request("POST", path, {{"Content-Type", type}, {"Content-Length", "1000000"}});
    ASSERT_TRUE(result.ok()) << key << ": " << result.status();
    EXPECT_EQ(result->status, 503) << key << ": " << result->body;
    EXPECT_EQ(result->header("retry-after"), "1") << key;
    EXPECT_FALSE(result->keep_alive) << key;
  }

  // gRPC: a message above max_recv_msg_size would be RESOURCE_EXHAUSTED once read; refused before
  // reading it is UNAVAILABLE with RetryInfo, as any pipeline refusal.
  {
    grpc::Status s = sendTraces(fwd.grpcEndpoint(), makeLargeTraces("big", 2 << 20));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_TRUE(hasRetryInfo(s));
    EXPECT_TRUE(contains(s.error_message(), "cannot take more")) << s.error_message();
  }

  EXPECT_EQ(metric(fwd, "otlpd_receiver_refused_requests_total", refusedEarly("http")), 1);
  EXPECT_EQ(metric(fwd, "otlpd_receiver_refused_requests_total", refusedEarly("grpc")), 1);
  for (const char* receiver : {"zipkin", "jaeger"}) {
    EXPECT_EQ(metric(fwd, "otlpd_receiver_refused_requests_total",
                     {{"receiver", receiver}, {"transport", "http"}, {"reason", "backpressure"}}),
              1)
        << receiver;
  }
  // Neither request reached the pipeline or the decoder.
  EXPECT_EQ(metric(fwd, "otlpd_exporter_enqueue_failed_spans_total", {{"exporter", "otlp"}}), 0);
  EXPECT_EQ(metric(fwd, "otlpd_receiver_malformed_requests_total",
                   {{"receiver", "otlp"}, {"transport", "grpc"}}),
            0);
  EXPECT_EQ(metric(fwd, "otlpd_receiver_malformed_requests_total",
                   {{"receiver", "otlp"}, {"transport", "http"}}),
            0);

  // The downstream comes up: the queue drains and requests are taken again.
  auto down = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", target));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "first", 5, nullptr, 15s), 5u);
  // Each request taken fills the queue until it is delivered, so a refusal may still come
  // between two; retried, every request goes through.
  auto sendUntilTaken = [&](auto send) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (send()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  EXPECT_TRUE(sendUntilTaken(
      [&] { return sendTraces(fwd.grpcEndpoint(), makeTraces("again-grpc", 3)).ok(); }));
  const std::string body = makeTraces("again-http", 4).SerializeAsString();
  EXPECT_TRUE(sendUntilTaken([&] {
    auto r = httpRequest(fwd.httpEndpoint(), "POST", "/v1/traces",
                         {{"Content-Type", "application/x-protobuf"}}, body);
    return r.ok() && r->status == 200;
  }));
  EXPECT_EQ(waitForTaggedItems(**down, SignalFile::kTraces, "again", 7, nullptr, 15s), 7u);
  const ExitStatus forwarder_exit = (*process)->stop();
  EXPECT_TRUE(forwarder_exit.cleanExit()) << forwarder_exit.toString();
  const ExitStatus downstream_exit = (*down)->stop();
  EXPECT_TRUE(downstream_exit.cleanExit()) << downstream_exit.toString();
}

}  // namespace
}  // namespace otlpd::integration
