#include "receivers/prometheus/scrape_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/compression.h"
#include "common/strings.h"

namespace otlpd::receivers::prometheus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string_view fetchFailureName(FetchFailure f) {
  switch (f) {
    case FetchFailure::kNone:
      return "none";
    case FetchFailure::kTimeout:
      return "timeout";
    case FetchFailure::kConnection:
      return "connection";
    case FetchFailure::kHttpStatus:
      return "http_status";
    case FetchFailure::kBodyTooLarge:
      return "body_too_large";
    case FetchFailure::kInvalidBody:
      return "invalid_body";
  }
  return "unknown";
}

absl::StatusOr<std::shared_ptr<ssl::context>> makeTlsContext(const TlsConfig& tls) {
  std::shared_ptr<ssl::context> ctx;
  // Asio reports OpenSSL failures in its constructor by throwing; nothing else here does.
  try {
    ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  } catch (const std::exception& e) {
    return absl::InternalError(strCat("TLS context: ", e.what()));
  }
  beast::error_code ec;
  ctx->set_options(
      ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3, ec);
  int min_version = TLS1_2_VERSION;  // Prometheus's default as well
  if (tls.min_version == "TLS10") min_version = TLS1_VERSION;
  if (tls.min_version == "TLS11") min_version = TLS1_1_VERSION;
  if (tls.min_version == "TLS13") min_version = TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx->native_handle(), min_version);
  if (tls.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!tls.ca_file.empty()) {
      ctx->load_verify_file(tls.ca_file, ec);
      if (ec)
        return absl::FailedPreconditionError(
            strCat("tls_config.ca_file ", tls.ca_file, ": ", ec.message()));
    } else {
      ctx->set_default_verify_paths(ec);
    }
  }
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          strCat("tls_config.cert_file ", tls.cert_file, ": ", ec.message()));
    }
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          strCat("tls_config.key_file ", tls.key_file, ": ", ec.message()));
    }
  }
  return ctx;
}

