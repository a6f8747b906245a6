#include "otlp/wire_edit.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "otlp/proto.h"
#include "otlp/value.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::util::MessageDifferencer;

void addString(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* attrs, std::string key,
               std::string value) {
  auto* kv = attrs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}

TracesRequest makeTraces() {
  TracesRequest req;
  for (int r = 0; r < 2; ++r) {
    auto* rs = req.add_resource_spans();
    addString(rs->mutable_resource()->mutable_attributes(), "service.name",
              r == 0 ? "checkout" : "cart");
    rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("io.opentelemetry.http");
    for (int i = 0; i < 3; ++i) {
      auto* span = ss->add_spans();
      span->set_trace_id(std::string(16, static_cast<char>(i + 1)));
      span->set_span_id(std::string(8, static_cast<char>(i + 1)));
      span->set_name(i == 1 ? "GET /health" : "GET /api/cart");
      span->set_kind(pb_trace::Span::SPAN_KIND_SERVER);
      span->set_start_time_unix_nano(1000 + i);
      span->set_end_time_unix_nano(2000 + i);
      addString(span->mutable_attributes(), "http.route", "/api/cart");
      addString(span->mutable_attributes(), "user.email", "a@example.com");
      auto* code = span->add_attributes();
      code->set_key("http.response.status_code");
      code->mutable_value()->set_int_value(200);
      auto* ev = span->add_events();
      ev->set_name("exception");
      addString(ev->mutable_attributes(), "exception.message", "timeout");
      span->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_OK);
    }
  }
  return req;
}

struct NoopTraces : TracesEditor {
  EditDepth d;
  explicit NoopTraces(EditDepth depth) : d(depth) {}
  EditDepth depth() const override { return d; }
};

TEST(WireEdit, UnchangedRequestIsNotCopied) {
  const std::string bytes = makeTraces().SerializeAsString();
  for (EditDepth depth :
       {EditDepth::kResource, EditDepth::kScope, EditDepth::kItem, EditDepth::kSubItem}) {
    NoopTraces editor(depth);
    auto result = rewriteTraces(bytes, editor);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->changed);
    EXPECT_EQ(result->items, 6u);
    EXPECT_EQ(result->dropped, 0u);
  }
}

TEST(WireEdit, ResourceAttributeUpsertKeepsEverythingElse) {
  TracesRequest req = makeTraces();
  struct Editor : TracesEditor {
    EditDepth depth() const override { return EditDepth::kResource; }
    bool editResource(MessageEdit& r) override {
      r.attributes().put("deployment.environment", Value::ofString("prod"));
      r.attributes().put("service.name", Value::ofString("renamed"));
      return true;
    }
  } editor;
  auto result = rewriteTraces(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->changed);
  EXPECT_EQ(result->items, 6u);
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  for (auto& rs : *req.mutable_resource_spans()) {
    auto* attrs = rs.mutable_resource()->mutable_attributes();
    attrs->Mutable(0)->mutable_value()->set_string_value("renamed");
    addString(attrs, "deployment.environment", "prod");
  }
  EXPECT_TRUE(MessageDifferencer::Equals(out, req)) << out.DebugString();
}

TEST(WireEdit, ResourceAddedWhereNoneWas) {
  TracesRequest req;
  req.add_resource_spans()->add_scope_spans()->add_spans()->set_name("x");
  struct Editor : TracesEditor {
    EditDepth depth() const override { return EditDepth::kResource; }
    bool editResource(MessageEdit& r) override {
      r.attributes().append("host.name", Value::ofString("h1"));
      return true;
    }
  } editor;
  auto result = rewriteTraces(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok());
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  ASSERT_EQ(out.resource_spans(0).resource().attributes_size(), 1);
  EXPECT_EQ(out.resource_spans(0).resource().attributes(0).value().string_value(), "h1");
  EXPECT_EQ(out.resource_spans(0).scope_spans(0).spans(0).name(), "x");
}

