// The one place that includes the flatc-generated Arrow IPC metadata headers; their warnings
// are silenced here so our code keeps -Werror.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "Message_generated.h"
#include "Schema_generated.h"
#pragma GCC diagnostic pop

namespace otlpd::store {
namespace fb = ::org::apache::arrow::flatbuf;
}  // namespace otlpd::store
