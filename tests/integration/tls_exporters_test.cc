// Our own exporters (otlp_grpc, otlp_http) against our own TLS receivers, two real processes: a
// receiving otlpd with TLS, mutual TLS, a certificate for another name and one from an untrusted
// CA; a forwarding otlpd with one pipeline per case. A client that verifies the server delivers;
// a wrong CA, a missing or foreign client certificate, a name mismatch or plaintext fail closed —
// the exporter keeps retrying and nothing arrives; server_name_override and insecure_skip_verify
// do what they say, and only when asked.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../common/tls_test_certs.h"
#include "common/strings.h"
#include "otlp_data_support.h"
#include "otlpd_process_support.h"

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

struct ExporterCase {
  const char* name;
  const char* target;  // the receiving listener, e.g. "otlp/mtls"
  const char* tls;     // the exporter's tls mapping; @C@ is the certificates' dir
  bool delivered;
  // gRPC C++ 1.51 cannot choose TLS versions or suites for a channel: otlp_grpc refuses those
  // settings at config time (ConfigTest), so these cases run on otlp_http only.
  bool http_only = false;
};

// The same cases for both exporters.
constexpr ExporterCase kCases[] = {
    {"ca", "otlp/tls", "{ ca_file: @C@/ca.pem }", true},
    {"wrongca", "otlp/tls", "{ ca_file: @C@/other-ca.pem }", false},
    {"systemroots", "otlp/tls", "{}", false},
    {"mtls", "otlp/mtls",
     "{ ca_file: @C@/ca.pem, cert_file: @C@/client.pem, key_file: @C@/client.key }", true},
    {"mtlsnocert", "otlp/mtls", "{ ca_file: @C@/ca.pem }", false},
    {"mtlsothercert", "otlp/mtls",
     "{ ca_file: @C@/ca.pem, cert_file: @C@/other-client.pem, key_file: @C@/other-client.key }",
     false},
    {"override", "otlp/named", "{ ca_file: @C@/ca.pem, server_name_override: otlpd.test }", true},
    {"nooverride", "otlp/named", "{ ca_file: @C@/ca.pem }", false},
    {"skipverify", "otlp/untrusted", "{ insecure_skip_verify: true }", true},
    {"verify", "otlp/untrusted", "{ ca_file: @C@/ca.pem }", false},
    // Not verifying the server does not mean not presenting a client certificate.
    {"skipverifymtls", "otlp/mtls",
     "{ insecure_skip_verify: true, cert_file: @C@/client.pem, key_file: @C@/client.key }", true},
    // The CA inline instead of in a file, and with the system's roots beside it.
    {"capem", "otlp/tls", "{ ca_pem: @CAPEM@ }", true},
    {"systempool", "otlp/tls", "{ ca_file: @C@/ca.pem, include_system_ca_certs_pool: true }", true},
    {"mtlspem", "otlp/mtls",
     "{ ca_file: @C@/ca.pem, cert_pem: @CERTPEM@, key_pem: @KEYPEM@ }", true},
    // Versions and suites: a listener that speaks TLS 1.3 only, one that speaks TLS 1.2 with one
    // suite only.
    {"min13", "otlp/tls13", "{ ca_file: @C@/ca.pem, min_version: \"1.3\" }", true, true},
    {"max12", "otlp/tls13", "{ ca_file: @C@/ca.pem, max_version: \"1.2\" }", false, true},
    {"suite", "otlp/tls12",
     "{ ca_file: @C@/ca.pem, cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] }", true,
     true},
    {"othersuite", "otlp/tls12",
     "{ ca_file: @C@/ca.pem, cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384] }", false,
     true},
};

