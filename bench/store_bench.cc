// Columnar conversion and Arrow IPC writing of 1000-span requests (makeTracesRequest800: ~800
// bytes per span on the wire, reported as wire_B_per_span), per core: rows/s and wire MB/s, with
// and without body compression, and the bytes stored per span (stored_B_per_span).
#include <benchmark/benchmark.h>
#include <google/protobuf/arena.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "bench/payloads.h"
#include "loadgen/payloads.h"
#include "store/ipc.h"
#include "store/otlp_columns.h"
#include "store/signal_store.h"
#include "store/wire_columns.h"

namespace otlpd::bench {
namespace {

using store::BodyCodec;

void setCounters(benchmark::State& state, const otlp::TracesRequest& req, double stored_bytes) {
  const double spans = static_cast<double>(state.iterations()) * 1000;
  state.SetItemsProcessed(static_cast<int64_t>(spans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(req.ByteSizeLong()));
  state.counters["wire_B_per_span"] = static_cast<double>(req.ByteSizeLong()) / 1000;
  if (stored_bytes > 0) state.counters["stored_B_per_span"] = stored_bytes / 1000;
}

void BM_StoreConvertTraces(benchmark::State& state) {
  const auto req = makeTracesRequest800(1000);
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kTraces));
  for (auto _ : state) {
    store::TimeRange range;
    store::appendTraces(req, table, range);
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setCounters(state, req, 0);
}
BENCHMARK(BM_StoreConvertTraces);

// What the store did with a wire batch before issue #6: decode it (on an arena, as a batch does),
// then convert the message.
void BM_StoreDecodeConvertTraces(benchmark::State& state) {
  const auto req = makeTracesRequest800(1000);
  const std::string bytes = req.SerializeAsString();
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kTraces));
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* decoded = google::protobuf::Arena::CreateMessage<otlp::TracesRequest>(&arena);
    if (!decoded->ParseFromString(bytes)) state.SkipWithError("parse");
    store::TimeRange range;
    store::appendTraces(*decoded, table, range);
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setCounters(state, req, 0);
}
BENCHMARK(BM_StoreDecodeConvertTraces);

// The same rows straight from the encoded request (store/wire_columns.h).
void BM_StoreConvertTracesWire(benchmark::State& state) {
  const auto req = makeTracesRequest800(1000);
  const std::string bytes = req.SerializeAsString();
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kTraces));
  for (auto _ : state) {
    store::TimeRange range;
    if (!store::appendTracesWire(bytes, table, range)) state.SkipWithError("wire");
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setCounters(state, req, 0);
}
BENCHMARK(BM_StoreConvertTracesWire);

// Encoding alone: one converted request encoded again and again (dictionaries sent once).
void BM_StoreEncodeTraces(benchmark::State& state) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  const auto req = makeTracesRequest800(1000);
  const auto& fields = store::fieldsFor(pipeline::Signal::kTraces);
  store::ColumnTable table(&fields);
  store::TimeRange range;
  store::appendTraces(req, table, range);
  store::IpcEncoder enc(&fields, codec, {});
  std::string out;
  for (auto _ : state) {
    out.clear();
    (void)enc.appendBatch(table, {}, out);
    benchmark::DoNotOptimize(out.data());
  }
  setCounters(state, req, static_cast<double>(out.size()));
}
BENCHMARK(BM_StoreEncodeTraces)
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->Arg(static_cast<int>(BodyCodec::kLz4Frame))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

void BM_StoreConvertEncodeTraces(benchmark::State& state) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  const auto req = makeTracesRequest800(1000);
  const auto& fields = store::fieldsFor(pipeline::Signal::kTraces);
  store::ColumnTable table(&fields);
  store::IpcEncoder enc(&fields, codec, {});
  std::string out;
  double stored = 0;
  for (auto _ : state) {
    store::TimeRange range;
    store::appendTraces(req, table, range);
    out.clear();
    (void)enc.appendBatch(table, {}, out);
    stored = static_cast<double>(out.size());
    table.clearRows();
  }
  setCounters(state, req, stored);
}
BENCHMARK(BM_StoreConvertEncodeTraces)
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->Arg(static_cast<int>(BodyCodec::kLz4Frame))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

