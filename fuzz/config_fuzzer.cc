// Config loading as `otlpd validate` does it: YAML text, then a --set override, then environment
// expansion (${env:VAR}, ${VAR:-default}, $$), then the whole service built from it (every
// factory's config reader, the graph). Building binds no port and opens no file
// (src/server/service.h). Input: the --set assignment on the first line, the YAML after it.
#include "config/config_node.h"
#include "config/loader.h"
#include "fuzz_support.h"
#include "pipeline/factory.h"
#include "server/builtin_components.h"
#include "server/service.h"

using namespace otlpd;

namespace {

// A fixed environment, so that a run is reproducible.
std::optional<std::string> fakeEnv(const std::string& name) {
  if (name == "HOST") return "0.0.0.0";
  if (name == "PORT") return "4317";
  if (name == "EMPTY") return "";
  if (name == "NESTED") return "${env:HOST}";
  if (name == "DOLLAR") return "$$";
  if (name == "YAML") return "{a: [1, 2]}";
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static pipeline::FactoryRegistry* factories = [] {
    auto* f = new pipeline::FactoryRegistry();
    server::registerBuiltinComponents(*f);
    return f;
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view set = newline == std::string_view::npos ? "" : input.substr(0, newline);
  const std::string_view yaml =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  auto root = config::parseYaml(yaml, "fuzz.yaml");
  if (!root.ok()) return 0;
  if (!set.empty() && !config::applySet(*root, set).ok()) return 0;
  if (!config::expandEnv(*root, fakeEnv).ok()) return 0;
  config::ConfigErrors errors;
  std::unique_ptr<server::Service> service = server::Service::build(*root, *factories, errors);
  OTLPD_FUZZ_CHECK((service != nullptr) == errors.empty(), errors.toString());
  if (!errors.empty()) (void)errors.toString();
  return 0;
}
