// The jaeger receiver's thrift_http with `cors` (the Collector's confighttp keys): a browser of an
// allowed origin gets its preflight answered and the origin echoed on the POST's answer; other
// origins get neither.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "jaeger/from_otlp.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

namespace v1 = ::opentelemetry::proto::trace::v1;

TEST(JaegerThriftHttpCors, PreflightAndOriginFollowThePolicy) {
  auto otlpd = OtlpdProcess::start(R"(receivers:
  jaeger:
    protocols:
      thrift_http:
        endpoint: "127.0.0.1:0"
        cors:
          allowed_origins: ["https://*.example.test", "http://localhost:16686"]
          allowed_headers: ["X-Tenant"]
          max_age: 600
exporters:
  nop:
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [jaeger], exporters: [nop] }
)");
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->endpoint("jaeger.thrift_http");

  auto preflight = [&](std::string_view origin) {
    return httpRequest(endpoint, "OPTIONS", "/api/traces",
                       {{"Origin", std::string(origin)},
                        {"Access-Control-Request-Method", "POST"},
                        {"Access-Control-Request-Headers", "content-type, x-tenant"}});
  };
  auto allowed = preflight("https://ui.example.test");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(allowed->status, 204);
  EXPECT_EQ(allowed->header("access-control-allow-origin"), "https://ui.example.test");
  EXPECT_EQ(allowed->header("access-control-allow-methods"), "POST");
  EXPECT_NE(allowed->header("access-control-allow-headers").find("X-Tenant"), std::string::npos);
  EXPECT_EQ(allowed->header("access-control-max-age"), "600");
  auto refused = preflight("https://evil.test");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 405);
  EXPECT_EQ(refused->header("access-control-allow-origin"), "");

  v1::ResourceSpans spans;
  auto* kv = spans.mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("browser-app");
  v1::Span* span = spans.add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x07'));
  span->set_span_id(std::string(8, '\x08'));
  span->set_name("click");
  span->set_start_time_unix_nano(1'700'000'000'000'000'000);
  span->set_end_time_unix_nano(1'700'000'000'001'000'000);
  const std::string body = jaeger::encodeThriftBatch(spans, false);
  for (std::string_view origin : {"http://localhost:16686", "https://evil.test"}) {
    auto posted = httpRequest(
        endpoint, "POST", "/api/traces",
        {{"Content-Type", "application/x-thrift"}, {"Origin", std::string(origin)}}, body);
    ASSERT_TRUE(posted.ok()) << posted.status();
    EXPECT_EQ(posted->status, 202) << posted->body;
    EXPECT_EQ(posted->header("access-control-allow-origin"),
              origin == "https://evil.test" ? "" : origin);
  }
}

TEST(JaegerThriftHttpCors, UnknownCorsKeysAreConfigErrors) {
  auto otlpd = OtlpdProcess::start(R"(receivers:
  jaeger:
    protocols:
      thrift_http: { endpoint: "127.0.0.1:0", cors: { allowed_origin: ["x"] } }
exporters:
  nop:
service:
  pipelines:
    traces: { receivers: [jaeger], exporters: [nop] }
)");
  ASSERT_FALSE(otlpd.ok());
  EXPECT_NE(std::string(otlpd.status().message()).find("cors.allowed_origin"), std::string::npos)
      << otlpd.status();
}

}  // namespace
}  // namespace otlpd::integration
