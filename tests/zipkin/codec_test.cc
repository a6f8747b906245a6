// The Zipkin codec (src/zipkin): the readers of v2 JSON, v2 protobuf and v1 JSON, the mapping to
// OTLP wire bytes, the mapping back (the exporter's), and hostile bodies.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "jaeger/thrift_protocol.h"
#include "otlp/proto.h"
#include "otlp/wire_view.h"
#include "zipkin/from_otlp.h"
#include "zipkin/readers.h"
#include "zipkin/to_otlp.h"

namespace otlpd::zipkin {
namespace {

using otlp::TracesRequest;

absl::StatusOr<TracesRequest> fromJson(const std::string& json, ToOtlpOptions options = {},
                                       bool v1 = false) {
  SpanList spans;
  absl::Status s = v1 ? readJsonV1(json, json.size(), spans) : readJsonV2(json, json.size(), spans);
  if (!s.ok()) return s;
  std::string bytes;
  if (s = appendOtlpTraces(spans, options, bytes); !s.ok()) return s;
  EXPECT_TRUE(otlp::inspectTracesWire(bytes).valid()) << "the OTLP request must pass the wire view";
  TracesRequest request;
  if (!request.ParseFromString(bytes)) return absl::InternalError("protobuf refused the bytes");
  return request;
}

std::string attribute(const otlp::pb_trace::Span& span, std::string_view key) {
  for (const auto& kv : span.attributes()) {
    if (kv.key() == key) {
      if (kv.value().has_string_value()) return kv.value().string_value();
      if (kv.value().has_int_value()) return "int:" + std::to_string(kv.value().int_value());
      if (kv.value().has_bool_value()) return kv.value().bool_value() ? "bool:true" : "bool:false";
      if (kv.value().has_double_value())
        return "double:" + std::to_string(kv.value().double_value());
    }
  }
  return "<absent>";
}

std::string hex(const std::string& bytes) {
  std::string out;
  appendHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
  return out;
}

constexpr const char* kTwoServices = R"([
  {"traceId":"5982fe77008310cc80f1da5e10147517","parentId":"90394f6bcffb5d13",
   "id":"67fae42571535f60","kind":"SERVER","name":"get /","timestamp":1472470996199000,
   "duration":207000,"localEndpoint":{"serviceName":"frontend","ipv4":"127.0.0.1","port":8080},
   "remoteEndpoint":{"serviceName":"browser","ipv6":"2001:db8::c001","port":63501},
   "annotations":[{"timestamp":1472470996238000,"value":"ws"}],
   "tags":{"http.path":"/api","error":"boom","otel.scope.name":"lib","otel.scope.version":"1.0",
           "host.name":"h1","w3c.tracestate":"a=b"},"shared":true,"debug":true},
  {"traceId":"80f1da5e10147517","id":"5b4185666d50f68b","parentId":"5b4185666d50f68b",
   "name":"local","timestamp":1472470996250000,"duration":1,
   "localEndpoint":{"serviceName":"backend"},"tags":{"span.kind":"internal","n":"12"}},
  {"traceId":"80f1da5e10147517","id":"5b4185666d50f68c","kind":"CLIENT","name":"call",
   "localEndpoint":{"serviceName":"frontend"},"tags":{"otel.scope.name":"lib",
   "otel.scope.version":"1.0","host.name":"h1","otel.status_code":"OK"}}
])";

