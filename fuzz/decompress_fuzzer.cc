// Decompression of request bodies (src/common/compression.h) with output limits: gzip, deflate
// (zlib and raw) and zstd. Whatever the bytes declare, the output never passes the limit, and what
// decompresses within it is what compress() gives back. Input: a selector byte (encoding and
// limit), then the compressed body. gzip and zlib-format bodies that decode (through libdeflate)
// must decode to the same bytes with zlib's own inflate: the fast codec accepts nothing zlib
// would read differently. The selector's top bits pick a memory budget for a second decoding
// (the receivers' `may_hold`): it either reads the same, or stops as Unavailable without output,
// never holding more than the budget granted, and a budget of the whole limit never stops it.
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <string>

#include "common/compression.h"
#include "fuzz_support.h"

using namespace otlpd;

namespace {

// zlib's reading of one gzip member or zlib stream, if it takes exactly `input` and produces at
// most `limit` bytes; nullopt otherwise (more members, trailing bytes, errors, over the limit).
std::optional<std::string> zlibReading(std::string_view input, int window_bits, size_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return std::nullopt;
  std::string out(limit + 1, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&zs, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && zs.avail_in == 0 && zs.total_out <= limit;
  out.resize(zs.total_out);
  inflateEnd(&zs);
  if (!whole) return std::nullopt;
  return out;
}

}  // namespace

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
    // Differential: where zlib reads the body as one stream, it reads the same bytes. (A gzip
    // header CRC, FHCRC, is checked by zlib and skipped by libdeflate: left out.)
    const bool gzip_header_crc = input.size() > 3 && (static_cast<uint8_t>(input[3]) & 0x02) != 0;
    if ((encoding == common::Compression::kGzip && !gzip_header_crc) ||
        encoding == common::Compression::kDeflate) {
      const int window_bits = encoding == common::Compression::kGzip ? 31 : 15;
      if (std::optional<std::string> zlib = zlibReading(input, window_bits, limit)) {
        OTLPD_FUZZ_CHECK(*zlib == out, "libdeflate and zlib read the body differently");
      }
    }
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
  const unsigned budget_choice = data[0] >> 5;
  if (budget_choice != 0) {
    static const size_t kBudgets[] = {0, 0, 1, 4096, 65536, 200000, 1 << 20, 8 << 20};
    const size_t budget = kBudgets[budget_choice];
    size_t granted = 0;
    std::string budgeted = "left over";
    const absl::Status b = common::decompress(encoding, input, limit, budgeted, [&](size_t bytes) {
      if (bytes > budget) return false;
      granted = std::max(granted, bytes);
      return true;
    });
    if (absl::IsUnavailable(b)) {
      OTLPD_FUZZ_CHECK(budgeted.empty(), "output left after a refusal");
      OTLPD_FUZZ_CHECK(budget < std::max<size_t>(limit + 1, 65536),
                       "refused although the budget covers the limit");
    } else {
      OTLPD_FUZZ_CHECK(b.code() == s.code(), b.ToString() + " vs " + s.ToString());
      if (b.ok()) OTLPD_FUZZ_CHECK(budgeted == out, "the budgeted decoding reads differently");
    }
    // (std::string rounds a capacity under 30 up to 30.)
    OTLPD_FUZZ_CHECK(budgeted.capacity() <= std::max(granted, size_t{30}) || budgeted.empty(),
                     "holds " + std::to_string(budgeted.capacity()) + " of " +
                         std::to_string(granted) + " granted");
  }
  return 0;
}
