// TLS and mutual TLS on the real binary's listeners, with certificates made by Debian's openssl
// (tests/common/tls_test_certs.h): OTLP over TLS on gRPC and HTTP, plaintext and clients trusting
// another CA refused, mutual TLS failing closed, min_version and cipher_suites enforced, the
// extensions' and self-metrics' listeners, and certificates rotated on disk while clients keep
// sending.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../common/tls_test_certs.h"
#include "common/strings.h"
#include "otlp/proto.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"
#include "tls_client_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

namespace collector_trace = ::opentelemetry::proto::collector::trace::v1;
using test_support::TestCertificates;
using namespace std::chrono_literals;

// One certificate set for the whole test program (generating it takes ~0.5 s).
const TestCertificates& certs() {
  static const TestCertificates* certs = [] {
    char tmpl[] = "/tmp/otlpd-tls-it-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    auto made = TestCertificates::generate(dir);
    if (!made.ok()) {
      std::fprintf(stderr, "cannot make test certificates: %s\n", made.status().ToString().c_str());
      std::abort();
    }
    static const std::string kept = dir;
    std::atexit([] { std::filesystem::remove_all(kept); });
    return new TestCertificates(*made);
  }();
  return *certs;
}

// `@C@` in a config: the certificates' directory.
std::string withCerts(std::string config) {
  for (size_t at; (at = config.find("@C@")) != std::string::npos;) {
    config.replace(at, 3, certs().dir());
  }
  return config;
}

grpc::Status exportOverGrpc(const std::shared_ptr<grpc::Channel>& channel, std::string_view tag,
                            size_t spans, std::string* peer_pem = nullptr) {
  auto stub = collector_trace::TraceService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  collector_trace::ExportTraceServiceResponse response;
  grpc::Status s = stub->Export(&ctx, makeTraces(tag, spans), &response);
  if (peer_pem != nullptr && ctx.auth_context() != nullptr) {
    auto values = ctx.auth_context()->FindPropertyValues("x509_pem_cert");
    if (!values.empty()) *peer_pem = std::string(values.front().data(), values.front().size());
  }
  return s;
}

absl::StatusOr<HttpResult> exportOverHttps(TlsConnection& connection, std::string_view tag,
                                           size_t spans) {
  return connection.request("POST", "/v1/traces", {{"Content-Type", "application/x-protobuf"}},
                            makeTraces(tag, spans).SerializeAsString());
}

TlsClientOptions trusting(std::string_view ca) {
  TlsClientOptions o;
  o.ca_file = certs().path(ca);
  return o;
}

TlsClientOptions withClientCert(TlsClientOptions o, std::string_view name) {
  o.cert_file = certs().path(std::string(name) + ".pem");
  o.key_file = certs().path(std::string(name) + ".key");
  return o;
}

constexpr std::string_view kTlsKeys = "cert_file: @C@/server.pem, key_file: @C@/server.key";

class TlsListenersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
    const std::string tls = strCat("{ ", kTlsKeys, " }");
    const std::string mtls = strCat("{ ", kTlsKeys, ", client_ca_file: @C@/ca.pem }");
    const std::string tls13 = strCat("{ ", kTlsKeys, ", min_version: \"1.3\" }");
    const std::string ciphers = strCat(
        "{ ", kTlsKeys,
        ", max_version: \"1.2\", cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384] }");
    auto p = OtlpdProcess::start(withCerts(strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1, tls: )",
                                                  tls, R"( }
      http: { endpoint: "127.0.0.1:0", tls: )",
                                                  tls, R"( }
  otlp/mtls:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: )",
                                                  mtls, R"( }
      http: { endpoint: "127.0.0.1:0", tls: )",
                                                  mtls, R"( }
  otlp/tls13:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: )",
                                                  tls13, R"( }
      http: { endpoint: "127.0.0.1:0", tls: )",
                                                  tls13, R"( }
  otlp/ciphers:
    protocols:
      http: { endpoint: "127.0.0.1:0", tls: )",
                                                  ciphers, R"( }
exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
  store: { directory: "@DIR@/store" }
extensions:
  health_check: { endpoint: "127.0.0.1:0", tls: )",
                                                  mtls, R"( }
  jaeger_query: { endpoint: "127.0.0.1:0", store: { directory: "@DIR@/store" }, tls: )",
                                                  tls, R"( }
service:
  extensions: [health_check, jaeger_query]
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp, otlp/mtls, otlp/tls13, otlp/ciphers], exporters: [file/traces, store] }
)")));
    if (!p.ok()) {
      startup_error_ = p.status().ToString();
      return;
    }
    process_ = *std::move(p);
  }
  static void TearDownTestSuite() {
    if (process_ == nullptr) return;
    const ExitStatus s = process_->stop();
    EXPECT_TRUE(s.cleanExit()) << s.toString() << process_->stderrContents();
    process_.reset();
  }
  void SetUp() override { ASSERT_NE(process_, nullptr) << startup_error_; }

  static double handshakeFailures(std::string_view listener) {
    auto v = process_->scrapeMetric("otlpd_tls_handshake_failures_total",
                                    {{"listener", std::string(listener)}, {"reason", "failed"}});
    return v.ok() ? *v : -1;
  }
  static double accepted(std::string_view receiver, std::string_view transport) {
    auto v = process_->scrapeMetric(
        "otlpd_receiver_accepted_spans_total",
        {{"receiver", std::string(receiver)}, {"transport", std::string(transport)}});
    return v.ok() ? *v : -1;
  }

  static std::unique_ptr<OtlpdProcess> process_;
  static std::string startup_error_;
};

std::unique_ptr<OtlpdProcess> TlsListenersTest::process_;
std::string TlsListenersTest::startup_error_;

TEST_F(TlsListenersTest, OtlpOverTlsIsAcceptedOnGrpcAndHttp) {
  std::string peer;
  grpc::Status s = exportOverGrpc(tlsChannel(process_->grpcEndpoint(), trusting("ca.pem")),
                                  "tls-grpc", 3, &peer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(pemSerial(peer), "1001");

  auto conn = TlsConnection::open(process_->httpEndpoint(), trusting("ca.pem"));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->peerSerial(), "1001");
  EXPECT_EQ((*conn)->version(), "TLSv1.3");
  EXPECT_EQ((*conn)->alpn(), "");  // offered none
  auto r = exportOverHttps(**conn, "tls-http", 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  // Keep-alive over TLS: a second request on the same connection.
  r = exportOverHttps(**conn, "tls-http", 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "tls-grpc", 3), 3u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "tls-http", 8), 8u);

  // A gRPC listener picks HTTP/2 through ALPN; an HTTP one HTTP/1.1 when offered.
  TlsClientOptions h2 = trusting("ca.pem");
  h2.alpn = "h2";
  auto grpc_conn = TlsConnection::open(process_->grpcEndpoint(), h2);
  ASSERT_TRUE(grpc_conn.ok()) << grpc_conn.status();
  EXPECT_EQ((*grpc_conn)->alpn(), "h2");
  TlsClientOptions h11 = trusting("ca.pem");
  h11.alpn = "http/1.1";
  EXPECT_FALSE(TlsConnection::open(process_->grpcEndpoint(), h11).ok());
  auto http_conn = TlsConnection::open(process_->httpEndpoint(), h11);
  ASSERT_TRUE(http_conn.ok()) << http_conn.status();
  EXPECT_EQ((*http_conn)->alpn(), "http/1.1");
}

