// The prometheusremotewrite exporter's config (the Collector's keys; docs/PROMETHEUS.md)
// and what a remote-write endpoint's answer means. Pure.
#pragma once

#include <map>
#include <string>

#include "config/config_node.h"
#include "exporters/helper/config.h"
#include "exporters/helper/otlp_client_config.h"
#include "exporters/otlp_http/config.h"
#include "prometheus/series_translator.h"

namespace otlpd::exporters::prometheusremotewrite {

struct RemoteWriteConfig {
  helper::HelperConfig helper;
  otlp_http::HttpUrl url;
  std::map<std::string, std::string> headers;
  helper::TlsClientConfig tls;
  std::string name_space;
  std::map<std::string, std::string> external_labels;
  bool resource_to_telemetry = false;
  bool target_info = true;
  bool add_metric_suffixes = true;
  // Requests are cut so that each stays below this many (uncompressed) bytes.
  size_t max_batch_size_bytes = 3'000'000;
  // At most this many extra requests per batch to find the series an endpoint refuses with 400.
  int max_isolation_requests = 64;
};

RemoteWriteConfig parseRemoteWriteConfig(config::ConfigNode& node);

// The translator options the config implies (views into `config`, which must outlive them).
otlpd::prometheus::SeriesOptions seriesOptions(const RemoteWriteConfig& config);

// What an HTTP status means for a remote-write request.
enum class Answer {
  kDelivered,  // 2xx
  kBadData,    // 400: some sample of the request was refused; the rest of it was not stored
  kRefused,    // other 4xx but 429: the endpoint refuses us (auth, size, path): permanent
  kRetry,      // 429 and 5xx: try again later, honouring Retry-After
};
Answer classifyStatus(int status);

}  // namespace otlpd::exporters::prometheusremotewrite
