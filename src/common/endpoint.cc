#include "common/endpoint.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace otlpd::common {

absl::StatusOr<HostPort> HostPort::parse(std::string_view endpoint) {
  HostPort out;
  std::string_view port_text;
  if (!endpoint.empty() && endpoint.front() == '[') {
    const size_t close = endpoint.find(']');
    if (close == std::string_view::npos || close + 1 >= endpoint.size() ||
        endpoint[close + 1] != ':') {
      return absl::InvalidArgumentError(
          strCat("endpoint '", endpoint, "' must look like [::1]:4317"));
    }
    out.host = std::string(endpoint.substr(1, close - 1));
    port_text = endpoint.substr(close + 2);
  } else {
    const size_t colon = endpoint.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          strCat("endpoint '", endpoint, "' must look like host:port, e.g. localhost:4317"));
    }
    out.host = std::string(endpoint.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          strCat("endpoint '", endpoint, "': put IPv6 addresses in brackets, [::1]:4317"));
    }
    port_text = endpoint.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return absl::InvalidArgumentError(
        strCat("endpoint '", endpoint, "' has an invalid port '", port_text, "'"));
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::string HostPort::toString() const {
  if (host.find(':') != std::string::npos) return strCat("[", host, "]:", port);
  return strCat(host, ":", port);
}

}  // namespace otlpd::common
