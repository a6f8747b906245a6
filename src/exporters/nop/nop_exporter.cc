#include "exporters/nop/nop_exporter.h"

namespace otlpd::exporters::nop {
namespace {

class NopExporter final : public pipeline::Exporter {
 public:
  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(pipeline::Batch&&) override { return absl::OkStatus(); }
};

class NopExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "nop"; }
  bool supports(pipeline::Signal) const override { return true; }
  bool queuesInternally() const override { return true; }  // nothing to wait for
  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(const pipeline::CreateSettings&,
                                                             config::ConfigNode&,
                                                             pipeline::Signal) const override {
    return std::make_unique<NopExporter>();
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeNopExporterFactory() {
  return std::make_unique<NopExporterFactory>();
}

}  // namespace otlpd::exporters::nop
