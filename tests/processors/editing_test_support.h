// Running a processor over a request built with the protobuf classes, as a receiver would hand it
// on (a wire batch), and reading what the next consumer got.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics_registry.h"
#include "config/loader.h"
#include "otlp/proto.h"
#include "pipeline/factory.h"

namespace otlpd::processors::testing {

using pipeline::Batch;
using pipeline::Signal;
namespace pbc = otlp::pb_common;
namespace pbt = otlp::pb_trace;
namespace pbl = otlp::pb_logs;
namespace pbm = otlp::pb_metrics;

class CapturingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(Batch&& batch) override {
    batches.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::vector<Batch> batches;
};

// A processor made by `factory` from a YAML config, or the config errors it reported.
struct Made {
  std::unique_ptr<pipeline::Processor> processor;
  std::shared_ptr<CapturingConsumer> next = std::make_shared<CapturingConsumer>();
  std::string errors;
};

inline common::MetricsRegistry& testMetrics() {
  static common::MetricsRegistry registry{common::MetricsRegistry::ProcessMetrics::kExclude};
  return registry;
}

inline Made makeProcessor(const pipeline::ProcessorFactory& factory, std::string_view yaml,
                          Signal signal) {
  Made made;
  config::ConfigErrors errors;
  auto node = config::parseYaml(yaml, "test");
  if (!node.ok()) {
    made.errors = std::string(node.status().message());
    return made;
  }
  const std::string path = "processors." + std::string(factory.type());
  config::ConfigNode cfg(*node, path, errors);
  auto created =
      factory.create(pipeline::CreateSettings{{std::string(factory.type()), ""}, testMetrics()},
                     cfg, signal, made.next);
  cfg.rejectUnknownKeys();
  made.errors = errors.toString();
  if (!created.ok()) {
    made.errors += std::string(created.status().message());
  } else {
    made.processor = *std::move(created);
  }
  return made;
}

// The config errors `yaml` gives, "" when it is valid.
inline std::string configErrors(const pipeline::ProcessorFactory& factory, std::string_view yaml,
                                Signal signal = Signal::kTraces) {
  return makeProcessor(factory, yaml, signal).errors;
}

// Runs `request` through the processor as a wire batch; the request the next consumer got.
template <class Request>
Request run(Made& made, const Request& request, Signal signal) {
  Request out;
  EXPECT_TRUE(made.errors.empty()) << made.errors;
  if (!made.processor) return out;
  std::string bytes = request.SerializeAsString();
  Batch batch = Batch::fromWire(signal, pipeline::WireBytes::fromString(std::move(bytes)), 0);
  const size_t before = made.next->batches.size();
  absl::Status status = made.processor->consume(std::move(batch));
  EXPECT_TRUE(status.ok()) << status;
  if (made.next->batches.size() != before + 1) {
    ADD_FAILURE() << "the next consumer got no batch";
    return out;
  }
  out.CopyFrom(made.next->batches.back().request());
  return out;
}

inline otlp::TracesRequest runTraces(Made& made, const otlp::TracesRequest& request) {
  return run(made, request, Signal::kTraces);
}
inline otlp::LogsRequest runLogs(Made& made, const otlp::LogsRequest& request) {
  return run(made, request, Signal::kLogs);
}
inline otlp::MetricsRequest runMetrics(Made& made, const otlp::MetricsRequest& request) {
  return run(made, request, Signal::kMetrics);
}

// Attribute values to build requests from.
inline pbc::AnyValue str(std::string s) {
  pbc::AnyValue v;
  v.set_string_value(std::move(s));
  return v;
}
inline pbc::AnyValue i64(int64_t i) {
  pbc::AnyValue v;
  v.set_int_value(i);
  return v;
}
inline pbc::AnyValue dbl(double d) {
  pbc::AnyValue v;
  v.set_double_value(d);
  return v;
}
inline pbc::AnyValue boolean(bool b) {
  pbc::AnyValue v;
  v.set_bool_value(b);
  return v;
}
inline pbc::AnyValue bytes(std::string b) {
  pbc::AnyValue v;
  v.set_bytes_value(std::move(b));
  return v;
}

using Attrs = std::vector<std::pair<std::string, pbc::AnyValue>>;

inline void setAttributes(google::protobuf::RepeatedPtrField<pbc::KeyValue>* out,
                          const Attrs& attrs) {
  out->Clear();
  for (const auto& [k, v] : attrs) {
    auto* kv = out->Add();
    kv->set_key(k);
    *kv->mutable_value() = v;
  }
}

// A value as tests compare it: strings quoted, other kinds as written in YAML.
inline std::string render(const pbc::AnyValue& v) {
  switch (v.value_case()) {
    case pbc::AnyValue::kStringValue:
      return "\"" + v.string_value() + "\"";
    case pbc::AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case pbc::AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case pbc::AnyValue::kDoubleValue: {
      std::ostringstream s;
      s << v.double_value();
      return "double:" + s.str();
    }
    case pbc::AnyValue::kBytesValue:
      return "bytes:" + v.bytes_value();
    case pbc::AnyValue::kArrayValue: {
      std::string out = "[";
      for (int i = 0; i < v.array_value().values_size(); ++i) {
        if (i > 0) out += ", ";
        out += render(v.array_value().values(i));
      }
      return out + "]";
    }
    case pbc::AnyValue::kKvlistValue: {
      std::string out = "{";
      for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
        if (i > 0) out += ", ";
        out += v.kvlist_value().values(i).key() + ": " + render(v.kvlist_value().values(i).value());
      }
      return out + "}";
    }
    default:
      return "empty";
  }
}

// Attributes in their order: `a="x" b=1`.
inline std::string render(const google::protobuf::RepeatedPtrField<pbc::KeyValue>& attrs) {
  std::string out;
  for (const auto& kv : attrs) {
    if (!out.empty()) out += " ";
    out += kv.key() + "=" + render(kv.value());
  }
  return out;
}

inline std::string render(const Attrs& attrs) {
  google::protobuf::RepeatedPtrField<pbc::KeyValue> list;
  setAttributes(&list, attrs);
  return render(list);
}

}  // namespace otlpd::processors::testing
