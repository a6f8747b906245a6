// Every endpoint the web UI calls, over a store shaped like real traffic: traces of 5–50 spans
// across 8 services (cross-service calls as CLIENT → SERVER pairs, unique trace and span ids),
// ~2% errors, 1% slow outliers, ~10 attributes per span. The last hour holds
// OTLPD_SCALE_BENCH_SPANS spans (default 200k so that a plain run stays quick;
// scripts/query_bench.sh runs 5M and 20M), and seven days before it hold a light steady traffic
// (~200 spans a minute) so that the seven-day windows of the Services page read a week of rollups.
// The store is filled once through the store exporter's writer (SignalStore, with its rollups)
// and kept under /tmp. BM_ScaleQueryFullScan* answer RED and dependencies the way they were
// answered before the rollups (every span of the window read and grouped), for before/after.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "query/analytics.h"
#include "query/jaeger_api.h"
#include "query/jaeger_json.h"
#include "query/store_queries.h"
#include "store/signal_store.h"

namespace otlpd::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMinuteNs = 60'000'000'000;
constexpr int64_t kHourNs = 60 * kMinuteNs;
constexpr int64_t kDayNs = 24 * kHourNs;
constexpr int kHistoryDays = 7;
// The last hour ends here; history starts seven days before the last hour.
constexpr int64_t kEnd = 1'700'000'000'000'000'000 + 8 * kDayNs;
constexpr int64_t kHistoryStart = kEnd - kHourNs - kHistoryDays * kDayNs;

class DataClock final : public store::Clock {
 public:
  absl::Time now() override { return absl::FromUnixNanos(now_ns); }
  int64_t now_ns = kHistoryStart;
};

struct Service {
  std::string name;
  std::vector<std::string> operations;  // SERVER span names
  std::vector<int> calls;               // services it calls
};

const std::vector<Service>& services() {
  static const std::vector<Service> s = {
      {"frontend", {"GET /", "GET /product", "POST /cart", "POST /checkout"}, {1, 2, 3, 6}},
      {"cart", {"GetCart", "AddItem", "EmptyCart"}, {7}},
      {"catalog", {"ListProducts", "GetProduct", "SearchProducts"}, {7}},
      {"checkout", {"PlaceOrder"}, {1, 4, 5, 6}},
      {"payments", {"Charge", "Refund"}, {7}},
      {"shipping", {"GetQuote", "ShipOrder"}, {}},
      {"currency", {"Convert", "GetSupportedCurrencies"}, {}},
      {"redis", {"GET", "SET", "HGETALL"}, {}},
  };
  return s;
}

// Builds traces and hands them to the store one request per service and batch of traces.
class TraceMaker {
 public:
  explicit TraceMaker(uint64_t seed) : rng_(seed) {}

  // `traces` traces starting uniformly in [from, to), as one request per service.
  std::vector<otlp::TracesRequest> make(int traces, int64_t from, int64_t to) {
    by_service_.assign(services().size(), nullptr);
    std::vector<otlp::TracesRequest> out(services().size());
    for (size_t i = 0; i < services().size(); ++i) {
      auto* rs = out[i].add_resource_spans();
      auto* kv = rs->mutable_resource()->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value(services()[i].name);
      auto* kv2 = rs->mutable_resource()->add_attributes();
      kv2->set_key("host.name");
      kv2->mutable_value()->set_string_value("node-" + std::to_string(i % 3));
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("io.opentelemetry.bench");
      by_service_[i] = ss;
    }
    std::uniform_int_distribution<int64_t> start(from, to - 1);
    for (int t = 0; t < traces; ++t) {
      trace_id_ = randomId(16);
      budget_ = std::uniform_int_distribution<int>(5, 50)(rng_);
      serve(0, "", start(rng_), 0);
    }
    return out;
  }

