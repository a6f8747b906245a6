#include "exporters/loadbalancing/loadbalancing_exporter.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/strings.h"
#include "exporters/helper/queued_exporter.h"
#include "exporters/otlp_grpc/otlp_grpc_exporter.h"

namespace otlpd::exporters::loadbalancing {
namespace {

using pipeline::Signal;

// Backends are started outside the service's start sequence (a DNS change at any time), and an
// OTLP exporter publishes no endpoint: a host that takes nothing.
class BackendHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

BackendHost& backendHost() {
  static BackendHost host;
  return host;
}

}  // namespace

struct LoadBalancingExporter::Backend {
  std::string endpoint;
  std::unique_ptr<pipeline::Exporter> exporter;
  helper::Failover* failover = nullptr;  // the exporter's, when it has one (otlp_grpc does)
  // While it fails, one share a second still goes to it: its exporter's probe, without which it
  // would never see data again and never recover.
  std::atomic<int64_t> last_probe_ns{0};
  bool probeTurn() {
    const int64_t now = absl::GetCurrentTimeNanos();
    int64_t last = last_probe_ns.load(std::memory_order_relaxed);
    return now - last >= 1'000'000'000 &&
           last_probe_ns.compare_exchange_strong(last, now, std::memory_order_relaxed);
  }
  common::Counter* requests = nullptr;
  common::Counter* items = nullptr;
};

// A membership as consume() sees it: backends[i] is the backend of ring.endpoints()[i].
// The ring of the backends that are not failing, and which backend each of its entries is.
struct LoadBalancingExporter::Fallback {
  std::vector<bool> down;
  HashRing ring;
  std::vector<size_t> backend_of;
};

struct LoadBalancingExporter::Routing {
  HashRing ring;
  std::vector<std::shared_ptr<Backend>> backends;

  // Which backends fail now; nullopt when none does (the common case, one atomic load each).
  std::optional<std::vector<bool>> downNow() const {
    std::optional<std::vector<bool>> down;
    for (size_t i = 0; i < backends.size(); ++i) {
      if (backends[i]->failover == nullptr || !backends[i]->failover->failing()) continue;
      if (!down) down.emplace(backends.size(), false);
      (*down)[i] = true;
    }
    return down;
  }

  // The fallback ring for a set of failing backends (null when all fail); cached, since the set
  // changes only when a backend starts or stops failing.
  std::shared_ptr<const Fallback> fallbackFor(const std::vector<bool>& down) const {
    std::lock_guard lock(fallback_mu);
    if (fallback && fallback->down == down)
      return fallback->backend_of.empty() ? nullptr : fallback;
    auto made = std::make_shared<Fallback>();
    made->down = down;
    std::vector<std::string> healthy;
    for (size_t i = 0; i < backends.size(); ++i) {
      if (!down[i]) healthy.push_back(ring.endpoints()[i]);
    }
    made->ring = HashRing(healthy);
    // Both lists are sorted: the healthy ring's i-th endpoint is the i-th healthy backend.
    for (size_t i = 0; i < backends.size(); ++i) {
      if (!down[i]) made->backend_of.push_back(i);
    }
    fallback = made;
    return made->backend_of.empty() ? nullptr : fallback;
  }

