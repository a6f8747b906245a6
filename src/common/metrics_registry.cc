#include "common/metrics_registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace otlpd::common {
namespace {

bool isValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Names starting with "__" are reserved for Prometheus' own use.
bool isValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void appendEscaped(std::string& out, std::string_view s, bool escape_quotes) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        out += escape_quotes ? "\\\"" : "\"";
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string renderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    assert(isValidLabelName(labels[i].first) && "invalid Prometheus label name");
    if (i > 0) out.push_back(',');
    out += labels[i].first;
    out += "=\"";
    appendEscaped(out, labels[i].second, /*escape_quotes=*/true);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string formatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

std::string formatUint(uint64_t v) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

// Small /proc files only; reads without the iostream machinery and never throws on I/O errors.
std::optional<std::string> readProcFile(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

// Whitespace-separated fields of a /proc line.
std::vector<std::string_view> splitFields(std::string_view s) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\n') ++i;
    if (i > start) fields.push_back(s.substr(start, i - start));
  }
  return fields;
}

std::optional<uint64_t> parseUint(std::string_view s) {
  uint64_t v = 0;
  const auto result = std::from_chars(s.data(), s.data() + s.size(), v);
  if (result.ec != std::errc() || result.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

struct Sample {
  std::string labels;
  std::string value;
};

struct FamilySnapshot {
  std::string help;
  const char* type;
  std::vector<Sample> samples;
};

using Snapshot = std::map<std::string, FamilySnapshot, std::less<>>;

void addProcessFamily(Snapshot& snapshot, const char* name, const char* help, const char* type,
                      std::string value) {
  // A registered metric of the same name wins; two families of one name would be invalid.
  if (snapshot.find(name) != snapshot.end()) return;
  snapshot.emplace(name, FamilySnapshot{help, type, {Sample{{}, std::move(value)}}});
}

std::optional<size_t> countOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  // The directory listing itself holds one descriptor while it is read.
  return count > 0 ? count - 1 : 0;
}

void addProcessMetrics(Snapshot& snapshot) {
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const long page_size = ::sysconf(_SC_PAGESIZE);

  if (auto stat = readProcFile("/proc/self/stat"); stat && ticks_per_second > 0) {
    // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
    const size_t close = stat->rfind(')');
    if (close != std::string::npos) {
      const std::vector<std::string_view> fields =
          splitFields(std::string_view(*stat).substr(close + 1));
      // fields[0] is field 3 (state) of proc(5); utime is field 14.
      auto field = [&fields](size_t proc_field) -> std::optional<uint64_t> {
        const size_t i = proc_field - 3;
        if (i >= fields.size()) return std::nullopt;
        return parseUint(fields[i]);
      };
      const auto utime = field(14);
      const auto stime = field(15);
      if (utime && stime) {
        addProcessFamily(snapshot, "process_cpu_seconds_total",
                         "User and system CPU time used, in seconds.", "counter",
                         formatDouble(static_cast<double>(*utime + *stime) /
                                      static_cast<double>(ticks_per_second)));
      }
      if (const auto threads = field(20)) {
        addProcessFamily(snapshot, "process_threads", "Number of OS threads in the process.",
                         "gauge", formatUint(*threads));
      }
      const auto start_ticks = field(22);
      std::optional<uint64_t> boot_time;
      if (auto proc_stat = readProcFile("/proc/stat")) {
        const std::string_view text = *proc_stat;
        const size_t pos = text.find("\nbtime ");
        if (pos != std::string_view::npos) {
          const std::string_view rest = text.substr(pos + 7);
          boot_time = parseUint(rest.substr(0, rest.find('\n')));
        }
      }
      if (start_ticks && boot_time) {
        addProcessFamily(snapshot, "process_start_time_seconds",
                         "Start time of the process since the Unix epoch, in seconds.", "gauge",
                         formatDouble(static_cast<double>(*boot_time) +
                                      static_cast<double>(*start_ticks) /
                                          static_cast<double>(ticks_per_second)));
      }
    }
  }

  if (auto statm = readProcFile("/proc/self/statm"); statm && page_size > 0) {
    const std::vector<std::string_view> fields = splitFields(*statm);
    if (fields.size() >= 2) {
      const auto size_pages = parseUint(fields[0]);
      const auto resident_pages = parseUint(fields[1]);
      if (resident_pages) {
        addProcessFamily(snapshot, "process_resident_memory_bytes",
                         "Resident memory size in bytes.", "gauge",
                         formatUint(*resident_pages * static_cast<uint64_t>(page_size)));
      }
      if (size_pages) {
        addProcessFamily(snapshot, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         "gauge", formatUint(*size_pages * static_cast<uint64_t>(page_size)));
      }
    }
  }

  if (const auto fds = countOpenFds()) {
    addProcessFamily(snapshot, "process_open_fds", "Number of open file descriptors.", "gauge",
                     formatUint(*fds));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    addProcessFamily(snapshot, "process_max_fds", "Maximum number of open file descriptors.",
                     "gauge", formatUint(limit.rlim_cur));
  }
}

}  // namespace

