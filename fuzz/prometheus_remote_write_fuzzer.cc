// Prometheus remote write bodies (src/prometheus/remote_write.h): snappy block decompression with
// an output limit, then the WriteRequest decoder. Whatever the bytes declare, the output never
// passes the limit, and what decompresses compresses back to itself. Input: a selector byte
// (limit), then the body.
#include "fuzz_support.h"
#include "prometheus/remote_write.h"

using namespace otlpd;
namespace rw = otlpd::prometheus::remote_write;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  static const size_t kLimits[] = {0, 16, 4096, 1 << 20};
  const size_t limit = kLimits[data[0] & 3];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  // The body as it arrives (snappy), and as if it were already uncompressed.
  (void)rw::decodeRequest(body);
  absl::StatusOr<std::string> raw = rw::snappyUncompress(body, limit);
  if (!raw.ok()) return 0;
  OTLPD_FUZZ_CHECK(raw->size() <= limit,
                   std::to_string(raw->size()) + " > " + std::to_string(limit));
  absl::StatusOr<std::string> again = rw::snappyUncompress(rw::snappyCompress(*raw), limit);
  OTLPD_FUZZ_CHECK(again.ok() && *again == *raw, "snappy round trip differs");
  absl::StatusOr<std::vector<rw::DecodedSeries>> series = rw::decodeRequest(*raw);
  if (series.ok()) {
    for (const rw::DecodedSeries& s : *series) {
      for (const auto& [name, value] : s.labels) (void)(name.size() + value.size());
    }
  }
  return 0;
}