  mutable std::mutex fallback_mu;
  mutable std::shared_ptr<const Fallback> fallback;
};

struct LoadBalancingExporter::Scratch {
  Scratch(Signal signal, RoutingKey key) : regrouper(signal, key) {}
  Regrouper regrouper;
  std::vector<Share> shares;
};

pipeline::ComponentId LoadBalancingExporter::backendId(const pipeline::ComponentId& id,
                                                       const std::string& endpoint) {
  return {id.type, id.name.empty() ? endpoint : strCat(id.name, "/", endpoint)};
}

LoadBalancingExporter::LoadBalancingExporter(const pipeline::CreateSettings& settings,
                                             Signal signal, RoutingKey key,
                                             std::unique_ptr<Resolver> resolver,
                                             BackendFactory backends)
    : id_(settings.id.toString()),
      signal_(signal),
      key_(key),
      resolver_(std::move(resolver)),
      make_backend_(std::move(backends)),
      metrics_(settings.metrics) {
  const std::string item(pipeline::itemName(signal));
  const common::Labels labels = {{"exporter", id_},
                                 {"signal", std::string(pipeline::signalName(signal))}};
  backends_gauge_ = &metrics_.gauge("otlpd_loadbalancer_backends",
                                    "Backends the loadbalancing exporter routes to now.", labels);
  backend_updates_ = &metrics_.counter(
      "otlpd_loadbalancer_backend_updates_total",
      "Membership changes applied (the resolver reported another list of backends).", labels);
  backend_failures_ = &metrics_.counter(
      "otlpd_loadbalancer_backend_failures_total",
      "Backends the resolver reported whose exporter could not be created or started.", labels);
  auto refused = [&](std::string_view reason) {
    return &metrics_.counter(
        strCat("otlpd_loadbalancer_refused_", item, "_total"),
        strCat("Items the loadbalancing exporter refused, by reason (", item, ")."),
        {{"exporter", id_}, {"reason", std::string(reason)}});
  };
  refused_no_backends_ = refused("no_backends");
  refused_by_backend_ = refused("backend_refused");
  refused_malformed_ = refused("malformed");
  rerouted_ = &metrics_.counter(
      strCat("otlpd_loadbalancer_rerouted_", item, "_total"),
      strCat("Items sent to the next healthy backend on the ring because their own backend kept "
             "failing (",
             item, ")."),
      labels);
  unkeyed_ = &metrics_.counter(
      strCat("otlpd_loadbalancer_unkeyed_", item, "_total"),
      strCat("Items without a routing key (no trace id), sent to one backend per request in "
             "turn (",
             item, ")."),
      {{"exporter", id_}});
}

LoadBalancingExporter::~LoadBalancingExporter() {
  (void)shutdown();
}

absl::Status LoadBalancingExporter::start(pipeline::Host&) {
  resolver_->start(
      [this](std::vector<std::string> endpoints) { updateMembership(std::move(endpoints)); });
  std::lock_guard lock(update_mu_);
  return first_start_error_;
}

absl::Status LoadBalancingExporter::shutdown() {
  if (resolver_) resolver_->shutdown();
  std::shared_ptr<const Routing> old;
  {
    std::lock_guard update(update_mu_);
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    absl::WriterMutexLock lock(&routing_mu_);
    old = std::move(routing_);
    routing_.reset();
  }
  backends_gauge_->set(0);
  if (old) shutdownAll(old->backends);
  return absl::OkStatus();
}

void LoadBalancingExporter::shutdownAll(std::vector<std::shared_ptr<Backend>> backends) {
  // Each drains its queue within its own timeout; together they take as long as the slowest.
  std::vector<std::thread> threads;
  threads.reserve(backends.size());
  for (auto& b : backends) {
    threads.emplace_back([b] { (void)b->exporter->shutdown(); });
  }
  for (std::thread& t : threads) t.join();
}

absl::Status LoadBalancingExporter::flush(absl::Time deadline) {
  std::shared_ptr<const Routing> current;
  {
    absl::ReaderMutexLock lock(&routing_mu_);
    current = routing_;
  }
  if (!current) return absl::OkStatus();
  absl::Status first_error;
  for (const auto& b : current->backends) {
    auto* flushable = dynamic_cast<pipeline::Flushable*>(b->exporter.get());
    if (flushable == nullptr) continue;
    absl::Status s = flushable->flush(deadline);
    if (s.ok()) continue;
    s = absl::Status(s.code(), strCat("backend ", b->endpoint, ": ", s.message()));
    if (s.code() == absl::StatusCode::kDeadlineExceeded) return s;
    if (first_error.ok()) first_error = s;
  }
  return first_error;
}

std::vector<std::string> LoadBalancingExporter::backends() const {
  absl::ReaderMutexLock lock(&routing_mu_);
  return routing_ ? routing_->ring.endpoints() : std::vector<std::string>();
}

void LoadBalancingExporter::updateMembership(std::vector<std::string> endpoints) {
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
  std::lock_guard update(update_mu_);
  if (stopped_) return;
  std::shared_ptr<const Routing> current;
  {
    absl::ReaderMutexLock lock(&routing_mu_);
    current = routing_;
  }
  std::map<std::string, std::shared_ptr<Backend>, std::less<>> leaving;
  if (current) {
    for (const auto& b : current->backends) leaving.emplace(b->endpoint, b);
  }
  auto routing = std::make_shared<Routing>();
  std::vector<std::string> live;
  std::vector<std::string> added;
  for (const std::string& endpoint : endpoints) {
    if (auto it = leaving.find(endpoint); it != leaving.end()) {
      live.push_back(endpoint);
      routing->backends.push_back(std::move(it->second));
      leaving.erase(it);
      continue;
    }
    absl::StatusOr<std::unique_ptr<pipeline::Exporter>> made = make_backend_(endpoint);
    helper::Failover* failover = nullptr;
    if (made.ok()) {
      failover = dynamic_cast<helper::Failover*>(made->get());
      if (failover != nullptr) {
        failover->setFailover([this, endpoint](pipeline::Batch&& batch) {
          return takeOver(endpoint, std::move(batch));
        });
      }
    }
    absl::Status started = made.ok() ? (*made)->start(backendHost()) : made.status();
    if (!started.ok()) {
      if (made.ok()) (void)(*made)->shutdown();
      backend_failures_->add();
      logging::error("loadbalancing: backend could not be started; it gets no data",
                     {{"exporter", id_}, {"backend", endpoint}, {"error", started}});
      if (first_membership_ && first_start_error_.ok()) {
        first_start_error_ =
            absl::Status(started.code(), strCat("backend ", endpoint, ": ", started.message()));
      }
      continue;
    }
    auto backend = std::make_shared<Backend>();
    backend->endpoint = endpoint;
    backend->exporter = *std::move(made);
    backend->failover = failover;
    backend->requests =
        &metrics_.counter("otlpd_loadbalancer_backend_requests_total",
                          "Requests the loadbalancing exporter handed to each backend's exporter.",
                          {{"exporter", id_},
                           {"signal", std::string(pipeline::signalName(signal_))},
                           {"backend", endpoint}});
    backend->items = &metrics_.counter(
        strCat("otlpd_loadbalancer_backend_", pipeline::itemName(signal_), "_total"),
        strCat("Items the loadbalancing exporter handed to each backend's exporter (",
               pipeline::itemName(signal_), ")."),
        {{"exporter", id_}, {"backend", endpoint}});
    live.push_back(endpoint);
    added.push_back(endpoint);
    routing->backends.push_back(std::move(backend));
  }
  // `endpoints` is sorted and unique, so `live` is in the ring's order.
  routing->ring = HashRing(live);
  const bool changed = !current || current->ring.endpoints() != routing->ring.endpoints();
  if (changed || first_membership_) {
    {
      absl::WriterMutexLock lock(&routing_mu_);  // waits for consume() calls using the old one
      routing_ = routing;
    }
    backends_gauge_->set(static_cast<double>(live.size()));
    backend_updates_->add();
    logging::info("loadbalancing: backends changed", {{"exporter", id_},
                                                      {"signal", pipeline::signalName(signal_)},
                                                      {"backends", live.size()},
                                                      {"added", added.size()},
                                                      {"removed", leaving.size()}});
  }
  first_membership_ = false;
  std::vector<std::shared_ptr<Backend>> removed;
  for (auto& [endpoint, backend] : leaving) removed.push_back(std::move(backend));
  // What a removed backend still queues gets its drain period (the exporter helper's
  // shutdown); what it cannot deliver then goes to its dead-letter queue.
  shutdownAll(std::move(removed));
}

std::unique_ptr<LoadBalancingExporter::Scratch> LoadBalancingExporter::takeScratch() {
  {
    std::lock_guard lock(scratch_mu_);
    if (!scratch_.empty()) {
      std::unique_ptr<Scratch> s = std::move(scratch_.back());
      scratch_.pop_back();
      return s;
    }
  }
  return std::make_unique<Scratch>(signal_, key_);
}

void LoadBalancingExporter::returnScratch(std::unique_ptr<Scratch> scratch) {
  std::lock_guard lock(scratch_mu_);
  scratch_.push_back(std::move(scratch));
}

absl::Status LoadBalancingExporter::dispatch(const Routing& routing, size_t backend,
                                             pipeline::Batch&& batch) {
  Backend& b = *routing.backends[backend];
  const size_t items = batch.itemCount();
  absl::Status s = b.exporter->consume(std::move(batch));
  if (!s.ok()) {
    refused_by_backend_->add(items);
    return absl::Status(s.code(), strCat("backend ", b.endpoint, ": ", s.message()));
  }
  b.requests->add();
  b.items->add(items);
  return absl::OkStatus();
}

absl::Status LoadBalancingExporter::consume(pipeline::Batch&& batch) {
  absl::ReaderMutexLock lock(&routing_mu_);
  const Routing* routing = routing_.get();
  if (routing == nullptr || routing->backends.empty()) {
    refused_no_backends_->add(batch.itemCount());
    return absl::UnavailableError(strCat("loadbalancing exporter ", id_,
                                         " has no backends to send to (its resolver has "
                                         "reported none); retry later"));
  }
  if (routing->backends.size() == 1) return dispatch(*routing, 0, std::move(batch));

  std::string serialized;
  std::string_view request;
  if (auto wire = batch.wireBytes()) {
    request = *wire;
  } else {
    // Decoded batches (OTLP/JSON, merged ones) are cut in their encoded form too.
    if (!batch.request().SerializeToString(&serialized)) {
      return absl::InternalError("cannot encode the batch for load balancing");
    }
    request = serialized;
  }
  std::unique_ptr<Scratch> scratch = takeScratch();
  RegroupResult result;
  // Items without a key go together, to each backend in turn.
  const size_t unkeyed_backend =
      unkeyed_turn_.fetch_add(1, std::memory_order_relaxed) % routing->backends.size();
  absl::Status s =
      scratch->regrouper.regroup(request, routing->ring, unkeyed_backend, scratch->shares, result);
  if (!s.ok()) {
    returnScratch(std::move(scratch));
    refused_malformed_->add(batch.itemCount());
    return absl::InvalidArgumentError(strCat("loadbalancing: ", s.message()));
  }
  if (result.unkeyed_items > 0) unkeyed_->add(result.unkeyed_items);
  std::shared_ptr<const Fallback> fallback;
  if (std::optional<std::vector<bool>> down = routing->downNow()) {
    fallback = routing->fallbackFor(*down);
  }
  auto send = [&](size_t b, pipeline::Batch&& part) {
    if (fallback && fallback->down[b] && !routing->backends[b]->probeTurn()) {
      rerouted_->add(part.itemCount());
      return spread(*routing, *fallback, std::move(part));
    }
    return dispatch(*routing, b, std::move(part));
  };
  absl::Status first_error;
  if (result.whole) {
    first_error = send(*result.whole, std::move(batch));
  } else {
    for (size_t b = 0; b < scratch->shares.size(); ++b) {
      Share& share = scratch->shares[b];
      if (share.request.empty()) continue;
      pipeline::Batch part = pipeline::Batch::fromWire(
          signal_, pipeline::WireBytes::fromString(std::move(share.request)), share.items);
      share.request = std::string();
      part.reserveLike(batch);
      part.setMetadata(batch.sharedMetadata());
      if (absl::Status d = send(b, std::move(part)); !d.ok() && first_error.ok()) {
        first_error = d;
      }
    }
  }
  returnScratch(std::move(scratch));
  return first_error;
}

absl::Status LoadBalancingExporter::spread(const Routing& routing, const Fallback& fallback,
                                           pipeline::Batch&& batch) {
  if (fallback.backend_of.size() == 1)
    return dispatch(routing, fallback.backend_of[0], std::move(batch));
  std::string serialized;
  std::string_view request;
  if (auto wire = batch.wireBytes()) {
    request = *wire;
  } else if (batch.request().SerializeToString(&serialized)) {
    request = serialized;
  } else {
    return absl::InternalError("cannot encode the batch for load balancing");
  }
  std::unique_ptr<Scratch> scratch = takeScratch();
  RegroupResult result;
  const size_t unkeyed_backend =
      unkeyed_turn_.fetch_add(1, std::memory_order_relaxed) % fallback.backend_of.size();
  absl::Status s =
      scratch->regrouper.regroup(request, fallback.ring, unkeyed_backend, scratch->shares, result);
  absl::Status first_error = s;
  if (s.ok() && result.whole) {
    first_error = dispatch(routing, fallback.backend_of[*result.whole], std::move(batch));
  } else if (s.ok()) {
    for (size_t b = 0; b < scratch->shares.size(); ++b) {
      Share& share = scratch->shares[b];
      if (share.request.empty()) continue;
      pipeline::Batch part = pipeline::Batch::fromWire(
          signal_, pipeline::WireBytes::fromString(std::move(share.request)), share.items);
      share.request = std::string();
      part.reserveLike(batch);
      part.setMetadata(batch.sharedMetadata());
      absl::Status d = dispatch(routing, fallback.backend_of[b], std::move(part));
      if (!d.ok() && first_error.ok()) first_error = d;
    }
  }
  returnScratch(std::move(scratch));
  return first_error;
}

absl::Status LoadBalancingExporter::takeOver(const std::string& from, pipeline::Batch&& batch) {
  // Called from a backend's sending thread. A membership change may be waiting for consume()
  // calls and then shut that very backend down: never wait for the lock here.
  if (!routing_mu_.ReaderTryLock()) {
    return absl::UnavailableError("loadbalancing: membership changing");
  }
  struct Unlock {
    absl::Mutex& mu;
    ~Unlock() { mu.ReaderUnlock(); }
  } unlock{routing_mu_};
  const Routing* routing = routing_.get();
  if (routing == nullptr || routing->backends.empty()) {
    return absl::UnavailableError("loadbalancing: no backends");
  }
  std::vector<bool> down = routing->downNow().value_or(std::vector<bool>(routing->backends.size()));
  for (size_t i = 0; i < routing->backends.size(); ++i) {
    if (routing->backends[i]->endpoint == from) down[i] = true;
  }
  std::shared_ptr<const Fallback> fallback = routing->fallbackFor(down);
  if (!fallback) return absl::UnavailableError("loadbalancing: every backend is failing");
  rerouted_->add(batch.itemCount());
  return spread(*routing, *fallback, std::move(batch));
}

namespace {

constexpr std::string_view kRoutingKeys = "traceID, service, resource, metric, streamID";

std::string validKeysFor(Signal signal) {
  std::string out;
  for (RoutingKey k : {RoutingKey::kTraceId, RoutingKey::kService, RoutingKey::kResource,
                       RoutingKey::kMetric, RoutingKey::kStreamId}) {
    if (!routingKeyValidFor(k, signal)) continue;
    if (!out.empty()) out += ", ";
    out += routingKeyName(k);
  }
  return out;
}

// protocol.otlp with the backend's endpoint: the config an otlp_grpc exporter of that backend
// reads. The user's nodes are shared, not copied, so errors point at their lines. An `endpoint`
// the user wrote is replaced, as the Collector does.
YAML::Node backendConfig(const YAML::Node& otlp, const std::string& endpoint) {
  YAML::Node node(YAML::NodeType::Map);
  if (otlp.IsMap()) {
    for (const auto& kv : otlp) {
      if (kv.first.Scalar() != "endpoint") node.force_insert(kv.first, kv.second);
    }
  }
  node["endpoint"] = endpoint;
  return node;
}

// "10.0.0.1:4317" → "10.0.0.1_4317", "[::1]:4317" → "___1__4317": a file name on any system.
std::string directoryName(std::string_view endpoint) {
  std::string out(endpoint);
  for (char& c : out) {
    if (c == ':' || c == '/' || c == '\\' || c == '[' || c == ']') c = '_';
  }
  return out;
}

class LoadBalancingExporterFactory final : public pipeline::ExporterFactory {
 public:
  LoadBalancingExporterFactory() : otlp_(otlp_grpc::makeOtlpGrpcExporterFactory()) {}

