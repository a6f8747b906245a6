// A small HTTP/1.1 client for OTLP/HTTP: keep-alive connections to one destination (plaintext or
// TLS), one request per connection at a time, every step bounded by the caller's deadline.
// Blocking calls: each connection owns an io_context that the calling thread runs, so a
// sender needs no I/O threads of its own and several consumers send in parallel.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporters/helper/otlp_client_config.h"
#include "exporters/otlp_http/config.h"

namespace otlpd::exporters::otlp_http {

struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string retry_after;
  std::string body;  // as received (still compressed when content_encoding says so)
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class ConnectionPool {
 public:
  // The pool for (owner, url's origin, tls settings): exporters of one id share it across signals.
  // Fails when the TLS files cannot be loaded.
  static absl::StatusOr<std::shared_ptr<ConnectionPool>> shared(const std::string& owner,
                                                                const HttpUrl& url,
                                                                const helper::TlsClientConfig& tls,
                                                                int max_idle);

  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // One POST of `body` to `target`. Errors (connect, TLS, I/O, deadline) are Unavailable; any
  // HTTP answer, whatever its status, is a value. Never throws.
  absl::StatusOr<HttpAnswer> post(const std::string& target, const HeaderList& headers,
                                  const std::string& body, absl::Time deadline);

  size_t idleConnections();

  struct Connection;
  struct Impl;

 private:
  explicit ConnectionPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd::exporters::otlp_http
