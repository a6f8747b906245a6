// What the otlp_http exporter makes of an answer: the OTLP/HTTP status classes, Retry-After in
// both forms, partial success in protobuf and JSON, and error messages from google.rpc.Status.
#include <gtest/gtest.h>

#include "exporters/otlp_http/config.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"

namespace otlpd::exporters::otlp_http {
namespace {

using pipeline::Signal;

const absl::Time kNow = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT

helper::SendResult classify(int status, std::string_view retry_after = "",
                            std::string_view body = "", std::string_view type = "") {
  return classifyResponse(Signal::kTraces, status, type, body, retry_after, Encoding::kProto, kNow);
}

TEST(OtlpHttpResponse, StatusClasses) {
  EXPECT_TRUE(classify(200).status.ok());
  EXPECT_TRUE(classify(202).status.ok());
  // 401: credentials refused are fixed by rotating them, so the batch is kept and retried.
  for (int code : {429, 502, 503, 504, 500, 501, 507, 401}) {
    EXPECT_EQ(classify(code).status.code(), absl::StatusCode::kUnavailable) << code;
  }
  for (int code : {400, 403, 404, 405, 413, 415, 301, 100}) {
    EXPECT_EQ(classify(code).status.code(), absl::StatusCode::kInvalidArgument) << code;
  }
}

TEST(OtlpHttpResponse, RetryAfterSecondsAndHttpDate) {
  EXPECT_EQ(classify(503, "1").retry_after, absl::Seconds(1));
  EXPECT_EQ(classify(429, " 120 ").retry_after, absl::Seconds(120));
  EXPECT_EQ(classify(503, "Sun, 06 Nov 1994 08:49:47 GMT").retry_after, absl::Seconds(10));
  EXPECT_EQ(classify(502, "Sunday, 06-Nov-94 08:50:37 GMT").retry_after, absl::Seconds(60));
  EXPECT_EQ(classify(504, "Sun Nov  6 08:49:39 1994").retry_after, absl::Seconds(2));
  // A date in the past: retry now.
  EXPECT_EQ(classify(503, "Sat, 05 Nov 1994 08:49:37 GMT").retry_after, absl::ZeroDuration());
  EXPECT_FALSE(classify(503, "soon").retry_after.has_value());
  EXPECT_FALSE(classify(503).retry_after.has_value());
  // Permanent answers are never waited for, whatever they say.
  EXPECT_FALSE(classify(400, "5").retry_after.has_value());
}

TEST(OtlpHttpResponse, ErrorMessageFromRpcStatusOrText) {
  google::rpc::Status rpc;
  rpc.set_code(3);
  rpc.set_message("span 3 has no trace id");
  helper::SendResult r = classify(400, "", rpc.SerializeAsString(), "application/x-protobuf");
  EXPECT_EQ(r.status.message(), "HTTP 400: span 3 has no trace id");

  r = classify(400, "", R"({"code":3,"message":"bad json thing"})", "application/json");
  EXPECT_EQ(r.status.message(), "HTTP 400: bad json thing");

  r = classify(502, "", "<html>\nBad Gateway\n</html>", "text/html");
  EXPECT_EQ(r.status.message(), "HTTP 502: <html> Bad Gateway </html>");

  r = classify(503, "", std::string(5000, 'x'), "text/plain");
  EXPECT_LT(r.status.message().size(), 600u);
  EXPECT_EQ(classify(404).status.message(), "HTTP 404");
}

TEST(OtlpHttpResponse, PartialSuccessProtobuf) {
  otlp::TracesResponse traces;
  traces.mutable_partial_success()->set_rejected_spans(3);
  traces.mutable_partial_success()->set_error_message("3 spans without ids");
  helper::SendResult r = classify(200, "", traces.SerializeAsString(), "application/x-protobuf");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected_items, 3);
  EXPECT_EQ(r.rejected_message, "3 spans without ids");

  otlp::MetricsResponse metrics;
  metrics.mutable_partial_success()->set_rejected_data_points(7);
  r = classifyResponse(Signal::kMetrics, 200, "application/x-protobuf", metrics.SerializeAsString(),
                       "", Encoding::kProto, kNow);
  EXPECT_EQ(r.rejected_items, 7);

  otlp::LogsResponse logs;
  logs.mutable_partial_success()->set_rejected_log_records(2);
  // No Content-Type: the request's encoding is assumed.
  r = classifyResponse(Signal::kLogs, 200, "", logs.SerializeAsString(), "", Encoding::kProto,
                       kNow);
  EXPECT_EQ(r.rejected_items, 2);
}

TEST(OtlpHttpResponse, PartialSuccessJson) {
  helper::SendResult r =
      classifyResponse(Signal::kTraces, 200, "application/json; charset=utf-8",
                       R"({"partialSuccess":{"rejectedSpans":"4","errorMessage":"too old"}})", "",
                       Encoding::kJson, kNow);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected_items, 4);
  EXPECT_EQ(r.rejected_message, "too old");

  r = classifyResponse(Signal::kMetrics, 200, "application/json",
                       R"({"partialSuccess":{"rejectedDataPoints":5}})", "", Encoding::kJson, kNow);
  EXPECT_EQ(r.rejected_items, 5);

  otlp::LogsResponse logs;
  logs.mutable_partial_success()->set_rejected_log_records(6);
  r = classifyResponse(Signal::kLogs, 200, "", otlp::toOtlpJson(logs), "", Encoding::kJson, kNow);
  EXPECT_EQ(r.rejected_items, 6);
}

TEST(OtlpHttpResponse, SuccessWithoutOrWithUnreadableBodyIsDelivered) {
  EXPECT_EQ(classify(200, "", "", "application/x-protobuf").rejected_items, 0);
  helper::SendResult r = classify(200, "", "{}", "application/json");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected_items, 0);
  r = classify(200, "", "not protobuf \xff\xff\xff", "application/x-protobuf");
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.rejected_items, 0);
}

}  // namespace
}  // namespace otlpd::exporters::otlp_http
