// Who the loadbalancing exporter's backends are: the Collector's `static` resolver (a fixed list)
// and `dns` resolver (a hostname looked up every `interval`, each address a backend on `port`).
// The exporter only sees the interface, so tests drive membership changes with their own.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics_registry.h"

namespace otlpd::exporters::loadbalancing {

class Resolver {
 public:
  // The whole membership, endpoints as "host:port", sorted and without duplicates.
  using Callback = std::function<void(std::vector<std::string> endpoints)>;

  virtual ~Resolver() = default;
  // Reports the first membership through `on_change` before returning when it has one (static:
  // always; dns: when the first lookup answers within its timeout), and every later change from
  // a thread of its own. Calls to `on_change` never overlap.
  virtual void start(Callback on_change) = 0;
  // After it returns `on_change` is not running and is never called again.
  virtual void shutdown() = 0;
  // "static", "dns": the `resolver` label of the resolution counters.
  virtual std::string_view type() const = 0;
};

// Where a resolver counts its resolutions (the Collector's num_resolutions{success}).
struct ResolutionCounters {
  common::Counter* succeeded = nullptr;
  common::Counter* failed = nullptr;
};

// "host" → "host:4317"; an address or name that has a port stays as it is. IPv6 addresses are
// written in brackets ("[::1]:4317").
std::string withDefaultPort(std::string_view endpoint, int default_port);

class StaticResolver final : public Resolver {
 public:
  StaticResolver(std::vector<std::string> endpoints, ResolutionCounters counters);
  void start(Callback on_change) override;
  void shutdown() override {}
  std::string_view type() const override { return "static"; }

 private:
  std::vector<std::string> endpoints_;
  ResolutionCounters counters_;
};

struct DnsResolverConfig {
  std::string hostname;
  int port = 4317;
  absl::Duration interval = absl::Seconds(5);
  absl::Duration timeout = absl::Seconds(1);
};

// The addresses a hostname resolves to, as text ("127.0.0.1", "::1").
using LookupFunction =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& hostname)>;
// getaddrinfo(3): the system's resolver (/etc/hosts, DNS), IPv4 and IPv6.
LookupFunction systemLookup();

// Looks the hostname up at start and every `interval` after, each lookup on a thread of its own
// so that one that hangs is abandoned after `timeout` (and no second one starts while it runs).
// A failed lookup keeps the membership as it was: a DNS outage does not empty the backend list.
// A lookup that succeeds with other addresses changes it.
class DnsResolver final : public Resolver {
 public:
  DnsResolver(DnsResolverConfig config, LookupFunction lookup, ResolutionCounters counters);
  ~DnsResolver() override { shutdown(); }
  void start(Callback on_change) override;
  void shutdown() override;
  std::string_view type() const override { return "dns"; }

 private:
  struct Pending;
  void resolve();
  absl::StatusOr<std::vector<std::string>> lookupWithTimeout();

  const DnsResolverConfig config_;
  const LookupFunction lookup_;
  const ResolutionCounters counters_;
  Callback on_change_;
  std::optional<std::vector<std::string>> last_;
  bool failing_ = false;  // the last lookup failed (logged once per outage)
  std::shared_ptr<Pending> pending_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace otlpd::exporters::loadbalancing
