#include "exporters/otlp_http/http_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <functional>
#include <map>
#include <optional>

#include "common/logging.h"
#include "common/strings.h"
#include "common/tls_server_config.h"

namespace otlpd::exporters::otlp_http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// An OTLP response is a small message; anything far larger is not one and is not worth reading.
constexpr uint64_t kMaxResponseBytes = 4u << 20;
// Servers close idle keep-alive connections (ours after 60 s, Go's net/http after 90 s); a
// connection idle longer than this is dropped rather than risked.
constexpr absl::Duration kMaxIdle = absl::Seconds(30);

using Done = std::function<void(beast::error_code)>;

// Runs one asynchronous operation on the connection's own io_context in the calling thread,
// bounded by `deadline`: when time is up, `cancel` aborts the operation (closing the socket)
// and the context is run until its handler has seen the abort.
template <class Start, class Cancel>
beast::error_code runOp(asio::io_context& ioc, absl::Time deadline, Start&& start,
                        Cancel&& cancel) {
  beast::error_code result;
  bool done = false;
  start(Done([&](beast::error_code ec) {
    result = ec;
    done = true;
  }));
  ioc.restart();
  ioc.run_for(absl::ToChronoNanoseconds(std::max(deadline - absl::Now(), absl::ZeroDuration())));
  if (done) return result;
  cancel();
  ioc.restart();
  ioc.run();
  return beast::error::timeout;
}

// A client context from the exporter's tls settings: versions and suites, the server's
// verification against the configured CA (or the system's roots), and the client certificate.
absl::StatusOr<std::shared_ptr<ssl::context>> buildClientContext(
    const helper::TlsClientConfig& tls) {
  auto pem = helper::loadTlsClientPem(tls);
  if (!pem.ok()) return pem.status();
  std::shared_ptr<ssl::context> context;
  // Asio's context constructor reports OpenSSL failures by throwing; nothing else here does.
  try {
    context = std::make_shared<ssl::context>(ssl::context::tls_client);
  } catch (const std::exception& e) {
    return absl::InternalError(strCat("TLS context: ", e.what()));
  }
  ssl::context& ctx = *context;
  beast::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  if (auto failure = common::applyTlsProtocolConfig(ctx.native_handle(), tls)) {
    return absl::FailedPreconditionError(strCat("tls.", failure->key, ": ", failure->message));
  }
  if (tls.insecure_skip_verify) {
    ctx.set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (!pem->ca.empty()) {
      ctx.add_certificate_authority(asio::buffer(pem->ca), ec);
      if (ec) {
        return absl::FailedPreconditionError(
            strCat(tls.ca_file.empty() ? "tls.ca_pem" : strCat("tls.ca_file ", tls.ca_file), ": ",
                   ec.message()));
      }
    } else {
      ctx.set_default_verify_paths(ec);
    }
  }
  if (!pem->cert.empty()) {
    ctx.use_certificate_chain(asio::buffer(pem->cert), ec);
    if (ec) {
      return absl::FailedPreconditionError(
          strCat(tls.cert_file.empty() ? "tls.cert_pem" : strCat("tls.cert_file ", tls.cert_file),
                 ": ", ec.message()));
    }
    ctx.use_private_key(asio::buffer(pem->key), ssl::context::pem, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          strCat(tls.key_file.empty() ? "tls.key_pem" : strCat("tls.key_file ", tls.key_file),
                 ": ", ec.message()));
    }
  }
  return context;
}

}  // namespace

struct ConnectionPool::Connection {
  // Declared first so that they outlive the streams bound to them (a reload may replace the
  // pool's context while this connection lives).
  std::shared_ptr<ssl::context> ssl_ctx;
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  absl::Time idle_since;

  beast::tcp_stream& tcpStream() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    beast::error_code ignored;
    tcpStream().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcpStream().socket().close(ignored);
  }
};

struct ConnectionPool::Impl {
  HttpUrl url;  // origin only; targets come per request
  helper::TlsClientConfig tls;
  std::shared_ptr<ssl::context> ssl_ctx;  // null for http://; guarded by mu once shared
  absl::Time ssl_ctx_loaded;              // for tls.reload_interval
  size_t max_idle = 8;
  std::mutex mu;
  std::deque<std::unique_ptr<Connection>> idle;  // most recently used at the back

