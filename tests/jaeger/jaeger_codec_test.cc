#include <gtest/gtest.h>

#include <string>

#include "jaeger/api_v2/collector.pb.h"
#include "jaeger/from_otlp.h"
#include "jaeger/model.h"
#include "jaeger/thrift_protocol.h"
#include "jaeger/to_otlp.h"
#include "otlp/proto.h"

namespace otlpd::jaeger {
namespace {

namespace v1 = ::opentelemetry::proto::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;

std::string bytesOf(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

const std::string kTraceId = bytesOf({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
const std::string kSpanId = bytesOf({0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18});
const std::string kParentId = bytesOf({0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28});
const std::string kLinkSpanId = bytesOf({0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38});

v1::ResourceSpans sampleResourceSpans() {
  v1::ResourceSpans rs;
  auto* attrs = rs.mutable_resource()->mutable_attributes();
  auto* kv = attrs->Add();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  kv = attrs->Add();
  kv->set_key("host.name");
  kv->mutable_value()->set_string_value("web-1");
  auto* scope = rs.add_scope_spans();
  scope->mutable_scope()->set_name("my.lib");
  scope->mutable_scope()->set_version("1.2.3");
  v1::Span* span = scope->add_spans();
  span->set_trace_id(kTraceId);
  span->set_span_id(kSpanId);
  span->set_parent_span_id(kParentId);
  span->set_name("GET /cart");
  span->set_kind(v1::Span::SPAN_KIND_SERVER);
  span->set_start_time_unix_nano(1'700'000'000'123'456'000);
  span->set_end_time_unix_nano(1'700'000'000'223'456'000);
  span->set_trace_state("vendor=abc");
  kv = span->add_attributes();
  kv->set_key("http.method");
  kv->mutable_value()->set_string_value("GET");
  kv = span->add_attributes();
  kv->set_key("http.status_code");
  kv->mutable_value()->set_int_value(503);
  kv = span->add_attributes();
  kv->set_key("retry");
  kv->mutable_value()->set_bool_value(false);
  kv = span->add_attributes();
  kv->set_key("ratio");
  kv->mutable_value()->set_double_value(0.25);
  kv = span->add_attributes();
  kv->set_key("blob");
  kv->mutable_value()->set_bytes_value(bytesOf({0, 1, 2, 0xff}));
  span->mutable_status()->set_code(v1::Status::STATUS_CODE_ERROR);
  span->mutable_status()->set_message("upstream down");
  auto* event = span->add_events();
  event->set_time_unix_nano(1'700'000'000'150'000'000);
  event->set_name("exception");
  kv = event->add_attributes();
  kv->set_key("exception.message");
  kv->mutable_value()->set_string_value("boom");
  auto* link = span->add_links();
  link->set_trace_id(kTraceId);
  link->set_span_id(kLinkSpanId);
  return rs;
}

v1::ResourceSpans translated(const Batch& batch, size_t* spans = nullptr) {
  OtlpTranslator translator;
  std::string bytes;
  const size_t n = translator.translate(batch, bytes);
  if (spans != nullptr) *spans = n;
  otlp::TracesRequest request;
  EXPECT_TRUE(request.ParseFromString(bytes));
  if (request.resource_spans_size() == 0) return {};
  return request.resource_spans(0);
}

std::string attr(const google::protobuf::RepeatedPtrField<common::KeyValue>& attrs,
                 const std::string& key) {
  for (const auto& kv : attrs) {
    if (kv.key() == key) return kv.value().ShortDebugString();
  }
  return "<absent>";
}

void expectSample(const v1::ResourceSpans& rs) {
  EXPECT_EQ(attr(rs.resource().attributes(), "service.name"), "string_value: \"checkout\"");
  EXPECT_EQ(attr(rs.resource().attributes(), "host.name"), "string_value: \"web-1\"");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "my.lib");
  EXPECT_EQ(rs.scope_spans(0).scope().version(), "1.2.3");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 1);
  const v1::Span& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id(), kTraceId);
  EXPECT_EQ(span.span_id(), kSpanId);
  EXPECT_EQ(span.parent_span_id(), kParentId);
  EXPECT_EQ(span.name(), "GET /cart");
  EXPECT_EQ(span.kind(), v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(span.start_time_unix_nano(), 1'700'000'000'123'456'000u);
  EXPECT_EQ(span.end_time_unix_nano(), 1'700'000'000'223'456'000u);
  EXPECT_EQ(span.trace_state(), "vendor=abc");
  EXPECT_EQ(attr(span.attributes(), "http.method"), "string_value: \"GET\"");
  EXPECT_EQ(attr(span.attributes(), "http.status_code"), "int_value: 503");
  EXPECT_EQ(attr(span.attributes(), "retry"), "bool_value: false");
  EXPECT_EQ(attr(span.attributes(), "ratio"), "double_value: 0.25");
  EXPECT_EQ(attr(span.attributes(), "blob"), "bytes_value: \"\\000\\001\\002\\377\"");
  // Translated tags are gone from the attributes.
  for (const char* key : {"span.kind", "error", "otel.status_code", "otel.status_description",
                          "otel.scope.name", "otel.scope.version", "w3c.tracestate"}) {
    EXPECT_EQ(attr(span.attributes(), key), "<absent>") << key;
  }
  EXPECT_EQ(span.attributes_size(), 5);
  EXPECT_EQ(span.status().code(), v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "upstream down");
  ASSERT_EQ(span.events_size(), 1);
  EXPECT_EQ(span.events(0).name(), "exception");
  EXPECT_EQ(span.events(0).time_unix_nano(), 1'700'000'000'150'000'000u);
  EXPECT_EQ(attr(span.events(0).attributes(), "exception.message"), "string_value: \"boom\"");
  ASSERT_EQ(span.links_size(), 1);
  EXPECT_EQ(span.links(0).trace_id(), kTraceId);
  EXPECT_EQ(span.links(0).span_id(), kLinkSpanId);
  EXPECT_EQ(attr(span.links(0).attributes(), "opentracing.ref_type"),
            "string_value: \"follows_from\"");
}

TEST(JaegerThrift, BinaryBatchTranslatesFieldByField) {
  // The model holds slices of the bytes: they live as long as it is read.
  const std::string bytes = encodeThriftBatch(sampleResourceSpans(), false);
  Batch batch;
  ASSERT_TRUE(decodeThriftBatch(bytes, false, batch).ok());
  size_t spans = 0;
  expectSample(translated(batch, &spans));
  EXPECT_EQ(spans, 1u);
}

TEST(JaegerThrift, CompactBatchTranslatesFieldByField) {
  const std::string bytes = encodeThriftBatch(sampleResourceSpans(), true);
  Batch batch;
  ASSERT_TRUE(decodeThriftBatch(bytes, true, batch).ok());
  expectSample(translated(batch));
}

TEST(JaegerThrift, AgentPacketsInBothProtocols) {
  for (bool compact : {false, true}) {
    const std::string packet = encodeAgentEmitBatch(sampleResourceSpans(), compact);
    Batch batch;
    absl::Status s = decodeAgentPacket(packet, compact, batch);
    ASSERT_TRUE(s.ok()) << s;
    expectSample(translated(batch));
    // The other protocol's packet is refused, not misread.
    EXPECT_FALSE(decodeAgentPacket(packet, !compact, batch).ok());
  }
}

TEST(JaegerThrift, AgentRefusesOtherMethods) {
  std::string packet;
  thrift::Writer w(packet, thrift::Protocol::kCompact);
  w.messageBegin("emitZipkinBatch", thrift::kOneway, 1);
  w.structBegin();
  w.structEnd();
  Batch batch;
  absl::Status s = decodeAgentPacket(packet, true, batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("emitZipkinBatch"), std::string_view::npos);
}

TEST(JaegerThrift, EveryTruncationIsAnErrorNotACrash) {
  for (bool compact : {false, true}) {
    const std::string bytes = encodeThriftBatch(sampleResourceSpans(), compact);
    for (size_t n = 0; n < bytes.size(); ++n) {
      Batch batch;
      EXPECT_FALSE(decodeThriftBatch(std::string_view(bytes).substr(0, n), compact, batch).ok())
          << "prefix of " << n << " bytes";
    }
  }
}

TEST(JaegerThrift, LyingLengthsAreRefusedBeforeAnyAllocation) {
  // Batch { 1: Process { 1: serviceName = <string of 100 MB declared, 3 bytes present> } }
  std::string bytes;
  thrift::Writer w(bytes, thrift::Protocol::kBinary);
  w.structBegin();
  w.field(thrift::kStruct, 1);
  w.structBegin();
  w.field(thrift::kString, 1);
  w.i32(100 << 20);
  bytes += "abc";
  Batch batch;
  absl::Status s = decodeThriftBatch(bytes, false, batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("string length"), std::string_view::npos) << s;

  // A list that claims a billion spans.
  std::string list;
  thrift::Writer l(list, thrift::Protocol::kBinary);
  l.structBegin();
  l.field(thrift::kList, 2);
  l.listBegin(thrift::kStruct, 1'000'000'000);
  s = decodeThriftBatch(list, false, batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("list size"), std::string_view::npos) << s;
  EXPECT_LT(batch.spans.capacity(), 1000u);
}

TEST(JaegerThrift, DeepNestingInUnknownFieldsIsRefused) {
  // Field 9 of Batch (unknown) holding structs nested 1000 deep.
  std::string bytes;
  thrift::Writer w(bytes, thrift::Protocol::kCompact);
  w.structBegin();
  for (int i = 0; i < 1000; ++i) {
    w.field(thrift::kStruct, 9);
    w.structBegin();
  }
  Batch batch;
  absl::Status s = decodeThriftBatch(bytes, true, batch);
  EXPECT_NE(s.message().find("nesting too deep"), std::string_view::npos) << s;
}

TEST(JaegerThrift, MissingRequiredFieldsAreRefused) {
  std::string bytes;
  thrift::Writer w(bytes, thrift::Protocol::kBinary);
  w.structBegin();
  w.field(thrift::kStruct, 1);
  w.structBegin();
  w.field(thrift::kString, 1);
  w.binary("svc");
  w.structEnd();
  w.structEnd();  // no spans
  Batch batch;
  absl::Status s = decodeThriftBatch(bytes, false, batch);
  EXPECT_EQ(s.message(), "required field Batch.spans is not set");
}

// --- the translation's special cases, on the model directly ----------------------------------

Tag stringTag(std::string_view key, std::string_view value) {
  Tag t;
  t.key = key;
  t.type = static_cast<int32_t>(TagType::kString);
  t.str = value;
  return t;
}
Tag boolTag(std::string_view key, bool value) {
  Tag t;
  t.key = key;
  t.type = static_cast<int32_t>(TagType::kBool);
  t.b = value;
  return t;
}
Tag longTag(std::string_view key, int64_t value) {
  Tag t;
  t.key = key;
  t.type = static_cast<int32_t>(TagType::kLong);
  t.i64 = value;
  return t;
}

// One span with the given tags, of a process "svc".
Batch oneSpan(std::vector<Tag> tags) {
  Batch b;
  b.process.present = true;
  b.process.service_name = "svc";
  b.tags = std::move(tags);
  Span s;
  s.trace_id_low = 7;
  s.span_id = 9;
  s.start_unix_nano = 1000;
  s.end_unix_nano = 2000;
  s.blank = false;
  s.tags = Range{0, static_cast<uint32_t>(b.tags.size())};
  b.spans.push_back(s);
  return b;
}

TEST(JaegerToOtlp, ErrorTagMakesAnErrorStatusWithTheHttpMessage) {
  const v1::Span span =
      translated(oneSpan({boolTag("error", true), stringTag("http.status_message", "Bad Gateway")}))
          .scope_spans(0)
          .spans(0);
  EXPECT_EQ(span.status().code(), v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "Bad Gateway");
  EXPECT_EQ(attr(span.attributes(), "error"), "<absent>");
  EXPECT_EQ(attr(span.attributes(), "http.status_message"), "string_value: \"Bad Gateway\"");
}

// Keys and values on both sides of the writer's short-string bound (64 bytes) and of one-byte
// varint lengths (128 bytes) come out byte for byte.
TEST(JaegerToOtlp, KeysAndValuesOfEveryLengthAroundTheShortBound) {
  std::vector<std::string> texts;
  for (size_t n : {0, 1, 63, 64, 65, 127, 128, 300}) texts.push_back(std::string(n, 'a' + n % 26));
  // One tag per key length (keys must differ: a repeated key is one attribute), each with a
  // value of another length, and a long-typed tag with a 100-byte key.
  std::vector<Tag> distinct;
  for (size_t k = 1; k < texts.size(); ++k) {
    Tag t = stringTag(texts[k], texts[(k * 3) % texts.size()]);
    distinct.push_back(t);
  }
  distinct.push_back(longTag(std::string_view(texts[7]).substr(0, 100), -5));
  const v1::Span span = translated(oneSpan(distinct)).scope_spans(0).spans(0);
  ASSERT_EQ(span.attributes_size(), static_cast<int>(distinct.size()));
  for (size_t k = 1; k < texts.size(); ++k) {
    EXPECT_EQ(span.attributes(static_cast<int>(k - 1)).key(), texts[k]);
    EXPECT_EQ(span.attributes(static_cast<int>(k - 1)).value().string_value(),
              texts[(k * 3) % texts.size()]);
  }
  EXPECT_EQ(span.attributes(static_cast<int>(distinct.size() - 1)).value().int_value(), -5);
}

TEST(JaegerToOtlp, ErrorTagThatIsNotATrueBoolStaysAnAttribute) {
  const v1::Span span = translated(oneSpan({stringTag("error", "true")})).scope_spans(0).spans(0);
  EXPECT_EQ(span.status().code(), v1::Status::STATUS_CODE_UNSET);
  EXPECT_EQ(attr(span.attributes(), "error"), "string_value: \"true\"");
}

TEST(JaegerToOtlp, HttpStatusCodeGivesTheStatusByKind) {
  auto codeFor = [](std::string_view kind, int64_t http) {
    return translated(oneSpan({stringTag("span.kind", kind), longTag("http.status_code", http)}))
        .scope_spans(0)
        .spans(0)
        .status()
        .code();
  };
  EXPECT_EQ(codeFor("client", 404), v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(codeFor("server", 404), v1::Status::STATUS_CODE_UNSET);
  EXPECT_EQ(codeFor("server", 500), v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(codeFor("client", 200), v1::Status::STATUS_CODE_UNSET);
  EXPECT_EQ(translated(oneSpan({stringTag("http.status_code", "502")}))
                .scope_spans(0)
                .spans(0)
                .status()
                .code(),
            v1::Status::STATUS_CODE_ERROR);
}

TEST(JaegerToOtlp, OtelStatusCodeOkAndKindsAndTraceState) {
  const v1::Span span =
      translated(oneSpan({stringTag("otel.status_code", "ok"), stringTag("span.kind", "producer"),
                          stringTag("w3c.tracestate", "a=1"), longTag("http.status_code", 500)}))
          .scope_spans(0)
          .spans(0);
  EXPECT_EQ(span.status().code(), v1::Status::STATUS_CODE_OK);
  EXPECT_EQ(span.kind(), v1::Span::SPAN_KIND_PRODUCER);
  EXPECT_EQ(span.trace_state(), "a=1");
  EXPECT_EQ(span.attributes_size(), 1);  // http.status_code stays
}

TEST(JaegerToOtlp, DuplicateKeysKeepTheFirstPlaceAndTheLastValue) {
  const v1::Span span =
      translated(oneSpan({stringTag("a", "1"), stringTag("b", "2"), stringTag("a", "3")}))
          .scope_spans(0)
          .spans(0);
  ASSERT_EQ(span.attributes_size(), 2);
  EXPECT_EQ(span.attributes(0).key(), "a");
  EXPECT_EQ(span.attributes(0).value().string_value(), "3");
  EXPECT_EQ(span.attributes(1).key(), "b");
}

TEST(JaegerToOtlp, InvalidUtf8BecomesReplacementCharacters) {
  const v1::Span span = translated(oneSpan({stringTag("k", std::string_view("ok\xff\xc3", 4))}))
                            .scope_spans(0)
                            .spans(0);
  EXPECT_EQ(span.attributes(0).value().string_value(), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JaegerToOtlp, ProcessTagsHostnameAndJaegerVersion) {
  Batch b = oneSpan({});
  b.tags = {stringTag("hostname", "h1"), stringTag("jaeger.version", "Node-3.19.0"),
            stringTag("ip", "10.0.0.1")};
  b.process.tags = Range{0, 3};
  b.spans[0].tags = Range{0, 0};
  const v1::ResourceSpans rs = translated(b);
  EXPECT_EQ(attr(rs.resource().attributes(), "service.name"), "string_value: \"svc\"");
  EXPECT_EQ(attr(rs.resource().attributes(), "host.name"), "string_value: \"h1\"");
  EXPECT_EQ(attr(rs.resource().attributes(), "hostname"), "<absent>");
  EXPECT_EQ(attr(rs.resource().attributes(), "opencensus.exporterversion"),
            "string_value: \"Jaeger-Node-3.19.0\"");
  EXPECT_EQ(attr(rs.resource().attributes(), "jaeger.version"), "<absent>");
  EXPECT_EQ(attr(rs.resource().attributes(), "ip"), "string_value: \"10.0.0.1\"");
}

TEST(JaegerToOtlp, ParentFromReferencesAndLinksForTheRest) {
  Batch b = oneSpan({});
  b.refs = {SpanRef{true, 0, 7, 5}, SpanRef{false, 0, 7, 6}, SpanRef{false, 0, 99, 8}};
  b.spans[0].refs = Range{0, 3};
  const v1::Span span = translated(b).scope_spans(0).spans(0);
  EXPECT_EQ(span.parent_span_id(), bytesOf({0, 0, 0, 0, 0, 0, 0, 6}));  // CHILD_OF wins
  ASSERT_EQ(span.links_size(), 2);
  EXPECT_EQ(attr(span.links(0).attributes(), "opentracing.ref_type"),
            "string_value: \"follows_from\"");
  EXPECT_EQ(attr(span.links(1).attributes(), "opentracing.ref_type"), "string_value: \"child_of\"");
}

TEST(JaegerToOtlp, BlankSpansAreSkippedAndScopesGrouped) {
  Batch b = oneSpan({stringTag("otel.scope.name", "x")});
  b.spans.push_back(Span{});  // blank
  Span other = b.spans[0];
  other.tags = Range{0, 0};
  b.spans.push_back(other);
  size_t n = 0;
  const v1::ResourceSpans rs = translated(b, &n);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(rs.scope_spans_size(), 2);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "x");
  EXPECT_EQ(rs.scope_spans(1).scope().name(), "");
}

TEST(JaegerToOtlp, InvalidSpansAreCountedForValidation) {
  Batch b = oneSpan({});
  Span zero_id = b.spans[0];
  zero_id.span_id = 0;
  Span backwards = b.spans[0];
  backwards.end_unix_nano = 10;
  b.spans.push_back(zero_id);
  b.spans.push_back(backwards);
  OtlpTranslator translator;
  std::string bytes;
  EXPECT_EQ(translator.translate(b, bytes), 3u);
  EXPECT_EQ(translator.invalidSpans(), 2u);
  // Still well-formed: validation gets to remove them and say so.
  otlp::TracesRequest request;
  EXPECT_TRUE(request.ParseFromString(bytes));
  EXPECT_EQ(translator.translate(oneSpan({}), bytes), 1u);
  EXPECT_EQ(translator.invalidSpans(), 0u);
}

// --- gRPC: jaeger.api_v2.PostSpansRequest ----------------------------------------------------

TEST(JaegerProto, PostSpansRequestTranslatesAndSpanProcessesWin) {
  ::jaeger::api_v2::PostSpansRequest request;
  auto* batch = request.mutable_batch();
  batch->mutable_process()->set_service_name("frontend");
  auto* tag = batch->mutable_process()->add_tags();
  tag->set_key("region");
  tag->set_v_str("eu");
  auto* span = batch->add_spans();
  span->set_trace_id(kTraceId);
  span->set_span_id(kSpanId);
  span->set_operation_name("op");
  span->mutable_start_time()->set_seconds(1'700'000'000);
  span->mutable_start_time()->set_nanos(5);
  span->mutable_duration()->set_nanos(1500);
  tag = span->add_tags();
  tag->set_key("span.kind");
  tag->set_v_str("client");
  tag = span->add_tags();
  tag->set_key("n");
  tag->set_v_type(::jaeger::api_v2::INT64);
  tag->set_v_int64(-3);
  auto* log = span->add_logs();
  log->mutable_timestamp()->set_seconds(1'700'000'001);
  tag = log->add_fields();
  tag->set_key("event");
  tag->set_v_str("retry");
  auto* ref = span->add_references();
  ref->set_trace_id(kTraceId);
  ref->set_span_id(kParentId);
  auto* own = batch->add_spans();
  *own = *span;
  own->mutable_process()->set_service_name("worker");

  Batch model;
  // The model holds views of the bytes: they must outlive it.
  const std::string wire = request.SerializeAsString();
  absl::Status s = decodePostSpansRequest(wire, model);
  ASSERT_TRUE(s.ok()) << s;
  OtlpTranslator translator;
  std::string bytes;
  EXPECT_EQ(translator.translate(model, bytes), 2u);
  otlp::TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(bytes));
  ASSERT_EQ(out.resource_spans_size(), 2);
  EXPECT_EQ(attr(out.resource_spans(0).resource().attributes(), "service.name"),
            "string_value: \"frontend\"");
  EXPECT_EQ(attr(out.resource_spans(0).resource().attributes(), "region"), "string_value: \"eu\"");
  EXPECT_EQ(attr(out.resource_spans(1).resource().attributes(), "service.name"),
            "string_value: \"worker\"");
  const v1::Span& first = out.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(first.trace_id(), kTraceId);
  EXPECT_EQ(first.parent_span_id(), kParentId);
  EXPECT_EQ(first.links_size(), 0);
  EXPECT_EQ(first.kind(), v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(first.start_time_unix_nano(), 1'700'000'000'000'000'005u);
  EXPECT_EQ(first.end_time_unix_nano(), 1'700'000'000'000'001'505u);
  EXPECT_EQ(attr(first.attributes(), "n"), "int_value: -3");
  ASSERT_EQ(first.events_size(), 1);
  EXPECT_EQ(first.events(0).name(), "retry");
  EXPECT_EQ(first.events(0).time_unix_nano(), 1'700'000'001'000'000'000u);
}

TEST(JaegerProto, IdsOfTheWrongLengthAreRefused) {
  ::jaeger::api_v2::PostSpansRequest request;
  request.mutable_batch()->add_spans()->set_trace_id("short");
  Batch model;
  // The model holds views of the bytes: they must outlive it.
  const std::string wire = request.SerializeAsString();
  absl::Status s = decodePostSpansRequest(wire, model);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("trace_id of 5 bytes"), std::string_view::npos);
  EXPECT_FALSE(decodePostSpansRequest("\x0a\x05\x0a", model).ok());
}

}  // namespace
}  // namespace otlpd::jaeger
