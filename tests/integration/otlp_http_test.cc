// OTLP/HTTP against the real binary: encodings, compression, limits, partial success, error
// bodies, keep-alive, CORS and the self-metrics that must account for all of it.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/compression.h"
#include "common/strings.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

using common::Compression;

constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";
constexpr size_t kBodyLimit = 4 * 1024 * 1024;  // max_request_body_size of the standard config
constexpr std::string_view kAllowedOrigin = "http://example.test";

std::string mediaType(const HttpResult& res) {
  std::string ct = res.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  absl::StripAsciiWhitespace(&ct);
  absl::AsciiStrToLower(&ct);
  return ct;
}

std::string encode(const google::protobuf::Message& m, std::string_view content_type) {
  return content_type == kJson ? otlp::toOtlpJson(m) : m.SerializeAsString();
}

// Decodes an Export*ServiceResponse in whichever encoding the response says it has.
::testing::AssertionResult decodeResponse(const HttpResult& res, google::protobuf::Message& out) {
  const std::string media = mediaType(res);
  if (media == kProtobuf) {
    if (out.ParseFromString(res.body)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "response body is not a protobuf " << out.GetTypeName();
  }
  if (media == kJson) {
    absl::Status s = otlp::parseOtlpJson(res.body, out);
    if (s.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "response body is not OTLP/JSON " << out.GetTypeName() << ": " << s << "\n"
           << res.body;
  }
  return ::testing::AssertionFailure()
         << "unexpected Content-Type '" << res.header("content-type") << "'";
}

// Error bodies are google.rpc.Status: protobuf, or proto3 JSON (which OTLP/JSON agrees with for
// this message).
::testing::AssertionResult decodeStatus(const HttpResult& res, std::string_view expected_media,
                                        google::rpc::Status& status) {
  const std::string media = mediaType(res);
  if (media != expected_media) {
    return ::testing::AssertionFailure()
           << "error body has Content-Type '" << res.header("content-type") << "', expected "
           << expected_media << "; body: " << res.body;
  }
  if (media == kProtobuf) {
    if (status.ParseFromString(res.body)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "error body is not a protobuf google.rpc.Status";
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto s = google::protobuf::util::JsonStringToMessage(res.body, &status, options);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "error body is not a JSON google.rpc.Status: " << s.ToString() << "\n"
         << res.body;
}

// 64 MiB of zeros gzipped is ~64 KiB on the wire, and sixteen times the body limit once inflated.
const std::string& gzipBomb() {
  static const std::string* bomb = [] {
    auto compressed = common::compress(Compression::kGzip, std::string(64u << 20, '\0'));
    return new std::string(compressed.ok() ? *compressed : std::string());
  }();
  return *bomb;
}

class OtlpHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { startProcess(OtlpdProcess::standardConfig()); }

  static void TearDownTestSuite() {
    if (process_ == nullptr) return;
    const ExitStatus s = process_->stop();
    EXPECT_TRUE(s.cleanExit()) << "otlpd did not exit cleanly on SIGTERM: " << s.toString()
                               << "\nstderr:\n"
                               << process_->stderrContents();
    process_.reset();
  }

  void SetUp() override { ASSERT_NE(process_, nullptr) << startup_error_; }

  static void startProcess(std::string_view config) {
    startup_error_.clear();
    auto p = OtlpdProcess::start(config);
    if (p.ok()) {
      process_ = *std::move(p);
    } else {
      startup_error_ = p.status().ToString();
    }
  }

  static absl::StatusOr<HttpResult> post(std::string_view path, std::string_view content_type,
                                         std::string body, HeaderList headers = {}) {
    headers.emplace_back("Content-Type", std::string(content_type));
    return httpRequest(process_->httpEndpoint(), "POST", path, headers, std::move(body));
  }

  static ReceiverCounters counters() {
    auto c = readReceiverCounters(*process_, "http");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.value_or(ReceiverCounters{});
  }

  static void expectCounters(const ReceiverCounters& expected) {
    auto c = waitForReceiverCounters(*process_, "http", expected);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(*c, expected);
  }

  static inline std::unique_ptr<OtlpdProcess> process_;
  static inline std::string startup_error_;
};

TEST_F(OtlpHttpTest, ProtobufTracesAcceptedWithProtobufResponse) {
  ReceiverCounters expected = counters();
  auto res = post("/v1/traces", kProtobuf, makeTraces("http-pb-traces", 3).SerializeAsString());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(mediaType(*res), kProtobuf);
  otlp::TracesResponse response;
  ASSERT_TRUE(decodeResponse(*res, response));
  EXPECT_FALSE(response.has_partial_success()) << response.DebugString();

  expected.accepted_spans += 3;
  expectCounters(expected);
  size_t unparsed = 0;
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-pb-traces", 3, &unparsed), 3u);
  EXPECT_EQ(unparsed, 0u) << "traces.jsonl has lines that are not OTLP/JSON";
}

TEST_F(OtlpHttpTest, JsonTracesAcceptedWithJsonResponse) {
  ReceiverCounters expected = counters();
  auto res = post("/v1/traces", kJson, otlp::toOtlpJson(makeTraces("http-json-traces", 4)));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(mediaType(*res), kJson);
  std::string body = res->body;
  absl::StripAsciiWhitespace(&body);
  EXPECT_EQ(body, "{}") << "a fully accepted request has no partialSuccess";
  otlp::TracesResponse response;
  EXPECT_TRUE(decodeResponse(*res, response));

  expected.accepted_spans += 4;
  expectCounters(expected);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-json-traces", 4), 4u);
}

TEST_F(OtlpHttpTest, MetricsAndLogsAcceptedInBothEncodings) {
  ReceiverCounters expected = counters();
  for (std::string_view ct : {kProtobuf, kJson}) {
    SCOPED_TRACE(ct);
    const std::string tag = strCat("http-ok-", ct == kJson ? "json" : "pb");

    auto res = post("/v1/metrics", ct, encode(makeMetrics(tag, 5), ct));
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(mediaType(*res), ct);
    otlp::MetricsResponse metrics_response;
    ASSERT_TRUE(decodeResponse(*res, metrics_response));
    EXPECT_FALSE(metrics_response.has_partial_success()) << metrics_response.DebugString();

    res = post("/v1/logs", ct, encode(makeLogs(tag, 6), ct));
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(mediaType(*res), ct);
    otlp::LogsResponse logs_response;
    ASSERT_TRUE(decodeResponse(*res, logs_response));
    EXPECT_FALSE(logs_response.has_partial_success()) << logs_response.DebugString();

    EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kMetrics, tag, 5), 5u);
    EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kLogs, tag, 6), 6u);
  }
  expected.accepted_points += 10;
  expected.accepted_logs += 12;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, TracesPartialSuccessNamesEachProblem) {
  struct Case {
    BadSpan kind;
    std::string_view named;  // what the error message must mention
  };
  const Case cases[] = {{BadSpan::kZeroTraceId, "trace_id"},
                        {BadSpan::kShortSpanId, "span_id"},
                        {BadSpan::kShortParentSpanId, "parent_span_id"},
                        {BadSpan::kEndBeforeStart, "end"}};
  ReceiverCounters expected = counters();
  for (size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(cases[i].named);
    const std::string tag = strCat("http-partial-", i);
    auto res =
        post("/v1/traces", kProtobuf, makeTraces(tag, 2, {cases[i].kind}).SerializeAsString());
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200) << res->body;
    otlp::TracesResponse response;
    ASSERT_TRUE(decodeResponse(*res, response));
    ASSERT_TRUE(response.has_partial_success()) << response.DebugString();
    EXPECT_EQ(response.partial_success().rejected_spans(), 1);
    EXPECT_TRUE(contains(response.partial_success().error_message(), cases[i].named))
        << response.partial_success().error_message();
    // Only the good spans reach the exporter.
    ASSERT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, tag, 2), 2u);
    EXPECT_EQ(taggedSpanNames(process_->readJsonLines("traces.jsonl"), tag),
              (std::vector<std::string>{tag + "-0", tag + "-1"}));
  }

  // Every defect at once, over JSON.
  auto res =
      post("/v1/traces", kJson,
           otlp::toOtlpJson(makeTraces("http-partial-all", 3,
                                       {BadSpan::kZeroTraceId, BadSpan::kShortSpanId,
                                        BadSpan::kShortParentSpanId, BadSpan::kEndBeforeStart})));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(mediaType(*res), kJson);
  otlp::TracesResponse response;
  ASSERT_TRUE(decodeResponse(*res, response));
  EXPECT_EQ(response.partial_success().rejected_spans(), 4) << res->body;
  EXPECT_FALSE(response.partial_success().error_message().empty());
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-partial-all", 3), 3u);

  expected.accepted_spans += 4 * 2 + 3;
  expected.invalid_spans += 4 + 4;
  expected.refused_spans += 4 + 4;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, MetricsPartialSuccessForBadHistogram) {
  ReceiverCounters expected = counters();
  // 2 gauge points, 1 good histogram point, 2 histogram points with too few buckets.
  auto res =
      post("/v1/metrics", kProtobuf, makeMetrics("http-partial-metrics", 2, 2).SerializeAsString());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  otlp::MetricsResponse response;
  ASSERT_TRUE(decodeResponse(*res, response));
  ASSERT_TRUE(response.has_partial_success()) << response.DebugString();
  EXPECT_EQ(response.partial_success().rejected_data_points(), 2);
  EXPECT_TRUE(contains(response.partial_success().error_message(), "bucket_counts"))
      << response.partial_success().error_message();
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kMetrics, "http-partial-metrics", 3), 3u);

  expected.accepted_points += 3;
  expected.invalid_points += 2;
  expected.refused_points += 2;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, LogsPartialSuccessForBadTraceId) {
  ReceiverCounters expected = counters();
  auto res = post("/v1/logs", kJson, otlp::toOtlpJson(makeLogs("http-partial-logs", 3, 2)));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(mediaType(*res), kJson);
  otlp::LogsResponse response;
  ASSERT_TRUE(decodeResponse(*res, response));
  ASSERT_TRUE(response.has_partial_success()) << res->body;
  EXPECT_EQ(response.partial_success().rejected_log_records(), 2);
  EXPECT_TRUE(contains(response.partial_success().error_message(), "trace_id"))
      << response.partial_success().error_message();
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kLogs, "http-partial-logs", 3), 3u);

  expected.accepted_logs += 3;
  expected.invalid_logs += 2;
  expected.refused_logs += 2;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, MalformedProtobufIs400WithProtobufStatus) {
  ReceiverCounters expected = counters();
  // Field 1, length-delimited, claims 16 bytes but 3 follow.
  const std::string garbage(
      "\x0a\x10"
      "abc",
      5);
  for (std::string_view path : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
    SCOPED_TRACE(path);
    auto res = post(path, kProtobuf, garbage);
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 400) << res->body;
    google::rpc::Status status;
    ASSERT_TRUE(decodeStatus(*res, kProtobuf, status));
    EXPECT_NE(status.code(), 0);
    EXPECT_FALSE(status.message().empty());
  }
  expected.malformed += 3;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, MalformedJsonIs400WithJsonStatus) {
  ReceiverCounters expected = counters();
  for (std::string_view body : {std::string_view(R"({"resourceSpans": [)"),
                                std::string_view("[1, 2, 3]"), std::string_view("not json")}) {
    SCOPED_TRACE(body);
    auto res = post("/v1/traces", kJson, std::string(body));
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 400) << res->body;
    google::rpc::Status status;
    ASSERT_TRUE(decodeStatus(*res, kJson, status));
    EXPECT_NE(status.code(), 0);
    EXPECT_FALSE(status.message().empty()) << res->body;
  }
  expected.malformed += 3;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, BodyOverLimitIs413) {
  ReceiverCounters expected = counters();
  // Just under the limit is served: the limit is not smaller than configured.
  auto res = post("/v1/traces", kProtobuf,
                  makeLargeTraces("http-near-limit", kBodyLimit - 64 * 1024).SerializeAsString());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body.substr(0, 500);
  expected.accepted_spans += 1;

  res = post("/v1/traces", kProtobuf,
             makeLargeTraces("http-over-limit", kBodyLimit + 1).SerializeAsString());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 413) << res->body.substr(0, 500);
  google::rpc::Status status;
  EXPECT_TRUE(decodeStatus(*res, kProtobuf, status));
  expected.malformed += 1;
  expectCounters(expected);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-over-limit", 0), 0u);
}

