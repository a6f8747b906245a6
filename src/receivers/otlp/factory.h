#pragma once

#include <memory>

#include "pipeline/factory.h"

namespace otlpd::receivers::otlp {

std::unique_ptr<pipeline::ReceiverFactory> makeOtlpReceiverFactory();

}  // namespace otlpd::receivers::otlp
