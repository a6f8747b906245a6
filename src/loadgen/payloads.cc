#include "loadgen/payloads.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <random>

#include "common/strings.h"
#include "jaeger/from_otlp.h"
#include "jaeger/model.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp/wire_reader.h"
#include "zipkin/from_otlp.h"

// Generated code is not held to our warning flags (see otlp/proto.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "jaeger/api_v2/collector.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::loadgen {
namespace {

using pipeline::Signal;
namespace pb_jaeger = ::jaeger::api_v2;
using Attributes = google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>;

void addString(Attributes* attrs, std::string_view key, std::string_view value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void addInt(Attributes* attrs, std::string_view key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}

void addDouble(Attributes* attrs, std::string_view key, double value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_double_value(value);
}

void addBool(Attributes* attrs, std::string_view key, bool value) {
  auto* kv = attrs->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_bool_value(value);
}

// Ids must not be all zero (OTLP calls those invalid and the receiver would drop the item).
std::string randomId(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  out[0] = static_cast<char>(out[0] | 1);
  return out;
}

std::string hexToken(std::mt19937_64& rng) {
  return strCat(absl::Hex(rng() & 0xffffffffffffULL, absl::kZeroPad12));
}

void fillResource(otlp::pb_resource::Resource* resource, Shape shape, uint64_t seed) {
  auto* attrs = resource->mutable_attributes();
  addString(attrs, "service.name", "checkout-service");
  if (shape == Shape::kMinimal) return;
  addString(attrs, "service.version", "1.42.7");
  addString(attrs, "service.instance.id", strCat("checkout-7f9c4d", seed % 100000));
  addString(attrs, "deployment.environment", "production");
  addString(attrs, "host.name", "ip-10-1-2-3.eu-west-1.compute.internal");
  addString(attrs, "telemetry.sdk.language", "java");
}

void fillScope(otlp::pb_common::InstrumentationScope* scope, std::string_view name) {
  scope->set_name(std::string(name));
  scope->set_version("2.3.0");
}

std::unique_ptr<otlp::TracesRequest> makeTraces(Shape shape, size_t items, uint64_t seed,
                                                uint64_t base) {
  std::mt19937_64 rng(seed);
  auto req = std::make_unique<otlp::TracesRequest>();
  auto* rs = req->add_resource_spans();
  fillResource(rs->mutable_resource(), shape, seed);
  auto* ss = rs->add_scope_spans();
  fillScope(ss->mutable_scope(), "io.opentelemetry.instrumentation.http");
  std::string trace_id, parent;
  for (size_t i = 0; i < items; ++i) {
    auto* span = ss->add_spans();
    // Traces of 8 spans: a server span and the client/database spans under it.
    if (i % 8 == 0) {
      trace_id = randomId(rng, 16);
      parent.clear();
    }
    span->set_trace_id(trace_id);
    span->set_span_id(randomId(rng, 8));
    const uint64_t start = base + i * 1'000'000;
    span->set_start_time_unix_nano(start);
    span->set_end_time_unix_nano(start + 250'000 + rng() % 5'000'000);
    if (shape == Shape::kMinimal) {
      span->set_name("span");
      continue;
    }
    if (!parent.empty()) span->set_parent_span_id(parent);
    const bool server = parent.empty();
    if (server) parent = span->span_id();
    span->set_name(server ? "GET /api/v1/orders/{id}" : "SELECT shop.order_items");
    span->set_kind(server ? otlp::pb_trace::Span::SPAN_KIND_SERVER
                          : otlp::pb_trace::Span::SPAN_KIND_CLIENT);
    auto* attrs = span->mutable_attributes();
    addString(attrs, "http.request.method", "GET");
    addString(attrs, "url.full",
              strCat("https://shop.example.com/api/v1/orders/", hexToken(rng), "?expand=items"));
    addString(attrs, "http.route", "/api/v1/orders/{id}");
    addInt(attrs, "http.response.status_code", i % 50 == 0 ? 500 : 200);
    addString(attrs, "server.address", "shop.example.com");
    addInt(attrs, "server.port", 443);
    addString(attrs, "user_agent.original",
              "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36");
    addString(attrs, "db.system", "postgresql");
    addString(attrs, "db.statement",
              "SELECT oi.id, oi.sku, oi.quantity, oi.unit_price, oi.currency, p.title FROM "
              "order_items oi JOIN products p ON p.sku = oi.sku WHERE oi.order_id = $1 ORDER BY "
              "oi.id LIMIT 100");
    addString(attrs, "client.address", strCat("203.0.113.", rng() % 250));
    addDouble(attrs, "app.cart.total", static_cast<double>(rng() % 100000) / 100.0);
    addBool(attrs, "app.cache.hit", rng() % 2 == 0);
    if (i % 4 == 0) {
      auto* ev = span->add_events();
      ev->set_name("exception");
      ev->set_time_unix_nano(start + 1000);
      addString(ev->mutable_attributes(), "exception.type", "java.net.SocketTimeoutException");
      addString(ev->mutable_attributes(), "exception.message", "Read timed out after 3000 ms");
    }
    if (i % 50 == 0) {
      span->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
      span->mutable_status()->set_message("upstream returned 500");
    }
  }
  return req;
}

std::unique_ptr<otlp::LogsRequest> makeLogs(Shape shape, size_t items, uint64_t seed,
                                            uint64_t base) {
  std::mt19937_64 rng(seed);
  auto req = std::make_unique<otlp::LogsRequest>();
  auto* rl = req->add_resource_logs();
  fillResource(rl->mutable_resource(), shape, seed);
  auto* sl = rl->add_scope_logs();
  fillScope(sl->mutable_scope(), "org.slf4j.Logger");
  for (size_t i = 0; i < items; ++i) {
    auto* record = sl->add_log_records();
    record->set_time_unix_nano(base + i * 1'000'000);
    if (shape == Shape::kMinimal) {
      record->mutable_body()->set_string_value("log");
      continue;
    }
    record->set_observed_time_unix_nano(base + i * 1'000'000 + 20'000);
    const bool warn = i % 10 == 0;
    record->set_severity_number(warn ? otlp::pb_logs::SEVERITY_NUMBER_WARN
                                     : otlp::pb_logs::SEVERITY_NUMBER_INFO);
    record->set_severity_text(warn ? "WARN" : "INFO");
    record->mutable_body()->set_string_value(
        warn ? strCat("Payment provider answered slowly for order ", hexToken(rng),
                      " after 2841 ms; retrying with backoff")
             : strCat("Order ", hexToken(rng),
                      " checked out: 3 items, total 127.40 EUR, "
                      "shipping to DE via standard"));
    auto* attrs = record->mutable_attributes();
    addString(attrs, "thread.name", "http-nio-8080-exec-7");
    addString(attrs, "code.namespace", "com.example.shop.checkout.CheckoutController");
    addString(attrs, "logger.name", "com.example.shop.checkout.CheckoutService");
    addString(attrs, "enduser.id", strCat("user-", hexToken(rng)));
    addInt(attrs, "app.order.items", static_cast<int64_t>(rng() % 10));
    record->set_trace_id(randomId(rng, 16));
    record->set_span_id(randomId(rng, 8));
    record->set_flags(1);
  }
  return req;
}

// Metrics of 10 points each, rotating through the kinds an SDK sends; every 5th metric is a
// latency histogram, whose points are the large ones.
std::unique_ptr<otlp::MetricsRequest> makeMetrics(Shape shape, size_t items, uint64_t seed,
                                                  uint64_t base) {
  constexpr size_t kPointsPerMetric = 10;
  static constexpr const char* kRoutes[] = {"/api/v1/orders/{id}", "/api/v1/cart",
                                            "/api/v1/checkout", "/api/v1/products/{sku}"};
  static constexpr int kStatus[] = {200, 200, 201, 404, 500};
  std::mt19937_64 rng(seed);
  auto req = std::make_unique<otlp::MetricsRequest>();
  auto* rm = req->add_resource_metrics();
  fillResource(rm->mutable_resource(), shape, seed);
  auto* sm = rm->add_scope_metrics();
  fillScope(sm->mutable_scope(), "io.opentelemetry.runtime-telemetry");
  const uint64_t start = base - 60'000'000'000ULL;
  otlp::pb_metrics::Metric* metric = nullptr;
  for (size_t i = 0; i < items; ++i) {
    const size_t m = i / kPointsPerMetric;
    if (shape == Shape::kMinimal) {
      if (i % 100 == 0) {
        metric = sm->add_metrics();
        metric->set_name("requests");
      }
      auto* p = metric->mutable_gauge()->add_data_points();
      p->set_time_unix_nano(base);
      p->set_as_int(static_cast<int64_t>(i));
      continue;
    }
    const int kind = static_cast<int>(m % 5);
    if (i % kPointsPerMetric == 0) {
      metric = sm->add_metrics();
      switch (kind) {
        case 0:
          metric->set_name("http.server.request.duration");
          metric->set_unit("s");
          metric->set_description("Duration of HTTP server requests.");
          metric->mutable_histogram()->set_aggregation_temporality(
              otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
          break;
        case 1:
          metric->set_name("process.cpu.time");
          metric->set_unit("s");
          metric->set_description("Total CPU seconds broken down by different states.");
          metric->mutable_sum()->set_is_monotonic(true);
          metric->mutable_sum()->set_aggregation_temporality(
              otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
          break;
        case 2:
          metric->set_name("jvm.memory.used");
          metric->set_unit("By");
          metric->set_description("Measure of memory used.");
          break;
        case 3:
          metric->set_name("http.server.active_requests");
          metric->set_unit("{request}");
          metric->set_description("Number of active HTTP server requests.");
          metric->mutable_sum()->set_aggregation_temporality(
              otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
          break;
        default:
          metric->set_name("system.cpu.utilization");
          metric->set_unit("1");
          metric->set_description("Difference in system.cpu.time since the last measurement.");
          break;
      }
    }
    const int64_t n = static_cast<int64_t>(i % kPointsPerMetric);
    if (kind == 0) {
      auto* p = metric->mutable_histogram()->add_data_points();
      p->set_start_time_unix_nano(start);
      p->set_time_unix_nano(base);
      addString(p->mutable_attributes(), "http.request.method", "GET");
      addString(p->mutable_attributes(), "http.route", kRoutes[n % 4]);
      addInt(p->mutable_attributes(), "http.response.status_code", kStatus[n % 5]);
      static constexpr double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                           0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};
      uint64_t count = 0;
      for (double b : kBounds) {
        p->add_explicit_bounds(b);
        const uint64_t c = rng() % 2000;
        p->add_bucket_counts(c);
        count += c;
      }
      p->add_bucket_counts(rng() % 10);
      count += p->bucket_counts(p->bucket_counts_size() - 1);
      p->set_count(count);
      p->set_sum(static_cast<double>(count) * 0.137);
      p->set_min(0.0021);
      p->set_max(11.4);
      continue;
    }
    otlp::pb_metrics::NumberDataPoint* p = kind == 1 || kind == 3
                                               ? metric->mutable_sum()->add_data_points()
                                               : metric->mutable_gauge()->add_data_points();
    if (kind == 1 || kind == 3) p->set_start_time_unix_nano(start);
    p->set_time_unix_nano(base);
    auto* attrs = p->mutable_attributes();
    // Metrics converted from Prometheus carry the pod on every point.
    addString(attrs, "k8s.pod.name", "checkout-7f9c4d8b5-x2x8k");
    switch (kind) {
      case 1:
        addString(attrs, "cpu.mode", n % 2 == 0 ? "user" : "system");
        addInt(attrs, "cpu.logical_number", n / 2);
        p->set_as_double(static_cast<double>(rng() % 1000000) / 100.0);
        break;
      case 2:
        addString(attrs, "jvm.memory.type", n % 2 == 0 ? "heap" : "non_heap");
        addString(attrs, "jvm.memory.pool.name", n % 2 == 0 ? "G1 Old Gen" : "Metaspace");
        p->set_as_int(static_cast<int64_t>(rng() % 2'000'000'000));
        break;
      case 3:
        addString(attrs, "http.request.method", "GET");
        addString(attrs, "url.scheme", "https");
        addString(attrs, "server.address", "shop.example.com");
        p->set_as_int(static_cast<int64_t>(rng() % 200));
        break;
      default:
        addString(attrs, "cpu.mode", "idle");
        addInt(attrs, "cpu.logical_number", n);
        p->set_as_double(static_cast<double>(rng() % 1000) / 1000.0);
        break;
    }
  }
  return req;
}

std::string bigEndian(std::initializer_list<uint64_t> words) {
  std::string out;
  for (uint64_t w : words) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(w >> shift));
  }
  return out;
}

void fillKeyValue(const jaeger::Tag& tag, pb_jaeger::KeyValue* kv) {
  kv->set_key(std::string(tag.key));
  switch (static_cast<jaeger::TagType>(tag.type)) {
    case jaeger::TagType::kDouble:
      kv->set_v_type(pb_jaeger::FLOAT64);
      kv->set_v_float64(tag.dbl);
      break;
    case jaeger::TagType::kBool:
      kv->set_v_type(pb_jaeger::BOOL);
      kv->set_v_bool(tag.b);
      break;
    case jaeger::TagType::kLong:
      kv->set_v_type(pb_jaeger::INT64);
      kv->set_v_int64(tag.i64);
      break;
    case jaeger::TagType::kBinary:
      kv->set_v_type(pb_jaeger::BINARY);
      kv->set_v_binary(std::string(tag.str));
      break;
    default:
      kv->set_v_type(pb_jaeger::STRING);
      kv->set_v_str(std::string(tag.str));
      break;
  }
}

void fillTimestamp(uint64_t unix_nano, google::protobuf::Timestamp* t) {
  t->set_seconds(static_cast<int64_t>(unix_nano / 1'000'000'000));
  t->set_nanos(static_cast<int32_t>(unix_nano % 1'000'000'000));
}

// The spans as a Jaeger SDK's gRPC reporter sends them: the OpenTelemetry mapping to Jaeger
// (jaeger/from_otlp.h, written as Thrift and read back into the model) carried over to
// jaeger.api_v2's messages, the parent as a CHILD_OF reference as Jaeger's proto model has it.
absl::StatusOr<std::string> toJaegerPostSpans(const otlp::TracesRequest& request) {
  pb_jaeger::PostSpansRequest out;
  auto* batch = out.mutable_batch();
  for (const auto& rs : request.resource_spans()) {
    const std::string thrift = jaeger::encodeThriftBatch(rs, false);
    jaeger::Batch model;
    if (absl::Status s = jaeger::decodeThriftBatch(thrift, false, model); !s.ok()) return s;
    auto* process = batch->mutable_process();
    process->set_service_name(std::string(model.process.service_name));
    for (uint32_t i = 0; i < model.process.tags.count; ++i) {
      fillKeyValue(model.tags[model.process.tags.begin + i], process->add_tags());
    }
    for (const jaeger::Span& span : model.spans) {
      auto* ps = batch->add_spans();
      ps->set_trace_id(bigEndian({span.trace_id_high, span.trace_id_low}));
      ps->set_span_id(bigEndian({span.span_id}));
      ps->set_operation_name(std::string(span.operation_name));
      ps->set_flags(span.flags);
      fillTimestamp(span.start_unix_nano, ps->mutable_start_time());
      const uint64_t duration = span.end_unix_nano - span.start_unix_nano;
      ps->mutable_duration()->set_seconds(static_cast<int64_t>(duration / 1'000'000'000));
      ps->mutable_duration()->set_nanos(static_cast<int32_t>(duration % 1'000'000'000));
      if (span.parent_span_id != 0) {
        auto* ref = ps->add_references();
        ref->set_trace_id(ps->trace_id());
        ref->set_span_id(bigEndian({span.parent_span_id}));
        ref->set_ref_type(pb_jaeger::CHILD_OF);
      }
      for (uint32_t i = 0; i < span.refs.count; ++i) {
        const jaeger::SpanRef& r = model.refs[span.refs.begin + i];
        auto* ref = ps->add_references();
        ref->set_trace_id(bigEndian({r.trace_id_high, r.trace_id_low}));
        ref->set_span_id(bigEndian({r.span_id}));
        ref->set_ref_type(r.follows_from ? pb_jaeger::FOLLOWS_FROM : pb_jaeger::CHILD_OF);
      }
      for (uint32_t i = 0; i < span.tags.count; ++i) {
        fillKeyValue(model.tags[span.tags.begin + i], ps->add_tags());
      }
      for (uint32_t l = 0; l < span.logs.count; ++l) {
        const jaeger::Log& log = model.logs[span.logs.begin + l];
        auto* pl = ps->add_logs();
        fillTimestamp(log.time_unix_nano, pl->mutable_timestamp());
        for (uint32_t i = 0; i < log.fields.count; ++i) {
          fillKeyValue(model.tags[log.fields.begin + i], pl->add_fields());
        }
      }
    }
    if (request.resource_spans_size() > 1) {
      return absl::InvalidArgumentError("a Jaeger batch carries one process (resource)");
    }
  }
  std::string bytes;
  if (!out.SerializeToString(&bytes)) return absl::InternalError("cannot serialise PostSpans");
  return bytes;
}

absl::StatusOr<EncodedRequest> encode(const RequestSetOptions& o, size_t items, uint64_t seed) {
  std::unique_ptr<google::protobuf::Message> message =
      makeRequest(o.signal, o.shape, items, seed, o.base_time_unix_nano);
  EncodedRequest r;
  r.items = items;
  if (o.protocol == Protocol::kHttpJson) {
    r.body = otlp::toOtlpJson(*message);
  } else if (isForeignTraceFormat(o.protocol)) {
    if (o.signal != Signal::kTraces) {
      return absl::InvalidArgumentError(strCat(protocolName(o.protocol), " sends traces only"));
    }
    const auto& traces = static_cast<const otlp::TracesRequest&>(*message);
    switch (o.protocol) {
      case Protocol::kZipkinJson:
        r.body = zipkin::toZipkinJson(traces, zipkin::FromOtlpOptions());
        break;
      case Protocol::kZipkinProto:
        r.body = zipkin::toZipkinProto(traces, zipkin::FromOtlpOptions());
        break;
      case Protocol::kJaegerThriftHttp:
        if (traces.resource_spans_size() != 1) {
          return absl::InvalidArgumentError("a Jaeger batch carries one process (resource)");
        }
        r.body = jaeger::encodeThriftBatch(traces.resource_spans(0), false);
        break;
      default: {
        auto bytes = toJaegerPostSpans(traces);
        if (!bytes.ok()) return bytes.status();
        r.body = *std::move(bytes);
        break;
      }
    }
  } else if (!message->SerializeToString(&r.body)) {
    return absl::InternalError("cannot serialise a generated request");
  }
  r.encoded_bytes = r.body.size();
  if (o.unique_ids) {
    auto places = findIdPlaces(o.signal, r.body);
    if (!places.ok()) return places.status();
    r.id_places = *std::move(places);
  }
  if (!isGrpc(o.protocol) && o.compression != common::Compression::kNone) {
    auto compressed = common::compress(o.compression, r.body);
    if (!compressed.ok()) return compressed.status();
    r.body = std::move(*compressed);
  }
  return r;
}

// Calls on_field(field) for every field of `bytes`; false when they do not parse.
template <class OnField>
bool forEachField(std::string_view bytes, OnField on_field) {
  otlp::wire::Reader reader(bytes);
  otlp::wire::Field f;
  while (!reader.done()) {
    if (reader.next(f) != otlp::wire::Stop::kNone) return false;
    on_field(f);
  }
  return true;
}

bool isSubmessage(const otlp::wire::Field& f, uint32_t number) {
  return f.number == number && f.type == otlp::wire::kLengthDelimited;
}

uint8_t hexDigitValue(char c) {
  return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}
bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
constexpr size_t kHexIdDigits = 12;

}  // namespace

absl::StatusOr<IdPlaces> findIdPlaces(Signal signal, std::string_view body) {
  IdPlaces places;
  const auto offsetOf = [&](std::string_view part) {
    return static_cast<uint32_t>(part.data() - body.data());
  };
  // An id field of the expected width: its first 8 bytes are renewed.
  const auto id = [&](const otlp::wire::Field& f, size_t width) {
    if (f.type == otlp::wire::kLengthDelimited && f.bytes.size() == width) {
      places.ids.push_back(offsetOf(f.bytes));
    }
  };
  // url.full's order id: the 12 lower-case hex digits after the last '/'.
  const auto attribute = [&](std::string_view key_value) {
    std::string_view key, value;
    forEachField(key_value, [&](const otlp::wire::Field& f) {
      if (isSubmessage(f, 1)) key = f.bytes;
      if (isSubmessage(f, 2)) value = f.bytes;
    });
    if (key != "url.full") return;
    forEachField(value, [&](const otlp::wire::Field& f) {
      if (!isSubmessage(f, 1)) return;
      const size_t slash = f.bytes.rfind('/');
      if (slash == std::string_view::npos || f.bytes.size() - slash - 1 < kHexIdDigits) return;
      const std::string_view digits = f.bytes.substr(slash + 1, kHexIdDigits);
      if (std::all_of(digits.begin(), digits.end(), isLowerHex)) {
        places.hex_ids.push_back(offsetOf(digits));
      }
    });
  };
  const auto span = [&](std::string_view bytes) {
    return forEachField(bytes, [&](const otlp::wire::Field& f) {
      if (f.number == 1) id(f, 16);
      if (f.number == 2 || f.number == 4) id(f, 8);
      if (isSubmessage(f, 9)) attribute(f.bytes);
      if (isSubmessage(f, 13)) {  // a link: trace_id 1, span_id 2
        forEachField(f.bytes, [&](const otlp::wire::Field& l) {
          if (l.number == 1) id(l, 16);
          if (l.number == 2) id(l, 8);
        });
      }
    });
  };
  const auto log_record = [&](std::string_view bytes) {
    return forEachField(bytes, [&](const otlp::wire::Field& f) {
      if (f.number == 9) id(f, 16);
      if (f.number == 10) id(f, 8);
    });
  };
  // Resource{Spans,Logs} 1 -> Scope{Spans,Logs} 2 -> Span / LogRecord 2.
  const bool parsed = forEachField(body, [&](const otlp::wire::Field& resource) {
    if (!isSubmessage(resource, 1)) return;
    forEachField(resource.bytes, [&](const otlp::wire::Field& scope) {
      if (!isSubmessage(scope, 2)) return;
      forEachField(scope.bytes, [&](const otlp::wire::Field& item) {
        if (!isSubmessage(item, 2)) return;
        if (signal == Signal::kTraces) span(item.bytes);
        if (signal == Signal::kLogs) log_record(item.bytes);
      });
    });
  });
  if (!parsed) return absl::InternalError("a generated request does not parse");
  return places;
}

void renewIds(std::string& body, const IdPlaces& places, uint64_t mask) {
  for (const uint32_t at : places.ids) {
    uint64_t v;
    std::memcpy(&v, body.data() + at, 8);
    v ^= mask;
    std::memcpy(body.data() + at, &v, 8);
  }
  constexpr char kDigits[] = "0123456789abcdef";
  for (const uint32_t at : places.hex_ids) {
    char* digits = body.data() + at;
    uint64_t v = 0;
    for (size_t i = 0; i < kHexIdDigits; ++i) v = (v << 4) | hexDigitValue(digits[i]);
    v ^= mask & ((uint64_t{1} << (4 * kHexIdDigits)) - 1);
    for (size_t i = kHexIdDigits; i-- > 0; v >>= 4) digits[i] = kDigits[v & 15];
  }
}

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
    case Protocol::kZipkinJson:
      return "zipkin/json";
    case Protocol::kZipkinProto:
      return "zipkin/proto";
    case Protocol::kJaegerThriftHttp:
      return "jaeger/thrift_http";
    case Protocol::kJaegerGrpc:
      return "jaeger/grpc";
  }
  return "?";
}

std::optional<Protocol> parseProtocol(std::string_view name) {
  for (Protocol p : kAllProtocols) {
    if (protocolName(p) == name) return p;
  }
  return std::nullopt;
}

std::string_view shapeName(Shape s) {
  return s == Shape::kRealistic ? "realistic" : "minimal";
}

std::optional<Shape> parseShape(std::string_view name) {
  if (name == "realistic") return Shape::kRealistic;
  if (name == "minimal") return Shape::kMinimal;
  return std::nullopt;
}

std::unique_ptr<google::protobuf::Message> makeRequest(Signal signal, Shape shape, size_t items,
                                                       uint64_t seed, uint64_t base) {
  switch (signal) {
    case Signal::kTraces:
      return makeTraces(shape, items, seed, base);
    case Signal::kMetrics:
      return makeMetrics(shape, items, seed, base);
    case Signal::kLogs:
      return makeLogs(shape, items, seed, base);
  }
  return nullptr;
}

double RequestSet::encodedBytesPerItem() const {
  size_t bytes = 0, items = 0;
  for (const auto& v : variants) {
    bytes += v.encoded_bytes;
    items += v.items;
  }
  return items == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(items);
}

double RequestSet::bodyBytesPerItem() const {
  size_t bytes = 0, items = 0;
  for (const auto& v : variants) {
    bytes += v.body.size();
    items += v.items;
  }
  return items == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(items);
}

absl::StatusOr<RequestSet> buildRequestSet(const RequestSetOptions& o) {
  if (o.batch == 0) return absl::InvalidArgumentError("batch must be at least 1 item");
  if (o.unique_ids) {
    if (o.protocol != Protocol::kGrpc && o.protocol != Protocol::kHttpProtobuf) {
      return absl::InvalidArgumentError("--unique-ids needs OTLP protobuf: grpc or http/protobuf");
    }
    if (o.protocol == Protocol::kHttpProtobuf && o.compression != common::Compression::kNone) {
      return absl::InvalidArgumentError("--unique-ids needs an uncompressed http/protobuf body");
    }
    if (o.signal == Signal::kMetrics) {
      return absl::InvalidArgumentError("--unique-ids: metrics requests carry no ids");
    }
  }
  if (isGrpc(o.protocol) && o.compression == common::Compression::kZstd) {
    return absl::InvalidArgumentError("gRPC supports gzip and deflate compression, not zstd");
  }
  RequestSet set;
  set.signal = o.signal;
  set.protocol = o.protocol;
  set.compression = o.compression;
  // Variant numbers stay below 2^32, so each seed has a range of generator seeds of its own.
  const uint64_t run = uint64_t{o.seed} << 32;
  for (size_t v = 0; v < std::max<size_t>(o.variants, 1); ++v) {
    auto r = encode(o, o.batch, run + 0x5eed0000 + v);
    if (!r.ok()) return r.status();
    set.variants.push_back(std::move(*r));
  }
  if (o.tail_items > 0) {
    auto r = encode(o, o.tail_items, run + 0x7a110000);
    if (!r.ok()) return r.status();
    set.tail = std::move(*r);
  }
  return set;
}

absl::StatusOr<int64_t> rejectedItems(Signal signal, bool json, std::string_view body) {
  if (body.empty()) return 0;
  auto parse = [&](google::protobuf::Message& m) -> absl::Status {
    if (json) return otlp::parseOtlpJson(body, m);
    if (!m.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::InvalidArgumentError("response is not a valid protobuf message");
    }
    return absl::OkStatus();
  };
  switch (signal) {
    case Signal::kTraces: {
      otlp::TracesResponse r;
      if (absl::Status s = parse(r); !s.ok()) return s;
      return r.partial_success().rejected_spans();
    }
    case Signal::kMetrics: {
      otlp::MetricsResponse r;
      if (absl::Status s = parse(r); !s.ok()) return s;
      return r.partial_success().rejected_data_points();
    }
    case Signal::kLogs: {
      otlp::LogsResponse r;
      if (absl::Status s = parse(r); !s.ok()) return s;
      return r.partial_success().rejected_log_records();
    }
  }
  return 0;
}

}  // namespace otlpd::loadgen