// Through the store: convert, encode, write() to a file (no fsync: that measures the disk).
void storeWriteTraces(benchmark::State& state, bool from_wire) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  const auto req = makeTracesRequest800(1000);
  const std::string bytes = req.SerializeAsString();
  const auto dir = std::filesystem::temp_directory_path() / "otlpd-store-bench";
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.directory = dir.string();
  o.codec = codec;
  o.fsync = store::FsyncPolicy::kNever;
  auto s = store::SignalStore::open(pipeline::Signal::kTraces, o, store::SystemClock::instance());
  if (!s.ok()) {
    state.SkipWithError(std::string(s.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    (void)(from_wire ? (*s)->appendWire(bytes) : (*s)->append(req));
    (void)(*s)->flush();
  }
  const double stored = static_cast<double>((*s)->stats().bytes_written) /
                        static_cast<double>(std::max<int64_t>(1, state.iterations()));
  (void)(*s)->close();
  s->reset();
  std::filesystem::remove_all(dir);
  setCounters(state, req, stored);
}
void BM_StoreWriteTraces(benchmark::State& state) {
  storeWriteTraces(state, false);
}
// As the store exporter writes a wire batch: SignalStore::appendWire().
void BM_StoreWriteTracesWire(benchmark::State& state) {
  storeWriteTraces(state, true);
}
BENCHMARK(BM_StoreWriteTraces)
    ->MeasureProcessCPUTime()
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->Arg(static_cast<int>(BodyCodec::kLz4Frame))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

BENCHMARK(BM_StoreWriteTracesWire)
    ->MeasureProcessCPUTime()
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

// The request `otlpd loadgen` sends (the end-to-end scenarios' payload: 13 span attributes,
// long repeated strings and a few unique ones, a small resource), split into the store's steps:
// wire -> columns, encoding (with the codec) and the whole path to a file.
std::string loadgenTracesBytes(uint64_t seed = 1) {
  return loadgen::makeRequest(pipeline::Signal::kTraces, loadgen::Shape::kRealistic, 1000, seed, 0)
      ->SerializeAsString();
}

// Distinct requests of 1000 items (different ids and values), more than a record batch of
// 10,000 rows holds: a batch built from them in turn repeats no item, as none repeats in
// production. With four variants in turn, zstd found every request again 2-3 times in a batch:
// 52.9 stored bytes per span instead of 67.5.
constexpr uint64_t kDistinctRequests = 16;
template <class MakeBytes>
std::vector<std::string> distinctRequests(MakeBytes make_bytes) {
  std::vector<std::string> requests;
  for (uint64_t seed = 1; seed <= kDistinctRequests; ++seed) requests.push_back(make_bytes(seed));
  return requests;
}
std::vector<std::string> loadgenTracesVariants() {
  return distinctRequests([](uint64_t seed) { return loadgenTracesBytes(seed); });
}

void BM_StoreConvertTracesWireLoadgen(benchmark::State& state) {
  const std::string bytes = loadgenTracesBytes();
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kTraces));
  for (auto _ : state) {
    store::TimeRange range;
    if (!store::appendTracesWire(bytes, table, range)) state.SkipWithError("wire");
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_StoreConvertTracesWireLoadgen);

// Wire -> columns on data whose ids, URLs and addresses never repeat within the run's reach: 128
// distinct requests in turn, the rows cleared every 10 (a record batch), the dictionaries kept
// (a file). Layout 3's admission of repeated strings meets unique values here.
void BM_StoreConvertTracesWireUnique(benchmark::State& state) {
  std::vector<std::string> requests;
  for (uint64_t seed = 1; seed <= 128; ++seed) requests.push_back(loadgenTracesBytes(seed));
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kTraces));
  size_t next = 0;
  for (auto _ : state) {
    store::TimeRange range;
    if (!store::appendTracesWire(requests[next++ % requests.size()], table, range)) {
      state.SkipWithError("wire");
    }
    if (next % 10 == 0) table.clearRows();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
  // Lookups the dictionaries' caches did not answer: unlike the times, not subject to the noise.
  double slow = 0;
  for (const auto& d : table.dictionaries()) slow += static_cast<double>(d->slowLookups());
  state.counters["dict_slow_lookups_per_span"] =
      slow / (static_cast<double>(state.iterations()) * 1000);
}
BENCHMARK(BM_StoreConvertTracesWireUnique);

