#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::receivers::zipkin {

// The Collector's `zipkin` receiver: Zipkin v2 JSON and protobuf, v1 JSON, over HTTP.
std::unique_ptr<pipeline::ReceiverFactory> makeZipkinReceiverFactory();

}  // namespace otlpd::receivers::zipkin
