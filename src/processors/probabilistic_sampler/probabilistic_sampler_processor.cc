#include "processors/probabilistic_sampler/probabilistic_sampler_processor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "common/metrics_registry.h"
#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/probabilistic_sampler/sampler.h"
#include "processors/probabilistic_sampler/sampling_editors.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

constexpr std::array<Policy, kPolicyCount> kPolicies = {
    Policy::kTraceIdHash,      Policy::kTraceIdW3C,        Policy::kSamplingRandomness,
    Policy::kSamplingPriority, Policy::kMissingRandomness, Policy::kAttribute};
constexpr std::array<SamplerError, kSamplerErrorCount - 1> kErrors = {
    SamplerError::kInvalidTraceState, SamplerError::kMissingRandomness,
    SamplerError::kInconsistentThreshold, SamplerError::kRandomnessInUse,
    SamplerError::kThresholdInUse};

// The policies an item of this signal can be counted under with this configuration.
bool policyPossible(Policy policy, const SamplerConfig& config, const Sampler& sampler,
                    pipeline::Signal signal) {
  const bool logs = signal == pipeline::Signal::kLogs;
  if (sampler.never()) return policy == Policy::kSamplingPriority;
  switch (policy) {
    case Policy::kSamplingPriority:
    case Policy::kMissingRandomness:
      return true;
    case Policy::kTraceIdHash:
      return sampler.mode() == Mode::kHashSeed &&
             (!logs || config.attribute_source == AttributeSource::kTraceId);
    case Policy::kTraceIdW3C:
    case Policy::kSamplingRandomness:
      return sampler.mode() != Mode::kHashSeed;
    case Policy::kAttribute:
      return logs && sampler.mode() == Mode::kHashSeed && !config.from_attribute.empty();
  }
  return false;
}

std::string_view policyLabel(Policy policy, const SamplerConfig& config) {
  switch (policy) {
    case Policy::kTraceIdHash:
      return "trace_id_hash";
    case Policy::kTraceIdW3C:
      return "trace_id_w3c";
    case Policy::kSamplingRandomness:
      return "sampling_randomness";
    case Policy::kSamplingPriority:
      return "sampling_priority";
    case Policy::kMissingRandomness:
      return "missing_randomness";
    case Policy::kAttribute:
      return config.from_attribute;  // the Collector labels it with the attribute's name
  }
  return "";
}

// The processor's counters, registered up front for every series its configuration can produce.
class SamplerMetrics {
 public:
  SamplerMetrics(const pipeline::CreateSettings& settings, const SamplerConfig& config,
                 const Sampler& sampler, pipeline::Signal signal) {
    const std::string id = settings.id.toString();
    const bool logs = signal == pipeline::Signal::kLogs;
    const std::string_view name =
        logs ? "otlpd_processor_probabilistic_sampler_count_logs_sampled_total"
             : "otlpd_processor_probabilistic_sampler_count_spans_processed_total";
    const std::string_view help =
        logs ? "Log records the probabilistic_sampler kept (sampled=true) or dropped, by where "
               "their randomness came from or what decided (policy)."
             : "Spans the probabilistic_sampler kept (sampled=true) or dropped, by where their "
               "randomness came from or what decided (policy).";
    for (Policy policy : kPolicies) {
      if (!policyPossible(policy, config, sampler, signal)) continue;
      for (int sampled = 0; sampled < 2; ++sampled) {
        decisions_[DecisionCounts::index(policy, sampled != 0)] =
            &settings.metrics.counter(name, help,
                                      {{"processor", id},
                                       {"policy", std::string(policyLabel(policy, config))},
                                       {"sampled", sampled != 0 ? "true" : "false"}});
      }
    }
    for (SamplerError error : kErrors) {
      errors_[static_cast<size_t>(error)] = &settings.metrics.counter(
          "otlpd_processor_probabilistic_sampler_errors_total",
          "Items whose sampling information was missing, unreadable or inconsistent (kept or "
          "dropped as fail_closed says), by reason.",
          {{"processor", id},
           {"signal", std::string(pipeline::signalName(signal))},
           {"reason", std::string(samplerErrorName(error))}});
    }
  }

  void add(const DecisionCounts& counts) const {
    for (size_t i = 0; i < counts.decisions.size(); ++i) {
      if (counts.decisions[i] != 0 && decisions_[i] != nullptr) {
        decisions_[i]->add(counts.decisions[i]);
      }
    }
    for (size_t i = 0; i < counts.errors.size(); ++i) {
      if (counts.errors[i] != 0 && errors_[i] != nullptr) errors_[i]->add(counts.errors[i]);
    }
  }

 private:
  std::array<common::Counter*, kPolicyCount * 2> decisions_{};
  std::array<common::Counter*, kSamplerErrorCount> errors_{};
};

