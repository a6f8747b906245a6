#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/factory.h"
#include "processors/resourcedetection/detectors.h"

namespace otlpd::processors::resourcedetection {

// Where detection reads from; tests inject their own.
struct HostSources {
  std::function<std::optional<std::string>(const char* name)> getenv;
  std::function<SystemFacts(bool want_fqdn)> systemFacts;
};
HostSources realHostSources();

// The Collector's resourcedetection processor with its `env` and `system` detectors: `detectors`,
// `override` (default true), `timeout` (default 5s), `system.hostname_sources` and
// `system.resource_attributes.<name>.enabled`. Detection runs once, at start; every resource of
// every signal then gets the detected attributes (the request is edited at resource depth only;
// spans, points and records are copied as bytes).
std::unique_ptr<pipeline::ProcessorFactory> makeResourceDetectionFactory(
    HostSources sources = realHostSources());

}  // namespace otlpd::processors::resourcedetection