MetricsRegistry::MetricsRegistry(ProcessMetrics process_metrics)
    : process_metrics_(process_metrics) {}

MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family* MetricsRegistry::familyFor(std::string_view name, std::string_view help,
                                                    Type type) {
  assert(isValidMetricName(name) && "invalid Prometheus metric name");
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{std::string(help), type, {}, {}}).first;
  }
  if (it->second.type != type) {
    assert(false && "metric registered again with a different type");
    return nullptr;
  }
  return &it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const Labels& labels) {
  std::string key = renderLabels(labels);
  std::lock_guard lock(mu_);
  Family* family = familyFor(name, help, Type::kCounter);
  if (family == nullptr) return *orphan_counters_.emplace_back(std::make_unique<Counter>());
  auto it = family->counters.find(key);
  if (it == family->counters.end()) {
    it = family->counters.emplace(std::move(key), std::make_unique<Counter>()).first;
  }
  return *it->second;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::string key = renderLabels(labels);
  std::lock_guard lock(mu_);
  Family* family = familyFor(name, help, Type::kGauge);
  if (family == nullptr) return *orphan_gauges_.emplace_back(std::make_unique<Gauge>());
  auto it = family->gauges.find(key);
  if (it == family->gauges.end()) {
    it = family->gauges.emplace(std::move(key), std::make_unique<Gauge>()).first;
  }
  return *it->second;
}

uint64_t MetricsRegistry::callbackGauge(std::string_view name, std::string_view help,
                                        const Labels& labels, std::function<double()> fn) {
  assert(fn && "callback gauge without a callback");
  std::string rendered = renderLabels(labels);
  std::string family_help;
  {
    std::lock_guard lock(mu_);
    Family* family = familyFor(name, help, Type::kGauge);
    // A mismatched type still gets an id, so removeCallback() stays valid; it is never called.
    if (family == nullptr) fn = nullptr;
    family_help = family != nullptr ? family->help : std::string(help);
  }
  std::lock_guard lock(callbacks_mu_);
  const uint64_t id = next_callback_id_++;
  callbacks_.emplace(id, CallbackEntry{std::string(name), std::move(family_help),
                                       std::move(rendered), std::move(fn)});
  return id;
}

void MetricsRegistry::removeCallback(uint64_t id) {
  std::lock_guard lock(callbacks_mu_);
  callbacks_.erase(id);
}

std::string MetricsRegistry::renderPrometheus() const {
  Snapshot snapshot;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, family] : families_) {
      FamilySnapshot& snap = snapshot[name];
      snap.help = family.help;
      if (family.type == Type::kCounter) {
        snap.type = "counter";
        for (const auto& [labels, counter] : family.counters) {
          snap.samples.push_back({labels, formatUint(counter->value())});
        }
      } else {
        snap.type = "gauge";
        for (const auto& [labels, gauge] : family.gauges) {
          snap.samples.push_back({labels, formatDouble(gauge->value())});
        }
      }
    }
  }
  {
    std::lock_guard lock(callbacks_mu_);
    for (const auto& [id, entry] : callbacks_) {
      if (!entry.fn) continue;
      double value;
      try {
        value = entry.fn();
      } catch (...) {
        continue;  // a failing callback loses its sample, not the whole scrape
      }
      auto it = snapshot.find(entry.name);
      if (it == snapshot.end()) {
        it = snapshot.emplace(entry.name, FamilySnapshot{entry.help, "gauge", {}}).first;
      }
      it->second.samples.push_back({entry.rendered_labels, formatDouble(value)});
    }
  }
  if (process_metrics_ == ProcessMetrics::kInclude) addProcessMetrics(snapshot);
  for (auto& [name, family] : snapshot) {
    std::stable_sort(family.samples.begin(), family.samples.end(),
                     [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
  }

  std::string out;
  for (const auto& [name, family] : snapshot) {
    if (family.samples.empty()) continue;
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    appendEscaped(out, family.help, /*escape_quotes=*/false);
    out += "\n# TYPE ";
    out += name;
    out.push_back(' ');
    out += family.type;
    out.push_back('\n');
    for (const Sample& sample : family.samples) {
      out += name;
      out += sample.labels;
      out.push_back(' ');
      out += sample.value;
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace otlpd::common
