#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::connectors::forward {

// The Collector's `forward` connector: what one pipeline exports, the pipelines of the same signal
// that name it as a receiver get, unchanged (to share receivers or processors between pipelines).
std::unique_ptr<pipeline::ConnectorFactory> makeForwardConnectorFactory();

}  // namespace otlpd::connectors::forward
