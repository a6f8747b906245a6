#include "common/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <random>
#include <string>

namespace otlpd::common {
namespace {

constexpr size_t kMiB = 1024 * 1024;

// Half random, half repetitive, so that compressors do real work and the output is not trivial.
std::string sampleData(size_t size, uint32_t seed = 42) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(size);
  while (s.size() < size) {
    if (rng() % 2 == 0) {
      s += "service.name=checkout span=GET /api/cart ";
    } else {
      for (int i = 0; i < 16 && s.size() < size; ++i) s.push_back(static_cast<char>(rng()));
    }
  }
  s.resize(size);
  return s;
}

std::string mustCompress(Compression c, std::string_view input) {
  auto compressed = compress(c, input);
  EXPECT_TRUE(compressed.ok()) << compressed.status();
  return compressed.ok() ? *std::move(compressed) : std::string();
}

std::string rawDeflate(std::string_view input) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, input.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(CompressionParseTest, KnownEncodings) {
  EXPECT_EQ(parseContentEncoding(""), Compression::kNone);
  EXPECT_EQ(parseContentEncoding("identity"), Compression::kNone);
  EXPECT_EQ(parseContentEncoding("IDENTITY"), Compression::kNone);
  EXPECT_EQ(parseContentEncoding("gzip"), Compression::kGzip);
  EXPECT_EQ(parseContentEncoding("GZip"), Compression::kGzip);
  EXPECT_EQ(parseContentEncoding(" gzip "), Compression::kGzip);
  EXPECT_EQ(parseContentEncoding("x-gzip"), Compression::kGzip);
  EXPECT_EQ(parseContentEncoding("deflate"), Compression::kDeflate);
  EXPECT_EQ(parseContentEncoding("Zstd"), Compression::kZstd);
}

TEST(CompressionParseTest, UnsupportedEncodings) {
  EXPECT_EQ(parseContentEncoding("br"), std::nullopt);
  EXPECT_EQ(parseContentEncoding("snappy"), std::nullopt);
  EXPECT_EQ(parseContentEncoding("gzip, zstd"), std::nullopt);
  EXPECT_EQ(parseContentEncoding("gzipx"), std::nullopt);
}

TEST(CompressionParseTest, Names) {
  EXPECT_EQ(compressionName(Compression::kNone), "none");
  EXPECT_EQ(compressionName(Compression::kGzip), "gzip");
  EXPECT_EQ(compressionName(Compression::kDeflate), "deflate");
  EXPECT_EQ(compressionName(Compression::kZstd), "zstd");
  for (Compression c :
       {Compression::kNone, Compression::kGzip, Compression::kDeflate, Compression::kZstd}) {
    EXPECT_EQ(parseContentEncoding(compressionName(c) == "none" ? "" : compressionName(c)), c);
  }
}

class CompressionCodecTest : public ::testing::TestWithParam<Compression> {};

INSTANTIATE_TEST_SUITE_P(CompressionAllCodecs, CompressionCodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kDeflate, Compression::kZstd),
                         [](const auto& info) { return std::string(compressionName(info.param)); });

// The codecs that really compress; identity has no bombs, corruption or truncation.
class CompressionCompressedCodecTest : public ::testing::TestWithParam<Compression> {};

INSTANTIATE_TEST_SUITE_P(CompressionCompressedCodecs, CompressionCompressedCodecTest,
                         ::testing::Values(Compression::kGzip, Compression::kDeflate,
                                           Compression::kZstd),
                         [](const auto& info) { return std::string(compressionName(info.param)); });

TEST_P(CompressionCodecTest, RoundTrip) {
  for (size_t size : {size_t{1}, size_t{100}, size_t{65536}, size_t{65537}, 3 * kMiB}) {
    const std::string data = sampleData(size, static_cast<uint32_t>(size));
    const std::string compressed = mustCompress(GetParam(), data);
    std::string out = "stale contents";
    ASSERT_TRUE(decompress(GetParam(), compressed, 8 * kMiB, out).ok()) << "size " << size;
    EXPECT_EQ(out, data) << "size " << size;
  }
}

TEST_P(CompressionCompressedCodecTest, CompressesRepetitiveData) {
  const std::string data(1 * kMiB, 'a');
  EXPECT_LT(mustCompress(GetParam(), data).size(), data.size() / 100);
}

