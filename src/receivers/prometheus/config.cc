#include "receivers/prometheus/config.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace otlpd::receivers::prometheus {
namespace {

using otlpd::prometheus::readRelabelRules;
using otlpd::prometheus::validLabelName;

struct Unit {
  std::string_view name;
  int64_t millis;
};
constexpr Unit kDurationUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                   {"w", 7LL * 24 * 3600 * 1000},
                                   {"d", 24LL * 3600 * 1000},
                                   {"h", 3600LL * 1000},
                                   {"m", 60LL * 1000},
                                   {"s", 1000},
                                   {"ms", 1}};

std::optional<absl::Duration> readDuration(config::ConfigNode& node, std::string_view key) {
  std::optional<YAML::Node> v = node.getYaml(key);
  if (!v) return std::nullopt;
  if (!v->IsScalar()) {
    node.addError(key, "must be a duration such as 15s, 1m or 1h");
    return std::nullopt;
  }
  auto d = parsePrometheusDuration(v->Scalar());
  if (!d.ok()) {
    node.addError(key, std::string(d.status().message()));
    return std::nullopt;
  }
  return *d;
}

LabelPairs readLabels(config::ConfigNode& node, std::string_view key) {
  LabelPairs labels;
  std::optional<YAML::Node> v = node.getYaml(key);
  if (!v) return labels;
  if (!v->IsMap()) {
    node.addError(key, "must be a mapping of label names to values");
    return labels;
  }
  for (const auto& kv : *v) {
    const std::string name = kv.first.Scalar();
    if (!validLabelName(name)) {
      node.addError(key, strCat("\"", name, "\" is not a label name"));
      continue;
    }
    if (!kv.second.IsScalar()) {
      node.addError(key, strCat("the value of ", name, " must be a string"));
      continue;
    }
    labels.emplace_back(name, kv.second.Scalar());
  }
  return labels;
}

void readTls(config::ConfigNode& parent, TlsConfig& tls) {
  if (!parent.has("tls_config")) return;
  config::ConfigNode node = parent.child("tls_config");
  tls.ca_file = node.getString("ca_file", "");
  tls.cert_file = node.getString("cert_file", "");
  tls.key_file = node.getString("key_file", "");
  tls.server_name = node.getString("server_name", "");
  tls.insecure_skip_verify = node.getBool("insecure_skip_verify", false);
  tls.min_version = node.getString("min_version", "");
  if (!tls.min_version.empty() && tls.min_version != "TLS10" && tls.min_version != "TLS11" &&
      tls.min_version != "TLS12" && tls.min_version != "TLS13") {
    node.addError("min_version", "must be TLS10, TLS11, TLS12 or TLS13");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    node.addError(tls.cert_file.empty() ? "key_file" : "cert_file",
                  "cert_file and key_file go together");
  }
  node.rejectUnknownKeys();
}