TEST_F(OtlpHttpTest, GzipBombIs413) {
  ASSERT_FALSE(gzipBomb().empty());
  ASSERT_LT(gzipBomb().size(), kBodyLimit) << "the compressed body itself must be under the limit";
  ReceiverCounters expected = counters();
  auto res = post("/v1/traces", kProtobuf, gzipBomb(), {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 413) << res->body;
  google::rpc::Status status;
  EXPECT_TRUE(decodeStatus(*res, kProtobuf, status));
  expected.malformed += 1;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, UnsupportedContentTypeIs415WithJsonStatus) {
  ReceiverCounters expected = counters();
  auto res = post("/v1/traces", "text/plain", makeTraces("http-text-plain", 1).SerializeAsString());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 415) << res->body;
  google::rpc::Status status;
  EXPECT_TRUE(decodeStatus(*res, kJson, status));
  EXPECT_FALSE(status.message().empty());
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-text-plain", 0), 0u);
  expected.malformed += 1;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, UnknownContentEncodingIs415) {
  ReceiverCounters expected = counters();
  auto res = post("/v1/traces", kProtobuf, makeTraces("http-brotli", 1).SerializeAsString(),
                  {{"Content-Encoding", "br"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 415) << res->body;
  google::rpc::Status status;
  EXPECT_TRUE(decodeStatus(*res, kProtobuf, status));
  expected.malformed += 1;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, OtherMethodsAre405WithAllowPost) {
  for (std::string_view path : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
    for (std::string_view method : {"GET", "PUT", "DELETE", "PATCH"}) {
      SCOPED_TRACE(strCat(method, " ", path));
      auto res = httpRequest(process_->httpEndpoint(), method, path);
      ASSERT_TRUE(res.ok()) << res.status();
      EXPECT_EQ(res->status, 405) << res->body;
      EXPECT_TRUE(contains(res->header("allow"), "POST"))
          << "Allow: '" << res->header("allow") << "'";
    }
  }
}

TEST_F(OtlpHttpTest, UnknownPathsAre404) {
  for (std::string_view path : {"/", "/v1/trace", "/v1/traces/extra", "/v2/logs"}) {
    SCOPED_TRACE(path);
    auto res = post(path, kProtobuf, makeTraces("http-404", 1).SerializeAsString());
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 404) << res->body;
  }
  auto res = httpRequest(process_->httpEndpoint(), "GET", "/nothing-here");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 404) << res->body;
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-404", 0), 0u);
}

