// The query API over a store filled through the store exporter's own writer (SignalStore):
// trace by id, one-hour searches, services and operations, answered by JaegerApi exactly as the
// jaeger_query extension answers HTTP requests (JSON included). By default the store is small
// (200k spans, filled once per run into /tmp) so that `make bench` stays quick;
// scripts/query_bench.sh sets OTLPD_QUERY_BENCH_SPANS=5000000 and a kept directory.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/payloads.h"
#include "query/jaeger_api.h"
#include "query/jaeger_json.h"
#include "store/signal_store.h"

namespace otlpd::bench {
namespace {

namespace fs = std::filesystem;

// Data covers five hours from kBase; searches look at the last one.
constexpr int64_t kBase = 1'700'000'000'000'000'000;
constexpr int64_t kHourNs = 3'600'000'000'000;
constexpr int64_t kSpanNs = 5 * kHourNs;
constexpr size_t kSpansPerRequest = 1000;
constexpr size_t kSpansPerTrace = 8;
constexpr int kServices = 10;

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string traceId(uint64_t trace) {
  std::string id(16, '\0');
  const uint64_t a = mix(trace + 1), b = mix(trace + 0x9e3779b97f4a7c15ULL);
  std::memcpy(id.data(), &a, 8);
  std::memcpy(id.data() + 8, &b, 8);
  return id;
}

class DataClock final : public store::Clock {
 public:
  absl::Time now() override { return absl::FromUnixNanos(now_ns); }
  int64_t now_ns = kBase;
};

struct BenchStore {
  std::string directory;
  size_t spans = 0;
  std::string error;
};

size_t requestedSpans() {
  const char* v = std::getenv("OTLPD_QUERY_BENCH_SPANS");
  return v != nullptr ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : 200000;
}

// Fills the store once per directory and span count (a marker file remembers a finished fill).
const BenchStore& benchStore() {
  static const BenchStore store = [] {
    BenchStore s;
    const char* dir = std::getenv("OTLPD_QUERY_BENCH_DIR");
    s.spans = requestedSpans() / kSpansPerRequest * kSpansPerRequest;
    s.directory = dir != nullptr ? dir : (fs::temp_directory_path() / "otlpd-query-bench").string();
    const fs::path marker = fs::path(s.directory) / ("filled-" + std::to_string(s.spans));
    if (fs::exists(marker)) return s;
    fs::remove_all(s.directory);
    store::StoreOptions options;
    options.directory = s.directory;
    options.fsync = store::FsyncPolicy::kNever;
    options.max_total_bytes = uint64_t{64} << 30;
    DataClock clock;
    auto writer = store::SignalStore::open(pipeline::Signal::kTraces, options, &clock);
    if (!writer.ok()) {
      s.error = std::string(writer.status().message());
      return s;
    }
    otlp::TracesRequest templates[4];
    for (uint64_t i = 0; i < 4; ++i) templates[i] = makeTracesRequest800(kSpansPerRequest, i + 1);
    const size_t requests = s.spans / kSpansPerRequest;
    for (size_t r = 0; r < requests; ++r) {
      otlp::TracesRequest request = templates[r % 4];
      auto* rs = request.mutable_resource_spans(0);
      for (auto& kv : *rs->mutable_resource()->mutable_attributes()) {
        if (kv.key() == "service.name") {
          kv.mutable_value()->set_string_value("svc-" + std::to_string(r % kServices));
        }
      }
      const int64_t at = kBase + static_cast<int64_t>(static_cast<double>(r) / requests * kSpanNs);
      clock.now_ns = at;
      auto* spans = rs->mutable_scope_spans(0)->mutable_spans();
      for (int i = 0; i < spans->size(); ++i) {
        auto* span = spans->Mutable(i);
        const uint64_t duration = span->end_time_unix_nano() - span->start_time_unix_nano();
        span->set_trace_id(traceId(r * (kSpansPerRequest / kSpansPerTrace) +
                                   static_cast<uint64_t>(i) / kSpansPerTrace));
        span->set_start_time_unix_nano(static_cast<uint64_t>(at) + static_cast<uint64_t>(i) * 1000);
        span->set_end_time_unix_nano(span->start_time_unix_nano() + duration);
      }
      if (auto st = (*writer)->append(request); !st.ok()) {
        s.error = std::string(st.message());
        return s;
      }
    }
    if (auto st = (*writer)->close(); !st.ok()) s.error = std::string(st.message());
    writer->reset();
    std::ofstream(marker) << s.spans << "\n";
    return s;
  }();
  return store;
}

query::JaegerApi& api() {
  static query::JaegerApi instance([] {
    query::JaegerApiOptions o;
    o.store_directory = benchStore().directory;
    return o;
  }());
  return instance;
}

void run(benchmark::State& state, const std::string& target, int expected_status) {
  const BenchStore& s = benchStore();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    query::ApiResponse r = api().handle(target, kBase / 1000 + kSpanNs / 1000);
    if (r.status != expected_status) {
      state.SkipWithError((std::to_string(r.status) + " " + r.body.substr(0, 200)).c_str());
      return;
    }
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["store_spans"] = static_cast<double>(s.spans);
  state.counters["answer_bytes"] = static_cast<double>(bytes);
}

std::string middleTraceHex() {
  const size_t traces = benchStore().spans / kSpansPerTrace;
  return query::hexId(traceId(traces / 2));
}

std::string lastHour() {
  return "start=" + std::to_string((kBase + 4 * kHourNs) / 1000) +
         "&end=" + std::to_string((kBase + kSpanNs) / 1000);
}

void BM_QueryTraceByIdV3(benchmark::State& state) {
  run(state, "/api/v3/traces/" + middleTraceHex(), 200);
}
BENCHMARK(BM_QueryTraceByIdV3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryTraceByIdClassic(benchmark::State& state) {
  run(state, "/api/traces/" + middleTraceHex(), 200);
}
BENCHMARK(BM_QueryTraceByIdClassic)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryTraceSummariesLastHour(benchmark::State& state) {
  run(state, "/api/otlpd/trace-summaries?service=svc-3&limit=20&" + lastHour(), 200);
}
BENCHMARK(BM_QueryTraceSummariesLastHour)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryJaegerSearchLastHour(benchmark::State& state) {
  run(state, "/api/traces?service=svc-3&limit=20&" + lastHour(), 200);
}
BENCHMARK(BM_QueryJaegerSearchLastHour)->Unit(benchmark::kMillisecond)->UseRealTime();

// A filter no span matches: the whole hour is read (the worst case of a search).
void BM_QuerySearchLastHourNoMatch(benchmark::State& state) {
  run(state,
      "/api/otlpd/trace-summaries?service=svc-3&tags=%7B%22no.such%22%3A%22x%22%7D&limit=20&" +
          lastHour(),
      200);
}
BENCHMARK(BM_QuerySearchLastHourNoMatch)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryServices(benchmark::State& state) {
  run(state, "/api/services", 200);
}
BENCHMARK(BM_QueryServices)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same store with the newest file's index removed, as if it were still being written: services
// and operations read that file's columns (sealed files still answer from their indexes).
query::JaegerApi& apiWithUnindexedNewest() {
  static query::JaegerApi instance([] {
    const fs::path source = fs::path(benchStore().directory) / "traces";
    const fs::path copy = fs::path(benchStore().directory + "-unindexed") / "traces";
    std::error_code ec;
    fs::remove_all(copy.parent_path(), ec);
    fs::create_directories(copy, ec);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(source, ec)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const std::string newest_index = files.empty() ? "" : files.back().string();
    for (const fs::path& f : files) {
      if (f.string() != newest_index) fs::create_hard_link(f, copy / f.filename(), ec);
    }
    query::JaegerApiOptions o;
    o.store_directory = copy.parent_path().string();
    return o;
  }());
  return instance;
}

void runUnindexed(benchmark::State& state, const std::string& target) {
  if (!benchStore().error.empty()) {
    state.SkipWithError(benchStore().error.c_str());
    return;
  }
  for (auto _ : state) {
    query::ApiResponse r = apiWithUnindexedNewest().handle(target, kBase / 1000 + kSpanNs / 1000);
    if (r.status != 200) {
      state.SkipWithError(r.body.substr(0, 200).c_str());
      return;
    }
    benchmark::DoNotOptimize(r);
  }
}

void BM_QueryServicesNewestFileUnindexed(benchmark::State& state) {
  runUnindexed(state, "/api/services");
}
BENCHMARK(BM_QueryServicesNewestFileUnindexed)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryOperations(benchmark::State& state) {
  run(state, "/api/v3/operations?service=svc-3", 200);
}
BENCHMARK(BM_QueryOperations)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace otlpd::bench
