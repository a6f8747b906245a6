#include "exporters/loadbalancing/loadbalancing_exporter.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "loadbalancing_test_support.h"
#include "otlp/proto.h"

namespace otlpd::exporters::loadbalancing {
namespace {

using pipeline::Batch;
using pipeline::Signal;
using testing::ManualResolver;
using testing::Sinks;

class NoHost final : public pipeline::Host {
 public:
  void publishEndpoint(const std::string&, const std::string&) override {}
};

std::string traceId(int trace) {
  std::string id = strCat("lb-trace-", trace, "-");
  id.resize(16, '.');
  return id;
}

// Span j of traces [first, first + count), one span per trace: a trace's spans come in
// separate requests, as an SDK's batches send them.
otlp::TracesRequest spansOf(int first, int count, int j) {
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("checkout");
  auto* ss = rs->add_scope_spans();
  for (int t = first; t < first + count; ++t) {
    auto* span = ss->add_spans();
    span->set_trace_id(traceId(t));
    span->set_name(strCat("t", t, "-s", j));
  }
  return req;
}

Batch wireBatch(const otlp::TracesRequest& req) {
  size_t spans = 0;
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) spans += static_cast<size_t>(ss.spans_size());
  }
  return Batch::fromWire(Signal::kTraces, pipeline::WireBytes::fromString(req.SerializeAsString()),
                         spans);
}

// Trace number → the backends its spans reached.
std::map<int, std::set<std::string>> tracesPerBackend(Sinks& sinks,
                                                      const std::vector<std::string>& endpoints,
                                                      size_t* spans = nullptr) {
  std::map<int, std::set<std::string>> out;
  for (const std::string& e : endpoints) {
    auto state = sinks.get(e);
    std::lock_guard lock(state->mu);
    for (const std::string& bytes : state->requests) {
      otlp::TracesRequest req;
      EXPECT_TRUE(req.ParseFromString(bytes));
      for (const auto& rs : req.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& span : ss.spans()) {
            out[std::stoi(span.name().substr(1))].insert(e);
            if (spans != nullptr) ++*spans;
          }
        }
      }
    }
  }
  return out;
}

struct Fixture {
  explicit Fixture(std::optional<std::vector<std::string>> initial,
                   std::vector<std::string> broken = {}, Signal signal = Signal::kTraces,
                   RoutingKey key = RoutingKey::kTraceId) {
    auto r = std::make_unique<ManualResolver>(std::move(initial));
    resolver = r.get();
    exporter = std::make_unique<LoadBalancingExporter>(
        pipeline::CreateSettings{{"loadbalancing", ""}, metrics}, signal, key, std::move(r),
        sinks.factory(std::move(broken)));
  }
  double counter(std::string_view name, const common::Labels& labels) {
    return static_cast<double>(metrics.counter(name, "", labels).value());
  }

  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  Sinks sinks;
  ManualResolver* resolver;
  std::unique_ptr<LoadBalancingExporter> exporter;
  NoHost host;
};

const std::vector<std::string> kThree = {"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"};

TEST(LoadBalancingExporter, EveryTraceEndsOnOneBackendWholeAndCounted) {
  Fixture f(kThree);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_EQ(f.exporter->backends(), kThree);
  for (int j = 0; j < 5; ++j) {
    for (int first = 0; first < 300; first += 50) {
      ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(first, 50, j))).ok());
    }
  }
  size_t spans = 0;
  auto placed = tracesPerBackend(f.sinks, kThree, &spans);
  EXPECT_EQ(spans, 1500u);
  ASSERT_EQ(placed.size(), 300u);
  std::map<std::string, int> traces_on;
  for (const auto& [trace, backends] : placed) {
    ASSERT_EQ(backends.size(), 1u) << "trace " << trace;
    ++traces_on[*backends.begin()];
  }
  double counted = 0;
  for (const std::string& e : kThree) {
    EXPECT_GT(traces_on[e], 60) << e << " gets about a third";
    const double items = f.counter("otlpd_loadbalancer_backend_spans_total",
                                   {{"exporter", "loadbalancing"}, {"backend", e}});
    EXPECT_EQ(items, static_cast<double>(traces_on[e] * 5)) << e;
    EXPECT_EQ(f.sinks.get(e)->items, static_cast<size_t>(traces_on[e] * 5));
    counted += items;
  }
  EXPECT_EQ(counted, 1500);
  EXPECT_EQ(f.metrics
                .gauge("otlpd_loadbalancer_backends", "",
                       {{"exporter", "loadbalancing"}, {"signal", "traces"}})
                .value(),
            3);
}

