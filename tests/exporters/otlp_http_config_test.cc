// Where the otlp_http exporter sends each signal: URL parsing, the Collector's endpoint keys
// (base + per-signal paths, per-signal overrides) and the OTEL_EXPORTER_OTLP_* fallbacks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/loader.h"
#include "exporters/otlp_http/config.h"

namespace otlpd::exporters::otlp_http {
namespace {

using pipeline::Signal;
using ::testing::HasSubstr;

// Clears every variable these tests touch before and after each one, so the tests do not depend
// on the environment they run in or on each other.
class OtlpHttpConfigTest : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {
      "OTEL_EXPORTER_OTLP_ENDPOINT",         "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
      "OTEL_EXPORTER_OTLP_COMPRESSION",      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  };
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* v : kVars) ::unsetenv(v);
  }

  OtlpHttpConfig parse(const std::string& yaml, Signal signal, config::ConfigErrors& errors) {
    auto root = config::parseYaml(yaml, "test");
    EXPECT_TRUE(root.ok()) << root.status();
    config::ConfigNode node(*root, "exporters.otlp_http", errors);
    return parseOtlpHttpConfig(node, signal);
  }
};

TEST_F(OtlpHttpConfigTest, ParsesUrls) {
  auto u = parseHttpUrl("http://collector:4318/v1/traces");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "collector");
  EXPECT_EQ(u->port, 4318);
  EXPECT_EQ(u->target, "/v1/traces");
  EXPECT_EQ(u->toString(), "http://collector:4318/v1/traces");

  u = parseHttpUrl("HTTPS://otlp.example.com");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");

  u = parseHttpUrl("http://[::1]:9000/otlp/v1/logs?tenant=a#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->target, "/otlp/v1/logs?tenant=a");
  EXPECT_EQ(u->origin(), "http://[::1]:9000");

  EXPECT_EQ(parseHttpUrl("http://h").value().port, 80);
  EXPECT_FALSE(parseHttpUrl("collector:4318").ok());  // the scheme is required
  EXPECT_FALSE(parseHttpUrl("grpc://collector:4317").ok());
  EXPECT_FALSE(parseHttpUrl("http://:4318").ok());
  EXPECT_FALSE(parseHttpUrl("http://h:0").ok());
  EXPECT_FALSE(parseHttpUrl("http://h:70000").ok());
  EXPECT_FALSE(parseHttpUrl("http://h:12x").ok());
  EXPECT_FALSE(parseHttpUrl("http://user:pw@h:1").ok());
  EXPECT_FALSE(parseHttpUrl("http://[::1:4318").ok());
}

TEST_F(OtlpHttpConfigTest, AppendsSignalPathsToTheBase) {
  EXPECT_EQ(appendSignalPath("http://c:4318", Signal::kTraces), "http://c:4318/v1/traces");
  EXPECT_EQ(appendSignalPath("http://c:4318/", Signal::kMetrics), "http://c:4318/v1/metrics");
  EXPECT_EQ(appendSignalPath("https://c/prefix/", Signal::kLogs), "https://c/prefix/v1/logs");
}

