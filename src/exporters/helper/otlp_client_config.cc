#include "exporters/helper/otlp_client_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace otlpd::exporters::helper {
namespace {

std::string envName(std::optional<pipeline::Signal> signal, std::string_view name) {
  std::string out = "OTEL_EXPORTER_OTLP_";
  if (signal) {
    out += absl::AsciiStrToUpper(toAbsl(pipeline::signalName(*signal)));
    out += "_";
  }
  out += std::string(name);
  return out;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::optional<std::string> otlpEnv(pipeline::Signal signal, std::string_view name) {
  if (const char* v = std::getenv(envName(signal, name).c_str()); v != nullptr && *v != '\0') {
    return std::string(v);
  }
  if (const char* v = std::getenv(envName(std::nullopt, name).c_str());
      v != nullptr && *v != '\0') {
    return std::string(v);
  }
  return std::nullopt;
}

bool otlpEnvIsSignalSpecific(pipeline::Signal signal, std::string_view name) {
  const char* v = std::getenv(envName(signal, name).c_str());
  return v != nullptr && *v != '\0';
}

OtlpClientConfig parseOtlpClientConfig(config::ConfigNode& node, pipeline::Signal signal) {
  OtlpClientConfig c;
  // W3C Baggage-like "k1=v1,k2=v2" with percent-encoded values, as the SDK spec defines it.
  if (auto env = otlpEnv(signal, "HEADERS")) {
    for (absl::string_view pair : absl::StrSplit(toAbsl(*env), ',', absl::SkipWhitespace())) {
      const size_t eq = pair.find('=');
      if (eq == absl::string_view::npos) continue;
      std::string key(absl::StripAsciiWhitespace(pair.substr(0, eq)));
      std::string value(absl::StripAsciiWhitespace(pair.substr(eq + 1)));
      c.headers[absl::AsciiStrToLower(key)] = percentDecode(value);
    }
  }
  if (node.has("headers")) {
    config::ConfigNode h = node.child("headers");
    if (h.yaml().IsMap()) {
      for (const auto& kv : h.yaml()) {
        const std::string key = kv.first.as<std::string>("");
        c.headers[absl::AsciiStrToLower(key)] = h.getString(key, "");
      }
    } else {
      node.addError("headers", "must be a mapping of header names to values");
    }
  }

  std::string compression =
      node.getString("compression", otlpEnv(signal, "COMPRESSION").value_or("gzip"));
  compression = absl::AsciiStrToLower(compression);
  if (compression == "gzip") {
    c.compression = common::Compression::kGzip;
  } else if (compression == "zstd") {
    c.compression = common::Compression::kZstd;
  } else if (compression == "none" || compression.empty()) {
    c.compression = common::Compression::kNone;
  } else if (compression == "deflate") {
    c.compression = common::Compression::kDeflate;
  } else {
    node.addError("compression", "must be gzip, zstd, deflate or none");
  }

  config::ConfigNode t = node.child("tls");
  c.tls.insecure = absl::AsciiStrToLower(otlpEnv(signal, "INSECURE").value_or("")) == "true";
  c.tls.ca_file = otlpEnv(signal, "CERTIFICATE").value_or("");
  c.tls.cert_file = otlpEnv(signal, "CLIENT_CERTIFICATE").value_or("");
  c.tls.key_file = otlpEnv(signal, "CLIENT_KEY").value_or("");
  parseTlsClientConfig(t, c.tls);
  return c;
}

void parseTlsClientConfig(config::ConfigNode& t, TlsClientConfig& c) {
  c.insecure = t.getBool("insecure", c.insecure);
  c.insecure_skip_verify = t.getBool("insecure_skip_verify", c.insecure_skip_verify);
  c.ca_file = t.getString("ca_file", c.ca_file);
  c.ca_pem = t.getString("ca_pem", c.ca_pem);
  c.cert_file = t.getString("cert_file", c.cert_file);
  c.cert_pem = t.getString("cert_pem", c.cert_pem);
  c.key_file = t.getString("key_file", c.key_file);
  c.key_pem = t.getString("key_pem", c.key_pem);
  c.server_name_override = t.getString("server_name_override", c.server_name_override);
  c.include_system_ca_certs_pool =
      t.getBool("include_system_ca_certs_pool", c.include_system_ca_certs_pool);
  static_cast<common::TlsProtocolConfig&>(c) = common::parseTlsProtocolConfig(t);
  c.reload_interval = t.getDuration("reload_interval", c.reload_interval);
  if (c.reload_interval < absl::ZeroDuration()) {
    t.addError("reload_interval", "must not be negative");
    c.reload_interval = absl::ZeroDuration();
  }
  const std::pair<std::string_view, std::string_view> exclusive[] = {
      {"ca_file", "ca_pem"}, {"cert_file", "cert_pem"}, {"key_file", "key_pem"}};
  const std::string* values[][2] = {
      {&c.ca_file, &c.ca_pem}, {&c.cert_file, &c.cert_pem}, {&c.key_file, &c.key_pem}};
  for (size_t i = 0; i < 3; ++i) {
    if (!values[i][0]->empty() && !values[i][1]->empty()) {
      t.addError(exclusive[i].second, strCat("give either ", exclusive[i].first, " or ",
                                             exclusive[i].second, ", not both"));
    }
  }
  const bool has_key = !c.key_file.empty() || !c.key_pem.empty();
  if (c.hasClientCertificate() != has_key) {
    t.addError(c.hasClientCertificate() ? "key_file" : "cert_file",
               "a client certificate and its key go together");
  }
  t.rejectUnknownKeys();
}

std::string TlsClientConfig::identity() const {
  return strCat(insecure, "|", insecure_skip_verify, "|", ca_file, "|", ca_pem, "|", cert_file, "|",
                cert_pem, "|", key_file, "|", key_pem, "|", server_name_override, "|",
                include_system_ca_certs_pool, "|", absl::ToInt64Milliseconds(reload_interval), "|",
                common::tlsVersionName(min_version), "|", common::tlsVersionName(max_version), "|",
                absl::StrJoin(cipher_suites, ","), "|", absl::StrJoin(curve_preferences, ","));
}

absl::StatusOr<TlsClientPem> loadTlsClientPem(const TlsClientConfig& c) {
  TlsClientPem pem;
  auto load = [](const std::string& file, const std::string& inline_pem, std::string_view key,
                 std::string& out) -> absl::Status {
    if (file.empty()) {
      out = inline_pem;
      return absl::OkStatus();
    }
    auto text = common::readSmallFile(file);
    if (!text.ok()) {
      return absl::FailedPreconditionError(
          strCat("tls.", key, " ", file, ": ", text.status().message()));
    }
    out = *std::move(text);
    return absl::OkStatus();
  };
  if (absl::Status s = load(c.ca_file, c.ca_pem, "ca_file", pem.ca); !s.ok()) return s;
  if (absl::Status s = load(c.cert_file, c.cert_pem, "cert_file", pem.cert); !s.ok()) return s;
  if (absl::Status s = load(c.key_file, c.key_pem, "key_file", pem.key); !s.ok()) return s;
  if (c.include_system_ca_certs_pool && !pem.ca.empty()) {
    // Debian's bundle of the system's roots, where OpenSSL looks by default.
    auto system = common::readSmallFile(X509_get_default_cert_file(), 16 << 20);
    if (!system.ok()) {
      return absl::FailedPreconditionError(strCat("tls.include_system_ca_certs_pool: ",
                                                  X509_get_default_cert_file(), ": ",
                                                  system.status().message()));
    }
    pem.ca += "\n";
    pem.ca += *system;
  }
  return pem;
}

}  // namespace otlpd::exporters::helper
