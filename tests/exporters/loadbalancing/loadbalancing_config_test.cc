// The loadbalancing exporter's config, read through its factory as the graph reads it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "exporters/loadbalancing/loadbalancing_exporter.h"

namespace otlpd::exporters::loadbalancing {
namespace {

using pipeline::Signal;

class NoHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

struct Created {
  std::unique_ptr<pipeline::Exporter> exporter;
  std::vector<config::ConfigError> errors;
  std::string text;  // every error, one per line
};

Created create(std::string_view yaml, Signal signal = Signal::kTraces,
               common::MetricsRegistry* metrics = nullptr) {
  static common::MetricsRegistry shared{common::MetricsRegistry::ProcessMetrics::kExclude};
  Created out;
  auto node = config::parseYaml(yaml, "test");
  EXPECT_TRUE(node.ok()) << node.status();
  config::ConfigErrors errors;
  config::ConfigNode cfg(*node, "exporters.loadbalancing", errors);
  auto factory = makeLoadBalancingExporterFactory();
  auto made = factory->create(
      pipeline::CreateSettings{{"loadbalancing", ""}, metrics ? *metrics : shared}, cfg, signal);
  cfg.rejectUnknownKeys();
  if (made.ok()) out.exporter = *std::move(made);
  out.errors = errors.all();
  out.text = errors.toString();
  return out;
}

bool has(const Created& c, std::string_view path, std::string_view message) {
  for (const auto& e : c.errors) {
    if (e.path == path && absl::StrContains(e.message, std::string(message))) return true;
  }
  return false;
}

constexpr std::string_view kStatic = R"(
routing_key: traceID
protocol:
  otlp:
    tls: { insecure: true }
    timeout: 1s
resolver:
  static:
    hostnames: [backend-1:4317, backend-2:4317]
)";

TEST(LoadBalancingConfig, TheCollectorsExampleIsAccepted) {
  auto factory = makeLoadBalancingExporterFactory();
  EXPECT_EQ(factory->type(), "loadbalancing");
  EXPECT_EQ(factory->aliases(), std::vector<std::string_view>{"load_balancing"});
  EXPECT_TRUE(factory->queuesInternally());
  for (Signal s : pipeline::kAllSignals) EXPECT_TRUE(factory->supports(s));
  Created c = create(kStatic);
  EXPECT_TRUE(c.errors.empty()) << c.text;
  EXPECT_NE(c.exporter, nullptr);
  // The DNS resolver with every key, and the default routing key of each signal.
  for (Signal s : pipeline::kAllSignals) {
    Created d = create(R"(
protocol: { otlp: { tls: { insecure: true } } }
resolver:
  dns: { hostname: otelcol-headless.observability.svc.cluster.local, port: 55690,
         interval: 30s, timeout: 2s }
)",
                       s);
    EXPECT_TRUE(d.errors.empty()) << d.text;
  }
}

TEST(LoadBalancingConfig, OneResolverExactly) {
  Created both = create(R"(
resolver:
  static: { hostnames: [a:4317] }
  dns: { hostname: b }
)");
  EXPECT_TRUE(has(both, "exporters.loadbalancing.resolver", "not both")) << both.text;
  Created none = create("protocol: { otlp: {} }\n");
  EXPECT_TRUE(has(none, "exporters.loadbalancing.resolver", "is required")) << none.text;
  Created k8s = create("resolver: { k8s: { service: lb-svc.kube-public } }\n");
  EXPECT_TRUE(has(k8s, "exporters.loadbalancing.resolver.k8s", "not available")) << k8s.text;
  Created empty = create("resolver: { static: { hostnames: [] } }\n");
  EXPECT_TRUE(has(empty, "exporters.loadbalancing.resolver.static.hostnames", "at least one"))
      << empty.text;
  Created nameless = create("resolver: { dns: { port: 4317, interval: 0s } }\n");
  EXPECT_TRUE(has(nameless, "exporters.loadbalancing.resolver.dns.hostname", "is required"))
      << nameless.text;
  EXPECT_TRUE(has(nameless, "exporters.loadbalancing.resolver.dns.interval", "positive"))
      << nameless.text;
  Created typo = create("resolver: { dns: { hostname: a, intervall: 5s } }\n");
  EXPECT_TRUE(has(typo, "exporters.loadbalancing.resolver.dns.intervall", "unknown key"))
      << typo.text;
}