TEST(ZipkinToOtlp, MapsEveryFieldTheSpecificationNames) {
  auto request = fromJson(kTwoServices);
  ASSERT_TRUE(request.ok()) << request.status();
  // frontend (with host.name) and backend: two resources; frontend's two spans share one scope.
  ASSERT_EQ(request->resource_spans_size(), 2);
  const auto& front = request->resource_spans(0);
  ASSERT_EQ(front.resource().attributes_size(), 2);
  EXPECT_EQ(front.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(front.resource().attributes(0).value().string_value(), "frontend");
  EXPECT_EQ(front.resource().attributes(1).key(), "host.name");
  ASSERT_EQ(front.scope_spans_size(), 1);
  EXPECT_EQ(front.scope_spans(0).scope().name(), "lib");
  EXPECT_EQ(front.scope_spans(0).scope().version(), "1.0");
  ASSERT_EQ(front.scope_spans(0).spans_size(), 2);

  const auto& server = front.scope_spans(0).spans(0);
  EXPECT_EQ(hex(server.trace_id()), "5982fe77008310cc80f1da5e10147517");
  EXPECT_EQ(hex(server.span_id()), "67fae42571535f60");
  EXPECT_EQ(hex(server.parent_span_id()), "90394f6bcffb5d13");
  EXPECT_EQ(server.kind(), otlp::pb_trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(server.name(), "get /");
  EXPECT_EQ(server.start_time_unix_nano(), 1472470996199000000u);
  EXPECT_EQ(server.end_time_unix_nano(), 1472470996406000000u);
  EXPECT_EQ(server.trace_state(), "a=b");
  EXPECT_EQ(server.status().code(), otlp::pb_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(server.status().message(), "boom");
  EXPECT_EQ(attribute(server, "http.path"), "/api");
  EXPECT_EQ(attribute(server, "error"), "<absent>");
  EXPECT_EQ(attribute(server, "network.local.address"), "127.0.0.1");
  EXPECT_EQ(attribute(server, "network.local.port"), "int:8080");
  EXPECT_EQ(attribute(server, "peer.service"), "browser");
  EXPECT_EQ(attribute(server, "network.peer.address"), "2001:db8::c001");
  EXPECT_EQ(attribute(server, "network.peer.port"), "int:63501");
  EXPECT_EQ(attribute(server, std::string(kSharedAttribute)), "bool:true");
  EXPECT_EQ(attribute(server, "host.name"), "<absent>");
  ASSERT_EQ(server.events_size(), 1);
  EXPECT_EQ(server.events(0).name(), "ws");
  EXPECT_EQ(server.events(0).time_unix_nano(), 1472470996238000000u);

  const auto& client = front.scope_spans(0).spans(1);
  EXPECT_EQ(hex(client.trace_id()), "000000000000000080f1da5e10147517");
  EXPECT_EQ(client.kind(), otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(client.status().code(), otlp::pb_trace::Status::STATUS_CODE_OK);
  // No timestamp: the epoch, and the Collector's marker attribute.
  EXPECT_EQ(client.start_time_unix_nano(), 0u);
  EXPECT_EQ(attribute(client, std::string(kStartTimeAbsentAttribute)), "bool:true");

  const auto& local = request->resource_spans(1).scope_spans(0).spans(0);
  EXPECT_EQ(request->resource_spans(1).resource().attributes(0).value().string_value(), "backend");
  EXPECT_TRUE(local.parent_span_id().empty()) << "a parent id equal to the span id is no parent";
  EXPECT_EQ(local.kind(), otlp::pb_trace::Span::SPAN_KIND_INTERNAL);
  EXPECT_EQ(attribute(local, "span.kind"), "<absent>");
  EXPECT_EQ(attribute(local, "n"), "12");
}

TEST(ZipkinToOtlp, EscapedStringsAreUnescaped) {
  auto request = fromJson(
      R"([{"traceId":"1","id":"2","name":"a\"b","tags":{"k\u00e9y":"v\\al\n","plain":"x"}}])");
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& span = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "a\"b");
  EXPECT_EQ(attribute(span, "k\xc3\xa9y"), "v\\al\n");
  EXPECT_EQ(attribute(span, "plain"), "x");
}

// Strings are taken as views up to their closing quote, which is the token's last non-blank
// byte: blanks after it, empty strings and a quote escaped right before the end all read right.
TEST(ZipkinToOtlp, StringsFollowedByBlanksEmptyOrEndingInAnEscapeReadRight) {
  auto request = fromJson(
      "[ {\"traceId\" : \"1\" \n, \"id\":\"2\"\t,\"name\" : \"n\\\"\" \r\n ,"
      " \"tags\" : { \"a\" : \"\" , \"b\" : \"x y\"\n\t} , \"kind\":\"SERVER\" } ]");
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& span = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "n\"");
  EXPECT_EQ(attribute(span, "a"), "");
  EXPECT_EQ(attribute(span, "b"), "x y");
  EXPECT_EQ(span.kind(), otlp::pb_trace::Span::SPAN_KIND_SERVER);
}