  std::string_view type() const override { return "loadbalancing"; }
  // The Collector's newer spelling.
  std::vector<std::string_view> aliases() const override { return {"load_balancing"}; }
  bool supports(Signal) const override { return true; }
  // Each backend's exporter has the exporter helper's queue.
  bool queuesInternally() const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      Signal signal) const override {
    const std::string id = settings.id.toString();
    RoutingKey key = defaultRoutingKey(signal);
    if (const std::string name = config.getString("routing_key", ""); !name.empty()) {
      if (std::optional<RoutingKey> parsed = parseRoutingKey(name); !parsed) {
        config.addError("routing_key",
                        strCat("must be one of ", kRoutingKeys, " (got '", name, "')"));
      } else if (!routingKeyValidFor(*parsed, signal)) {
        config.addError("routing_key",
                        strCat("'", name, "' cannot route ", pipeline::signalName(signal), "; for ",
                               pipeline::signalName(signal), " use one of ", validKeysFor(signal)));
      } else {
        key = *parsed;
      }
    }
    for (std::string_view helper_key : {"sending_queue", "retry_on_failure", "timeout"}) {
      if (config.has(helper_key)) {
        (void)config.getYaml(helper_key);
        config.addError(helper_key,
                        "belongs under protocol.otlp: each backend has its own exporter with its "
                        "own queue, retries and timeout");
      }
    }

    const common::Labels labels = {{"exporter", id},
                                   {"signal", std::string(pipeline::signalName(signal))}};
    auto counters = [&](std::string_view resolver) {
      auto counter = [&](std::string_view success) {
        common::Labels l = labels;
        l.emplace_back("resolver", std::string(resolver));
        l.emplace_back("success", std::string(success));
        return &settings.metrics.counter(
            "otlpd_loadbalancer_resolutions_total",
            "Resolutions of the backend list, by resolver and outcome (failures keep the list "
            "as it was).",
            l);
      };
      return ResolutionCounters{counter("true"), counter("false")};
    };
    std::unique_ptr<Resolver> resolver;
    config::ConfigNode resolvers = config.child("resolver");
    bool unsupported_resolver = false;
    for (std::string_view unsupported : {"k8s", "aws_cloud_map"}) {
      if (resolvers.has(unsupported)) {
        (void)resolvers.getYaml(unsupported);
        resolvers.addError(unsupported, "is not available in otlpd; use static or dns");
        unsupported_resolver = true;
      }
    }
    const bool has_static = resolvers.has("static"), has_dns = resolvers.has("dns");
    if (has_static && has_dns) {
      config.addError("resolver", "configure one resolver, static or dns, not both");
    } else if (!has_static && !has_dns && !unsupported_resolver) {
      config.addError("resolver", "is required: static (hostnames) or dns (hostname)");
    }
    if (has_static) {
      config::ConfigNode node = resolvers.child("static");
      std::vector<std::string> hostnames = node.getStringList("hostnames");
      if (hostnames.empty()) {
        node.addError("hostnames", "must list at least one backend (host:port)");
      }
      for (size_t i = 0; i < hostnames.size(); ++i) {
        if (hostnames[i].empty()) {
          node.addError(strCat("hostnames[", i, "]"), "must not be empty");
        }
        hostnames[i] = withDefaultPort(hostnames[i], 4317);
      }
      node.rejectUnknownKeys();
      resolver = std::make_unique<StaticResolver>(std::move(hostnames), counters("static"));
    }
    if (has_dns) {
      config::ConfigNode node = resolvers.child("dns");
      DnsResolverConfig dns;
      dns.hostname = node.getString("hostname", "");
      if (dns.hostname.empty()) node.addError("hostname", "is required");
      dns.port = static_cast<int>(node.getInt("port", dns.port, 1, 65535));
      dns.interval = node.getDuration("interval", dns.interval);
      dns.timeout = node.getDuration("timeout", dns.timeout);
      if (dns.interval <= absl::ZeroDuration()) node.addError("interval", "must be positive");
      if (dns.timeout <= absl::ZeroDuration()) node.addError("timeout", "must be positive");
      node.rejectUnknownKeys();
      if (!has_static) {
        resolver = std::make_unique<DnsResolver>(std::move(dns), systemLookup(), counters("dns"));
      }
    }
    resolvers.rejectUnknownKeys();

    config::ConfigNode protocol = config.child("protocol");
    config::ConfigNode otlp = protocol.child("otlp");
    protocol.rejectUnknownKeys();
    // Every otlp_grpc setting is read (and checked) once here, against the user's lines, with a
    // stand-in endpoint; a throwaway registry keeps the stand-in out of /metrics.
    {
      common::MetricsRegistry scratch_metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
      config::ConfigNode check(backendConfig(otlp.yaml(), "127.0.0.1:4317"), otlp.path(),
                               config.errors());
      auto probe = otlp_->create(
          pipeline::CreateSettings{LoadBalancingExporter::backendId(settings.id, "127.0.0.1:4317"),
                                   scratch_metrics, nullptr, settings.extensions},
          check, signal);
      check.rejectUnknownKeys();
      if (!probe.ok()) {
        config.addError("protocol", strCat("otlp: ", probe.status().message()));
      }
    }
    // Backends are built from a copy of their own (a DNS change builds them at any time).
    BackendFactory backends =
        [otlp_factory = otlp_, template_node = YAML::Clone(otlp.yaml()), path = otlp.path(),
         id = settings.id, &metrics = settings.metrics, memory = settings.memory,
         extensions = settings.extensions, signal](
            const std::string& endpoint) -> absl::StatusOr<std::unique_ptr<pipeline::Exporter>> {
      config::ConfigErrors errors;
      YAML::Node yaml = backendConfig(YAML::Clone(template_node), endpoint);
      // Dead letters go to a directory per backend: the writers of two backends sharing one could
      // pick the same file name, and each keeps its own max_size_mib.
      // (yaml-cpp throws on reading through a missing key: test each level first.)
      const YAML::Node& read = yaml;
      if (const YAML::Node dlq = read["dead_letter_queue"]; dlq && dlq.IsMap()) {
        if (const YAML::Node directory = dlq["directory"]; directory && directory.IsScalar()) {
          yaml["dead_letter_queue"]["directory"] =
              strCat(directory.Scalar(), "/", directoryName(endpoint));
        }
      }
      config::ConfigNode node(yaml, path, errors);
      auto exporter = otlp_factory->create(
          pipeline::CreateSettings{LoadBalancingExporter::backendId(id, endpoint), metrics, memory,
                                   extensions},
          node, signal);
      node.rejectUnknownKeys();
      if (!errors.empty()) return errors.toStatus();
      return exporter;
    };
    if (resolver == nullptr) {
      // Only with config errors, which stop the service before start.
      resolver = std::make_unique<StaticResolver>(std::vector<std::string>{}, ResolutionCounters{});
    }
    return std::make_unique<LoadBalancingExporter>(settings, signal, key, std::move(resolver),
                                                   std::move(backends));
  }

 private:
  std::shared_ptr<const pipeline::ExporterFactory> otlp_;
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeLoadBalancingExporterFactory() {
  return std::make_unique<LoadBalancingExporterFactory>();
}

}  // namespace otlpd::exporters::loadbalancing