ScrapeConfig readScrapeConfig(config::ConfigNode& node, absl::Duration global_interval,
                              absl::Duration global_timeout) {
  ScrapeConfig c;
  c.job_name = node.getString("job_name", "");
  if (c.job_name.empty()) node.addError("job_name", "is required");
  c.scrape_interval = readDuration(node, "scrape_interval").value_or(global_interval);
  if (c.scrape_interval <= absl::ZeroDuration()) {
    node.addError("scrape_interval", "must be above 0");
    c.scrape_interval = global_interval;
  }
  if (auto timeout = readDuration(node, "scrape_timeout")) {
    c.scrape_timeout = *timeout;
    if (c.scrape_timeout > c.scrape_interval) {
      node.addError("scrape_timeout", "must not be greater than scrape_interval");
    }
  } else {
    // As Prometheus: the global timeout, but never more than this job's interval.
    c.scrape_timeout = std::min(global_timeout, c.scrape_interval);
  }
  if (c.scrape_timeout <= absl::ZeroDuration()) {
    node.addError("scrape_timeout", "must be above 0");
    c.scrape_timeout = c.scrape_interval;
  }
  c.metrics_path = node.getString("metrics_path", c.metrics_path);
  if (c.metrics_path.empty() || c.metrics_path[0] != '/') {
    node.addError("metrics_path", "must start with /");
  }
  c.scheme = absl::AsciiStrToLower(node.getString("scheme", c.scheme));
  if (c.scheme != "http" && c.scheme != "https") node.addError("scheme", "must be http or https");
  if (std::optional<YAML::Node> params = node.getYaml("params")) {
    if (!params->IsMap()) {
      node.addError("params", "must be a mapping of names to lists of values");
    } else {
      for (const auto& kv : *params) {
        std::vector<std::string>& values = c.params[kv.first.Scalar()];
        if (kv.second.IsScalar()) {
          values.push_back(kv.second.Scalar());
        } else if (kv.second.IsSequence()) {
          for (const auto& v : kv.second) values.push_back(v.Scalar());
        } else {
          node.addError("params", strCat("the values of ", kv.first.Scalar(), " must be a list"));
        }
      }
    }
  }
  c.honor_labels = node.getBool("honor_labels", false);
  c.honor_timestamps = node.getBool("honor_timestamps", true);
  for (config::ConfigNode& sc : node.getMappingList("static_configs")) {
    TargetGroup group;
    group.targets = sc.getStringList("targets");
    group.labels = readLabels(sc, "labels");
    // Any string: relabeling may move it elsewhere (a probe's __param_target) and set the
    // address; what is left in __address__ is checked when the target is built.
    group.source = sc.path();
    sc.rejectUnknownKeys();
    c.static_configs.push_back(std::move(group));
  }
  for (config::ConfigNode& fs : node.getMappingList("file_sd_configs")) {
    FileSdConfig f;
    f.files = fs.getStringList("files");
    if (f.files.empty()) fs.addError("files", "needs at least one file pattern");
    for (const std::string& pattern : f.files) {
      if (!(pattern.ends_with(".json") || pattern.ends_with(".yml") ||
            pattern.ends_with(".yaml"))) {
        fs.addError("files", strCat("\"", pattern, "\" must end in .json, .yml or .yaml"));
      }
    }
    if (auto refresh = readDuration(fs, "refresh_interval")) f.refresh_interval = *refresh;
    if (f.refresh_interval <= absl::ZeroDuration()) {
      fs.addError("refresh_interval", "must be above 0");
      f.refresh_interval = absl::Minutes(5);
    }
    fs.rejectUnknownKeys();
    c.file_sd_configs.push_back(std::move(f));
  }
  if (node.has("basic_auth")) {
    config::ConfigNode ba = node.child("basic_auth");
    BasicAuth auth;
    auth.username = ba.getString("username", "");
    auth.password = ba.getString("password", "");
    auth.password_file = ba.getString("password_file", "");
    if (!auth.password.empty() && !auth.password_file.empty()) {
      ba.addError("password_file", "password and password_file are mutually exclusive");
    }
    ba.rejectUnknownKeys();
    c.basic_auth = std::move(auth);
  }
  std::optional<Authorization> authorization;
  if (node.has("authorization")) {
    config::ConfigNode az = node.child("authorization");
    Authorization auth;
    auth.type = az.getString("type", auth.type);
    auth.credentials = az.getString("credentials", "");
    auth.credentials_file = az.getString("credentials_file", "");
    if (absl::AsciiStrToLower(auth.type) == "basic") {
      az.addError("type", "Basic is not allowed here; use basic_auth");
    }
    if (!auth.credentials.empty() && !auth.credentials_file.empty()) {
      az.addError("credentials_file", "credentials and credentials_file are mutually exclusive");
    }
    az.rejectUnknownKeys();
    authorization = std::move(auth);
  }
  // Prometheus's older spelling of authorization.
  const std::string bearer_token = node.getString("bearer_token", "");
  const std::string bearer_token_file = node.getString("bearer_token_file", "");
  if (!bearer_token.empty() || !bearer_token_file.empty()) {
    if (authorization) {
      node.addError("bearer_token", "bearer_token and authorization are mutually exclusive");
    } else {
      authorization = Authorization{"Bearer", bearer_token, bearer_token_file};
    }
  }
  if (authorization && c.basic_auth) {
    node.addError("authorization", "basic_auth and authorization are mutually exclusive");
  }
  c.authorization = std::move(authorization);
  readTls(node, c.tls_config);
  c.relabel_configs = readRelabelRules(node, "relabel_configs");
  c.metric_relabel_configs = readRelabelRules(node, "metric_relabel_configs");
  c.sample_limit = static_cast<uint64_t>(node.getInt("sample_limit", 0, 0));
  if (std::optional<YAML::Node> limit = node.getYaml("body_size_limit")) {
    auto bytes = limit->IsScalar() ? parsePrometheusSize(limit->Scalar())
                                   : absl::InvalidArgumentError("must be a size such as 10MB");
    if (bytes.ok()) {
      c.body_size_limit = *bytes;
    } else {
      node.addError("body_size_limit", std::string(bytes.status().message()));
    }
  }
  node.rejectUnknownKeys();
  return c;
}

}  // namespace

