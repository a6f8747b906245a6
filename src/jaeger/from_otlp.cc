#include "jaeger/from_otlp.h"

#include "jaeger/model.h"
#include "jaeger/thrift_protocol.h"

namespace otlpd::jaeger {
namespace {

namespace v1 = ::opentelemetry::proto::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;
using thrift::Writer;

uint64_t idFromBytes(const std::string& bytes, size_t offset) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && offset + i < bytes.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(bytes[offset + i]);
  }
  return v;
}

// A tag of each AnyValue kind; arrays and maps become their OTLP/JSON-ish string form.
void writeTag(Writer& w, const std::string& key, const common::AnyValue& value) {
  w.structBegin();
  w.field(thrift::kString, 1);
  w.binary(key);
  switch (value.value_case()) {
    case common::AnyValue::kBoolValue:
      w.field(thrift::kI32, 2);
      w.i32(static_cast<int32_t>(TagType::kBool));
      w.boolField(5, value.bool_value());
      break;
    case common::AnyValue::kIntValue:
      w.field(thrift::kI32, 2);
      w.i32(static_cast<int32_t>(TagType::kLong));
      w.field(thrift::kI64, 6);
      w.i64(value.int_value());
      break;
    case common::AnyValue::kDoubleValue:
      w.field(thrift::kI32, 2);
      w.i32(static_cast<int32_t>(TagType::kDouble));
      w.field(thrift::kDouble, 4);
      w.dbl(value.double_value());
      break;
    case common::AnyValue::kBytesValue:
      w.field(thrift::kI32, 2);
      w.i32(static_cast<int32_t>(TagType::kBinary));
      w.field(thrift::kString, 7);
      w.binary(value.bytes_value());
      break;
    default:
      w.field(thrift::kI32, 2);
      w.i32(static_cast<int32_t>(TagType::kString));
      w.field(thrift::kString, 3);
      w.binary(value.value_case() == common::AnyValue::kStringValue ? value.string_value()
                                                                    : value.ShortDebugString());
      break;
  }
  w.structEnd();
}

void writeStringTag(Writer& w, const std::string& key, const std::string& value) {
  common::AnyValue v;
  v.set_string_value(value);
  writeTag(w, key, v);
}

const char* kindName(v1::Span::SpanKind kind) {
  switch (kind) {
    case v1::Span::SPAN_KIND_CLIENT:
      return "client";
    case v1::Span::SPAN_KIND_SERVER:
      return "server";
    case v1::Span::SPAN_KIND_PRODUCER:
      return "producer";
    case v1::Span::SPAN_KIND_CONSUMER:
      return "consumer";
    case v1::Span::SPAN_KIND_INTERNAL:
      return "internal";
    default:
      return nullptr;
  }
}