 private:
  std::string randomId(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i += 8) {
      const uint64_t v = rng_();
      std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
    }
    s[0] = static_cast<char>(s[0] | 1);
    return s;
  }

  otlp::pb_trace::Span* span(int service, const std::string& name, int kind,
                             const std::string& parent, int64_t start, int64_t duration) {
    auto* s = by_service_[static_cast<size_t>(service)]->add_spans();
    s->set_trace_id(trace_id_);
    s->set_span_id(randomId(8));
    if (!parent.empty()) s->set_parent_span_id(parent);
    s->set_name(name);
    s->set_kind(static_cast<otlp::pb_trace::Span::SpanKind>(kind));
    s->set_start_time_unix_nano(static_cast<uint64_t>(start));
    s->set_end_time_unix_nano(static_cast<uint64_t>(start + duration));
    auto attr = [&](const char* k, std::string v) {
      auto* kv = s->add_attributes();
      kv->set_key(k);
      kv->mutable_value()->set_string_value(std::move(v));
    };
    attr("http.request.method", "GET");
    attr("url.path", name);
    attr("server.address", services()[static_cast<size_t>(service)].name + ".svc.cluster.local");
    attr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
    attr("enduser.id", "user-" + std::to_string(rng_() % 100000));
    auto* code = s->add_attributes();
    code->set_key("http.response.status_code");
    code->mutable_value()->set_int_value(200);
    auto* size = s->add_attributes();
    size->set_key("http.response.body.size");
    size->mutable_value()->set_int_value(static_cast<int64_t>(rng_() % 100000));
    --budget_;
    return s;
  }

  // A SERVER span of `service` and what it calls; returns its duration.
  int64_t serve(int service, const std::string& parent, int64_t start, int depth) {
    const Service& svc = services()[static_cast<size_t>(service)];
    const std::string& op = svc.operations[rng_() % svc.operations.size()];
    std::lognormal_distribution<double> self(std::log(2e6 / (depth + 1)), 0.6);
    int64_t own = static_cast<int64_t>(self(rng_));
    if (rng_() % 100 == 0) own *= 40;  // slow outlier
    auto* server = span(service, op, 2, parent, start, 0);
    const std::string id = server->span_id();
    int64_t t = start + own / 4;
    for (int callee : svc.calls) {
      if (budget_ < 2 || rng_() % 3 == 0) continue;
      auto* client =
          span(service, services()[static_cast<size_t>(callee)].name + " call", 3, id, t, 0);
      const std::string cid = client->span_id();
      const int64_t d = serve(callee, cid, t + 50'000, depth + 1) + 100'000;
      // Elements of a repeated message field keep their address as the field grows.
      client->set_end_time_unix_nano(static_cast<uint64_t>(t + d));
      t += d;
    }
    while (budget_ > 0 && rng_() % 4 == 0) span(service, "db query", 1, id, t, own / 10);
    const int64_t duration = t - start + own / 2;
    server->set_end_time_unix_nano(static_cast<uint64_t>(start + duration));
    if (rng_() % 50 == 0)
      server->mutable_status()->set_code(otlp::pb_trace::Status::STATUS_CODE_ERROR);
    return duration;
  }

  std::mt19937_64 rng_;
  std::vector<otlp::pb_trace::ScopeSpans*> by_service_;
  std::string trace_id_;
  int budget_ = 0;
};

struct ScaleStore {
  std::string directory;
  size_t spans = 0;          // in the last hour
  size_t history_spans = 0;  // in the seven days before it
  std::string error;
};

size_t requestedSpans() {
  const char* v = std::getenv("OTLPD_SCALE_BENCH_SPANS");
  return v != nullptr ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : 200000;
}

size_t spansOf(const std::vector<otlp::TracesRequest>& requests) {
  size_t n = 0;
  for (const auto& r : requests)
    n += static_cast<size_t>(r.resource_spans(0).scope_spans(0).spans_size());
  return n;
}