TEST(LoadBalancingExporter, NoBackendsRefusesRetryablyAndCounts) {
  Fixture f(std::vector<std::string>{});
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  absl::Status s = f.exporter->consume(wireBatch(spansOf(0, 7, 0)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(f.counter("otlpd_loadbalancer_refused_spans_total",
                      {{"exporter", "loadbalancing"}, {"reason", "no_backends"}}),
            7);
  // The resolver finds some later: accepted from then on.
  f.resolver->set({"10.0.0.9:4317"});
  EXPECT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 7, 0))).ok());
  EXPECT_EQ(f.sinks.get("10.0.0.9:4317")->items, 7u);
}

TEST(LoadBalancingExporter, NoFirstMembershipAtAllRefusesToo) {
  Fixture f(std::nullopt);  // a DNS name that did not answer yet
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  EXPECT_EQ(f.exporter->consume(wireBatch(spansOf(0, 2, 0))).code(),
            absl::StatusCode::kUnavailable);
}

TEST(LoadBalancingExporter, OneBackendGetsTheRequestAsItCame) {
  Fixture f(std::vector<std::string>{"solo:4317"});
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  const otlp::TracesRequest req = spansOf(0, 20, 0);
  ASSERT_TRUE(f.exporter->consume(wireBatch(req)).ok());
  auto solo = f.sinks.get("solo:4317");
  ASSERT_EQ(solo->requests.size(), 1u);
  EXPECT_EQ(solo->requests[0], req.SerializeAsString());
  EXPECT_EQ(solo->items, 20u);
}

TEST(LoadBalancingExporter, DecodedBatchesAreRegroupedToo) {
  Fixture f(kThree);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  Batch decoded = Batch::create(Signal::kTraces);
  decoded.mutableTraces() = spansOf(0, 90, 0);
  ASSERT_TRUE(f.exporter->consume(std::move(decoded)).ok());
  size_t spans = 0;
  auto placed = tracesPerBackend(f.sinks, kThree, &spans);
  EXPECT_EQ(spans, 90u);
  EXPECT_EQ(placed.size(), 90u);
}

