// What the resourcedetection processor detects and how it merges into resources, without any I/O:
// the detectors' inputs (environment values, host facts) come in as plain values, so every rule
// here is unit-tested with injected results. system_facts.h reads the real host.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/value.h"
#include "otlp/wire_edit.h"

namespace otlpd::processors::resourcedetection {

// Detected resource attributes in detection order, each key once.
using DetectedAttributes = std::vector<std::pair<std::string, otlp::Value>>;

// OTEL_RESOURCE_ATTRIBUTES as the SDK specification defines it: `key1=value1,key2=value2`, keys and
// values trimmed of surrounding spaces, values percent-decoded, every value a string. Any malformed
// member makes the whole value invalid (the specification says to discard it entirely).
absl::StatusOr<DetectedAttributes> parseResourceAttributes(std::string_view text);

// The `env` detector: OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, which wins for
// service.name as the specification says. nullopt = the variable is unset.
absl::StatusOr<DetectedAttributes> detectEnv(std::optional<std::string_view> resource_attributes,
                                             std::optional<std::string_view> service_name);

// What the host tells about itself; nullopt where it could not be read.
struct SystemFacts {
  std::optional<std::string> fqdn;         // getaddrinfo(AI_CANONNAME) of the host name
  std::optional<std::string> os_hostname;  // gethostname()
  std::optional<std::string> machine_id;   // /etc/machine-id or /var/lib/dbus/machine-id
  std::string sysname;                     // uname(): "Linux"
  std::string nodename, release, version;
  std::string machine;                    // uname -m: "x86_64", "aarch64"...
  std::optional<std::string> os_release;  // the contents of /etc/os-release
};

// The system detector's resource attributes, with the Collector's defaults (host.name and
// os.type on, the others off).
inline constexpr std::string_view kSystemAttributes[] = {
    "host.name", "host.id", "host.arch", "os.type", "os.description",
    // The Collector has these too; otlpd accepts their toggles but does not detect them yet.
    "host.ip", "host.mac", "host.cpu.vendor.id", "host.cpu.family", "host.cpu.model.id",
    "host.cpu.model.name", "host.cpu.stepping", "host.cpu.cache.l2.size"};
bool isSystemAttributeDetected(std::string_view name);

struct SystemConfig {
  std::vector<std::string> hostname_sources = {"dns", "os"};
  std::set<std::string, std::less<>> enabled = {"host.name", "os.type"};
};

// The `system` detector. Like the Collector's, it fails (detects nothing) when no hostname source
// gives a name.
absl::StatusOr<DetectedAttributes> detectSystem(const SystemFacts& facts,
                                                const SystemConfig& config);

// uname's machine in the Collector's spelling of host.arch (Go's GOARCH mapped to the semantic
// conventions): x86_64 → amd64, aarch64 → arm64, i686 → x86, armv7l → arm32, ppc64le → ppc64.
std::string hostArch(std::string_view machine);
// PRETTY_NAME of an os-release file (or NAME VERSION), unquoted; nullopt when it has neither.
std::optional<std::string> osReleaseName(std::string_view os_release);
// As the OpenTelemetry Go SDK the Collector uses writes it: "<os-release name> (<sysname>
// <nodename> <release> <version> <machine>)", or the uname part alone.
std::string osDescription(const SystemFacts& facts);

// Several detectors' results in configured order: the first detector to set an attribute wins.
DetectedAttributes mergeDetected(const std::vector<DetectedAttributes>& results);

// Puts the detected attributes into a resource's attributes: absent ones are added; present
// ones are replaced only with `override`. Returns whether anything changed.
bool applyDetected(const DetectedAttributes& detected, bool override,
                   otlp::AttributeList& attributes);

}  // namespace otlpd::processors::resourcedetection
