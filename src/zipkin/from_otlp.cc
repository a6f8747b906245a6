#include "zipkin/from_otlp.h"

#include <arpa/inet.h>

#include <optional>

#include "common/json_escape.h"
#include "common/strings.h"
#include "otlp/value.h"
#include "otlp/wire_writer.h"
#include "zipkin/span.h"
#include "zipkin/to_otlp.h"

namespace otlpd::zipkin {
namespace {

namespace w = otlp::wire;
using otlp::Value;

Value toValue(const otlp::pb_common::AnyValue& v, int depth = 0) {
  using AV = otlp::pb_common::AnyValue;
  switch (v.value_case()) {
    case AV::kStringValue:
      return Value::ofString(v.string_value());
    case AV::kBoolValue:
      return Value::ofBool(v.bool_value());
    case AV::kIntValue:
      return Value::ofInt(v.int_value());
    case AV::kDoubleValue:
      return Value::ofDouble(v.double_value());
    case AV::kBytesValue:
      return Value::ofBytes(v.bytes_value());
    case AV::kArrayValue: {
      Value::Array a;
      if (depth < otlp::kMaxValueDepth) {
        for (const auto& item : v.array_value().values()) a.push_back(toValue(item, depth + 1));
      }
      return Value::ofArray(std::move(a));
    }
    case AV::kKvlistValue: {
      Value::Map m;
      if (depth < otlp::kMaxValueDepth) {
        for (const auto& kv : v.kvlist_value().values()) {
          m.emplace_back(kv.key(), toValue(kv.value(), depth + 1));
        }
      }
      return Value::ofMap(std::move(m));
    }
    case AV::VALUE_NOT_SET:
      break;
  }
  return Value();
}

std::string asString(const otlp::pb_common::AnyValue& v) {
  if (v.value_case() == otlp::pb_common::AnyValue::kStringValue) return v.string_value();
  return otlp::valueAsString(toValue(v));
}

Value::Map attributesMap(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attributes) {
  Value::Map m;
  for (const auto& kv : attributes) m.emplace_back(kv.key(), toValue(kv.value()));
  return m;
}

std::string hexOf(const std::string& bytes) {
  std::string out;
  appendHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
  return out;
}

// Zipkin's 64-bit trace ids are the 128-bit ones with a zero high half.
std::string zipkinTraceId(const std::string& id) {
  if (id.size() == 16 && id.compare(0, 8, std::string(8, '\0')) == 0) return id.substr(8);
  return id;
}

// "10.1.2.3" → ipv4, "2001:db8::1" → ipv6; false when the text is no address.
bool setAddress(std::string_view text, OutEndpoint& out) {
  const std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    out.ipv4 = s;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    out.ipv6 = s;
    return true;
  }
  return false;
}

std::optional<int32_t> portOf(const otlp::pb_common::AnyValue& v) {
  int64_t port = -1;
  if (v.has_int_value()) {
    port = v.int_value();
  } else if (v.has_string_value()) {
    const std::string& s = v.string_value();
    if (!s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos) {
      port = std::stoi(s);
    }
  }
  if (port <= 0 || port > 65535) return std::nullopt;
  return static_cast<int32_t>(port);
}

using Attributes = google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>;

const otlp::pb_common::AnyValue* find(const Attributes& attributes, std::string_view key) {
  for (const auto& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

void convertSpan(const otlp::pb_trace::Span& s, const std::string& service,
                 const std::vector<std::pair<std::string, std::string>>& envelope_tags,
                 OutSpan& z) {
  z = OutSpan();
  z.trace_id = zipkinTraceId(s.trace_id());
  z.id = s.span_id();
  if (!s.parent_span_id().empty()) z.parent_id = s.parent_span_id();
  z.name = s.name();
  const bool client_like = s.kind() == otlp::pb_trace::Span::SPAN_KIND_CLIENT ||
                           s.kind() == otlp::pb_trace::Span::SPAN_KIND_PRODUCER;
  switch (s.kind()) {
    case otlp::pb_trace::Span::SPAN_KIND_CLIENT:
      z.kind = "CLIENT";
      break;
    case otlp::pb_trace::Span::SPAN_KIND_SERVER:
      z.kind = "SERVER";
      break;
    case otlp::pb_trace::Span::SPAN_KIND_PRODUCER:
      z.kind = "PRODUCER";
      break;
    case otlp::pb_trace::Span::SPAN_KIND_CONSUMER:
      z.kind = "CONSUMER";
      break;
    default:
      break;
  }
  z.tags = envelope_tags;
  if (s.kind() == otlp::pb_trace::Span::SPAN_KIND_INTERNAL)
    z.tags.emplace_back("span.kind", "internal");

  const Attributes& attrs = s.attributes();
  bool start_absent = false;
  z.local.service_name = service;
  // Endpoints: the attributes the receiver writes are consumed; the specification's other
  // candidates name the remote service of client and producer spans and stay tags too.
  if (const auto* v = find(attrs, "network.local.address")) setAddress(asString(*v), z.local);
  if (const auto* v = find(attrs, "network.local.port")) z.local.port = portOf(*v).value_or(0);
  if (const auto* v = find(attrs, "peer.service")) z.remote.service_name = asString(*v);
  if (z.remote.service_name.empty() && client_like) {
    for (std::string_view key : {"server.address", "net.peer.name", "server.socket.domain",
                                 "net.sock.peer.name", "peer.hostname", "db.name"}) {
      if (const auto* v = find(attrs, key)) {
        z.remote.service_name = asString(*v);
        break;
      }
    }
  }
  bool peer_address_used = false;
  if (const auto* v = find(attrs, "network.peer.address")) {
    peer_address_used = setAddress(asString(*v), z.remote);
  }
  if (peer_address_used) {
    if (const auto* v = find(attrs, "network.peer.port")) z.remote.port = portOf(*v).value_or(0);
  } else if (client_like) {
    for (auto [ip_key, port_key] :
         {std::pair{"server.socket.address", "server.socket.port"},
          std::pair{"net.sock.peer.addr", "net.sock.peer.port"}, std::pair{"peer.address", ""}}) {
      const auto* v = find(attrs, ip_key);
      if (v == nullptr || !setAddress(asString(*v), z.remote)) continue;
      if (const auto* p = *port_key ? find(attrs, port_key) : nullptr) {
        z.remote.port = portOf(*p).value_or(0);
      }
      break;
    }
  }
  for (const auto& kv : attrs) {
    const std::string& key = kv.key();
    if (key == "network.local.address" || key == "network.local.port" || key == "peer.service") {
      continue;
    }
    if (peer_address_used && (key == "network.peer.address" || key == "network.peer.port")) {
      continue;
    }
    if (key == kSharedAttribute) {
      z.shared = kv.value().bool_value();
      continue;
    }
    if (key == kStartTimeAbsentAttribute) {
      start_absent = kv.value().bool_value();
      continue;
    }
    // The status decides `error` (below): an attribute of that name would contradict it.
    if (key == "error") continue;
    z.tags.emplace_back(key, asString(kv.value()));
  }

  const uint64_t start = s.start_time_unix_nano(), end = s.end_time_unix_nano();
  if (!start_absent && start >= 1000) z.timestamp_us = start / 1000;
  if (end > start) z.duration_us = std::max<uint64_t>(1, (end - start) / 1000);

  if (!s.trace_state().empty()) z.tags.emplace_back("w3c.tracestate", s.trace_state());
  switch (s.status().code()) {
    case otlp::pb_trace::Status::STATUS_CODE_OK:
      z.tags.emplace_back("otel.status_code", "OK");
      break;
    case otlp::pb_trace::Status::STATUS_CODE_ERROR:
      z.tags.emplace_back("otel.status_code", "ERROR");
      z.tags.emplace_back("error", s.status().message());
      break;
    default:
      break;
  }
  if (s.dropped_attributes_count() != 0) {
    z.tags.emplace_back("otel.dropped_attributes_count",
                        std::to_string(s.dropped_attributes_count()));
  }
  if (s.dropped_events_count() != 0) {
    z.tags.emplace_back("otel.dropped_events_count", std::to_string(s.dropped_events_count()));
  }
  if (s.dropped_links_count() != 0) {
    z.tags.emplace_back("otel.dropped_links_count", std::to_string(s.dropped_links_count()));
  }
  for (int i = 0; i < s.links_size(); ++i) {
    const auto& link = s.links(i);
    z.tags.emplace_back(
        strCat("otlp.link.", i),
        strCat(hexOf(link.trace_id()), "|", hexOf(link.span_id()), "|", link.trace_state(), "|",
               otlp::valueAsString(Value::ofMap(attributesMap(link.attributes()))), "|",
               link.dropped_attributes_count()));
  }
  for (const auto& event : s.events()) {
    std::string value;
    if (event.attributes_size() == 0) {
      value = event.name();
    } else {
      // The specification's form: {"name": {attributes}}.
      Value::Map outer;
      outer.emplace_back(event.name(), Value::ofMap(attributesMap(event.attributes())));
      value = otlp::valueAsString(Value::ofMap(std::move(outer)));
    }
    z.annotations.emplace_back(event.time_unix_nano() / 1000, std::move(value));
  }
}

void appendEndpointJson(std::string_view name, const OutEndpoint& e, std::string& out) {
  out += ",\"";
  out += name;
  out += "\":{";
  bool first = true;
  auto field = [&](std::string_view key) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += key;
    out += "\":";
  };
  if (!e.service_name.empty()) {
    field("serviceName");
    common::appendJsonString(out, e.service_name);
  }
  if (!e.ipv4.empty()) {
    field("ipv4");
    common::appendJsonString(out, e.ipv4);
  }
  if (!e.ipv6.empty()) {
    field("ipv6");
    common::appendJsonString(out, e.ipv6);
  }
  if (e.port != 0) {
    field("port");
    out += std::to_string(e.port);
  }
  out += '}';
}

void appendProtoEndpoint(uint32_t field, const OutEndpoint& e, std::string& out) {
  std::string body;
  if (!e.service_name.empty()) w::appendLengthDelimited(1, e.service_name, body);
  unsigned char buf[16];
  if (!e.ipv4.empty() && inet_pton(AF_INET, e.ipv4.c_str(), buf) == 1) {
    w::appendLengthDelimited(2, std::string_view(reinterpret_cast<char*>(buf), 4), body);
  }
  if (!e.ipv6.empty() && inet_pton(AF_INET6, e.ipv6.c_str(), buf) == 1) {
    w::appendLengthDelimited(3, std::string_view(reinterpret_cast<char*>(buf), 16), body);
  }
  if (e.port != 0) {
    w::appendTag(4, w::kVarint, body);
    w::appendVarint(static_cast<uint64_t>(e.port), body);
  }
  w::appendLengthDelimited(field, body, out);
}

}  // namespace

void forEachZipkinSpan(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                       const std::function<void(const OutSpan&)>& fn) {
  OutSpan z;
  for (const auto& rs : request.resource_spans()) {
    std::string service = options.default_service_name;
    std::vector<std::pair<std::string, std::string>> resource_tags;
    for (const auto& kv : rs.resource().attributes()) {
      if (kv.key() == "service.name") {
        if (const std::string name = asString(kv.value()); !name.empty()) service = name;
        continue;
      }
      resource_tags.emplace_back(kv.key(), asString(kv.value()));
    }
    for (const auto& ss : rs.scope_spans()) {
      std::vector<std::pair<std::string, std::string>> envelope = resource_tags;
      if (!ss.scope().name().empty()) envelope.emplace_back("otel.scope.name", ss.scope().name());
      if (!ss.scope().version().empty()) {
        envelope.emplace_back("otel.scope.version", ss.scope().version());
      }
      for (const auto& span : ss.spans()) {
        convertSpan(span, service, envelope, z);
        fn(z);
      }
    }
  }
}

void appendSpanJson(const OutSpan& z, std::string& out) {
  auto hex = [&](std::string_view key, const std::string& bytes) {
    out += "\"";
    out += key;
    out += "\":\"";
    appendHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out);
    out += '"';
  };
  out += '{';
  hex("traceId", z.trace_id);
  if (!z.parent_id.empty()) {
    out += ',';
    hex("parentId", z.parent_id);
  }
  out += ',';
  hex("id", z.id);
  if (!z.kind.empty()) {
    out += ",\"kind\":\"";
    out += z.kind;
    out += '"';
  }
  if (!z.name.empty()) {
    out += ",\"name\":";
    common::appendJsonString(out, z.name);
  }
  if (z.timestamp_us != 0) {
    out += ",\"timestamp\":";
    out += std::to_string(z.timestamp_us);
  }
  if (z.duration_us != 0) {
    out += ",\"duration\":";
    out += std::to_string(z.duration_us);
  }
  if (!z.local.empty()) appendEndpointJson("localEndpoint", z.local, out);
  if (!z.remote.empty()) appendEndpointJson("remoteEndpoint", z.remote, out);
  if (!z.annotations.empty()) {
    out += ",\"annotations\":[";
    for (size_t i = 0; i < z.annotations.size(); ++i) {
      if (i) out += ',';
      out += "{\"timestamp\":";
      out += std::to_string(z.annotations[i].first);
      out += ",\"value\":";
      common::appendJsonString(out, z.annotations[i].second);
      out += '}';
    }
    out += ']';
  }
  if (!z.tags.empty()) {
    out += ",\"tags\":{";
    for (size_t i = 0; i < z.tags.size(); ++i) {
      if (i) out += ',';
      common::appendJsonString(out, z.tags[i].first);
      out += ':';
      common::appendJsonString(out, z.tags[i].second);
    }
    out += '}';
  }
  if (z.shared) out += ",\"shared\":true";
  out += '}';
}