void BM_StoreEncodeTracesLoadgen(benchmark::State& state) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  const std::string bytes = loadgenTracesBytes();
  const auto& fields = store::fieldsFor(pipeline::Signal::kTraces);
  store::ColumnTable table(&fields);
  store::TimeRange range;
  if (!store::appendTracesWire(bytes, table, range)) state.SkipWithError("wire");
  store::IpcEncoder enc(&fields, codec, {});
  std::string out;
  for (auto _ : state) {
    out.clear();
    (void)enc.appendBatch(table, {}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
  state.counters["stored_B_per_span"] = static_cast<double>(out.size()) / 1000;
}
BENCHMARK(BM_StoreEncodeTracesLoadgen)
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

// What the store exporter does per batch (appendWire; a record batch written at every
// max_rows_per_batch = 10,000 rows, no fsync: that measures the disk), the CPU the end-to-end
// store scenario spends in the store.
void BM_StoreWriteTracesWireLoadgen(benchmark::State& state) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  // Sixteen distinct requests in turn: no span repeats within a record batch.
  const std::vector<std::string> variants = loadgenTracesVariants();
  const std::string& bytes = variants[0];
  const auto dir = std::filesystem::temp_directory_path() / "otlpd-store-bench-loadgen";
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.directory = dir.string();
  o.codec = codec;
  o.fsync = store::FsyncPolicy::kNever;
  auto s = store::SignalStore::open(pipeline::Signal::kTraces, o, store::SystemClock::instance());
  if (!s.ok()) {
    state.SkipWithError(std::string(s.status().message()).c_str());
    return;
  }
  size_t next = 0;
  for (auto _ : state) {
    (void)(*s)->appendWire(variants[next++ % variants.size()]);
  }
  (void)(*s)->flush();
  const double stored = static_cast<double>((*s)->stats().bytes_written) /
                        static_cast<double>(std::max<int64_t>(1, state.iterations()));
  (void)(*s)->close();
  s->reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
  state.counters["wire_B_per_span"] = static_cast<double>(bytes.size()) / 1000;
  state.counters["stored_B_per_span"] = stored / 1000;
}
// Process CPU time: the store's writer thread encodes, compresses and writes (double buffering).
BENCHMARK(BM_StoreWriteTracesWireLoadgen)
    ->MeasureProcessCPUTime()
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

