#include "exporters/helper/otlp_client_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
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

std::optional<std::string> readSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
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
  const std::string env_insecure = absl::AsciiStrToLower(otlpEnv(signal, "INSECURE").value_or(""));
  c.tls.insecure = t.getBool("insecure", env_insecure == "true");
  c.tls.insecure_skip_verify = t.getBool("insecure_skip_verify", false);
  c.tls.ca_file = t.getString("ca_file", otlpEnv(signal, "CERTIFICATE").value_or(""));
  c.tls.cert_file = t.getString("cert_file", otlpEnv(signal, "CLIENT_CERTIFICATE").value_or(""));
  c.tls.key_file = t.getString("key_file", otlpEnv(signal, "CLIENT_KEY").value_or(""));
  c.tls.server_name_override = t.getString("server_name_override", "");
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    t.addError(c.tls.cert_file.empty() ? "cert_file" : "key_file",
               "cert_file and key_file go together");
  }
  t.rejectUnknownKeys();
  return c;
}

}  // namespace otlpd::exporters::helper
