// Body buffers of store files decompressed against the length the file declares: the memory
// follows the data, never the claim (the store_file fuzz target found a corrupt length making the
// query API allocate and zero 4 GiB for one buffer).
#include <gtest/gtest.h>
#include <lz4frame.h>
#include <zstd.h>

#include <string>

#include "store/ipc.h"

namespace otlpd::store {
namespace {

std::string zstd(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 1));
  return out;
}

std::string lz4(const std::string& raw) {
  std::string out(LZ4F_compressFrameBound(raw.size(), nullptr), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), raw.data(), raw.size(), nullptr));
  return out;
}

std::string sample() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "span-" + std::to_string(i * 7919 % 1000) + ";";
  return s;
}

TEST(StoreIpcBuffer, DecompressesWhatTheWriterWrote) {
  const std::string raw = sample();
  std::string out;
  ASSERT_TRUE(decompressBuffer(BodyCodec::kZstd, zstd(raw), raw.size(), out).ok());
  EXPECT_EQ(out, raw);
  ASSERT_TRUE(decompressBuffer(BodyCodec::kLz4Frame, lz4(raw), raw.size(), out).ok());
  EXPECT_EQ(out, raw);
  // Long runs of one value compress past the one-call ratio and take the growing path.
  const std::string zeros(8 << 20, '\0');
  ASSERT_TRUE(decompressBuffer(BodyCodec::kZstd, zstd(zeros), zeros.size(), out).ok());
  EXPECT_EQ(out, zeros);
  ASSERT_TRUE(decompressBuffer(BodyCodec::kLz4Frame, lz4(zeros), zeros.size(), out).ok());
  EXPECT_EQ(out, zeros);
}

TEST(StoreIpcBuffer, ADeclaredLengthTheDataDoesNotHaveIsCorruptWithoutBeingAllocated) {
  const std::string raw = sample();
  for (BodyCodec codec : {BodyCodec::kZstd, BodyCodec::kLz4Frame}) {
    const std::string compressed = codec == BodyCodec::kZstd ? zstd(raw) : lz4(raw);
    std::string out;
    const absl::Status s = decompressBuffer(codec, compressed, size_t{1} << 32, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    // What was allocated followed the data produced, not the 4 GiB claimed.
    EXPECT_LT(out.capacity(), size_t{16} << 20);
    EXPECT_EQ(decompressBuffer(codec, compressed, raw.size() - 1, out).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(decompressBuffer(codec, compressed, raw.size() + 1, out).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(decompressBuffer(codec, compressed.substr(0, compressed.size() / 2), raw.size(), out)
                  .code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(decompressBuffer(codec, "garbage that is not a frame", raw.size(), out).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace otlpd::store