// BM_StoreWriteTracesWireLoadgen on data like production's: every request carries ids (and URL
// order ids) no other carries, renewed in place as `otlpd loadgen --unique-ids` does (a few
// nanoseconds per span, timed: pausing the timer would leave out the writer thread's CPU).
// With the sixteen requests in turn, the rollups' edge joiner found every span already known
// (sixteen thousand of them, a table that stays in cache); here it meets a million, as in otlpd.
void BM_StoreWriteTracesWireUnique(benchmark::State& state) {
  const std::vector<std::string> variants = loadgenTracesVariants();
  std::vector<loadgen::IdPlaces> places;
  for (const std::string& v : variants) {
    auto p = loadgen::findIdPlaces(pipeline::Signal::kTraces, v);
    if (!p.ok()) {
      state.SkipWithError(std::string(p.status().message()).c_str());
      return;
    }
    places.push_back(*std::move(p));
  }
  const auto dir = std::filesystem::temp_directory_path() / "otlpd-store-bench-unique";
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.directory = dir.string();
  o.codec = BodyCodec::kZstd;
  o.fsync = store::FsyncPolicy::kNever;
  auto s = store::SignalStore::open(pipeline::Signal::kTraces, o, store::SystemClock::instance());
  if (!s.ok()) {
    state.SkipWithError(std::string(s.status().message()).c_str());
    return;
  }
  std::vector<std::string> bodies = variants;
  uint64_t mask = 0x9e3779b97f4a7c15ull;
  size_t next = 0;
  // XOR with a new mask each time: the ids stay unique across the run.
  const auto renewed = [&]() -> const std::string& {
    const size_t i = next++ % bodies.size();
    mask = mask * 6364136223846793005ull + 1442695040888963407ull;
    loadgen::renewIds(bodies[i], places[i], mask);
    return bodies[i];
  };
  // A million spans first: the joiner's table full, as after the first ten seconds at 100k/s.
  for (int i = 0; i < 1'000; ++i) (void)(*s)->appendWire(renewed());
  for (auto _ : state) (void)(*s)->appendWire(renewed());
  (void)(*s)->flush();
  (void)(*s)->close();
  s->reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_StoreWriteTracesWireUnique)->MeasureProcessCPUTime();

// Where zstd's time goes in a record batch of loadgen's spans (10,000 rows of sixteen distinct
// requests in turn): every column buffer compressed alone at level 1, as the IPC encoder does.
// Counters: zstd ns per row in all, and the share and stored bytes per row of the buffers that
// take most (issue #18: the offsets of the span attribute strings take ~a quarter of the time
// for ~40% of the stored bytes: increasing integers that zstd matches badly).
void collectBuffers(store::Column& c, const std::string& path,
                    std::vector<std::pair<std::string, std::string_view>>& out) {
  out.emplace_back(path + ".validity", c.validityBuffer().view());
  out.emplace_back(path + ".values", c.valuesBuffer().view());
  out.emplace_back(path + ".offsets", c.offsetsBuffer().view());
  out.emplace_back(path + ".data", c.dataBuffer().view());
  for (size_t i = 0; i < c.childCount(); ++i) {
    collectBuffers(c.child(i), path + "/" + c.child(i).spec().name, out);
  }
}

void BM_StoreZstdPerBufferLoadgen(benchmark::State& state) {
  constexpr size_t kRows = 10'000;
  const int level = static_cast<int>(state.range(0));
  const std::vector<std::string> variants = loadgenTracesVariants();
  const auto& fields = store::fieldsFor(pipeline::Signal::kTraces);
  store::ColumnTable table(&fields);
  store::TimeRange range;
  for (size_t i = 0; table.rows() < kRows; ++i) {
    if (!store::appendTracesWire(variants[i % variants.size()], table, range)) {
      state.SkipWithError("wire");
    }
  }
  std::vector<std::pair<std::string, std::string_view>> buffers;
  for (size_t i = 0; i < table.columnCount(); ++i) {
    collectBuffers(table.column(i), fields[i].name, buffers);
  }
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  // 0: the level's own hash table; the store uses level 1 with 12 (store/ipc.cc).
  if (const auto hash_log = static_cast<int>(state.range(1)); hash_log != 0) {
    ZSTD_CCtx_setParameter(ctx, ZSTD_c_hashLog, hash_log);
  }
  std::vector<double> ns(buffers.size());
  std::vector<size_t> stored(buffers.size());
  std::string scratch(ZSTD_compressBound(size_t{64} << 20), '\0');
  for (auto _ : state) {
    for (size_t b = 0; b < buffers.size(); ++b) {
      const std::string_view raw = buffers[b].second;
      if (raw.empty()) continue;
      const auto t0 = std::chrono::steady_clock::now();
      stored[b] = ZSTD_compress2(ctx, scratch.data(), scratch.size(), raw.data(), raw.size());
      ns[b] +=
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  ZSTD_freeCCtx(ctx);
  const double rows = static_cast<double>(state.iterations()) * static_cast<double>(table.rows());
  double total = 0, raw_bytes = 0;
  for (size_t b = 0; b < buffers.size(); ++b) {
    total += ns[b];
    raw_bytes += static_cast<double>(buffers[b].second.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["zstd_ns_per_row"] = total / rows;
  state.counters["raw_B_per_row"] = raw_bytes / static_cast<double>(table.rows());
  double stored_bytes = 0;
  for (size_t b = 0; b < buffers.size(); ++b) stored_bytes += static_cast<double>(stored[b]);
  state.counters["stored_B_per_row"] = stored_bytes / static_cast<double>(table.rows());
  // The members of attribute value structs that most values leave null (int, double, bool and
  // bytes, zero-filled): what a layout without null members (a dense union) would not compress.
  double null_members_ns = 0;
  for (size_t b = 0; b < buffers.size(); ++b) {
    const std::string& path = buffers[b].first;
    for (const char* member : {"/item/int.", "/item/double.", "/item/bool.", "/item/bytes."}) {
      if (path.find(member) != std::string::npos) null_members_ns += ns[b];
    }
  }
  state.counters["null_members_share"] = total > 0 ? null_members_ns / total : 0;
  // OTLPD_BENCH_ZSTD_BUFFERS=1: every buffer's share of the time and bytes, most time first.
  if (const char* table_wanted = std::getenv("OTLPD_BENCH_ZSTD_BUFFERS");
      table_wanted != nullptr && std::string_view(table_wanted) == "1") {
    std::vector<size_t> order(buffers.size());
    for (size_t b = 0; b < order.size(); ++b) order[b] = b;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return ns[x] > ns[y]; });
    const auto per_row = [&](double v) { return v / static_cast<double>(table.rows()); };
    for (size_t b : order) {
      if (buffers[b].second.empty()) continue;
      std::fprintf(stderr, "%5.1f%% of zstd's time, raw %7.1f B/row, stored %6.2f B/row: %s\n",
                   total > 0 ? 100 * ns[b] / total : 0.0,
                   per_row(static_cast<double>(buffers[b].second.size())),
                   per_row(static_cast<double>(stored[b])), buffers[b].first.c_str());
    }
  }
  for (const char* name : {"attributes/item/str.data", "attributes/item/str.offsets",
                           "attributes/item/double.values", "attributes/item/int.values"}) {
    for (size_t b = 0; b < buffers.size(); ++b) {
      if (buffers[b].first != name) continue;
      const std::string short_name =
          std::string(name).substr(std::string("attributes/item/").size());
      state.counters[short_name + "_share"] = total > 0 ? ns[b] / total : 0;
      state.counters[short_name + "_stored_B_per_row"] =
          static_cast<double>(stored[b]) / static_cast<double>(table.rows());
    }
  }
}
BENCHMARK(BM_StoreZstdPerBufferLoadgen)
    ->MinTime(1)
    ->Args({1, 0})
    ->Args({1, 12})
    ->Args({1, 11})
    ->Args({-1, 0})
    ->Args({-3, 0})
    ->Args({-5, 0})
    ->ArgNames({"level", "hash_log"});

// --- metrics (issue #18): loadgen's realistic request of 1000 points, the end-to-end metrics
// scenarios' payload (gauges, sums and 14-bucket histograms, 1-3 attributes per point) ---------

std::string loadgenMetricsBytes(uint64_t seed = 1) {
  return loadgen::makeRequest(pipeline::Signal::kMetrics, loadgen::Shape::kRealistic, 1000, seed,
                              1'700'000'000'000'000'000ULL)
      ->SerializeAsString();
}

void setMetricsCounters(benchmark::State& state, const std::string& bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes.size()));
  state.counters["wire_B_per_point"] = static_cast<double>(bytes.size()) / 1000;
}

void BM_StoreConvertMetrics(benchmark::State& state) {
  otlp::MetricsRequest req;
  const std::string bytes = loadgenMetricsBytes();
  if (!req.ParseFromString(bytes)) state.SkipWithError("parse");
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kMetrics));
  for (auto _ : state) {
    store::TimeRange range;
    store::appendMetrics(req, table, range);
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setMetricsCounters(state, bytes);
}
BENCHMARK(BM_StoreConvertMetrics);

