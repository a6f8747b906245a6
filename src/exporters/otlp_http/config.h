// The otlp_http exporter's config and the pure decisions around it: where each signal goes
// (the Collector's `endpoint` + per-signal `*_endpoint` keys, the OTLP spec's env variables) and
// what a destination's answer means for the exporter helper. No I/O, so tests drive it directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config_node.h"
#include "exporters/helper/config.h"
#include "exporters/helper/otlp_client_config.h"
#include "exporters/helper/sender.h"
#include "pipeline/signal.h"

namespace otlpd::exporters::otlp_http {

enum class Encoding { kProto, kJson };

// An http:// or https:// URL split the way a connection needs it. Query and fragment are kept
// in `target` as given (the spec lets us ignore them; passing them on is the least surprise).
struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  std::string target = "/";  // path (+ query), never empty

  // scheme://host:port, for logs, dead letters and connection sharing.
  std::string origin() const;
  std::string toString() const { return origin() + target; }
};

// Requires the scheme (http or https) and a host; the port defaults to 80 / 443.
absl::StatusOr<HttpUrl> parseHttpUrl(std::string_view url);

// "/v1/traces", "/v1/metrics", "/v1/logs".
std::string_view signalPath(pipeline::Signal signal);

// The base URL with the signal's path appended (a trailing '/' of the base is not doubled), as
// the Collector and the OTLP spec build per-signal URLs from OTEL_EXPORTER_OTLP_ENDPOINT.
std::string appendSignalPath(std::string_view base, pipeline::Signal signal);

// The URL one signal is sent to, first of: the `<signal>_endpoint` key (as is), the `endpoint`
// key (+ signal path), OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT (as is), OTEL_EXPORTER_OTLP_ENDPOINT
// (+ signal path). Empty when none is set.
std::string resolveSignalUrl(pipeline::Signal signal, std::string_view endpoint_key,
                             std::string_view signal_endpoint_key);

struct OtlpHttpConfig {
  helper::HelperConfig helper;
  helper::OtlpClientConfig client;  // client.endpoint is the resolved signal URL
  HttpUrl url;
  Encoding encoding = Encoding::kProto;
  // Idle keep-alive connections kept per destination (in use ones are not limited: the queue's
  // num_consumers bounds them).
  int max_idle_conns = 8;
};

// Reads every key of the exporter (the helper's, the shared client keys, and the HTTP ones);
// errors go to the node's error list.
OtlpHttpConfig parseOtlpHttpConfig(config::ConfigNode& node, pipeline::Signal signal);

// What an HTTP answer means (OTLP/HTTP spec, "Failures" and "Throttling", with the deviations
// docs/EXPORTERS.md lists):
//   2xx          delivered; the body is an Export<Signal>ServiceResponse whose partial_success
//                is reported in rejected_items (never retried)
//   429 502 503 504, other 5xx, 401   retryable (Unavailable), Retry-After honoured
//   other        permanent (InvalidArgument)
// `content_type` picks the body's decoding (application/json or protobuf; `request_encoding`
// when absent); `body` must already be decompressed.
helper::SendResult classifyResponse(pipeline::Signal signal, int status,
                                    std::string_view content_type, std::string_view body,
                                    std::string_view retry_after, Encoding request_encoding,
                                    absl::Time now);

}  // namespace otlpd::exporters::otlp_http
