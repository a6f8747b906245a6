// The loadbalancing exporter between real processes: one otlpd routes by trace id to two sink
// otlpds (otlp receiver → file exporter) on loopback. Traces arrive a span per request, as SDK
// batches send them; every trace must end whole on one sink, and a sink stopped mid-run gets its
// share once it is back (its backend's exporter queues and retries it), nothing acknowledged lost.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "../otlp_data_support.h"
#include "../otlpd_process_support.h"
#include "common/strings.h"
#include "exporters/loadbalancing/resolver.h"
#include "otlp/proto.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#pragma GCC diagnostic pop

namespace otlpd::integration {
namespace {

using namespace std::chrono_literals;
namespace pb_collector_trace = ::opentelemetry::proto::collector::trace::v1;

constexpr int kSpansPerTrace = 6;

std::string lbConfig(std::string_view resolver) {
  return strCat(R"(receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls: { insecure: true }
        compression: none
        timeout: 2s
        retry_on_failure: { initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 120s }
        dead_letter_queue: { directory: "@DIR@/dlq" }
    resolver:
)",
                resolver, R"(
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [loadbalancing] }
)");
}

std::string traceId(int trace) {
  std::string id = strCat("lb-it-", trace, "-");
  id.resize(16, '~');
  return id;
}

// Span `j` of every trace in [first, last): one request, spans of many traces.
otlp::TracesRequest spanRound(int first, int last, int j) {
  otlp::TracesRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(strCat("svc-", j % 3));
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lb-test");
  for (int t = first; t < last; ++t) {
    auto* span = ss->add_spans();
    span->set_trace_id(traceId(t));
    std::string span_id = strCat(t, "/", j, "/");
    span_id.resize(8, '~');
    span->set_span_id(span_id);
    span->set_name(strCat("lb-t", t, "-s", j));
    span->set_start_time_unix_nano(1'700'000'000'000'000'000ULL + static_cast<uint64_t>(t));
    span->set_end_time_unix_nano(1'700'000'000'000'100'000ULL + static_cast<uint64_t>(t));
  }
  return req;
}

// A connection of its own, closed when the stub goes (the global subchannel pool would keep it
// open, and an open connection holds the server's shutdown to its drain deadline).
std::shared_ptr<grpc::Channel> clientChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

// Sends until the load balancer acknowledges (it refuses retryably when it cannot take a share).
void sendAcknowledged(pb_collector_trace::TraceService::Stub& stub,
                      const otlp::TracesRequest& req) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    otlp::TracesResponse res;
    grpc::Status s = stub.Export(&ctx, req, &res);
    if (s.ok()) return;
    ASSERT_NE(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    std::this_thread::sleep_for(100ms);
  }
  FAIL() << "the load balancer never acknowledged a request";
}

// Span names per sink ("a", "b"...), read from each sink process's file exporter output.
struct Landed {
  std::map<std::string, std::vector<std::string>> names;  // sink → span names
  size_t total() const {
    size_t n = 0;
    for (const auto& [sink, list] : names) n += list.size();
    return n;
  }
};

Landed read(const std::vector<std::pair<std::string, const OtlpdProcess*>>& sinks) {
  Landed out;
  for (const auto& [sink, process] : sinks) {
    auto names = taggedSpanNames(process->readJsonLines("traces.jsonl"), "lb");
    auto& list = out.names[sink];
    list.insert(list.end(), names.begin(), names.end());
  }
  return out;
}

Landed waitFor(const std::vector<std::pair<std::string, const OtlpdProcess*>>& sinks,
               size_t expected, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  Landed landed = read(sinks);
  while (landed.total() < expected && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(100ms);
    landed = read(sinks);
  }
  return landed;
}

// Every span once, every trace complete and on one sink; returns traces per sink.
std::map<std::string, int> checkWholeTraces(const Landed& landed, int traces) {
  std::map<int, std::set<std::string>> sinks_of_trace;
  std::map<int, int> spans_of_trace;
  std::set<std::string> seen;
  for (const auto& [sink, names] : landed.names) {
    for (const std::string& name : names) {
      EXPECT_TRUE(seen.insert(name).second) << name << " arrived twice";
      const int trace = std::stoi(name.substr(4));
      sinks_of_trace[trace].insert(sink);
      ++spans_of_trace[trace];
    }
  }
  std::map<std::string, int> per_sink;
  EXPECT_EQ(static_cast<int>(sinks_of_trace.size()), traces);
  for (const auto& [trace, sinks] : sinks_of_trace) {
    EXPECT_EQ(sinks.size(), 1u) << "trace " << trace << " was split over sinks";
    EXPECT_EQ(spans_of_trace[trace], kSpansPerTrace) << "trace " << trace << " is incomplete";
    ++per_sink[*sinks.begin()];
  }
  return per_sink;
}