void writeSpan(Writer& w, const v1::Span& span, const common::InstrumentationScope& scope) {
  w.structBegin();
  w.field(thrift::kI64, 1);
  w.i64(static_cast<int64_t>(idFromBytes(span.trace_id(), 8)));
  w.field(thrift::kI64, 2);
  w.i64(static_cast<int64_t>(idFromBytes(span.trace_id(), 0)));
  w.field(thrift::kI64, 3);
  w.i64(static_cast<int64_t>(idFromBytes(span.span_id(), 0)));
  w.field(thrift::kI64, 4);
  w.i64(static_cast<int64_t>(idFromBytes(span.parent_span_id(), 0)));
  w.field(thrift::kString, 5);
  w.binary(span.name());
  if (span.links_size() > 0) {
    w.field(thrift::kList, 6);
    w.listBegin(thrift::kStruct, static_cast<uint32_t>(span.links_size()));
    for (const auto& link : span.links()) {
      w.structBegin();
      w.field(thrift::kI32, 1);
      w.i32(1);  // FOLLOWS_FROM
      w.field(thrift::kI64, 2);
      w.i64(static_cast<int64_t>(idFromBytes(link.trace_id(), 8)));
      w.field(thrift::kI64, 3);
      w.i64(static_cast<int64_t>(idFromBytes(link.trace_id(), 0)));
      w.field(thrift::kI64, 4);
      w.i64(static_cast<int64_t>(idFromBytes(link.span_id(), 0)));
      w.structEnd();
    }
  }
  w.field(thrift::kI32, 7);
  w.i32(1);  // sampled
  w.field(thrift::kI64, 8);
  w.i64(static_cast<int64_t>(span.start_time_unix_nano() / 1000));
  w.field(thrift::kI64, 9);
  w.i64(static_cast<int64_t>((span.end_time_unix_nano() - span.start_time_unix_nano()) / 1000));

  const char* kind = kindName(span.kind());
  const bool error = span.status().code() == v1::Status::STATUS_CODE_ERROR;
  const bool has_status = span.status().code() != v1::Status::STATUS_CODE_UNSET;
  uint32_t tags = static_cast<uint32_t>(span.attributes_size()) + (kind != nullptr ? 1 : 0) +
                  (has_status ? 1 : 0) + (error ? 1 : 0) +
                  (!span.status().message().empty() ? 1 : 0) + (!scope.name().empty() ? 1 : 0) +
                  (!scope.version().empty() ? 1 : 0) + (!span.trace_state().empty() ? 1 : 0);
  w.field(thrift::kList, 10);
  w.listBegin(thrift::kStruct, tags);
  for (const auto& kv : span.attributes()) writeTag(w, kv.key(), kv.value());
  if (kind != nullptr) writeStringTag(w, "span.kind", kind);
  if (has_status) writeStringTag(w, "otel.status_code", error ? "ERROR" : "OK");
  if (error) {
    common::AnyValue t;
    t.set_bool_value(true);
    writeTag(w, "error", t);
  }
  if (!span.status().message().empty()) {
    writeStringTag(w, "otel.status_description", span.status().message());
  }
  if (!scope.name().empty()) writeStringTag(w, "otel.scope.name", scope.name());
  if (!scope.version().empty()) writeStringTag(w, "otel.scope.version", scope.version());
  if (!span.trace_state().empty()) writeStringTag(w, "w3c.tracestate", span.trace_state());

  if (span.events_size() > 0) {
    w.field(thrift::kList, 11);
    w.listBegin(thrift::kStruct, static_cast<uint32_t>(span.events_size()));
    for (const auto& event : span.events()) {
      w.structBegin();
      w.field(thrift::kI64, 1);
      w.i64(static_cast<int64_t>(event.time_unix_nano() / 1000));
      w.field(thrift::kList, 2);
      w.listBegin(thrift::kStruct,
                  static_cast<uint32_t>(event.attributes_size()) + (event.name().empty() ? 0 : 1));
      if (!event.name().empty()) writeStringTag(w, "event", event.name());
      for (const auto& kv : event.attributes()) writeTag(w, kv.key(), kv.value());
      w.structEnd();
    }
  }
  w.structEnd();
}

void writeBatch(Writer& w, const v1::ResourceSpans& resource) {
  w.structBegin();
  w.field(thrift::kStruct, 1);
  w.structBegin();
  std::string service;
  uint32_t tags = 0;
  for (const auto& kv : resource.resource().attributes()) {
    if (kv.key() == "service.name") {
      service = kv.value().string_value();
    } else {
      ++tags;
    }
  }
  w.field(thrift::kString, 1);
  w.binary(service);
  if (tags > 0) {
    w.field(thrift::kList, 2);
    w.listBegin(thrift::kStruct, tags);
    for (const auto& kv : resource.resource().attributes()) {
      if (kv.key() != "service.name") writeTag(w, kv.key(), kv.value());
    }
  }
  w.structEnd();
  uint32_t spans = 0;
  for (const auto& scope : resource.scope_spans())
    spans += static_cast<uint32_t>(scope.spans_size());
  w.field(thrift::kList, 2);
  w.listBegin(thrift::kStruct, spans);
  for (const auto& scope : resource.scope_spans()) {
    for (const auto& span : scope.spans()) writeSpan(w, span, scope.scope());
  }
  w.structEnd();
}

}  // namespace

std::string encodeThriftBatch(const v1::ResourceSpans& resource, bool compact) {
  std::string out;
  Writer w(out, compact ? thrift::Protocol::kCompact : thrift::Protocol::kBinary);
  writeBatch(w, resource);
  return out;
}

std::string encodeAgentEmitBatch(const v1::ResourceSpans& resource, bool compact) {
  std::string out;
  Writer w(out, compact ? thrift::Protocol::kCompact : thrift::Protocol::kBinary);
  w.messageBegin("emitBatch", thrift::kOneway, 1);
  w.structBegin();
  w.field(thrift::kStruct, 1);
  writeBatch(w, resource);
  w.structEnd();
  return out;
}

}  // namespace otlpd::jaeger