// gRPC serves a connection it got from our TLS listener with its own settings.
TEST_F(TlsListenersTest, GrpcSettingsApplyOverTls) {
  auto stub = collector_trace::TraceService::NewStub(
      tlsChannel(process_->grpcEndpoint(), trusting("ca.pem")));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  collector_trace::ExportTraceServiceResponse response;
  grpc::Status s = stub->Export(&ctx, makeLargeTraces("tls-large", 2 << 20), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

TEST_F(TlsListenersTest, PlaintextToATlsPortFails) {
  const double grpc_failures = handshakeFailures("otlp.grpc");
  const double http_failures = handshakeFailures("otlp.http");
  grpc::Status s = exportOverGrpc(
      grpc::CreateChannel(process_->grpcEndpoint(), grpc::InsecureChannelCredentials()),
      "plain-grpc", 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  auto r = httpRequest(process_->httpEndpoint(), "POST", "/v1/traces",
                       {{"Content-Type", "application/x-protobuf"}},
                       makeTraces("plain-http", 1).SerializeAsString());
  EXPECT_FALSE(r.ok()) << r->status;
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "plain", 1, nullptr, 300ms), 0u);
  EXPECT_GT(*process_->waitForMetric("otlpd_tls_handshake_failures_total",
                                     {{"listener", "otlp.grpc"}, {"reason", "failed"}},
                                     grpc_failures + 1),
            grpc_failures);
  EXPECT_GT(*process_->waitForMetric("otlpd_tls_handshake_failures_total",
                                     {{"listener", "otlp.http"}, {"reason", "failed"}},
                                     http_failures + 1),
            http_failures);
}

TEST_F(TlsListenersTest, AClientTrustingAnotherCaFailsClosed) {
  grpc::Status s =
      exportOverGrpc(tlsChannel(process_->grpcEndpoint(), trusting("other-ca.pem")), "wrong-ca", 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  auto conn = TlsConnection::open(process_->httpEndpoint(), trusting("other-ca.pem"));
  ASSERT_FALSE(conn.ok());
  EXPECT_TRUE(contains(conn.status().ToString(), "certificate verify failed")) << conn.status();
  // A client that checks the name: the certificate is for localhost and 127.0.0.1 only.
  TlsClientOptions other_name = trusting("ca.pem");
  other_name.server_name = "otlpd.test";
  EXPECT_FALSE(TlsConnection::open(process_->httpEndpoint(), other_name).ok());
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "wrong-ca", 1, nullptr, 300ms), 0u);
}

TEST_F(TlsListenersTest, MutualTlsRefusesClientsWithoutAGoodCertificate) {
  const std::string grpc = process_->endpoint("otlp/mtls.grpc");
  const std::string http = process_->endpoint("otlp/mtls.http");
  const double before = handshakeFailures("otlp/mtls.http");

  // No client certificate.
  EXPECT_FALSE(exportOverGrpc(tlsChannel(grpc, trusting("ca.pem")), "mtls-none", 1).ok());
  auto none = TlsConnection::open(http, trusting("ca.pem"));
  // With TLS 1.3 the client learns of the refusal on its first read.
  if (none.ok()) {
    EXPECT_FALSE(exportOverHttps(**none, "mtls-none", 1).ok());
  }
  // A certificate from a CA the listener does not trust.
  const TlsClientOptions other = withClientCert(trusting("ca.pem"), "other-client");
  EXPECT_FALSE(exportOverGrpc(tlsChannel(grpc, other), "mtls-other", 1).ok());
  auto wrong = TlsConnection::open(http, other);
  if (wrong.ok()) {
    EXPECT_FALSE(exportOverHttps(**wrong, "mtls-other", 1).ok());
  }
  // A server certificate is not a client certificate (extendedKeyUsage).
  const TlsClientOptions server_as_client = withClientCert(trusting("ca.pem"), "server");
  auto misuse = TlsConnection::open(http, server_as_client);
  if (misuse.ok()) {
    EXPECT_FALSE(exportOverHttps(**misuse, "mtls-misuse", 1).ok());
  }

  // The right one.
  const TlsClientOptions good = withClientCert(trusting("ca.pem"), "client");
  grpc::Status s = exportOverGrpc(tlsChannel(grpc, good), "mtls-good", 2);
  EXPECT_TRUE(s.ok()) << s.error_message();
  auto conn = TlsConnection::open(http, good);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto r = exportOverHttps(**conn, "mtls-good", 3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "mtls-good", 5), 5u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "mtls-none", 1, nullptr, 200ms), 0u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "mtls-other", 1, nullptr, 10ms), 0u);
  EXPECT_EQ(waitForTaggedItems(*process_, SignalFile::kTraces, "mtls-misuse", 1, nullptr, 10ms),
            0u);
  EXPECT_EQ(accepted("otlp/mtls", "grpc"), 2);
  EXPECT_EQ(accepted("otlp/mtls", "http"), 3);
  EXPECT_GE(
      *process_->waitForMetric("otlpd_tls_handshake_failures_total",
                               {{"listener", "otlp/mtls.http"}, {"reason", "failed"}}, before + 3),
      before + 3);
}