// A file's text as a YAML double-quoted scalar (JSON's escaping is YAML's).
std::string quotedFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string out = "\"";
  for (char ch : text.str()) {
    if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class TlsExportersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    [[maybe_unused]] static const bool grpc_kept_up = (grpc_init(), true);
    char tmpl[] = "/tmp/otlpd-tls-exp-XXXXXX";
    certs_dir_ = ::mkdtemp(tmpl);
    auto certs = TestCertificates::generate(certs_dir_);
    if (!certs.ok()) {
      startup_error_ = certs.status().ToString();
      return;
    }
    auto receiver = [](const char* cert, const char* extra) {
      const std::string tls =
          strCat("{ cert_file: @C@/", cert, ".pem, key_file: @C@/", cert, ".key", extra, " }");
      return strCat("    protocols:\n      grpc: { endpoint: \"127.0.0.1:0\", tls: ", tls,
                    " }\n      http: { endpoint: \"127.0.0.1:0\", tls: ", tls, " }\n");
    };
    std::string config = strCat(
        "receivers:\n  otlp/tls:\n", receiver("server", ""), "  otlp/mtls:\n",
        receiver("server", ", client_ca_file: @C@/ca.pem"), "  otlp/named:\n",
        receiver("named", ""), "  otlp/untrusted:\n", receiver("other-server", ""),
        "  otlp/tls13:\n", receiver("server", ", min_version: \"1.3\""), "  otlp/tls12:\n",
        receiver("server",
                 ", max_version: \"1.2\", cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]"),
        R"(exporters:
  file/traces: { path: "@DIR@/traces.jsonl" }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp/tls, otlp/mtls, otlp/named, otlp/untrusted, otlp/tls13, otlp/tls12], exporters: [file/traces] }
)");
    auto r = OtlpdProcess::start(replaceAll(config, "@C@", certs_dir_));
    if (!r.ok()) {
      startup_error_ = r.status().ToString();
      return;
    }
    receiving_ = *std::move(r);

    // The forwarder: per case and exporter, a receiver feeding one exporter.
    std::string receivers = "receivers:\n", exporters = "exporters:\n",
                pipelines = "  pipelines:\n";
    for (const ExporterCase& c : kCases) {
      for (const char* transport : {"grpc", "http"}) {
        if (c.http_only && std::string_view(transport) == "grpc") continue;
        const std::string id = strCat(c.name, "-", transport);
        const std::string listener = receiving_->endpoint(strCat(c.target, ".", transport));
        receivers +=
            strCat("  otlp/", id, ":\n    protocols:\n      grpc: { endpoint: \"127.0.0.1:0\" }\n");
        // Quick retries, so a failing case has retried by the time the good ones delivered.
        const std::string common =
            strCat("    tls: ", c.tls,
                   "\n    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }\n"
                   "    timeout: 2s\n");
        if (std::string_view(transport) == "grpc") {
          exporters += strCat("  otlp_grpc/", id, ":\n    endpoint: \"", listener, "\"\n", common);
          pipelines += strCat("    traces/", id, ": { receivers: [otlp/", id,
                              "], exporters: [otlp_grpc/", id, "] }\n");
        } else {
          exporters +=
              strCat("  otlp_http/", id, ":\n    endpoint: \"https://", listener, "\"\n", common);
          pipelines += strCat("    traces/", id, ": { receivers: [otlp/", id,
                              "], exporters: [otlp_http/", id, "] }\n");
        }
      }
    }
    const std::string forwarder =
        strCat(receivers, exporters,
               "service:\n  telemetry: { metrics: { address: \"127.0.0.1:0\" } }\n", pipelines);
    std::string with_pem = replaceAll(forwarder, "@CAPEM@", quotedFile(certs_dir_ + "/ca.pem"));
    with_pem = replaceAll(with_pem, "@CERTPEM@", quotedFile(certs_dir_ + "/client.pem"));
    with_pem = replaceAll(with_pem, "@KEYPEM@", quotedFile(certs_dir_ + "/client.key"));
    auto f = OtlpdProcess::start(replaceAll(with_pem, "@C@", certs_dir_));
    if (!f.ok()) {
      startup_error_ = f.status().ToString();
      return;
    }
    forwarding_ = *std::move(f);
  }
  static void TearDownTestSuite() {
    for (auto* p : {&forwarding_, &receiving_}) {
      if (*p == nullptr) continue;
      const ExitStatus s = (*p)->stop();
      EXPECT_TRUE(s.cleanExit()) << s.toString() << (*p)->stderrContents();
      p->reset();
    }
    std::filesystem::remove_all(certs_dir_);
  }
  void SetUp() override {
    ASSERT_NE(receiving_, nullptr) << startup_error_;
    ASSERT_NE(forwarding_, nullptr) << startup_error_;
  }

  // Sends every case's spans into the forwarder, then waits until each case's outcome shows: the
  // good ones delivered, the bad ones retried at least twice with nothing delivered.
  static bool runs(const ExporterCase& c, std::string_view transport) {
    return !(c.http_only && transport == "grpc");
  }

  void runCases(const char* transport) {
    for (const ExporterCase& c : kCases) {
      if (!runs(c, transport)) continue;
      const std::string id = strCat(c.name, "-", transport);
      auto channel = grpc::CreateChannel(forwarding_->endpoint(strCat("otlp/", id, ".grpc")),
                                         grpc::InsecureChannelCredentials());
      auto stub = collector_trace::TraceService::NewStub(channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      collector_trace::ExportTraceServiceResponse response;
      grpc::Status s = stub->Export(&ctx, makeTraces(id, 3), &response);
      ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    }
    for (const ExporterCase& c : kCases) {
      if (!runs(c, transport)) continue;
      const std::string id = strCat(c.name, "-", transport);
      const std::string exporter = strCat("otlp_", transport, "/", id);
      if (c.delivered) {
        EXPECT_EQ(waitForTaggedItems(*receiving_, SignalFile::kTraces, id, 3, nullptr, 10s), 3u)
            << id << " was not delivered\n"
            << forwarding_->stderrContents();
      } else {
        EXPECT_GE(waitForAtLeast("otlpd_exporter_retries_total",
                                 {{"exporter", exporter}, {"signal", "traces"}}, 2),
                  2)
            << id << " did not retry";
      }
    }
    // Whatever failed had its chance to arrive while the others were checked; none did.
    for (const ExporterCase& c : kCases) {
      if (c.delivered || !runs(c, transport)) continue;
      const std::string id = strCat(c.name, "-", transport);
      EXPECT_EQ(waitForTaggedItems(*receiving_, SignalFile::kTraces, id, 1, nullptr, 10ms), 0u)
          << id << " was delivered although it must fail closed";
      auto sent = forwarding_->scrapeMetric("otlpd_exporter_sent_spans_total",
                                            {{"exporter", strCat("otlp_", transport, "/", id)}});
      if (sent.ok()) {
        EXPECT_EQ(*sent, 0) << id;
      }
    }
  }

  // Polls a counter of the forwarder until it reaches `minimum` (10 s at most); the last value.
  static double waitForAtLeast(std::string_view name, const LabelMap& labels, double minimum) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    double value = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      auto v = forwarding_->scrapeMetric(name, labels);
      if (v.ok()) value = *v;
      if (value >= minimum) break;
      std::this_thread::sleep_for(20ms);
    }
    return value;
  }

  static std::string certs_dir_;
  static std::string startup_error_;
  static std::unique_ptr<OtlpdProcess> receiving_;
  static std::unique_ptr<OtlpdProcess> forwarding_;
};