// What the store exporter did with a metrics wire batch before: the batch's decode (on an arena),
// then the message conversion.
void BM_StoreDecodeConvertMetrics(benchmark::State& state) {
  const std::string bytes = loadgenMetricsBytes();
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kMetrics));
  for (auto _ : state) {
    google::protobuf::Arena arena;
    auto* decoded = google::protobuf::Arena::CreateMessage<otlp::MetricsRequest>(&arena);
    if (!decoded->ParseFromString(bytes)) state.SkipWithError("parse");
    store::TimeRange range;
    store::appendMetrics(*decoded, table, range);
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setMetricsCounters(state, bytes);
}
BENCHMARK(BM_StoreDecodeConvertMetrics);

void BM_StoreConvertMetricsWire(benchmark::State& state) {
  const std::string bytes = loadgenMetricsBytes();
  store::ColumnTable table(&store::fieldsFor(pipeline::Signal::kMetrics));
  for (auto _ : state) {
    store::TimeRange range;
    if (!store::appendMetricsWire(bytes, table, range)) state.SkipWithError("wire");
    benchmark::DoNotOptimize(table.rows());
    table.clearRows();
  }
  setMetricsCounters(state, bytes);
}
BENCHMARK(BM_StoreConvertMetricsWire);

// Through the store as the exporter writes a wire batch (sixteen distinct requests in turn, a
// record batch per max_rows_per_batch = 10,000 rows, no fsync): before, the batch decoded and
// then SignalStore::append(); now SignalStore::appendWire(). Process CPU: the writer thread
// encodes and compresses.
void storeWriteMetrics(benchmark::State& state, bool from_wire) {
  const auto codec = static_cast<BodyCodec>(state.range(0));
  const std::vector<std::string> variants =
      distinctRequests([](uint64_t seed) { return loadgenMetricsBytes(seed); });
  const auto dir = std::filesystem::temp_directory_path() / "otlpd-store-bench-metrics";
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.directory = dir.string();
  o.codec = codec;
  o.fsync = store::FsyncPolicy::kNever;
  auto s = store::SignalStore::open(pipeline::Signal::kMetrics, o, store::SystemClock::instance());
  if (!s.ok()) {
    state.SkipWithError(std::string(s.status().message()).c_str());
    return;
  }
  size_t next = 0;
  for (auto _ : state) {
    const std::string& bytes = variants[next++ % variants.size()];
    if (from_wire) {
      (void)(*s)->appendWire(bytes);
    } else {
      google::protobuf::Arena arena;
      auto* decoded = google::protobuf::Arena::CreateMessage<otlp::MetricsRequest>(&arena);
      if (!decoded->ParseFromString(bytes)) state.SkipWithError("parse");
      (void)(*s)->append(*decoded);
    }
  }
  (void)(*s)->flush();
  const double stored = static_cast<double>((*s)->stats().bytes_written) /
                        static_cast<double>(std::max<int64_t>(1, state.iterations()));
  (void)(*s)->close();
  s->reset();
  std::filesystem::remove_all(dir);
  setMetricsCounters(state, variants[0]);
  state.counters["stored_B_per_point"] = stored / 1000;
}
void BM_StoreDecodeWriteMetrics(benchmark::State& state) {
  storeWriteMetrics(state, false);
}
void BM_StoreWriteMetricsWire(benchmark::State& state) {
  storeWriteMetrics(state, true);
}
BENCHMARK(BM_StoreDecodeWriteMetrics)
    ->MeasureProcessCPUTime()
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");
BENCHMARK(BM_StoreWriteMetricsWire)
    ->MeasureProcessCPUTime()
    ->Arg(static_cast<int>(BodyCodec::kNone))
    ->Arg(static_cast<int>(BodyCodec::kZstd))
    ->ArgName("codec(0=none,1=lz4,2=zstd)");

}  // namespace
}  // namespace otlpd::bench