TEST(WireEdit, SpanEditsDropsAndEvents) {
  TracesRequest req = makeTraces();
  struct Editor : TracesEditor {
    EditDepth depth() const override { return EditDepth::kSubItem; }
    bool editSpan(const MessageEdit& resource, const MessageEdit&, MessageEdit& span) override {
      if (span.lengthDelimited(fields::kSpanName) == "GET /health") return false;
      auto& attrs = span.attributes();
      if (auto i = attrs.find("user.email")) attrs.erase(*i);
      auto service = resource.attributes().stringValue(*resource.attributes().find("service.name"));
      attrs.append("copied.service", Value::ofString(std::string(*service)));
      span.setVarint(fields::kSpanKind, 3);
      return true;
    }
    bool editSpanEvent(const MessageEdit&, const MessageEdit&, const MessageEdit&,
                       MessageEdit& event) override {
      event.setLengthDelimited(fields::kEventName, "renamed");
      return true;
    }
  } editor;
  auto result = rewriteTraces(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->items, 4u);
  EXPECT_EQ(result->dropped, 2u);
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  for (auto& rs : *req.mutable_resource_spans()) {
    const std::string service = rs.resource().attributes(0).value().string_value();
    auto* spans = rs.mutable_scope_spans(0)->mutable_spans();
    spans->DeleteSubrange(1, 1);
    for (auto& span : *spans) {
      span.mutable_attributes()->DeleteSubrange(1, 1);
      addString(span.mutable_attributes(), "copied.service", service);
      span.set_kind(pb_trace::Span::SPAN_KIND_CLIENT);
      span.mutable_events(0)->set_name("renamed");
    }
  }
  EXPECT_TRUE(MessageDifferencer::Equals(out, req)) << out.DebugString();
}

// The output is written once, with each length sized from the input's: edits that make a length
// need more or fewer bytes (a span growing past 127 bytes, a scope past 16383, a span shrinking
// under 128), and edits that start late in the request (only the last resource, only its last
// span dropped) give the same request protobuf would.
TEST(WireEdit, LengthsThatChangeSizeAndLateEditsEncodeAsProtobufWould) {
  TracesRequest small;
  for (int r = 0; r < 3; ++r) {
    auto* rs = small.add_resource_spans();
    addString(rs->mutable_resource()->mutable_attributes(), "service.name",
              std::string{'s', 'v', 'c', static_cast<char>('0' + r)});
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("lib");
    for (int i = 0; i < 3; ++i) {
      auto* span = ss->add_spans();
      span->set_name(std::string{'s', static_cast<char>('0' + i)});
      span->set_kind(pb_trace::Span::SPAN_KIND_INTERNAL);
      addString(span->mutable_attributes(), "pad", std::string(r == 1 ? 150 : 10, 'p'));
    }
  }
  struct Editor : TracesEditor {
    std::string mode;
    EditDepth depth() const override { return EditDepth::kItem; }
    bool editSpan(const MessageEdit& resource, const MessageEdit&, MessageEdit& span) override {
      const auto service = resource.attributes().stringValue(0);
      const auto name = span.lengthDelimited(fields::kSpanName);
      auto& attrs = span.attributes();
      if (mode == "grow" && service == "svc0")
        attrs.put("big", Value::ofString(std::string(200, 'b')));
      if (mode == "grow-scope" && service == "svc2") {
        attrs.put("big", Value::ofString(std::string(9000, 'b')));
      }
      if (mode == "shrink" && service == "svc1") attrs.clear();
      if (mode == "drop-last" && service == "svc2" && name == "s2") return false;
      if (mode == "late" && service == "svc2" && name == "s1") span.setVarint(fields::kSpanKind, 2);
      return true;
    }
  };
  for (const std::string mode : {"grow", "grow-scope", "shrink", "drop-last", "late"}) {
    Editor editor;
    editor.mode = mode;
    auto result = rewriteTraces(small.SerializeAsString(), editor);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(result->changed) << mode;
    TracesRequest expected = small;
    for (auto& rs : *expected.mutable_resource_spans()) {
      const std::string service = rs.resource().attributes(0).value().string_value();
      auto* spans = rs.mutable_scope_spans(0)->mutable_spans();
      if (mode == "drop-last" && service == "svc2") spans->DeleteSubrange(2, 1);
      for (auto& span : *spans) {
        if (mode == "grow" && service == "svc0")
          addString(span.mutable_attributes(), "big", std::string(200, 'b'));
        if (mode == "grow-scope" && service == "svc2") {
          addString(span.mutable_attributes(), "big", std::string(9000, 'b'));
        }
        if (mode == "shrink" && service == "svc1") span.clear_attributes();
        if (mode == "late" && service == "svc2" && span.name() == "s1") {
          span.set_kind(pb_trace::Span::SPAN_KIND_SERVER);
        }
      }
    }
    // Byte for byte: protobuf writes fields in number order, as the input has them here.
    EXPECT_EQ(result->bytes, expected.SerializeAsString()) << mode;
    EXPECT_EQ(result->items, mode == "drop-last" ? 8u : 9u) << mode;
  }
}

