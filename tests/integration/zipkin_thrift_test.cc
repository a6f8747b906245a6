// The zipkin receiver takes v1 spans in Thrift (POST /api/v1/spans, application/x-thrift), as
// Zipkin's server does: a list<Span> in the binary protocol arrives in the pipeline as OTLP; a
// truncated body gets a 400 with the reason; Thrift on /api/v2/spans stays a 415.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "jaeger/thrift_protocol.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {
namespace {

namespace th = jaeger::thrift;

// One v1 span with a client send/receive and a string binary annotation (zipkinCore.thrift).
std::string v1ThriftList() {
  std::string out;
  th::Writer w(out, th::Protocol::kBinary);
  w.listBegin(th::kStruct, 1);
  w.structBegin();
  w.field(th::kI64, 1);
  w.i64(0x0af7651916cd43dd);
  w.field(th::kString, 3);
  w.binary("get /orders");
  w.field(th::kI64, 4);
  w.i64(0x00f067aa0ba902b7);
  w.field(th::kList, 6);
  w.listBegin(th::kStruct, 2);
  for (auto [ts, value] :
       {std::pair<int64_t, std::string_view>{1700000000000000, "cs"}, {1700000000002000, "cr"}}) {
    w.structBegin();
    w.field(th::kI64, 1);
    w.i64(ts);
    w.field(th::kString, 2);
    w.binary(value);
    w.field(th::kStruct, 3);
    w.structBegin();
    w.field(th::kString, 3);
    w.binary("thrift-client");
    w.structEnd();
    w.structEnd();
  }
  w.field(th::kList, 8);
  w.listBegin(th::kStruct, 1);
  w.structBegin();
  w.field(th::kString, 1);
  w.binary("http.path");
  w.field(th::kString, 2);
  w.binary("/orders");
  w.field(th::kI32, 3);
  w.i32(6);  // STRING
  w.structEnd();
  w.structEnd();
  return out;
}

TEST(ZipkinThriftV1, ListOfSpansArrivesAsOtlp) {
  auto otlpd = OtlpdProcess::start(R"(receivers:
  zipkin: { endpoint: "127.0.0.1:0" }
exporters:
  file: { path: "@DIR@/traces.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [zipkin], exporters: [file] }
)");
  ASSERT_TRUE(otlpd.ok()) << otlpd.status();
  const std::string endpoint = (*otlpd)->endpoint("zipkin.http");
  const std::string body = v1ThriftList();
  auto posted = httpRequest(endpoint, "POST", "/api/v1/spans",
                            {{"Content-Type", "application/x-thrift"}}, body);
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(posted->status, 202) << posted->body;

  auto truncated = httpRequest(endpoint, "POST", "/api/v1/spans",
                               {{"Content-Type", "application/x-thrift"}}, body.substr(0, 30));
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_EQ(truncated->status, 400);
  EXPECT_NE(truncated->body.find("span 0: thrift binary protocol: "), std::string::npos)
      << truncated->body;
  auto v2 = httpRequest(endpoint, "POST", "/api/v2/spans",
                        {{"Content-Type", "application/x-thrift"}}, body);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->status, 415);

  auto lines = (*otlpd)->waitForJsonLines("traces.jsonl", 1);
  ASSERT_EQ(lines.size(), 1u);
  otlp::TracesRequest request;
  ASSERT_TRUE(otlp::parseOtlpJson(lines[0], request).ok());
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "thrift-client");
  const auto& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "get /orders");
  EXPECT_EQ(span.kind(), otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(span.trace_id(), std::string("\0\0\0\0\0\0\0\0\x0a\xf7\x65\x19\x16\xcd\x43\xdd", 16));
  EXPECT_EQ(span.start_time_unix_nano(), 1700000000000000000u);
  EXPECT_EQ(span.end_time_unix_nano(), 1700000000002000000u);
  bool path = false;
  for (const auto& kv : span.attributes()) {
    if (kv.key() == "http.path") path = kv.value().string_value() == "/orders";
  }
  EXPECT_TRUE(path);
}

}  // namespace
}  // namespace otlpd::integration
