#include "receivers/prometheus/targets.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/strings.h"

namespace otlpd::receivers::prometheus {
namespace {

using otlpd::prometheus::RelabelLabels;

// Go's url.QueryEscape: unreserved characters as they are, space as '+', the rest %XX.
void queryEscape(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
}

// "host:port", "[v6]:port" or a bare host; false when it is none of these.
bool splitAddress(std::string_view address, std::string& host, std::string& port) {
  port.clear();
  if (address.empty() || address.find('/') != std::string_view::npos) return false;
  if (address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(address.substr(1, close - 1));
    std::string_view rest = address.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() == 1) return false;
    port = std::string(rest.substr(1));
  } else {
    const size_t colon = address.find(':');
    if (colon == std::string_view::npos) {
      host = std::string(address);
      return true;
    }
    if (address.find(':', colon + 1) != std::string_view::npos) return false;  // bare IPv6
    host = std::string(address.substr(0, colon));
    port = std::string(address.substr(colon + 1));
  }
  if (host.empty()) return false;
  return !port.empty() || address.back() != ':';
}

}  // namespace

std::string ResolvedTarget::url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return strCat(target.scheme, "://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port,
                path_and_query);
}

std::string ResolvedTarget::identity() const {
  std::string id = url();
  for (const auto& [n, v] : target.labels) strAppend(&id, "\xff", n, "=", v);
  return id;
}

TargetResolution resolveTargets(const ScrapeConfig& config,
                                const std::vector<TargetGroup>& groups) {
  TargetResolution result;
  std::set<std::string> seen;
  const std::string interval_text = formatPrometheusDuration(config.scrape_interval);
  const std::string timeout_text = formatPrometheusDuration(config.scrape_timeout);
  RelabelLabels lb;
  for (const TargetGroup& group : groups) {
    for (const std::string& address : group.targets) {
      lb.clearStorage();
      // The group's labels, the address, then the job's defaults where the group set none.
      for (const auto& [n, v] : group.labels) lb.set(n, v);
      lb.set("__address__", address);
      auto setDefault = [&](std::string_view name, std::string_view value) {
        if (lb.get(name).empty()) lb.set(name, value);
      };
      setDefault("job", config.job_name);
      setDefault("__scrape_interval__", interval_text);
      setDefault("__scrape_timeout__", timeout_text);
      setDefault("__metrics_path__", config.metrics_path);
      setDefault("__scheme__", config.scheme);
      for (const auto& [name, values] : config.params) {
        if (!values.empty()) {
          const std::string label = strCat("__param_", name);
          if (lb.get(label).empty()) lb.setOwned(label, values.front());
        }
      }
      if (!otlpd::prometheus::relabel(config.relabel_configs, lb)) {
        ++result.dropped;
        continue;
      }
      const std::string where = strCat(group.source, " target \"", address, "\": ");
      ResolvedTarget t;
      std::string port;
      const std::string addr(lb.get("__address__"));
      if (addr.empty() || !splitAddress(addr, t.host, port)) {
        result.errors.push_back(strCat(where, "\"", addr, "\" is not a valid address"));
        continue;
      }
      t.target.scheme = std::string(lb.get("__scheme__"));
      if (t.target.scheme != "http" && t.target.scheme != "https") {
        result.errors.push_back(
            strCat(where, "scheme \"", t.target.scheme, "\" is not http or https"));
        continue;
      }
      if (port.empty()) {
        // As Prometheus 2.x: the scheme's port, and __address__ says so.
        port = t.target.scheme == "https" ? "443" : "80";
        lb.setOwned("__address__", strCat(addr, ":", port));
      }
      unsigned value = 0;
      auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
        result.errors.push_back(strCat(where, "\"", port, "\" is not a port"));
        continue;
      }
      t.port = static_cast<uint16_t>(value);
      auto interval = parsePrometheusDuration(lb.get("__scrape_interval__"));
      auto timeout = parsePrometheusDuration(lb.get("__scrape_timeout__"));
      if (!interval.ok() || !timeout.ok() || *interval <= absl::ZeroDuration() ||
          *timeout <= absl::ZeroDuration() || *timeout > *interval) {
        result.errors.push_back(strCat(where, "invalid __scrape_interval__ \"",
                                       lb.get("__scrape_interval__"), "\" or __scrape_timeout__ \"",
                                       lb.get("__scrape_timeout__"), "\""));
        continue;
      }
      t.interval = *interval;
      t.timeout = *timeout;

      // The query: the configured params, the first value replaced by a __param_ label.
      std::map<std::string, std::vector<std::string>> params = config.params;
      for (const auto& [n, v] : lb.labels()) {
        if (n.starts_with("__param_")) {
          auto& values = params[std::string(n.substr(8))];
          if (values.empty()) {
            values.emplace_back(v);
          } else {
            values[0] = std::string(v);
          }
        }
      }
      t.path_and_query = std::string(lb.get("__metrics_path__"));
      if (t.path_and_query.empty() || t.path_and_query.front() != '/') {
        t.path_and_query.insert(0, "/");
      }
      char separator = t.path_and_query.find('?') == std::string::npos ? '?' : '&';
      for (const auto& [name, values] : params) {
        for (const std::string& v : values) {
          t.path_and_query.push_back(separator);
          separator = '&';
          queryEscape(name, t.path_and_query);
          t.path_and_query.push_back('=');
          queryEscape(v, t.path_and_query);
        }
      }

      if (lb.get("instance").empty()) lb.setOwned("instance", std::string(lb.get("__address__")));
      for (const auto& [n, v] : lb.sorted()) {
        if (n.starts_with("__") || v.empty()) continue;
        t.target.labels.emplace_back(n, v);
      }
      t.target.job = std::string(lb.get("job"));
      t.target.instance = std::string(lb.get("instance"));
      if (!seen.insert(t.identity()).second) continue;
      result.targets.push_back(std::move(t));
    }
  }
  return result;
}

}  // namespace otlpd::receivers::prometheus