TEST(WireEdit, DroppingEveryItemRemovesScopesAndResources) {
  TracesRequest req = makeTraces();
  struct Editor : TracesEditor {
    EditDepth depth() const override { return EditDepth::kItem; }
    bool editSpan(const MessageEdit& resource, const MessageEdit&, MessageEdit&) override {
      return resource.attributes().stringValue(0) != "cart";
    }
  } editor;
  auto result = rewriteTraces(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->items, 3u);
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  ASSERT_EQ(out.resource_spans_size(), 1);
  req.mutable_resource_spans()->DeleteSubrange(1, 1);
  EXPECT_TRUE(MessageDifferencer::Equals(out, req));
}

TEST(WireEdit, ResourceDropCountsItsItems) {
  struct Editor : TracesEditor {
    EditDepth depth() const override { return EditDepth::kResource; }
    bool editResource(MessageEdit& r) override { return r.attributes().stringValue(0) == "cart"; }
  } editor;
  auto result = rewriteTraces(makeTraces().SerializeAsString(), editor);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->items, 3u);
  EXPECT_EQ(result->dropped, 3u);
}

TEST(WireEdit, LogsRecordsAndBodies) {
  LogsRequest req;
  auto* rl = req.add_resource_logs();
  addString(rl->mutable_resource()->mutable_attributes(), "service.name", "api");
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < 4; ++i) {
    auto* rec = sl->add_log_records();
    rec->set_severity_number(i % 2 == 0 ? pb_logs::SEVERITY_NUMBER_INFO
                                        : pb_logs::SEVERITY_NUMBER_DEBUG);
    rec->mutable_body()->set_string_value("card 4111-1111-1111-1111");
    addString(rec->mutable_attributes(), "k", "v");
  }
  struct Editor : LogsEditor {
    EditDepth depth() const override { return EditDepth::kItem; }
    bool editLogRecord(const MessageEdit&, const MessageEdit&, MessageEdit& rec) override {
      if (rec.varint(fields::kLogSeverityNumber) < 9) return false;
      std::string body;
      encodeValue(Value::ofString("card ****"), body);
      rec.setLengthDelimited(fields::kLogBody, body);
      rec.attributes().put("k", Value::ofInt(7));
      return true;
    }
  } editor;
  auto result = rewriteLogs(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->items, 2u);
  LogsRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  ASSERT_EQ(out.resource_logs(0).scope_logs(0).log_records_size(), 2);
  const auto& rec = out.resource_logs(0).scope_logs(0).log_records(1);
  EXPECT_EQ(rec.body().string_value(), "card ****");
  EXPECT_EQ(rec.attributes(0).value().int_value(), 7);
  EXPECT_EQ(rec.severity_number(), pb_logs::SEVERITY_NUMBER_INFO);
}

