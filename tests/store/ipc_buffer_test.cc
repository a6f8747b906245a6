// Body buffers of store files decompressed against the length the file declares: the memory
// follows the data, never the claim (the store_file fuzz target found a corrupt length making the
// query API allocate and zero 4 GiB for one buffer).
#include <gtest/gtest.h>
#include <lz4frame.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "store/ipc.h"
#include "store/otlp_columns.h"

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

std::string lz4WithBlocks(const std::string& raw, LZ4F_blockSizeID_t block_size) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = block_size;
  std::string out(LZ4F_compressFrameBound(raw.size(), &prefs), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), raw.data(), raw.size(), &prefs));
  return out;
}

// A thread reuses one decompression context per codec: a buffer left half-decoded (truncated,
// corrupt, longer than declared) must not leak into the next one.
TEST(StoreIpcBuffer, EachBufferDecodesAloneWhateverTheOneBeforeItLeftBehind) {
  const std::string raw = sample();
  const std::string zeros(1 << 20, '\0');
  for (BodyCodec codec : {BodyCodec::kZstd, BodyCodec::kLz4Frame}) {
    const std::string compressed = codec == BodyCodec::kZstd ? zstd(raw) : lz4(raw);
    const std::string runs = codec == BodyCodec::kZstd ? zstd(zeros) : lz4(zeros);
    const std::string broken[] = {
        compressed.substr(0, compressed.size() / 2),       // truncated mid-frame
        compressed.substr(0, compressed.size() - 1),       // truncated at the end
        compressed + compressed.substr(0, 9),              // a second frame begun
        compressed.substr(0, 40) + std::string(200, 'x'),  // corrupt after the header
    };
    for (const std::string& bad : broken) {
      std::string out;
      EXPECT_FALSE(decompressBuffer(codec, bad, raw.size(), out).ok());
      // Both paths: one call (a plausible length) and the growing one (long runs).
      EXPECT_FALSE(
          decompressBuffer(codec, runs.substr(0, runs.size() / 2), zeros.size(), out).ok());
      ASSERT_TRUE(decompressBuffer(codec, compressed, raw.size(), out).ok()) << bad.size();
      EXPECT_EQ(out, raw);
      ASSERT_TRUE(decompressBuffer(codec, runs, zeros.size(), out).ok());
      EXPECT_EQ(out, zeros);
    }
  }
  // A frame of 4 MiB blocks (a context sized for them is not kept), then our writer's 64 KiB.
  const std::string big(5 << 20, 'a');
  std::string out;
  ASSERT_TRUE(
      decompressBuffer(BodyCodec::kLz4Frame, lz4WithBlocks(big, LZ4F_max4MB), big.size(), out)
          .ok());
  EXPECT_EQ(out, big);
  ASSERT_TRUE(decompressBuffer(BodyCodec::kLz4Frame, lz4(raw), raw.size(), out).ok());
  EXPECT_EQ(out, raw);
}

}  // namespace
}  // namespace otlpd::store

namespace otlpd::store {
namespace {

// A message the verifier accepts but that lies at a misaligned address (a corrupt length before
// it shifted it) is corrupt: flatbuffers would read its scalars misaligned (UBSan, found by the
// store_file fuzz target). The same bytes at an aligned address read.
TEST(StoreIpcBuffer, AMisalignedMessageIsCorrupt) {
  IpcEncoder enc(&fieldsFor(pipeline::Signal::kTraces, kStoreLayoutVersion), BodyCodec::kNone, {});
  std::string schema;
  enc.appendSchema(schema);
  ASSERT_EQ(nextMessage(schema, 0).kind, MessageSpan::Kind::kMessage);

  std::string shifted(schema.size() + 16, '\0');
  for (size_t shift = 1; shift < 8; ++shift) {
    // Keep the message's own offset 0 while its address moves off the 8-byte grid.
    char* base = shifted.data() + 8 - (reinterpret_cast<uintptr_t>(shifted.data()) % 8) + shift;
    std::memcpy(base, schema.data(), schema.size());
    const MessageSpan m = nextMessage(std::string_view(base, schema.size()), 0);
    EXPECT_EQ(m.kind, MessageSpan::Kind::kCorrupt) << "shift " << shift;
    EXPECT_NE(m.error.find("misaligned"), std::string::npos) << m.error;
  }
  IpcDecoder dec;
  size_t pos = 0;
  auto ev = dec.next(schema, pos);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(*ev, IpcDecoder::Event::kSchema);
}

}  // namespace
}  // namespace otlpd::store
