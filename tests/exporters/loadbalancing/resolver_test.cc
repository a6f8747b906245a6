#include "exporters/loadbalancing/resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/metrics_registry.h"

namespace otlpd::exporters::loadbalancing {
namespace {

using namespace std::chrono_literals;

// A name server the test scripts: each lookup takes the next answer (the last one repeats), and
// a lookup can be held until the test lets it go.
struct FakeDns {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<absl::StatusOr<std::vector<std::string>>> answers;
  int lookups = 0;
  bool hold = false;

  // Abandoned lookups may outlive the test's resolver: they share the fake.
  static LookupFunction lookup(std::shared_ptr<FakeDns> dns) {
    return [dns](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
      std::unique_lock lock(dns->mu);
      ++dns->lookups;
      dns->changed.notify_all();
      dns->changed.wait(lock, [&] { return !dns->hold; });
      auto answer = dns->answers.front();
      if (dns->answers.size() > 1) dns->answers.pop_front();
      return answer;
    };
  }
  void waitForLookups(int n) {
    std::unique_lock lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return lookups >= n; })) << lookups;
  }
  void release() {
    std::lock_guard lock(mu);
    hold = false;
    changed.notify_all();
  }
};

// What the resolver reported, in order.
struct Memberships {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<std::string>> seen;

  Resolver::Callback callback() {
    return [this](std::vector<std::string> endpoints) {
      std::lock_guard lock(mu);
      seen.push_back(std::move(endpoints));
      cv.notify_all();
    };
  }
  std::vector<std::string> waitFor(size_t n) {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return seen.size() >= n; })) << seen.size();
    return seen.size() >= n ? seen[n - 1] : std::vector<std::string>{};
  }
  size_t count() {
    std::lock_guard lock(mu);
    return seen.size();
  }
};

struct Counters {
  common::MetricsRegistry registry{common::MetricsRegistry::ProcessMetrics::kExclude};
  ResolutionCounters counters{&registry.counter("ok", ""), &registry.counter("failed", "")};
};

TEST(DnsResolver, ReportsTheAddressesOnThePortAtStartThenEveryChange) {
  auto dns = std::make_shared<FakeDns>();
  dns->answers = {std::vector<std::string>{"10.0.0.2", "10.0.0.1", "10.0.0.2"},
                  std::vector<std::string>{"10.0.0.2", "10.0.0.1"},  // same set: no report
                  std::vector<std::string>{"10.0.0.1", "::1"}};
  Counters c;
  Memberships m;
  DnsResolver resolver({"collectors.internal", 4317, absl::Milliseconds(5), absl::Seconds(5)},
                       FakeDns::lookup(dns), c.counters);
  resolver.start(m.callback());
  // The first answer is there when start() returns.
  ASSERT_EQ(m.count(), 1u);
  EXPECT_EQ(m.seen[0], (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.2:4317"}));
  EXPECT_EQ(m.waitFor(2), (std::vector<std::string>{"10.0.0.1:4317", "[::1]:4317"}));
  dns->waitForLookups(5);
  resolver.shutdown();
  EXPECT_EQ(m.count(), 2u);
  EXPECT_GE(c.counters.succeeded->value(), 4u);
  EXPECT_EQ(c.counters.failed->value(), 0u);
}

TEST(DnsResolver, AFailedLookupKeepsTheBackendsAndIsCounted) {
  auto dns = std::make_shared<FakeDns>();
  dns->answers = {std::vector<std::string>{"10.0.0.1"}, absl::UnavailableError("SERVFAIL"),
                  absl::UnavailableError("SERVFAIL")};
  Counters c;
  Memberships m;
  DnsResolver resolver({"collectors.internal", 55690, absl::Milliseconds(5), absl::Seconds(5)},
                       FakeDns::lookup(dns), c.counters);
  resolver.start(m.callback());
  dns->waitForLookups(4);
  resolver.shutdown();
  ASSERT_EQ(m.count(), 1u) << "failures report nothing, so the list stays";
  EXPECT_EQ(m.seen[0], std::vector<std::string>{"10.0.0.1:55690"});
  EXPECT_GE(c.counters.failed->value(), 2u);
  EXPECT_EQ(c.counters.succeeded->value(), 1u);
}

TEST(DnsResolver, ALookupThatHangsIsAbandonedAfterTheTimeoutAndNotRepeatedWhileItHangs) {
  auto dns = std::make_shared<FakeDns>();
  dns->answers = {std::vector<std::string>{"10.0.0.7"}};
  dns->hold = true;
  Counters c;
  Memberships m;
  DnsResolver resolver({"slow.internal", 4317, absl::Milliseconds(5), absl::Milliseconds(50)},
                       FakeDns::lookup(dns), c.counters);
  const auto began = std::chrono::steady_clock::now();
  resolver.start(m.callback());
  const auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_GE(waited, 45ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(m.count(), 0u) << "no backends yet: the exporter refuses until there are";
  EXPECT_GE(c.counters.failed->value(), 1u);
  // Later rounds do not start a second lookup while the first still hangs.
  for (int i = 0; i < 10000 && c.counters.failed->value() < 3; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GE(c.counters.failed->value(), 3u);
  {
    std::lock_guard lock(dns->mu);
    EXPECT_EQ(dns->lookups, 1);
  }
  dns->release();
  EXPECT_EQ(m.waitFor(1), std::vector<std::string>{"10.0.0.7:4317"});
  resolver.shutdown();
}

TEST(DnsResolver, LocalhostResolvesThroughTheSystem) {
  auto addresses = systemLookup()("localhost");
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  EXPECT_NE(std::find(addresses->begin(), addresses->end(), "127.0.0.1"), addresses->end());
  auto missing = systemLookup()("no-such-host.invalid");
  EXPECT_FALSE(missing.ok());
}

TEST(StaticResolver, ReportsItsSortedListOnceAndCountsOneResolution) {
  Counters c;
  Memberships m;
  StaticResolver resolver({"b:4317", "a:4317", "b:4317"}, c.counters);
  resolver.start(m.callback());
  ASSERT_EQ(m.count(), 1u);
  EXPECT_EQ(m.seen[0], (std::vector<std::string>{"a:4317", "b:4317"}));
  EXPECT_EQ(c.counters.succeeded->value(), 1u);
}

TEST(Resolvers, EndpointsWithoutAPortGetTheDefault) {
  EXPECT_EQ(withDefaultPort("backend-1", 4317), "backend-1:4317");
  EXPECT_EQ(withDefaultPort("backend-1:55690", 4317), "backend-1:55690");
  EXPECT_EQ(withDefaultPort("10.0.0.1", 4317), "10.0.0.1:4317");
  EXPECT_EQ(withDefaultPort("::1", 4317), "[::1]:4317");
  EXPECT_EQ(withDefaultPort("[::1]", 4317), "[::1]:4317");
  EXPECT_EQ(withDefaultPort("[::1]:9", 4317), "[::1]:9");
}

}  // namespace
}  // namespace otlpd::exporters::loadbalancing
