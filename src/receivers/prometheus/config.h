// The prometheus receiver's config: the Collector's `config:` block, which is Prometheus's own
// configuration (`global`, `scrape_configs`), read with Prometheus's defaults and rules. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config_node.h"
#include "prometheus/relabel.h"

namespace otlpd::receivers::prometheus {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Targets as service discovery hands them over: addresses plus labels for all of them.
struct TargetGroup {
  std::vector<std::string> targets;
  LabelPairs labels;
  std::string source;  // "static_configs[0]", a file path
};

struct FileSdConfig {
  std::vector<std::string> files;  // glob patterns ending in .json, .yml or .yaml
  absl::Duration refresh_interval = absl::Minutes(5);
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "", TLS10, TLS11, TLS12, TLS13
};

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;
};

struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;
};

// When body_size_limit is unset (Prometheus: no limit), a body may still not exceed this.
inline constexpr uint64_t kDefaultBodySizeLimit = uint64_t{64} << 20;

struct ScrapeConfig {
  std::string job_name;
  absl::Duration scrape_interval = absl::Minutes(1);
  absl::Duration scrape_timeout = absl::Seconds(10);
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  TlsConfig tls_config;
  std::vector<otlpd::prometheus::RelabelRule> relabel_configs;
  std::vector<otlpd::prometheus::RelabelRule> metric_relabel_configs;
  uint64_t sample_limit = 0;
  uint64_t body_size_limit = 0;  // 0: kDefaultBodySizeLimit
};

struct PrometheusReceiverConfig {
  std::vector<ScrapeConfig> scrape_configs;
};

// Reads the receiver's keys; every problem goes to the node's error list with its path.
PrometheusReceiverConfig parsePrometheusReceiverConfig(config::ConfigNode& node);

// Prometheus durations: "15s", "1m30s", "100ms", "1h", "2d", "1w", "1y"; "0" for zero.
absl::StatusOr<absl::Duration> parsePrometheusDuration(std::string_view text);
// Prometheus sizes (powers of 1024 whatever the spelling): "512KB", "10MiB", "1GB", "0"; a bare
// number is bytes.
absl::StatusOr<uint64_t> parsePrometheusSize(std::string_view text);
// "15s", "1m30s": as Prometheus prints durations (in __scrape_interval__ labels).
std::string formatPrometheusDuration(absl::Duration d);

}  // namespace otlpd::receivers::prometheus
