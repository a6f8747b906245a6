#include "processors/resource/resource_processor.h"

#include "processors/common/attribute_actions.h"
#include "processors/common/editing_processor.h"

namespace otlpd::processors::resource {
namespace {

// One editor serves the three signals: it never goes below the resource.
class ResourceEditor final : public otlp::TracesEditor,
                             public otlp::LogsEditor,
                             public otlp::MetricsEditor {
 public:
  ResourceEditor(const AttributeActions& actions, const MetadataLookup* metadata)
      : actions_(actions), metadata_(metadata) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kResource; }
  bool editResource(otlp::MessageEdit& resource) override {
    actions_.apply(resource.attributes(), metadata_);
    return true;
  }

 private:
  const AttributeActions& actions_;
  const MetadataLookup* metadata_;
};

// The editor with the request metadata `from_context` reads.
class Edit final : public BatchEdit {
 public:
  Edit(const AttributeActions& actions, const pipeline::RequestMetadata* metadata)
      : lookup_(metadata != nullptr ? std::optional<MetadataLookup>(lookupIn(*metadata, joined_))
                                    : std::nullopt),
        editor_(actions, lookup_ ? &*lookup_ : nullptr) {}
  otlp::TracesEditor* traces() override { return &editor_; }
  otlp::LogsEditor* logs() override { return &editor_; }
  otlp::MetricsEditor* metrics() override { return &editor_; }

 private:
  std::string joined_;
  std::optional<MetadataLookup> lookup_;
  ResourceEditor editor_;
};

class ResourceProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  ResourceProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                    std::shared_ptr<pipeline::Consumer> next, AttributeActions actions)
      : EditingProcessor(settings, signal, std::move(next)), actions_(std::move(actions)) {}

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    return std::make_unique<Edit>(actions_, batchMetadata());
  }

 private:
  AttributeActions actions_;
};

class ResourceProcessorFactory final : public pipeline::ProcessorFactory {
 public:
  std::string_view type() const override { return "resource"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    AttributeActions actions = AttributeActions::read(config, "attributes");
    return std::make_unique<ResourceProcessor>(settings, signal, std::move(next),
                                               std::move(actions));
  }
};

}  // namespace

std::unique_ptr<pipeline::ProcessorFactory> makeResourceProcessorFactory() {
  return std::make_unique<ResourceProcessorFactory>();
}

}  // namespace otlpd::processors::resource
