// Keys the otlp_grpc and otlp_http exporters share with the Collector's exporters (headers,
// compression, tls), and the OTEL_EXPORTER_OTLP_* environment variables as defaults.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/compression.h"
#include "config/config_node.h"
#include "pipeline/signal.h"

namespace otlpd::exporters::helper {

struct TlsClientConfig {
  bool insecure = false;  // plaintext
  bool insecure_skip_verify = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name_override;
};

struct OtlpClientConfig {
  std::string endpoint;
  std::map<std::string, std::string> headers;
  common::Compression compression = common::Compression::kGzip;
  TlsClientConfig tls;
};

// OTEL_EXPORTER_OTLP_<SIGNAL>_<name>, else OTEL_EXPORTER_OTLP_<name>; nullopt when neither is set.
std::optional<std::string> otlpEnv(pipeline::Signal signal, std::string_view name);
// True when the per-signal variable (not the generic one) supplied the value.
bool otlpEnvIsSignalSpecific(pipeline::Signal signal, std::string_view name);

// Reads headers, compression and tls; the endpoint is the caller's (its rules differ per
// transport). Unset keys fall back to OTEL_EXPORTER_OTLP_HEADERS / _COMPRESSION / _CERTIFICATE /
// _CLIENT_CERTIFICATE / _CLIENT_KEY / _INSECURE.
OtlpClientConfig parseOtlpClientConfig(config::ConfigNode& node, pipeline::Signal signal);

// Reads a whole file; empty path gives "".
std::optional<std::string> readSmallFile(const std::string& path);

}  // namespace otlpd::exporters::helper
