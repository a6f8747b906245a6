#include "processors/filter/filter_processor.h"

#include <array>

#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/common/ottl_config.h"

namespace otlpd::processors::filter {
namespace {

using ottl::Context;

struct Conditions {
  // By context; only the processor's signal's contexts are filled.
  std::array<std::vector<std::unique_ptr<ottl::Condition>>, ottl::kContextCount> by_context;
};

class FilterEditor final : public OttlItemEditor {
 public:
  FilterEditor(const Conditions& conditions, ErrorReporter& errors)
      : conditions_(conditions), errors_(errors) {
    for (size_t c = 0; c < conditions.by_context.size(); ++c) {
      if (!conditions.by_context[c].empty()) want(static_cast<Context>(c));
    }
    state_.now_unix_nanos = absl::GetCurrentTimeNanos();
  }
  const absl::Status& failure() const { return failure_; }

 protected:
  bool onItem(Context context, ottl::WireItem& item) override {
    if (!failure_.ok()) return true;
    for (const auto& condition : conditions_.by_context[static_cast<size_t>(context)]) {
      absl::StatusOr<bool> matched = condition->evaluate(item, state_);
      if (!matched.ok()) {
        const std::string message =
            strCat("condition \"", condition->text(), "\": ", toStd(matched.status().message()));
        errors_.report(message);
        if (errors_.mode() == ErrorMode::kPropagate) {
          failure_ = absl::InvalidArgumentError(strCat("filter: ", message));
          return true;
        }
        continue;
      }
      if (*matched) return false;
    }
    return true;
  }

 private:
  const Conditions& conditions_;
  ErrorReporter& errors_;
  ottl::EvalState state_;
  absl::Status failure_;
};

class FilterProcessor final : public EditingProcessor {
 public:
  FilterProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                  std::shared_ptr<pipeline::Consumer> next, Conditions conditions, ErrorMode mode)
      : EditingProcessor(settings, signal, std::move(next)),
        conditions_(std::move(conditions)),
        errors_(settings, mode) {
    for (const auto& list : conditions_.by_context) empty_ = empty_ && list.empty();
  }

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    if (empty_) return nullptr;
    return std::make_unique<FailingBatchEditOf<FilterEditor>>(conditions_, errors_);
  }

 private:
  Conditions conditions_;
  ErrorReporter errors_;
  bool empty_ = true;
};

void refuseLegacy(config::ConfigNode& node, std::string_view key, std::string_view instead) {
  if (!node.getYaml(key)) return;
  node.addError(key, strCat("the legacy filter configuration (include/exclude, match_type) is not "
                            "supported; write OTTL conditions under ",
                            instead, " instead"));
}

// Reads the conditions of `section.key` for `context`; keeps them when `keep`.
void readConditions(config::ConfigNode& section, std::string_view key, Context context, bool keep,
                    Conditions& out) {
  for (const OttlSource& source : readOttlList(section, key)) {
    std::unique_ptr<ottl::Condition> c = compileCondition(section.errors(), source, context);
    if (c && keep) out.by_context[static_cast<size_t>(context)].push_back(std::move(c));
  }
}

class FilterProcessorFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "filter"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    const ErrorMode mode = readErrorMode(config);
    Conditions conditions;
    // Every section is checked whatever the pipeline's signal, so `otlpd validate` reports all.
    refuseLegacy(config, "spans", "traces.span");
    {
      config::ConfigNode traces = config.child("traces");
      const bool keep = signal == pipeline::Signal::kTraces;
      readConditions(traces, "span", Context::kSpan, keep, conditions);
      readConditions(traces, "spanevent", Context::kSpanEvent, keep, conditions);
      refuseLegacy(traces, "include", "traces.span");
      refuseLegacy(traces, "exclude", "traces.span");
      traces.rejectUnknownKeys();
    }
    {
      config::ConfigNode metrics = config.child("metrics");
      const bool keep = signal == pipeline::Signal::kMetrics;
      readConditions(metrics, "metric", Context::kMetric, keep, conditions);
      readConditions(metrics, "datapoint", Context::kDataPoint, keep, conditions);
      refuseLegacy(metrics, "include", "metrics.metric");
      refuseLegacy(metrics, "exclude", "metrics.metric");
      metrics.rejectUnknownKeys();
    }
    {
      config::ConfigNode logs = config.child("logs");
      const bool keep = signal == pipeline::Signal::kLogs;
      readConditions(logs, "log_record", Context::kLog, keep, conditions);
      refuseLegacy(logs, "include", "logs.log_record");
      refuseLegacy(logs, "exclude", "logs.log_record");
      logs.rejectUnknownKeys();
    }
    return std::make_unique<FilterProcessor>(settings, signal, std::move(next),
                                             std::move(conditions), mode);
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeFilterProcessorFactory() {
  return std::make_unique<FilterProcessorFactory>();
}

}  // namespace otlpd::processors::filter
