// The `tls` settings of a listener: every key read, every mistake reported at its path (including
// the ones only the files reveal), and certificates rotated on disk picked up without disturbing
// what was loaded before.
#include "common/tls_server_config.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <thread>

#include "common/metrics_registry.h"
#include "tls_test_certs.h"

namespace otlpd::common {
namespace {

using test_support::TestCertificates;

class TlsServerConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/otlpd-tls-unit-XXXXXX";
    dir_ = new std::string(::mkdtemp(tmpl));
    auto certs = TestCertificates::generate(*dir_);
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new TestCertificates(*certs);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete certs_;
    delete dir_;
  }

  // Reads `tls` from a grpc protocol mapping written as YAML; "@D@" is the certificates' dir.
  std::optional<TlsServerConfig> read(std::string yaml, bool load_files = true) {
    for (size_t at; (at = yaml.find("@D@")) != std::string::npos;) yaml.replace(at, 3, *dir_);
    config::ConfigNode node(YAML::Load(yaml), "receivers.otlp.protocols.grpc", errors_);
    return load_files ? readTlsServerConfig(node) : parseTlsServerConfig(node);
  }
  // "path: message" of every error, one per line.
  std::string errorList() const {
    std::string out;
    for (const config::ConfigError& e : errors_.all()) out += e.path + ": " + e.message + "\n";
    return out;
  }
  bool hasError(std::string_view path, std::string_view text) const {
    for (const config::ConfigError& e : errors_.all()) {
      if (e.path == path && e.message.find(text) != std::string::npos) return true;
    }
    return false;
  }

  static std::string* dir_;
  static TestCertificates* certs_;
  config::ConfigErrors errors_;
};

std::string* TlsServerConfigTest::dir_ = nullptr;
TestCertificates* TlsServerConfigTest::certs_ = nullptr;

constexpr const char* kPath = "receivers.otlp.protocols.grpc.tls";

TEST_F(TlsServerConfigTest, AbsentOrNullIsPlaintext) {
  EXPECT_FALSE(read("endpoint: localhost:4317").has_value());
  EXPECT_FALSE(read("tls: ~").has_value());
  EXPECT_TRUE(errors_.empty()) << errorList();
}

TEST_F(TlsServerConfigTest, ReadsEveryKey) {
  auto c = read(R"(tls:
  cert_file: @D@/server.pem
  key_file: @D@/server.key
  ca_file: @D@/ca.pem
  client_ca_file: @D@/ca.pem
  client_ca_file_reload: true
  include_system_ca_certs_pool: true
  min_version: "1.3"
  max_version: "1.3"
  cipher_suites: [TLS_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, P256]
  reload_interval: 90s
)");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(errors_.empty()) << errorList();
  EXPECT_EQ(c->cert_file, *dir_ + "/server.pem");
  EXPECT_EQ(c->client_ca_file, *dir_ + "/ca.pem");
  EXPECT_TRUE(c->client_ca_file_reload);
  EXPECT_TRUE(c->include_system_ca_certs_pool);
  EXPECT_EQ(c->min_version, TlsVersion::k13);
  EXPECT_EQ(c->max_version, TlsVersion::k13);
  EXPECT_EQ(c->cipher_suites.size(), 2u);
  EXPECT_EQ(c->curve_preferences.size(), 2u);
  EXPECT_EQ(c->reload_interval, absl::Seconds(90));
}

TEST_F(TlsServerConfigTest, DefaultsAreTheCollectors) {
  auto c = read("tls: { cert_file: @D@/server.pem, key_file: @D@/server.key, max_version: '' }");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(errors_.empty()) << errorList();
  EXPECT_EQ(c->min_version, TlsVersion::k12);
  EXPECT_EQ(c->max_version, TlsVersion::k13);
  EXPECT_EQ(c->reload_interval, absl::ZeroDuration());
  EXPECT_FALSE(c->hasClientCa());
  EXPECT_TRUE(c->cipher_suites.empty());
}

TEST_F(TlsServerConfigTest, PemValuesStandInForFiles) {
  const std::string yaml = "tls:\n  cert_pem: |\n" +
                           [&] {
                             std::string out;
                             for (char ch : certs_->read("server.pem"))
                               out += ch == '\n' ? std::string("\n    ") : std::string(1, ch);
                             return "    " + out;
                           }() +
                           "\n  key_pem: |\n" +
                           [&] {
                             std::string out;
                             for (char ch : certs_->read("server.key"))
                               out += ch == '\n' ? std::string("\n    ") : std::string(1, ch);
                             return "    " + out;
                           }() +
                           "\n";
  auto c = read(yaml);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(errors_.empty()) << errorList();
  auto built = buildTlsServerContext(*c, TlsAlpn::kHttp11);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->certificate_serial, "1001");
  EXPECT_EQ(built->certificate_subject, "CN=otlpd test server");
}

