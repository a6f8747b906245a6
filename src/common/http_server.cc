#include "common/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/endpoint.h"
#include "common/string_buffer.h"
#include "common/strings.h"
#include "common/tls_server_config.h"

namespace otlpd::common {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;

constexpr uint32_t kMaxHeaderBytes = 64 * 1024;
// A body is read into memory that grows as its bytes arrive, doubling from this size: memory held
// for a body is at most about twice what the client actually sent, whatever it announced.
constexpr size_t kInitialBodyBytes = 1 << 20;
// Allocated behind a body of known length and never read into: JSON decoders (simdjson needs 64
// bytes of padding) then parse the body where it lies instead of copying it into a padded buffer.
constexpr size_t kBodyTailRoom = 64;
constexpr size_t kFirstReadBytes = 16 * 1024;

using Clock = std::chrono::steady_clock;

// A client that closed before saying anything (a TCP health check, a port scan) did not fail a
// handshake; one that sent plaintext, a certificate we refuse, or hung up on ours did.
bool handshakeAbandoned(beast::error_code ec, SSL* ssl) {
  const bool closed = ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                      ec == asio::error::connection_reset || ec == asio::error::operation_aborted;
  return closed && SSL_get_state(ssl) == TLS_ST_BEFORE;  // no ClientHello came
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The sessions that wait for an answer a handler gives later (handleAdmittedLater), kept alive
// here rather than by the handler's callback, so that stop() ends them while the io_context
// still exists; a callback that comes after stop() finds nothing to answer.
struct OwedAnswers {
  std::mutex mu;
  bool open = true;
  std::unordered_map<const void*, std::shared_ptr<void>> sessions;
};

// One connection: plaintext (Stream = beast::tcp_stream) or TLS (TlsStream); the request logic is
// the same, the deadlines are set on the TCP layer underneath.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpHandler> handler,
          const HttpServerOptions& options, HttpServerCounters& counters, std::atomic<int>& busy,
          std::shared_ptr<OwedAnswers> owed) requires(!kTls)
      : busy_(busy),
        owed_(std::move(owed)),
        counters_(counters),
        stream_(std::move(socket)),
        handler_(std::move(handler)),
        options_(options) {
    counters_.open_connections.fetch_add(1);
  }
  // The connection keeps the context it was created with: a certificate reloaded later serves
  // new connections only.
  Session(tcp::socket&& socket, std::shared_ptr<ssl::context> context,
          std::shared_ptr<HttpHandler> handler, const HttpServerOptions& options,
          HttpServerCounters& counters, std::atomic<int>& busy,
          std::shared_ptr<OwedAnswers> owed) requires(kTls)
      : busy_(busy),
        owed_(std::move(owed)),
        counters_(counters),
        context_(std::move(context)),
        stream_(std::move(socket), *context_),
        handler_(std::move(handler)),
        options_(options) {
    counters_.open_connections.fetch_add(1);
  }
  ~Session() { counters_.open_connections.fetch_sub(1); }

