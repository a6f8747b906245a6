#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::receivers::jaeger {

std::unique_ptr<pipeline::ReceiverFactory> makeJaegerReceiverFactory();

}  // namespace otlpd::receivers::jaeger
