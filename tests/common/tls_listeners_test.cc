// The TLS side of the listeners against silent, plaintext and well-behaved clients: a handshake
// has the header deadline, plaintext is refused and counted, a TLS exchange works and ends with
// close_notify; the gRPC listener hands handshaken connections to a real gRPC server.
#include <arpa/inet.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/endpoint.h"
#include "common/grpc_tls_listener.h"
#include "common/http_server.h"
#include "common/metrics_registry.h"
#include "common/tls_server_config.h"
#include "tls_test_certs.h"

namespace otlpd::common {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

class OkHandler final : public HttpHandler {
 public:
  HttpResponse handle(HttpRequest&& request) override {
    return makeResponse(request, boost::beast::http::status::ok, "text/plain", "ok\n");
  }
};

// A raw TCP connection to 127.0.0.1:port.
int connectTo(const std::string& endpoint) {
  auto hp = HostPort::parse(endpoint);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(hp->port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

// Whether the server closes `fd` within `timeout` (reading and dropping whatever it sends).
bool closedWithin(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return true;
  }
  return false;
}

// Polls `condition` for up to 2 s.
template <class F>
bool eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class TlsListenersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/otlpd-tls-listeners-XXXXXX";
    dir_ = new std::string(::mkdtemp(tmpl));
    auto certs = test_support::TestCertificates::generate(*dir_);
    ASSERT_TRUE(certs.ok()) << certs.status();
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static TlsServerConfig serverConfig() {
    TlsServerConfig c;
    c.cert_file = *dir_ + "/server.pem";
    c.key_file = *dir_ + "/server.key";
    return c;
  }
  static std::string* dir_;
};
std::string* TlsListenersTest::dir_ = nullptr;

TEST_F(TlsListenersTest, HttpsHandshakeHasTheHeaderDeadlineAndPlaintextIsRefused) {
  MetricsRegistry metrics(MetricsRegistry::ProcessMetrics::kExclude);
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  options.read_header_timeout = 300ms;
  options.metrics = &metrics;
  options.listener = "test.https";
  auto tls = TlsContextSource::create(serverConfig(), TlsAlpn::kHttp11, &metrics, "test.https");
  ASSERT_TRUE(tls.ok()) << tls.status();
  options.tls = *tls;
  auto server = HttpServer::start(options, std::make_shared<OkHandler>());
  ASSERT_TRUE(server.ok()) << server.status();

  // Connected and gone without a word (a TCP health check): not a failed handshake.
  ::close(connectTo((*server)->boundEndpoint()));
  // Silent: cut at the deadline.
  const int silent = connectTo((*server)->boundEndpoint());
  EXPECT_FALSE(closedWithin(silent, 100ms));
  EXPECT_TRUE(closedWithin(silent, 2s));
  ::close(silent);
  // The deadline closes the socket before the handler that counts it runs.
  EXPECT_TRUE(
      eventually([&] { return (*server)->counters().tls_handshake_timeouts->value() == 1; }));

  EXPECT_EQ((*server)->counters().tls_handshake_failures->value(), 0u);  // the health check
  // Plaintext HTTP: refused at once.
  const int plain = connectTo((*server)->boundEndpoint());
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ::send(plain, request.data(), request.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(closedWithin(plain, 1s));
  ::close(plain);
  EXPECT_TRUE(
      eventually([&] { return (*server)->counters().tls_handshake_failures->value() == 1; }));

  const std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("otlpd_tls_handshake_failures_total{listener=\"test.https\",reason="
                      "\"timeout\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpd_tls_handshake_failures_total{listener=\"test.https\",reason="
                      "\"failed\"} 1"),
            std::string::npos)
      << text;
}

TEST_F(TlsListenersTest, HttpsExchangeEndsWithCloseNotify) {
  HttpServerOptions options;
  options.endpoint = "127.0.0.1:0";
  auto tls = TlsContextSource::create(serverConfig(), TlsAlpn::kHttp11);
  ASSERT_TRUE(tls.ok()) << tls.status();
  options.tls = *tls;
  auto server = HttpServer::start(options, std::make_shared<OkHandler>());
  ASSERT_TRUE(server.ok()) << server.status();
  auto hp = HostPort::parse((*server)->boundEndpoint());

  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(*dir_ + "/ca.pem");
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(ioc, ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), hp->port));
  stream.handshake(ssl::stream_base::client);
  beast::http::request<beast::http::string_body> req{beast::http::verb::get, "/", 11};
  req.set(beast::http::field::host, "127.0.0.1");
  req.keep_alive(false);
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok\n");
  // "Connection: close": the server says goodbye in TLS, not just by closing the socket.
  beast::error_code ec;
  char byte;
  stream.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
}