TEST(ZipkinToOtlp, ParseStringTagsTypesTheValues) {
  auto request =
      fromJson(R"([{"traceId":"1","id":"2","tags":{"i":"12","d":"1.5","b":"TRUE","s":"x1"}}])",
               ToOtlpOptions{.parse_string_tags = true});
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& span = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(attribute(span, "i"), "int:12");
  EXPECT_EQ(attribute(span, "d"), "double:1.500000");
  EXPECT_EQ(attribute(span, "b"), "bool:true");
  EXPECT_EQ(attribute(span, "s"), "x1");
}

TEST(ZipkinToOtlp, AnnotationsWithAttributesInBothKnownForms) {
  auto request = fromJson(R"([{"traceId":"1","id":"2","timestamp":10,"annotations":[
      {"timestamp":11,"value":"{\"retry\":{\"attempt\":2,\"why\":\"timeout\"}}"},
      {"timestamp":12,"value":"cache|{\"hit\":false}|3"},
      {"timestamp":13,"value":"{not json"}]}])");
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& span = request->resource_spans(0).scope_spans(0).spans(0);
  ASSERT_EQ(span.events_size(), 3);
  EXPECT_EQ(span.events(0).name(), "retry");
  ASSERT_EQ(span.events(0).attributes_size(), 2);
  EXPECT_EQ(span.events(0).attributes(0).key(), "attempt");
  EXPECT_EQ(span.events(0).attributes(0).value().int_value(), 2);
  EXPECT_EQ(span.events(1).name(), "cache");
  EXPECT_EQ(span.events(1).attributes(0).value().bool_value(), false);
  EXPECT_EQ(span.events(1).dropped_attributes_count(), 3u);
  EXPECT_EQ(span.events(2).name(), "{not json");
}

TEST(ZipkinToOtlp, RejectsBadBodiesWithAMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {R"([{"traceId":"1","id":"2"},{"traceId":"x","id":"2"}])", "span 1: traceId"},
      {R"([{"traceId":"123456789012345678901234567890123","id":"2"}])", "traceId"},
      {R"([{"traceId":"1","id":"12345678901234567"}])", "id must be"},
      {R"([{"traceId":"0","id":"2"}])", "traceId is zero"},
      {R"([{"traceId":"1","id":"0"}])", "id is zero"},
      {R"([{"traceId":"1","id":"2","timestamp":1700000000000000000}])", "not in microseconds"},
      {R"([{"traceId":"1","id":"2","timestamp":-5}])", "timestamp"},
      {R"([{"traceId":"1","id":"2","duration":"5"}])", "duration"},
      {R"([{"traceId":"1","id":"2","kind":"LOCAL"}])", "kind"},
      {R"([{"traceId":"1","id":"2","tags":{"a":[1]}}])", "tag 'a'"},
      {R"([{"traceId":"1","id":"2","tags":[]}])", "tags must be an object"},
      {R"([{"traceId":"1","id":"2","annotations":{}}])", "annotations must be a list"},
      {R"([{"traceId":"1","id":"2","annotations":[{"timestamp":1}]}])", "annotation without"},
      {R"([{"traceId":"1","id":"2","localEndpoint":"x"}])", "localEndpoint"},
      {R"([{"traceId":"1","id":"2","remoteEndpoint":{"port":-1}}])", "port"},
      {R"([{"id":"2"}])", "traceId is required"},
      {R"([{"traceId":"1"}])", "id is required"},
      {R"([1])", "span 0"},
      {R"({"traceId":"1"})", "JSON list"},
      {R"([{"traceId":)", ""},
      {R"([{"traceId":"1","id":"2"})", ""},
      {R"([{"traceId":"1","id":"2"}]])", ""},
      {"[\"\xff\"]", ""},
  };
  for (const auto& [body, message] : cases) {
    auto request = fromJson(body);
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_NE(request.status().message().find(message), std::string::npos)
        << body << " → " << request.status().message();
  }
  // Unknown fields are skipped, as Zipkin's server does; an empty body or list is no span.
  auto ok = fromJson(R"([{"traceId":"1","id":"2","future":{"x":[1,{"y":null}]},"name":"n"}])");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->resource_spans(0).scope_spans(0).spans(0).name(), "n");
  SpanList spans;
  EXPECT_TRUE(readJsonV2("", 0, spans).ok());
  EXPECT_TRUE(readJsonV2(" [ ] ", 5, spans).ok());
  EXPECT_TRUE(spans.spans.empty());
}