TEST_F(OtlpHttpTest, CompressedBodiesAccepted) {
  struct Case {
    Compression compression;
    std::string_view header;
    std::string_view content_type;
    size_t spans;
  };
  const Case cases[] = {{Compression::kGzip, "gzip", kProtobuf, 2},
                        {Compression::kZstd, "zstd", kProtobuf, 3},
                        {Compression::kDeflate, "deflate", kProtobuf, 4},
                        {Compression::kGzip, "gzip", kJson, 5},
                        {Compression::kZstd, "zstd", kJson, 6}};
  ReceiverCounters expected = counters();
  for (const Case& c : cases) {
    const std::string tag = strCat("http-", c.header, "-", c.content_type == kJson ? "json" : "pb");
    SCOPED_TRACE(tag);
    auto body = common::compress(c.compression, encode(makeTraces(tag, c.spans), c.content_type));
    ASSERT_TRUE(body.ok()) << body.status();
    auto res =
        post("/v1/traces", c.content_type, *body, {{"Content-Encoding", std::string(c.header)}});
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(mediaType(*res), c.content_type);
    otlp::TracesResponse response;
    ASSERT_TRUE(decodeResponse(*res, response));
    EXPECT_FALSE(response.has_partial_success()) << response.DebugString();
    EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, tag, c.spans), c.spans);
    expected.accepted_spans += static_cast<double>(c.spans);
  }
  // Compressed metrics and logs too.
  auto metrics =
      common::compress(Compression::kGzip, makeMetrics("http-gz-metrics", 3).SerializeAsString());
  ASSERT_TRUE(metrics.ok());
  auto res = post("/v1/metrics", kProtobuf, *metrics, {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  auto logs =
      common::compress(Compression::kDeflate, makeLogs("http-deflate-logs", 2).SerializeAsString());
  ASSERT_TRUE(logs.ok());
  res = post("/v1/logs", kProtobuf, *logs, {{"Content-Encoding", "deflate"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  expected.accepted_points += 3;
  expected.accepted_logs += 2;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto conn = HttpConnection::open(process_->httpEndpoint());
  ASSERT_TRUE(conn.ok()) << conn.status();
  ReceiverCounters expected = counters();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    const std::string tag = strCat("http-keepalive-", round);
    struct Request {
      std::string_view path;
      std::string_view content_type;
      std::string body;
    };
    const Request requests[] = {
        {"/v1/traces", kProtobuf, makeTraces(tag, 1).SerializeAsString()},
        {"/v1/metrics", kJson, otlp::toOtlpJson(makeMetrics(tag, 2))},
        {"/v1/logs", kProtobuf, makeLogs(tag, 3).SerializeAsString()},
    };
    for (const Request& r : requests) {
      auto res =
          (*conn)->request("POST", r.path, {{"Content-Type", std::string(r.content_type)}}, r.body);
      ASSERT_TRUE(res.ok()) << r.path << ": " << res.status();
      EXPECT_EQ(res->status, 200) << r.path << ": " << res->body;
      EXPECT_TRUE(res->keep_alive) << r.path << ": the server closed the connection";
    }
  }
  expected.accepted_spans += 3;
  expected.accepted_points += 6;
  expected.accepted_logs += 9;
  expectCounters(expected);
}

TEST_F(OtlpHttpTest, NoCorsHeadersWithoutAllowedOrigins) {
  auto res = httpRequest(
      process_->httpEndpoint(), "OPTIONS", "/v1/traces",
      {{"Origin", std::string(kAllowedOrigin)}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_FALSE(res->hasHeader("access-control-allow-origin"))
      << "CORS is not configured, yet the preflight allowed "
      << res->header("access-control-allow-origin");
}

TEST_F(OtlpHttpTest, HealthCheckIsOk) {
  auto res = httpRequest(process_->healthEndpoint(), "GET", "/");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(OtlpHttpTest, SelfMetricsCountEveryOutcomeExactly) {
  const ReceiverCounters before = counters();
  auto grpc_before = readReceiverCounters(*process_, "grpc");
  ASSERT_TRUE(grpc_before.ok()) << grpc_before.status();

  auto expect_status = [](const absl::StatusOr<HttpResult>& res, int status) {
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, status) << res->body.substr(0, 300);
  };
  // Accepted: 3 + 3 spans, 4 points, 5 log records.
  expect_status(post("/v1/traces", kProtobuf, makeTraces("http-count-a", 3).SerializeAsString()),
                200);
  expect_status(post("/v1/traces", kJson, otlp::toOtlpJson(makeTraces("http-count-b", 3))), 200);
  expect_status(post("/v1/metrics", kProtobuf, makeMetrics("http-count", 4).SerializeAsString()),
                200);
  expect_status(post("/v1/logs", kProtobuf, makeLogs("http-count", 5).SerializeAsString()), 200);
  // Partial: 1 of 3 spans, 1 + 1 histogram points of 4 (2 gauge + 2 histogram), 2 of 4 logs.
  expect_status(post("/v1/traces", kProtobuf,
                     makeTraces("http-count-c", 2, {BadSpan::kEndBeforeStart}).SerializeAsString()),
                200);
  expect_status(
      post("/v1/metrics", kProtobuf, makeMetrics("http-count-p", 2, 1).SerializeAsString()), 200);
  expect_status(post("/v1/logs", kProtobuf, makeLogs("http-count-p", 2, 2).SerializeAsString()),
                200);
  // Malformed: bad protobuf, bad JSON, over the limit, gzip bomb, unknown encoding.
  expect_status(post("/v1/traces", kProtobuf,
                     std::string("\x0a\x10"
                                 "abc",
                                 5)),
                400);
  expect_status(post("/v1/logs", kJson, "{"), 400);
  expect_status(post("/v1/metrics", kProtobuf, std::string(kBodyLimit + 1, 'x')), 413);
  expect_status(post("/v1/traces", kProtobuf, gzipBomb(), {{"Content-Encoding", "gzip"}}), 413);
  expect_status(post("/v1/traces", kProtobuf, makeTraces("http-count-br", 1).SerializeAsString(),
                     {{"Content-Encoding", "br"}}),
                415);

  ReceiverCounters expected = before;
  expected.accepted_spans += 3 + 3 + 2;
  expected.invalid_spans += 1;
  expected.refused_spans += 1;
  expected.accepted_points += 4 + 2 + 1;
  expected.invalid_points += 1;
  expected.refused_points += 1;
  expected.accepted_logs += 5 + 2;
  expected.invalid_logs += 2;
  expected.refused_logs += 2;
  expected.malformed += 5;
  expectCounters(expected);
  // Nothing of this came over gRPC.
  auto grpc_after = readReceiverCounters(*process_, "grpc");
  ASSERT_TRUE(grpc_after.ok()) << grpc_after.status();
  EXPECT_EQ(*grpc_after, *grpc_before);
}

// A second process, with CORS configured. It shares the base fixture's statics: gtest runs one
// suite's SetUpTestSuite..TearDownTestSuite before the next suite starts, so the processes never
// overlap.
class OtlpHttpCorsTest : public OtlpHttpTest {
 protected:
  static void SetUpTestSuite() {
    startProcess(OtlpdProcess::standardConfig(
        strCat(R"(cors: { allowed_origins: [")", kAllowedOrigin, R"("] })")));
  }
};

TEST_F(OtlpHttpCorsTest, PreflightFromAllowedOrigin) {
  auto res = httpRequest(process_->httpEndpoint(), "OPTIONS", "/v1/traces",
                         {{"Origin", std::string(kAllowedOrigin)},
                          {"Access-Control-Request-Method", "POST"},
                          {"Access-Control-Request-Headers", "content-type"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_TRUE(res->status == 200 || res->status == 204) << res->status << " " << res->body;
  EXPECT_EQ(res->header("access-control-allow-origin"), kAllowedOrigin);
  EXPECT_TRUE(contains(res->header("access-control-allow-methods"), "POST"))
      << res->header("access-control-allow-methods");
  EXPECT_TRUE(containsIgnoreCase(res->header("access-control-allow-headers"), "content-type"))
      << res->header("access-control-allow-headers");
}

TEST_F(OtlpHttpCorsTest, PreflightFromOtherOriginIsNotAllowed) {
  auto res =
      httpRequest(process_->httpEndpoint(), "OPTIONS", "/v1/traces",
                  {{"Origin", "http://elsewhere.test"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_FALSE(res->hasHeader("access-control-allow-origin"))
      << res->header("access-control-allow-origin");
}

TEST_F(OtlpHttpCorsTest, PostFromAllowedOriginCarriesAllowOrigin) {
  auto res = post("/v1/traces", kJson, otlp::toOtlpJson(makeTraces("http-cors", 1)),
                  {{"Origin", std::string(kAllowedOrigin)}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->header("access-control-allow-origin"), kAllowedOrigin);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "http-cors", 1), 1u);
}

// otlpd with `receiver_yaml` feeding a batch of 40 spans (sent at 30 s otherwise) into nop.
absl::StatusOr<std::unique_ptr<OtlpdProcess>> startBatchOfForty(std::string_view receiver_yaml,
                                                                std::string_view receiver) {
  return OtlpdProcess::start(strCat("receivers:\n", receiver_yaml, R"(
processors:
  batch: { send_batch_size: 40, timeout: 30s }
exporters:
  nop:
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [)",
                                    receiver, R"(], processors: [batch], exporters: [nop] }
)"));
}

// Four clients post at once, each on its own connection (`body(i)` of 10 spans); their HTTP
// statuses (0: no answer), and how long the slowest took.
struct ConcurrentPosts {
  std::vector<int> statuses;
  std::chrono::steady_clock::duration took;
};
ConcurrentPosts postFourAtOnce(const std::string& endpoint, std::string_view target,
                               std::string_view content_type,
                               const std::function<std::string(int)>& body) {
  ConcurrentPosts result{std::vector<int>(4, 0), {}};
  const auto before = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      auto connection = HttpConnection::open(endpoint, std::chrono::seconds(60));
      if (!connection.ok()) return;
      auto res =
          (*connection)
              ->request("POST", target, {{"Content-Type", std::string(content_type)}}, body(i));
      if (res.ok()) result.statuses[static_cast<size_t>(i)] = res->status;
    });
  }
  for (std::thread& t : clients) t.join();
  result.took = std::chrono::steady_clock::now() - before;
  return result;
}

// The batch processor holds each caller's OK until its batch goes (honest batching). Over HTTP
// the handler used to wait for it on one of the listener's two I/O threads, so no more than two
// requests ever reached a batch: four concurrent requests that fill one together waited for the
// timeout. Their answers are now held with no thread waiting, as over gRPC.
TEST(OtlpHttpHeldAnswers, ConcurrentRequestsFillABatchTogether) {
  auto p = startBatchOfForty(R"(  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" })",
                             "otlp");
  ASSERT_TRUE(p.ok()) << p.status();
  const ConcurrentPosts posts = postFourAtOnce(
      (*p)->httpEndpoint(), "/v1/traces", kProtobuf,
      [](int i) { return makeTraces(strCat("fill-", i, "-"), 10).SerializeAsString(); });
  for (int status : posts.statuses) EXPECT_EQ(status, 200);
  EXPECT_LT(posts.took, std::chrono::seconds(15))
      << "the four requests did not fill the batch together: it went at its timeout";
  EXPECT_EQ((*p)->scrapeMetric("otlpd_receiver_accepted_spans_total",
                               {{"receiver", "otlp"}, {"transport", "http"}})
                .value_or(-1),
            40);
}

// The same for the Zipkin receiver (it shares the OTLP receivers' held answers): four concurrent
// posts of 10 spans fill one batch of 40 together.
TEST(OtlpHttpHeldAnswers, ZipkinPostsFillABatchTogetherToo) {
  auto p = startBatchOfForty(R"(  zipkin: { endpoint: "127.0.0.1:0" })", "zipkin");
  ASSERT_TRUE(p.ok()) << p.status();
  const ConcurrentPosts posts =
      postFourAtOnce((*p)->endpoint("zipkin.http"), "/api/v2/spans", "application/json", [](int i) {
        std::string body = "[";
        for (int s = 0; s < 10; ++s) {
          body += strCat(s == 0 ? "" : ",", R"({"traceId":"5af7183fb1d4cf5f000000000000000)", i,
                         R"(","id":"00000000000000)", 10 + s,
                         R"(","name":"get","timestamp":1700000000000000,)",
                         R"("duration":10,"localEndpoint":{"serviceName":"z"}})");
        }
        return body + "]";
      });
  for (int status : posts.statuses) EXPECT_EQ(status, 202);
  EXPECT_LT(posts.took, std::chrono::seconds(15))
      << "the four posts did not fill the batch together: it went at its timeout";
}

// SIGTERM while an OTLP/HTTP client's OK is held for a destination that is down (an exporter
// without a sending queue, retrying): after the listener's grace period the client is answered
// 503 (retry) and otlpd exits; before, the handler's thread waited for the retries to give up.
TEST(OtlpHttpHeldAnswers, ShutdownAnswersAHeldRequest503) {
  auto p = OtlpdProcess::start(strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  otlp:
    endpoint: "127.0.0.1:)",
                                      freeLoopbackPort(), R"("
    tls: { insecure: true }
    timeout: 1s
    sending_queue: { enabled: false }
    retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 300s }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
)"));
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string endpoint = (*p)->httpEndpoint();
  int status = 0;
  std::string retry_after;
  std::thread client([&] {
    auto connection = HttpConnection::open(endpoint, std::chrono::seconds(60));
    if (!connection.ok()) return;
    auto res = (*connection)
                   ->request("POST", "/v1/traces", {{"Content-Type", std::string(kProtobuf)}},
                             makeTraces("held", 2).SerializeAsString());
    if (!res.ok()) {
      ADD_FAILURE() << res.status();
      return;
    }
    status = res->status;
    retry_after = res->header("retry-after");
  });
  // The exporter retries the destination meanwhile.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*p)->scrapeMetric("otlpd_exporter_retries_total",
                            {{"exporter", "otlp"}, {"signal", "traces"}})
                 .value_or(0) < 2 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto before = std::chrono::steady_clock::now();
  const ExitStatus exit = (*p)->stop(std::chrono::seconds(40));
  const auto took = std::chrono::steady_clock::now() - before;
  client.join();
  EXPECT_TRUE(exit.cleanExit()) << exit.toString();
  // The listener's grace period is 10 s.
  EXPECT_LT(took, std::chrono::seconds(25));
  EXPECT_EQ(status, 503);
  EXPECT_EQ(retry_after, "1");
}

}  // namespace
}  // namespace otlpd::integration
