#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::common {

// Rendered in the given order; the order is part of a series' identity.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Monotonic count. add() is a relaxed atomic so hot paths pay no lock; callers look the counter
// up once and keep the reference.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Self-telemetry, scraped as Prometheus text exposition format 0.0.4.
class MetricsRegistry {
 public:
  // Tests of the exact output leave out the process_* families, whose values vary.
  enum class ProcessMetrics { kInclude, kExclude };

  MetricsRegistry() : MetricsRegistry(ProcessMetrics::kInclude) {}
  explicit MetricsRegistry(ProcessMetrics process_metrics);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;
  ~MetricsRegistry();

  // Same name + labels returns the same object; references stay valid for the registry's
  // lifetime. The first registration of a name fixes its help and type; asking for a name
  // with another type is a programming error (asserts; without asserts the returned metric
  // is never rendered).
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});

  // A gauge computed at scrape time (e.g. a queue's size). `fn` runs on the scraping thread
  // without the registry's lock held, so it may itself register metrics. Returns an id for
  // removeCallback().
  uint64_t callbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                         std::function<double()> fn);
  // After this returns the callback is not running and never runs again, so the caller may
  // destroy whatever it captured.
  void removeCallback(uint64_t id);

  // Families sorted by name, "# HELP" and "# TYPE" once per family, then the process_* families
  // (CPU, memory, fds, start time, threads) unless excluded.
  std::string renderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge };

  struct Family {
    std::string help;
    Type type;
    // Keyed by the rendered label set, which is also what the scrape prints.
    std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters;
    std::map<std::string, std::unique_ptr<Gauge>, std::less<>> gauges;
  };

  struct CallbackEntry {
    std::string name;
    std::string help;
    std::string rendered_labels;
    std::function<double()> fn;
  };

  Family* familyFor(std::string_view name, std::string_view help, Type type);

  const ProcessMetrics process_metrics_;

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  // Metrics handed out after a type mismatch; kept alive, never rendered.
  std::vector<std::unique_ptr<Counter>> orphan_counters_;
  std::vector<std::unique_ptr<Gauge>> orphan_gauges_;

  // Held while callbacks run, so removeCallback() can wait for a running one to finish.
  // Never taken together with mu_.
  mutable std::mutex callbacks_mu_;
  std::map<uint64_t, CallbackEntry> callbacks_;
  uint64_t next_callback_id_ = 1;
};

}  // namespace otlpd::common