TEST_F(TlsServerConfigTest, ParsingErrorsNameTheirKey) {
  read(R"(tls:
  cert_file: @D@/server.pem
  cert_pem: "x"
  min_version: "1.4"
  max_version: "TLS13"
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_RC4_128_SHA, NOPE]
  curve_preferences: [P224]
  reload_interval: -5s
  tpm: { enabled: true }
)",
       false);
  const std::string p = kPath;
  EXPECT_TRUE(hasError(p + ".cert_pem", "either cert_file or cert_pem")) << errorList();
  EXPECT_TRUE(hasError(p + ".key_file", "needs a private key")) << errorList();
  EXPECT_TRUE(hasError(p + ".min_version", "\"1.4\"")) << errorList();
  EXPECT_TRUE(hasError(p + ".max_version", "\"TLS13\"")) << errorList();
  EXPECT_TRUE(hasError(p + ".cipher_suites", "\"TLS_RSA_WITH_RC4_128_SHA\"")) << errorList();
  EXPECT_TRUE(hasError(p + ".cipher_suites", "\"NOPE\"")) << errorList();
  EXPECT_TRUE(hasError(p + ".curve_preferences", "\"P224\"")) << errorList();
  EXPECT_TRUE(hasError(p + ".reload_interval", "duration")) << errorList();
  EXPECT_TRUE(hasError(p + ".tpm", "unknown key")) << errorList();
  EXPECT_EQ(errors_.size(), 9u) << errorList();
}

TEST_F(TlsServerConfigTest, MinAboveMaxIsRefused) {
  read("tls: { cert_file: a, key_file: b, min_version: '1.3', max_version: '1.2' }", false);
  EXPECT_TRUE(hasError(std::string(kPath) + ".min_version", "above max_version")) << errorList();
}

TEST_F(TlsServerConfigTest, OnlyTls13SuitesWithMaxVersion12IsRefused) {
  read(
      "tls: { cert_file: a, key_file: b, max_version: '1.2', cipher_suites: "
      "[TLS_AES_128_GCM_SHA256] }",
      false);
  EXPECT_TRUE(hasError(std::string(kPath) + ".cipher_suites", "only TLS 1.3")) << errorList();
}

TEST_F(TlsServerConfigTest, NotAMappingIsRefused) {
  read("tls: true", false);
  EXPECT_TRUE(hasError(kPath, "must be a mapping")) << errorList();
}

