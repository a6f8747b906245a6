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

class TracesEditor final : public otlp::TracesEditor, EditorBase {
 public:
  using EditorBase::EditorBase;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editResource(MessageEdit& resource) override {
    enterResource(resource);
    return true;
  }
  bool editScope(const MessageEdit&, MessageEdit& scope) override {
    enterScope(scope);
    return true;
  }
  bool editSpan(const MessageEdit&, const MessageEdit&, MessageEdit& span) override {
    if (settings_.match.empty() || cursor_.processSpan(span)) apply(span);
    return true;
  }
};

class LogsEditor final : public otlp::LogsEditor, EditorBase {
 public:
  using EditorBase::EditorBase;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kItem; }
  bool editResource(MessageEdit& resource) override {
    enterResource(resource);
    return true;
  }
  bool editScope(const MessageEdit&, MessageEdit& scope) override {
    enterScope(scope);
    return true;
  }
  bool editLogRecord(const MessageEdit&, const MessageEdit&, MessageEdit& record) override {
    if (settings_.match.empty() || cursor_.processLogRecord(record)) apply(record);
    return true;
  }
};

// Metrics are matched by name; the actions apply to each data point of a matching metric.
class MetricsEditor final : public otlp::MetricsEditor, EditorBase {
 public:
  using EditorBase::EditorBase;
  otlp::EditDepth depth() const override { return otlp::EditDepth::kSubItem; }
  bool editResource(MessageEdit& resource) override {
    enterResource(resource);
    return true;
  }
  bool editScope(const MessageEdit&, MessageEdit& scope) override {
    enterScope(scope);
    return true;
  }
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

class AttributesProcessor final : public EditingProcessor {
 public:
  AttributesProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                      std::shared_ptr<pipeline::Consumer> next, Settings config)
      : EditingProcessor(settings, signal, std::move(next)), config_(std::move(config)) {}

 protected:
  absl::StatusOr<otlp::RewriteResult> rewrite(std::string_view request) override {
    std::string joined;
    std::optional<MetadataLookup> lookup;
    if (const pipeline::RequestMetadata* md = batchMetadata()) lookup = lookupIn(*md, joined);
    const MetadataLookup* metadata = lookup ? &*lookup : nullptr;
    switch (signal()) {
      case pipeline::Signal::kTraces: {
        TracesEditor editor(config_, metadata);
        return otlp::rewriteTraces(request, editor);
      }
      case pipeline::Signal::kLogs: {
        LogsEditor editor(config_, metadata);
        return otlp::rewriteLogs(request, editor);
      }
      case pipeline::Signal::kMetrics: {
        MetricsEditor editor(config_, metadata);
        return otlp::rewriteMetrics(request, editor);
      }
    }
    return absl::InternalError("unknown signal");
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