std::string TlsExportersTest::certs_dir_;
std::string TlsExportersTest::startup_error_;
std::unique_ptr<OtlpdProcess> TlsExportersTest::receiving_;
std::unique_ptr<OtlpdProcess> TlsExportersTest::forwarding_;

TEST_F(TlsExportersTest, OtlpGrpcExporterVerifiesAndFailsClosed) {
  runCases("grpc");
}

TEST_F(TlsExportersTest, OtlpHttpExporterVerifiesAndFailsClosed) {
  runCases("http");
}

// tls.reload_interval on otlp_http: the CA file starts wrong (nothing is delivered, the exporter
// retries), is replaced by the right one, and connections made after the interval use it.
TEST_F(TlsExportersTest, OtlpHttpExporterReloadsItsTlsFiles) {
  const std::string ca = certs_dir_ + "/rotating-ca.pem";
  std::filesystem::copy_file(certs_dir_ + "/other-ca.pem", ca,
                             std::filesystem::copy_options::overwrite_existing);
  const std::string config = strCat(R"(receivers:
  otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } }
exporters:
  otlp_http:
    endpoint: "https://)",
                                    receiving_->endpoint("otlp/tls.http"), R"("
    tls: { ca_file: )", ca, R"(, reload_interval: 100ms }
    retry_on_failure: { initial_interval: 50ms, max_interval: 100ms }
    timeout: 2s
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp_http] }
)");
  auto started = OtlpdProcess::start(config);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<OtlpdProcess> forwarder = *std::move(started);
  {
    auto stub = collector_trace::TraceService::NewStub(
        grpc::CreateChannel(forwarder->endpoint("otlp.grpc"), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    collector_trace::ExportTraceServiceResponse response;
    ASSERT_TRUE(stub->Export(&ctx, makeTraces("reload", 2), &response).ok());
  }

  // Refused while the file holds the wrong CA.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  double retries = 0;
  while (std::chrono::steady_clock::now() < deadline && retries < 2) {
    auto v = forwarder->scrapeMetric("otlpd_exporter_retries_total",
                                    {{"exporter", "otlp_http"}, {"signal", "traces"}});
    if (v.ok()) retries = *v;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(retries, 2) << forwarder->stderrContents();
  EXPECT_EQ(waitForTaggedItems(*receiving_, SignalFile::kTraces, "reload", 1, nullptr, 10ms), 0u);

  // The right CA, written beside and renamed over, as deployment tools rotate files.
  std::filesystem::copy_file(certs_dir_ + "/ca.pem", ca + ".new");
  std::filesystem::rename(ca + ".new", ca);
  EXPECT_EQ(waitForTaggedItems(*receiving_, SignalFile::kTraces, "reload", 2, nullptr, 10s), 2u)
      << forwarder->stderrContents();
  const ExitStatus s = forwarder->stop();
  EXPECT_TRUE(s.cleanExit()) << s.toString();
}

}  // namespace
}  // namespace otlpd::integration
