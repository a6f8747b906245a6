// OTLP/gRPC against the real binary: the three Export services, partial success, malformed and
// oversized messages, request compression and unknown methods.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "common/strings.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

// Generated code is not held to our warning flags (see src/otlp/proto.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace collector_trace = ::opentelemetry::proto::collector::trace::v1;
namespace collector_metrics = ::opentelemetry::proto::collector::metrics::v1;
namespace collector_logs = ::opentelemetry::proto::collector::logs::v1;

constexpr std::string_view kTraceMethod =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
constexpr std::string_view kMetricsMethod =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
constexpr std::string_view kLogsMethod =
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
constexpr size_t kMaxMessage = 4 * 1024 * 1024;  // max_recv_msg_size_mib of the standard config
constexpr auto kCallTimeout = std::chrono::seconds(10);

std::string describe(const grpc::Status& s) {
  return strCat("code ", static_cast<int>(s.error_code()), ": ", s.error_message());
}

class OtlpGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Dropping the last channel shuts the gRPC library down, and in gRPC 1.51 that sometimes
    // blocks ~10 s waiting on background objects; one reference kept for the life of the test
    // process keeps the library up, and it is never shut down.
    [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
    auto p = OtlpdProcess::start(OtlpdProcess::standardConfig());
    if (!p.ok()) {
      startup_error_ = p.status().ToString();
      return;
    }
    process_ = *std::move(p);
    channel_ = grpc::CreateChannel(process_->grpcEndpoint(), grpc::InsecureChannelCredentials());
  }

  static void TearDownTestSuite() {
    channel_.reset();
    if (process_ == nullptr) return;
    const ExitStatus s = process_->stop();
    EXPECT_TRUE(s.cleanExit()) << "otlpd did not exit cleanly on SIGTERM: " << s.toString()
                               << "\nstderr:\n"
                               << process_->stderrContents();
    process_.reset();
  }

  void SetUp() override { ASSERT_NE(process_, nullptr) << startup_error_; }

  static std::unique_ptr<grpc::ClientContext> context(bool gzip = false) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    if (gzip) ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
    return ctx;
  }

  static grpc::Status exportTraces(const otlp::TracesRequest& req, otlp::TracesResponse* res,
                                   bool gzip = false) {
    auto stub = collector_trace::TraceService::NewStub(channel_);
    return stub->Export(context(gzip).get(), req, res);
  }
  static grpc::Status exportMetrics(const otlp::MetricsRequest& req, otlp::MetricsResponse* res) {
    auto stub = collector_metrics::MetricsService::NewStub(channel_);
    return stub->Export(context().get(), req, res);
  }
  static grpc::Status exportLogs(const otlp::LogsRequest& req, otlp::LogsResponse* res) {
    auto stub = collector_logs::LogsService::NewStub(channel_);
    return stub->Export(context().get(), req, res);
  }

  // Any bytes to any method, which the generated stubs cannot do.
  static grpc::Status rawCall(std::string_view method, const std::string& bytes) {
    grpc::GenericStub stub(channel_);
    auto ctx = context();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(ctx.get(), std::string(method), grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    std::future<grpc::Status> result = done.get_future();
    // The deadline ends the call; this bound only guards against a callback that never comes.
    if (result.wait_for(kCallTimeout + std::chrono::seconds(5)) != std::future_status::ready) {
      ctx->TryCancel();
    }
    return result.get();
  }

  static ReceiverCounters counters(std::string_view transport = "grpc") {
    auto c = readReceiverCounters(*process_, transport);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.value_or(ReceiverCounters{});
  }

  static void expectCounters(const ReceiverCounters& expected) {
    auto c = waitForReceiverCounters(*process_, "grpc", expected);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(*c, expected);
  }

  static inline std::unique_ptr<OtlpdProcess> process_;
  static inline std::shared_ptr<grpc::Channel> channel_;
  static inline std::string startup_error_;
};

