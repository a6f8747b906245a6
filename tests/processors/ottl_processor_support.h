// Runs a processor built by its factory from YAML over one request, as the pipeline does: the
// request serialized to bytes (a wire batch) and the output read back as protobuf.
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>

#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "otlp/proto.h"
#include "pipeline/batch.h"
#include "pipeline/factory.h"

namespace otlpd::processors::ottl_testing {

class Capture final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    batches.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::vector<pipeline::Batch> batches;
};

struct Run {
  absl::Status status;
  std::optional<pipeline::Batch> out;  // empty when everything was dropped (nothing passed on)
};

class ProcessorHarness {
 public:
  ProcessorHarness(const pipeline::ProcessorFactory& factory, const std::string& yaml,
                   pipeline::Signal signal)
      : capture_(std::make_shared<Capture>()) {
    config::ConfigNode node(YAML::Load(yaml), "processors.p", errors_);
    auto created =
        factory.create(pipeline::CreateSettings{{std::string(factory.type()), ""}, metrics_}, node,
                       signal, capture_);
    node.rejectUnknownKeys();
    EXPECT_TRUE(created.ok()) << created.status();
    if (created.ok()) processor_ = std::move(*created);
    signal_ = signal;
  }

  const config::ConfigErrors& errors() const { return errors_; }
  common::MetricsRegistry& metrics() { return metrics_; }

  template <class Request>
  Run run(const Request& request, size_t items) {
    capture_->batches.clear();
    Run r;
    r.status = processor_->consume(pipeline::Batch::fromWire(
        signal_, pipeline::WireBytes::fromString(request.SerializeAsString()), items));
    if (!capture_->batches.empty()) r.out = std::move(capture_->batches.front());
    return r;
  }

 private:
  config::ConfigErrors errors_;
  common::MetricsRegistry metrics_{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<Capture> capture_;
  std::unique_ptr<pipeline::Processor> processor_;
  pipeline::Signal signal_ = pipeline::Signal::kTraces;
};

inline void putString(google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>* attrs,
                      const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

inline const otlp::pb_common::AnyValue* find(
    const google::protobuf::RepeatedPtrField<otlp::pb_common::KeyValue>& attrs,
    const std::string& key) {
  for (const auto& kv : attrs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

}  // namespace otlpd::processors::ottl_testing
