#include "processors/probabilistic_sampler/probabilistic_sampler_processor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "common/metrics_registry.h"
#include "common/strings.h"
#include "otlp/value.h"
#include "processors/common/editing_processor.h"
#include "processors/probabilistic_sampler/sampler.h"
#include "processors/probabilistic_sampler/span_rewriter.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

constexpr std::string_view kThresholdAttribute = "sampling.threshold";
constexpr std::string_view kRandomnessAttribute = "sampling.randomness";
constexpr std::string_view kSpanPriorityAttribute = "sampling.priority";

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
        decisions_[index(policy, sampled != 0)] =
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

  static size_t index(Policy policy, bool sampled) {
    return static_cast<size_t>(policy) * 2 + (sampled ? 1 : 0);
  }

  // One batch's counts, added to the counters once at its end.
  struct Counts {
    std::array<uint64_t, kPolicyCount * 2> decisions{};
    std::array<uint64_t, kSamplerErrorCount> errors{};
    void add(const Decision& d) {
      ++decisions[index(d.policy, d.sampled)];
      if (d.error != SamplerError::kNone) ++errors[static_cast<size_t>(d.error)];
    }
  };

  void add(const Counts& counts) const {
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

// Spans through the generic wire editor: what runs when the sampler is fused with neighbouring
// editing processors (one walk for all of them).
class SpanEditor final : public otlp::TracesEditor {
 public:
  explicit SpanEditor(const Sampler& sampler) : sampler_(sampler) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }

  bool editSpan(const otlp::MessageEdit&, const otlp::MessageEdit&,
                otlp::MessageEdit& span) override {
    SpanPriority priority = SpanPriority::kDefer;
    otlp::AttributeList& attributes = span.attributes();
    if (std::optional<size_t> i = attributes.find(kSpanPriorityAttribute)) {
      priority = spanPriorityOfAttribute(attributes.encodedValue(*i));
    }
    const std::string_view trace_state = span.lengthDelimited(otlp::fields::kSpanTraceState);
    const SpanDecision d = sampler_.decideSpan(span.lengthDelimited(otlp::fields::kSpanTraceId),
                                               trace_state, priority, scratch_, new_trace_state_);
    counts.add(d);
    if (!d.sampled) return false;
    if (d.tracestate_changed) {
      if (new_trace_state_.empty()) {
        span.clearField(otlp::fields::kSpanTraceState);
      } else {
        span.setLengthDelimited(otlp::fields::kSpanTraceState, new_trace_state_);
      }
    }
    return true;
  }

  SamplerMetrics::Counts counts;

 private:
  const Sampler& sampler_;
  TraceState scratch_;
  std::string new_trace_state_;
};

class LogRecordEditor final : public otlp::LogsEditor {
 public:
  LogRecordEditor(const Sampler& sampler, const SamplerConfig& config)
      : sampler_(sampler), config_(config) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }

  bool editLogRecord(const otlp::MessageEdit&, const otlp::MessageEdit&,
                     otlp::MessageEdit& record) override {
    otlp::AttributeList& attributes = record.attributes();
    LogRecordInput in;
    in.trace_id = record.lengthDelimited(otlp::fields::kLogTraceId);
    const std::optional<size_t> threshold_at = attributes.find(kThresholdAttribute);
    if (threshold_at) in.threshold = attributes.stringValue(*threshold_at);
    if (std::optional<size_t> i = attributes.find(kRandomnessAttribute)) {
      in.randomness = attributes.stringValue(*i);
    }
    if (!config_.from_attribute.empty()) {
      if (std::optional<size_t> i = attributes.find(config_.from_attribute)) {
        const otlp::Value value = attributes.value(*i);
        source_ =
            value.kind() == otlp::Value::Kind::kBytes ? value.str() : otlp::valueAsString(value);
        in.source_attribute = source_;
      }
    }
    if (!config_.sampling_priority.empty()) {
      if (std::optional<size_t> i = attributes.find(config_.sampling_priority)) {
        const otlp::Value value = attributes.value(*i);
        if (value.kind() == otlp::Value::Kind::kDouble) in.priority = value.dbl();
        if (value.kind() == otlp::Value::Kind::kInt) {
          in.priority = static_cast<double>(value.integer());
        }
      }
    }
    const LogDecision d = sampler_.decideLogRecord(in);
    counts.add(d);
    if (!d.sampled) return false;
    if (!d.randomness.empty()) {
      attributes.put(kRandomnessAttribute, otlp::Value::ofString(d.randomness));
    }
    if (!d.threshold.empty()) {
      // An inconsistent threshold was erased before the new one is written (it then comes last,
      // as in the Collector).
      if (d.error == SamplerError::kInconsistentThreshold && threshold_at) {
        attributes.erase(*threshold_at);
      }
      attributes.put(kThresholdAttribute, otlp::Value::ofString(d.threshold));
    }
    return true;
  }

  SamplerMetrics::Counts counts;

 private:
  const Sampler& sampler_;
  const SamplerConfig& config_;
  std::string source_;
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
      return std::make_unique<CountingBatchEdit<SpanEditor>>(metrics_, sampler_);
    }
    if (signal() == pipeline::Signal::kLogs) {
      return std::make_unique<CountingBatchEdit<LogRecordEditor>>(metrics_, sampler_, config_);
    }
    return nullptr;
  }

  // On its own (not fused), spans take the fast path.
  absl::StatusOr<otlp::RewriteResult> rewrite(std::string_view request) override {
    if (signal() != pipeline::Signal::kTraces) return EditingProcessor::rewrite(request);
    SamplerMetrics::Counts counts;
    TraceState scratch;
    std::string new_trace_state;
    absl::StatusOr<otlp::RewriteResult> result = rewriteSpans(request, [&](const SpanFields& span) {
      const SpanDecision d = sampler_.decideSpan(span.trace_id, span.trace_state, span.priority,
                                                 scratch, new_trace_state);
      counts.add(d);
      return SpanVerdict{d.sampled, d.tracestate_changed ? &new_trace_state : nullptr};
    });
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