void appendSpanProto(const OutSpan& z, std::string& out) {
  w::appendLengthDelimited(1, z.trace_id, out);
  if (!z.parent_id.empty()) w::appendLengthDelimited(2, z.parent_id, out);
  w::appendLengthDelimited(3, z.id, out);
  const int kind = z.kind == "CLIENT"     ? 1
                   : z.kind == "SERVER"   ? 2
                   : z.kind == "PRODUCER" ? 3
                   : z.kind == "CONSUMER" ? 4
                                          : 0;
  if (kind != 0) {
    w::appendTag(4, w::kVarint, out);
    w::appendVarint(static_cast<uint64_t>(kind), out);
  }
  if (!z.name.empty()) w::appendLengthDelimited(5, z.name, out);
  if (z.timestamp_us != 0) {
    w::appendTag(6, w::kFixed64, out);
    w::appendFixed64(z.timestamp_us, out);
  }
  if (z.duration_us != 0) {
    w::appendTag(7, w::kVarint, out);
    w::appendVarint(z.duration_us, out);
  }
  if (!z.local.empty()) appendProtoEndpoint(8, z.local, out);
  if (!z.remote.empty()) appendProtoEndpoint(9, z.remote, out);
  for (const auto& [ts, value] : z.annotations) {
    std::string a;
    w::appendTag(1, w::kFixed64, a);
    w::appendFixed64(ts, a);
    w::appendLengthDelimited(2, value, a);
    w::appendLengthDelimited(10, a, out);
  }
  for (const auto& [key, value] : z.tags) {
    std::string entry;
    w::appendLengthDelimited(1, key, entry);
    w::appendLengthDelimited(2, value, entry);
    w::appendLengthDelimited(11, entry, out);
  }
  if (z.shared) {
    w::appendTag(13, w::kVarint, out);
    w::appendVarint(1, out);
  }
}

std::string toZipkinJson(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                         size_t* spans) {
  std::string out = "[";
  size_t n = 0;
  forEachZipkinSpan(request, options, [&](const OutSpan& z) {
    if (n++ != 0) out += ',';
    appendSpanJson(z, out);
  });
  out += ']';
  if (spans) *spans = n;
  return out;
}

std::string toZipkinProto(const otlp::TracesRequest& request, const FromOtlpOptions& options,
                          size_t* spans) {
  std::string out, one;
  size_t n = 0;
  forEachZipkinSpan(request, options, [&](const OutSpan& z) {
    ++n;
    one.clear();
    appendSpanProto(z, one);
    w::appendLengthDelimited(1, one, out);
  });
  if (spans) *spans = n;
  return out;
}

}  // namespace otlpd::zipkin