TEST_F(TlsListenersTest, MinVersion13RefusesATls12Client) {
  for (const char* key : {"otlp/tls13.grpc", "otlp/tls13.http"}) {
    TlsClientOptions tls12 = trusting("ca.pem");
    tls12.max_version = TLS1_2_VERSION;
    if (std::string_view(key).ends_with("grpc")) tls12.alpn = "h2";
    absl::Status refused = tlsHandshake(process_->endpoint(key), tls12);
    EXPECT_FALSE(refused.ok()) << key;
    EXPECT_TRUE(contains(refused.ToString(), "protocol version")) << refused;
    TlsClientOptions tls13 = tls12;
    tls13.max_version = 0;
    EXPECT_TRUE(tlsHandshake(process_->endpoint(key), tls13).ok()) << key;
  }
  // The default minimum is 1.2: TLS 1.1 is refused everywhere else.
  TlsClientOptions tls11 = trusting("ca.pem");
  tls11.min_version = TLS1_1_VERSION;
  tls11.max_version = TLS1_1_VERSION;
  EXPECT_FALSE(tlsHandshake(process_->httpEndpoint(), tls11).ok());
  TlsClientOptions tls12 = tls11;
  tls12.max_version = TLS1_2_VERSION;
  tls12.min_version = TLS1_2_VERSION;
  EXPECT_TRUE(tlsHandshake(process_->httpEndpoint(), tls12).ok());
}

TEST_F(TlsListenersTest, CipherSuitesAreTheOnlyOnesOffered) {
  const std::string http = process_->endpoint("otlp/ciphers.http");
  auto conn = TlsConnection::open(http, trusting("ca.pem"));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->version(), "TLSv1.2");
  EXPECT_EQ((*conn)->cipher(), "ECDHE-ECDSA-AES256-GCM-SHA384");
  TlsClientOptions other = trusting("ca.pem");
  other.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
  EXPECT_FALSE(tlsHandshake(http, other).ok());
}

