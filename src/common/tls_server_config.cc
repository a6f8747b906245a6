#include "common/tls_server_config.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"

namespace otlpd::common {

// What a context is built from: the PEM text of every file or inline value.
struct TlsMaterial {
  std::string cert, key, ca, client_ca;
  std::string cert_source, key_source, ca_source, client_ca_source;  // for messages
};

namespace {

namespace ssl = boost::asio::ssl;

// The Collector validates names against Go's tls.CipherSuites(): the secure suites, by their IANA
// names. TLS 1.3 suites are accepted there and ignored by Go; here they restrict TLS 1.3 too.
struct CipherSuiteName {
  std::string_view go_name;
  std::string_view openssl_name;
  bool tls13;
};
constexpr CipherSuiteName kCipherSuites[] = {
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
};

struct CurveName {
  std::string_view collector_name;
  std::string_view openssl_name;
};
constexpr CurveName kCurves[] = {
    {"X25519", "X25519"}, {"P256", "P-256"}, {"P384", "P-384"}, {"P521", "P-521"}};

const CipherSuiteName* findCipherSuite(std::string_view name) {
  for (const CipherSuiteName& suite : kCipherSuites) {
    if (suite.go_name == name) return &suite;
  }
  return nullptr;
}

const CurveName* findCurve(std::string_view name) {
  for (const CurveName& curve : kCurves) {
    if (curve.collector_name == name) return &curve;
  }
  return nullptr;
}

int opensslVersion(TlsVersion version) {
  switch (version) {
    case TlsVersion::k10:
      return TLS1_VERSION;
    case TlsVersion::k11:
      return TLS1_1_VERSION;
    case TlsVersion::k12:
      return TLS1_2_VERSION;
    case TlsVersion::k13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Drains OpenSSL's error queue of this thread into one line.
std::string opensslErrors() {
  std::vector<std::string> reasons;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    std::string text = reason != nullptr ? reason : strCat("error ", code);
    if (reasons.empty() || reasons.back() != text) reasons.push_back(std::move(text));
  }
  return reasons.empty() ? std::string("unknown OpenSSL error") : absl::StrJoin(reasons, "; ");
}

// A problem with one key of the `tls` mapping.
struct Failure {
  std::string key;
  std::string message;
};

std::optional<Failure> loadMaterial(const TlsServerConfig& c, TlsMaterial& m) {
  struct Item {
    const std::string& file;
    const std::string& pem;
    std::string_view file_key;
    std::string_view pem_key;
    std::string& out;
    std::string& source;
  };
  const std::string no_pem;
  const Item items[] = {
      {c.cert_file, c.cert_pem, "cert_file", "cert_pem", m.cert, m.cert_source},
      {c.key_file, c.key_pem, "key_file", "key_pem", m.key, m.key_source},
      {c.ca_file, c.ca_pem, "ca_file", "ca_pem", m.ca, m.ca_source},
      {c.client_ca_file, no_pem, "client_ca_file", "", m.client_ca, m.client_ca_source},
  };
  for (const Item& item : items) {
    if (!item.file.empty()) {
      auto bytes = readSmallFile(item.file);
      if (!bytes.ok()) {
        return Failure{std::string(item.file_key), std::string(bytes.status().message())};
      }
      item.out = *std::move(bytes);
      item.source = strCat(item.file_key, " ", item.file);
    } else {
      item.out = item.pem;
      item.source = std::string(item.pem_key);
    }
  }
  return std::nullopt;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

BioPtr memoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// Encrypted keys would make OpenSSL prompt on the terminal; refuse them instead.
int noPassword(char*, int, int, void*) {
  return 0;
}

// Every certificate in a PEM text; an empty result means none could be read.
std::vector<X509Ptr> readCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = memoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, &noPassword, nullptr)) {
    out.emplace_back(cert, &X509_free);
  }
  ERR_clear_error();  // the read past the last certificate
  return out;
}

std::string certificateSubject(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string certificateSerial(X509* cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr), &BN_free);
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

int64_t certificateNotAfter(X509* cert) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

int selectH2(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
             unsigned int in_len, void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kH2, sizeof(kH2), in, in_len) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // A client that offers protocols but not HTTP/2 cannot speak gRPC (RFC 7301: refuse).
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int selectHttp11(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                 unsigned int in_len, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof(kHttp11), in, in_len) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Builds the context; `info` gets the leaf certificate's identity.
std::optional<Failure> buildContext(const TlsServerConfig& c, const TlsMaterial& m, TlsAlpn alpn,
                                    SslCtxPtr& out, TlsServerContext& info) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) return Failure{"", strCat("cannot create a TLS context: ", opensslErrors())};
  SSL_CTX* raw = ctx.get();

  // No compression (CRIME), the server's cipher order, no renegotiation (a client-driven CPU
  // cost), and idle connections without their read/write buffers (~34 KiB each).
  SSL_CTX_set_options(
      raw, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kSessionContext[] = "otlpd";
  SSL_CTX_set_session_id_context(raw, kSessionContext, sizeof(kSessionContext) - 1);

  if (auto failure = applyTlsProtocolConfig(raw, c)) {
    return Failure{std::move(failure->key), std::move(failure->message)};
  }

  // The certificate chain: the leaf first, then intermediates.
  const std::string cert_key = c.cert_file.empty() ? "cert_pem" : "cert_file";
  std::vector<X509Ptr> chain = readCertificates(m.cert);
  if (chain.empty()) {
    return Failure{cert_key, strCat(m.cert_source, ": no PEM certificate found")};
  }
  if (SSL_CTX_use_certificate(raw, chain.front().get()) != 1) {
    return Failure{cert_key, strCat(m.cert_source, ": ", opensslErrors())};
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(raw, chain[i].get()) != 1) {
      return Failure{cert_key, strCat(m.cert_source, ": ", opensslErrors())};
    }
  }
  const std::string key_key = c.key_file.empty() ? "key_pem" : "key_file";
  {
    BioPtr bio = memoryBio(m.key);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassword, nullptr), &EVP_PKEY_free);
    if (!key) {
      ERR_clear_error();
      return Failure{key_key, strCat(m.key_source,
                                     ": no PEM private key found (encrypted keys are not "
                                     "supported)")};
    }
    if (SSL_CTX_use_PrivateKey(raw, key.get()) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return Failure{key_key,
                       strCat(m.key_source, " does not match the certificate of ", m.cert_source)};
      }
      return Failure{key_key, strCat(m.key_source, ": ", opensslErrors())};
    }
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    ERR_clear_error();
    return Failure{key_key,
                   strCat(m.key_source, " does not match the certificate of ", m.cert_source)};
  }
  info.certificate_subject = certificateSubject(chain.front().get());
  info.certificate_serial = certificateSerial(chain.front().get());
  info.certificate_not_after = certificateNotAfter(chain.front().get());

  if (!c.ca_file.empty() || !c.ca_pem.empty()) {
    if (readCertificates(m.ca).empty()) {
      return Failure{c.ca_file.empty() ? "ca_pem" : "ca_file",
                     strCat(m.ca_source, ": no PEM certificate found")};
    }
  }

  // Mutual TLS, failing closed: no certificate, or one that does not chain to these CAs, ends the
  // handshake.
  if (c.hasClientCa()) {
    std::vector<X509Ptr> cas = readCertificates(m.client_ca);
    if (cas.empty()) {
      return Failure{"client_ca_file", strCat(m.client_ca_source, ": no PEM certificate found")};
    }
    X509_STORE* store = X509_STORE_new();
    SSL_CTX_set_cert_store(raw, store);  // the context owns it from here
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const X509Ptr& ca : cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) {
        ERR_clear_error();  // the same CA twice
      }
      if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca.get()))) {
        sk_X509_NAME_push(names, name);
      }
    }
    // Tells clients which CAs their certificate must come from.
    SSL_CTX_set_client_CA_list(raw, names);
    if (c.include_system_ca_certs_pool && X509_STORE_set_default_paths(store) != 1) {
      return Failure{"include_system_ca_certs_pool",
                     strCat("cannot load the system CA certificates: ", opensslErrors())};
    }
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  SSL_CTX_set_alpn_select_cb(raw, alpn == TlsAlpn::kH2 ? &selectH2 : &selectHttp11, nullptr);
  out = std::move(ctx);
  return std::nullopt;
}