TEST(LoadBalancingConfig, RoutingKeysMustSuitTheSignal) {
  const std::string resolver = "\nresolver: { static: { hostnames: [a:4317] } }\n";
  Created stream = create("routing_key: streamID" + resolver, Signal::kTraces);
  EXPECT_TRUE(has(stream, "exporters.loadbalancing.routing_key", "cannot route traces"))
      << stream.text;
  EXPECT_TRUE(has(stream, "exporters.loadbalancing.routing_key", "traceID, service"))
      << stream.text;
  Created trace_metrics = create("routing_key: traceID" + resolver, Signal::kMetrics);
  EXPECT_TRUE(has(trace_metrics, "exporters.loadbalancing.routing_key", "cannot route metrics"))
      << trace_metrics.text;
  Created bogus = create("routing_key: traceid" + resolver, Signal::kLogs);
  EXPECT_TRUE(has(bogus, "exporters.loadbalancing.routing_key", "must be one of")) << bogus.text;
  for (const char* key : {"service", "resource", "metric", "streamID"}) {
    Created ok = create(std::string("routing_key: ") + key + resolver, Signal::kMetrics);
    EXPECT_TRUE(ok.errors.empty()) << key << ": " << ok.text;
  }
  Created logs = create("routing_key: resource" + resolver, Signal::kLogs);
  EXPECT_TRUE(logs.errors.empty()) << logs.text;
}

TEST(LoadBalancingConfig, ProtocolOtlpIsCheckedAsTheOtlpExportersConfigWithItsLines) {
  Created c = create(R"(
protocol:
  otlp:
    compression: zstd
    bogus: 1
    endpoint: ignored:1
    sending_queue: { queue_size: -3 }
  http: {}
resolver: { static: { hostnames: [a:4317] } }
)");
  EXPECT_TRUE(has(c, "exporters.loadbalancing.protocol.otlp.compression", "zstd")) << c.text;
  EXPECT_TRUE(has(c, "exporters.loadbalancing.protocol.otlp.bogus", "unknown key")) << c.text;
  EXPECT_TRUE(has(c, "exporters.loadbalancing.protocol.http", "unknown key")) << c.text;
  EXPECT_FALSE(absl::StrContains(c.text, "endpoint")) << "the Collector replaces it: " << c.text;
  for (const auto& e : c.errors) {
    if (e.path == "exporters.loadbalancing.protocol.otlp.compression") {
      EXPECT_EQ(e.line, 4) << "errors point at the user's line";
    }
  }
  EXPECT_TRUE(absl::StrContains(c.text, "exporters.loadbalancing.protocol.otlp.sending_queue"))
      << c.text;
}

TEST(LoadBalancingConfig, HelperKeysAtTheTopSayWhereTheyBelong) {
  Created c = create(R"(
sending_queue: { queue_size: 10 }
retry_on_failure: { enabled: true }
resolver: { static: { hostnames: [a:4317] } }
)");
  EXPECT_TRUE(has(c, "exporters.loadbalancing.sending_queue", "under protocol.otlp")) << c.text;
  EXPECT_TRUE(has(c, "exporters.loadbalancing.retry_on_failure", "under protocol.otlp")) << c.text;
}

TEST(LoadBalancingConfig, EachBackendIsAnOtlpGrpcExporterWithTheProtocolsSettings) {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  const std::filesystem::path dlq =
      std::filesystem::path(::testing::TempDir()) / ("lb-dlq-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dlq);
  // Nothing listens there: gRPC connects lazily, and nothing is sent.
  Created c = create(std::string(R"(
protocol:
  otlp:
    tls: { insecure: true }
    sending_queue: { queue_size: 77, num_consumers: 2 }
    dead_letter_queue: { directory: ")") +
                         dlq.string() + R"(" }
resolver: { static: { hostnames: ["127.0.0.1:1", "127.0.0.1:2"] } }
)",
                     Signal::kLogs, &metrics);
  ASSERT_TRUE(c.errors.empty()) << c.text;
  NoHost host;
  ASSERT_TRUE(c.exporter->start(host).ok());
  const std::string exposition = metrics.renderPrometheus();
  for (const char* backend : {"loadbalancing/127.0.0.1:1", "loadbalancing/127.0.0.1:2"}) {
    EXPECT_TRUE(
        absl::StrContains(exposition, std::string("otlpd_exporter_queue_capacity{exporter=\"") +
                                          backend + "\",signal=\"logs\"} 77"))
        << exposition;
  }
  EXPECT_TRUE(absl::StrContains(
      exposition,
      "otlpd_loadbalancer_resolutions_total{exporter=\"loadbalancing\",signal=\"logs\","
      "resolver=\"static\",success=\"true\"} 1"))
      << exposition;
  EXPECT_TRUE(absl::StrContains(
      exposition, "otlpd_loadbalancer_backends{exporter=\"loadbalancing\",signal=\"logs\"} 2"))
      << exposition;
  // The config check's stand-in backend left nothing behind.
  EXPECT_FALSE(absl::StrContains(exposition, "127.0.0.1:4317")) << exposition;
  // Each backend's dead letters have a directory of their own.
  EXPECT_TRUE(std::filesystem::is_directory(dlq / "127.0.0.1_1"));
  EXPECT_TRUE(std::filesystem::is_directory(dlq / "127.0.0.1_2"));
  ASSERT_TRUE(c.exporter->shutdown().ok());
  std::filesystem::remove_all(dlq);
}

}  // namespace
}  // namespace otlpd::exporters::loadbalancing
