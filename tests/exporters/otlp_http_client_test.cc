// The otlp_http exporter's connection pool against an in-process HTTP server: answers of every
// status come back as values, connections are kept alive and reused, and failures to connect or
// to answer in time are Unavailable.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "common/http_server.h"
#include "exporters/otlp_http/http_client.h"

namespace otlpd::exporters::otlp_http {
namespace {

namespace http = boost::beast::http;

class EchoHandler final : public common::HttpHandler {
 public:
  common::HttpResponse handle(common::HttpRequest&& request) override {
    ++calls;
    if (request.target() == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(600));
    common::HttpResponse res = common::makeResponse(
        request, request.target() == "/busy" ? http::status::service_unavailable : http::status::ok,
        "text/plain", std::string(request[http::field::content_type]) + "|" + request.body());
    if (request.target() == "/busy") res.set(http::field::retry_after, "7");
    return res;
  }
  std::atomic<int> calls{0};
};

struct Fixture {
  Fixture() {
    common::HttpServerOptions options;
    options.endpoint = "127.0.0.1:0";
    server = common::HttpServer::start(options, handler).value();
    url = parseHttpUrl("http://" + server->boundEndpoint() + "/").value();
  }
  std::shared_ptr<EchoHandler> handler = std::make_shared<EchoHandler>();
  std::unique_ptr<common::HttpServer> server;
  HttpUrl url;
};

TEST(OtlpHttpClient, PostsAndReusesKeepAliveConnections) {
  Fixture f;
  auto pool = ConnectionPool::shared("test-reuse", f.url, {}, 4).value();
  const HeaderList headers = {{"content-type", "application/x-protobuf"}};
  for (int i = 0; i < 3; ++i) {
    auto a = pool->post("/v1/traces", headers, "payload", absl::Now() + absl::Seconds(5));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, "application/x-protobuf|payload");
    EXPECT_EQ(pool->idleConnections(), 1u);  // the same connection every time
  }
  auto busy = pool->post("/busy", headers, "", absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->retry_after, "7");
  // Another signal of the same exporter id and origin gets the same pool.
  EXPECT_EQ(ConnectionPool::shared("test-reuse", f.url, {}, 4).value(), pool);
  EXPECT_NE(ConnectionPool::shared("other-exporter", f.url, {}, 4).value(), pool);
}

TEST(OtlpHttpClient, RefusedAndTooSlowAreUnavailable) {
  Fixture f;
  auto pool = ConnectionPool::shared("test-slow", f.url, {}, 4).value();
  auto slow = pool->post("/slow", {}, "", absl::Now() + absl::Milliseconds(150));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kUnavailable) << slow.status();
  EXPECT_EQ(pool->idleConnections(), 0u);  // a timed-out connection is not reused

  const HttpUrl url = f.url;
  f.server->stop();
  auto down = ConnectionPool::shared("test-down", url, {}, 4).value();
  auto refused = down->post("/", {}, "", absl::Now() + absl::Seconds(2));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
}

TEST(OtlpHttpClient, MissingCaFileFailsToCreateTheTlsPool) {
  helper::TlsClientConfig tls;
  tls.ca_file = "/nonexistent/ca.pem";
  auto pool =
      ConnectionPool::shared("test-tls", parseHttpUrl("https://127.0.0.1:1").value(), tls, 4);
  EXPECT_FALSE(pool.ok());
}

// A destination that announces a huge body in the same packet as its header: refused on the
// announced length, before anything is reserved for it (Beast 1.74 skips its own check then).
TEST(OtlpHttpClient, AHugeAnnouncedResponseIsRefusedBeforeItsBodyIsHeld) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  std::thread server([&] {
    boost::system::error_code ec;
    asio::ip::tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (ec) return;
    asio::streambuf request;
    asio::read_until(socket, request, "\r\n\r\n", ec);
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: 200000000000\r\n\r\nfirst bytes of a body that never ends";
    asio::write(socket, asio::buffer(answer), ec);
    // Hold the connection until the client gives up on it.
    char byte;
    socket.read_some(asio::buffer(&byte, 1), ec);
  });
  const HttpUrl url = parseHttpUrl("http://127.0.0.1:" + std::to_string(port) + "/").value();
  auto pool = ConnectionPool::shared("test-huge-answer", url, {}, 4).value();
  auto answer = pool->post("/v1/traces", {}, "payload", absl::Now() + absl::Seconds(5));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kUnavailable) << answer.status();
  EXPECT_NE(answer.status().message().find("body limit"), std::string::npos) << answer.status();
  EXPECT_EQ(pool->idleConnections(), 0u);
  server.join();
}

}  // namespace
}  // namespace otlpd::exporters::otlp_http