double metric(const OtlpdProcess& p, std::string_view name, const LabelMap& labels) {
  auto v = p.scrapeMetric(name, labels);
  return v.ok() ? *v : -1;
}

TEST(LoadBalancing, AStoppedSinksShareFailsOverAndComesBackWithIt) {
  const std::string a = strCat("127.0.0.1:", freeLoopbackPort());
  const std::string b = strCat("127.0.0.1:", freeLoopbackPort());
  auto sink_a = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", a));
  ASSERT_TRUE(sink_a.ok()) << sink_a.status();
  auto sink_b = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", b));
  ASSERT_TRUE(sink_b.ok()) << sink_b.status();
  auto lb = OtlpdProcess::start(
      lbConfig(strCat("      static: { hostnames: [\"", a, "\", \"", b, "\"] }")));
  ASSERT_TRUE(lb.ok()) << lb.status();
  auto stub = pb_collector_trace::TraceService::NewStub(clientChannel((*lb)->grpcEndpoint()));
  auto sendTraces = [&](int from, int to, int first_span, int last_span) {
    for (int j = first_span; j < last_span; ++j) {
      for (int first = from; first < to; first += 25) {
        sendAcknowledged(*stub, spanRound(first, std::min(first + 25, to), j));
      }
    }
  };

  // Traces 0-99: their first three spans while both sinks run, each trace on one sink.
  sendTraces(0, 100, 0, 3);
  ASSERT_EQ(waitFor({{"a", sink_a->get()}, {"b", sink_b->get()}}, 300, 15s).total(), 300u);

  // Sink b stops (SIGTERM, by its pid); the rest of traces 0-99 and traces 100-199 are sent
  // while it is down. b's exporter fails twice, then its keys go to a and what it holds is
  // handed over: everything lands on a, nothing is lost, nothing waits for b.
  EXPECT_TRUE((*sink_b)->stop().cleanExit());
  sendTraces(0, 100, 3, kSpansPerTrace);
  sendTraces(100, 200, 0, kSpansPerTrace);
  const auto before_restart = std::vector<std::pair<std::string, const OtlpdProcess*>>{
      {"a", sink_a->get()}, {"b", sink_b->get()}};
  Landed landed = waitFor(before_restart, 200 * kSpansPerTrace, 30s);
  ASSERT_EQ(landed.total(), static_cast<size_t>(200 * kSpansPerTrace)) << "nothing lost";
  std::set<std::string> seen;
  std::map<int, std::set<std::string>> sinks_of_trace;
  for (const auto& [sink, names] : landed.names) {
    for (const std::string& name : names) {
      EXPECT_TRUE(seen.insert(name).second) << name << " arrived twice";
      sinks_of_trace[std::stoi(name.substr(4))].insert(sink);
    }
  }
  for (int t = 100; t < 200; ++t) {
    EXPECT_EQ(sinks_of_trace[t], std::set<std::string>{"a"})
        << "trace " << t << " sent while b was down";
  }
  const LabelMap lb_labels = {{"exporter", "loadbalancing"}, {"signal", "traces"}};
  EXPECT_GT(metric(**lb, "otlpd_loadbalancer_rerouted_spans_total", lb_labels), 0);

  // Sink b comes back on its address: a probe finds it, its keys return to it.
  auto sink_b2 = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", b));
  ASSERT_TRUE(sink_b2.ok()) << sink_b2.status();
  int next = 200;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (read({{"b", sink_b2->get()}}).total() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    sendTraces(next, next + 25, 0, kSpansPerTrace);
    next += 25;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_GT(read({{"b", sink_b2->get()}}).total(), 0u) << "b never got data again";
  std::this_thread::sleep_for(300ms);
  const int recovered_from = next;
  sendTraces(recovered_from, recovered_from + 100, 0, kSpansPerTrace);
  const auto all = std::vector<std::pair<std::string, const OtlpdProcess*>>{
      {"a", sink_a->get()}, {"b", sink_b->get()}, {"b", sink_b2->get()}};
  const size_t expected = static_cast<size_t>((recovered_from + 100) * kSpansPerTrace);
  landed = waitFor(all, expected, 30s);
  EXPECT_EQ(landed.total(), expected) << "nothing lost across the outage and the return";
  std::map<int, std::set<std::string>> after;
  std::map<int, int> spans_after;
  for (const auto& [sink, names] : landed.names) {
    for (const std::string& name : names) {
      const int t = std::stoi(name.substr(4));
      if (t < recovered_from) continue;
      after[t].insert(sink);
      ++spans_after[t];
    }
  }
  std::map<std::string, int> per_sink;
  for (const auto& [t, sinks] : after) {
    EXPECT_EQ(sinks.size(), 1u) << "trace " << t << " split after recovery";
    EXPECT_EQ(spans_after[t], kSpansPerTrace);
    ++per_sink[*sinks.begin()];
  }
  EXPECT_GT(per_sink["a"], 20);
  EXPECT_GT(per_sink["b"], 20) << "b's keys came back";
  stub.reset();
  EXPECT_TRUE((*lb)->stop().cleanExit());
}

TEST(LoadBalancing, DnsResolverFindsTheSinksBehindLocalhost) {
  // localhost is 127.0.0.1 here, and ::1 where /etc/hosts says so: a sink on each address.
  auto addresses = exporters::loadbalancing::systemLookup()("localhost");
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  const std::set<std::string> found(addresses->begin(), addresses->end());
  ASSERT_TRUE(found.count("127.0.0.1"));
  const int port = freeLoopbackPort();
  std::vector<std::unique_ptr<OtlpdProcess>> sinks;
  for (const std::string& address : found) {
    const std::string listen = address.find(':') != std::string::npos
                                   ? strCat("[", address, "]:", port)
                                   : strCat(address, ":", port);
    auto sink = OtlpdProcess::start(OtlpdProcess::standardConfigListeningOn("grpc", listen));
    ASSERT_TRUE(sink.ok()) << sink.status();
    sinks.push_back(*std::move(sink));
  }
  auto lb = OtlpdProcess::start(lbConfig(
      strCat("      dns: { hostname: localhost, port: ", port, ", interval: 1s, timeout: 2s }")));
  ASSERT_TRUE(lb.ok()) << lb.status();
  EXPECT_EQ(metric(**lb, "otlpd_loadbalancer_backends",
                   {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            static_cast<double>(found.size()));
  EXPECT_GE(metric(**lb, "otlpd_loadbalancer_resolutions_total",
                   {{"exporter", "loadbalancing"},
                    {"signal", "traces"},
                    {"resolver", "dns"},
                    {"success", "true"}}),
            1);
  auto stub = pb_collector_trace::TraceService::NewStub(clientChannel((*lb)->grpcEndpoint()));
  for (int j = 0; j < kSpansPerTrace; ++j) sendAcknowledged(*stub, spanRound(0, 40, j));
  std::vector<std::pair<std::string, const OtlpdProcess*>> outputs;
  for (size_t i = 0; i < sinks.size(); ++i) outputs.emplace_back(strCat("sink", i), sinks[i].get());
  Landed landed = waitFor(outputs, 40 * kSpansPerTrace, 15s);
  EXPECT_EQ(landed.total(), 40u * kSpansPerTrace);
  checkWholeTraces(landed, 40);
}

TEST(LoadBalancing, ANameThatResolvesToNothingStartsAndRefusesRetryably) {
  auto lb = OtlpdProcess::start(
      lbConfig("      dns: { hostname: no-such-backend.invalid, interval: 1s, timeout: 500ms }"));
  ASSERT_TRUE(lb.ok()) << lb.status();
  auto stub = pb_collector_trace::TraceService::NewStub(clientChannel((*lb)->grpcEndpoint()));
  {
    grpc::ClientContext ctx;  // holds the channel while it lives
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    otlp::TracesResponse res;
    grpc::Status s = stub->Export(&ctx, spanRound(0, 9, 0), &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  }
  EXPECT_EQ(metric(**lb, "otlpd_loadbalancer_refused_spans_total",
                   {{"exporter", "loadbalancing"}, {"reason", "no_backends"}}),
            9);
  EXPECT_EQ(metric(**lb, "otlpd_loadbalancer_backends",
                   {{"exporter", "loadbalancing"}, {"signal", "traces"}}),
            0);
  EXPECT_GE(metric(**lb, "otlpd_loadbalancer_resolutions_total",
                   {{"exporter", "loadbalancing"},
                    {"signal", "traces"},
                    {"resolver", "dns"},
                    {"success", "false"}}),
            1);
  stub.reset();
  EXPECT_TRUE((*lb)->stop().cleanExit());
}

}  // namespace
}  // namespace otlpd::integration