TEST_F(OtlpGrpcTest, AllSignalsAcceptedWithExactCountsAndFiles) {
  ReceiverCounters expected = counters();
  const ReceiverCounters http_before = counters("http");

  otlp::TracesResponse traces_response;
  grpc::Status s = exportTraces(makeTraces("grpc-ok", 3), &traces_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_FALSE(traces_response.has_partial_success()) << traces_response.DebugString();

  otlp::MetricsResponse metrics_response;
  s = exportMetrics(makeMetrics("grpc-ok", 4), &metrics_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_FALSE(metrics_response.has_partial_success()) << metrics_response.DebugString();

  otlp::LogsResponse logs_response;
  s = exportLogs(makeLogs("grpc-ok", 5), &logs_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_FALSE(logs_response.has_partial_success()) << logs_response.DebugString();

  expected.accepted_spans += 3;
  expected.accepted_points += 4;
  expected.accepted_logs += 5;
  expectCounters(expected);
  EXPECT_EQ(counters("http"), http_before) << "gRPC traffic was counted as HTTP";

  size_t unparsed = 0;
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-ok", 3, &unparsed), 3u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kMetrics, "grpc-ok", 4, &unparsed), 4u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kLogs, "grpc-ok", 5, &unparsed), 5u);
  EXPECT_EQ(unparsed, 0u) << "an exporter file has lines that are not OTLP/JSON";
}

TEST_F(OtlpGrpcTest, PartialSuccessForEverySignal) {
  ReceiverCounters expected = counters();

  otlp::TracesResponse traces_response;
  grpc::Status s = exportTraces(
      makeTraces("grpc-partial", 2, {BadSpan::kZeroTraceId, BadSpan::kShortParentSpanId}),
      &traces_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_TRUE(traces_response.has_partial_success()) << traces_response.DebugString();
  EXPECT_EQ(traces_response.partial_success().rejected_spans(), 2);
  EXPECT_TRUE(contains(traces_response.partial_success().error_message(), "trace_id"))
      << traces_response.partial_success().error_message();
  EXPECT_TRUE(contains(traces_response.partial_success().error_message(), "parent_span_id"))
      << traces_response.partial_success().error_message();

  otlp::MetricsResponse metrics_response;
  s = exportMetrics(makeMetrics("grpc-partial", 1, 3), &metrics_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_TRUE(metrics_response.has_partial_success()) << metrics_response.DebugString();
  EXPECT_EQ(metrics_response.partial_success().rejected_data_points(), 3);
  EXPECT_FALSE(metrics_response.partial_success().error_message().empty());

  otlp::LogsResponse logs_response;
  s = exportLogs(makeLogs("grpc-partial", 4, 1), &logs_response);
  ASSERT_TRUE(s.ok()) << describe(s);
  ASSERT_TRUE(logs_response.has_partial_success()) << logs_response.DebugString();
  EXPECT_EQ(logs_response.partial_success().rejected_log_records(), 1);
  EXPECT_TRUE(contains(logs_response.partial_success().error_message(), "trace_id"))
      << logs_response.partial_success().error_message();

  expected.accepted_spans += 2;
  expected.invalid_spans += 2;
  expected.refused_spans += 2;
  expected.accepted_points += 2;  // 1 gauge point + the good histogram point
  expected.invalid_points += 3;
  expected.refused_points += 3;
  expected.accepted_logs += 4;
  expected.invalid_logs += 1;
  expected.refused_logs += 1;
  expectCounters(expected);

  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-partial", 2), 2u);
  EXPECT_EQ(taggedSpanNames(process_->readJsonLines("traces.jsonl"), "grpc-partial"),
            (std::vector<std::string>{"grpc-partial-0", "grpc-partial-1"}));
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kMetrics, "grpc-partial", 2), 2u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kLogs, "grpc-partial", 4), 4u);
}

TEST_F(OtlpGrpcTest, GarbageBytesAreInvalidArgument) {
  ReceiverCounters expected = counters();
  // Field 1, length-delimited, claims 16 bytes but 3 follow.
  const std::string garbage(
      "\x0a\x10"
      "abc",
      5);
  for (std::string_view method : {kTraceMethod, kMetricsMethod, kLogsMethod}) {
    SCOPED_TRACE(method);
    grpc::Status s = rawCall(method, garbage);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(s);
    EXPECT_FALSE(s.error_message().empty());
  }
  expected.malformed += 3;
  expectCounters(expected);
}

TEST_F(OtlpGrpcTest, RequestOverTheLimitIsResourceExhausted) {
  otlp::TracesResponse response;
  grpc::Status s = exportTraces(makeLargeTraces("grpc-over-limit", 5 * 1024 * 1024), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << describe(s);

  // Under the limit still goes through, so the limit is not smaller than configured.
  s = exportTraces(makeLargeTraces("grpc-near-limit", kMaxMessage - 64 * 1024), &response);
  EXPECT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-near-limit", 1), 1u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-over-limit", 0), 0u);
}

TEST_F(OtlpGrpcTest, GzipCompressedRequestAccepted) {
  ReceiverCounters expected = counters();
  otlp::TracesResponse response;
  grpc::Status s = exportTraces(makeTraces("grpc-gzip", 7), &response, /*gzip=*/true);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_FALSE(response.has_partial_success()) << response.DebugString();
  expected.accepted_spans += 7;
  expectCounters(expected);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-gzip", 7), 7u);
}

TEST_F(OtlpGrpcTest, GzipRequestOverTheLimitOnceInflatedIsResourceExhausted) {
  // ~5 MiB of one repeated byte is a few KiB on the wire.
  otlp::TracesResponse response;
  grpc::Status s =
      exportTraces(makeLargeTraces("grpc-gzip-bomb", 5 * 1024 * 1024), &response, /*gzip=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << describe(s);
  // Inflated by otlpd itself (libdeflate, bounded), not by gRPC's zlib.
  EXPECT_NE(s.error_message().find("once decompressed"), std::string::npos) << describe(s);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-gzip-bomb", 0), 0u);
}

TEST_F(OtlpGrpcTest, UnknownMethodIsUnimplemented) {
  for (std::string_view method : {"/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
                                  "/otlpd.test.NoSuchService/Export"}) {
    SCOPED_TRACE(method);
    grpc::Status s = rawCall(method, makeTraces("grpc-unknown", 1).SerializeAsString());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << describe(s);
  }
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "grpc-unknown", 0), 0u);
}

}  // namespace
}  // namespace otlpd::integration
