// Items for OTTL tests: protobuf messages serialized, opened as MessageEdits and bound to a
// WireItem the way the processors bind them; results parsed back into protobuf to compare.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "otlp/proto.h"
#include "ottl/ottl.h"
#include "ottl/wire_accessor.h"

namespace otlpd::ottl::testing {

namespace pb_common = otlp::pb_common;
namespace pb_resource = otlp::pb_resource;
namespace pb_trace = otlp::pb_trace;
namespace pb_logs = otlp::pb_logs;
namespace pb_metrics = otlp::pb_metrics;

template <class Msg>
struct Opened {
  std::string bytes;
  otlp::MessageEdit edit;
  void open(const Msg& m, uint32_t attributes_field) {
    bytes = m.SerializeAsString();
    (void)edit.open(bytes, attributes_field);
  }
  Msg result() const {
    std::string out;
    edit.encode(out);
    Msg m;
    EXPECT_TRUE(m.ParseFromString(out));
    return m;
  }
};

inline void putString(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* attrs,
                      const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}
inline void putInt(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* attrs,
                   const std::string& key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

// Resource and scope shared by every harness.
struct Base {
  pb_resource::Resource resource;
  pb_common::InstrumentationScope scope;
  Opened<pb_resource::Resource> r;
  Opened<pb_common::InstrumentationScope> s;
  WireItem item;
  EvalState state;

  Base() {
    putString(resource.mutable_attributes(), "service.name", "checkout");
    putString(resource.mutable_attributes(), "deployment.environment", "prod");
    scope.set_name("io.opentelemetry.http");
    scope.set_version("1.2.3");
    putString(scope.mutable_attributes(), "scope.attr", "s");
  }
  void openBase(Context context) {
    r.open(resource, 1);
    s.open(scope, 3);
    item.clear();
    if (context == Context::kResource) {
      item.bindMutable(Context::kResource, r.edit);
    } else {
      item.bind(Context::kResource, r.edit);
    }
    if (context == Context::kScope) {
      item.bindMutable(Context::kScope, s.edit);
    } else if (context != Context::kResource) {
      item.bind(Context::kScope, s.edit);
    }
  }
  absl::StatusOr<bool> run(const std::string& text, Context context) {
    Compiled<Statement> c = parseStatement(text, context);
    EXPECT_TRUE(c.ok()) << text << ": " << toString(c.errors);
    if (!c.ok()) return absl::InvalidArgumentError(toString(c.errors));
    return c.program->execute(item, state);
  }
  absl::StatusOr<bool> check(const std::string& text, Context context) {
    Compiled<Condition> c = parseCondition(text, context);
    EXPECT_TRUE(c.ok()) << text << ": " << toString(c.errors);
    if (!c.ok()) return absl::InvalidArgumentError(toString(c.errors));
    return c.program->evaluate(item, state);
  }
};

struct SpanItem : Base {
  pb_trace::Span span;
  Opened<pb_trace::Span> sp;
  SpanItem() {
    span.set_trace_id(
        std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
    span.set_span_id(std::string("\x11\x12\x13\x14\x15\x16\x17\x18", 8));
    span.set_name("GET /api/orders");
    span.set_kind(pb_trace::Span::SPAN_KIND_SERVER);
    span.set_start_time_unix_nano(1000);
    span.set_end_time_unix_nano(251000);
    putString(span.mutable_attributes(), "http.route", "/api/orders/{id}");
    putString(span.mutable_attributes(), "http.url", "https://shop/api/orders/7?token=abc&x=1");
    putInt(span.mutable_attributes(), "http.status_code", 200);
    span.mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
    span.mutable_status()->set_message("boom");
  }
  void open() {
    openBase(Context::kSpan);
    sp.open(span, 9);
    item.bindMutable(Context::kSpan, sp.edit);
  }
  absl::StatusOr<bool> run(const std::string& text) {
    open();
    absl::StatusOr<bool> r = Base::run(text, Context::kSpan);
    span = sp.result();
    return r;
  }
  bool is(const std::string& condition) {
    open();
    absl::StatusOr<bool> r = Base::check(condition, Context::kSpan);
    EXPECT_TRUE(r.ok()) << condition << ": " << r.status();
    return r.ok() && *r;
  }
  const pb_common::AnyValue* attr(const std::string& key) const {
    for (const auto& kv : span.attributes()) {
      if (kv.key() == key) return &kv.value();
    }
    return nullptr;
  }
};

struct LogItem : Base {
  pb_logs::LogRecord log;
  Opened<pb_logs::LogRecord> lr;
  LogItem() {
    log.set_time_unix_nano(5000);
    log.set_severity_number(pb_logs::SEVERITY_NUMBER_WARN);
    log.set_severity_text("WARN");
    log.mutable_body()->set_string_value("user=alice password=hunter2 action=login");
    putString(log.mutable_attributes(), "log.file", "app.log");
  }
  void open() {
    openBase(Context::kLog);
    lr.open(log, 6);
    item.bindMutable(Context::kLog, lr.edit);
  }
  absl::StatusOr<bool> run(const std::string& text) {
    open();
    absl::StatusOr<bool> r = Base::run(text, Context::kLog);
    log = lr.result();
    return r;
  }
  bool is(const std::string& condition) {
    open();
    absl::StatusOr<bool> r = Base::check(condition, Context::kLog);
    EXPECT_TRUE(r.ok()) << condition << ": " << r.status();
    return r.ok() && *r;
  }
};

}  // namespace otlpd::ottl::testing
