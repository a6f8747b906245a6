// Keys the otlp_grpc and otlp_http exporters share with the Collector's exporters (headers,
// compression, tls), and the OTEL_EXPORTER_OTLP_* environment variables as defaults.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/compression.h"
#include "common/tls_server_config.h"
#include "config/config_node.h"
#include "pipeline/signal.h"

namespace otlpd::exporters::helper {

// The Collector's client `tls` keys (configtls.ClientConfig). The protocol keys (min_version,
// max_version, cipher_suites, curve_preferences) mean what they mean on a listener.
struct TlsClientConfig : common::TlsProtocolConfig {
  bool insecure = false;  // plaintext
  bool insecure_skip_verify = false;
  // A file or the PEM itself, one of the two each.
  std::string ca_file, ca_pem;
  std::string cert_file, cert_pem;
  std::string key_file, key_pem;
  std::string server_name_override;
  // With a CA: trust the system's roots as well as it.
  bool include_system_ca_certs_pool = false;
  // Zero: the files are read once; otherwise re-read for connections made after the interval.
  absl::Duration reload_interval = absl::ZeroDuration();

  bool hasCa() const { return !ca_file.empty() || !ca_pem.empty(); }
  bool hasClientCertificate() const { return !cert_file.empty() || !cert_pem.empty(); }
  // Every setting, for pooling connections that are configured alike.
  std::string identity() const;
};

// Reads a `tls` mapping into `c`, whose current values are the defaults (the OTEL_EXPORTER_OTLP_*
// variables for the OTLP exporters). Problems are recorded on `tls` with their keys.
void parseTlsClientConfig(config::ConfigNode& tls, TlsClientConfig& c);

// The PEM text of the CA bundle (with the system's roots when asked), the client certificate
// chain and its key; empty where not configured. Errors name the key and the file.
struct TlsClientPem {
  std::string ca, cert, key;
};
absl::StatusOr<TlsClientPem> loadTlsClientPem(const TlsClientConfig& c);

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

}  // namespace otlpd::exporters::helper