absl::StatusOr<TlsServerContext> buildFromMaterial(const TlsServerConfig& config,
                                                   const TlsMaterial& material, TlsAlpn alpn) {
  SslCtxPtr ctx(nullptr, &SSL_CTX_free);
  TlsServerContext info;
  if (std::optional<Failure> f = buildContext(config, material, alpn, ctx, info)) {
    return absl::InvalidArgumentError(f->key.empty() ? f->message
                                                     : strCat("tls.", f->key, ": ", f->message));
  }
  try {
    info.ssl = std::make_shared<ssl::context>(ctx.release());
  } catch (const std::exception& e) {
    return absl::InternalError(strCat("TLS context: ", e.what()));
  }
  return info;
}

std::string materialKey(const TlsMaterial& m) {
  return strCat(m.cert.size(), ":", m.cert, m.key.size(), ":", m.key, m.client_ca.size(), ":",
                m.client_ca);
}

int64_t ticks(TlsContextSource::Clock::time_point t) {
  return t.time_since_epoch().count();
}

}  // namespace

absl::StatusOr<TlsVersion> parseTlsVersion(std::string_view text) {
  if (text == "1.0") return TlsVersion::k10;
  if (text == "1.1") return TlsVersion::k11;
  if (text == "1.2") return TlsVersion::k12;
  if (text == "1.3") return TlsVersion::k13;
  return absl::InvalidArgumentError(
      strCat("unsupported TLS version \"", text, "\": use \"1.0\", \"1.1\", \"1.2\" or \"1.3\""));
}