absl::StatusOr<absl::Duration> parsePrometheusDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        strCat("invalid duration '", text, "' (use e.g. 15s, 1m30s, 100ms, 1h, 2d)"));
  };
  if (text == "0") return absl::ZeroDuration();
  if (text.empty()) return invalid();
  int64_t total = 0;
  size_t next_unit = 0;  // units must come largest first, each once
  std::string_view rest = text;
  while (!rest.empty()) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc() || n < 0 || ptr == rest.data()) return invalid();
    rest.remove_prefix(static_cast<size_t>(ptr - rest.data()));
    size_t unit = next_unit;
    for (; unit < std::size(kDurationUnits); ++unit) {
      const std::string_view name = kDurationUnits[unit].name;
      // "m" must not take the "m" of "ms".
      if (rest.starts_with(name) && !(name == "m" && rest.starts_with("ms"))) break;
    }
    if (unit == std::size(kDurationUnits)) return invalid();
    if (n > INT64_MAX / kDurationUnits[unit].millis) return invalid();
    total += n * kDurationUnits[unit].millis;
    rest.remove_prefix(kDurationUnits[unit].name.size());
    next_unit = unit + 1;
  }
  return absl::Milliseconds(total);
}

std::string formatPrometheusDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms <= 0) return "0s";
  std::string out;
  for (const Unit& u : kDurationUnits) {
    if (ms >= u.millis) {
      strAppend(&out, ms / u.millis, u.name);
      ms %= u.millis;
    }
  }
  return out;
}

absl::StatusOr<uint64_t> parsePrometheusSize(std::string_view text) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr == text.data()) {
    return absl::InvalidArgumentError(strCat("invalid size '", text, "' (use e.g. 512KB, 10MB)"));
  }
  const std::string unit =
      absl::AsciiStrToUpper(toAbsl(text.substr(static_cast<size_t>(ptr - text.data()))));
  static const std::pair<std::string_view, int> kUnits[] = {
      {"", 0},    {"B", 0},    {"KB", 10}, {"KIB", 10}, {"MB", 20}, {"MIB", 20},
      {"GB", 30}, {"GIB", 30}, {"TB", 40}, {"TIB", 40}, {"PB", 50}, {"PIB", 50}};
  for (const auto& [name, shift] : kUnits) {
    if (unit == name) {
      if (shift > 0 && n > (UINT64_MAX >> shift)) break;
      return n << shift;
    }
  }
  return absl::InvalidArgumentError(strCat("invalid size '", text, "' (use e.g. 512KB, 10MB)"));
}

PrometheusReceiverConfig parsePrometheusReceiverConfig(config::ConfigNode& node) {
  PrometheusReceiverConfig cfg;
  config::ConfigNode prom = node.child("config");
  if (!node.has("config")) node.addError("config", "is required (with scrape_configs)");
  absl::Duration interval = absl::Minutes(1), timeout = absl::Seconds(10);
  if (prom.has("global")) {
    config::ConfigNode global = prom.child("global");
    interval = readDuration(global, "scrape_interval").value_or(interval);
    if (interval <= absl::ZeroDuration()) {
      global.addError("scrape_interval", "must be above 0");
      interval = absl::Minutes(1);
    }
    timeout = readDuration(global, "scrape_timeout").value_or(timeout);
    if (timeout > interval) {
      global.addError("scrape_timeout", "must not be greater than scrape_interval");
    }
    global.rejectUnknownKeys();
  }
  std::set<std::string> jobs;
  for (config::ConfigNode& sc : prom.getMappingList("scrape_configs")) {
    ScrapeConfig c = readScrapeConfig(sc, interval, timeout);
    if (!c.job_name.empty() && !jobs.insert(c.job_name).second) {
      sc.addError("job_name", strCat("\"", c.job_name, "\" is used by another scrape config"));
    }
    cfg.scrape_configs.push_back(std::move(c));
  }
  if (node.has("config") && cfg.scrape_configs.empty()) {
    prom.addError("scrape_configs", "needs at least one scrape config");
  }
  prom.rejectUnknownKeys();
  node.rejectUnknownKeys();
  return cfg;
}

}  // namespace otlpd::receivers::prometheus