  void run() {
    if constexpr (kTls) {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::handshake, shared_from_this()));
    } else {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::waitForRequest, shared_from_this()));
    }
  }

 private:
  bool isTimeout(beast::error_code ec) const { return ec == beast::error::timeout; }
  beast::tcp_stream& transport() { return beast::get_lowest_layer(stream_); }

  // The handshake has the header deadline: a client that connects and stays silent, or sends
  // its hello a byte at a time, is cut off like one that does so with its headers.
  void handshake() requires(kTls) {
    transport().expires_after(options_.read_header_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                if (self->isTimeout(ec)) {
                                  self->counters_.tls_handshake_timeouts->add();
                                } else if (!handshakeAbandoned(ec, self->stream_.native_handle())) {
                                  self->counters_.tls_handshake_failures->add();
                                }
                                beast::error_code ignored;
                                self->transport().socket().close(ignored);
                                return;
                              }
                              beast::error_code ignored;
                              // See readArrivedBody().
                              self->transport().socket().non_blocking(true, ignored);
                              self->waitForRequest();
                            });
  }

  // Between requests a keep-alive connection may sit idle for idle_timeout; a new connection must
  // start its request within read_header_timeout. The header deadline starts at the first byte.
  void waitForRequest() {
    if (buffer_.size() > 0) return readHeader();
    transport().expires_after(first_request_ ? options_.read_header_timeout
                                             : options_.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstReadBytes),
        [self = shared_from_this()](beast::error_code ec, size_t bytes) {
          self->buffer_.commit(bytes);
          if (ec) {
            if (self->isTimeout(ec)) {
              (self->first_request_ ? self->counters_.header_timeouts : self->counters_.idle_closed)
                  ->add();
            }
            return self->close();
          }
          self->readHeader();
        });
  }

  void readHeader() {
    first_request_ = false;
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    admission_.reset();
    admitted_body_bytes_ = 0;
    request_released_ = false;
    body_unread_ = false;
    request_start_ = Clock::now();
    transport().expires_after(options_.read_header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::onHeader, shared_from_this()));
  }

  // The latest time by which `bytes` of body must be in: the minimum average rate after a grace
  // of read_header_timeout, and never later than read_timeout when one is set.
  Clock::time_point bodyDeadline(size_t bytes) const {
    Clock::time_point deadline = request_start_ + options_.read_header_timeout;
    if (options_.min_body_bytes_per_second > 0) {
      deadline += std::chrono::milliseconds(bytes * 1000 / options_.min_body_bytes_per_second);
    } else {
      deadline = Clock::time_point::max();
    }
    if (options_.read_timeout.count() > 0) {
      deadline = std::min(deadline, request_start_ + options_.read_timeout);
    }
    return deadline;
  }

  void expireAt(Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) {
      transport().expires_never();
    } else {
      transport().expires_at(deadline);
    }
  }

  // Headers first: the handler may refuse before the body is read.
  void onHeader(beast::error_code ec, size_t /*bytes*/) {
    if (isTimeout(ec)) {
      counters_.header_timeouts->add();
      return close();
    }
    if (ec) return onRead(ec, 0);
    const HttpRequest& header = parser_->get();
    if (static_cast<size_t>(std::distance(header.begin(), header.end())) >
        options_.max_header_count) {
      counters_.too_many_headers->add();
      busy_.fetch_add(1);
      return respond(
          makeResponse(header, http::status::request_header_fields_too_large, "text/plain",
                       strCat("more than ", options_.max_header_count, " headers\n")),
          true);
    }
    if (std::optional<HttpResponse> refusal = handler_->admit(header, admission_)) {
      busy_.fetch_add(1);
      body_unread_ = true;
      return respond(*std::move(refusal), true);
    }
    const auto length = parser_->content_length();
    if (length && *length > 0 && *length <= options_.max_body_bytes && !parser_->chunked()) {
      return readBody(static_cast<size_t>(*length));
    }
    readUnsizedBody();
  }

  // A body of known length goes straight into the request's string: the parser would read it
  // through the 64 KiB-at-a-time flat buffer and append it piece by piece, which cost several
  // times the CPU per byte of the gRPC path (perf: recvmsg calls, executor and shared_ptr
  // traffic per piece). The string grows as bytes arrive (see kInitialBodyBytes).
  void readBody(size_t length) {
    request_ = parser_->release();  // the header; the parser is not used for this body
    request_released_ = true;
    body_length_ = length;
    std::string& body = request_.body();
    const size_t buffered = std::min(length, buffer_.size());
    const size_t first = std::max(buffered, std::min(length, kInitialBodyBytes));
    if (!admitGrowth(first)) return;
    growBody(first);
    asio::buffer_copy(asio::buffer(body.data(), buffered), buffer_.data());
    buffer_.consume(buffered);
    body_filled_ = buffered;
    readMoreBody();
  }

  // The body's string takes `size` bytes, unwritten: the socket fills them. Its capacity runs
  // ahead to the following doubling step (what admitGrowth() has the handler reserve for anyway:
  // twice the size), so the next growth moves nothing; a megabyte memset and a megabyte copy per
  // large request were ~5% of an OTLP/JSON request's CPU. Pages of the capacity the body never
  // reaches are never touched.
  void growBody(size_t size) {
    std::string& body = request_.body();
    body.reserve(std::min(body_length_, 2 * size) + kBodyTailRoom);
    resizeUninitialized(body, size);
  }

  // Each read takes what has arrived; the next must come before the client falls below the
  // minimum average rate, so a trickling client is cut off as soon as it is behind, not after the
  // time a whole chunk would take.
  void readMoreBody() {
    if (body_filled_ == body_length_) return onBody();
    std::string& body = request_.body();
    if (body_filled_ == body.size()) {
      const size_t next = std::min(body_length_, std::max(body.size() * 2, kInitialBodyBytes));
      if (!admitGrowth(next)) return;
      growBody(next);
    }
    expireAt(bodyDeadline(body_filled_ + 1));
    stream_.async_read_some(asio::buffer(body.data() + body_filled_, body.size() - body_filled_),
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              self->body_filled_ += bytes;
                              if (ec) {
                                // The client went away, or was too slow, mid-body.
                                if (self->isTimeout(ec)) self->counters_.body_timeouts->add();
                                return self->close();
                              }
                              if constexpr (kTls) self->readArrivedBody();
                              self->readMoreBody();
                            });
  }

  // Over TLS one asynchronous read yields one record (16 KiB at most); what else has arrived is
  // taken now without waiting (the socket is non-blocking after the handshake, so a read that
  // would wait fails with would_block), which saves an asynchronous round and a timer update per
  // record. Nothing is written while a body is read, so the engine's output is not contended.
  void readArrivedBody() requires(kTls) {
    std::string& body = request_.body();
    while (body_filled_ < body.size()) {
      beast::error_code ec;
      const size_t n = stream_.read_some(
          asio::buffer(body.data() + body_filled_, body.size() - body_filled_), ec);
      if (ec || n == 0) return;  // an error is met again by the next asynchronous read
      body_filled_ += n;
    }
  }

  // Chunked (or length-less) bodies go through the parser, piece by piece, each piece under the
  // same rate rule.
  void readUnsizedBody() {
    if (parser_->is_done()) return onRead({}, 0);
    // The parser appends what the next read brings (at most the flat buffer's size).
    const size_t next = parser_->get().body().size() + 2 * kFirstReadBytes;
    if (next > admitted_body_bytes_ &&
        !admitGrowth(std::max(next, std::min(options_.max_body_bytes, admitted_body_bytes_ * 2)))) {
      return;
    }
    expireAt(bodyDeadline(parser_->get().body().size() + 1));
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (self->isTimeout(ec)) {
                              self->counters_.body_timeouts->add();
                              return self->close();
                            }
                            if (ec) return self->onRead(ec, 0);
                            self->readUnsizedBody();
                          });
  }

  // The handler's reservation grows with the body; when it cannot, the request is refused and
  // the connection closed (the rest of the body is not read).
  bool admitGrowth(size_t body_bytes) {
    const HttpRequest& header = parser_->is_header_done() && !request_released_
                                    ? parser_->get()
                                    : static_cast<const HttpRequest&>(request_);
    if (std::optional<HttpResponse> refusal =
            handler_->growAdmission(header, admission_, body_bytes)) {
      busy_.fetch_add(1);
      body_unread_ = true;
      respond(*std::move(refusal), true);
      return false;
    }
    admitted_body_bytes_ = body_bytes;
    return true;
  }

  void onBody() {
    busy_.fetch_add(1);
    const bool head = request_.method() == http::verb::head;
    answer(std::move(request_), head);
  }

  // The handler answers now or later (on any thread): the answer is written on this session's
  // strand. Until then the session is kept in owed_, and reads nothing.
  void answer(HttpRequest&& request, bool head) {
    {
      std::lock_guard lock(owed_->mu);
      owed_->sessions.emplace(this, shared_from_this());
    }
    std::weak_ptr<Session> weak = shared_from_this();
    handler_->handleAdmittedLater(std::move(request), std::move(admission_),
                                  [weak, owed = owed_, head](HttpResponse response) {
                                    // Under the lock, so that stop() cannot close the io_context in
                                    // between.
                                    std::lock_guard lock(owed->mu);
                                    std::shared_ptr<Session> self = weak.lock();
                                    if (!owed->open || !self) return;
                                    owed->sessions.erase(self.get());
                                    asio::dispatch(
                                        self->stream_.get_executor(),
                                        [self, head, response = std::move(response)]() mutable {
                                          const bool close_after = !response.keep_alive();
                                          self->respond(std::move(response), close_after, head);
                                        });
                                  });
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
      body_unread_ = true;
      return respond(handler_->bodyTooLarge(parser_->get(), options_.max_body_bytes), true);
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
    if (!head) {
      if (std::optional<StreamingResponse> streaming = handler_->stream(request)) {
        busy_.fetch_sub(1);
        return startStream(std::move(*streaming));
      }
    }
    answer(std::move(request), head);
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
    transport().expires_after(options_.write_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, close_after](beast::error_code ec, size_t) {
                        self->busy_.fetch_sub(1);
                        if (ec) return;
                        if (close_after) {
                          return self->body_unread_ ? self->lingerThenClose() : self->close();
                        }
                        self->waitForRequest();
                      });
  }

  // A streaming response: its head without a length (the body ends when the connection does),
  // then whatever the stream gives, polled on a timer.
  void startStream(StreamingResponse&& streaming) {
    streaming.head.keep_alive(false);
    streaming.head.body().clear();
    std::ostringstream head;
    head << streaming.head.base();
    stream_body_ = std::move(streaming.body);
    stream_interval_ = streaming.poll_interval;
    writeStream(std::make_shared<std::string>(head.str()));
  }

  void writeStream(std::shared_ptr<std::string> bytes) {
    transport().expires_after(options_.write_timeout);
    asio::async_write(stream_, asio::buffer(*bytes),
                      [self = shared_from_this(), bytes](beast::error_code ec, size_t) {
                        if (ec) return;  // the client went away: the session ends
                        self->waitForStream();
                      });
  }

  void waitForStream() {
    if (!stream_timer_) stream_timer_.emplace(stream_.get_executor());
    stream_timer_->expires_after(stream_interval_);
    stream_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      std::optional<std::string> chunk = self->stream_body_->next();
      if (!chunk) return self->close();
      if (chunk->empty()) return self->waitForStream();
      self->writeStream(std::make_shared<std::string>(std::move(*chunk)));
    });
  }

  // After answering a request whose body was not read (refused from its headers, or too large):
  // our side is shut (the client reads the answer, then the end), and what the client still
  // sends is read and dropped until it closes too, for at most kLingerTime and kLingerBytes.
  // Closing the socket with unread bytes in it would send a reset instead of the end, and a
  // reset can destroy the answer before the client has read it (a client still writing its
  // body sees a broken connection, not the 503). Over TLS the end is close_notify, as before.
  void lingerThenClose() {
    close();
    if constexpr (!kTls) {
      linger_until_ = Clock::now() + kLingerTime;
      lingered_bytes_ = 0;
      discardArriving();
    }
  }

  void discardArriving() requires(!kTls) {
    if (!discard_) discard_ = std::make_unique<std::array<char, kDiscardChunk>>();
    transport().expires_at(linger_until_);
    transport().async_read_some(asio::buffer(*discard_),
                                [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                                  // The end, a reset or the deadline: the session is over.
                                  if (ec) return;
                                  self->lingered_bytes_ += bytes;
                                  if (self->lingered_bytes_ > kLingerBytes) return;
                                  self->discardArriving();
                                });
  }

  static constexpr std::chrono::seconds kLingerTime{2};
  static constexpr size_t kLingerBytes = size_t{64} << 20;
  static constexpr size_t kDiscardChunk = 64 * 1024;

  // TLS says goodbye first (close_notify), so the client can tell the end from a cut; bounded,
  // since the peer may never answer.
  void close() {
    if constexpr (kTls) {
      if (!closing_) {
        closing_ = true;
        transport().expires_after(kTlsShutdownTimeout);
        stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
          beast::error_code ignored;
          self->transport().socket().shutdown(tcp::socket::shutdown_send, ignored);
        });
        return;
      }
    }
    beast::error_code ignored;
    transport().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  static constexpr std::chrono::seconds kTlsShutdownTimeout{2};

  std::atomic<int>& busy_;
  std::shared_ptr<OwedAnswers> owed_;
  HttpServerCounters& counters_;
  std::shared_ptr<ssl::context> context_;  // TLS only
  Stream stream_;
  bool closing_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;  // a request whose body readBody() reads
  size_t body_length_ = 0;
  size_t body_filled_ = 0;
  size_t admitted_body_bytes_ = 0;  // what growAdmission() last accepted
  bool request_released_ = false;   // request_ holds the headers (readBody), not the parser
  bool body_unread_ = false;        // refused without reading the body: lingerThenClose()
  Clock::time_point linger_until_;
  size_t lingered_bytes_ = 0;
  std::unique_ptr<std::array<char, kDiscardChunk>> discard_;
  Clock::time_point request_start_;
  bool first_request_ = true;
  std::shared_ptr<void> admission_;
  std::shared_ptr<ResponseStream> stream_body_;  // a streaming response being sent
  std::chrono::milliseconds stream_interval_{250};
  std::optional<asio::steady_timer> stream_timer_;
  std::shared_ptr<HttpHandler> handler_;
  const HttpServerOptions options_;  // a copy: handlers may run while the server is torn down
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
  std::shared_ptr<OwedAnswers> owed = std::make_shared<OwedAnswers>();
  HttpServerCounters counters;
  std::array<Counter, 7> own_counters;  // when no registry was given
  uint64_t open_gauge = 0;              // the registry callback's id, removed on stop

  void setUpCounters() {
    Counter** slots[] = {&counters.connections_refused, &counters.header_timeouts,
                         &counters.body_timeouts, &counters.idle_closed,
                         &counters.too_many_headers};
    const char* reasons[] = {"over_max_connections", "header_timeout", "body_timeout",
                             "idle_timeout", "too_many_headers"};
    for (size_t i = 0; i < 5; ++i) {
      *slots[i] = options.metrics == nullptr
                      ? &own_counters[i]
                      : &options.metrics->counter(
                            "otlpd_http_server_closed_connections_total",
                            "Connections an HTTP listener closed because a limit was reached, by "
                            "reason.",
                            {{"listener", options.listener}, {"reason", reasons[i]}});
    }
    Counter** tls_slots[] = {&counters.tls_handshake_timeouts, &counters.tls_handshake_failures};
    const char* tls_reasons[] = {"timeout", "failed"};
    for (size_t i = 0; i < 2; ++i) {
      *tls_slots[i] = options.metrics == nullptr || !options.tls
                          ? &own_counters[5 + i]
                          : &options.metrics->counter(
                                "otlpd_tls_handshake_failures_total",
                                "TLS handshakes a listener gave up on: past the header deadline, "
                                "or failed (no or an untrusted client certificate, a protocol "
                                "version or cipher outside the config, plaintext).",
                                {{"listener", options.listener}, {"reason", tls_reasons[i]}});
    }
    if (options.metrics != nullptr) {
      open_gauge = options.metrics->callbackGauge(
          "otlpd_http_server_open_connections", "Connections an HTTP listener holds open.",
          {{"listener", options.listener}},
          [this] { return static_cast<double>(counters.open_connections.load()); });
    }
  }

  void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept(
        asio::make_strand(ioc), [this, &acceptor](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (!ec) {
            if (options.max_connections > 0 &&
                counters.open_connections.load() >= static_cast<int64_t>(options.max_connections)) {
              counters.connections_refused->add();
              beast::error_code ignored;
              socket.close(ignored);
            } else if (options.tls) {
              std::make_shared<Session<TlsStream>>(std::move(socket), options.tls->current(),
                                                   handler, options, counters, busy, owed)
                  ->run();
            } else {
              std::make_shared<Session<beast::tcp_stream>>(std::move(socket), handler, options,
                                                           counters, busy, owed)
                  ->run();
            }
          }
          accept(acceptor);
        });
  }

  asio::io_context ioc;
  // Keeps the I/O threads running once the acceptors are closed (stop()) while a session waits for
  // an answer given later: it has no operation pending, and run() would return.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  HttpServerOptions options;
  std::shared_ptr<HttpHandler> handler;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::string bound;
  bool stopped = false;
};

