#include "common/grpc_tls_listener.h"

#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http_server.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "common/tls_server_config.h"

namespace otlpd::common {
namespace {

namespace beast = boost::beast;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

// What a connection reads into while it waits for its client: one TLS record, at most 16 KiB of
// plaintext, so an idle connection holds little.
constexpr size_t kRecordBytes = 16 * 1024;
// Client → gRPC: what one burst gathers before it is passed on. Each hand-over wakes a gRPC
// thread and ours, so records that arrived together go over together (see readClient()).
constexpr size_t kBurstBytes = 256 * 1024;
// Burst buffers kept for reuse; more are freed after use.
constexpr size_t kSpareBursts = 8;

using BurstBuffer = std::array<char, kBurstBytes>;

// Burst buffers, shared by a listener's connections: memory follows the connections that are
// sending, not the ones that are open.
class BurstPool {
 public:
  std::unique_ptr<BurstBuffer> take() {
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        std::unique_ptr<BurstBuffer> b = std::move(spare_.back());
        spare_.pop_back();
        return b;
      }
    }
    return std::make_unique<BurstBuffer>();
  }
  void give(std::unique_ptr<BurstBuffer> buffer) {
    std::lock_guard lock(mutex_);
    if (spare_.size() < kSpareBursts) spare_.push_back(std::move(buffer));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<BurstBuffer>> spare_;
};

// A client that closed before saying anything (a TCP health check, a port scan) did not fail a
// handshake; one that sent plaintext, a certificate we refuse, or hung up on ours did.
bool handshakeAbandoned(beast::error_code ec, SSL* ssl) {
  const bool closed = ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                      ec == asio::error::connection_reset || ec == asio::error::operation_aborted;
  return closed && SSL_get_state(ssl) == TLS_ST_BEFORE;  // no ClientHello came
}

// Where connections go after their handshake: the gRPC server, while it takes them.
struct Handoff {
  std::mutex mutex;
  grpc::Server* server = nullptr;  // null: not (or no longer) accepting

  // Gives gRPC its end of a socket pair; false (and `fd` closed) when the server no longer takes
  // connections.
  bool give(int fd) {
    std::lock_guard lock(mutex);
    if (server == nullptr) {
      ::close(fd);
      return false;
    }
    grpc::AddInsecureChannelFromFd(server, fd);
    return true;
  }
};

struct ListenerCounters {
  Counter* handshake_timeouts = nullptr;
  Counter* handshake_failures = nullptr;
  Counter* over_max_connections = nullptr;
  std::atomic<int64_t> open{0};
};

// A client's TLS connection joined to gRPC's end of a socket pair: bytes are copied both ways
// until either side closes. Each direction has one buffer and one operation in flight, so a side
// that does not read holds the other back (HTTP/2 flow control still bounds what is in flight).
class Pump : public std::enable_shared_from_this<Pump> {
 public:
  Pump(tcp::socket&& socket, std::shared_ptr<ssl::context> context, Handoff& handoff,
       BurstPool& pool, ListenerCounters& counters, std::chrono::milliseconds handshake_timeout)
      : context_(std::move(context)),
        tls_(std::move(socket), *context_),
        local_(tls_.get_executor()),
        handoff_(handoff),
        counters_(counters),
        handshake_timeout_(handshake_timeout),
        pool_(pool) {
    counters_.open.fetch_add(1);
  }
  ~Pump() { counters_.open.fetch_sub(1); }

  void run() {
    asio::dispatch(tls_.get_executor(), [self = shared_from_this()] { self->handshake(); });
  }

 private:
  beast::tcp_stream& transport() { return beast::get_lowest_layer(tls_); }

