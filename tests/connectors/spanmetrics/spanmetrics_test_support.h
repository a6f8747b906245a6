// Spans built with protobuf and the metrics read back with protobuf, for the spanmetrics tests:
// the expected aggregates are computed from the spans here, independently of the connector.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "config/config_node.h"
#include "config/loader.h"
#include "connectors/spanmetrics/config.h"
#include "otlp/proto.h"

namespace otlpd::connectors::spanmetrics::testing {

inline const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

inline Config configFrom(const std::string& yaml) {
  config::ConfigErrors errors;
  auto root = config::parseYaml(yaml.empty() ? "{}" : yaml, "test");
  EXPECT_TRUE(root.ok()) << root.status();
  config::ConfigNode node(*root, "connectors.spanmetrics", errors);
  Config c = parseConfig(node);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return c;
}

inline void putString(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
                      const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

inline void putInt(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
                   const std::string& key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

// A span as the tests describe it; `attributes` are string attributes.
struct TestSpan {
  std::string name = "op";
  int kind = otlp::pb_trace::Span::SPAN_KIND_SERVER;
  int status = otlp::pb_trace::Status::STATUS_CODE_UNSET;
  uint64_t start = 1'000'000'000;
  uint64_t end = 1'000'000'000 + 5'000'000;  // 5 ms
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string trace_id = std::string(15, '\0') + "\x01";
  std::string span_id = std::string(7, '\0') + "\x01";
};

struct TestResource {
  std::vector<std::pair<std::string, std::string>> attributes;  // service.name among them
  std::vector<TestSpan> spans;
};

inline std::string encode(const std::vector<TestResource>& resources) {
  otlp::TracesRequest req;
  for (const TestResource& r : resources) {
    auto* rs = req.add_resource_spans();
    for (const auto& [k, v] : r.attributes)
      putString(rs->mutable_resource()->mutable_attributes(), k, v);
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("test");
    for (const TestSpan& t : r.spans) {
      auto* span = ss->add_spans();
      span->set_trace_id(t.trace_id);
      span->set_span_id(t.span_id);
      span->set_name(t.name);
      span->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(t.kind));
      span->mutable_status()->set_code(static_cast<otlp::pb_trace::Status::StatusCode>(t.status));
      span->set_start_time_unix_nano(t.start);
      span->set_end_time_unix_nano(t.end);
      for (const auto& [k, v] : t.attributes) putString(span->mutable_attributes(), k, v);
    }
  }
  return req.SerializeAsString();
}

// The attributes of a data point as "k=v" strings in order (any value rendered as text).
inline std::string render(const otlp::pb_common::AnyValue& v) {
  switch (v.value_case()) {
    case otlp::pb_common::AnyValue::kStringValue:
      return v.string_value();
    case otlp::pb_common::AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case otlp::pb_common::AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    default:
      return "?";
  }
}

inline std::string render(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& kvs) {
  std::string out;
  for (const auto& kv : kvs) {
    if (!out.empty()) out += ",";
    out += kv.key() + "=" + render(kv.value());
  }
  return out;
}

// One output series, read back from an ExportMetricsServiceRequest.
struct ReadSeries {
  std::string resource;  // rendered resource attributes
  uint64_t calls = 0;
  uint64_t calls_start = 0, calls_time = 0;
  std::optional<otlp::pb_metrics::HistogramDataPoint> histogram;
  std::optional<otlp::pb_metrics::ExponentialHistogramDataPoint> exponential;
  std::vector<otlp::pb_metrics::Exemplar> call_exemplars;
};

struct ReadMetrics {
  std::map<std::string, ReadSeries> series;  // by "resource|point attributes"
  std::vector<std::string> metric_names;
  std::vector<std::string> units;
  std::vector<otlp::pb_metrics::AggregationTemporality> temporalities;
  size_t data_points = 0;
};

inline ReadMetrics readMetrics(const std::string& bytes) {
  ReadMetrics out;
  otlp::MetricsRequest req;
  EXPECT_TRUE(req.ParseFromString(bytes));
  for (const auto& rm : req.resource_metrics()) {
    const std::string resource = render(rm.resource().attributes());
    for (const auto& sm : rm.scope_metrics()) {
      EXPECT_EQ(sm.scope().name(), "spanmetricsconnector");
      for (const auto& m : sm.metrics()) {
        out.metric_names.push_back(m.name());
        out.units.push_back(m.unit());
        if (m.has_sum()) {
          EXPECT_TRUE(m.sum().is_monotonic());
          out.temporalities.push_back(m.sum().aggregation_temporality());
          for (const auto& p : m.sum().data_points()) {
            ReadSeries& s = out.series[resource + "|" + render(p.attributes())];
            s.resource = resource;
            s.calls = static_cast<uint64_t>(p.as_int());
            s.calls_start = p.start_time_unix_nano();
            s.calls_time = p.time_unix_nano();
            s.call_exemplars.assign(p.exemplars().begin(), p.exemplars().end());
            ++out.data_points;
          }
        } else if (m.has_histogram()) {
          out.temporalities.push_back(m.histogram().aggregation_temporality());
          for (const auto& p : m.histogram().data_points()) {
            out.series[resource + "|" + render(p.attributes())].histogram = p;
            ++out.data_points;
          }
        } else if (m.has_exponential_histogram()) {
          out.temporalities.push_back(m.exponential_histogram().aggregation_temporality());
          for (const auto& p : m.exponential_histogram().data_points()) {
            out.series[resource + "|" + render(p.attributes())].exponential = p;
            ++out.data_points;
          }
        } else {
          ADD_FAILURE() << "unexpected metric type in " << m.name();
        }
      }
    }
  }
  return out;
}

}  // namespace otlpd::connectors::spanmetrics::testing
