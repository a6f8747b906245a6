#include "receivers/prometheus/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "receivers/prometheus/file_sd.h"
#include "receivers/prometheus/targets.h"

namespace otlpd::receivers::prometheus {
namespace {

using ::testing::HasSubstr;

PrometheusReceiverConfig parse(const std::string& yaml, config::ConfigErrors& errors) {
  config::ConfigNode node(YAML::Load(yaml), "receivers.prometheus", errors);
  return parsePrometheusReceiverConfig(node);
}

PrometheusReceiverConfig parseOk(const std::string& yaml) {
  config::ConfigErrors errors;
  PrometheusReceiverConfig c = parse(yaml, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return c;
}

TEST(PrometheusConfigTest, DefaultsAndGlobal) {
  auto c = parseOk(R"(config:
  global: {scrape_interval: 30s, scrape_timeout: 5s}
  scrape_configs:
    - job_name: a
      static_configs: [{targets: ['h:1']}]
    - job_name: b
      scrape_interval: 2s
      static_configs: [{targets: ['h:2']}]
)");
  ASSERT_EQ(c.scrape_configs.size(), 2u);
  const ScrapeConfig& a = c.scrape_configs[0];
  EXPECT_EQ(a.scrape_interval, absl::Seconds(30));
  EXPECT_EQ(a.scrape_timeout, absl::Seconds(5));
  EXPECT_EQ(a.metrics_path, "/metrics");
  EXPECT_EQ(a.scheme, "http");
  EXPECT_FALSE(a.honor_labels);
  EXPECT_TRUE(a.honor_timestamps);
  EXPECT_EQ(a.body_size_limit, 0u);
  // A job interval shorter than the global timeout caps the timeout, as in Prometheus.
  EXPECT_EQ(c.scrape_configs[1].scrape_timeout, absl::Seconds(2));
  // Without global: 1m and 10s.
  auto d =
      parseOk("config: {scrape_configs: [{job_name: x, static_configs: [{targets: ['h:1']}]}]}");
  EXPECT_EQ(d.scrape_configs[0].scrape_interval, absl::Minutes(1));
  EXPECT_EQ(d.scrape_configs[0].scrape_timeout, absl::Seconds(10));
}

TEST(PrometheusConfigTest, EveryKey) {
  auto c = parseOk(R"(config:
  scrape_configs:
    - job_name: full
      scrape_interval: 1m30s
      scrape_timeout: 15s
      metrics_path: /custom
      scheme: HTTPS
      params: {module: [a, b], single: x}
      honor_labels: true
      honor_timestamps: false
      static_configs:
        - targets: ['h1:9100', 'h2:9100']
          labels: {env: prod}
      file_sd_configs:
        - files: ['/etc/targets/*.json', '/etc/targets/*.yml']
          refresh_interval: 1m
      authorization: {type: Token, credentials_file: /run/secret}
      tls_config: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: api,
                   insecure_skip_verify: false, min_version: TLS13}
      relabel_configs: [{source_labels: [env], target_label: stage}]
      metric_relabel_configs: [{regex: tmp_.*, action: labeldrop}]
      sample_limit: 5000
      body_size_limit: 10MB
)");
  const ScrapeConfig& s = c.scrape_configs[0];
  EXPECT_EQ(s.scrape_interval, absl::Seconds(90));
  EXPECT_EQ(s.scrape_timeout, absl::Seconds(15));
  EXPECT_EQ(s.metrics_path, "/custom");
  EXPECT_EQ(s.scheme, "https");
  EXPECT_EQ(s.params.at("module"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.params.at("single"), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(s.honor_labels);
  EXPECT_FALSE(s.honor_timestamps);
  ASSERT_EQ(s.static_configs.size(), 1u);
  EXPECT_EQ(s.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(s.static_configs[0].labels, (LabelPairs{{"env", "prod"}}));
  ASSERT_EQ(s.file_sd_configs.size(), 1u);
  EXPECT_EQ(s.file_sd_configs[0].refresh_interval, absl::Minutes(1));
  ASSERT_TRUE(s.authorization);
  EXPECT_EQ(s.authorization->type, "Token");
  EXPECT_EQ(s.authorization->credentials_file, "/run/secret");
  EXPECT_EQ(s.tls_config.server_name, "api");
  EXPECT_EQ(s.tls_config.min_version, "TLS13");
  EXPECT_EQ(s.relabel_configs.size(), 1u);
  EXPECT_EQ(s.metric_relabel_configs.size(), 1u);
  EXPECT_EQ(s.sample_limit, 5000u);
  EXPECT_EQ(s.body_size_limit, uint64_t{10} << 20);
}

TEST(PrometheusConfigTest, ErrorsWithPaths) {
  config::ConfigErrors errors;
  parse(R"(config:
  rule_files: [a.yml]
  scrape_configs:
    - job_name: dup
      scrape_interval: 10s
      scrape_timeout: 20s
      static_configs: [{targets: ['h:1']}]
    - job_name: dup
      scheme: ftp
      metrics_path: metrics
      static_configs: [{targets: ['http://h:1/x'], labels: {'1bad': x}}]
      file_sd_configs: [{files: [targets.txt]}]
      basic_auth: {username: u, password: p}
      authorization: {credentials: t}
      body_size_limit: lots
      follow_redirects: false
    - scrape_interval: 1x
)",
        errors);
  const std::string text = errors.toString();
  EXPECT_THAT(text, HasSubstr("receivers.prometheus.config.rule_files"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[0].scrape_timeout"));
  EXPECT_THAT(text, HasSubstr("must not be greater than scrape_interval"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[1].job_name"));
  EXPECT_THAT(text, HasSubstr("is used by another scrape config"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[1].scheme"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[1].metrics_path"));
  EXPECT_THAT(text, HasSubstr("\"1bad\" is not a label name"));
  EXPECT_THAT(text, HasSubstr("must end in .json, .yml or .yaml"));
  EXPECT_THAT(text, HasSubstr("basic_auth and authorization are mutually exclusive"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[1].body_size_limit"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[1].follow_redirects"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[2].job_name"));
  EXPECT_THAT(text, HasSubstr("scrape_configs[2].scrape_interval"));
  config::ConfigErrors missing;
  parse("{}", missing);
  EXPECT_THAT(missing.toString(), HasSubstr("receivers.prometheus.config"));
}

TEST(PrometheusConfigTest, DurationsAndSizes) {
  EXPECT_EQ(*parsePrometheusDuration("15s"), absl::Seconds(15));
  EXPECT_EQ(*parsePrometheusDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*parsePrometheusDuration("100ms"), absl::Milliseconds(100));
  EXPECT_EQ(*parsePrometheusDuration("1m500ms"), absl::Milliseconds(60500));
  EXPECT_EQ(*parsePrometheusDuration("2d"), absl::Hours(48));
  EXPECT_EQ(*parsePrometheusDuration("1w"), absl::Hours(168));
  EXPECT_EQ(*parsePrometheusDuration("1y"), absl::Hours(365 * 24));
  EXPECT_EQ(*parsePrometheusDuration("0"), absl::ZeroDuration());
  EXPECT_FALSE(parsePrometheusDuration("1.5s").ok());
  EXPECT_FALSE(parsePrometheusDuration("30s1m").ok());  // largest unit first
  EXPECT_FALSE(parsePrometheusDuration("10").ok());
  EXPECT_FALSE(parsePrometheusDuration("").ok());
  EXPECT_EQ(formatPrometheusDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(formatPrometheusDuration(absl::Milliseconds(1500)), "1s500ms");
  EXPECT_EQ(formatPrometheusDuration(absl::Hours(24)), "1d");
  EXPECT_EQ(*parsePrometheusSize("512KB"), 512u << 10);
  EXPECT_EQ(*parsePrometheusSize("10MiB"), 10u << 20);
  EXPECT_EQ(*parsePrometheusSize("1gb"), uint64_t{1} << 30);
  EXPECT_EQ(*parsePrometheusSize("4096"), 4096u);
  EXPECT_EQ(*parsePrometheusSize("0"), 0u);
  EXPECT_FALSE(parsePrometheusSize("10XB").ok());
  EXPECT_FALSE(parsePrometheusSize("MB").ok());
}

ScrapeConfig job(const std::string& yaml) {
  return parseOk("config:\n  scrape_configs:\n    - job_name: j\n      scrape_interval: 15s\n" +
                 yaml)
      .scrape_configs[0];
}

TEST(PrometheusTargetsTest, LabelsUrlAndInstance) {
  ScrapeConfig c = job(R"(      metrics_path: /m
      params: {q: ['a b', c]}
)");
  TargetResolution r = resolveTargets(
      c, {TargetGroup{{"host1:9100", "host2", "[::1]:9200"}, {{"env", "prod"}}, "static"}});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.targets.size(), 3u);
  const ResolvedTarget& t = r.targets[0];
  EXPECT_EQ(t.url(), "http://host1:9100/m?q=a+b&q=c");
  EXPECT_EQ(t.target.job, "j");
  EXPECT_EQ(t.target.instance, "host1:9100");
  EXPECT_EQ(t.target.labels,
            (LabelPairs{{"env", "prod"}, {"instance", "host1:9100"}, {"job", "j"}}));
  EXPECT_EQ(t.interval, absl::Seconds(15));
  EXPECT_EQ(t.timeout, absl::Seconds(10));
  // No port: the scheme's, in the instance too (Prometheus 2.x).
  EXPECT_EQ(r.targets[1].target.instance, "host2:80");
  EXPECT_EQ(r.targets[1].port, 80);
  EXPECT_EQ(r.targets[2].host, "::1");
  EXPECT_EQ(r.targets[2].url(), "http://[::1]:9200/m?q=a+b&q=c");
}

TEST(PrometheusTargetsTest, RelabelingDropsRewritesAndOverrides) {
  ScrapeConfig c = job(R"(      relabel_configs:
        - {source_labels: [env], regex: dev, action: drop}
        - {source_labels: [__address__], regex: '(.*):9100', target_label: __address__, replacement: '$1:9200'}
        - {target_label: __scheme__, replacement: https}
        - {target_label: __metrics_path__, replacement: /federate}
        - {target_label: __param_match, replacement: 'up'}
        - {target_label: __scrape_interval__, replacement: 5s}
        - {target_label: __scrape_timeout__, replacement: 2s}
        - {source_labels: [__meta_zone], target_label: zone}
)");
  TargetResolution r = resolveTargets(
      c, {TargetGroup{{"a:9100"}, {{"env", "prod"}, {"__meta_zone", "z1"}}, "s"},
          TargetGroup{{"b:9100"}, {{"env", "dev"}}, "s"},
          TargetGroup{{"a:9100"}, {{"env", "prod"}, {"__meta_zone", "z1"}}, "again"}});
  EXPECT_EQ(r.dropped, 1u);
  ASSERT_EQ(r.targets.size(), 1u);  // the duplicate is one target
  const ResolvedTarget& t = r.targets[0];
  EXPECT_EQ(t.url(), "https://a:9200/federate?match=up");
  EXPECT_EQ(t.target.scheme, "https");
  EXPECT_EQ(t.target.instance, "a:9200");
  EXPECT_EQ(t.interval, absl::Seconds(5));
  EXPECT_EQ(t.timeout, absl::Seconds(2));
  // __-labels are gone after relabeling.
  EXPECT_EQ(t.target.labels,
            (LabelPairs{{"env", "prod"}, {"instance", "a:9200"}, {"job", "j"}, {"zone", "z1"}}));
}

TEST(PrometheusTargetsTest, BadTargetsAreReported) {
  ScrapeConfig c = job(R"(      relabel_configs:
        - {source_labels: [bad], regex: 'interval', target_label: __scrape_timeout__, replacement: 1m}
)");
  TargetResolution r =
      resolveTargets(c, {TargetGroup{{"a:notaport", "a:70000", "::1", "ok:1"}, {}, "s"},
                         TargetGroup{{"b:1"}, {{"bad", "interval"}}, "s2"}});
  EXPECT_EQ(r.targets.size(), 1u);
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_THAT(r.errors[0], HasSubstr("\"notaport\" is not a port"));
  EXPECT_THAT(r.errors[1], HasSubstr("\"70000\" is not a port"));
  EXPECT_THAT(r.errors[2], HasSubstr("\"::1\" is not a valid address"));
  EXPECT_THAT(r.errors[3], HasSubstr("__scrape_timeout__"));
}

TEST(PrometheusFileSdTest, ParsesJsonAndYaml) {
  auto json = parseTargetGroupsFile(
      "/t.json", R"([{"targets": ["a:1", "b:2"], "labels": {"env": "x"}}, {"targets": ["c:3"]}])");
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ(json->size(), 2u);
  EXPECT_EQ((*json)[0].targets, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ((*json)[0].labels, (LabelPairs{{"env", "x"}, {"__meta_filepath", "/t.json"}}));
  auto yaml = parseTargetGroupsFile("/t.yml", "- targets: [d:4]\n  labels: {team: web}\n");
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ((*yaml)[0].targets, (std::vector<std::string>{"d:4"}));
  EXPECT_TRUE(parseTargetGroupsFile("/e.yml", "").ok());
  for (const char* bad : {"[{not json", "{targets: [a]}", "[{targets: a}]",
                          "[{targets: [a], x: 1}]", "[{labels: {'1x': y}}]"}) {
    auto r = parseTargetGroupsFile("/bad.json", bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_THAT(std::string(r.status().message()), HasSubstr("/bad.json")) << bad;
    }
  }
}

}  // namespace
}  // namespace otlpd::receivers::prometheus
