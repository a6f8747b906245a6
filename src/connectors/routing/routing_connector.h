#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::connectors::routing {

// The Collector's `routing` connector: each resource (or span, log record, metric, when a route's
// context says so) goes to the pipelines of the first route whose OTTL condition holds, or to
// `default_pipelines`; `request` routes match the client's metadata (`include_metadata`).
std::unique_ptr<pipeline::ConnectorFactory> makeRoutingConnectorFactory();

}  // namespace otlpd::connectors::routing