const ScaleStore& scaleStore() {
  static const ScaleStore store = [] {
    ScaleStore s;
    const size_t want = requestedSpans();
    const char* dir = std::getenv("OTLPD_SCALE_BENCH_DIR");
    s.directory =
        dir != nullptr
            ? dir
            : (fs::temp_directory_path() / ("otlpd-scale-bench-" + std::to_string(want))).string();
    const fs::path marker = fs::path(s.directory) / "filled";
    if (fs::exists(marker)) {
      std::ifstream in(marker);
      in >> s.spans >> s.history_spans;
      return s;
    }
    fs::remove_all(s.directory);
    store::StoreOptions options;
    options.directory = s.directory;
    options.fsync = store::FsyncPolicy::kNever;
    options.max_total_bytes = uint64_t{200} << 30;
    options.retention = absl::Hours(24 * 30);
    DataClock clock;
    auto writer = store::SignalStore::open(pipeline::Signal::kTraces, options, &clock);
    if (!writer.ok()) {
      s.error = std::string(writer.status().message());
      return s;
    }
    TraceMaker maker(42);
    auto append = [&](const std::vector<otlp::TracesRequest>& requests, size_t& count) {
      for (const auto& r : requests) {
        if (auto st = (*writer)->append(r); !st.ok()) {
          s.error = std::string(st.message());
          return false;
        }
      }
      count += spansOf(requests);
      return true;
    };
    // History: 10 traces (~200 spans) a minute, written as it happens (the clock is data time).
    for (int64_t t = kHistoryStart; t < kEnd - kHourNs; t += kMinuteNs) {
      clock.now_ns = t + kMinuteNs;
      if (!append(maker.make(10, t, t + kMinuteNs), s.history_spans)) return s;
      if (auto st = (*writer)->flush(); !st.ok()) s.error = std::string(st.message());
    }
    // The last hour: `want` spans, a flush per second of data time.
    for (int64_t sec = 0; sec < 3600 && s.spans < want; ++sec) {
      const int64_t t = kEnd - kHourNs + sec * 1'000'000'000;
      clock.now_ns = t + 1'000'000'000;
      const size_t target = want / 3600 * static_cast<size_t>(sec + 1);
      while (s.spans < target) {
        if (!append(maker.make(8, t, t + 1'000'000'000), s.spans)) return s;
      }
      if (auto st = (*writer)->flush(); !st.ok()) s.error = std::string(st.message());
    }
    if (auto st = (*writer)->close(); !st.ok()) s.error = std::string(st.message());
    writer->reset();
    std::ofstream(marker) << s.spans << " " << s.history_spans << "\n";
    return s;
  }();
  return store;
}

query::JaegerApi& api() {
  static query::JaegerApi instance([] {
    query::JaegerApiOptions o;
    o.store_directory = scaleStore().directory;
    o.max_scan_bytes = uint64_t{64} << 30;  // the full-scan comparison reads everything
    return o;
  }());
  return instance;
}

constexpr int64_t kNowMicros = kEnd / 1000;

void run(benchmark::State& state, const std::string& target) {
  const ScaleStore& s = scaleStore();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    query::ApiResponse r = api().handle(target, kNowMicros);
    if (r.status != 200) {
      state.SkipWithError((std::to_string(r.status) + " " + r.body.substr(0, 200)).c_str());
      return;
    }
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["hour_spans"] = static_cast<double>(s.spans);
  state.counters["history_spans"] = static_cast<double>(s.history_spans);
  state.counters["answer_bytes"] = static_cast<double>(bytes);
}

const std::string kHour = "lookback=1h";
const std::string kWeek = "lookback=168h";
const std::string kDepsHour = "endTs=" + std::to_string(kEnd / 1000000) + "&lookback=3600000";
const std::string kDepsWeek = "endTs=" + std::to_string(kEnd / 1000000) + "&lookback=604800000";

// The Services page: dependencies and RED, for one hour and for seven days.
void BM_ScaleQueryDependenciesHour(benchmark::State& state) {
  run(state, "/api/dependencies?" + kDepsHour);
}
BENCHMARK(BM_ScaleQueryDependenciesHour)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryRedHour(benchmark::State& state) {
  run(state, "/api/otlpd/red?" + kHour);
}
BENCHMARK(BM_ScaleQueryRedHour)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryRedOperationsHour(benchmark::State& state) {
  run(state, "/api/otlpd/red?service=frontend&" + kHour);
}
BENCHMARK(BM_ScaleQueryRedOperationsHour)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryDependenciesWeek(benchmark::State& state) {
  run(state, "/api/dependencies?" + kDepsWeek);
}
BENCHMARK(BM_ScaleQueryDependenciesWeek)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryRedWeek(benchmark::State& state) {
  run(state, "/api/otlpd/red?" + kWeek);
}
BENCHMARK(BM_ScaleQueryRedWeek)->Unit(benchmark::kMillisecond)->UseRealTime();
// The seven-day chart of every service (one call for the Services page).
void BM_ScaleQueryRedSeriesWeek(benchmark::State& state) {
  run(state, "/api/otlpd/red/series?" + kWeek);
}
BENCHMARK(BM_ScaleQueryRedSeriesWeek)->Unit(benchmark::kMillisecond)->UseRealTime();

// The other pages.
void BM_ScaleQueryServices(benchmark::State& state) {
  run(state, "/api/services");
}
BENCHMARK(BM_ScaleQueryServices)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryOperations(benchmark::State& state) {
  run(state, "/api/v3/operations?service=checkout");
}
BENCHMARK(BM_ScaleQueryOperations)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQuerySearchHour(benchmark::State& state) {
  run(state, "/api/otlpd/trace-summaries?service=payments&limit=20&" + kHour);
}
BENCHMARK(BM_ScaleQuerySearchHour)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQuerySearchHourNoMatch(benchmark::State& state) {
  run(state,
      "/api/otlpd/trace-summaries?service=payments&tags=%7B%22no.such%22%3A%22x%22%7D&" + kHour);
}
BENCHMARK(BM_ScaleQuerySearchHourNoMatch)->Unit(benchmark::kMillisecond)->UseRealTime();

// A trace of the middle of the last hour, found once by a search.
void BM_ScaleQueryTraceById(benchmark::State& state) {
  static const std::string id = [] {
    query::ApiResponse r =
        api().handle("/api/otlpd/trace-summaries?service=checkout&limit=1&end=" +
                         std::to_string((kEnd - kHourNs / 2) / 1000) + "&lookback=1m",
                     kNowMicros);
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.contains("data") || body["data"].empty()) return std::string();
    return body["data"][0].value("traceID", std::string());
  }();
  if (id.empty()) {
    state.SkipWithError("no trace found");
    return;
  }
  run(state, "/api/traces/" + id);
}
BENCHMARK(BM_ScaleQueryTraceById)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_ScaleQueryLogsHour(benchmark::State& state) {
  run(state, "/api/otlpd/logs?limit=100&" + kHour);
}
BENCHMARK(BM_ScaleQueryLogsHour)->Unit(benchmark::kMillisecond)->UseRealTime();

// Before the rollups: every span of the window read and grouped (what /api/dependencies and
// /api/otlpd/red did), for one hour. Skipped above 5M spans (minutes per iteration).
void fullScan(benchmark::State& state, bool red) {
  const ScaleStore& s = scaleStore();
  if (!s.error.empty() || s.spans > 5'000'000) {
    state.SkipWithError(s.error.empty() ? "skipped above 5M spans" : s.error.c_str());
    return;
  }
  query::StoreQueries queries(s.directory);
  for (auto _ : state) {
    store::ScanQuery q;
    q.start_unix_nano = kEnd - kHourNs;
    q.end_unix_nano = kEnd;
    q.newest_first = true;
    query::ScanBudget b;
    query::DependencyGraph graph(1'000'000);
    query::RedAggregator agg(std::nullopt, 1000);
    queries.scanTraces(q, b, [&](const otlp::TracesRequest& request) {
      query::forEachSpan(request, [&](const query::SpanFacts& f) {
        if (red) {
          agg.add(f);
        } else {
          graph.add(f);
        }
      });
      return red || !graph.truncated();
    });
    benchmark::DoNotOptimize(red ? agg.finish(3600) : graph.finish());
  }
  state.counters["hour_spans"] = static_cast<double>(s.spans);
}
void BM_ScaleQueryFullScanDependenciesHour(benchmark::State& state) {
  fullScan(state, false);
}
BENCHMARK(BM_ScaleQueryFullScanDependenciesHour)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
void BM_ScaleQueryFullScanRedHour(benchmark::State& state) {
  fullScan(state, true);
}
BENCHMARK(BM_ScaleQueryFullScanRedHour)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace otlpd::bench