TEST_F(TlsListenersTest, GrpcListenerHandsHandshakenConnectionsToGrpc) {
  [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
  MetricsRegistry metrics(MetricsRegistry::ProcessMetrics::kExclude);
  auto tls = TlsContextSource::create(serverConfig(), TlsAlpn::kH2);
  ASSERT_TRUE(tls.ok()) << tls.status();
  GrpcTlsListenerOptions options;
  options.endpoint = "127.0.0.1:0";
  options.tls = *tls;
  options.handshake_timeout = 300ms;
  options.metrics = &metrics;
  options.listener = "test.grpc";
  auto listener = GrpcTlsListener::bind(options);
  ASSERT_TRUE(listener.ok()) << listener.status();
  // A generic service that answers every call with UNIMPLEMENTED, which proves gRPC answered.
  grpc::CallbackGenericService service;
  grpc::ServerBuilder builder;
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  (*listener)->start(server.get());

  grpc::SslCredentialsOptions creds;
  std::ifstream in(*dir_ + "/ca.pem");
  creds.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel =
      grpc::CreateCustomChannel((*listener)->boundEndpoint(), grpc::SslCredentials(creds), args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, "/test.Service/Method", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard lock(mu);
                   status = s;
                   done = true;
                   cv.notify_one();
                 });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return done; }));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();

  // A silent connection is cut at the handshake deadline.
  const int silent = connectTo((*listener)->boundEndpoint());
  EXPECT_TRUE(closedWithin(silent, 2s));
  ::close(silent);
  EXPECT_TRUE(eventually([&] {
    return metrics.renderPrometheus().find(
               "otlpd_tls_handshake_failures_total{listener=\"test."
               "grpc\",reason=\"timeout\"} 1") != std::string::npos;
  }));

  (*listener)->stopAccepting();
  server->Shutdown(std::chrono::system_clock::now() + 1s);
  (*listener)->stop();
  channel.reset();
}

TEST_F(TlsListenersTest, GrpcListenerHoldsAtMostMaxConnections) {
  [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
  MetricsRegistry metrics(MetricsRegistry::ProcessMetrics::kExclude);
  auto tls = TlsContextSource::create(serverConfig(), TlsAlpn::kH2);
  ASSERT_TRUE(tls.ok()) << tls.status();
  GrpcTlsListenerOptions options;
  options.endpoint = "127.0.0.1:0";
  options.tls = *tls;
  options.handshake_timeout = 60s;  // the held connections stay until the test closes them
  options.max_connections = 2;
  options.metrics = &metrics;
  options.listener = "test.grpc";
  auto listener = GrpcTlsListener::bind(options);
  ASSERT_TRUE(listener.ok()) << listener.status();
  grpc::CallbackGenericService service;
  grpc::ServerBuilder builder;
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  (*listener)->start(server.get());
  auto open = [&](int n) {
    return metrics.renderPrometheus().find(
               "otlpd_grpc_tls_open_connections{listener=\"test.grpc\"} " + std::to_string(n)) !=
           std::string::npos;
  };
  const std::string refused =
      "otlpd_grpc_tls_closed_connections_total{listener=\"test.grpc\",reason=\"over_max_"
      "connections\"} ";

  const int a = connectTo((*listener)->boundEndpoint());
  const int b = connectTo((*listener)->boundEndpoint());
  ASSERT_TRUE(eventually([&] { return open(2); }));
  // The third is closed at once (long before any handshake deadline) and counted.
  const int c = connectTo((*listener)->boundEndpoint());
  EXPECT_TRUE(closedWithin(c, 5s));
  ::close(c);
  EXPECT_NE(metrics.renderPrometheus().find(refused + "1"), std::string::npos);
  EXPECT_TRUE(open(2));
  // A place frees up: the next connection is held again.
  ::close(a);
  ASSERT_TRUE(eventually([&] { return open(1); }));
  const int d = connectTo((*listener)->boundEndpoint());
  ASSERT_TRUE(eventually([&] { return open(2); }));
  EXPECT_NE(metrics.renderPrometheus().find(refused + "1"), std::string::npos);
  ::close(b);
  ::close(d);

  (*listener)->stopAccepting();
  server->Shutdown(std::chrono::system_clock::now() + 1s);
  (*listener)->stop();
}

}  // namespace
}  // namespace otlpd::common
