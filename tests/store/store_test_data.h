// OTLP requests that use every field the store maps, for round-trip tests.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "otlp/proto.h"

namespace otlpd::store::testing {
namespace detail {

using otlp::pb_common::KeyValue;
using KVs = google::protobuf::RepeatedPtrField<KeyValue>;

inline std::string bytes(int n, int seed) {
  std::string s(static_cast<size_t>(n), '\0');
  for (int i = 0; i < n; ++i) s[static_cast<size_t>(i)] = static_cast<char>(seed * 31 + i + 1);
  return s;
}

inline void typedAttrs(KVs* a) {
  auto add = [&](const char* k) {
    auto* kv = a->Add();
    kv->set_key(k);
    return kv->mutable_value();
  };
  add("str")->set_string_value("value");
  add("int")->set_int_value(-42);
  add("double")->set_double_value(3.25);
  add("bool")->set_bool_value(true);
  add("bytes")->set_bytes_value(std::string("\x00\x01\xff", 3));
  auto* arr = add("array")->mutable_array_value();
  arr->add_values()->set_int_value(1);
  arr->add_values()->set_string_value("two");
  auto* kvl = add("map")->mutable_kvlist_value();
  auto* inner = kvl->add_values();
  inner->set_key("nested");
  inner->mutable_value()->set_double_value(0.5);
  add("empty");
}

inline void resource(otlp::pb_resource::Resource* r, const std::string& service) {
  auto* kv = r->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  typedAttrs(r->mutable_attributes());
  r->set_dropped_attributes_count(1);
  auto* ref = r->add_entity_refs();
  ref->set_type("service");
  ref->add_id_keys("service.name");
}

inline void scope(otlp::pb_common::InstrumentationScope* s) {
  s->set_name("lib");
  s->set_version("1.0");
  typedAttrs(s->mutable_attributes());
  s->set_dropped_attributes_count(2);
}

}  // namespace detail

using namespace detail;

inline otlp::TracesRequest richTraces(int spans = 3, uint64_t base = 1'700'000'000'000'000'000ULL) {
  otlp::TracesRequest req;
  for (int r = 0; r < 2; ++r) {
    auto* rs = req.add_resource_spans();
    resource(rs->mutable_resource(), r == 0 ? "checkout" : "payments");
    rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    auto* ss = rs->add_scope_spans();
    scope(ss->mutable_scope());
    ss->set_schema_url("https://scope/schema");
    for (int i = 0; i < spans; ++i) {
      auto* s = ss->add_spans();
      s->set_trace_id(bytes(16, r));
      s->set_span_id(bytes(8, r * 100 + i));
      if (i > 0) s->set_parent_span_id(bytes(8, r * 100 + i - 1));
      s->set_trace_state(i == 0 ? "k=v" : "");
      s->set_flags(0x301);
      s->set_name(i % 2 == 0 ? "GET /a" : "SELECT");
      s->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(1 + i % 5));
      s->set_start_time_unix_nano(base + static_cast<uint64_t>(r * 1000 + i) * 1'000'000);
      s->set_end_time_unix_nano(base + static_cast<uint64_t>(r * 1000 + i) * 1'000'000 +
                                static_cast<uint64_t>(i + 1) * 250'000);
      typedAttrs(s->mutable_attributes());
      s->set_dropped_attributes_count(3);
      if (i % 2 == 0) {
        auto* e = s->add_events();
        e->set_name("exception");
        e->set_time_unix_nano(s->start_time_unix_nano() + 10);
        typedAttrs(e->mutable_attributes());
        e->set_dropped_attributes_count(1);
        auto* l = s->add_links();
        l->set_trace_id(bytes(16, 9));
        l->set_span_id(bytes(8, 9));
        l->set_trace_state("x=y");
        l->set_flags(1);
        typedAttrs(l->mutable_attributes());
      }
      s->set_dropped_events_count(4);
      s->set_dropped_links_count(5);
      if (i == 1) {
        s->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
        s->mutable_status()->set_message("boom");
      }
    }
  }
  return req;
}

inline otlp::LogsRequest richLogs(uint64_t base = 1'700'000'000'000'000'000ULL) {
  otlp::LogsRequest req;
  auto* rl = req.add_resource_logs();
  resource(rl->mutable_resource(), "checkout");
  auto* sl = rl->add_scope_logs();
  scope(sl->mutable_scope());
  for (int i = 0; i < 4; ++i) {
    auto* r = sl->add_log_records();
    r->set_time_unix_nano(i == 3 ? 0 : base + static_cast<uint64_t>(i));
    r->set_observed_time_unix_nano(base + 100 + static_cast<uint64_t>(i));
    r->set_severity_number(static_cast<otlp::pb_logs::SeverityNumber>(5 + i * 4));
    r->set_severity_text(i % 2 == 0 ? "INFO" : "ERROR");
    switch (i) {
      case 0:
        r->mutable_body()->set_string_value("hello");
        break;
      case 1: {
        auto* kv = r->mutable_body()->mutable_kvlist_value()->add_values();
        kv->set_key("k");
        kv->mutable_value()->set_int_value(7);
        break;
      }
      case 2:
        r->mutable_body()->set_int_value(12);
        break;
      default:
        break;
    }
    typedAttrs(r->mutable_attributes());
    r->set_dropped_attributes_count(2);
    r->set_flags(1);
    if (i == 1) {
      r->set_trace_id(bytes(16, 1));
      r->set_span_id(bytes(8, 2));
    }
    if (i == 2) r->set_event_name("app.event");
  }
  return req;
}

inline otlp::MetricsRequest richMetrics(uint64_t base = 1'700'000'000'000'000'000ULL) {
  using namespace otlp::pb_metrics;
  otlp::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  resource(rm->mutable_resource(), "checkout");
  auto* sm = rm->add_scope_metrics();
  scope(sm->mutable_scope());
  auto common = [&](auto* p, int i) {
    p->set_time_unix_nano(base + static_cast<uint64_t>(i) * 1000);
    p->set_start_time_unix_nano(base - 1000);
    auto* kv = p->add_attributes();
    kv->set_key("route");
    kv->mutable_value()->set_string_value(i % 2 == 0 ? "/a" : "/b");
  };
  auto exemplar = [&](auto* p) {
    auto* e = p->add_exemplars();
    e->set_time_unix_nano(base + 5);
    e->set_as_double(1.5);
    e->set_span_id(bytes(8, 3));
    e->set_trace_id(bytes(16, 3));
    auto* kv = e->add_filtered_attributes();
    kv->set_key("user");
    kv->mutable_value()->set_int_value(9);
  };
  {
    auto* m = sm->add_metrics();
    m->set_name("gauge");
    m->set_description("a gauge");
    m->set_unit("1");
    auto* md = m->add_metadata();
    md->set_key("meta");
    md->mutable_value()->set_bool_value(false);
    for (int i = 0; i < 2; ++i) {
      auto* p = m->mutable_gauge()->add_data_points();
      common(p, i);
      if (i == 0)
        p->set_as_int(-5);
      else
        p->set_as_double(2.5);
    }
  }
  {
    auto* m = sm->add_metrics();
    m->set_name("sum");
    m->set_unit("By");
    m->mutable_sum()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_CUMULATIVE);
    m->mutable_sum()->set_is_monotonic(true);
    auto* p = m->mutable_sum()->add_data_points();
    common(p, 0);
    p->set_as_int(100);
    p->set_flags(1);
    exemplar(p);
  }
  {
    auto* m = sm->add_metrics();
    m->set_name("histogram");
    m->set_unit("ms");
    m->mutable_histogram()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_DELTA);
    for (int i = 0; i < 2; ++i) {
      auto* p = m->mutable_histogram()->add_data_points();
      common(p, i);
      p->set_count(6);
      if (i == 0) {
        p->set_sum(12.5);
        p->set_min(0.5);
        p->set_max(9);
      }
      for (uint64_t c : {1, 2, 3}) p->add_bucket_counts(c);
      for (double b : {1.0, 5.0}) p->add_explicit_bounds(b);
      exemplar(p);
    }
  }
  {
    auto* m = sm->add_metrics();
    m->set_name("exp_histogram");
    m->mutable_exponential_histogram()->set_aggregation_temporality(
        AGGREGATION_TEMPORALITY_CUMULATIVE);
    auto* p = m->mutable_exponential_histogram()->add_data_points();
    common(p, 0);
    p->set_count(10);
    p->set_sum(20);
    p->set_scale(-2);
    p->set_zero_count(1);
    p->set_zero_threshold(0.001);
    p->mutable_positive()->set_offset(-3);
    for (uint64_t c : {4, 5}) p->mutable_positive()->add_bucket_counts(c);
    p->mutable_negative()->set_offset(2);
    p->set_min(-1);
    p->set_max(8);
    exemplar(p);
  }
  {
    auto* m = sm->add_metrics();
    m->set_name("summary");
    auto* p = m->mutable_summary()->add_data_points();
    common(p, 0);
    p->set_count(3);
    p->set_sum(7.5);
    for (double q : {0.5, 0.99}) {
      auto* v = p->add_quantile_values();
      v->set_quantile(q);
      v->set_value(q * 10);
    }
  }
  return req;
}

}  // namespace otlpd::store::testing
