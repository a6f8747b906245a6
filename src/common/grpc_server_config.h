// The Collector's gRPC server keys (configgrpc) that every gRPC listener of ours reads the same
// way.
#pragma once

#include <utility>
#include <vector>

#include "config/config_node.h"

namespace otlpd::common {

// `keepalive.server_parameters` (max_connection_idle, max_connection_age,
// max_connection_age_grace, time, timeout) and `keepalive.enforcement_policy` (min_time,
// permit_without_stream) under `grpc_node`, as gRPC channel arguments (milliseconds).
std::vector<std::pair<const char*, int>> readGrpcKeepalive(config::ConfigNode& grpc_node);

}  // namespace otlpd::common
