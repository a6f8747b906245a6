#include "common/http_server_config.h"

#include "absl/time/time.h"

namespace otlpd::common {
namespace {

std::chrono::milliseconds readTimeout(config::ConfigNode& node, std::string_view key,
                                      std::chrono::milliseconds value) {
  const absl::Duration d = node.getDuration(key, absl::Milliseconds(value.count()));
  if (d < absl::ZeroDuration()) {
    node.addError(key, "must not be negative");
    return value;
  }
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

}  // namespace

void readHttpServerLimits(config::ConfigNode& node, HttpServerOptions& options) {
  options.read_timeout = readTimeout(node, "read_timeout", options.read_timeout);
  options.read_header_timeout =
      readTimeout(node, "read_header_timeout", options.read_header_timeout);
  options.write_timeout = readTimeout(node, "write_timeout", options.write_timeout);
  options.idle_timeout = readTimeout(node, "idle_timeout", options.idle_timeout);
  // 0 means "none" in the Collector's Go server; a connection without any deadline is what this
  // guards against, so 0 keeps the default instead.
  if (options.read_header_timeout.count() == 0)
    options.read_header_timeout = std::chrono::seconds(10);
  if (options.idle_timeout.count() == 0) options.idle_timeout = std::chrono::seconds(60);
  if (options.write_timeout.count() == 0) options.write_timeout = std::chrono::seconds(30);
  options.max_connections = static_cast<size_t>(
      node.getInt("max_connections", static_cast<int64_t>(options.max_connections), 0, 1'000'000));
  options.min_body_bytes_per_second = static_cast<size_t>(
      node.getInt("min_request_body_rate", static_cast<int64_t>(options.min_body_bytes_per_second),
                  0, int64_t{1} << 40));
  options.max_header_count = static_cast<size_t>(node.getInt(
      "max_request_header_count", static_cast<int64_t>(options.max_header_count), 1, 10'000));
}

}  // namespace otlpd::common