  // The context for a new connection. With tls.reload_interval, the first connection after the
  // interval re-reads the files; a failed reload keeps the previous context and is logged.
  std::shared_ptr<ssl::context> currentContext() {
    std::lock_guard lock(mu);
    if (!ssl_ctx || tls.reload_interval <= absl::ZeroDuration()) return ssl_ctx;
    const absl::Time now = absl::Now();
    if (now - ssl_ctx_loaded < tls.reload_interval) return ssl_ctx;
    ssl_ctx_loaded = now;
    auto reloaded = buildClientContext(tls);
    if (reloaded.ok()) {
      ssl_ctx = *std::move(reloaded);
    } else {
      logging::warn("reloading the TLS client files failed; keeping the previous ones",
                    {{"destination", url.origin()}, {"error", reloaded.status()}});
    }
    return ssl_ctx;
  }

  std::unique_ptr<Connection> takeIdle() {
    std::lock_guard lock(mu);
    const absl::Time now = absl::Now();
    while (!idle.empty()) {
      std::unique_ptr<Connection> c = std::move(idle.back());
      idle.pop_back();
      if (now - c->idle_since < kMaxIdle) return c;
      c->close();
    }
    return nullptr;
  }

  void giveBack(std::unique_ptr<Connection> c) {
    c->idle_since = absl::Now();
    std::lock_guard lock(mu);
    if (idle.size() >= max_idle) {
      c->close();
      return;
    }
    idle.push_back(std::move(c));
  }

  absl::StatusOr<std::unique_ptr<Connection>> connect(absl::Time deadline) {
    auto c = std::make_unique<Connection>();
    if (std::shared_ptr<ssl::context> context = currentContext()) {
      c->ssl_ctx = context;
      c->secure.emplace(c->ioc, *context);
    } else {
      c->plain.emplace(c->ioc);
    }
    tcp::resolver resolver(c->ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = runOp(
        c->ioc, deadline,
        [&](Done done) {
          resolver.async_resolve(
              url.host, std::to_string(url.port),
              [&endpoints, done](beast::error_code e, tcp::resolver::results_type r) {
                endpoints = std::move(r);
                done(e);
              });
        },
        [&] { resolver.cancel(); });
    if (ec) return absl::UnavailableError(strCat("resolve ", url.host, ": ", ec.message()));
    beast::tcp_stream& stream = c->tcpStream();
    stream.expires_at(std::chrono::steady_clock::now() +
                      absl::ToChronoNanoseconds(deadline - absl::Now()));
    ec = runOp(
        c->ioc, deadline,
        [&](Done done) {
          stream.async_connect(endpoints,
                               [done](beast::error_code e, const tcp::endpoint&) { done(e); });
        },
        [&] { c->close(); });
    if (ec) return absl::UnavailableError(strCat("connect ", url.origin(), ": ", ec.message()));
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    if (!c->secure) return c;

    const std::string& name =
        tls.server_name_override.empty() ? url.host : tls.server_name_override;
    // SNI carries names only, never addresses (RFC 6066 §3).
    beast::error_code not_ip;
    asio::ip::make_address(name, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(c->secure->native_handle(), name.c_str())) {
      return absl::UnavailableError(strCat("TLS: cannot set server name ", name));
    }
    if (!tls.insecure_skip_verify) {
      c->secure->set_verify_callback(ssl::host_name_verification(name), ec);
      if (ec) return absl::UnavailableError(strCat("TLS: ", ec.message()));
    }
    ec = runOp(
        c->ioc, deadline,
        [&](Done done) {
          c->secure->async_handshake(ssl::stream_base::client,
                                     [done](beast::error_code e) { done(e); });
        },
        [&] { c->close(); });
    if (ec)
      return absl::UnavailableError(
          strCat("TLS handshake with ", url.origin(), ": ", ec.message()));
    return c;
  }

  template <class Stream>
  beast::error_code exchange(Connection& c, Stream& stream,
                             const http::request<http::string_body>& request,
                             http::response_parser<http::string_body>& parser,
                             absl::Time deadline) {
    c.tcpStream().expires_at(std::chrono::steady_clock::now() +
                             absl::ToChronoNanoseconds(deadline - absl::Now()));
    beast::error_code ec = runOp(
        c.ioc, deadline,
        [&](Done done) {
          http::async_write(stream, request, [done](beast::error_code e, size_t) { done(e); });
        },
        [&] { c.close(); });
    if (ec) return ec;
    // The header first: Beast 1.74 checks a Content-Length against body_limit only when the header
    // is parsed on its own (a header read together with body bytes skips the check, and the string
    // body then reserves whatever a destination announces), so the announced length is checked
    // here before the body is read.
    ec = runOp(
        c.ioc, deadline,
        [&](Done done) {
          http::async_read_header(stream, c.buffer, parser,
                                  [done](beast::error_code e, size_t) { done(e); });
        },
        [&] { c.close(); });
    if (ec) return ec;
    if (parser.content_length() && *parser.content_length() > kMaxResponseBytes) {
      return http::error::body_limit;
    }
    if (parser.is_done()) return ec;
    return runOp(
        c.ioc, deadline,
        [&](Done done) {
          http::async_read(stream, c.buffer, parser,
                           [done](beast::error_code e, size_t) { done(e); });
        },
        [&] { c.close(); });
  }
};

absl::StatusOr<std::shared_ptr<ConnectionPool>> ConnectionPool::shared(
    const std::string& owner, const HttpUrl& url, const helper::TlsClientConfig& tls,
    int max_idle) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<ConnectionPool>> pools;
  const std::string key =
      strCat(owner, "|", url.origin(), "|", tls.identity(), "|", max_idle);
  std::lock_guard lock(mu);
  if (auto existing = pools[key].lock()) return existing;

