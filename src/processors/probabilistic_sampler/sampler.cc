#include "processors/probabilistic_sampler/sampler.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace otlpd::processors::probabilistic_sampler {

std::string_view samplerErrorName(SamplerError error) {
  switch (error) {
    case SamplerError::kNone:
      return "none";
    case SamplerError::kInvalidTraceState:
      return "invalid_tracestate";
    case SamplerError::kMissingRandomness:
      return "missing_randomness";
    case SamplerError::kInconsistentThreshold:
      return "inconsistent_threshold";
    case SamplerError::kRandomnessInUse:
      return "randomness_in_use";
    case SamplerError::kThresholdInUse:
      return "threshold_in_use";
  }
  return "none";
}

Sampler::Sampler(const SamplerConfig& config)
    : mode_(config.mode.value_or(Mode::kHashSeed)),
      fail_closed_(config.fail_closed),
      hash_seed_(config.hash_seed),
      precision_(config.sampling_precision),
      logs_trace_id_(config.attribute_source == AttributeSource::kTraceId),
      has_from_attribute_(!config.from_attribute.empty()) {
  float percentage = config.sampling_percentage;
  if (percentage > 100) percentage = 100;  // the README: >= 100 keeps everything
  if (!(percentage > 0)) {
    never_ = true;
    threshold_ = Threshold::never();
    return;
  }
  // Widened before dividing, as the Collector does, so 15.3 stays 15.3 in float32 terms.
  ratio_ = static_cast<double>(percentage) / 100;
  if (ratio_ < kMinSamplingProbability) ratio_ = kMinSamplingProbability;
  switch (mode_) {
    case Mode::kEqualizing:
      threshold_ = *probabilityToThreshold(ratio_, precision_);
      break;
    case Mode::kProportional:
      threshold_ = *probabilityToThreshold(ratio_, precision_);  // what 100% in becomes
      break;
    case Mode::kHashSeed:
      if (std::optional<Threshold> t = hashSeedThreshold(percentage)) {
        threshold_ = *t;
      } else {
        never_ = true;  // fewer than one bucket in 2^14
        threshold_ = Threshold::never();
      }
      break;
  }
}

Threshold Sampler::decide(std::optional<Threshold> arriving) const {
  switch (mode_) {
    case Mode::kHashSeed:
      return threshold_;
    case Mode::kEqualizing:
      // Never raises the probability an item already was sampled with.
      if (arriving && threshold_ < *arriving) return *arriving;
      return threshold_;
    case Mode::kProportional: {
      if (!arriving) return threshold_;  // the configured probability times 1
      const double arriving_probability = arriving ? arriving->probability() : 1.0;
      // A product below 2^-56 cannot be represented: nothing is kept.
      return probabilityToThreshold(arriving_probability * ratio_, precision_)
          .value_or(Threshold::never());
    }
  }
  return threshold_;
}