TEST_F(TlsServerConfigTest, MissingKeyFileIsReportedAtItsKey) {
  read("tls: { cert_file: @D@/server.pem, key_file: @D@/absent.key }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".key_file", "absent.key")) << errorList();
  EXPECT_EQ(errors_.size(), 1u) << errorList();
}

TEST_F(TlsServerConfigTest, CertificateAndKeyThatDoNotMatchAreRefused) {
  read("tls: { cert_file: @D@/server.pem, key_file: @D@/server2.key }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".key_file", "does not match")) << errorList();
}

TEST_F(TlsServerConfigTest, FilesThatAreNotPemAreRefused) {
  read("tls: { cert_file: @D@/server.key, key_file: @D@/server.key }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".cert_file", "no PEM certificate")) << errorList();
  errors_ = {};
  read("tls: { cert_file: @D@/server.pem, key_file: @D@/server.pem }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".key_file", "no PEM private key")) << errorList();
  errors_ = {};
  read(
      "tls: { cert_file: @D@/server.pem, key_file: @D@/server.key, client_ca_file: "
      "@D@/server.key }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".client_ca_file", "no PEM certificate"))
      << errorList();
  errors_ = {};
  read("tls: { cert_file: @D@/server.pem, key_file: @D@/server.key, client_ca_file: @D@ }");
  EXPECT_TRUE(hasError(std::string(kPath) + ".client_ca_file", "not a file")) << errorList();
}

TEST_F(TlsServerConfigTest, ContextFollowsTheVersions) {
  auto c = read("tls: { cert_file: @D@/server.pem, key_file: @D@/server.key, min_version: '1.3' }");
  ASSERT_TRUE(c.has_value());
  auto built = buildTlsServerContext(*c, TlsAlpn::kH2);
  ASSERT_TRUE(built.ok()) << built.status();
  SSL_CTX* ctx = built->ssl->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
}

TEST_F(TlsServerConfigTest, ClientCaTurnsOnMutualTlsFailingClosed) {
  auto c = read(
      "tls: { cert_file: @D@/server.pem, key_file: @D@/server.key, client_ca_file: "
      "@D@/ca.pem }");
  ASSERT_TRUE(c.has_value());
  auto built = buildTlsServerContext(*c, TlsAlpn::kHttp11);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(SSL_CTX_get_verify_mode(built->ssl->native_handle()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

// Rotation: the source's files are replaced; a valid pair is taken, a broken one is not.
class TlsRotationTest : public TlsServerConfigTest {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(live_);
    copy("server.pem", "live/cert.pem");
    copy("server.key", "live/key.pem");
  }
  void TearDown() override { std::filesystem::remove_all(live_); }
  void copy(const std::string& from, const std::string& to) {
    // A rename, as tools that rotate certificates do: readers see the old or the new file.
    std::filesystem::copy_file(certs_->path(from), *dir_ + "/" + to + ".tmp",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(*dir_ + "/" + to + ".tmp", *dir_ + "/" + to);
  }
  TlsServerConfig config(absl::Duration interval) {
    TlsServerConfig c;
    c.cert_file = live_ + "/cert.pem";
    c.key_file = live_ + "/key.pem";
    c.reload_interval = interval;
    return c;
  }
  std::string live_ = *dir_ + "/live";
};

TEST_F(TlsRotationTest, ReloadTakesANewPairAndKeepsTheOldOneOnFailure) {
  MetricsRegistry metrics(MetricsRegistry::ProcessMetrics::kExclude);
  auto source =
      TlsContextSource::create(config(absl::Hours(1)), TlsAlpn::kHttp11, &metrics, "test.http");
  ASSERT_TRUE(source.ok()) << source.status();
  auto first = (*source)->current();
  EXPECT_EQ((*source)->currentInfo().certificate_serial, "1001");

  // Half a rotation: the new certificate with the old key. Refused, the old pair stays.
  copy("server2.pem", "live/cert.pem");
  EXPECT_FALSE((*source)->reloadNow().ok());
  EXPECT_EQ((*source)->currentInfo().certificate_serial, "1001");
  EXPECT_EQ((*source)->current(), first);
  EXPECT_EQ((*source)->failedReloads(), 1u);

  copy("server2.key", "live/key.pem");
  ASSERT_TRUE((*source)->reloadNow().ok());
  EXPECT_EQ((*source)->currentInfo().certificate_serial, "1002");
  EXPECT_EQ((*source)->currentInfo().certificate_subject, "CN=otlpd rotated server");
  EXPECT_NE((*source)->current(), first);
  EXPECT_EQ((*source)->reloads(), 1u);
  // Unchanged files are not a reload.
  ASSERT_TRUE((*source)->reloadNow().ok());
  EXPECT_EQ((*source)->reloads(), 1u);
  // The context an established connection holds is still whole.
  EXPECT_NE(SSL_CTX_get0_certificate(first->native_handle()), nullptr);

  const std::string text = metrics.renderPrometheus();
  EXPECT_NE(text.find("otlpd_tls_certificate_reloads_total{listener=\"test.http\",result=\"ok\"} "
                      "1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpd_tls_certificate_reloads_total{listener=\"test.http\",result="
                      "\"failed\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("otlpd_tls_certificate_expiry_timestamp_seconds{listener=\"test.http\"}"),
            std::string::npos);
}

TEST_F(TlsRotationTest, TheIntervalDecidesWhenFilesAreLookedAt) {
  auto never = TlsContextSource::create(config(absl::ZeroDuration()), TlsAlpn::kHttp11);
  auto soon = TlsContextSource::create(config(absl::Milliseconds(1)), TlsAlpn::kHttp11);
  ASSERT_TRUE(never.ok() && soon.ok());
  copy("server2.pem", "live/cert.pem");
  copy("server2.key", "live/key.pem");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the interval passes
  (*never)->current();
  (*soon)->current();
  EXPECT_EQ((*never)->currentInfo().certificate_serial, "1001");
  EXPECT_EQ((*soon)->currentInfo().certificate_serial, "1002");
}

TEST_F(TlsRotationTest, ClientCasAreReloadedOnlyWhenAsked) {
  TlsServerConfig c = config(absl::Hours(1));
  copy("ca.pem", "live/clients.pem");
  c.client_ca_file = live_ + "/clients.pem";
  auto fixed = TlsContextSource::create(c, TlsAlpn::kHttp11);
  c.client_ca_file_reload = true;
  auto reloading = TlsContextSource::create(c, TlsAlpn::kHttp11);
  ASSERT_TRUE(fixed.ok() && reloading.ok());
  copy("other-ca.pem", "live/clients.pem");
  ASSERT_TRUE((*fixed)->reloadNow().ok());
  ASSERT_TRUE((*reloading)->reloadNow().ok());
  EXPECT_EQ((*fixed)->reloads(), 0u);
  EXPECT_EQ((*reloading)->reloads(), 1u);
}

TEST(TlsVersionTest, ParsesTheCollectorsNames) {
  EXPECT_EQ(*parseTlsVersion("1.0"), TlsVersion::k10);
  EXPECT_EQ(*parseTlsVersion("1.1"), TlsVersion::k11);
  EXPECT_EQ(*parseTlsVersion("1.2"), TlsVersion::k12);
  EXPECT_EQ(*parseTlsVersion("1.3"), TlsVersion::k13);
  EXPECT_FALSE(parseTlsVersion("1.4").ok());
  EXPECT_FALSE(parseTlsVersion("TLSv1.2").ok());
}

TEST(ReadSmallFileTest, RefusesWhatIsNotASmallFile) {
  EXPECT_FALSE(readSmallFile("/nonexistent/x.pem").ok());
  EXPECT_FALSE(readSmallFile("/dev/zero").ok());
  EXPECT_FALSE(readSmallFile("/tmp").ok());
}

}  // namespace
}  // namespace otlpd::common
