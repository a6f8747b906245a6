// The index of a sealed store file (`<file>.arrow.idx`, src/store/file_index.h): decoding any
// bytes, the round trip of what decodes, and a corrupt but well-stamped index steering the
// query API's reads (StoreReader::scan and the query API over a store of real files). A wrong
// index may make a query miss rows; it must never crash it. Input: a selector byte, then the
// index bytes.
#include <memory>

#include "fuzz_support.h"
#include "otlpd/store/reader.h"
#include "query/jaeger_api.h"
#include "store/file_index.h"
#include "store_support.h"

using namespace otlpd;

namespace {

struct Store {
  fuzz::ScratchDir root{"otlpd-fuzz-index"};
  std::string files[3];  // by signal
  std::unique_ptr<query::JaegerApi> api;
  Store() {
    for (pipeline::Signal s : pipeline::kAllSignals) {
      files[static_cast<int>(s)] =
          fuzz::writeSampleFile(root.path(), s, store::BodyCodec::kZstd, 2, 4);
    }
    query::JaegerApiOptions options;
    options.store_directory = root.path();
    api = std::make_unique<query::JaegerApi>(options);
  }
};

constexpr int64_t kNowMicros = 1'700'000'100'000'000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  static Store store_instance;  // destroyed at exit, with its scratch directory
  Store* store = &store_instance;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const pipeline::Signal signal = fuzz::signalOf(selector);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string& file = store->files[static_cast<int>(signal)];

  // The index as found on disk: any bytes.
  fuzz::writeFile(store::indexPathFor(file), bytes);
  (void)store::loadFileIndex(file, signal);

  auto index = store::decodeFileIndex(bytes);
  if (index.ok()) {
    const std::string encoded = store::encodeFileIndex(*index);
    auto again = store::decodeFileIndex(encoded);
    OTLPD_FUZZ_CHECK(again.ok(), again.status().ToString());
    OTLPD_FUZZ_CHECK(store::encodeFileIndex(*again) == encoded, "re-encoding differs");
    // Stamped for this file, so that the reader believes it.
    index->signal = signal;
    const absl::Status written = store::writeFileIndex(file, *index, false);
    OTLPD_FUZZ_CHECK(written.ok(), written.ToString());
  }

  store::ScanQuery q;
  q.signal = signal == pipeline::Signal::kTraces    ? store::StoredSignal::kTraces
             : signal == pipeline::Signal::kMetrics ? store::StoredSignal::kMetrics
                                                    : store::StoredSignal::kLogs;
  if (selector & 4) q.service = "checkout";
  if (selector & 8) q.name = "GET /api/orders";
  if (selector & 16) q.trace_id = "0102030405060708090a0b0c0d0e0f10";
  if (selector & 32) q.any_trace_ids = {std::string(16, '\x07'), std::string(16, '\0')};
  if (selector & 64) {
    q.min_duration_ns = 1000;
    q.max_duration_ns = 1'000'000'000;
    q.min_severity = 13;
  }
  if (selector & 128) {
    q.start_unix_nano = 1'700'000'000'000'000'000;
    q.end_unix_nano = 1'700'000'001'000'000'000;
  }
  store::StoreReader reader(store->root.path());
  (void)reader.scan(q, [&](std::string_view request) {
    // A corrupt file may hold strings that are not UTF-8; the structure must be right.
    OTLPD_FUZZ_CHECK(fuzz::wellFormed(signal, request), "scan emitted a malformed request");
    return true;
  });
  if (signal == pipeline::Signal::kTraces) {
    (void)store->api->handle(
        size % 2 == 0 ? "/api/services" : "/api/traces?service=checkout&lookback=2h", kNowMicros);
  }
  return 0;
}