TEST(ZipkinToOtlp, DeepNestingNeverRecurses) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  SpanList spans;
  EXPECT_EQ(readJsonV2(deep, deep.size(), spans).code(), absl::StatusCode::kInvalidArgument);
  const std::string in_unknown_field = R"([{"traceId":"1","id":"2","x":)" +
                                       std::string(100000, '[') + std::string(100000, ']') + "}]";
  // Skipped without recursion, like any unknown field.
  ASSERT_TRUE(readJsonV2(in_unknown_field, in_unknown_field.size(), spans).ok());
  EXPECT_EQ(spans.spans.size(), 1u);
  // An annotation whose value is deeply nested JSON stays a plain event name.
  const std::string nested_value = std::string(5000, '{') + std::string(5000, '}');
  auto request = fromJson(R"([{"traceId":"1","id":"2","annotations":[{"timestamp":1,"value":")" +
                          nested_value + R"("}]}])");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->resource_spans(0).scope_spans(0).spans(0).events(0).name(), nested_value);
}

TEST(ZipkinV1, CoreAnnotationsMakeTheKindAndASharedServerSide) {
  auto request = fromJson(R"([{"traceId":"5982fe77008310cc","id":"67fae42571535f60","name":"rpc",
      "annotations":[
        {"timestamp":100,"value":"cs","endpoint":{"serviceName":"client","ipv4":"10.0.0.1"}},
        {"timestamp":110,"value":"sr","endpoint":{"serviceName":"server","ipv4":"10.0.0.2"}},
        {"timestamp":150,"value":"ss","endpoint":{"serviceName":"server","ipv4":"10.0.0.2"}},
        {"timestamp":170,"value":"cr","endpoint":{"serviceName":"client","ipv4":"10.0.0.1"}},
        {"timestamp":120,"value":"cache miss","endpoint":{"serviceName":"client"}}],
      "binaryAnnotations":[{"key":"http.path","value":"/x","endpoint":{"serviceName":"client"}},
        {"key":"retried","value":true},
        {"key":"sa","value":true,"endpoint":{"serviceName":"server","ipv4":"10.0.0.2","port":80}}]}])",
                          {}, /*v1=*/true);
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->resource_spans_size(), 2);
  const auto& client = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(request->resource_spans(0).resource().attributes(0).value().string_value(), "client");
  EXPECT_EQ(client.kind(), otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(client.start_time_unix_nano(), 100000u);
  EXPECT_EQ(client.end_time_unix_nano(), 170000u);
  EXPECT_EQ(attribute(client, "http.path"), "/x");
  EXPECT_EQ(attribute(client, "retried"), "true");
  EXPECT_EQ(attribute(client, "peer.service"), "server");
  EXPECT_EQ(attribute(client, "network.peer.port"), "int:80");
  ASSERT_EQ(client.events_size(), 1);
  EXPECT_EQ(client.events(0).name(), "cache miss");
  const auto& server = request->resource_spans(1).scope_spans(0).spans(0);
  EXPECT_EQ(request->resource_spans(1).resource().attributes(0).value().string_value(), "server");
  EXPECT_EQ(server.kind(), otlp::pb_trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(server.span_id(), client.span_id()) << "the shared server side keeps the span id";
  EXPECT_EQ(server.start_time_unix_nano(), 110000u);
  EXPECT_EQ(server.end_time_unix_nano(), 150000u);
  EXPECT_EQ(attribute(server, std::string(kSharedAttribute)), "bool:true");
}

TracesRequest sampleOtlp() {
  TracesRequest r;
  auto* rs = r.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("k8s.pod.name");
  kv->mutable_value()->set_string_value("pod-1");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  auto* span = ss->add_spans();
  span->set_trace_id(
      std::string("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16));
  span->set_span_id(std::string("\xb7\xad\x6b\x71\x69\x20\x33\x31", 8));
  span->set_name("get");
  span->set_kind(otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  span->set_start_time_unix_nano(1700000000000001000u);
  span->set_end_time_unix_nano(1700000000000001500u);
  auto* a = span->add_attributes();
  a->set_key("server.address");
  a->mutable_value()->set_string_value("inventory.internal");
  a = span->add_attributes();
  a->set_key("http.response.status_code");
  a->mutable_value()->set_int_value(503);
  a = span->add_attributes();
  a->set_key("list");
  a->mutable_value()->mutable_array_value()->add_values()->set_string_value("x");
  span->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
  auto* e = span->add_events();
  e->set_name("exception");
  e->set_time_unix_nano(1700000000000001200u);
  auto* ea = e->add_attributes();
  ea->set_key("exception.type");
  ea->mutable_value()->set_string_value("IOError");
  return r;
}

TEST(OtlpToZipkin, FollowsTheSpecificationMapping) {
  std::vector<OutSpan> spans;
  forEachZipkinSpan(sampleOtlp(), FromOtlpOptions(), [&](const OutSpan& z) { spans.push_back(z); });
  ASSERT_EQ(spans.size(), 1u);
  const OutSpan& z = spans[0];
  EXPECT_EQ(z.kind, "CLIENT");
  EXPECT_EQ(z.local.service_name, "<missing service name>");
  // Client spans name their remote service by the specification's ranking.
  EXPECT_EQ(z.remote.service_name, "inventory.internal");
  EXPECT_EQ(z.timestamp_us, 1700000000000001u);
  EXPECT_EQ(z.duration_us, 1u) << "under a microsecond rounds up to one";
  std::map<std::string, std::string> tags(z.tags.begin(), z.tags.end());
  EXPECT_EQ(tags["k8s.pod.name"], "pod-1");
  EXPECT_EQ(tags["otel.scope.name"], "lib");
  EXPECT_EQ(tags["http.response.status_code"], "503");
  EXPECT_EQ(tags["list"], R"(["x"])");
  EXPECT_EQ(tags["otel.status_code"], "ERROR");
  EXPECT_EQ(tags["error"], "") << "ERROR without a description: an empty error tag";
  ASSERT_EQ(z.annotations.size(), 1u);
  EXPECT_EQ(z.annotations[0].second, R"({"exception":{"exception.type":"IOError"}})");

  std::string json;
  appendSpanJson(z, json);
  EXPECT_EQ(
      json.substr(0, 85),
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","id":"b7ad6b7169203331","kind":"CLIENT")");
}

// What the exporter writes, the receiver reads back to the same spans (both encodings).
TEST(ZipkinRoundTrip, JsonAndProtoGiveTheSameOtlp) {
  const TracesRequest original = sampleOtlp();
  const std::string json = toZipkinJson(original, FromOtlpOptions());
  const std::string proto = toZipkinProto(original, FromOtlpOptions());
  SpanList a, b;
  ASSERT_TRUE(readJsonV2(json, json.size(), a).ok());
  std::string from_json, from_proto;
  ASSERT_TRUE(appendOtlpTraces(a, {}, from_json).ok());
  ASSERT_TRUE(readProto(proto, b).ok());
  ASSERT_TRUE(appendOtlpTraces(b, {}, from_proto).ok());
  EXPECT_EQ(from_json, from_proto);
  TracesRequest back;
  ASSERT_TRUE(back.ParseFromString(from_json));
  const auto& span = back.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id(), original.resource_spans(0).scope_spans(0).spans(0).trace_id());
  EXPECT_EQ(span.status().code(), otlp::pb_trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.events(0).name(), "exception");
  // A resource without service.name comes back with the default one (documented as lossy).
  EXPECT_EQ(back.resource_spans(0).resource().attributes(0).value().string_value(),
            "<missing service name>");
  EXPECT_EQ(back.resource_spans(0).resource().attributes(1).key(), "k8s.pod.name");
  EXPECT_EQ(back.resource_spans(0).scope_spans(0).scope().name(), "lib");
}

TEST(ZipkinProto, RejectsMalformedAndWrongSizes) {
  SpanList spans;
  EXPECT_FALSE(readProto(std::string("\x0a\x05\x0a\x02", 4), spans).ok()) << "truncated";
  // trace_id of 3 bytes.
  EXPECT_FALSE(readProto(std::string("\x0a\x07\x0a\x03\x01\x02\x03\x1a\x00", 9), spans).ok());
  EXPECT_TRUE(readProto("", spans).ok());
}

// Hostile bodies: every mutation of a valid request is either refused with InvalidArgument or
// read into spans whose OTLP request the wire view accepts. Never a crash.
TEST(ZipkinHostile, MutatedBodiesAreRefusedOrValid) {
  const std::string base = kTwoServices;
  const std::string proto = toZipkinProto(sampleOtlp(), FromOtlpOptions());
  std::mt19937 rng(7);
  SpanList spans;
  for (int i = 0; i < 3000; ++i) {
    const bool json = i % 2 == 0;
    std::string body = json ? base : proto;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[at] = static_cast<char>(rng());
          break;
        case 1:
          body.erase(at, 1 + rng() % 8);
          break;
        default:
          body.insert(at, 1, "{}[]\",:0a\\"[rng() % 10]);
      }
    }
    absl::Status s = json ? readJsonV2(body, body.size(), spans) : readProto(body, spans);
    std::string out;
    if (s.ok()) s = appendOtlpTraces(spans, {}, out);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    if (!spans.spans.empty()) {
      EXPECT_TRUE(otlp::inspectTracesWire(out).valid()) << body;
    }
  }
}

// ---- v1 Thrift (zipkinCore.thrift) -----------------------------------------------------------

namespace th = jaeger::thrift;

// Writes what Zipkin's Thrift codec (and the old Zipkin clients) send, field ids and types from
// zipkinCore.thrift. The writer has no i16, so the port is written by hand (binary protocol:
// big-endian).
void writeEndpoint(th::Writer& w, std::string& out, int32_t ipv4, int16_t port,
                   std::string_view service) {
  w.structBegin();
  w.field(th::kI32, 1);
  w.i32(ipv4);
  w.field(th::kI16, 2);
  out.push_back(static_cast<char>(static_cast<uint16_t>(port) >> 8));
  out.push_back(static_cast<char>(port & 0xff));
  w.field(th::kString, 3);
  w.binary(service);
  w.structEnd();
}

void writeBinaryAnnotation(th::Writer& w, std::string& out, std::string_view key,
                           std::string_view value, int32_t type, bool with_endpoint = false) {
  w.structBegin();
  w.field(th::kString, 1);
  w.binary(key);
  w.field(th::kString, 2);
  w.binary(value);
  w.field(th::kI32, 3);
  w.i32(type);
  if (with_endpoint) {
    w.field(th::kStruct, 4);
    writeEndpoint(w, out, 0x0a090909, 9000, "backend");
  }
  w.structEnd();
}

// One client span (cs/cr with the frontend's endpoint), an "sa" address annotation, a string,
// an i64, a double and a bytes tag; `as_list` wraps it in list<Span>.
std::string thriftV1Body(bool as_list) {
  std::string out;
  th::Writer w(out, th::Protocol::kBinary);
  if (as_list) w.listBegin(th::kStruct, 1);
  w.structBegin();
  w.field(th::kI64, 1);
  w.i64(static_cast<int64_t>(0x80f1da5e10147517ULL));
  w.field(th::kString, 3);
  w.binary("get /api");
  w.field(th::kI64, 4);
  w.i64(0x67fae42571535f60);
  w.field(th::kI64, 5);
  w.i64(0x5b4185666d50f68b);
  w.field(th::kList, 6);
  w.listBegin(th::kStruct, 3);
  for (auto [ts, value] : {std::pair<int64_t, std::string_view>{1472470996199000, "cs"},
                           {1472470996406000, "cr"},
                           {1472470996238000, "ws"}}) {
    w.structBegin();
    w.field(th::kI64, 1);
    w.i64(ts);
    w.field(th::kString, 2);
    w.binary(value);
    w.field(th::kStruct, 3);
    writeEndpoint(w, out, 0x0a010203, 8080, "frontend");
    w.structEnd();
  }
  w.field(th::kList, 8);
  w.listBegin(th::kStruct, 5);
  writeBinaryAnnotation(w, out, "http.path", "/api", 6);
  writeBinaryAnnotation(w, out, "sa", std::string_view("\x01", 1), 0, /*with_endpoint=*/true);
  writeBinaryAnnotation(w, out, "n", std::string_view("\0\0\0\0\0\0\0\x0c", 8), 4);
  writeBinaryAnnotation(w, out, "d", std::string_view("\x3f\xf8\0\0\0\0\0\0", 8), 5);
  writeBinaryAnnotation(w, out, "b", std::string_view("\x01\x02", 2), 1);
  w.field(th::kI64, 12);
  w.i64(0x5982fe77008310cc);
  w.structEnd();
  return out;
}

// The same span in v1 JSON, as Zipkin's JSON codec writes it.
constexpr const char* kThriftV1AsJson = R"([{"traceId":"5982fe77008310cc80f1da5e10147517",
  "name":"get /api","id":"67fae42571535f60","parentId":"5b4185666d50f68b",
  "annotations":[
    {"timestamp":1472470996199000,"value":"cs","endpoint":{"serviceName":"frontend","ipv4":"10.1.2.3","port":8080}},
    {"timestamp":1472470996406000,"value":"cr","endpoint":{"serviceName":"frontend","ipv4":"10.1.2.3","port":8080}},
    {"timestamp":1472470996238000,"value":"ws","endpoint":{"serviceName":"frontend","ipv4":"10.1.2.3","port":8080}}],
  "binaryAnnotations":[
    {"key":"http.path","value":"/api"},
    {"key":"sa","value":true,"endpoint":{"serviceName":"backend","ipv4":"10.9.9.9","port":9000}},
    {"key":"n","value":12},{"key":"d","value":1.5},{"key":"b","value":"AQI="}]}])";

