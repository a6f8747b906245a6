#include "library/components.h"

#include "server/builtin_components.h"

namespace otlpd::library {

void registerComponents(pipeline::FactoryRegistry& registry,
                        std::shared_ptr<receivers::embedded::EmbeddedIngress> ingress,
                        std::shared_ptr<const exporters::callback::CallbackDirectory> callbacks) {
  server::registerBuiltinComponents(registry);
  if (!ingress) ingress = std::make_shared<receivers::embedded::EmbeddedIngress>();
  registry.add(receivers::embedded::makeEmbeddedReceiverFactory(std::move(ingress)));
  registry.add(exporters::callback::makeCallbackExporterFactory(std::move(callbacks)));
}

}  // namespace otlpd::library