SpanDecision Sampler::decideSpan(std::string_view trace_id, std::string_view tracestate,
                                 SpanPriority priority, TraceState& scratch,
                                 std::string& new_tracestate) const {
  SpanDecision d;
  Randomness randomness = kAllProbabilitiesRandomness;
  bool missing = true;
  TraceState* carrier = nullptr;  // null: the tracestate is left as it came
  const bool parsed = scratch.parse(tracestate) == TraceStateError::kNone;

  if (never_) {
    // A 0% sampler needs no randomness; only sampling.priority can keep an item.
    d.policy = Policy::kSamplingPriority;
    missing = false;
    if (parsed) {
      carrier = &scratch;
    } else {
      d.error = SamplerError::kInvalidTraceState;
    }
  } else if (mode_ == Mode::kHashSeed) {
    if (isValidTraceId(trace_id)) {
      randomness = hashSeedRandomness(trace_id, hash_seed_);
      missing = false;
      d.policy = Policy::kTraceIdHash;
    }
    if (!parsed) {
      d.error = SamplerError::kInvalidTraceState;
    } else if (scratch.hasRandomness()) {
      // Consistent sampling information from elsewhere is left alone (and is an error here: the
      // consistent modes are the ones that understand it).
      d.error = SamplerError::kRandomnessInUse;
    } else if (scratch.hasThreshold()) {
      d.error = SamplerError::kThresholdInUse;
    } else {
      carrier = &scratch;
      // The hash becomes explicit randomness, so consistent samplers downstream agree with it.
      scratch.setRandomness(randomness);
    }
  } else if (!parsed) {
    d.error = SamplerError::kInvalidTraceState;
  } else {
    carrier = &scratch;
    if (scratch.hasRandomness()) {
      randomness = scratch.randomness();
      missing = false;
      d.policy = Policy::kSamplingRandomness;
    } else if (isValidTraceId(trace_id)) {
      randomness = randomnessFromTraceId(trace_id);
      missing = false;
      d.policy = Policy::kTraceIdW3C;
    }
  }

  if (d.error == SamplerError::kNone) {
    if (missing) {
      d.error = SamplerError::kMissingRandomness;
    } else if (carrier != nullptr && carrier->hasThreshold() &&
               !carrier->threshold().shouldSample(randomness)) {
      // The arriving threshold could not have kept this item: it is a lie, and is erased (the
      // specification's advice) in case the item passes anyway.
      carrier->clearThreshold();
      d.error = SamplerError::kInconsistentThreshold;
    }
  }

  Threshold threshold;
  if (d.error != SamplerError::kNone) {
    threshold = fail_closed_ ? Threshold::never() : Threshold::always();
  } else if (never_) {
    threshold = Threshold::never();
  } else {
    threshold = decide(carrier->hasThreshold() ? std::optional<Threshold>(carrier->threshold())
                                               : std::nullopt);
  }
  // sampling.priority comes last, so it decides even for items with errors.
  if (priority == SpanPriority::kDoNotSample) {
    threshold = Threshold::never();
    d.policy = Policy::kSamplingPriority;
  } else if (priority == SpanPriority::kMustSample) {
    threshold = Threshold::always();
    d.policy = Policy::kSamplingPriority;
  }

  d.sampled = threshold.shouldSample(randomness);
  if (d.sampled && carrier != nullptr) {
    // The threshold only ever rises (the probability falls): a lower one would claim the item
    // stood for fewer items than it does.
    if (!(carrier->hasThreshold() && carrier->threshold() > threshold)) {
      carrier->setThreshold(threshold);
    }
    new_tracestate.clear();
    carrier->serialize(new_tracestate);
    d.tracestate_changed = new_tracestate != tracestate;
  }
  return d;
}

std::optional<Threshold> Sampler::logPriorityThreshold(double percentage) const {
  // The README's rule: 0 never samples, >= 100 always does, a value between is a percentage;
  // anything else leaves the configured percentage in force.
  if (std::isnan(percentage) || percentage < 0) return std::nullopt;
  if (percentage == 0) return Threshold::never();
  if (percentage >= 100) return Threshold::always();
  return probabilityToThreshold(percentage / 100, precision_);
}