  void handshake() {
    transport().expires_after(handshake_timeout_);
    tls_.async_handshake(ssl::stream_base::server,
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) {
                             if (ec == beast::error::timeout) {
                               self->counters_.handshake_timeouts->add();
                             } else if (!handshakeAbandoned(ec, self->tls_.native_handle())) {
                               self->counters_.handshake_failures->add();
                             }
                             return self->closeAll();
                           }
                           self->transport().expires_never();
                           beast::error_code ignored;
                           self->transport().socket().non_blocking(true, ignored);
                           self->connect();
                         });
  }

  void connect() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
      logging::warn("gRPC TLS: cannot create a socket pair", {{"errno", errno}});
      return closeAll();
    }
    beast::error_code ec;
    local_.assign(local(), fds[0], ec);
    if (ec) {
      ::close(fds[0]);
      ::close(fds[1]);
      return closeAll();
    }
    if (!handoff_.give(fds[1])) return closeAll();
    readClient();
    readServer();
  }

  // Client → gRPC. The client's end of input is passed on as a half close, so gRPC finishes
  // whatever it was answering and then closes its side.
  void readClient() {
    tls_.async_read_some(asio::buffer(record_),
                         [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                           if (ec) {
                             beast::error_code ignored;
                             self->local_.shutdown(local::socket::shutdown_send, ignored);
                             return;
                           }
                           self->passOn(bytes);
                         });
  }

  // One asynchronous read yields one TLS record; whatever else has already arrived is read now,
  // without waiting (the socket is non-blocking: a read that would wait returns would_block), so
  // a large request crosses to gRPC in few hand-overs. An error here is left for the next
  // asynchronous read to meet.
  void passOn(size_t bytes) {
    burst_ = pool_.take();
    std::memcpy(burst_->data(), record_.data(), bytes);
    // Not while a response is being written: a read may have to send (an alert), and the
    // engine's output buffer belongs to that write until it is done.
    while (!writing_down_ && bytes < kBurstBytes) {
      beast::error_code ec;
      const size_t n =
          tls_.read_some(asio::buffer(burst_->data() + bytes, kBurstBytes - bytes), ec);
      if (ec || n == 0) break;
      bytes += n;
    }
    asio::async_write(local_, asio::buffer(burst_->data(), bytes),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->pool_.give(std::move(self->burst_));
                        if (ec) return self->closeAll();
                        self->readClient();
                      });
  }

  // gRPC → client. gRPC closing its end ends the connection.
  void readServer() {
    local_.async_read_some(asio::buffer(down_),
                           [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                             if (ec) return self->closeAll();
                             self->writing_down_ = true;
                             asio::async_write(self->tls_, asio::buffer(self->down_.data(), bytes),
                                               [self](beast::error_code ec, size_t) {
                                                 self->writing_down_ = false;
                                                 if (ec) return self->closeAll();
                                                 self->readServer();
                                               });
                           });
  }

  // Cancels whatever is pending on either side; the pump dies with its last handler.
  void closeAll() {
    beast::error_code ignored;
    transport().socket().close(ignored);
    if (local_.is_open()) local_.close(ignored);
  }

  std::shared_ptr<ssl::context> context_;
  beast::ssl_stream<beast::tcp_stream> tls_;
  local::socket local_;
  Handoff& handoff_;
  ListenerCounters& counters_;
  const std::chrono::milliseconds handshake_timeout_;
  BurstPool& pool_;
  std::array<char, kRecordBytes> record_;
  std::unique_ptr<BurstBuffer> burst_;  // while a burst is being passed on
  std::array<char, kRecordBytes> down_;
  bool writing_down_ = false;  // an asynchronous write to the client is in progress
};

}  // namespace

struct GrpcTlsListener::Impl {
  explicit Impl(size_t threads) : ioc(static_cast<int>(threads)) {}

  // Declared before the io_context: pumps refer to them until the last one is destroyed.
  Handoff handoff;
  BurstPool pool;
  ListenerCounters counters;
  std::array<Counter, 3> own_counters;
  uint64_t open_gauge = 0;

  asio::io_context ioc;
  GrpcTlsListenerOptions options;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::string bound;
  bool started = false;
  bool stopped = false;