std::string_view tlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::k10:
      return "1.0";
    case TlsVersion::k11:
      return "1.1";
    case TlsVersion::k12:
      return "1.2";
    case TlsVersion::k13:
      return "1.3";
  }
  return "?";
}

absl::StatusOr<std::string> readSmallFile(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(strCat(path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(strCat(path, ": not a file"));
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(
        strCat(path, ": larger than ", max_bytes, " bytes, not a certificate or key"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError(strCat(path, ": cannot be read"));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string out = ss.str();
  if (out.size() > max_bytes) {
    return absl::InvalidArgumentError(strCat(path, ": larger than ", max_bytes, " bytes"));
  }
  return out;
}

TlsProtocolConfig parseTlsProtocolConfig(config::ConfigNode& t) {
  TlsProtocolConfig c;
  auto version = [&t](std::string_view name, TlsVersion fallback) {
    const std::string text = t.getString(name, "");
    if (text.empty()) return fallback;  // the Collector's "": the default
    auto parsed = parseTlsVersion(text);
    if (!parsed.ok()) {
      t.addError(name, std::string(parsed.status().message()));
      return fallback;
    }
    return *parsed;
  };
  c.min_version = version("min_version", TlsVersion::k12);
  c.max_version = version("max_version", TlsVersion::k13);
  if (c.min_version > c.max_version) {
    t.addError("min_version",
               strCat("\"", tlsVersionName(c.min_version), "\" is above max_version \"",
                      tlsVersionName(c.max_version), "\""));
  }

  for (std::string& name : t.getStringList("cipher_suites")) {
    if (findCipherSuite(name) == nullptr) {
      std::vector<std::string> known;
      for (const CipherSuiteName& suite : kCipherSuites) known.emplace_back(suite.go_name);
      t.addError("cipher_suites", strCat("unknown or insecure cipher suite \"", name,
                                         "\"; supported: ", absl::StrJoin(known, ", ")));
      continue;
    }
    c.cipher_suites.push_back(std::move(name));
  }
  if (!c.cipher_suites.empty() && c.max_version < TlsVersion::k13) {
    bool any12 = false;
    for (const std::string& name : c.cipher_suites) any12 |= !findCipherSuite(name)->tls13;
    if (!any12) {
      t.addError("cipher_suites", "only TLS 1.3 suites listed, but max_version is below 1.3");
    }
  }
  for (std::string& name : t.getStringList("curve_preferences")) {
    if (findCurve(name) == nullptr) {
      t.addError("curve_preferences",
                 strCat("unknown curve \"", name, "\": use X25519, P256, P384 or P521"));
      continue;
    }
    c.curve_preferences.push_back(std::move(name));
  }
  return c;
}

std::optional<TlsProtocolFailure> applyTlsProtocolConfig(ssl_ctx_st* context,
                                                         const TlsProtocolConfig& config) {
  if (SSL_CTX_set_min_proto_version(context, opensslVersion(config.min_version)) != 1) {
    return TlsProtocolFailure{"min_version", opensslErrors()};
  }
  if (SSL_CTX_set_max_proto_version(context, opensslVersion(config.max_version)) != 1) {
    return TlsProtocolFailure{"max_version", opensslErrors()};
  }
  std::vector<std::string> tls12, tls13;
  for (const std::string& name : config.cipher_suites) {
    if (const CipherSuiteName* suite = findCipherSuite(name)) {
      (suite->tls13 ? tls13 : tls12).emplace_back(suite->openssl_name);
    }
  }
  if (tls12.empty()) {
    // Go's default: ECDHE key exchange only, AEAD first.
    for (const CipherSuiteName& suite : kCipherSuites) {
      if (!suite.tls13) tls12.emplace_back(suite.openssl_name);
    }
  }
  if (SSL_CTX_set_cipher_list(context, absl::StrJoin(tls12, ":").c_str()) != 1) {
    return TlsProtocolFailure{"cipher_suites", opensslErrors()};
  }
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(context, absl::StrJoin(tls13, ":").c_str()) != 1) {
    return TlsProtocolFailure{"cipher_suites", opensslErrors()};
  }
  // OpenSSL 3 refuses TLS 1.0/1.1 handshakes (SHA-1 and MD5 signatures) at its default security
  // level; a config that asks for them gets them, at level 0.
  if (config.min_version < TlsVersion::k12) SSL_CTX_set_security_level(context, 0);
  if (!config.curve_preferences.empty()) {
    std::vector<std::string> groups;
    for (const std::string& name : config.curve_preferences) {
      if (const CurveName* curve = findCurve(name)) groups.emplace_back(curve->openssl_name);
    }
    if (SSL_CTX_set1_groups_list(context, absl::StrJoin(groups, ":").c_str()) != 1) {
      return TlsProtocolFailure{"curve_preferences", opensslErrors()};
    }
  }
  return std::nullopt;
}

std::optional<TlsServerConfig> parseTlsServerConfig(config::ConfigNode& parent,
                                                    std::string_view key) {
  std::optional<YAML::Node> yaml = parent.getYaml(key);
  if (!yaml) return std::nullopt;
  if (!yaml->IsMap()) {
    parent.addError(key, "must be a mapping of TLS settings");
    return std::nullopt;
  }
  config::ConfigNode t = parent.child(key);
  TlsServerConfig c;
  c.cert_file = t.getString("cert_file", "");
  c.cert_pem = t.getString("cert_pem", "");
  c.key_file = t.getString("key_file", "");
  c.key_pem = t.getString("key_pem", "");
  c.ca_file = t.getString("ca_file", "");
  c.ca_pem = t.getString("ca_pem", "");
  c.client_ca_file = t.getString("client_ca_file", "");
  c.client_ca_file_reload = t.getBool("client_ca_file_reload", false);
  c.include_system_ca_certs_pool = t.getBool("include_system_ca_certs_pool", false);

  const std::pair<std::string_view, std::string_view> exclusive[] = {
      {"cert_file", "cert_pem"}, {"key_file", "key_pem"}, {"ca_file", "ca_pem"}};
  const std::string* values[][2] = {
      {&c.cert_file, &c.cert_pem}, {&c.key_file, &c.key_pem}, {&c.ca_file, &c.ca_pem}};
  for (size_t i = 0; i < 3; ++i) {
    if (!values[i][0]->empty() && !values[i][1]->empty()) {
      t.addError(exclusive[i].second, strCat("give either ", exclusive[i].first, " or ",
                                             exclusive[i].second, ", not both"));
    }
  }
  const bool has_cert = !c.cert_file.empty() || !c.cert_pem.empty();
  const bool has_key = !c.key_file.empty() || !c.key_pem.empty();
  if (!has_cert)
    t.addError("cert_file", "a TLS server needs a certificate (cert_file or cert_pem)");
  if (!has_key) t.addError("key_file", "a TLS server needs a private key (key_file or key_pem)");

  static_cast<TlsProtocolConfig&>(c) = parseTlsProtocolConfig(t);
  c.reload_interval = t.getDuration("reload_interval", absl::ZeroDuration());
  if (c.reload_interval < absl::ZeroDuration()) {
    t.addError("reload_interval", "must not be negative");
    c.reload_interval = absl::ZeroDuration();
  }
  t.rejectUnknownKeys();
  return c;
}

std::optional<TlsServerConfig> readTlsServerConfig(config::ConfigNode& parent,
                                                   std::string_view key) {
  const size_t errors_before = parent.errors().size();
  std::optional<TlsServerConfig> c = parseTlsServerConfig(parent, key);
  if (!c || parent.errors().size() != errors_before) return c;
  config::ConfigNode t = parent.child(key);
  TlsMaterial material;
  std::optional<Failure> failure = loadMaterial(*c, material);
  SslCtxPtr ctx(nullptr, &SSL_CTX_free);
  TlsServerContext info;
  if (!failure) failure = buildContext(*c, material, TlsAlpn::kHttp11, ctx, info);
  if (failure) {
    if (failure->key.empty()) {
      parent.addError(key, failure->message);
    } else {
      t.addError(failure->key, failure->message);
    }
  }
  return c;
}

absl::StatusOr<TlsServerContext> buildTlsServerContext(const TlsServerConfig& config,
                                                       TlsAlpn alpn) {
  TlsMaterial material;
  if (std::optional<Failure> f = loadMaterial(config, material)) {
    return absl::InvalidArgumentError(strCat("tls.", f->key, ": ", f->message));
  }
  return buildFromMaterial(config, material, alpn);
}

TlsContextSource::TlsContextSource(TlsServerConfig config, TlsAlpn alpn)
    : config_(std::move(config)), alpn_(alpn) {}

TlsContextSource::~TlsContextSource() {
  if (metrics_ != nullptr && expiry_gauge_ != 0) metrics_->removeCallback(expiry_gauge_);
}

absl::StatusOr<std::shared_ptr<TlsContextSource>> TlsContextSource::create(
    const TlsServerConfig& config, TlsAlpn alpn, MetricsRegistry* metrics, std::string listener) {
  std::shared_ptr<TlsContextSource> source(new TlsContextSource(config, alpn));
  TlsMaterial material;
  if (std::optional<Failure> f = loadMaterial(config, material)) {
    return absl::InvalidArgumentError(strCat("tls.", f->key, ": ", f->message));
  }
  auto built = buildFromMaterial(config, material, alpn);
  if (!built.ok()) return built.status();
  source->current_ = *std::move(built);
  source->loaded_ = std::make_unique<TlsMaterial>(std::move(material));
  source->listener_ = std::move(listener);
  if (metrics != nullptr && !source->listener_.empty()) {
    const char* help = "Certificate reloads of a TLS listener (reload_interval), by result.";
    source->reloads_ok_ = &metrics->counter("otlpd_tls_certificate_reloads_total", help,
                                            {{"listener", source->listener_}, {"result", "ok"}});
    source->reloads_failed_ =
        &metrics->counter("otlpd_tls_certificate_reloads_total", help,
                          {{"listener", source->listener_}, {"result", "failed"}});
    source->metrics_ = metrics;
    TlsContextSource* self = source.get();
    source->expiry_gauge_ = metrics->callbackGauge(
        "otlpd_tls_certificate_expiry_timestamp_seconds",
        "When the certificate a TLS listener serves expires (notAfter, Unix seconds).",
        {{"listener", source->listener_}}, [self] {
          std::lock_guard lock(self->mutex_);
          return static_cast<double>(self->current_.certificate_not_after);
        });
  } else {
    source->own_ok_ = std::make_unique<Counter>();
    source->own_failed_ = std::make_unique<Counter>();
    source->reloads_ok_ = source->own_ok_.get();
    source->reloads_failed_ = source->own_failed_.get();
  }
  const bool reloads = config.reload_interval > absl::ZeroDuration() &&
                       (!config.cert_file.empty() || !config.key_file.empty() ||
                        (config.client_ca_file_reload && config.hasClientCa()));
  if (reloads) {
    source->next_check_ = ticks(Clock::now() + source->interval());
  }
  if ((!config.ca_file.empty() || !config.ca_pem.empty()) && !config.hasClientCa()) {
    logging::warn(
        "tls.ca_file does not verify clients on a server (as in the Collector); set "
        "tls.client_ca_file for mutual TLS",
        {{"listener", source->listener_}});
  }
  return source;
}

absl::Status TlsContextSource::reloadLocked() {
  // The client CAs are re-read only when asked (client_ca_file_reload), as in the Collector.
  TlsServerConfig files = config_;
  if (!config_.client_ca_file_reload) files.client_ca_file.clear();
  TlsMaterial material;
  if (std::optional<Failure> f = loadMaterial(files, material)) {
    return absl::InvalidArgumentError(strCat("tls.", f->key, ": ", f->message));
  }
  if (!config_.client_ca_file_reload) {
    material.client_ca = loaded_->client_ca;
    material.client_ca_source = loaded_->client_ca_source;
  }
  if (materialKey(material) == materialKey(*loaded_)) return absl::OkStatus();
  auto built = buildFromMaterial(config_, material, alpn_);
  if (!built.ok()) return built.status();
  current_ = *std::move(built);
  *loaded_ = std::move(material);
  reloads_ok_->add();
  logging::info("TLS certificate reloaded", {{"listener", listener_},
                                             {"subject", current_.certificate_subject},
                                             {"serial", current_.certificate_serial}});
  return absl::OkStatus();
}

std::shared_ptr<boost::asio::ssl::context> TlsContextSource::current() {
  const int64_t now = ticks(Clock::now());
  std::lock_guard lock(mutex_);
  if (now >= next_check_.load(std::memory_order_relaxed)) {
    next_check_ = now + interval().count();
    if (absl::Status s = reloadLocked(); !s.ok()) {
      reloads_failed_->add();
      logging::warn("TLS certificate reload failed; still serving the previous certificate",
                    {{"listener", listener_}, {"error", s}});
    }
  }
  return current_.ssl;
}

TlsContextSource::Clock::duration TlsContextSource::interval() const {
  return std::chrono::duration_cast<Clock::duration>(
      absl::ToChronoNanoseconds(config_.reload_interval));
}

TlsServerContext TlsContextSource::currentInfo() {
  std::lock_guard lock(mutex_);
  return current_;
}

absl::Status TlsContextSource::reloadNow() {
  std::lock_guard lock(mutex_);
  absl::Status s = reloadLocked();
  if (!s.ok()) reloads_failed_->add();
  return s;
}

uint64_t TlsContextSource::reloads() const {
  return reloads_ok_->value();
}

uint64_t TlsContextSource::failedReloads() const {
  return reloads_failed_->value();
}

}  // namespace otlpd::common