TEST(WireEdit, MetricPointsAndEmptyMetricsGo) {
  MetricsRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* gauge = sm->add_metrics();
  gauge->set_name("queue.size");
  for (int i = 0; i < 3; ++i) {
    auto* p = gauge->mutable_gauge()->add_data_points();
    p->set_as_int(i);
    addString(p->mutable_attributes(), "queue", i == 0 ? "drop" : "keep");
  }
  auto* hist = sm->add_metrics();
  hist->set_name("latency");
  hist->mutable_histogram()->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  auto* hp = hist->mutable_histogram()->add_data_points();
  hp->set_count(3);
  addString(hp->mutable_attributes(), "queue", "drop");
  struct Editor : MetricsEditor {
    EditDepth depth() const override { return EditDepth::kSubItem; }
    bool editDataPoint(const MessageEdit&, const MessageEdit&, const MessageEdit&, MetricType,
                       MessageEdit& point) override {
      if (point.attributes().stringValue(0) == "drop") return false;
      point.attributes().put("extra", Value::ofBool(true));
      return true;
    }
  } editor;
  auto result = rewriteMetrics(req.SerializeAsString(), editor);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->items, 2u);
  EXPECT_EQ(result->dropped, 2u);
  MetricsRequest out;
  ASSERT_TRUE(out.ParseFromString(result->bytes));
  const auto& metrics = out.resource_metrics(0).scope_metrics(0).metrics();
  ASSERT_EQ(metrics.size(), 1);  // the histogram lost its only point
  EXPECT_EQ(metrics[0].name(), "queue.size");
  ASSERT_EQ(metrics[0].gauge().data_points_size(), 2);
  EXPECT_EQ(metrics[0].gauge().data_points(0).as_int(), 1);
  EXPECT_TRUE(metrics[0].gauge().data_points(0).attributes(1).value().bool_value());
}

// Editors fused into one walk give what running them one after the other gives.
TEST(WireEdit, FusedEditorsSeeWhatSequentialEditorsSee) {
  // A drops spans of the resource whose service.name is "cart"; B renames "cart" to "checkout"
  // and then drops spans named GET /health. Run one after the other, A still sees "cart".
  struct DropCart : TracesEditor {
    EditDepth depth() const override { return EditDepth::kItem; }
    bool editSpan(const MessageEdit& resource, const MessageEdit&, MessageEdit&) override {
      return resource.attributes().stringValue(0) != "cart";
    }
  };
  struct RenameAndDropHealth : TracesEditor {
    EditDepth depth() const override { return EditDepth::kItem; }
    bool editResource(MessageEdit& r) override {
      if (r.attributes().stringValue(0) == "cart") r.attributes().setString(0, "checkout");
      return true;
    }
    bool editSpan(const MessageEdit&, const MessageEdit&, MessageEdit& span) override {
      return span.lengthDelimited(fields::kSpanName) != "GET /health";
    }
  };
  const std::string input = makeTraces().SerializeAsString();
  DropCart a1, a2;
  RenameAndDropHealth b1, b2;
  auto first = rewriteTraces(input, a1);
  ASSERT_TRUE(first.ok());
  auto sequential = rewriteTraces(first->changed ? first->bytes : input, b1);
  ASSERT_TRUE(sequential.ok());
  auto fused = rewriteTraces(input, std::vector<TracesEditor*>{&a2, &b2}, size_t{6});
  ASSERT_TRUE(fused.ok()) << fused.status();
  EXPECT_EQ(fused->bytes, sequential->bytes);
  EXPECT_EQ(fused->items, 2u);
  EXPECT_EQ(fused->dropped, 4u);
  EXPECT_EQ(fused->dropped_by_editor, (std::vector<size_t>{3, 1}));
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(fused->bytes));
  ASSERT_EQ(out.resource_spans_size(), 1);
  EXPECT_EQ(out.resource_spans(0).resource().attributes(0).value().string_value(), "checkout");
}

TEST(WireEdit, FusedResourceEditorsCopyOnce) {
  struct Put : TracesEditor {
    std::string key;
    explicit Put(std::string k) : key(std::move(k)) {}
    EditDepth depth() const override { return EditDepth::kResource; }
    bool editResource(MessageEdit& r) override {
      r.attributes().put(key, Value::ofString("v"));
      return true;
    }
  };
  Put a("a"), b("b"), c("c");
  auto fused = rewriteTraces(makeTraces().SerializeAsString(),
                             std::vector<TracesEditor*>{&a, &b, &c}, size_t{6});
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(fused->items, 6u);
  TracesRequest out;
  ASSERT_TRUE(out.ParseFromString(fused->bytes));
  for (const auto& rs : out.resource_spans()) {
    ASSERT_EQ(rs.resource().attributes_size(), 4);
    EXPECT_EQ(rs.resource().attributes(3).key(), "c");
    EXPECT_EQ(rs.scope_spans(0).spans_size(), 3);
  }
}

