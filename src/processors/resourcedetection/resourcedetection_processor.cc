#include "processors/resourcedetection/resourcedetection_processor.h"

#include <cstdlib>
#include <future>
#include <thread>

#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/strings.h"
#include "processors/common/editing_processor.h"
#include "processors/resourcedetection/system_facts.h"

namespace otlpd::processors::resourcedetection {
namespace {

struct Config {
  std::vector<std::string> detectors;
  bool override = true;
  absl::Duration timeout = absl::Seconds(5);
  SystemConfig system;
};

// Puts the detected attributes into every resource, whatever the signal.
class ResourceEditor final : public otlp::TracesEditor,
                             public otlp::LogsEditor,
                             public otlp::MetricsEditor {
 public:
  ResourceEditor(const DetectedAttributes& detected, bool override)
      : detected_(detected), override_(override) {}
  otlp::EditDepth depth() const override { return otlp::EditDepth::kResource; }
  bool editResource(otlp::MessageEdit& resource) override {
    applyDetected(detected_, override_, resource.attributes());
    return true;
  }

 private:
  const DetectedAttributes& detected_;
  bool override_;
};

class ResourceDetectionProcessor final : public EditingProcessor {
 public:
  // Edits every batch, drops none: the next consumer's refusal is its answer.
  bool passesBackpressure() const override { return true; }
  ResourceDetectionProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                             std::shared_ptr<pipeline::Consumer> next, Config config,
                             HostSources sources)
      : EditingProcessor(settings, signal, std::move(next)),
        config_(std::move(config)),
        sources_(std::move(sources)) {}

  absl::Status start(pipeline::Host&) override {
    std::vector<DetectedAttributes> results;
    for (const std::string& detector : config_.detectors) {
      absl::StatusOr<DetectedAttributes> result =
          detector == "env" ? detectFromEnv() : detectFromSystem();
      if (!result.ok()) {
        // As the Collector does: a failing detector is logged and the others still apply.
        logging::warn("resource detector failed",
                      {{"processor", id()}, {"detector", detector}, {"error", result.status()}});
        continue;
      }
      results.push_back(*std::move(result));
    }
    detected_ = mergeDetected(results);
    return absl::OkStatus();
  }

 protected:
  bool editsInOneWalk() const override { return true; }
  std::unique_ptr<BatchEdit> beginEdit() override {
    if (detected_.empty()) return nullptr;
    return std::make_unique<BatchEditOf<ResourceEditor>>(detected_, config_.override);
  }

 private:
  absl::StatusOr<DetectedAttributes> detectFromEnv() {
    std::optional<std::string> attributes = sources_.getenv("OTEL_RESOURCE_ATTRIBUTES");
    std::optional<std::string> service_name = sources_.getenv("OTEL_SERVICE_NAME");
    return detectEnv(attributes ? std::optional<std::string_view>(*attributes) : std::nullopt,
                     service_name ? std::optional<std::string_view>(*service_name) : std::nullopt);
  }

  absl::StatusOr<DetectedAttributes> detectFromSystem() {
    bool want_fqdn = false;
    for (const std::string& source : config_.system.hostname_sources) want_fqdn |= source == "dns";
    // A DNS lookup can hang far longer than `timeout`: it runs on its own thread, which is left to
    // finish on its own if it does not answer in time.
    auto promise = std::make_shared<std::promise<SystemFacts>>();
    std::future<SystemFacts> facts = promise->get_future();
    std::thread([promise, read = sources_.systemFacts, want_fqdn] {
      promise->set_value(read(want_fqdn));
    }).detach();
    if (facts.wait_for(absl::ToChronoMilliseconds(config_.timeout)) != std::future_status::ready) {
      return absl::DeadlineExceededError(strCat("host facts not read within the timeout of ",
                                                absl::FormatDuration(config_.timeout)));
    }
    return detectSystem(facts.get(), config_.system);
  }

  Config config_;
  HostSources sources_;
  DetectedAttributes detected_;
};

void readSystemConfig(config::ConfigNode system, SystemConfig& out) {
  if (system.has("hostname_sources")) {
    out.hostname_sources = system.getStringList("hostname_sources");
    std::vector<std::string> unsupported;
    for (const std::string& source : out.hostname_sources) {
      if (source != "dns" && source != "os") unsupported.push_back(source);
    }
    if (!unsupported.empty()) {
      system.addError("hostname_sources",
                      strCat("unsupported hostname source(s) ", absl::StrJoin(unsupported, ", "),
                             "; otlpd has dns and os"));
    }
    if (out.hostname_sources.empty()) out.hostname_sources = {"dns", "os"};
  }
  config::ConfigNode attributes = system.child("resource_attributes");
  for (std::string_view name : kSystemAttributes) {
    if (!attributes.has(name)) continue;
    config::ConfigNode toggle = attributes.child(name);
    const bool on = toggle.getBool("enabled", out.enabled.count(name) != 0);
    toggle.rejectUnknownKeys();
    if (on) {
      out.enabled.emplace(name);
    } else {
      out.enabled.erase(std::string(name));
    }
    if (on && !isSystemAttributeDetected(name)) {
      logging::warn("resourcedetection: this system attribute is not detected by otlpd",
                    {{"attribute", name}, {"path", attributes.path()}});
    }
  }
  attributes.rejectUnknownKeys();
  system.rejectUnknownKeys();
}

class ResourceDetectionFactory final : public pipeline::ProcessorFactory {
 public:
  explicit ResourceDetectionFactory(HostSources sources) : sources_(std::move(sources)) {}
  std::string_view type() const override { return "resourcedetection"; }
  bool supports(pipeline::Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Processor>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config, pipeline::Signal signal,
      std::shared_ptr<pipeline::Consumer> next) const override {
    Config cfg;
    cfg.detectors = config.getStringList("detectors");
    std::vector<std::string> unknown;
    for (const std::string& name : cfg.detectors) {
      if (name != "env" && name != "system") unknown.push_back(name);
    }
    if (!unknown.empty()) {
      config.addError("detectors", strCat("unknown detector(s) ", absl::StrJoin(unknown, ", "),
                                          "; otlpd has env and system"));
    }
    cfg.override = config.getBool("override", true);
    cfg.timeout = config.getDuration("timeout", absl::Seconds(5));
    if (cfg.timeout <= absl::ZeroDuration()) {
      config.addError("timeout", "must be greater than 0");
      cfg.timeout = absl::Seconds(5);
    }
    readSystemConfig(config.child("system"), cfg.system);
    config.rejectUnknownKeys();
    return std::make_unique<ResourceDetectionProcessor>(settings, signal, std::move(next),
                                                        std::move(cfg), sources_);
  }

 private:
  HostSources sources_;
};

}  // namespace

HostSources realHostSources() {
  HostSources sources;
  sources.getenv = [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  sources.systemFacts = readSystemFacts;
  return sources;
}

std::unique_ptr<pipeline::ProcessorFactory> makeResourceDetectionFactory(HostSources sources) {
  return std::make_unique<ResourceDetectionFactory>(std::move(sources));
}

}  // namespace otlpd::processors::resourcedetection