TEST_F(TlsListenersTest, ExtensionsServeTls) {
  // health_check with mutual TLS.
  const std::string health = process_->healthEndpoint();
  auto conn = TlsConnection::open(health, withClientCert(trusting("ca.pem"), "client"));
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto r = (*conn)->request("GET", "/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200) << r->body;
  auto anonymous = TlsConnection::open(health, trusting("ca.pem"));
  if (anonymous.ok()) {
    EXPECT_FALSE((*anonymous)->request("GET", "/").ok());
  }
  EXPECT_FALSE(httpRequest(health, "GET", "/").ok());

  // jaeger_query (the query API and the UI).
  const std::string query = process_->endpoint("jaeger_query");
  auto q = TlsConnection::open(query, trusting("ca.pem"));
  ASSERT_TRUE(q.ok()) << q.status();
  auto services = (*q)->request("GET", "/api/services");
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_EQ(services->status, 200) << services->body;
  auto page = (*q)->request("GET", "/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_FALSE(httpRequest(query, "GET", "/api/services").ok());
}

TEST_F(TlsListenersTest, LoadgenSendsOverTlsWithACaFile) {
  auto r = runOtlpd({"loadgen", "--endpoint", process_->grpcEndpoint(), "--ca-file",
                     certs().path("ca.pem"), "--count", "2000", "--json", "--quiet"},
                    30s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status.code, 0) << r->err;
  EXPECT_TRUE(contains(r->out, "\"acknowledged\":2000")) << r->out;
  // Without the CA it does not trust otlpd.
  auto untrusting = runOtlpd(
      {"loadgen", "--endpoint", process_->grpcEndpoint(), "--ca-file", certs().path("other-ca.pem"),
       "--count", "1000", "--json", "--quiet", "--timeout", "2s"},
      30s);
  ASSERT_TRUE(untrusting.ok()) << untrusting.status();
  EXPECT_TRUE(contains(untrusting->out, "\"acknowledged\":0")) << untrusting->out;
}

// Self-metrics over TLS (service.telemetry.metrics.tls, an otlpd addition).
TEST(TlsTelemetryTest, SelfMetricsServeTls) {
  auto p = OtlpdProcess::start(withCerts(strCat(R"(receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:0" }
exporters:
  nop: {}
service:
  telemetry: { metrics: { address: "127.0.0.1:0", tls: { )",
                                                kTlsKeys, R"( } } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)")));
  ASSERT_TRUE(p.ok()) << p.status();
  const std::string endpoint = (*p)->metricsEndpoint();
  auto conn = TlsConnection::open(endpoint, trusting("ca.pem"));
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto r = (*conn)->request("GET", "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(contains(
      r->body, "otlpd_tls_certificate_expiry_timestamp_seconds{listener=\"telemetry.metrics\"}"))
      << r->body;
  EXPECT_FALSE(httpRequest(endpoint, "GET", "/metrics").ok());
  EXPECT_TRUE((*p)->stop().cleanExit()) << (*p)->stderrContents();
}

// A config whose TLS files are wrong is refused before anything listens, with the key's path.
TEST(TlsConfigTest, ValidateReportsTlsMistakesAtTheirKeys) {
  char tmpl[] = "/tmp/otlpd-tls-validate-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string config = dir + "/config.yaml";
  std::ofstream(config) << withCerts(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: { cert_file: @C@/server.pem, key_file: @C@/missing.key } }
      http: { endpoint: "127.0.0.1:0", tls: { cert_file: @C@/server.pem, key_file: @C@/server2.key, min_version: "1.5" } }
exporters:
  nop: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)");
  auto r = runOtlpd({"validate", "--config", config});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->status.code, 0);
  EXPECT_TRUE(contains(r->err, "receivers.otlp.protocols.grpc.tls.key_file")) << r->err;
  EXPECT_TRUE(contains(r->err, "missing.key")) << r->err;
  EXPECT_TRUE(contains(r->err, "receivers.otlp.protocols.http.tls.min_version")) << r->err;
  std::filesystem::remove_all(dir);
}

