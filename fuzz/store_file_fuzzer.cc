// A corrupted store file (Arrow IPC stream, src/store/ipc.cc, read by src/store/reader.cc) must
// never crash the query API. The input is written as the only .arrow file of a signal's directory
// and read three ways: StoreReader::scanFile with a query the selector byte picks (every request
// it emits must parse with protobuf), scanOperations, and the query API's endpoints over the store
// (src/query/jaeger_api.h). Input: a selector byte, then the file's bytes.
#include <iterator>
#include <memory>

#include "fuzz_support.h"
#include "otlpd/store/reader.h"
#include "query/jaeger_api.h"
#include "store_support.h"

using namespace otlpd;

namespace {

struct Store {
  fuzz::ScratchDir root{"otlpd-fuzz-store"};
  std::unique_ptr<query::JaegerApi> api;
  Store() {
    for (const char* d : {"traces", "metrics", "logs"}) {
      std::filesystem::create_directories(std::filesystem::path(root.path()) / d);
    }
    query::JaegerApiOptions options;
    options.store_directory = root.path();
    options.max_scan_bytes = 4 << 20;
    api = std::make_unique<query::JaegerApi>(options);
  }
};

// Endpoints that read each signal's files; `now` is the sample data's time.
constexpr int64_t kNowMicros = 1'700'000'100'000'000;
const char* const kTraceTargets[] = {
    "/api/services",
    "/api/services/checkout/operations",
    "/api/traces?service=checkout&limit=20&lookback=2h",
    "/api/traces?service=checkout&tags=%7B%22http.status_code%22%3A%22500%22%7D&minDuration=1ms",
    "/api/traces/0102030405060708090a0b0c0d0e0f10",
    "/api/dependencies?endTs=1700000100000&lookback=7200000",
    ("/api/v3/traces?query.service_name=checkout&query.start_time_min=2023-11-14T00:00:00Z&"
     "query.start_time_max=2023-11-15T00:00:00Z"),
    "/api/otlpd/trace-summaries?lookback=2h",
    "/api/otlpd/red?lookback=2h",
};
const char* const kLogTargets[] = {"/api/otlpd/logs?lookback=2h&severity=warn&body=error"};
const char* const kMetricTargets[] = {"/api/otlpd/metrics?lookback=2h",
                                      "/api/otlpd/metrics/series?name=http.server.duration"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static Store store_instance;  // destroyed at exit, with its scratch directory
  Store* store = &store_instance;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const pipeline::Signal signal = fuzz::signalOf(selector);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string path =
      (std::filesystem::path(store->root.path()) / std::string(pipeline::signalName(signal)) /
       "20231114T221320Z-000001.arrow")
          .string();
  fuzz::writeFile(path, bytes);

  store::ScanQuery q;
  q.signal = signal == pipeline::Signal::kTraces    ? store::StoredSignal::kTraces
             : signal == pipeline::Signal::kMetrics ? store::StoredSignal::kMetrics
                                                    : store::StoredSignal::kLogs;
  q.newest_first = (selector & 4) != 0;
  if (selector & 8) q.max_scan_bytes = 1024;
  if (selector & 16) q.service = "checkout";
  if (selector & 32) q.trace_id = "0102030405060708090a0b0c0d0e0f10";
  if (selector & 64) q.attributes = {{"http.status_code", "200"}};
  if (selector & 128) {
    q.min_duration_ns = 1000;
    q.min_severity = 9;
    q.any_trace_ids = {std::string(16, '\x01'), "0102030405060708090a0b0c0d0e0f10"};
  }
  size_t requests = 0;
  (void)store::StoreReader::scanFile(path, q, [&](std::string_view request) {
    // A corrupt file may hold strings that are not UTF-8; the structure must be right.
    OTLPD_FUZZ_CHECK(fuzz::wellFormed(signal, request), "scan emitted a malformed request");
    return ++requests < 100;
  });
  // One endpoint per input (the input's length picks it), so that a run stays fast.
  if (signal == pipeline::Signal::kTraces) {
    std::vector<store::StoreReader::SpanOperation> operations;
    (void)store::StoreReader::scanOperations(path, (selector & 8) ? 1024 : 0, &operations);
    (void)store->api->handle(kTraceTargets[size % std::size(kTraceTargets)], kNowMicros);
  } else if (signal == pipeline::Signal::kLogs) {
    (void)store->api->handle(kLogTargets[size % std::size(kLogTargets)], kNowMicros);
  } else {
    (void)store->api->handle(kMetricTargets[size % std::size(kMetricTargets)], kNowMicros);
  }
  std::filesystem::remove(path);
  return 0;
}
