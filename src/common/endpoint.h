#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otlpd::common {

// "host:port", "[v6]:port" or ":port" (every interface), as Collector endpoints are written.
struct HostPort {
  std::string host;  // without brackets; empty means every interface
  uint16_t port = 0;

  static absl::StatusOr<HostPort> parse(std::string_view endpoint);
  std::string toString() const;
};

}  // namespace otlpd::common
