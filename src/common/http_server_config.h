// The Collector's HTTP server settings that bound slow clients (confighttp: read_timeout,
// read_header_timeout, write_timeout, idle_timeout) and ours (max_connections,
// min_request_body_rate, max_request_header_count), read the same way on every listener.
#pragma once

#include "common/http_server.h"
#include "config/config_node.h"

namespace otlpd::common {

void readHttpServerLimits(config::ConfigNode& node, HttpServerOptions& options);

}  // namespace otlpd::common
