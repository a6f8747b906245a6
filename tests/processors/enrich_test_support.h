// Runs a processor over encoded requests the way the pipeline does: a wire batch in, whatever it
// hands on captured and decoded for comparison. Shared by the resourcedetection, lookup and
// redaction tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "config/loader.h"
#include "otlp/proto.h"
#include "pipeline/batch.h"
#include "pipeline/factory.h"

namespace otlpd::processors::testing {

class CapturingConsumer final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(mutex);
    batches.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::mutex mutex;
  std::vector<pipeline::Batch> batches;
};

class NullHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

inline size_t itemCount(const otlp::TracesRequest& r) {
  size_t n = 0;
  for (const auto& rs : r.resource_spans())
    for (const auto& ss : rs.scope_spans()) n += static_cast<size_t>(ss.spans_size());
  return n;
}
inline size_t itemCount(const otlp::LogsRequest& r) {
  size_t n = 0;
  for (const auto& rl : r.resource_logs())
    for (const auto& sl : rl.scope_logs()) n += static_cast<size_t>(sl.log_records_size());
  return n;
}
inline size_t itemCount(const otlp::MetricsRequest& r) {
  size_t n = 0;
  for (const auto& rm : r.resource_metrics())
    for (const auto& sm : rm.scope_metrics())
      for (const auto& m : sm.metrics())
        n += static_cast<size_t>(m.gauge().data_points_size() + m.sum().data_points_size() +
                                 m.histogram().data_points_size());
  return n;
}

template <class Request>
pipeline::Batch wireBatch(pipeline::Signal signal, const Request& request) {
  return pipeline::Batch::fromWire(
      signal, pipeline::WireBytes::fromString(request.SerializeAsString()), itemCount(request));
}

// One processor of `factory` for `signal`, configured from `yaml`, started.
class Harness {
 public:
  explicit Harness(std::unique_ptr<pipeline::ProcessorFactory> factory)
      : factory_(std::move(factory)) {}
  ~Harness() {
    if (processor_) (void)processor_->shutdown();
  }

  // Creates (and starts, when the config is valid) the processor; returns the config errors.
  std::string create(const std::string& yaml, pipeline::Signal signal, bool start = true) {
    errors_ = config::ConfigErrors();
    absl::StatusOr<YAML::Node> node = config::parseYaml(yaml.empty() ? "{}" : yaml, "test");
    EXPECT_TRUE(node.ok()) << node.status();
    config::ConfigNode cfg(*node, "processors.x", errors_);
    auto p = factory_->create(
        pipeline::CreateSettings{{std::string(factory_->type()), ""}, metrics}, cfg, signal, next);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return std::string(p.status().message());
    processor_ = *std::move(p);
    if (errors_.empty() && start) {
      absl::Status started = processor_->start(host_);
      if (!started.ok()) return std::string(started.message());
    }
    return errors_.toString();
  }

  template <class Request>
  Request run(pipeline::Signal signal, const Request& request) {
    {
      std::lock_guard lock(next->mutex);
      next->batches.clear();
    }
    absl::Status s = processor_->consume(wireBatch(signal, request));
    EXPECT_TRUE(s.ok()) << s;
    std::lock_guard lock(next->mutex);
    Request out;
    if (next->batches.empty()) return out;
    out.CopyFrom(next->batches.back().request());
    return out;
  }

  uint64_t counter(const std::string& name) {
    return metrics.counter(name, "", {{"processor", std::string(factory_->type())}}).value();
  }

  pipeline::Processor& processor() { return *processor_; }

  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<CapturingConsumer> next = std::make_shared<CapturingConsumer>();

 private:
  std::unique_ptr<pipeline::ProcessorFactory> factory_;
  config::ConfigErrors errors_;
  NullHost host_;
  std::unique_ptr<pipeline::Processor> processor_;
};

// ---- building and reading OTLP messages ----

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

inline const otlp::pb_common::AnyValue* find(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attrs,
    const std::string& key) {
  for (const auto& kv : attrs)
    if (kv.key() == key) return &kv.value();
  return nullptr;
}

// The attributes as "k=v" lines sorted by key (strings as they are, ints in decimal), to compare
// whole lists at once.
inline std::vector<std::string> flat(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attrs) {
  std::vector<std::string> out;
  for (const auto& kv : attrs) {
    std::string v;
    switch (kv.value().value_case()) {
      case otlp::pb_common::AnyValue::kStringValue:
        v = kv.value().string_value();
        break;
      case otlp::pb_common::AnyValue::kIntValue:
        v = std::to_string(kv.value().int_value());
        break;
      case otlp::pb_common::AnyValue::kBoolValue:
        v = kv.value().bool_value() ? "true" : "false";
        break;
      case otlp::pb_common::AnyValue::kDoubleValue:
        v = std::to_string(kv.value().double_value());
        break;
      default:
        v = "<" + kv.value().ShortDebugString() + ">";
    }
    out.push_back(kv.key() + "=" + v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace otlpd::processors::testing
