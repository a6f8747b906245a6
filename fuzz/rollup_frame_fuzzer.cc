// Rollup files (`rollups/*.rollup` and their `.hourly` summaries, src/store/rollup.h and
// rollup_store.h) are read back by the query API: any bytes found there must never crash it.
// Frames decode or are refused; what decodes re-encodes to an equal segment; the bytes as a
// rollup file (and as an hourly summary) feed one of RED, its series, dependencies and Jaeger's
// Monitor tab. Input: a selector byte (bit 0: also as the hourly summary), then the file's bytes.
#include <iterator>
#include <memory>

#include "fuzz_support.h"
#include "query/jaeger_api.h"
#include "store/rollup.h"
#include "store/rollup_store.h"
#include "store_support.h"

using namespace otlpd;

namespace {

struct Store {
  fuzz::ScratchDir root{"otlpd-fuzz-rollup"};
  std::unique_ptr<query::JaegerApi> api;
  Store() {
    std::filesystem::create_directories(std::filesystem::path(root.path()) / "rollups");
    std::filesystem::create_directories(std::filesystem::path(root.path()) / "traces");
    query::JaegerApiOptions options;
    options.store_directory = root.path();
    api = std::make_unique<query::JaegerApi>(options);
  }
};

constexpr int64_t kNowMicros = 1'700'000'100'000'000;
const char* const kTargets[] = {
    "/api/otlpd/red?lookback=168h",
    "/api/otlpd/red?service=checkout&start=0",
    "/api/otlpd/red/series?lookback=168h&step=1h",
    "/api/otlpd/red/series?start=0&step=1m",
    "/api/dependencies?endTs=1700000100000&lookback=604800000",
    "/api/metrics/latencies?service=checkout&quantile=0.99&groupByOperation=true&step=60000",
    "/api/metrics/errors?service=checkout&spanKind=client&spanKind=server",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static Store store_instance;  // destroyed at exit, with its scratch directory
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto frame = store::decodeRollupFrame(bytes); frame.ok()) {
    const std::string again = store::encodeRollupFrame(frame->first, frame->second);
    auto back = store::decodeRollupFrame(again);
    OTLPD_FUZZ_CHECK(back.ok(), back.status().ToString());
    OTLPD_FUZZ_CHECK(
        store::encodeRollupSegment(back->second) == store::encodeRollupSegment(frame->second),
        "re-encoding differs");
    for (const store::SpanRollup& r : frame->second.spans) {
      for (double q : {0.0, 0.5, 0.99, 1.0}) (void)r.latency.quantile(q);
    }
  }
  (void)store::decodeRollupSegment(bytes);

  const std::filesystem::path dir = std::filesystem::path(store_instance.root.path()) / "rollups";
  const std::string minute_file = (dir / "20231114T000000Z-000001.rollup").string();
  const std::string newest = (dir / "20231115T000000Z-000002.rollup").string();
  fuzz::writeFile(minute_file, bytes);
  fuzz::writeFile(newest, bytes);
  if ((selector & 1) != 0) fuzz::writeFile(minute_file + ".hourly", bytes);
  // One endpoint per input (the input's length picks it): every endpoint still sees every kind of
  // file, and a run is several times faster than answering all seven each time.
  (void)store_instance.api->handle(kTargets[size % std::size(kTargets)], kNowMicros);
  std::error_code ec;
  std::filesystem::remove(minute_file + ".hourly", ec);
  return 0;
}
