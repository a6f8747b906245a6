// A small HTTP/1.1 server on Boost.Beast: keep-alive, a body limit enforced while reading, and a
// pool of I/O threads. Handlers run on those threads and return a whole response.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics_registry.h"

namespace otlpd::common {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class TlsContextSource;

// The body of a response produced while it is sent (Server-Sent Events): after the head the server
// calls next() every `poll_interval` and writes what it returns (nothing when empty); nullopt ends
// the response and the connection. next() runs on an I/O thread and must not block long. A client
// that went away is noticed at the next write (send something, e.g. an SSE comment, now and then).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual std::optional<std::string> next() = 0;
};

struct StreamingResponse {
  HttpResponse head;  // status and fields; its body is not sent
  std::shared_ptr<ResponseStream> body;
  std::chrono::milliseconds poll_interval{250};
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse handle(HttpRequest&& request) = 0;
  // Asked first for every request without a body: a streaming response instead of handle()'s.
  // Streams do not hold up stop(), which closes them.
  virtual std::optional<StreamingResponse> stream(const HttpRequest& /*request*/) {
    return std::nullopt;
  }
  // Called when a request's headers are in and before its body is read. A response refuses the
  // request without reading the body (the connection is closed after it), so a refused body
  // never occupies memory. Whatever the handler puts in `admission` (e.g. a memory
  // reservation) is handed to handleAdmitted() with the whole request.
  virtual std::optional<HttpResponse> admit(const HttpRequest& /*headers*/,
                                            std::shared_ptr<void>& /*admission*/) {
    return std::nullopt;
  }
  virtual HttpResponse handleAdmitted(HttpRequest&& request, std::shared_ptr<void> /*admission*/) {
    return handle(std::move(request));
  }
  // What the server calls for a whole request: a handler that may answer later (its pipeline
  // holds the OK, pipeline::DeferredAck) calls `respond` once, from any thread, and no thread
  // waits meanwhile; the connection reads nothing more until then. The default answers at once
  // with handleAdmitted().
  using Respond = std::function<void(HttpResponse)>;
  virtual void handleAdmittedLater(HttpRequest&& request, std::shared_ptr<void> admission,
                                   const Respond& respond) {
    respond(handleAdmitted(std::move(request), std::move(admission)));
  }
  // Called by HttpServer::stop() when answers are still owed past its grace period: the handler
  // gives them now (what holds them may let go only after the server has stopped).
  virtual void answerOwedNow() {}
  // Called before the memory for a body grows to `body_bytes` (bodies grow as they arrive): the
  // handler may grow what it reserved in admit(). A response refuses (the connection is closed
  // after it).
  virtual std::optional<HttpResponse> growAdmission(const HttpRequest& /*headers*/,
                                                    std::shared_ptr<void>& /*admission*/,
                                                    size_t /*body_bytes*/) {
    return std::nullopt;
  }
  // Called instead of handle() when the body is larger than the limit; `request` has headers
  // only. The connection is closed after the response, since the rest of the body is unread.
  virtual HttpResponse bodyTooLarge(const HttpRequest& request, size_t limit);
};

// Builds a response with the request's HTTP version and keep-alive.
HttpResponse makeResponse(const HttpRequest& request, boost::beast::http::status status,
                          std::string content_type, std::string body);

// Limits against clients that are slow or hostile: memory for a body is committed as its bytes
// arrive (never on the announced Content-Length), every read has a deadline, and a listener holds
// a bounded number of connections. Defaults in docs/SECURITY.md.
struct HttpServerOptions {
  std::string endpoint = "localhost:0";
  size_t max_body_bytes = 64u << 20;
  size_t io_threads = 2;
  // How long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // From a request's first byte to the end of its headers.
  std::chrono::milliseconds read_header_timeout{std::chrono::seconds(10)};
  // From the first byte to the end of the body; 0: no fixed bound, the body must then arrive at
  // min_body_bytes_per_second (after a grace of read_header_timeout).
  std::chrono::milliseconds read_timeout{0};
  size_t min_body_bytes_per_second = 16 * 1024;
  // For writing a response: a client that does not read is as slow as one that does not send.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  size_t max_header_count = 100;
  // Connections beyond this are accepted and closed at once (counted), so the listener stays
  // responsive; 0: no limit.
  size_t max_connections = 10000;
  // Where the limits' counters go, and the listener's name in their labels ("otlp.http").
  MetricsRegistry* metrics = nullptr;
  std::string listener;
  // TLS on this listener (common/tls_server_config.h); null: plaintext. Each connection takes the
  // source's current context, so rotated certificates reach new connections only.
  std::shared_ptr<TlsContextSource> tls;
};

// What the limits did. Counted in /metrics when the options name a registry and a listener:
// otlpd_http_server_closed_connections_total{listener,reason} and
// otlpd_http_server_open_connections{listener}.
struct HttpServerCounters {
  Counter* connections_refused = nullptr;  // over max_connections
  Counter* header_timeouts = nullptr;      // read_header_timeout passed
  Counter* body_timeouts = nullptr;        // read_timeout or the minimum rate
  Counter* idle_closed = nullptr;          // idle_timeout passed between requests
  Counter* too_many_headers = nullptr;
  // otlpd_tls_handshake_failures_total{listener,reason}
  Counter* tls_handshake_timeouts = nullptr;  // no finished handshake by read_header_timeout
  Counter* tls_handshake_failures = nullptr;  // refused: certificate, version, cipher, plaintext
  std::atomic<int64_t> open_connections{0};
};

// Binds `endpoint` ("host:port", "[v6]:port", ":port" for every IPv4 interface) on every address
// the host resolves to, or on the first one only when the port is 0; `bound` gets the first
// address with the port actually bound.
absl::StatusOr<std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>>> bindTcpEndpoint(
    boost::asio::io_context& ioc, const std::string& endpoint, std::string& bound);

class HttpServer {
 public:
  // Binds and starts serving; fails (without throwing) if the endpoint cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                           std::shared_ptr<HttpHandler> handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The address actually bound, with the port the OS chose when 0 was asked for.
  const std::string& boundEndpoint() const;
  const HttpServerCounters& counters() const;
  // Stops accepting, closes connections, joins the I/O threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd::common