// Adds the editor's counts when the walk is over.
template <class E>
class CountingBatchEdit final : public BatchEditOf<E> {
 public:
  template <class... Args>
  explicit CountingBatchEdit(const SamplerMetrics& metrics, Args&&... args)
      : BatchEditOf<E>(std::forward<Args>(args)...), metrics_(metrics) {}
  absl::Status finish() override {
    metrics_.add(this->editor.counts);
    return absl::OkStatus();
  }

 private:
  const SamplerMetrics& metrics_;
};

class ProbabilisticSamplerProcessor final : public EditingProcessor {
 public:
  ProbabilisticSamplerProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                                std::shared_ptr<pipeline::Consumer> next, SamplerConfig config)
      : EditingProcessor(settings, signal, std::move(next)),
        config_(std::move(config)),
        sampler_(config_),
        metrics_(settings, config_, sampler_, signal) {}

 protected:
  bool editsInOneWalk() const override { return true; }

  std::unique_ptr<BatchEdit> beginEdit() override {
    if (signal() == pipeline::Signal::kTraces) {
      return std::make_unique<CountingBatchEdit<SpanSamplingEditor>>(metrics_, sampler_);
    }
    if (signal() == pipeline::Signal::kLogs) {
      return std::make_unique<CountingBatchEdit<LogSamplingEditor>>(metrics_, sampler_, config_);
    }
    return nullptr;
  }

  // On its own (not fused), spans take the fast path.
  absl::StatusOr<otlp::RewriteResult> rewrite(std::string_view request) override {
    if (signal() != pipeline::Signal::kTraces) return EditingProcessor::rewrite(request);
    DecisionCounts counts;
    absl::StatusOr<otlp::RewriteResult> result = sampleSpans(request, sampler_, counts);
    metrics_.add(counts);
    return result;
  }

 private:
  SamplerConfig config_;
  Sampler sampler_;
  SamplerMetrics metrics_;
};

SamplerConfig readConfig(config::ConfigNode& config) {
  SamplerConfig out;
  const double percentage = config.getDouble("sampling_percentage", 0);
  // float32, as the Collector holds it: the hash_seed buckets depend on it.
  out.sampling_percentage = static_cast<float>(std::clamp(percentage, 0.0, 100.0));
  if (percentage < 0) {
    config.addError("sampling_percentage", strCat("sampling rate is negative: ", percentage, "%"));
  } else if (percentage > 0 &&
             static_cast<double>(out.sampling_percentage) / 100 < kMinSamplingProbability) {
    config.addError("sampling_percentage", strCat("sampling rate is too small: ", percentage,
                                                  "% (the smallest is 2^-56, about 1.4e-15%)"));
  }

  out.hash_seed = static_cast<uint32_t>(config.getInt("hash_seed", 0, 0, UINT32_MAX));

  const std::string mode = config.getString("mode", "");
  if (mode == "hash_seed") {
    out.mode = Mode::kHashSeed;
  } else if (mode == "proportional") {
    out.mode = Mode::kProportional;
  } else if (mode == "equalizing") {
    out.mode = Mode::kEqualizing;
  } else if (!mode.empty()) {
    config.addError("mode", strCat("unsupported sampler mode \"", mode,
                                   "\" (expected hash_seed, proportional or equalizing)"));
  }

  const int64_t precision = config.getInt("sampling_precision", 4);
  if (precision < 1) {
    config.addError("sampling_precision",
                    strCat("invalid sampling precision: ", precision, " (expected 1 to 14)"));
  } else if (precision > kHexDigits) {
    config.addError("sampling_precision",
                    strCat("sampling precision is too great, should be <= 14: ", precision));
  } else {
    out.sampling_precision = static_cast<int>(precision);
  }

  out.fail_closed = config.getBool("fail_closed", true);

  const std::string source = config.getString("attribute_source", "traceID");
  if (source == "traceID") {
    out.attribute_source = AttributeSource::kTraceId;
  } else if (source == "record") {
    out.attribute_source = AttributeSource::kRecord;
  } else {
    config.addError("attribute_source",
                    strCat("invalid attribute source: ", source, ". Expected: traceID or record"));
  }
  out.from_attribute = config.getString("from_attribute", "");
  out.sampling_priority = config.getString("sampling_priority", "");
  if (out.attribute_source == AttributeSource::kRecord && out.from_attribute.empty()) {
    // The Collector accepts it and then finds no randomness in any record.
    config.addError("from_attribute", "is required when attribute_source is record");
  }
  return out;
}

class ProbabilisticSamplerFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "probabilistic_sampler"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kTraces || signal == pipeline::Signal::kLogs;
  }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    SamplerConfig sampler_config = readConfig(config);
    return std::make_unique<ProbabilisticSamplerProcessor>(settings, signal, std::move(next),
                                                           std::move(sampler_config));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeProbabilisticSamplerFactory() {
  return std::make_unique<ProbabilisticSamplerFactory>();
}

}  // namespace otlpd::processors::probabilistic_sampler