TEST(WireEdit, MalformedRequestIsInvalidArgument) {
  std::string bytes = makeTraces().SerializeAsString();
  bytes.resize(bytes.size() - 3);
  NoopTraces editor(EditDepth::kSubItem);
  auto result = rewriteTraces(bytes, editor);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Value, RoundTripsThroughProtobuf) {
  pb_common::AnyValue any;
  auto* kv = any.mutable_kvlist_value()->add_values();
  kv->set_key("a");
  auto* arr = kv->mutable_value()->mutable_array_value();
  arr->add_values()->set_int_value(-5);
  arr->add_values()->set_double_value(1.5);
  arr->add_values()->set_bytes_value(std::string("\x00\xff", 2));
  arr->add_values()->set_bool_value(false);
  arr->add_values()->set_string_value("");
  Value v;
  ASSERT_TRUE(decodeValue(any.SerializeAsString(), v));
  ASSERT_EQ(v.kind(), Value::Kind::kMap);
  const Value* a = v.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->array().size(), 5u);
  EXPECT_EQ(a->array()[0].integer(), -5);
  EXPECT_EQ(a->array()[4].kind(), Value::Kind::kString);
  std::string encoded;
  encodeValue(v, encoded);
  EXPECT_EQ(encoded.size(), encodedValueSize(v));
  pb_common::AnyValue back;
  ASSERT_TRUE(back.ParseFromString(encoded));
  EXPECT_TRUE(MessageDifferencer::Equals(any, back));
}

TEST(Value, AsStringLikeTheCollector) {
  EXPECT_EQ(valueAsString(Value::ofInt(-3)), "-3");
  EXPECT_EQ(valueAsString(Value::ofBool(true)), "true");
  EXPECT_EQ(valueAsString(Value::ofDouble(1.25)), "1.25");
  EXPECT_EQ(valueAsString(Value::ofBytes("hi")), "aGk=");
  EXPECT_EQ(valueAsString(Value()), "");
  Value::Map m;
  m.emplace_back("z", Value::ofInt(1));
  m.emplace_back("a", Value::ofString("<x>"));
  EXPECT_EQ(valueAsString(Value::ofMap(std::move(m))), R"({"a":"\u003cx\u003e","z":1})");
}

// The deepest value we build (kMaxValueDepth levels of maps), put on a span event, still makes a
// request protobuf parses: what a processor writes, the next decoder accepts.
TEST(WireEdit, DeepestBuiltValueStaysWithinProtobufLimits) {
  Value v = Value::ofString("leaf");
  for (int i = 0; i < kMaxValueDepth; ++i) {
    Value::Map m;
    m.emplace_back("k", std::move(v));
    v = Value::ofMap(std::move(m));
  }
  struct Editor : TracesEditor {
    const Value* value = nullptr;
    EditDepth depth() const override { return EditDepth::kSubItem; }
    bool editSpanEvent(const MessageEdit&, const MessageEdit&, const MessageEdit&,
                       MessageEdit& event) override {
      event.attributes().put("deep", *value);
      return true;
    }
  } editor;
  editor.value = &v;
  auto result = rewriteTraces(makeTraces().SerializeAsString(), editor);
  ASSERT_TRUE(result.ok());
  TracesRequest out;
  EXPECT_TRUE(out.ParseFromString(result->bytes));
  // And it decodes back to the same value.
  Value back;
  const auto& attrs = out.resource_spans(0).scope_spans(0).spans(0).events(0).attributes();
  ASSERT_EQ(attrs.rbegin()->key(), "deep");
  ASSERT_TRUE(decodeValue(attrs.rbegin()->value().SerializeAsString(), back));
  EXPECT_TRUE(back == v);
}

TEST(Value, DeepNestingIsRefusedNotOverflowed) {
  pb_common::AnyValue any;
  pb_common::AnyValue* cur = &any;
  for (int i = 0; i < 90; ++i) cur = cur->mutable_array_value()->add_values();
  cur->set_int_value(1);
  Value v;
  EXPECT_FALSE(decodeValue(any.SerializeAsString(), v));
}

}  // namespace
}  // namespace otlpd::otlp
