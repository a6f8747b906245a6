// TLS for every listener, configured with the OpenTelemetry Collector's server keys (configtls)
// under `tls:`. Three layers: reading the config (pure, errors with their YAML paths), building an
// OpenSSL server context from it (reads the files), and a source of contexts that picks up
// certificates rotated on disk (reload_interval) without touching established connections.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config_node.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace otlpd::common {

class MetricsRegistry;
class Counter;
struct TlsMaterial;

enum class TlsVersion { k10, k11, k12, k13 };

// "1.0"…"1.3", as the Collector writes them.
absl::StatusOr<TlsVersion> parseTlsVersion(std::string_view text);
std::string_view tlsVersionName(TlsVersion version);

// The protocol keys configtls shares between servers and clients: versions, cipher suites and
// key exchange groups.
struct TlsProtocolConfig {
  TlsVersion min_version = TlsVersion::k12;
  TlsVersion max_version = TlsVersion::k13;
  // Collector (Go crypto/tls) names; empty: Go's default secure list.
  std::vector<std::string> cipher_suites;
  // X25519, P256, P384, P521; empty: OpenSSL's default groups.
  std::vector<std::string> curve_preferences;
};

// Reads min_version, max_version, cipher_suites and curve_preferences of one `tls` mapping; every
// problem is recorded on `tls` with its key.
TlsProtocolConfig parseTlsProtocolConfig(config::ConfigNode& tls);

// A key of the `tls` mapping that OpenSSL refused, and why.
struct TlsProtocolFailure {
  std::string key;
  std::string message;
};

// Applies the versions, suites and groups to an OpenSSL context, client or server.
std::optional<TlsProtocolFailure> applyTlsProtocolConfig(ssl_ctx_st* context,
                                                         const TlsProtocolConfig& config);

struct TlsServerConfig : TlsProtocolConfig {
  // The server's certificate chain and key: a file, or the PEM itself (`*_pem`), one of the two.
  std::string cert_file, cert_pem;
  std::string key_file, key_pem;
  // On a server the Collector does not verify clients with ca_file (only client_ca_file does);
  // it is read and checked, and otherwise unused (a warning says so when a listener starts).
  std::string ca_file, ca_pem;
  // Mutual TLS: a client must present a certificate that chains to one of these, or the handshake
  // fails.
  std::string client_ca_file;
  bool client_ca_file_reload = false;
  // Adds the system's trusted roots to the client CAs (as the Collector does for client_ca_file).
  bool include_system_ca_certs_pool = false;
  // Zero: the certificate is loaded once.
  absl::Duration reload_interval = absl::ZeroDuration();

  bool hasClientCa() const { return !client_ca_file.empty(); }
};

// Reads `tls` under `parent` (absent or null: nullopt, TLS off) without touching any file. Every
// problem is recorded on `parent`'s errors with its path (e.g. "…grpc.tls.min_version").
std::optional<TlsServerConfig> parseTlsServerConfig(config::ConfigNode& parent,
                                                    std::string_view key = "tls");

// parseTlsServerConfig, then loads the files once so that a missing file, an unreadable key or a
// key that does not match its certificate is reported at the key that names it, when the config is
// read (`otlpd validate` included) rather than when the listener starts.
std::optional<TlsServerConfig> readTlsServerConfig(config::ConfigNode& parent,
                                                   std::string_view key = "tls");

// Which application protocol a listener speaks, offered through ALPN: gRPC clients insist on
// "h2"; HTTP/1.1 listeners select "http/1.1" when the client offers it.
enum class TlsAlpn { kHttp11, kH2 };

// One loaded context and what it was built from.
struct TlsServerContext {
  std::shared_ptr<boost::asio::ssl::context> ssl;
  std::string certificate_subject;
  std::string certificate_serial;     // hex
  int64_t certificate_not_after = 0;  // seconds since the epoch
};

// Builds an OpenSSL server context (reads the files). Errors name the key and the file:
// "tls.key_file /etc/x.key: …".
absl::StatusOr<TlsServerContext> buildTlsServerContext(const TlsServerConfig& config, TlsAlpn alpn);

// The context a listener hands to each new connection. With reload_interval, the first connection
// after the interval re-reads the files; when they changed and form a valid pair, new connections
// get the new context while established ones keep the one they were created with. A failed reload
// (a half-written file, a key not matching its certificate) keeps the previous context, is logged
// and counted, and is tried again after the next interval.
//
// Counted in /metrics when a registry and a listener name are given:
// otlpd_tls_certificate_reloads_total{listener,result} and
// otlpd_tls_certificate_expiry_timestamp_seconds{listener}.
class TlsContextSource {
 public:
  using Clock = std::chrono::steady_clock;

  static absl::StatusOr<std::shared_ptr<TlsContextSource>> create(
      const TlsServerConfig& config, TlsAlpn alpn, MetricsRegistry* metrics = nullptr,
      std::string listener = "");
  ~TlsContextSource();

  // A lock and a pointer copy when no reload is due.
  std::shared_ptr<boost::asio::ssl::context> current();
  // The certificate new connections get, for logs and tests.
  TlsServerContext currentInfo();
  // Re-reads the files now, whatever the interval (tests; a future SIGHUP).
  absl::Status reloadNow();
  uint64_t reloads() const;
  uint64_t failedReloads() const;

 private:
  TlsContextSource(TlsServerConfig config, TlsAlpn alpn);
  absl::Status reloadLocked();
  Clock::duration interval() const;

  const TlsServerConfig config_;
  const TlsAlpn alpn_;
  std::mutex mutex_;
  TlsServerContext current_;  // guarded by mutex_
  // The bytes current_ was built from, to skip unchanged reloads.
  std::unique_ptr<TlsMaterial> loaded_;
  std::atomic<int64_t> next_check_{INT64_MAX};  // Clock ticks; INT64_MAX: never
  Counter* reloads_ok_ = nullptr;
  Counter* reloads_failed_ = nullptr;
  std::unique_ptr<Counter> own_ok_, own_failed_;
  MetricsRegistry* metrics_ = nullptr;
  uint64_t expiry_gauge_ = 0;
  std::string listener_;
};

// Reads a file of at most `max_bytes` (certificates and keys are small; a path to a device or a
// huge file is refused instead of read).
absl::StatusOr<std::string> readSmallFile(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace otlpd::common
