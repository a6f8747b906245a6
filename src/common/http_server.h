// A small HTTP/1.1 server on Boost.Beast: keep-alive, a body limit enforced while reading, and a
// pool of I/O threads. Handlers run on those threads and return a whole response.
#pragma once

#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace otlpd::common {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse handle(HttpRequest&& request) = 0;
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
  // Called instead of handle() when the body is larger than the limit; `request` has headers
  // only. The connection is closed after the response, since the rest of the body is unread.
  virtual HttpResponse bodyTooLarge(const HttpRequest& request, size_t limit);
};

// Builds a response with the request's HTTP version and keep-alive.
HttpResponse makeResponse(const HttpRequest& request, boost::beast::http::status status,
                          std::string content_type, std::string body);

struct HttpServerOptions {
  std::string endpoint = "localhost:0";
  size_t max_body_bytes = 64u << 20;
  size_t io_threads = 2;
  std::chrono::seconds idle_timeout{60};
};

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
  // Stops accepting, closes connections, joins the I/O threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otlpd::common
