#include "exporters/loadbalancing/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/logging.h"
#include "common/strings.h"

namespace otlpd::exporters::loadbalancing {
namespace {

void normalize(std::vector<std::string>& endpoints) {
  std::sort(endpoints.begin(), endpoints.end());
  endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
}

}  // namespace

std::string withDefaultPort(std::string_view endpoint, int default_port) {
  if (endpoint.starts_with('[')) {
    // "[v6]" or "[v6]:port"
    const size_t close = endpoint.find(']');
    if (close != std::string_view::npos && close + 1 < endpoint.size())
      return std::string(endpoint);
    return strCat(endpoint, ":", default_port);
  }
  const size_t colon = endpoint.find(':');
  if (colon == std::string_view::npos) return strCat(endpoint, ":", default_port);
  // Two colons or more: a bare IPv6 address.
  if (endpoint.find(':', colon + 1) != std::string_view::npos) {
    return strCat("[", endpoint, "]:", default_port);
  }
  return std::string(endpoint);
}

StaticResolver::StaticResolver(std::vector<std::string> endpoints, ResolutionCounters counters)
    : endpoints_(std::move(endpoints)), counters_(counters) {
  normalize(endpoints_);
}

void StaticResolver::start(Callback on_change) {
  if (counters_.succeeded != nullptr) counters_.succeeded->add();
  on_change(endpoints_);
}

LookupFunction systemLookup() {
  return [](const std::string& hostname) -> absl::StatusOr<std::vector<std::string>> {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(hostname.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
      return absl::UnavailableError(strCat("cannot resolve ", hostname, ": ", ::gai_strerror(rc)));
    }
    std::vector<std::string> addresses;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* where = nullptr;
      if (a->ai_family == AF_INET) {
        where = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;
      } else if (a->ai_family == AF_INET6) {
        where = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;
      }
      if (where != nullptr && ::inet_ntop(a->ai_family, where, text, sizeof text) != nullptr) {
        addresses.emplace_back(text);
      }
    }
    ::freeaddrinfo(found);
    return addresses;
  };
}

// One lookup's outcome, shared with the thread running it, which may outlive the wait.
struct DnsResolver::Pending {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  absl::StatusOr<std::vector<std::string>> result;
};

DnsResolver::DnsResolver(DnsResolverConfig config, LookupFunction lookup,
                         ResolutionCounters counters)
    : config_(std::move(config)), lookup_(std::move(lookup)), counters_(counters) {}

void DnsResolver::start(Callback on_change) {
  on_change_ = std::move(on_change);
  resolve();
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (wake_.wait_for(lock, absl::ToChronoNanoseconds(config_.interval),
                         [this] { return stopping_; })) {
        break;
      }
      lock.unlock();
      resolve();
      lock.lock();
    }
  });
}

void DnsResolver::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::vector<std::string>> DnsResolver::lookupWithTimeout() {
  if (pending_ != nullptr) {
    std::lock_guard lock(pending_->mu);
    if (!pending_->done) {
      return absl::DeadlineExceededError(
          strCat("the previous lookup of ", config_.hostname, " has not answered yet"));
    }
  }
  auto pending = std::make_shared<Pending>();
  pending_ = pending;
  // getaddrinfo has no timeout of its own: the lookup runs apart and is abandoned if late.
  std::thread([pending, lookup = lookup_, hostname = config_.hostname] {
    auto result = lookup(hostname);
    {
      std::lock_guard lock(pending->mu);
      pending->result = std::move(result);
      pending->done = true;
    }
    pending->done_cv.notify_all();
  }).detach();
  std::unique_lock lock(pending->mu);
  if (!pending->done_cv.wait_for(lock, absl::ToChronoNanoseconds(config_.timeout),
                                 [&] { return pending->done; })) {
    return absl::DeadlineExceededError(strCat("lookup of ", config_.hostname, " took longer than ",
                                              absl::FormatDuration(config_.timeout)));
  }
  return pending->result;
}

void DnsResolver::resolve() {
  absl::StatusOr<std::vector<std::string>> addresses = lookupWithTimeout();
  if (!addresses.ok()) {
    if (counters_.failed != nullptr) counters_.failed->add();
    if (!failing_) {
      logging::warn("loadbalancing: DNS lookup failed; the backends stay as they were",
                    {{"hostname", config_.hostname}, {"error", addresses.status()}});
    }
    failing_ = true;
    return;
  }
  if (counters_.succeeded != nullptr) counters_.succeeded->add();
  if (failing_) {
    logging::info("loadbalancing: DNS lookups answer again", {{"hostname", config_.hostname}});
  }
  failing_ = false;
  std::vector<std::string> endpoints;
  endpoints.reserve(addresses->size());
  for (const std::string& address : *addresses) {
    endpoints.push_back(address.find(':') != std::string::npos
                            ? strCat("[", address, "]:", config_.port)
                            : strCat(address, ":", config_.port));
  }
  normalize(endpoints);
  if (last_ == endpoints) return;
  last_ = endpoints;
  on_change_(std::move(endpoints));
}

}  // namespace otlpd::exporters::loadbalancing
