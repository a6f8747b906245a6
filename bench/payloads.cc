#include "bench/payloads.h"

#include <map>
#include <mutex>
#include <random>
#include <string>

namespace otlpd::bench {
namespace {

void addString(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
               const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void addInt(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
            const std::string& key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

std::string randomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  if (out.find_first_not_of('\0') == std::string::npos) out[0] = 1;
  return out;
}

}  // namespace

otlp::TracesRequest makeTracesRequest(size_t spans, uint64_t seed) {
  std::mt19937_64 rng(seed);
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* resource_attrs = rs->mutable_resource()->mutable_attributes();
  addString(resource_attrs, "service.name", "checkout-service");
  addString(resource_attrs, "service.version", "1.42.7");
  addString(resource_attrs, "deployment.environment", "production");
  addString(resource_attrs, "host.name", "ip-10-1-2-3.eu-west-1.compute.internal");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("io.opentelemetry.instrumentation.http");
  ss->mutable_scope()->set_version("2.3.0");
  const std::string trace_id = randomBytes(rng, 16);
  std::string parent;
  const uint64_t base = 1'700'000'000'000'000'000ULL;
  for (size_t i = 0; i < spans; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(i % 10 == 0 ? randomBytes(rng, 16) : trace_id);
    span->set_span_id(randomBytes(rng, 8));
    if (!parent.empty()) span->set_parent_span_id(parent);
    parent = span->span_id();
    span->set_name(i % 3 == 0 ? "GET /api/v1/orders/{id}" : "SELECT orders.items");
    span->set_kind(i % 3 == 0 ? otlp::pb_trace::Span::SPAN_KIND_SERVER
                              : otlp::pb_trace::Span::SPAN_KIND_CLIENT);
    span->set_start_time_unix_nano(base + i * 1000);
    span->set_end_time_unix_nano(base + i * 1000 + 250'000 + (rng() % 100'000));
    auto* attrs = span->mutable_attributes();
    addString(attrs, "http.request.method", "GET");
    addString(attrs, "url.full",
              "https://shop.example.com/api/v1/orders/8d1c6f0a-51b2-4c8e-9a5e-" +
                  std::to_string(rng() % 1000000000000ULL));
    addInt(attrs, "http.response.status_code", i % 50 == 0 ? 500 : 200);
    addString(attrs, "server.address", "shop.example.com");
    addInt(attrs, "server.port", 443);
    addString(attrs, "user_agent.original",
              "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)");
    addString(attrs, "db.system", "postgresql");
    addString(attrs, "db.statement",
              "SELECT id, sku, quantity, price FROM order_items WHERE order_id = $1");
    auto* d = attrs->Add();
    d->set_key("app.cart.total");
    d->mutable_value()->set_double_value(static_cast<double>(rng() % 100000) / 100.0);
    auto* b = attrs->Add();
    b->set_key("app.cache.hit");
    b->mutable_value()->set_bool_value(rng() % 2 == 0);
    if (i % 4 == 0) {
      auto* ev = span->add_events();
      ev->set_name("exception");
      ev->set_time_unix_nano(base + i * 1000 + 1000);
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

otlp::TracesRequest makeTracesRequest800(size_t spans, uint64_t seed) {
  otlp::TracesRequest req = makeTracesRequest(spans, seed);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  auto* rs = req.mutable_resource_spans(0);
  auto* resource_attrs = rs->mutable_resource()->mutable_attributes();
  addString(resource_attrs, "service.namespace", "shop");
  addString(resource_attrs, "service.instance.id", "0b3c1f9e-6a52-4f0e-8f7d-2d9a3c4b5e61");
  addString(resource_attrs, "telemetry.sdk.name", "opentelemetry");
  addString(resource_attrs, "telemetry.sdk.language", "java");
  addString(resource_attrs, "telemetry.sdk.version", "1.44.1");
  addString(resource_attrs, "telemetry.distro.name", "opentelemetry-java-instrumentation");
  addString(resource_attrs, "process.runtime.name", "OpenJDK Runtime Environment");
  addString(resource_attrs, "process.runtime.version", "21.0.5+11-LTS");
  addInt(resource_attrs, "process.pid", 4127);
  addString(resource_attrs, "os.type", "linux");
  addString(resource_attrs, "k8s.namespace.name", "shop-prod");
  addString(resource_attrs, "k8s.pod.name", "checkout-service-7d9f8b6c5d-x2k4q");
  addString(resource_attrs, "k8s.deployment.name", "checkout-service");
  addString(resource_attrs, "cloud.provider", "aws");
  addString(resource_attrs, "cloud.region", "eu-west-1");
  addString(resource_attrs, "container.id",
            "3f4e5d6c7b8a99881726354433221100ffeeddccbbaa99887766554433221100");
  static constexpr char kHex[] = "0123456789abcdef";
  auto* ss = rs->mutable_scope_spans(0);
  for (int i = 0; i < ss->spans_size(); ++i) {
    auto* span = ss->mutable_spans(i);
    auto* attrs = span->mutable_attributes();
    const bool server = i % 3 == 0;
    addString(attrs, "http.route", server ? "/api/v1/orders/{id}" : "/api/v1/orders/{id}/items");
    addString(attrs, "thread.name", "http-nio-8080-exec-" + std::to_string(rng() % 200));
    addString(attrs, "code.function",
              server ? "com.example.checkout.OrderController.getOrder"
                     : "com.example.checkout.OrderRepository.findItems");
    std::string request_id(36, '-');
    for (size_t j = 0; j < request_id.size(); ++j) {
      if (j != 8 && j != 13 && j != 18 && j != 23) request_id[j] = kHex[rng() & 0xf];
    }
    addString(attrs, "http.request.header.x-request-id", request_id);
  }
  return req;
}

const std::string& loadgenBody(loadgen::Protocol protocol) {
  static std::mutex mu;
  static std::map<loadgen::Protocol, std::string> bodies;
  std::lock_guard lock(mu);
  auto [it, added] = bodies.try_emplace(protocol);
  if (added) {
    loadgen::RequestSetOptions options;
    options.protocol = protocol;
    options.variants = 1;
    auto set = loadgen::buildRequestSet(options);
    if (set.ok() && !set->variants.empty()) it->second = set->variants[0].body;
  }
  return it->second;
}

}  // namespace otlpd::bench