TEST(LoadBalancingExporter, MembershipChangesMoveAboutOneNthAndStopLeavers) {
  const std::vector<std::string> two = {"10.0.0.1:4317", "10.0.0.2:4317"};
  Fixture f(two);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 600, 0))).ok());
  auto before = tracesPerBackend(f.sinks, kThree);

  // A third backend joins: it is created and started, the others are kept as they are.
  f.resolver->set(kThree);
  EXPECT_EQ(f.exporter->backends(), kThree);
  EXPECT_EQ(f.sinks.get("10.0.0.3:4317")->started, 1);
  for (const std::string& e : two) {
    EXPECT_EQ(f.sinks.get(e)->created, 1) << e;
    EXPECT_EQ(f.sinks.get(e)->stopped, 0) << e;
  }
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 600, 1))).ok());
  auto after = tracesPerBackend(f.sinks, kThree);
  int moved = 0;
  for (int t = 0; t < 600; ++t) {
    ASSERT_EQ(before[t].size(), 1u);
    if (after[t].size() == 1) continue;  // same backend both times
    ++moved;
    // The trace's second span went to the newcomer, never to the other old backend.
    EXPECT_EQ(after[t].size(), 2u);
    EXPECT_TRUE(after[t].count("10.0.0.3:4317")) << t;
  }
  EXPECT_GT(moved, 600 / 3 - 60);
  EXPECT_LT(moved, 600 / 3 + 60);

  // One leaves: its exporter is shut down (drained), the others keep running.
  f.resolver->set({"10.0.0.1:4317", "10.0.0.3:4317"});
  EXPECT_EQ(f.sinks.get("10.0.0.2:4317")->stopped, 1);
  EXPECT_EQ(f.sinks.get("10.0.0.1:4317")->stopped, 0);
  EXPECT_EQ(f.sinks.get("10.0.0.3:4317")->stopped, 0);
  const size_t left_requests = f.sinks.get("10.0.0.2:4317")->requestCount();
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 600, 2))).ok());
  EXPECT_EQ(f.sinks.get("10.0.0.2:4317")->requestCount(), left_requests);
  EXPECT_EQ(f.counter("otlpd_loadbalancer_backend_updates_total",
                      {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            3);
  // The same list again is no change.
  f.resolver->set({"10.0.0.3:4317", "10.0.0.1:4317"});
  EXPECT_EQ(f.counter("otlpd_loadbalancer_backend_updates_total",
                      {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            3);

  ASSERT_TRUE(f.exporter->shutdown().ok());
  EXPECT_TRUE(f.resolver->stopped);
  EXPECT_EQ(f.sinks.get("10.0.0.1:4317")->stopped, 1);
  EXPECT_EQ(f.sinks.get("10.0.0.3:4317")->stopped, 1);
  EXPECT_EQ(f.exporter->consume(wireBatch(spansOf(0, 1, 0))).code(),
            absl::StatusCode::kUnavailable);
}

TEST(LoadBalancingExporter, ABackendThatRefusesGetsItsErrorBackAndTheOthersTheirShare) {
  Fixture f(kThree);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  f.sinks.get("10.0.0.2:4317")->refuse =
      absl::UnavailableError("sending queue of exporter x is full");
  absl::Status s = f.exporter->consume(wireBatch(spansOf(0, 300, 0)));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(s.message(), "10.0.0.2:4317")) << s;
  size_t spans = 0;
  auto placed = tracesPerBackend(f.sinks, kThree, &spans);
  EXPECT_GT(spans, 0u);
  const double refused = f.counter("otlpd_loadbalancer_refused_spans_total",
                                   {{"exporter", "loadbalancing"}, {"reason", "backend_refused"}});
  EXPECT_GT(refused, 0);
  EXPECT_EQ(spans + static_cast<size_t>(refused), 300u);
}

TEST(LoadBalancingExporter, ABackendThatCannotStartFailsTheFirstStartOnly) {
  Fixture f(kThree, {"10.0.0.2:4317", "10.0.0.4:4317"});
  absl::Status s = f.exporter->start(f.host);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "10.0.0.2:4317")) << s;
  EXPECT_EQ(f.exporter->backends(), (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.3:4317"}));
  // Later, a broken newcomer is left out and counted; the rest carries on.
  f.resolver->set({"10.0.0.1:4317", "10.0.0.3:4317", "10.0.0.4:4317"});
  EXPECT_EQ(f.exporter->backends(), (std::vector<std::string>{"10.0.0.1:4317", "10.0.0.3:4317"}));
  EXPECT_EQ(f.counter("otlpd_loadbalancer_backend_failures_total",
                      {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            2);
}

TEST(LoadBalancingExporter, LogRecordsWithoutATraceIdGoTogetherToEachBackendInTurn) {
  Fixture f(kThree, {}, Signal::kLogs, RoutingKey::kTraceId);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  for (int round = 0; round < 3; ++round) {
    otlp::LogsRequest req;
    auto* sl = req.add_resource_logs()->add_scope_logs();
    for (int i = 0; i < 10; ++i) {
      sl->add_log_records()->mutable_body()->set_string_value(strCat("r", round, "-", i));
    }
    ASSERT_TRUE(
        f.exporter
            ->consume(Batch::fromWire(Signal::kLogs,
                                      pipeline::WireBytes::fromString(req.SerializeAsString()), 10))
            .ok());
  }
  // Three requests of unkeyed records: one whole request to each backend.
  for (const std::string& e : kThree) {
    auto sink = f.sinks.get(e);
    EXPECT_EQ(sink->requests.size(), 1u) << e;
    EXPECT_EQ(sink->items, 10u) << e;
  }
  EXPECT_EQ(
      f.counter("otlpd_loadbalancer_unkeyed_log_records_total", {{"exporter", "loadbalancing"}}),
      30);
}

TEST(LoadBalancingExporter, MembershipChangesWhileRequestsFlowLoseNothing) {
  const std::vector<std::vector<std::string>> memberships = {
      kThree,
      {"10.0.0.1:4317", "10.0.0.2:4317"},
      {"10.0.0.2:4317", "10.0.0.3:4317", "10.0.0.4:4317"},
      {"10.0.0.4:4317"},
      {"10.0.0.1:4317", "10.0.0.3:4317", "10.0.0.4:4317", "10.0.0.5:4317"}};
  Fixture f(kThree);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  constexpr int kThreads = 4, kRequests = 150, kSpans = 20;
  std::atomic<int> refused{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        // Trace numbers unique per thread and request.
        const int first = (t * kRequests + r) * kSpans;
        if (!f.exporter->consume(wireBatch(spansOf(first, kSpans, 0))).ok()) ++refused;
      }
    });
  }
  for (int i = 0; i < 60; ++i) f.resolver->set(memberships[static_cast<size_t>(i) % 5]);
  for (std::thread& t : senders) t.join();
  EXPECT_EQ(refused.load(), 0);
  std::vector<std::string> all = {"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317",
                                  "10.0.0.4:4317", "10.0.0.5:4317"};
  size_t spans = 0;
  auto placed = tracesPerBackend(f.sinks, all, &spans);
  EXPECT_EQ(spans, static_cast<size_t>(kThreads * kRequests * kSpans));
  EXPECT_EQ(placed.size(), static_cast<size_t>(kThreads * kRequests * kSpans));
  for (const std::string& e : all) {
    EXPECT_EQ(f.sinks.get(e)->consumed_after_shutdown, 0) << e;
  }
  EXPECT_EQ(f.counter("otlpd_loadbalancer_backend_updates_total",
                      {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            60);  // the first, then 59 changes (the first set() repeats the first membership)
}

TEST(LoadBalancingExporter, AFailingBackendsKeysGoToTheNextHealthyOneAndComeBack) {
  Fixture f(kThree);
  ASSERT_TRUE(f.exporter->start(f.host).ok());
  // Where each trace goes while all are healthy.
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 300, 0))).ok());
  const auto healthy = tracesPerBackend(f.sinks, kThree, nullptr);
  for (const std::string& e : kThree) f.sinks.get(e)->requests.clear();

  f.sinks.get(kThree[1])->failing = true;
  // Once a second a failing backend still gets its share (its exporter's probe): this one.
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 300, 1))).ok());
  EXPECT_EQ(f.sinks.get(kThree[1])->requestCount(), 1u) << "the probe";
  for (const std::string& e : kThree) f.sinks.get(e)->requests.clear();
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 300, 1))).ok());
  const auto failing = tracesPerBackend(f.sinks, kThree, nullptr);
  EXPECT_EQ(f.sinks.get(kThree[1])->requestCount(), 0u) << "nothing for the failing backend";
  size_t moved = 0;
  for (const auto& [trace, backends] : failing) {
    ASSERT_EQ(backends.size(), 1u) << "a trace stays whole on one backend";
    const std::string& before = *healthy.at(trace).begin();
    if (before == kThree[1]) {
      ++moved;
    } else {
      EXPECT_EQ(*backends.begin(), before) << "only the failing backend's traces move";
    }
  }
  EXPECT_GT(moved, 60u);
  EXPECT_EQ(f.counter("otlpd_loadbalancer_rerouted_spans_total",
                      {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            static_cast<double>(moved));

  // What the failing backend's queue hands over lands on the healthy ones, by the same rule.
  auto hook = f.sinks.get(kThree[1])->take_over;
  ASSERT_TRUE(hook);
  const size_t before_items = f.sinks.get(kThree[0])->items + f.sinks.get(kThree[2])->items;
  ASSERT_TRUE(hook(wireBatch(spansOf(0, 300, 2))).ok());
  EXPECT_EQ(f.sinks.get(kThree[0])->items + f.sinks.get(kThree[2])->items, before_items + 300);

  // Back to health: its keys return.
  f.sinks.get(kThree[1])->failing = false;
  for (const std::string& e : kThree) f.sinks.get(e)->requests.clear();
  ASSERT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 300, 3))).ok());
  EXPECT_EQ(tracesPerBackend(f.sinks, kThree, nullptr), healthy);

  // Every backend failing: the data waits in the owners' queues as before (no fallback).
  for (const std::string& e : kThree) f.sinks.get(e)->failing = true;
  EXPECT_EQ(hook(wireBatch(spansOf(0, 10, 4))).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(f.exporter->consume(wireBatch(spansOf(0, 10, 4))).ok());
}

TEST(LoadBalancingExporter, BackendIdsCarryTheEndpoint) {
  EXPECT_EQ(LoadBalancingExporter::backendId({"loadbalancing", ""}, "10.0.0.1:4317").toString(),
            "loadbalancing/10.0.0.1:4317");
  EXPECT_EQ(LoadBalancingExporter::backendId({"loadbalancing", "tier2"}, "b:1").toString(),
            "loadbalancing/tier2/b:1");
}

}  // namespace
}  // namespace otlpd::exporters::loadbalancing
