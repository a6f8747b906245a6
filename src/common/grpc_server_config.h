// The Collector's gRPC server keys (configgrpc) that every gRPC listener of ours reads the same
// way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config_node.h"

namespace grpc {
class ServerBuilder;
}

namespace otlpd::common {

// `keepalive.server_parameters` (max_connection_idle, max_connection_age,
// max_connection_age_grace, time, timeout) and `keepalive.enforcement_policy` (min_time,
// permit_without_stream) under `grpc_node`, as gRPC channel arguments (milliseconds).
std::vector<std::pair<const char*, int>> readGrpcKeepalive(config::ConfigNode& grpc_node);

// Bounds what gRPC itself holds for reading by a resource quota of 4 × `budget_bytes` (the
// memory budget's limit): a pending read pulls in its whole message, up to max_recv_msg_size,
// whatever admission reserved for it, so that many streams at once could otherwise hold their
// messages far past the budget (30 streams of 48 MB against a 64 MiB budget: 1.5 GB resident).
// Not the budget itself: near its quota gRPC resets streams with ENHANCE_YOUR_CALM
// (RESOURCE_EXHAUSTED, which OTLP clients do not retry), even streams whose data was accepted; an
// ordinary overload, which the budget refuses as retryable, must stay far from that.
void limitGrpcReadMemory(grpc::ServerBuilder& builder, size_t budget_bytes,
                         const std::string& name);

// `max_concurrent_streams` when the config leaves it unset: one stream per 4 MiB of the memory
// budget, at least 8 (0, gRPC's unlimited, without a budget). gRPC takes in the data of a
// connection's new streams before a handler sees them (admission can only refuse them once it
// does): 48 streams of 2 MiB messages on one connection held ~40 MiB outside a 32 MiB budget and
// took the overload test's resident memory past its bound; at most 8 streams held about a
// quarter of that. Clients wait for a stream slot, which is the backpressure HTTP/2 intends.
int64_t defaultMaxConcurrentStreams(size_t budget_bytes);

}  // namespace otlpd::common
