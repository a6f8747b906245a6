#include "exporters/prometheusremotewrite/config.h"

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "prometheus/otel_names.h"

namespace otlpd::exporters::prometheusremotewrite {
namespace {

std::map<std::string, std::string> readStringMap(config::ConfigNode& node, std::string_view key) {
  std::map<std::string, std::string> out;
  if (!node.has(key)) return out;
  config::ConfigNode m = node.child(key);
  if (!m.yaml().IsMap()) {
    node.addError(key, "must be a mapping of names to values");
    return out;
  }
  for (const auto& kv : m.yaml()) {
    const std::string name = kv.first.as<std::string>("");
    out[name] = m.getString(name, "");
  }
  return out;
}

}  // namespace

RemoteWriteConfig parseRemoteWriteConfig(config::ConfigNode& node) {
  RemoteWriteConfig c;
  // The Collector's defaults for this exporter: a short timeout and quick retries, since a
  // remote-write endpoint is usually near and a slow one should not hold samples for long.
  c.helper.timeout = absl::Seconds(5);
  c.helper.retry.initial_interval = absl::Milliseconds(50);
  c.helper.retry.max_interval = absl::Milliseconds(200);
  c.helper.retry.max_elapsed_time = absl::Minutes(1);
  const bool retry_set = node.has("retry_on_failure");
  const helper::HelperConfig defaults = c.helper;
  c.helper = helper::parseHelperConfig(node);
  if (!node.has("timeout")) c.helper.timeout = defaults.timeout;
  if (!retry_set) c.helper.retry = defaults.retry;
  {
    config::ConfigNode r = node.child("retry_on_failure");
    if (retry_set) {
      // Keys the user left out keep this exporter's defaults, not the helper's.
      if (!r.has("initial_interval"))
        c.helper.retry.initial_interval = defaults.retry.initial_interval;
      if (!r.has("max_interval")) c.helper.retry.max_interval = defaults.retry.max_interval;
      if (!r.has("max_elapsed_time"))
        c.helper.retry.max_elapsed_time = defaults.retry.max_elapsed_time;
    }
  }

  // remote_write_queue is this exporter's queue in the Collector; it sets the helper's.
  c.helper.queue.queue_size = 10000;
  c.helper.queue.num_consumers = 5;
  config::ConfigNode q = node.child("remote_write_queue");
  c.helper.queue.enabled = q.getBool("enabled", c.helper.queue.enabled);
  c.helper.queue.queue_size = q.getInt("queue_size", c.helper.queue.queue_size, 1);
  c.helper.queue.num_consumers =
      static_cast<int>(q.getInt("num_consumers", c.helper.queue.num_consumers, 1, 1024));
  q.rejectUnknownKeys();

  const std::string endpoint = node.getString("endpoint", "");
  if (endpoint.empty()) {
    node.addError("endpoint", "is required (e.g. http://prometheus:9090/api/v1/write)");
  } else if (auto url = otlp_http::parseHttpUrl(endpoint); url.ok()) {
    c.url = *std::move(url);
  } else {
    node.addError("endpoint", std::string(url.status().message()));
  }
  for (auto& [k, v] : readStringMap(node, "headers")) c.headers[absl::AsciiStrToLower(k)] = v;
  c.external_labels = readStringMap(node, "external_labels");
  c.name_space = node.getString("namespace", "");
  c.add_metric_suffixes = node.getBool("add_metric_suffixes", c.add_metric_suffixes);
  config::ConfigNode conversion = node.child("resource_to_telemetry_conversion");
  c.resource_to_telemetry = conversion.getBool("enabled", c.resource_to_telemetry);
  conversion.rejectUnknownKeys();
  config::ConfigNode target_info = node.child("target_info");
  c.target_info = target_info.getBool("enabled", c.target_info);
  target_info.rejectUnknownKeys();
  c.max_batch_size_bytes = static_cast<size_t>(
      node.getInt("max_batch_size_bytes", static_cast<int64_t>(c.max_batch_size_bytes), 1024));
  c.max_isolation_requests =
      static_cast<int>(node.getInt("max_isolation_requests", c.max_isolation_requests, 0, 100000));

  config::ConfigNode t = node.child("tls");
  helper::parseTlsClientConfig(t, c.tls);
  return c;
}

otlpd::prometheus::SeriesOptions seriesOptions(const RemoteWriteConfig& c) {
  otlpd::prometheus::SeriesOptions o;
  o.names.name_space = c.name_space;
  o.names.add_suffixes = c.add_metric_suffixes;
  o.labels.resource_to_telemetry = c.resource_to_telemetry;
  for (const auto& [k, v] : c.external_labels) o.labels.extra_labels.emplace_back(k, v);
  o.target_info = c.target_info;
  return o;
}

Answer classifyStatus(int status) {
  if (status >= 200 && status < 300) return Answer::kDelivered;
  if (status == 429 || status >= 500) return Answer::kRetry;
  if (status == 400) return Answer::kBadData;
  return Answer::kRefused;
}

}  // namespace otlpd::exporters::prometheusremotewrite