std::string otlpOf(const SpanList& spans) {
  std::string bytes;
  EXPECT_TRUE(appendOtlpTraces(spans, {}, bytes).ok());
  EXPECT_TRUE(otlp::inspectTracesWire(bytes).valid());
  return bytes;
}

TEST(ZipkinThriftV1, ReadsAsTheSameSpanInV1Json) {
  SpanList from_json;
  const std::string json = kThriftV1AsJson;
  ASSERT_TRUE(readJsonV1(json, json.size(), from_json).ok());
  const std::string want = otlpOf(from_json);
  for (bool as_list : {true, false}) {
    SpanList from_thrift;
    const std::string body = thriftV1Body(as_list);  // the spans are views into it
    absl::Status s = readThriftV1(body, from_thrift);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(otlpOf(from_thrift), want) << (as_list ? "list<Span>" : "one Span");
  }
  TracesRequest request;
  ASSERT_TRUE(request.ParseFromString(want));
  const auto& span = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(hex(span.trace_id()), "5982fe77008310cc80f1da5e10147517");
  EXPECT_EQ(span.kind(), otlp::pb_trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(attribute(span, "n"), "12");
  EXPECT_EQ(attribute(span, "d"), "1.5");
  EXPECT_EQ(attribute(span, "b"), "AQI=");
  EXPECT_EQ(attribute(span, "network.peer.address"), "10.9.9.9");
}

TEST(ZipkinThriftV1, TruncatedLyingAndWrongBodiesAreRefused) {
  const std::string body = thriftV1Body(true);
  SpanList spans;
  for (size_t n = 1; n < body.size(); n += 7) {
    EXPECT_FALSE(readThriftV1(body.substr(0, n), spans).ok()) << n;
  }
  // list<Span> declaring 100 million elements in a few bytes.
  EXPECT_FALSE(readThriftV1(std::string("\x0c\x05\xf5\xe1\x00\x0a\x00\x01", 8), spans).ok());
  // A span without an id.
  std::string no_id;
  th::Writer w(no_id, th::Protocol::kBinary);
  w.structBegin();
  w.field(th::kI64, 1);
  w.i64(1);
  w.structEnd();
  absl::Status s = readThriftV1(no_id, spans);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("id is required"), std::string::npos) << s;
  EXPECT_FALSE(readThriftV1(body + "x", spans).ok()) << "data after the spans";
}

}  // namespace
}  // namespace otlpd::zipkin
