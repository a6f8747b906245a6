#include "common/grpc_server_config.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <optional>

namespace otlpd::common {

std::vector<std::pair<const char*, int>> readGrpcKeepalive(config::ConfigNode& grpc_node) {
  std::vector<std::pair<const char*, int>> channel_args;
  config::ConfigNode keepalive = grpc_node.child("keepalive");
  auto millis = [](config::ConfigNode& n, std::string_view key) -> std::optional<int> {
    if (!n.getYaml(key)) return std::nullopt;
    const absl::Duration d = n.getDuration(key, absl::ZeroDuration());
    if (d <= absl::ZeroDuration()) {
      n.addError(key, "must be a positive duration");
      return std::nullopt;
    }
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
  };
  config::ConfigNode server = keepalive.child("server_parameters");
  const std::pair<const char*, const char*> server_keys[] = {
      {"max_connection_idle", GRPC_ARG_MAX_CONNECTION_IDLE_MS},
      {"max_connection_age", GRPC_ARG_MAX_CONNECTION_AGE_MS},
      {"max_connection_age_grace", GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS},
      {"time", GRPC_ARG_KEEPALIVE_TIME_MS},
      {"timeout", GRPC_ARG_KEEPALIVE_TIMEOUT_MS}};
  for (const auto& [key, arg] : server_keys) {
    if (auto ms = millis(server, key)) channel_args.emplace_back(arg, *ms);
  }
  server.rejectUnknownKeys();
  config::ConfigNode enforcement = keepalive.child("enforcement_policy");
  if (auto ms = millis(enforcement, "min_time")) {
    channel_args.emplace_back(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, *ms);
  }
  if (enforcement.getYaml("permit_without_stream")) {
    channel_args.emplace_back(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                              enforcement.getBool("permit_without_stream", false) ? 1 : 0);
  }
  enforcement.rejectUnknownKeys();
  keepalive.rejectUnknownKeys();
  return channel_args;
}

void limitGrpcReadMemory(grpc::ServerBuilder& builder, size_t budget_bytes,
                         const std::string& name) {
  if (budget_bytes == 0) return;
  constexpr size_t kQuotaPerBudget = 4;
  // The builder keeps its own reference to the quota.
  grpc::ResourceQuota quota(name);
  quota.Resize(budget_bytes > SIZE_MAX / kQuotaPerBudget ? SIZE_MAX
                                                         : budget_bytes * kQuotaPerBudget);
  builder.SetResourceQuota(quota);
}

int64_t defaultMaxConcurrentStreams(size_t budget_bytes) {
  if (budget_bytes == 0) return 0;
  constexpr size_t kBudgetPerStream = 4 << 20;
  constexpr size_t kMinStreams = 8;
  return static_cast<int64_t>(
      std::min<size_t>(std::max(budget_bytes / kBudgetPerStream, kMinStreams), INT32_MAX));
}

}  // namespace otlpd::common
