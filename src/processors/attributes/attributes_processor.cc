#include "processors/attributes/attributes_processor.h"

#include "processors/common/attribute_actions.h"
#include "processors/common/editing_processor.h"
#include "processors/common/match_properties.h"

namespace otlpd::processors::attributes {
namespace {

using otlp::MessageEdit;

struct Settings {
  AttributeActions actions;
  MatchConfig match;
};

// The per-request walk: resource and scope properties are matched once each, items one by one.
class EditorBase {
 public:
  EditorBase(const Settings& settings, const MetadataLookup* metadata)
      : settings_(settings), metadata_(metadata), cursor_(settings.match) {}

 protected:
  void enterResource(const MessageEdit& resource) {
    if (!settings_.match.empty()) cursor_.enterResource(resource);
  }
  void enterScope(const MessageEdit& scope) {
    if (!settings_.match.empty()) cursor_.enterScope(scope);
  }
  void apply(MessageEdit& item) { settings_.actions.apply(item.attributes(), metadata_); }

  const Settings& settings_;
  const MetadataLookup* metadata_;
  MatchConfig::Cursor cursor_;
};

// Resource and scope properties are entered once each, whatever the signal.
template <class SignalEditor>
class Walk : public SignalEditor, protected EditorBase {
 public:
  using EditorBase::EditorBase;
  bool editResource(MessageEdit& resource) override {
    enterResource(resource);
    return true;
  }
  bool editScope(const MessageEdit&, MessageEdit& scope) override {
    enterScope(scope);
    return true;
  }
};

class TracesEditor final : public Walk<otlp::TracesEditor> {
 public:
  using Walk::Walk;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editSpan(const MessageEdit&, const MessageEdit&, MessageEdit& span) override {
    if (settings_.match.empty() || cursor_.processSpan(span)) apply(span);
    return true;
  }
};

class LogsEditor final : public Walk<otlp::LogsEditor> {
 public:
  using Walk::Walk;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editLogRecord(const MessageEdit&, const MessageEdit&, MessageEdit& record) override {
    if (settings_.match.empty() || cursor_.processLogRecord(record)) apply(record);
    return true;
  }
};

// Metrics are matched by name; the actions apply to each data point of a matching metric.
class MetricsEditor final : public Walk<otlp::MetricsEditor> {
 public:
  using Walk::Walk;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kSubItem; }
  bool editMetric(const MessageEdit&, const MessageEdit&, MessageEdit& metric) override {
    process_points_ = settings_.match.empty() || cursor_.processMetric(metric);
    return true;
  }
  bool editDataPoint(const MessageEdit&, const MessageEdit&, const MessageEdit&, otlp::MetricType,
                     MessageEdit& point) override {
    if (process_points_) apply(point);
    return true;
  }

 private:
  bool process_points_ = true;
};

// The signal's editor with the request metadata `from_context` reads.
class Edit final : public BatchEdit {
 public:
  Edit(const Settings& settings, const pipeline::RequestMetadata* metadata,
       pipeline::Signal signal) {
    if (metadata != nullptr) lookup_ = lookupIn(*metadata, joined_);
    const MetadataLookup* lookup = lookup_ ? &*lookup_ : nullptr;
    switch (signal) {
      case pipeline::Signal::kTraces:
        traces_.emplace(settings, lookup);
        break;
      case pipeline::Signal::kLogs:
        logs_.emplace(settings, lookup);
        break;
      case pipeline::Signal::kMetrics:
        metrics_.emplace(settings, lookup);
        break;
    }
  }
  otlp::TracesEditor* traces() override { return traces_ ? &*traces_ : nullptr; }
  otlp::LogsEditor* logs() override { return logs_ ? &*logs_ : nullptr; }
  otlp::MetricsEditor* metrics() override { return metrics_ ? &*metrics_ : nullptr; }

 private:
  std::string joined_;
  std::optional<MetadataLookup> lookup_;
  std::optional<TracesEditor> traces_;
  std::optional<LogsEditor> logs_;
  std::optional<MetricsEditor> metrics_;
};

class AttributesProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  AttributesProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                      std::shared_ptr<pipeline::Consumer> next, Settings config)
      : EditingProcessor(settings, signal, std::move(next)), config_(std::move(config)) {}

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    return std::make_unique<Edit>(config_, batchMetadata(), signal());
  }

 private:
  Settings config_;
};

class AttributesProcessorFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "attributes"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    Settings s{AttributeActions::read(config, "actions"), MatchConfig::read(config, signal)};
    return std::make_unique<AttributesProcessor>(settings, signal, std::move(next), std::move(s));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeAttributesProcessorFactory() {
  return std::make_unique<AttributesProcessorFactory>();
}

}  // namespace otlpd::processors::attributes