  void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept(
        asio::make_strand(ioc), [this, &acceptor](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (!ec && static_cast<size_t>(counters.open.load()) >= options.max_connections) {
            // Accepted and closed at once: a client cannot make the listener hold more.
            counters.over_max_connections->add();
            beast::error_code ignored;
            socket.close(ignored);
          } else if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Pump>(std::move(socket), options.tls->current(), handoff, pool,
                                   counters, options.handshake_timeout)
                ->run();
          }
          accept(acceptor);
        });
  }
};

GrpcTlsListener::GrpcTlsListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcTlsListener::~GrpcTlsListener() {
  stop();
}

absl::StatusOr<std::unique_ptr<GrpcTlsListener>> GrpcTlsListener::bind(
    const GrpcTlsListenerOptions& options) {
  if (!options.tls) return absl::InvalidArgumentError("gRPC TLS listener without a TLS context");
  auto impl = std::make_unique<Impl>(std::max<size_t>(1, options.io_threads));
  impl->options = options;
  auto acceptors = bindTcpEndpoint(impl->ioc, options.endpoint, impl->bound);
  if (!acceptors.ok()) return acceptors.status();
  impl->acceptors = *std::move(acceptors);

  Counter** slots[] = {&impl->counters.handshake_timeouts, &impl->counters.handshake_failures};
  const char* reasons[] = {"timeout", "failed"};
  for (size_t i = 0; i < 2; ++i) {
    *slots[i] = options.metrics == nullptr
                    ? &impl->own_counters[i]
                    : &options.metrics->counter(
                          "otlpd_tls_handshake_failures_total",
                          "TLS handshakes a listener gave up on: past the header deadline, or "
                          "failed (no or an untrusted client certificate, a protocol version or "
                          "cipher outside the config, plaintext).",
                          {{"listener", options.listener}, {"reason", reasons[i]}});
  }
  impl->counters.over_max_connections =
      options.metrics == nullptr
          ? &impl->own_counters[2]
          : &options.metrics->counter(
                "otlpd_grpc_tls_closed_connections_total",
                "Connections a gRPC TLS listener closed at once, by reason (over_max_connections: "
                "it held max_connections).",
                {{"listener", options.listener}, {"reason", "over_max_connections"}});
  if (options.metrics != nullptr) {
    Impl* raw = impl.get();
    impl->open_gauge = options.metrics->callbackGauge(
        "otlpd_grpc_tls_open_connections",
        "TLS connections a gRPC listener holds open (handshaking or handed to gRPC).",
        {{"listener", options.listener}},
        [raw] { return static_cast<double>(raw->counters.open.load()); });
  }
  return std::unique_ptr<GrpcTlsListener>(new GrpcTlsListener(std::move(impl)));
}

const std::string& GrpcTlsListener::boundEndpoint() const {
  return impl_->bound;
}

void GrpcTlsListener::start(grpc::Server* server) {
  if (impl_->started) return;
  impl_->started = true;
  {
    std::lock_guard lock(impl_->handoff.mutex);
    impl_->handoff.server = server;
  }
  for (auto& acceptor : impl_->acceptors) impl_->accept(*acceptor);
  for (size_t i = 0; i < std::max<size_t>(1, impl_->options.io_threads); ++i) {
    impl_->threads.emplace_back([ioc = &impl_->ioc] { ioc->run(); });
  }
}

void GrpcTlsListener::stopAccepting() {
  {
    std::lock_guard lock(impl_->handoff.mutex);
    impl_->handoff.server = nullptr;
  }
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    for (auto& a : impl->acceptors) a->close(ignored);
  });
}

void GrpcTlsListener::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  stopAccepting();
  // gRPC has shut down by now (see the header): its ends of the socket pairs are closed, so the
  // pumps are ending; whatever is left is cut.
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  if (impl_->options.metrics != nullptr && impl_->open_gauge != 0) {
    impl_->options.metrics->removeCallback(impl_->open_gauge);
  }
}

uint64_t GrpcTlsListener::handshakeFailures() const {
  return impl_->counters.handshake_failures->value();
}

}  // namespace otlpd::common
