// OTLP/HTTP over HTTP/1.1 keep-alive with Boost.Beast: one connection per request in flight
// (HTTP/1.1 has no multiplexing), all driven by one I/O thread. Bodies are sent from the
// pre-encoded strings without copying.
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "loadgen/sender.h"

namespace otlpd::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpTarget {
  std::string host;
  std::string port;
  std::string path_prefix;  // without a trailing slash
};

absl::StatusOr<HttpTarget> parseHttpEndpoint(std::string_view endpoint) {
  if (endpoint.starts_with("https://")) {
    return absl::InvalidArgumentError("https is not supported by loadgen; use http://");
  }
  if (endpoint.starts_with("http://")) endpoint.remove_prefix(7);
  HttpTarget t;
  const size_t slash = endpoint.find('/');
  if (slash != std::string_view::npos) {
    t.path_prefix = std::string(endpoint.substr(slash));
    while (!t.path_prefix.empty() && t.path_prefix.back() == '/') t.path_prefix.pop_back();
    endpoint = endpoint.substr(0, slash);
  }
  std::string_view host = endpoint, port = "4318";
  if (endpoint.starts_with('[')) {  // [::1]:4318
    const size_t close = endpoint.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("unbalanced [ in host");
    host = endpoint.substr(1, close - 1);
    if (close + 1 < endpoint.size() && endpoint[close + 1] == ':')
      port = endpoint.substr(close + 2);
  } else if (const size_t colon = endpoint.rfind(':'); colon != std::string_view::npos) {
    host = endpoint.substr(0, colon);
    port = endpoint.substr(colon + 1);
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(strCat("endpoint '", endpoint, "' has no host or port"));
  }
  t.host = std::string(host);
  t.port = std::string(port);
  return t;
}

std::string pathFor(const SenderOptions& o, std::string_view prefix) {
  switch (o.protocol) {
    case Protocol::kZipkinJson:
    case Protocol::kZipkinProto:
      return strCat(prefix, "/api/v2/spans");
    case Protocol::kJaegerThriftHttp:
      return strCat(prefix, "/api/traces");
    default:
      return strCat(prefix, "/v1/", pipeline::signalName(o.signal));
  }
}

std::string_view contentTypeFor(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttpProtobuf:
    case Protocol::kZipkinProto:
      return "application/x-protobuf";
    case Protocol::kJaegerThriftHttp:
      return "application/x-thrift";
    default:
      return "application/json";
  }
}

class HttpSender;

class Connection {
 public:
  Connection(HttpSender& owner, asio::io_context& ioc) : owner_(owner), stream_(ioc) {}
  void start(const EncodedRequest& request, std::function<void(SendResult)> done);

 private:
  void write();
  void onRead(beast::error_code ec);
  void fail(std::string_view what, beast::error_code ec);
  void finish(SendResult result);

  HttpSender& owner_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::span_body<const char>> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::function<void(SendResult)> done_;
};

class HttpSender final : public Sender {
 public:
  HttpSender(const SenderOptions& o, HttpTarget target, tcp::resolver::results_type endpoints)
      : options_(o),
        target_(std::move(target)),
        endpoints_(std::move(endpoints)),
        path_(pathFor(o, target_.path_prefix)),
        host_header_(strCat(target_.host, ":", target_.port)),
        work_(asio::make_work_guard(ioc_)),
        thread_([this] { ioc_.run(); }) {}

  ~HttpSender() override {
    work_.reset();
    ioc_.stop();
    thread_.join();
  }

  void send(const EncodedRequest& request, std::function<void(SendResult)> done) override {
    Connection* conn = nullptr;
    {
      std::lock_guard lock(mu_);
      if (free_.empty()) {
        all_.push_back(std::make_unique<Connection>(*this, ioc_));
        free_.push_back(all_.back().get());
      }
      conn = free_.back();
      free_.pop_back();
    }
    asio::post(ioc_, [conn, &request, done = std::move(done)]() mutable {
      conn->start(request, std::move(done));
    });
  }