struct ScrapeClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::shared_ptr<ssl::context> context, TlsConfig tls_config)
      : ioc(io),
        ssl_ctx(std::move(context)),
        tls(std::move(tls_config)),
        resolver(io),
        deadline(io) {}

  asio::io_context& ioc;
  std::shared_ptr<ssl::context> ssl_ctx;
  TlsConfig tls;
  tcp::resolver resolver;
  asio::steady_timer deadline;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  bool connected = false;
  beast::flat_buffer buffer;

  // The fetch in flight.
  FetchRequest req;
  std::function<void(FetchResult)> done;
  http::request<http::empty_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  bool finished = true;
  bool timed_out = false;
  bool reused = false;
  bool retried = false;
  uint64_t generation = 0;  // handlers of an earlier fetch see another value and do nothing

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  void closeSockets() {
    beast::error_code ignored;
    if (plain || secure) {
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().socket().close(ignored);
    }
    connected = false;
  }

  // A handler that does nothing once its fetch is over (completed, timed out, or superseded).
  template <class F>
  struct Guarded {
    std::shared_ptr<Impl> self;
    uint64_t generation;
    F f;
    template <class... Args>
    auto operator()(Args&&... args) -> decltype(f(std::forward<Args>(args)...), void()) {
      if (generation != self->generation || self->finished) return;
      f(std::forward<Args>(args)...);
    }
  };
  template <class F>
  Guarded<std::decay_t<F>> guard(F&& f) {
    return Guarded<std::decay_t<F>>{shared_from_this(), generation, std::forward<F>(f)};
  }

  void start(FetchRequest r, std::function<void(FetchResult)> callback) {
    ++generation;
    req = std::move(r);
    done = std::move(callback);
    finished = false;
    timed_out = false;
    retried = false;
    request = http::request<http::empty_body>(http::verb::get, req.target, 11);
    const bool default_port = req.port == (req.tls ? 443 : 80);
    const bool v6 = req.host.find(':') != std::string::npos;
    request.set(http::field::host, strCat(v6 ? "[" : "", req.host, v6 ? "]" : "",
                                          default_port ? "" : strCat(":", req.port)));
    for (const auto& [name, value] : req.headers) request.set(name, value);
    request.keep_alive(true);
    deadline.expires_after(absl::ToChronoNanoseconds(req.timeout));
    deadline.async_wait(guard([this](beast::error_code ec) {
      if (ec) return;
      timed_out = true;
      resolver.cancel();
      closeSockets();
    }));
    if (connected) {
      reused = true;
      send();
    } else {
      reused = false;
      connect();
    }
  }

  void fail(FetchFailure failure, absl::Status status) {
    closeSockets();
    FetchResult r;
    if (timed_out) {
      r.failure = FetchFailure::kTimeout;
      r.status = absl::DeadlineExceededError(
          strCat("no answer within the scrape timeout of ", absl::FormatDuration(req.timeout)));
    } else {
      r.failure = failure;
      r.status = std::move(status);
    }
    complete(std::move(r));
  }

  void complete(FetchResult r) {
    finished = true;
    deadline.cancel();
    auto callback = std::move(done);
    done = nullptr;
    callback(std::move(r));
  }

  std::string origin() const {
    return strCat(req.tls ? "https://" : "http://", req.host, ":", req.port);
  }

  void connect() {
    closeSockets();
    plain.reset();
    secure.reset();
    if (ssl_ctx) {
      secure.emplace(ioc, *ssl_ctx);
    } else {
      plain.emplace(ioc);
    }
    buffer.clear();
    resolver.async_resolve(
        req.host, std::to_string(req.port),
        guard([this](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec) {
            fail(FetchFailure::kConnection,
                 absl::UnavailableError(strCat("resolve ", req.host, ": ", ec.message())));
            return;
          }
          lowest().async_connect(
              results, guard([this](beast::error_code ec2, const tcp::endpoint&) {
                if (ec2) {
                  fail(FetchFailure::kConnection,
                       absl::UnavailableError(strCat("connect ", origin(), ": ", ec2.message())));
                  return;
                }
                beast::error_code ignored;
                lowest().socket().set_option(tcp::no_delay(true), ignored);
                if (secure) {
                  handshake();
                } else {
                  connected = true;
                  send();
                }
              }));
        }));
  }

  void handshake() {
    const std::string& name = tls.server_name.empty() ? req.host : tls.server_name;
    // SNI carries names only, never addresses (RFC 6066 §3).
    beast::error_code not_ip;
    asio::ip::make_address(name, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(secure->native_handle(), name.c_str())) {
      fail(FetchFailure::kConnection,
           absl::UnavailableError(strCat("TLS: cannot set server name ", name)));
      return;
    }
    if (!tls.insecure_skip_verify) {
      beast::error_code ec;
      secure->set_verify_callback(ssl::host_name_verification(name), ec);
    }
    secure->async_handshake(ssl::stream_base::client, guard([this](beast::error_code ec) {
                              if (ec) {
                                fail(FetchFailure::kConnection,
                                     absl::UnavailableError(strCat("TLS handshake with ", origin(),
                                                                   ": ", ec.message())));
                                return;
                              }
                              connected = true;
                              send();
                            }));
  }

  void send() {
    parser.emplace();
    parser->body_limit(req.body_limit);
    auto written = guard([this](beast::error_code ec, size_t) {
      if (ec) {
        retryOrFail(ec);
        return;
      }
      // The header first: Beast 1.74 checks a Content-Length against body_limit only when the
      // header is parsed on its own (a header read together with body bytes skips the check), so
      // the body is read in a second step, after our own check of the announced length.
      auto header = guard([this](beast::error_code ec2, size_t) {
        if (ec2) {
          onRead(ec2);
          return;
        }
        if (parser->content_length() && *parser->content_length() > req.body_limit) {
          onRead(http::error::body_limit);
          return;
        }
        auto read = guard([this](beast::error_code ec3, size_t) { onRead(ec3); });
        if (secure) {
          http::async_read(*secure, buffer, *parser, std::move(read));
        } else {
          http::async_read(*plain, buffer, *parser, std::move(read));
        }
      });
      if (secure) {
        http::async_read_header(*secure, buffer, *parser, std::move(header));
      } else {
        http::async_read_header(*plain, buffer, *parser, std::move(header));
      }
    });
    if (secure) {
      http::async_write(*secure, request, std::move(written));
    } else {
      http::async_write(*plain, request, std::move(written));
    }
  }

  // A kept-alive connection the target closed while idle fails before any byte of the answer:
  // worth one more try on a fresh connection.
  void retryOrFail(beast::error_code ec) {
    if (reused && !retried && !timed_out && !(parser && parser->got_some())) {
      retried = true;
      reused = false;
      connect();
      return;
    }
    fail(FetchFailure::kConnection,
         absl::UnavailableError(strCat("GET ", origin(), req.target, ": ", ec.message())));
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      fail(FetchFailure::kBodyTooLarge,
           absl::ResourceExhaustedError(
               strCat("body larger than body_size_limit (", req.body_limit, " bytes)")));
      return;
    }
    if (ec) {
      retryOrFail(ec);
      return;
    }
    http::response<http::string_body> response = parser->release();
    parser.reset();
    if (!response.keep_alive()) closeSockets();
    FetchResult r;
    r.http_status = static_cast<int>(response.result_int());
    if (r.http_status != 200) {
      r.failure = FetchFailure::kHttpStatus;
      r.status = absl::FailedPreconditionError(strCat("server returned HTTP status ", r.http_status,
                                                      " ", std::string(response.reason())));
      complete(std::move(r));
      return;
    }
    if (auto it = response.find(http::field::content_type); it != response.end()) {
      r.content_type = std::string(it->value());
    }
    std::string_view encoding;
    if (auto it = response.find(http::field::content_encoding); it != response.end()) {
      encoding = it->value();
    }
    const std::optional<common::Compression> compression = common::parseContentEncoding(encoding);
    if (!compression) {
      r.failure = FetchFailure::kInvalidBody;
      r.status =
          absl::InvalidArgumentError(strCat("unsupported Content-Encoding \"", encoding, "\""));
    } else if (*compression == common::Compression::kNone) {
      r.body = std::move(response.body());
    } else {
      absl::Status s = common::decompress(*compression, response.body(), req.body_limit, r.body);
      if (!s.ok()) {
        r.failure = s.code() == absl::StatusCode::kResourceExhausted ? FetchFailure::kBodyTooLarge
                                                                     : FetchFailure::kInvalidBody;
        r.status = s;
        r.body.clear();
      }
    }
    complete(std::move(r));
  }
};

ScrapeClient::ScrapeClient(asio::io_context& ioc, std::shared_ptr<ssl::context> ssl, TlsConfig tls)
    : impl_(std::make_shared<Impl>(ioc, std::move(ssl), std::move(tls))) {}

ScrapeClient::~ScrapeClient() {
  impl_->finished = true;
  impl_->done = nullptr;
  impl_->closeSockets();
}

void ScrapeClient::fetch(FetchRequest request, std::function<void(FetchResult)> done) {
  // Handlers of Asio and Beast report through error codes; the catch keeps a surprise
  // (std::bad_alloc) from leaving our code.
  try {
    impl_->start(std::move(request), std::move(done));
  } catch (const std::exception& e) {
    if (!impl_->finished) {
      impl_->fail(FetchFailure::kConnection, absl::InternalError(strCat("scrape: ", e.what())));
    }
  }
}

void ScrapeClient::close() {
  if (!impl_->finished) {
    impl_->fail(FetchFailure::kConnection, absl::CancelledError("scrape stopped"));
    return;
  }
  impl_->closeSockets();
}

}  // namespace otlpd::receivers::prometheus