TEST_F(OtlpHttpConfigTest, EndpointKeyPlusSignalPathAndPerSignalOverride) {
  config::ConfigErrors errors;
  const std::string yaml =
      "endpoint: http://base:4318/\n"
      "logs_endpoint: https://logs.example.com/custom/path\n";
  OtlpHttpConfig traces = parse(yaml, Signal::kTraces, errors);
  OtlpHttpConfig logs = parse(yaml, Signal::kLogs, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(traces.client.endpoint, "http://base:4318/v1/traces");
  EXPECT_EQ(traces.url.target, "/v1/traces");
  EXPECT_EQ(logs.client.endpoint, "https://logs.example.com/custom/path");  // as is
  EXPECT_TRUE(logs.url.tls);
  EXPECT_EQ(logs.url.target, "/custom/path");
}

TEST_F(OtlpHttpConfigTest, PerSignalKeyAloneIsEnough) {
  config::ConfigErrors errors;
  OtlpHttpConfig c = parse("metrics_endpoint: http://m:1234/x\n", Signal::kMetrics, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.url.toString(), "http://m:1234/x");
  // The other signals have no endpoint then.
  parse("metrics_endpoint: http://m:1234/x\n", Signal::kTraces, errors);
  EXPECT_THAT(errors.toString(), HasSubstr("endpoint"));
}

TEST_F(OtlpHttpConfigTest, EnvironmentFallbacks) {
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env-base:4318", 1);
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env-traces:9/only/traces", 1);
  config::ConfigErrors errors;
  // Generic variable: a base, the signal path is appended.
  EXPECT_EQ(parse("{}", Signal::kMetrics, errors).client.endpoint,
            "http://env-base:4318/v1/metrics");
  // Signal variable: a full URL, used as is.
  EXPECT_EQ(parse("{}", Signal::kTraces, errors).client.endpoint,
            "http://env-traces:9/only/traces");
  // Config keys win over the environment.
  EXPECT_EQ(parse("endpoint: http://cfg:1\n", Signal::kTraces, errors).client.endpoint,
            "http://cfg:1/v1/traces");
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(resolveSignalUrl(Signal::kLogs, "", ""), "http://env-base:4318/v1/logs");
  clear();
  EXPECT_EQ(resolveSignalUrl(Signal::kLogs, "", ""), "");
}

TEST_F(OtlpHttpConfigTest, EnvironmentHeadersAndCompression) {
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318", 1);
  ::setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", 1);
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=s%20ecret,X-Tenant=a", 1);
  config::ConfigErrors errors;
  OtlpHttpConfig c = parse("{}", Signal::kTraces, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.client.compression, common::Compression::kZstd);
  EXPECT_EQ(c.client.headers["api-key"], "s ecret");
  EXPECT_EQ(c.client.headers["x-tenant"], "a");
}

TEST_F(OtlpHttpConfigTest, DefaultsAndKeys) {
  config::ConfigErrors errors;
  OtlpHttpConfig c = parse("endpoint: http://c:4318\n", Signal::kTraces, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.encoding, Encoding::kProto);
  EXPECT_EQ(c.client.compression, common::Compression::kGzip);
  EXPECT_EQ(c.helper.timeout, absl::Seconds(30));  // the Collector's otlphttp default

  c = parse(
      "endpoint: https://c\nencoding: json\ncompression: none\ntimeout: 2s\n"
      "headers: { Authorization: Bearer x }\n"
      "tls: { ca_file: /ca.pem, insecure_skip_verify: true }\n"
      "retry_on_failure: { initial_interval: 100ms }\n",
      Signal::kLogs, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  EXPECT_EQ(c.encoding, Encoding::kJson);
  EXPECT_EQ(c.client.compression, common::Compression::kNone);
  EXPECT_EQ(c.helper.timeout, absl::Seconds(2));
  EXPECT_EQ(c.helper.retry.initial_interval, absl::Milliseconds(100));
  EXPECT_EQ(c.client.headers["authorization"], "Bearer x");
  EXPECT_EQ(c.client.tls.ca_file, "/ca.pem");
  EXPECT_TRUE(c.client.tls.insecure_skip_verify);
  EXPECT_EQ(c.url.toString(), "https://c:443/v1/logs");
}

TEST_F(OtlpHttpConfigTest, Errors) {
  config::ConfigErrors errors;
  parse("{}", Signal::kTraces, errors);
  EXPECT_THAT(errors.toString(), HasSubstr("endpoint"));
  EXPECT_THAT(errors.toString(), HasSubstr("is required"));

  config::ConfigErrors e2;
  parse("endpoint: collector:4318\n", Signal::kTraces, e2);
  EXPECT_THAT(e2.toString(), HasSubstr("scheme is required"));

  config::ConfigErrors e3;
  parse("endpoint: http://c\nencoding: xml\n", Signal::kTraces, e3);
  EXPECT_THAT(e3.toString(), HasSubstr("must be proto or json"));

  config::ConfigErrors e4;
  parse("endpoint: http://c\ntraces_endpoint: \"ftp://x\"\n", Signal::kTraces, e4);
  EXPECT_THAT(e4.toString(), HasSubstr("traces_endpoint"));
}

}  // namespace
}  // namespace otlpd::exporters::otlp_http