// Certificates rotated on disk under load: clients keep sending over their established
// connections, which keep the certificate they started with and are not dropped; new connections
// get the new certificate once the reload interval has passed.
TEST(TlsRotationTest, RotatedCertificatesReachNewConnectionsWithoutDroppingEstablishedOnes) {
  [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
  char tmpl[] = "/tmp/otlpd-tls-rotate-XXXXXX";
  const std::string live = ::mkdtemp(tmpl);
  auto install = [&](std::string_view name) {
    for (const char* ext : {".pem", ".key"}) {
      std::filesystem::copy_file(certs().path(std::string(name) + ext), live + "/next" + ext,
                                 std::filesystem::copy_options::overwrite_existing);
    }
    // The key first, then the certificate, each by rename: a reload in between sees a pair that
    // does not match and keeps the old one.
    std::filesystem::rename(live + "/next.key", live + "/tls.key");
    std::filesystem::rename(live + "/next.pem", live + "/tls.pem");
  };
  install("server");
  const std::string tls = strCat("{ cert_file: ", live, "/tls.pem, key_file: ", live,
                                 "/tls.key, reload_interval: 200ms }");
  auto p = OtlpdProcess::start(strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0", tls: )",
                                      tls, R"( }
      http: { endpoint: "127.0.0.1:0", tls: )",
                                      tls, R"( }
exporters:
  nop: {}
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [nop] }
)"));
  ASSERT_TRUE(p.ok()) << p.status();
  OtlpdProcess& process = **p;

  auto channel = tlsChannel(process.grpcEndpoint(), trusting("ca.pem"));
  auto https = TlsConnection::open(process.httpEndpoint(), trusting("ca.pem"));
  ASSERT_TRUE(https.ok()) << https.status();
  ASSERT_EQ((*https)->peerSerial(), "1001");
  std::string first_peer;
  ASSERT_TRUE(exportOverGrpc(channel, "rotate", 10, &first_peer).ok());
  ASSERT_EQ(pemSerial(first_peer), "1001");

  // Both clients send without pause for the whole rotation, bounded in time.
  std::atomic<bool> done{false};
  std::atomic<int> grpc_sent{0}, grpc_failed{0}, http_sent{0}, http_failed{0};
  std::string grpc_last_peer;
  std::thread grpc_client([&] {
    while (!done) {
      std::string peer;
      if (exportOverGrpc(channel, "rotate", 10, &peer).ok()) {
        ++grpc_sent;
        grpc_last_peer = peer;
      } else {
        ++grpc_failed;
      }
    }
  });
  std::thread http_client([&] {
    while (!done) {
      auto r = exportOverHttps(**https, "rotate", 10);
      (r.ok() && r->status == 200 ? http_sent : http_failed)++;
      if (!r.ok()) return;  // the connection is gone
    }
  });

  std::this_thread::sleep_for(300ms);  // traffic before the rotation
  install("server2");
  // New connections see the new certificate within a few reload intervals.
  std::string new_serial, new_subject;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto probe = TlsConnection::open(process.httpEndpoint(), trusting("ca.pem"));
    if (probe.ok() && (*probe)->peerSerial() == "1002") {
      new_serial = (*probe)->peerSerial();
      new_subject = (*probe)->peerSubject();
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::string new_grpc_peer;
  EXPECT_TRUE(exportOverGrpc(tlsChannel(process.grpcEndpoint(), trusting("ca.pem")), "rotate", 1,
                             &new_grpc_peer)
                  .ok());
  std::this_thread::sleep_for(300ms);  // traffic after the rotation
  done = true;
  grpc_client.join();
  http_client.join();

  EXPECT_EQ(new_serial, "1002");
  EXPECT_EQ(new_subject, "CN=otlpd rotated server");
  EXPECT_EQ(pemSerial(new_grpc_peer), "1002");
  // The established connections were never dropped: every request succeeded, and they still
  // present the certificate they were opened with.
  EXPECT_EQ(grpc_failed.load(), 0);
  EXPECT_EQ(http_failed.load(), 0);
  EXPECT_GT(grpc_sent.load(), 5);
  EXPECT_GT(http_sent.load(), 5);
  EXPECT_EQ(pemSerial(grpc_last_peer), "1001");
  EXPECT_EQ((*https)->peerSerial(), "1001");
  auto r = exportOverHttps(**https, "rotate", 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  EXPECT_GE(*process.waitForMetric("otlpd_tls_certificate_reloads_total",
                                   {{"listener", "otlp.http"}, {"result", "ok"}}, 1),
            1);
  EXPECT_TRUE(process.stop().cleanExit()) << process.stderrContents();
  std::filesystem::remove_all(live);
}

}  // namespace
}  // namespace otlpd::integration