LogDecision Sampler::decideLogRecord(const LogRecordInput& record) const {
  LogDecision d;
  // The record's own sampling information, when it has any.
  bool invalid = false;
  std::optional<Threshold> arriving_threshold;
  std::optional<Randomness> arriving_randomness;
  if (record.threshold && !record.threshold->empty()) {
    Threshold t;
    if (parseTValue(*record.threshold, t) == ValueError::kNone) {
      arriving_threshold = t;
    } else {
      invalid = true;
    }
  }
  if (record.randomness && !record.randomness->empty()) {
    Randomness r;
    if (parseRValue(*record.randomness, r) == ValueError::kNone) {
      arriving_randomness = r;
    } else {
      invalid = true;
    }
  }

  Randomness randomness = kAllProbabilitiesRandomness;
  bool missing = true;
  bool carrier = false;  // false: the record's sampling attributes are left as they came
  if (never_) {
    d.policy = Policy::kSamplingPriority;
    missing = false;
    if (invalid) {
      d.error = SamplerError::kInvalidTraceState;
    } else {
      carrier = true;
    }
  } else if (mode_ == Mode::kHashSeed) {
    if (logs_trace_id_ && isValidTraceId(record.trace_id)) {
      randomness = hashSeedRandomness(record.trace_id, hash_seed_);
      missing = false;
      d.policy = Policy::kTraceIdHash;
    }
    // from_attribute: with attribute_source record, or when the trace id is absent.
    if (missing && has_from_attribute_ && record.source_attribute &&
        !record.source_attribute->empty()) {
      randomness = hashSeedRandomness(*record.source_attribute, hash_seed_);
      missing = false;
      d.policy = Policy::kAttribute;
    }
    if (invalid) {
      d.error = SamplerError::kInvalidTraceState;
    } else if (arriving_randomness) {
      d.error = SamplerError::kRandomnessInUse;
    } else if (arriving_threshold) {
      d.error = SamplerError::kThresholdInUse;
    } else {
      carrier = true;
      if (!missing) appendRValue(randomness, d.randomness);
    }
  } else if (invalid) {
    d.error = SamplerError::kInvalidTraceState;
  } else {
    carrier = true;
    if (arriving_randomness) {
      randomness = *arriving_randomness;
      missing = false;
      d.policy = Policy::kSamplingRandomness;
    } else if (isValidTraceId(record.trace_id)) {
      randomness = randomnessFromTraceId(record.trace_id);
      missing = false;
      d.policy = Policy::kTraceIdW3C;
    }
  }

  if (d.error == SamplerError::kNone) {
    if (missing) {
      d.error = SamplerError::kMissingRandomness;
    } else if (carrier && arriving_threshold && !arriving_threshold->shouldSample(randomness)) {
      arriving_threshold.reset();
      d.error = SamplerError::kInconsistentThreshold;
    }
  }

  Threshold threshold;
  if (d.error != SamplerError::kNone) {
    threshold = fail_closed_ ? Threshold::never() : Threshold::always();
  } else if (never_) {
    threshold = Threshold::never();
  } else {
    threshold = decide(arriving_threshold);
  }
  if (record.priority) {
    if (std::optional<Threshold> t = logPriorityThreshold(*record.priority)) {
      threshold = *t;
      d.policy = Policy::kSamplingPriority;
    }
  }

  d.sampled = threshold.shouldSample(randomness);
  if (!d.sampled || !carrier) {
    d.randomness.clear();
    return d;
  }
  if (!(arriving_threshold && *arriving_threshold > threshold)) threshold.appendTValue(d.threshold);
  return d;
}

SpanPriority spanPriorityOfInt(int64_t value) {
  if (value == 0) return SpanPriority::kDoNotSample;
  return value > 0 ? SpanPriority::kMustSample : SpanPriority::kDefer;
}

SpanPriority spanPriorityOfDouble(double value) {
  if (value == 0) return SpanPriority::kDoNotSample;
  return value > 0 ? SpanPriority::kMustSample : SpanPriority::kDefer;  // NaN defers
}

SpanPriority spanPriorityOfString(std::string_view value) {
  // Go's strconv.ParseFloat: the whole string, no surrounding blanks; out of range is an error.
  if (value.empty() || std::isspace(static_cast<unsigned char>(value.front()))) {
    return SpanPriority::kDefer;
  }
  const std::string text(value);
  char* end = nullptr;
  errno = 0;
  const double parsed = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return SpanPriority::kDefer;
  if (errno == ERANGE && std::isinf(parsed)) return SpanPriority::kDefer;
  return spanPriorityOfDouble(parsed);
}

}  // namespace otlpd::processors::probabilistic_sampler
