// The component types a library Collector (and so the otlpd binary) runs: the builtin list plus
// the two that connect the pipelines to the embedding program.
#pragma once

#include <memory>

#include "exporters/callback/callback_exporter.h"
#include "pipeline/factory.h"
#include "receivers/embedded/embedded_receiver.h"

namespace otlpd::library {

// `ingress` and `callbacks` belong to one collector; null ones (`otlpd components`) still
// register the types.
void registerComponents(pipeline::FactoryRegistry& registry,
                        std::shared_ptr<receivers::embedded::EmbeddedIngress> ingress,
                        std::shared_ptr<const exporters::callback::CallbackDirectory> callbacks);

}  // namespace otlpd::library
