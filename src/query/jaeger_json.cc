#include "query/jaeger_json.h"

#include <cctype>
#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;
namespace pb_common = otlp::pb_common;
namespace pb_trace = otlp::pb_trace;

int64_t nanosToMicros(uint64_t ns) {
  return static_cast<int64_t>(ns / 1000);
}

json tag(std::string_view key, std::string_view type, json value) {
  return json{{"key", std::string(key)}, {"type", std::string(type)}, {"value", std::move(value)}};
}

json attributeTag(const pb_common::KeyValue& kv) {
  const auto& v = kv.value();
  switch (v.value_case()) {
    case pb_common::AnyValue::kStringValue:
      return tag(kv.key(), "string", v.string_value());
    case pb_common::AnyValue::kBoolValue:
      return tag(kv.key(), "bool", v.bool_value());
    case pb_common::AnyValue::kIntValue:
      return tag(kv.key(), "int64", v.int_value());
    case pb_common::AnyValue::kDoubleValue:
      return tag(kv.key(), "float64", anyValueJson(v, NonFinite::kNull));
    case pb_common::AnyValue::kBytesValue:
      return tag(kv.key(), "binary", anyValueJson(v, NonFinite::kNull));
    case pb_common::AnyValue::kArrayValue:
    case pb_common::AnyValue::kKvlistValue:
      return tag(kv.key(), "string", dumpJson(anyValueJson(v, NonFinite::kNull)));
    default:
      return tag(kv.key(), "string", "");
  }
}

template <class Attributes>
void appendTags(json& tags, const Attributes& attributes, std::string_view skip = {}) {
  for (const auto& kv : attributes) {
    if (!skip.empty() && kv.key() == skip) continue;
    tags.push_back(attributeTag(kv));
  }
}

std::string_view spanKindName(pb_trace::Span::SpanKind kind) {
  switch (kind) {
    case pb_trace::Span::SPAN_KIND_SERVER:
      return "server";
    case pb_trace::Span::SPAN_KIND_CLIENT:
      return "client";
    case pb_trace::Span::SPAN_KIND_PRODUCER:
      return "producer";
    case pb_trace::Span::SPAN_KIND_CONSUMER:
      return "consumer";
    case pb_trace::Span::SPAN_KIND_INTERNAL:
      return "internal";
    default:
      return "";
  }
}

json toJaegerSpan(const pb_trace::Span& span, const pb_common::InstrumentationScope& scope,
                  const std::string& process_id) {
  const std::string trace_id = hexId(span.trace_id());
  json references = json::array();
  if (!span.parent_span_id().empty()) {
    references.push_back(
        {{"refType", "CHILD_OF"}, {"traceID", trace_id}, {"spanID", hexId(span.parent_span_id())}});
  }
  for (const auto& link : span.links()) {
    references.push_back({{"refType", "FOLLOWS_FROM"},
                          {"traceID", hexId(link.trace_id())},
                          {"spanID", hexId(link.span_id())}});
  }

  json tags = json::array();
  appendTags(tags, span.attributes());
  if (std::string_view kind = spanKindName(span.kind()); !kind.empty()) {
    tags.push_back(tag("span.kind", "string", std::string(kind)));
  }
  if (!scope.name().empty()) tags.push_back(tag("otel.scope.name", "string", scope.name()));
  if (!scope.version().empty()) {
    tags.push_back(tag("otel.scope.version", "string", scope.version()));
  }
  if (span.has_status()) {
    const auto code = span.status().code();
    if (code == pb_trace::Status::STATUS_CODE_ERROR) {
      tags.push_back(tag("otel.status_code", "string", "ERROR"));
      tags.push_back(tag("error", "bool", true));
    } else if (code == pb_trace::Status::STATUS_CODE_OK) {
      tags.push_back(tag("otel.status_code", "string", "OK"));
    }
    if (!span.status().message().empty()) {
      tags.push_back(tag("otel.status_description", "string", span.status().message()));
    }
  }

  json logs = json::array();
  for (const auto& event : span.events()) {
    json fields = json::array();
    if (!event.name().empty()) fields.push_back(tag("event", "string", event.name()));
    appendTags(fields, event.attributes());
    logs.push_back({{"timestamp", nanosToMicros(event.time_unix_nano())}, {"fields", fields}});
  }

  const uint64_t start = span.start_time_unix_nano();
  const uint64_t end = span.end_time_unix_nano();
  return json{{"traceID", trace_id},
              {"spanID", hexId(span.span_id())},
              {"flags", span.flags() & 0xffu},
              {"operationName", span.name()},
              {"references", std::move(references)},
              {"startTime", nanosToMicros(start)},
              {"duration", end > start ? nanosToMicros(end - start) : 0},
              {"tags", std::move(tags)},
              {"logs", std::move(logs)},
              {"processID", process_id},
              {"warnings", nullptr}};
}

