// The HTTP server against slow and hostile clients: memory follows the bytes that arrive, not the
// announced Content-Length; headers, bodies and idle connections have deadlines; a listener holds
// a bounded number of connections; too many headers are refused. Raw sockets on 127.0.0.1.
#include "common/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/endpoint.h"
#include "common/process_memory.h"

namespace otlpd::common {
namespace {

using namespace std::chrono_literals;

class EchoSizeHandler final : public HttpHandler {
 public:
  HttpResponse handle(HttpRequest&& request) override {
    ++handled;
    return makeResponse(request, boost::beast::http::status::ok, "text/plain",
                        std::to_string(request.body().size()));
  }
  std::atomic<int> handled{0};
};

class Client {
 public:
  explicit Client(const std::string& endpoint) {
    auto hp = HostPort::parse(endpoint);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(hp->port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  void send(std::string_view bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Sends everything unless the connection breaks; returns how much went.
  size_t sendAll(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    return sent;
  }
  // What the server sent until it closed the connection or `timeout` passed; `closed` tells which.
  std::string readUntilClosed(std::chrono::milliseconds timeout, bool& closed) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    closed = false;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // One response (headers and a short body), read until the body's bytes are in.
  std::string readResponse(std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      const size_t end = out.find("\r\n\r\n");
      const size_t cl = out.find("Content-Length: ");
      if (end != std::string::npos && cl != std::string::npos &&
          out.size() >= end + 4 + std::stoul(out.substr(cl + 16))) {
        break;
      }
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The server closes a timed-out socket before its handler counts it: wait for the count.
uint64_t eventually(const Counter* counter, uint64_t want) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (counter->value() < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  return counter->value();
}

std::string post(size_t announced, std::string_view body = "", std::string extra = "") {
  return "POST /x HTTP/1.1\r\nHost: a\r\n" + extra +
         "Content-Length: " + std::to_string(announced) + "\r\n\r\n" + std::string(body);
}

struct Server {
  explicit Server(HttpServerOptions options) {
    options.endpoint = "127.0.0.1:0";
    auto started = HttpServer::start(options, handler);
    EXPECT_TRUE(started.ok()) << started.status();
    server = std::move(*started);
  }
  std::shared_ptr<EchoSizeHandler> handler = std::make_shared<EchoSizeHandler>();
  std::unique_ptr<HttpServer> server;
};

TEST(HttpServerLimitsTest, AnnouncedLengthCommitsNoMemory) {
  HttpServerOptions options;
  options.max_body_bytes = 64u << 20;
  Server s(options);
  const size_t before = residentBytes().value_or(0);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<Client>(s.server->boundEndpoint()));
    clients.back()->send(post(60'000'000, "x"));
  }
  std::this_thread::sleep_for(300ms);
  const size_t after = residentBytes().value_or(0);
  // Committing the announced length would be 1.2 GB; what arrived is 20 bytes (plus the first
  // read's buffer per connection).
  EXPECT_LT(after - std::min(after, before), 64u << 20)
      << "RSS grew from " << before << " to " << after;
  EXPECT_EQ(s.handler->handled.load(), 0);
}

TEST(HttpServerLimitsTest, SlowHeadersAreCutAtTheirDeadline) {
  HttpServerOptions options;
  options.read_header_timeout = 200ms;
  Server s(options);
  Client c(s.server->boundEndpoint());
  c.send("POST /x HTTP/1.1\r\nHost: a\r\nX-Slow: ");
  bool closed = false;
  c.readUntilClosed(3s, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(eventually(s.server->counters().header_timeouts, 1), 1u);
  // A connection that never sends a byte is cut by the same deadline.
  Client silent(s.server->boundEndpoint());
  silent.readUntilClosed(3s, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(eventually(s.server->counters().header_timeouts, 2), 2u);
}

TEST(HttpServerLimitsTest, BodiesBelowTheMinimumRateAreCut) {
  HttpServerOptions options;
  options.read_header_timeout = 200ms;
  options.min_body_bytes_per_second = 1000;
  Server s(options);
  Client c(s.server->boundEndpoint());
  c.send(post(100'000, "0123456789"));
  bool closed = false;
  const auto start = std::chrono::steady_clock::now();
  c.readUntilClosed(5s, closed);
  EXPECT_TRUE(closed);
  // 0.2 s grace + 10 bytes at 1000 B/s: cut well before the 100 s the whole body would allow.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(eventually(s.server->counters().body_timeouts, 1), 1u);
  EXPECT_EQ(s.handler->handled.load(), 0);
}

TEST(HttpServerLimitsTest, BodiesAtAnAcceptableRateGetThrough) {
  HttpServerOptions options;
  options.read_header_timeout = 200ms;
  options.min_body_bytes_per_second = 1000;
  Server s(options);
  Client c(s.server->boundEndpoint());
  c.send(post(1500));
  for (int i = 0; i < 5; ++i) {  // 1500 bytes over ~0.5 s: 3000 B/s
    std::this_thread::sleep_for(100ms);
    c.send(std::string(300, 'b'));
  }
  const std::string response = c.readResponse(3s);
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("\r\n\r\n1500"), std::string::npos) << response;
}

TEST(HttpServerLimitsTest, KeepAliveConnectionsIdleOutAfterTheirTimeout) {
  HttpServerOptions options;
  options.idle_timeout = 300ms;
  Server s(options);
  Client c(s.server->boundEndpoint());
  c.send(post(3, "abc"));
  EXPECT_NE(c.readResponse(3s).find("200 OK"), std::string::npos);
  c.send(post(2, "ab"));  // a second request on the same connection
  EXPECT_NE(c.readResponse(3s).find("\r\n\r\n2"), std::string::npos);
  bool closed = false;
  c.readUntilClosed(3s, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(eventually(s.server->counters().idle_closed, 1), 1u)
      << "header " << s.server->counters().header_timeouts->value() << " body "
      << s.server->counters().body_timeouts->value();
}

TEST(HttpServerLimitsTest, ConnectionsBeyondTheLimitAreClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  Server s(options);
  Client a(s.server->boundEndpoint());
  Client b(s.server->boundEndpoint());
  std::this_thread::sleep_for(100ms);
  Client c(s.server->boundEndpoint());
  bool closed = false;
  c.readUntilClosed(2s, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(eventually(s.server->counters().connections_refused, 1), 1u);
  // The admitted ones still work.
  a.send(post(1, "a"));
  EXPECT_NE(a.readResponse(3s).find("200 OK"), std::string::npos);
}

TEST(HttpServerLimitsTest, TooManyHeadersAreRefused) {
  HttpServerOptions options;
  options.max_header_count = 10;
  Server s(options);
  Client c(s.server->boundEndpoint());
  std::string extra;
  for (int i = 0; i < 20; ++i) extra += "X-H" + std::to_string(i) + ": v\r\n";
  c.send(post(1, "a", extra));
  const std::string response = c.readResponse(3s);
  EXPECT_NE(response.find("431"), std::string::npos) << response;
  EXPECT_EQ(eventually(s.server->counters().too_many_headers, 1), 1u);
  EXPECT_EQ(s.handler->handled.load(), 0);
}

// Admits bodies up to `budget` bytes of growth; records the sizes it was asked for.
class BudgetHandler final : public HttpHandler {
 public:
  explicit BudgetHandler(size_t budget) : budget_(budget) {}
  HttpResponse handle(HttpRequest&& request) override {
    return makeResponse(request, boost::beast::http::status::ok, "text/plain",
                        std::to_string(request.body().size()));
  }
  std::optional<HttpResponse> growAdmission(const HttpRequest& headers, std::shared_ptr<void>&,
                                            size_t body_bytes) override {
    asked.push_back(body_bytes);
    if (body_bytes <= budget_) return std::nullopt;
    return makeResponse(headers, boost::beast::http::status::service_unavailable, "text/plain",
                        "no memory\n");
  }
  std::vector<size_t> asked;

 private:
  size_t budget_;
};

TEST(HttpServerLimitsTest, BodyMemoryIsAdmittedAsItGrows) {
  auto handler = std::make_shared<BudgetHandler>(2u << 20);
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto server = HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok());
  // 3 MiB announced, sent in full: admitted 1 MiB, then 2 MiB, then refused at 3 MiB.
  Client c((*server)->boundEndpoint());
  c.send(post(3u << 20, std::string(3u << 20, 'z')));
  const std::string response = c.readResponse(5s);
  EXPECT_NE(response.find("503"), std::string::npos) << response.substr(0, 200);
  EXPECT_EQ(handler->asked, (std::vector<size_t>{1u << 20, 2u << 20, 3u << 20}));
  // A body within the budget passes, asking once.
  handler->asked.clear();
  Client ok((*server)->boundEndpoint());
  ok.send(post(5000, std::string(5000, 'a')));
  EXPECT_NE(ok.readResponse(3s).find("\r\n\r\n5000"), std::string::npos);
  EXPECT_EQ(handler->asked, (std::vector<size_t>{5000}));
}

class RefusingHandler final : public HttpHandler {
 public:
  HttpResponse handle(HttpRequest&& request) override {
    return makeResponse(request, boost::beast::http::status::ok, "text/plain", "taken\n");
  }
  std::optional<HttpResponse> admit(const HttpRequest& headers, std::shared_ptr<void>&) override {
    return makeResponse(headers, boost::beast::http::status::service_unavailable, "text/plain",
                        "busy\n");
  }
};

// Refused from its headers, a request's body is never read into memory, yet a client that keeps
// sending it gets the answer and an orderly end, not a reset: the server drops what still arrives
// until the client closes (closing a socket with unread bytes would reset the connection, and the
// client's write, then its read, would fail before it saw the 503).
TEST(HttpServerLimitsTest, ARefusedBodyIsDroppedAsItArrivesSoTheClientReadsTheAnswer) {
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto server = HttpServer::start(options, std::make_shared<RefusingHandler>());
  ASSERT_TRUE(server.ok());
  Client c((*server)->boundEndpoint());
  ASSERT_TRUE(c.connected());
  // More than the socket buffers of both sides hold, so the server must take it for it to go.
  const std::string request = post(16u << 20, std::string(16u << 20, 'q'));
  EXPECT_EQ(c.sendAll(request), request.size()) << "the server reset the connection";
  bool closed = false;
  const std::string response = c.readUntilClosed(5s, closed);
  EXPECT_NE(response.find("503"), std::string::npos) << response.substr(0, 200);
  EXPECT_NE(response.find("busy"), std::string::npos);
  EXPECT_TRUE(closed);
}

// The handler sees exactly the bytes sent, for bodies that take several growth steps of the
// buffer (which is not zero-filled ahead of the reads) and arrive in pieces.
class ChecksumHandler final : public HttpHandler {
 public:
  HttpResponse handle(HttpRequest&& request) override {
    uint64_t sum = 0;
    for (size_t i = 0; i < request.body().size(); ++i) {
      sum = sum * 31 + static_cast<unsigned char>(request.body()[i]);
    }
    return makeResponse(request, boost::beast::http::status::ok, "text/plain",
                        std::to_string(request.body().size()) + " " + std::to_string(sum));
  }
};

TEST(HttpServerLimitsTest, LargeBodiesArriveIntactAcrossGrowthSteps) {
  auto handler = std::make_shared<ChecksumHandler>();
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto server = HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok());
  Client c((*server)->boundEndpoint());
  // Requests on one connection: bodies across one and several growth steps, and exactly 1 MiB.
  for (const size_t size : {size_t{(1u << 20) + 123}, size_t{3'500'001}, size_t{1u << 20}}) {
    std::string body(size, '\0');
    uint64_t want = 0;
    for (size_t i = 0; i < size; ++i) {
      body[i] = static_cast<char>((i * 7919 + i / 4096) & 0xff);
      want = want * 31 + static_cast<unsigned char>(body[i]);
    }
    const std::string request = post(size, body);
    // In pieces, so that the server reads part of a step, waits, and reads on.
    for (size_t at = 0; at < request.size(); at += 700'000) {
      c.send(std::string_view(request).substr(at, 700'000));
      std::this_thread::sleep_for(2ms);
    }
    const std::string response = c.readResponse(5s);
    EXPECT_NE(response.find("\r\n\r\n" + std::to_string(size) + " " + std::to_string(want)),
              std::string::npos)
        << response.substr(0, 300);
  }
}

TEST(HttpServerLimitsTest, LimitsAreCountedPerListenerInSelfMetrics) {
  MetricsRegistry registry{MetricsRegistry::ProcessMetrics::kExclude};
  HttpServerOptions options;
  options.read_header_timeout = 100ms;
  options.metrics = &registry;
  options.listener = "otlp.http";
  Server s(options);
  {
    Client silent(s.server->boundEndpoint());
    bool closed = false;
    silent.readUntilClosed(3s, closed);
    EXPECT_TRUE(closed);
  }
  eventually(s.server->counters().header_timeouts, 1);
  const std::string text = registry.renderPrometheus();
  EXPECT_NE(text.find("otlpd_http_server_closed_connections_total{listener=\"otlp.http\",reason="
                      "\"header_timeout\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpd_http_server_open_connections{listener=\"otlp.http\"}"),
            std::string::npos);
}


// Answers given later, from another thread (HttpHandler::handleAdmittedLater, what the OTLP
// handler does while its pipeline holds the OK): no I/O thread waits meanwhile, and the answer
// reaches its connection, which then serves its next request.
class LaterHandler final : public HttpHandler {
 public:
  HttpResponse handle(HttpRequest&& request) override {
    return makeResponse(request, boost::beast::http::status::ok, "text/plain", "now");
  }
  void handleAdmittedLater(HttpRequest&& request, std::shared_ptr<void>,
                           const Respond& respond) override {
    if (request.target() != "/later") return respond(handle(std::move(request)));
    std::lock_guard lock(mu);
    owed.emplace_back(makeResponse(request, boost::beast::http::status::ok, "text/plain", "later"),
                      respond);
  }
  size_t owedCount() {
    std::lock_guard lock(mu);
    return owed.size();
  }
  void answerAll() {
    std::vector<std::pair<HttpResponse, Respond>> taken;
    {
      std::lock_guard lock(mu);
      taken.swap(owed);
    }
    for (auto& [response, respond] : taken) respond(std::move(response));
  }

  std::mutex mu;
  std::vector<std::pair<HttpResponse, Respond>> owed;
};

TEST(HttpServerLaterAnswersTest, AnAnswerGivenLaterLeavesTheIoThreadFree) {
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  options.io_threads = 1;
  auto handler = std::make_shared<LaterHandler>();
  auto server = HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok()) << server.status();
  Client waiting((*server)->boundEndpoint());
  ASSERT_TRUE(waiting.connected());
  waiting.send("POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (handler->owedCount() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(handler->owedCount(), 1u);
  EXPECT_EQ(waiting.readResponse(200ms), "") << "answered before the handler gave the answer";

  // The only I/O thread serves another connection meanwhile.
  Client other((*server)->boundEndpoint());
  other.send("POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
  const std::string now = other.readResponse(5s);
  EXPECT_NE(now.find("200 OK"), std::string::npos) << now;
  EXPECT_NE(now.find("\r\n\r\nnow"), std::string::npos) << now;

  std::thread([&] { handler->answerAll(); }).join();
  const std::string later = waiting.readResponse(5s);
  EXPECT_NE(later.find("200 OK"), std::string::npos) << later;
  EXPECT_NE(later.find("\r\n\r\nlater"), std::string::npos) << later;
  // The connection reads again after its answer.
  waiting.send("POST /now HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
  const std::string next = waiting.readResponse(5s);
  EXPECT_NE(next.find("\r\n\r\nnow"), std::string::npos) << next;
  (*server)->stop();
}

// An answer given after the server stopped (its connection is gone) is dropped, without touching
// the server's io_context.
TEST(HttpServerLaterAnswersTest, AnAnswerGivenAfterTheStopIsDropped) {
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto handler = std::make_shared<LaterHandler>();
  auto server = HttpServer::start(options, handler);
  ASSERT_TRUE(server.ok()) << server.status();
  {
    Client waiting((*server)->boundEndpoint());
    waiting.send("POST /later HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (handler->owedCount() == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(2ms);
    }
    ASSERT_EQ(handler->owedCount(), 1u);
  }
  // The handler keeps its answer past stop()'s grace (LaterHandler has no answerOwedNow()).
  (*server)->stop();
  server->reset();
  handler->answerAll();
  EXPECT_EQ(handler->owedCount(), 0u);
}

}  // namespace
}  // namespace otlpd::common