TEST_P(CompressionCodecTest, EmptyInputIsEmptyBody) {
  std::string out = "stale";
  EXPECT_TRUE(decompress(GetParam(), "", 1024, out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_P(CompressionCodecTest, CompressedEmptyInputRoundTrips) {
  const std::string compressed = mustCompress(GetParam(), "");
  std::string out = "stale";
  EXPECT_TRUE(decompress(GetParam(), compressed, 0, out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_P(CompressionCodecTest, ExactlyAtLimitIsAccepted) {
  const std::string data = sampleData(100000);
  const std::string compressed = mustCompress(GetParam(), data);
  std::string out;
  ASSERT_TRUE(decompress(GetParam(), compressed, data.size(), out).ok());
  EXPECT_EQ(out, data);

  const absl::Status over = decompress(GetParam(), compressed, data.size() - 1, out);
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << over;
  EXPECT_EQ(over.message(), "decompressed body exceeds 99999 bytes");
  EXPECT_TRUE(out.empty());
}

// Receivers grow their memory reservation as the output grows: every growth of the output is
// asked for first, what is asked covers what is held, and a refusal stops the decoding with
// Unavailable (retryable) and no output, where the size limit alone would have let it go on.
TEST_P(CompressionCodecTest, OutputGrowsOnlyAsTheBudgetGrants) {
  const std::string data = sampleData(3 * kMiB);
  const std::string compressed = mustCompress(GetParam(), data);
  std::string out;
  size_t largest_asked = 0;
  int asked = 0;
  ASSERT_TRUE(decompress(GetParam(), compressed, 64 * kMiB, out, [&](size_t bytes) {
                ++asked;
                largest_asked = std::max(largest_asked, bytes);
                return true;
              }).ok());
  EXPECT_EQ(out, data);
  EXPECT_GT(asked, 0);
  EXPECT_GE(largest_asked, data.size());
  EXPECT_GE(largest_asked, out.capacity());
  EXPECT_LE(largest_asked, 2 * data.size() + kMiB);  // at most doubling past the output

  asked = 0;
  const absl::Status refused = decompress(GetParam(), compressed, 64 * kMiB, out,
                                          [&](size_t bytes) { return ++asked, bytes <= kMiB; });
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_NE(refused.message().find("retry later"), absl::string_view::npos) << refused;
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), kMiB);
  EXPECT_GT(asked, 0);

  // Granted again, the same body decodes (no state left behind on this thread).
  ASSERT_TRUE(decompress(GetParam(), compressed, 64 * kMiB, out, [](size_t) { return true; }).ok());
  EXPECT_EQ(out, data);
  ASSERT_TRUE(decompress(GetParam(), compressed, 64 * kMiB, out).ok());
  EXPECT_EQ(out, data);
}

// A 100 MB body of zeros compresses to ~100 KB (gzip) or a few KB (zstd); the decoder must stop
// at the limit instead of trusting sizes in the stream or allocating the whole body.
TEST_P(CompressionCompressedCodecTest, DecompressionBombStopsAtLimit) {
  const std::string compressed = mustCompress(GetParam(), std::string(100 * kMiB, '\0'));
  ASSERT_LT(compressed.size(), 1 * kMiB);

  std::string out;
  const absl::Status status = decompress(GetParam(), compressed, 1 * kMiB, out);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(status.message(), "decompressed body exceeds 1048576 bytes");
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), 1 * kMiB + 1024);
}

TEST_P(CompressionCompressedCodecTest, GarbageInputIsInvalidArgument) {
  std::string out;
  const absl::Status status =
      decompress(GetParam(), "this is definitely not a compressed stream", kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(out.empty());
}

TEST_P(CompressionCompressedCodecTest, TruncatedInputIsInvalidArgument) {
  const std::string compressed = mustCompress(GetParam(), sampleData(200000));
  for (size_t keep : {compressed.size() / 2, compressed.size() - 1, size_t{1}}) {
    std::string out;
    const absl::Status status =
        decompress(GetParam(), std::string_view(compressed).substr(0, keep), kMiB, out);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << "kept " << keep << ": " << status;
    EXPECT_TRUE(out.empty());
  }
}

TEST(CompressionGzipTest, TruncatedMessageSaysSo) {
  const std::string compressed = mustCompress(Compression::kGzip, sampleData(20000));
  std::string out;
  const absl::Status status =
      decompress(Compression::kGzip, compressed.substr(0, compressed.size() - 4), kMiB, out);
  EXPECT_EQ(status.message(), "truncated gzip stream");
}

TEST(CompressionGzipTest, CorruptBodyFailsChecksum) {
  std::string compressed = mustCompress(Compression::kGzip, sampleData(20000));
  compressed[compressed.size() - 6] ^= 0x55;  // inside the CRC32 trailer
  std::string out;
  const absl::Status status = decompress(Compression::kGzip, compressed, kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("corrupt gzip data"), absl::string_view::npos) << status;
}

TEST(CompressionGzipTest, ConcatenatedMembersAreAccepted) {
  const std::string a = sampleData(5000, 1);
  const std::string b = sampleData(7000, 2);
  const std::string body =
      mustCompress(Compression::kGzip, a) + mustCompress(Compression::kGzip, b);
  std::string out;
  ASSERT_TRUE(decompress(Compression::kGzip, body, kMiB, out).ok());
  EXPECT_EQ(out, a + b);
}

TEST(CompressionGzipTest, ConcatenatedMembersShareTheLimit) {
  const std::string member = mustCompress(Compression::kGzip, std::string(600 * 1024, 'x'));
  std::string out;
  EXPECT_TRUE(
      absl::IsResourceExhausted(decompress(Compression::kGzip, member + member, kMiB, out)));
}

TEST(CompressionGzipTest, TrailingGarbageIsRejected) {
  const std::string body = mustCompress(Compression::kGzip, "hello") + "junk";
  std::string out;
  const absl::Status status = decompress(Compression::kGzip, body, kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(status.message(), "4 bytes of trailing data after the gzip stream");
}

TEST(CompressionDeflateTest, RawDeflateIsAccepted) {
  const std::string data = sampleData(50000);
  std::string out;
  ASSERT_TRUE(decompress(Compression::kDeflate, rawDeflate(data), kMiB, out).ok());
  EXPECT_EQ(out, data);
}

TEST(CompressionDeflateTest, CompressProducesZlibFormat) {
  const std::string compressed = mustCompress(Compression::kDeflate, "hello");
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x78);
  EXPECT_EQ(((static_cast<unsigned char>(compressed[0]) << 8) |
             static_cast<unsigned char>(compressed[1])) %
                31,
            0);
}

TEST(CompressionDeflateTest, RawDeflateBombStopsAtLimit) {
  const std::string compressed = rawDeflate(std::string(20 * kMiB, '\0'));
  std::string out;
  EXPECT_TRUE(absl::IsResourceExhausted(decompress(Compression::kDeflate, compressed, kMiB, out)));
  EXPECT_LE(out.capacity(), kMiB + 1024);
}

TEST(CompressionZstdTest, ConcatenatedFramesAreAccepted) {
  const std::string a = sampleData(5000, 3);
  const std::string b = sampleData(9000, 4);
  const std::string body =
      mustCompress(Compression::kZstd, a) + mustCompress(Compression::kZstd, b);
  std::string out;
  ASSERT_TRUE(decompress(Compression::kZstd, body, kMiB, out).ok());
  EXPECT_EQ(out, a + b);
}

// The zstd context is reused per thread: a stream that stopped midway (truncated, corrupt or over
// the limit) must leave nothing behind for the next body, nor lose the window limit.
TEST(CompressionZstdTest, ABodyAfterAFailedOneDecodes) {
  const std::string data = sampleData(200000, 5);
  const std::string body = mustCompress(Compression::kZstd, data);
  std::string out;
  ASSERT_FALSE(decompress(Compression::kZstd, body.substr(0, body.size() / 2), kMiB, out).ok());
  ASSERT_TRUE(decompress(Compression::kZstd, body, kMiB, out).ok());
  EXPECT_EQ(out, data);
  // A good frame, then bytes that are no frame: the stream fails with a frame decoded.
  EXPECT_FALSE(decompress(Compression::kZstd, body + std::string(16, '\x7f'), kMiB, out).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(decompress(Compression::kZstd, body, 1000, out)));
  ASSERT_TRUE(decompress(Compression::kZstd, body, kMiB, out).ok());
  EXPECT_EQ(out, data);
  // Compression reuses its context too: the same input gives the same bytes every time.
  EXPECT_EQ(mustCompress(Compression::kZstd, data), body);
}

// A frame compressed without a known size keeps its declared window; a 32 MiB one would make the
// decoder allocate 32 MiB however small the body is.
TEST(CompressionZstdTest, OversizedWindowIsRejected) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ASSERT_NE(cctx, nullptr);
  ASSERT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 25)));
  const std::string data = sampleData(4096);
  std::string compressed(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer dst{compressed.data(), compressed.size(), 0};
  ZSTD_inBuffer src{data.data(), data.size(), 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &dst, &src, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &dst, &none, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  compressed.resize(dst.pos);

  std::string out;
  const absl::Status status = decompress(Compression::kZstd, compressed, kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(status.message(), "zstd frame window exceeds 8388608 bytes");
}

TEST(CompressionNoneTest, LimitAppliesToIdentity) {
  std::string out;
  EXPECT_TRUE(decompress(Compression::kNone, "12345", 5, out).ok());
  EXPECT_EQ(out, "12345");
  EXPECT_TRUE(absl::IsResourceExhausted(decompress(Compression::kNone, "123456", 5, out)));
}

// gzip as zlib (and so most clients) writes it, at a level our own compressor does not use.
std::string zlibGzip(std::string_view input, int level) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, input.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void setDeclaredSize(std::string& gzip, uint32_t size) {
  for (int i = 0; i < 4; ++i) gzip[gzip.size() - 4 + i] = static_cast<char>(size >> (8 * i));
}

TEST(CompressionGzipTest, ZlibWrittenBodiesDecode) {
  const std::string data = sampleData(300000);
  for (int level : {1, 6, 9}) {
    std::string out;
    ASSERT_TRUE(decompress(Compression::kGzip, zlibGzip(data, level), kMiB, out).ok()) << level;
    EXPECT_EQ(out, data) << level;
  }
}

// The decoder sizes its output from the last member's ISIZE; with two members that hint is
// wrong for the first (600 KB declared as 10 bytes), and the output must grow, not truncate.
TEST(CompressionGzipTest, UndersizedHintOfAnEarlierMemberGrows) {
  const std::string big = sampleData(600000, 3);
  const std::string small = "ten bytes!";
  const std::string body =
      mustCompress(Compression::kGzip, big) + mustCompress(Compression::kGzip, small);
  std::string out;
  ASSERT_TRUE(decompress(Compression::kGzip, body, kMiB, out).ok());
  EXPECT_EQ(out, big + small);

  const absl::Status over =
      decompress(Compression::kGzip, body, big.size() + small.size() - 1, out);
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << over;
  EXPECT_TRUE(out.empty());
}

// A declared size is never trusted: a body claiming 4 GiB gets no output space beyond what its
// bytes could produce, and one claiming less than it holds is rejected (its check fails) rather
// than cut short.
TEST(CompressionGzipTest, LyingDeclaredSizeIsNeverTrusted) {
  const std::string data = sampleData(20000);
  std::string claims_huge = mustCompress(Compression::kGzip, data);
  setDeclaredSize(claims_huge, 0xffffffffu);
  std::string out;
  absl::Status status = decompress(Compression::kGzip, claims_huge, 512 * kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), claims_huge.size() * 1032 + 4096);

  std::string claims_tiny = mustCompress(Compression::kGzip, data);
  setDeclaredSize(claims_tiny, 3);
  status = decompress(Compression::kGzip, claims_tiny, kMiB, out);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(out.empty());
}

// A bomb that declares a small size (ISIZE is only the size mod 2^32, or a lie) still stops at
// the limit, with no more than the limit and a byte of output space.
TEST(CompressionGzipTest, BombDeclaringASmallSizeStopsAtLimit) {
  std::string bomb = mustCompress(Compression::kGzip, std::string(64 * kMiB, '\0'));
  setDeclaredSize(bomb, 100);
  std::string out;
  const absl::Status status = decompress(Compression::kGzip, bomb, 2 * kMiB, out);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), 2 * kMiB + 1);
}

TEST(CompressionDeflateTest, ZlibFormatBombStopsAtLimit) {
  const std::string bomb = mustCompress(Compression::kDeflate, std::string(64 * kMiB, 'a'));
  std::string out;
  const absl::Status status = decompress(Compression::kDeflate, bomb, kMiB, out);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), kMiB + 1);
}

}  // namespace
}  // namespace otlpd::common