  void release(Connection* conn) {
    std::lock_guard lock(mu_);
    free_.push_back(conn);
  }

  const SenderOptions& options() const { return options_; }
  const tcp::resolver::results_type& endpoints() const { return endpoints_; }
  const std::string& path() const { return path_; }
  const std::string& hostHeader() const { return host_header_; }

 private:
  const SenderOptions options_;
  const HttpTarget target_;
  const tcp::resolver::results_type endpoints_;
  const std::string path_;
  const std::string host_header_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> all_;
  std::vector<Connection*> free_;
  std::thread thread_;  // last: it runs ioc_, which everything above must outlive
};

void Connection::start(const EncodedRequest& request, std::function<void(SendResult)> done) {
  const SenderOptions& o = owner_.options();
  done_ = std::move(done);
  request_ = {};
  request_.method(http::verb::post);
  request_.target(owner_.path());
  request_.version(11);
  request_.set(http::field::host, owner_.hostHeader());
  request_.set(http::field::content_type, contentTypeFor(o.protocol));
  if (o.compression != common::Compression::kNone) {
    request_.set(http::field::content_encoding, common::compressionName(o.compression));
  }
  request_.keep_alive(true);
  request_.body() =
      http::span_body<const char>::value_type(request.body.data(), request.body.size());
  request_.prepare_payload();
  stream_.expires_after(o.timeout);
  if (stream_.socket().is_open()) {
    write();
    return;
  }
  stream_.async_connect(owner_.endpoints(), [this](beast::error_code ec, const tcp::endpoint&) {
    if (ec) return fail("connect", ec);
    write();
  });
}

void Connection::write() {
  http::async_write(stream_, request_, [this](beast::error_code ec, size_t) {
    if (ec) return fail("write", ec);
    parser_.emplace();
    parser_->body_limit(64u << 20);
    http::async_read(stream_, buffer_, *parser_,
                     [this](beast::error_code ec, size_t) { onRead(ec); });
  });
}

void Connection::onRead(beast::error_code ec) {
  if (ec) return fail("read", ec);
  const auto& res = parser_->get();
  SendResult r;
  r.answered = true;
  const int status = static_cast<int>(res.result_int());
  r.outcome = classifyHttpStatus(status);
  // Zipkin answers 202 with no body, Jaeger 202 or 200: no partial success to read.
  if (r.outcome == Outcome::kAcknowledged && isForeignTraceFormat(owner_.options().protocol)) {
    // acknowledged as it is
  } else if (r.outcome == Outcome::kAcknowledged) {
    auto rejected = rejectedItems(owner_.options().signal,
                                  owner_.options().protocol == Protocol::kHttpJson, res.body());
    if (rejected.ok()) {
      r.rejected_items = *rejected;
    } else {
      r.outcome = Outcome::kFailed;
      r.error = strCat("undecodable response: ", rejected.status().message());
    }
  } else {
    r.error = strCat("HTTP ", status, ": ", res.body().substr(0, 200));
  }
  if (!res.keep_alive()) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }
  finish(std::move(r));
}

void Connection::fail(std::string_view what, beast::error_code ec) {
  beast::error_code ignored;
  stream_.socket().close(ignored);
  buffer_.clear();
  SendResult r;
  r.outcome = Outcome::kFailed;
  r.error = strCat(what, ": ", ec.message());
  finish(std::move(r));
}

void Connection::finish(SendResult result) {
  // Back in the pool before the runner hears of it, so its next send finds this connection.
  auto done = std::move(done_);
  owner_.release(this);
  done(std::move(result));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sender>> makeHttpSender(const SenderOptions& options) {
  auto target = parseHttpEndpoint(options.endpoint);
  if (!target.ok()) return target.status();
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(target->host, target->port, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        strCat("cannot resolve ", target->host, ":", target->port, ": ", ec.message()));
  }
  return std::make_unique<HttpSender>(options, std::move(*target), std::move(endpoints));
}

}  // namespace otlpd::loadgen