absl::StatusOr<std::vector<std::unique_ptr<tcp::acceptor>>> bindTcpEndpoint(
    asio::io_context& ioc, const std::string& endpoint, std::string& bound) {
  auto hp = HostPort::parse(endpoint);
  if (!hp.ok()) return hp.status();
  beast::error_code ec;
  std::vector<tcp::endpoint> addresses;
  if (hp->host.empty()) {
    addresses.emplace_back(tcp::v4(), hp->port);
  } else {
    tcp::resolver resolver(ioc);
    auto results =
        resolver.resolve(hp->host, std::to_string(hp->port), tcp::resolver::numeric_service, ec);
    if (ec) {
      return absl::InvalidArgumentError(strCat("cannot resolve '", hp->host, "': ", ec.message()));
    }
    for (const auto& r : results) addresses.push_back(r.endpoint());
  }
  // With port 0 each address would get a different port; serve the first one only.
  if (hp->port == 0 && addresses.size() > 1) addresses.resize(1);

  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::string first_error;
  for (const tcp::endpoint& ep : addresses) {
    auto acceptor = std::make_unique<tcp::acceptor>(ioc);
    if (acceptor->open(ep.protocol(), ec) ||
        acceptor->set_option(asio::socket_base::reuse_address(true), ec) ||
        (ep.address().is_v6() && acceptor->set_option(asio::ip::v6_only(true), ec)) ||
        acceptor->bind(ep, ec) || acceptor->listen(asio::socket_base::max_listen_connections, ec)) {
      if (first_error.empty()) {
        first_error = strCat("cannot listen on ", endpoint, " (", ep.address().to_string(),
                             "): ", ec.message());
      }
      continue;
    }
    if (acceptors.empty()) {
      tcp::endpoint local = acceptor->local_endpoint();
      bound = HostPort{local.address().to_string(), local.port()}.toString();
    }
    acceptors.push_back(std::move(acceptor));
  }
  if (acceptors.empty()) return absl::UnavailableError(first_error);
  return acceptors;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::start(
    const HttpServerOptions& options, std::shared_ptr<HttpHandler> handler) {
  auto impl = std::make_unique<Impl>(std::max<size_t>(1, options.io_threads));
  impl->options = options;
  impl->handler = std::move(handler);
  impl->setUpCounters();

  auto acceptors = bindTcpEndpoint(impl->ioc, options.endpoint, impl->bound);
  if (!acceptors.ok()) return acceptors.status();
  impl->acceptors = *std::move(acceptors);

  for (auto& acceptor : impl->acceptors) impl->accept(*acceptor);
  impl->work.emplace(asio::make_work_guard(impl->ioc));
  for (size_t i = 0; i < std::max<size_t>(1, options.io_threads); ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

const std::string& HttpServer::boundEndpoint() const {
  return impl_->bound;
}

const HttpServerCounters& HttpServer::counters() const {
  return impl_->counters;
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
  const auto waitWhileBusy = [&](std::chrono::seconds most) {
    const auto deadline = std::chrono::steady_clock::now() + most;
    while (impl_->busy.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  waitWhileBusy(std::chrono::seconds(10));
  if (impl_->busy.load() > 0) {
    // Answers a pipeline still holds may be let go only once it stops, after the receivers: the
    // handler gives them now (OTLP: 503, retry), and they get a moment to be written.
    impl_->handler->answerOwedNow();
    waitWhileBusy(std::chrono::seconds(2));
  }
  std::unordered_map<const void*, std::shared_ptr<void>> owed;
  {
    std::lock_guard lock(impl_->owed->mu);
    impl_->owed->open = false;
    owed.swap(impl_->owed->sessions);
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  owed.clear();  // their sockets close while the io_context still exists
  if (impl_->options.metrics != nullptr && impl_->open_gauge != 0) {
    impl_->options.metrics->removeCallback(impl_->open_gauge);
  }
}

}  // namespace otlpd::common