struct TraceBuilder {
  std::string trace_id;
  json spans = json::array();
  json processes = json::object();
  // Serialized resource → process id.
  std::unordered_map<std::string, std::string> process_ids;
};

}  // namespace

std::optional<int64_t> parseDurationMicros(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_us = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t num_start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == num_start) return std::nullopt;
    const std::string number(text.substr(num_start, i - num_start));
    if (number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
    const double value = std::strtod(number.c_str(), nullptr);
    const size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) &&
           text[i] != '.') {
      ++i;
    }
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double factor;
    if (unit == "ns") {
      factor = 1e-3;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      factor = 1;
    } else if (unit == "ms") {
      factor = 1e3;
    } else if (unit == "s") {
      factor = 1e6;
    } else if (unit == "m") {
      factor = 60e6;
    } else if (unit == "h") {
      factor = 3600e6;
    } else {
      return std::nullopt;
    }
    total_us += value * factor;
  }
  if (!std::isfinite(total_us) || total_us > 9e18) return std::nullopt;
  return static_cast<int64_t>(total_us);
}

std::string_view spanKindText(int otlp_kind) {
  if (!pb_trace::Span::SpanKind_IsValid(otlp_kind)) return "";
  return spanKindName(static_cast<pb_trace::Span::SpanKind>(otlp_kind));
}

std::optional<int> parseSpanKind(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(toAbsl(text));
  if (lower.empty() || lower == "unspecified") return 0;
  for (int k = 1; k <= 5; ++k) {
    if (spanKindText(k) == lower) return k;
  }
  return std::nullopt;
}

json toJaegerTraces(const otlp::TracesRequest& request) {
  std::vector<TraceBuilder> traces;
  std::unordered_map<std::string, size_t> index;  // raw trace id → traces[i]
  for (const auto& rs : request.resource_spans()) {
    const std::string resource_key = rs.resource().SerializeAsString();
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        auto [it, inserted] = index.try_emplace(span.trace_id(), traces.size());
        if (inserted) {
          traces.emplace_back();
          traces.back().trace_id = hexId(span.trace_id());
        }
        TraceBuilder& trace = traces[it->second];
        auto [pit, new_process] = trace.process_ids.try_emplace(resource_key);
        if (new_process) {
          pit->second = otlpd::strCat("p", trace.process_ids.size());
          json process_tags = json::array();
          appendTags(process_tags, rs.resource().attributes(), "service.name");
          trace.processes[pit->second] = {
              {"serviceName", serviceNameOf(rs.resource(), "unknown_service")},
              {"tags", std::move(process_tags)}};
        }
        trace.spans.push_back(toJaegerSpan(span, ss.scope(), pit->second));
      }
    }
  }
  json out = json::array();
  for (auto& trace : traces) {
    out.push_back({{"traceID", std::move(trace.trace_id)},
                   {"spans", std::move(trace.spans)},
                   {"processes", std::move(trace.processes)},
                   {"warnings", nullptr}});
  }
  return out;
}

json jaegerEnvelope(json data, size_t total) {
  return json{{"data", std::move(data)},
              {"total", total},
              {"limit", 0},
              {"offset", 0},
              {"errors", nullptr}};
}

json jaegerError(int code, std::string_view msg) {
  return json{{"data", nullptr},
              {"total", 0},
              {"limit", 0},
              {"offset", 0},
              {"errors", json::array({{{"code", code}, {"msg", std::string(msg)}}})}};
}

std::string dumpJson(const json& value) {
  try {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (...) {
    return "null";
  }
}

}  // namespace otlpd::query
