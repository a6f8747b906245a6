// Decompression of request bodies (src/common/compression.h) with output limits: gzip, deflate
// (zlib and raw) and zstd. Whatever the bytes declare, the output never passes the limit, and what
// decompresses within it is what compress() gives back. Input: a selector byte (encoding and
// limit), then the compressed body.
#include "common/compression.h"
#include "fuzz_support.h"

using namespace otlpd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quietLogging();
  if (size == 0) return 0;
  static const common::Compression kEncodings[] = {
      common::Compression::kGzip, common::Compression::kDeflate, common::Compression::kZstd,
      common::Compression::kNone};
  const common::Compression encoding = kEncodings[data[0] & 3];
  // Limits from 0 to 4 MiB, most of them small enough to be hit.
  static const size_t kLimits[] = {0, 1, 100, 4096, 65536, 1 << 20, 4 << 20, 300};
  const size_t limit = kLimits[(data[0] >> 2) & 7];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string out = "left over from the last call";
  const absl::Status s = common::decompress(encoding, input, limit, out);
  if (s.ok()) {
    OTLPD_FUZZ_CHECK(out.size() <= limit,
                     std::to_string(out.size()) + " > " + std::to_string(limit));
    // Back and forth: compressing what came out gives it back.
    auto again = common::compress(encoding, out);
    OTLPD_FUZZ_CHECK(again.ok(), again.status().ToString());
    std::string round;
    const absl::Status back = common::decompress(encoding, *again, limit, round);
    OTLPD_FUZZ_CHECK(back.ok(), back.ToString());
    OTLPD_FUZZ_CHECK(round == out, "round trip differs");
  } else {
    OTLPD_FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument ||
                         s.code() == absl::StatusCode::kResourceExhausted,
                     s.ToString());
    // At most the limit and one byte are ever written.
    OTLPD_FUZZ_CHECK(out.size() <= limit + 1, std::to_string(out.size()));
  }
  return 0;
}
