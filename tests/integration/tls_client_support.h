// TLS clients for the integration tests: an HTTPS/1.1 connection (Beast over OpenSSL) that tells
// which certificate, version and cipher the server presented, and gRPC channels with TLS
// credentials. Every operation is bounded by a timeout.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {

struct TlsClientOptions {
  std::string ca_file;              // the roots the server must chain to; empty: no verification
  std::string cert_file, key_file;  // a client certificate, for mutual TLS
  // Sent as SNI and checked against the certificate; empty: the endpoint's host.
  std::string server_name;
  int min_version = 0, max_version = 0;  // TLS1_2_VERSION…; 0: OpenSSL's defaults
  std::string cipher_list;               // TLS 1.2 ciphers (OpenSSL names); empty: default
  std::string alpn;                      // one protocol offered, e.g. "h2"; empty: none
  std::chrono::milliseconds timeout{10000};
};

class TlsConnection {
 public:
  // Connects and completes the handshake; an error carries OpenSSL's reason.
  static absl::StatusOr<std::unique_ptr<TlsConnection>> open(const std::string& endpoint,
                                                             const TlsClientOptions& options);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  absl::StatusOr<HttpResult> request(std::string_view method, std::string_view target,
                                     const HeaderList& headers = {}, std::string body = {});

  // What the handshake settled on.
  std::string peerSerial() const;   // hex, e.g. "1001"
  std::string peerSubject() const;  // e.g. "CN=otlpd test server"
  std::string version() const;      // "TLSv1.3"
  std::string cipher() const;       // OpenSSL's name
  std::string alpn() const;

 private:
  struct Impl;
  explicit TlsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Just the handshake: OK, or why it failed.
absl::Status tlsHandshake(const std::string& endpoint, const TlsClientOptions& options);

// A gRPC channel with TLS credentials from these files (server_name: the target name override).
std::shared_ptr<grpc::Channel> tlsChannel(const std::string& endpoint,
                                          const TlsClientOptions& options);

// The serial (hex) of the certificate in a PEM text.
std::string pemSerial(std::string_view pem);

std::string readFile(const std::string& path);

}  // namespace otlpd::integration
