#include "common/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/endpoint.h"
#include "common/strings.h"

namespace otlpd::common {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpHandler> handler, size_t max_body_bytes,
          std::chrono::seconds idle_timeout, std::atomic<int>& busy)
      : busy_(busy),
        stream_(std::move(socket)),
        handler_(std::move(handler)),
        max_body_bytes_(max_body_bytes),
        idle_timeout_(idle_timeout) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(max_body_bytes_);
    parser_->header_limit(kMaxHeaderBytes);
    admission_.reset();
    stream_.expires_after(idle_timeout_);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::onHeader, shared_from_this()));
  }

  // Headers first: the handler may refuse before the body is read.
  void onHeader(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return onRead(ec, 0);
    if (std::optional<HttpResponse> refusal = handler_->admit(parser_->get(), admission_)) {
      busy_.fetch_add(1);
      return respond(*std::move(refusal), true);
    }
    const auto length = parser_->content_length();
    if (length && *length > 0 && *length <= max_body_bytes_ && !parser_->chunked()) {
      return readBody(static_cast<size_t>(*length));
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::onRead, shared_from_this()));
  }

  // A body of known length goes straight into the request's string, sized once: the parser
  // would read it through the 64 KiB-at-a-time flat buffer and append it piece by piece, which
  // cost several times the CPU per byte of the gRPC path (perf: recvmsg calls, executor and
  // shared_ptr traffic per piece).
  void readBody(size_t length) {
    request_ = parser_->release();  // the header; the parser is not used for this body
    std::string& body = request_.body();
    body.resize(length);
    const size_t buffered = std::min(length, buffer_.size());
    asio::buffer_copy(asio::buffer(body.data(), buffered), buffer_.data());
    buffer_.consume(buffered);
    asio::async_read(stream_, asio::buffer(body.data() + buffered, length - buffered),
                     beast::bind_front_handler(&Session::onBody, shared_from_this()));
  }

  void onBody(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return close();  // the client went away or timed out mid-body
    busy_.fetch_add(1);
    const bool head = request_.method() == http::verb::head;
    HttpResponse response = handler_->handleAdmitted(std::move(request_), std::move(admission_));
    const bool close_after = !response.keep_alive();
    respond(std::move(response), close_after, head);
  }

  void onRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    // From here until the response is written this session holds a request a client waits
    // for; stop() lets such requests finish.
    busy_.fetch_add(1);
    if (ec == http::error::body_limit) {
      return respond(handler_->bodyTooLarge(parser_->get(), max_body_bytes_), true);
    }
    if (ec) {
      // A request we cannot even parse: answer plainly and hang up, the stream is out of sync.
      HttpResponse res{http::status::bad_request, 11};
      res.set(http::field::content_type, "text/plain");
      res.body() = strCat("malformed HTTP request: ", ec.message(), "\n");
      return respond(std::move(res), true);
    }
    HttpRequest request = parser_->release();
    const bool head = request.method() == http::verb::head;
    HttpResponse response = handler_->handleAdmitted(std::move(request), std::move(admission_));
    const bool close_after = !response.keep_alive();
    respond(std::move(response), close_after, head);
  }

  // A response to HEAD whose handler set Content-Length (the length GET would send) keeps it;
  // its body, if any, is not sent.
  void respond(HttpResponse&& response, bool close_after, bool head = false) {
    auto res = std::make_shared<HttpResponse>(std::move(response));
    if (close_after) res->keep_alive(false);
    if (head && res->has_content_length()) {
      res->body().clear();
    } else {
      res->prepare_payload();
    }
    stream_.expires_after(idle_timeout_);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, close_after](beast::error_code ec, size_t) {
                        self->busy_.fetch_sub(1);
                        if (ec) return;
                        if (close_after) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  std::atomic<int>& busy_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;  // a request whose body readBody() reads
  std::shared_ptr<void> admission_;
  std::shared_ptr<HttpHandler> handler_;
  size_t max_body_bytes_;
  std::chrono::seconds idle_timeout_;
};

}  // namespace

HttpResponse HttpHandler::bodyTooLarge(const HttpRequest& request, size_t limit) {
  return makeResponse(request, http::status::payload_too_large, "text/plain",
                      strCat("request body exceeds the limit of ", limit, " bytes\n"));
}

HttpResponse makeResponse(const HttpRequest& request, http::status status, std::string content_type,
                          std::string body) {
  HttpResponse res{status, request.version()};
  res.set(http::field::content_type, content_type);
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  return res;
}

struct HttpServer::Impl {
  explicit Impl(size_t threads) : ioc(static_cast<int>(threads)) {}

  // Requests read and not yet answered; declared before the io_context so that it outlives
  // every session.
  std::atomic<int> busy{0};

  void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept(
        asio::make_strand(ioc), [this, &acceptor](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (!ec) {
            std::make_shared<Session>(std::move(socket), handler, options.max_body_bytes,
                                      options.idle_timeout, busy)
                ->run();
          }
          accept(acceptor);
        });
  }

  asio::io_context ioc;
  HttpServerOptions options;
  std::shared_ptr<HttpHandler> handler;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::string bound;
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::start(
    const HttpServerOptions& options, std::shared_ptr<HttpHandler> handler) {
  auto hp = HostPort::parse(options.endpoint);
  if (!hp.ok()) return hp.status();
  auto impl = std::make_unique<Impl>(std::max<size_t>(1, options.io_threads));
  impl->options = options;
  impl->handler = std::move(handler);

  beast::error_code ec;
  std::vector<tcp::endpoint> addresses;
  if (hp->host.empty()) {
    addresses.emplace_back(tcp::v4(), hp->port);
  } else {
    tcp::resolver resolver(impl->ioc);
    auto results =
        resolver.resolve(hp->host, std::to_string(hp->port), tcp::resolver::numeric_service, ec);
    if (ec) {
      return absl::InvalidArgumentError(strCat("cannot resolve '", hp->host, "': ", ec.message()));
    }
    for (const auto& r : results) addresses.push_back(r.endpoint());
  }
  // With port 0 each address would get a different port; serve the first one only.
  if (hp->port == 0 && addresses.size() > 1) addresses.resize(1);

  std::string first_error;
  for (const tcp::endpoint& ep : addresses) {
    auto acceptor = std::make_unique<tcp::acceptor>(impl->ioc);
    if (acceptor->open(ep.protocol(), ec) ||
        acceptor->set_option(asio::socket_base::reuse_address(true), ec) ||
        (ep.address().is_v6() && acceptor->set_option(asio::ip::v6_only(true), ec)) ||
        acceptor->bind(ep, ec) || acceptor->listen(asio::socket_base::max_listen_connections, ec)) {
      if (first_error.empty()) {
        first_error = strCat("cannot listen on ", options.endpoint, " (", ep.address().to_string(),
                             "): ", ec.message());
      }
      continue;
    }
    if (impl->bound.empty()) {
      tcp::endpoint local = acceptor->local_endpoint();
      impl->bound = HostPort{local.address().to_string(), local.port()}.toString();
    }
    impl->acceptors.push_back(std::move(acceptor));
  }
  if (impl->acceptors.empty()) return absl::UnavailableError(first_error);

  for (auto& acceptor : impl->acceptors) impl->accept(*acceptor);
  for (size_t i = 0; i < std::max<size_t>(1, options.io_threads); ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

const std::string& HttpServer::boundEndpoint() const {
  return impl_->bound;
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    for (auto& a : impl->acceptors) a->close(ignored);
  });
  // Requests already being handled finish and get their answer (bounded); idle keep-alive
  // connections are simply closed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace otlpd::common
