// TLS for a gRPC server, terminated by us instead of by gRPC. gRPC 1.51's own server credentials
// cannot take a minimum or maximum TLS version or a cipher list per listener (only a process-wide
// environment variable for ciphers), so the Collector's `min_version`, `max_version` and
// `cipher_suites` could not be honoured there. Here every gRPC connection is accepted and its TLS
// handshake done with the same OpenSSL context the HTTP listeners use (versions, ciphers, mutual
// TLS, rotation), and the plaintext HTTP/2 is handed to the gRPC server over a socket pair
// (grpc::AddInsecureChannelFromFd), which then serves it with all its own settings (message size,
// max_concurrent_streams, keepalive, max_connection_age).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
}

namespace otlpd::common {

class MetricsRegistry;
class TlsContextSource;

struct GrpcTlsListenerOptions {
  std::string endpoint = "localhost:0";
  std::shared_ptr<TlsContextSource> tls;
  // A connection must finish its handshake within this (the header deadline of HTTP listeners).
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  size_t io_threads = 1;
  // Connections held at once (handshaking or handed to gRPC); more are accepted and closed at
  // once, as the HTTP listeners do. Each costs ~94 KB outside the memory budget (docs/SECURITY.md).
  size_t max_connections = 10000;
  // otlpd_tls_handshake_failures_total{listener,reason}, otlpd_grpc_tls_open_connections and
  // otlpd_grpc_tls_closed_connections_total{listener,reason="over_max_connections"}.
  MetricsRegistry* metrics = nullptr;
  std::string listener;
};

class GrpcTlsListener {
 public:
  // Binds the endpoint; connections are accepted (and wait in the backlog) from start() on.
  static absl::StatusOr<std::unique_ptr<GrpcTlsListener>> bind(
      const GrpcTlsListenerOptions& options);
  ~GrpcTlsListener();
  GrpcTlsListener(const GrpcTlsListener&) = delete;
  GrpcTlsListener& operator=(const GrpcTlsListener&) = delete;

  const std::string& boundEndpoint() const;
  // Hands every connection whose handshake succeeds to `server`, which must be started and must
  // outlive stopAccepting().
  void start(grpc::Server* server);
  // No new connection reaches the server after this returns; call it before server->Shutdown(),
  // and stop() after (established connections carry their calls' bytes until then).
  void stopAccepting();
  // Closes every connection and joins the I/O threads. Idempotent.
  void stop();

  uint64_t handshakeFailures() const;

 private:
  struct Impl;
  explicit GrpcTlsListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd::common