  auto impl = std::make_unique<Impl>();
  impl->url = url;
  impl->url.target = "/";
  impl->tls = tls;
  impl->max_idle = static_cast<size_t>(std::max(max_idle, 0));
  if (url.tls) {
    auto context = buildClientContext(tls);
    if (!context.ok()) return context.status();
    impl->ssl_ctx = *std::move(context);
    impl->ssl_ctx_loaded = absl::Now();
  }
  std::shared_ptr<ConnectionPool> pool(new ConnectionPool(std::move(impl)));
  pools[key] = pool;
  return pool;
}

ConnectionPool::ConnectionPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConnectionPool::~ConnectionPool() {
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->idle) c->close();
}

size_t ConnectionPool::idleConnections() {
  std::lock_guard lock(impl_->mu);
  return impl_->idle.size();
}

absl::StatusOr<HttpAnswer> ConnectionPool::post(const std::string& target,
                                                const HeaderList& headers, const std::string& body,
                                                absl::Time deadline) {
  http::request<http::string_body> request{http::verb::post, target, 11};
  const HttpUrl& url = impl_->url;
  const bool default_port = url.port == (url.tls ? 443 : 80);
  const bool v6 = url.host.find(':') != std::string::npos;
  request.set(http::field::host, strCat(v6 ? "[" : "", url.host, v6 ? "]" : "",
                                        default_port ? "" : strCat(":", url.port)));
  request.set(http::field::user_agent, "otlpd/" OTLPD_VERSION);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();

  // Asio and Beast report through error codes on these paths; the catch keeps a surprise
  // (std::bad_alloc, a throwing OpenSSL callback) from leaving our code.
  try {
    // A pooled connection may have been closed by the server while idle; that shows as a failure
    // before any byte of the answer, and is worth one more try on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Connection> c = attempt == 0 ? impl_->takeIdle() : nullptr;
      const bool reused = c != nullptr;
      if (!c) {
        auto fresh = impl_->connect(deadline);
        if (!fresh.ok()) return fresh.status();
        c = *std::move(fresh);
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBytes);
      c->buffer.clear();
      beast::error_code ec = c->secure ? impl_->exchange(*c, *c->secure, request, parser, deadline)
                                       : impl_->exchange(*c, *c->plain, request, parser, deadline);
      if (ec) {
        c->close();
        if (reused && !parser.got_some() && ec != beast::error::timeout) continue;
        return absl::UnavailableError(strCat("POST ", url.origin(), target, ": ", ec.message()));
      }
      auto& response = parser.get();
      HttpAnswer answer;
      answer.status = static_cast<int>(response.result_int());
      if (auto it = response.find(http::field::content_type); it != response.end()) {
        answer.content_type = std::string(it->value());
      }
      if (auto it = response.find(http::field::content_encoding); it != response.end()) {
        answer.content_encoding = std::string(it->value());
      }
      if (auto it = response.find(http::field::retry_after); it != response.end()) {
        answer.retry_after = std::string(it->value());
      }
      const bool keep = response.keep_alive() && parser.is_done();
      answer.body = std::move(response.body());
      if (keep) {
        impl_->giveBack(std::move(c));
      } else {
        c->close();
      }
      return answer;
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(strCat("POST ", url.origin(), target, ": ", e.what()));
  }
  return absl::UnavailableError(strCat("POST ", url.origin(), target, ": connection lost"));
}

}  // namespace otlpd::exporters::otlp_http
