#include "common/compression.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace otlpd::common {
namespace {

// zlib counts in 32-bit uInt; feeding it at most 1 GiB per call keeps bodies of any size safe.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;
// First output buffer when the caller's string has none: most OTLP bodies fit without regrowth.
constexpr size_t kInitialOutput = 64 * 1024;
// RFC 8878 recommends HTTP decoders support (and may limit to) an 8 MiB window; a larger one
// would let a tiny frame make the decoder allocate up to the library maximum.
constexpr int kZstdWindowLogMax = 23;

absl::Status tooLarge(size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("decompressed body exceeds ", limit, " bytes"));
}

// Resizes `out` to new_size keeping its first `keep` bytes. Capacity is set exactly rather than
// through std::string's own growth, which may double past the caller's memory limit.
void growOutput(std::string& out, size_t keep, size_t new_size) {
  if (new_size > out.capacity()) {
    std::string next;
    next.reserve(new_size);
    next.append(out.data(), keep);
    out.swap(next);
  }
  out.resize(new_size);
}

size_t nextOutputSize(const std::string& out, size_t input_size, size_t hard_cap) {
  size_t want;
  if (out.empty()) {
    want = std::max(
        {kInitialOutput, out.capacity(), input_size > hard_cap / 4 ? hard_cap : input_size * 4});
  } else {
    want = out.size() > hard_cap / 2 ? hard_cap : out.size() * 2;
  }
  return std::min(want, hard_cap);
}

// One byte past the limit is room enough to tell "exactly at the limit" from "over it".
size_t hardCap(size_t limit) {
  return limit == std::numeric_limits<size_t>::max() ? limit : limit + 1;
}

bool isGzipMagic(std::string_view rest) {
  return rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1f &&
         static_cast<unsigned char>(rest[1]) == 0x8b;
}

// RFC 1950 header: method 8 (deflate), window <= 32 KiB, and the 16-bit header a multiple of 31.
bool looksLikeZlibHeader(std::string_view input) {
  if (input.size() < 2) return false;
  const unsigned cmf = static_cast<unsigned char>(input[0]);
  const unsigned flg = static_cast<unsigned char>(input[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

enum class ZlibFormat { kGzip, kZlib, kRawDeflate };

int windowBits(ZlibFormat format) {
  switch (format) {
    case ZlibFormat::kGzip:
      return 15 + 16;
    case ZlibFormat::kZlib:
      return 15;
    case ZlibFormat::kRawDeflate:
      return -15;
  }
  return 15;
}

const char* formatName(ZlibFormat format) {
  switch (format) {
    case ZlibFormat::kGzip:
      return "gzip";
    case ZlibFormat::kZlib:
      return "zlib";
    case ZlibFormat::kRawDeflate:
      return "deflate";
  }
  return "deflate";
}

absl::Status inflateInto(ZlibFormat format, std::string_view input, size_t limit,
                         std::string& out) {
  out.clear();
  z_stream zs{};
  int rc = inflateInit2(&zs, windowBits(format));
  if (rc != Z_OK) {
    return rc == Z_MEM_ERROR ? absl::ResourceExhaustedError("zlib: out of memory")
                             : absl::InternalError(absl::StrCat("zlib inflateInit2 failed: ", rc));
  }
  absl::Cleanup end_stream = [&zs] { inflateEnd(&zs); };

  const size_t cap = hardCap(limit);
  const char* next_in = input.data();
  size_t remaining = input.size();
  size_t produced = 0;
  while (true) {
    if (zs.avail_in == 0 && remaining > 0) {
      const size_t n = std::min(remaining, kMaxZlibChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next_in));
      zs.avail_in = static_cast<uInt>(n);
      next_in += n;
      remaining -= n;
    }
    if (produced == out.size()) {
      if (out.size() >= cap) return tooLarge(limit);
      growOutput(out, produced, nextOutputSize(out, input.size(), cap));
    }
    const size_t window = std::min(out.size() - produced, kMaxZlibChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(window);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += window - zs.avail_out;
    if (produced > limit) return tooLarge(limit);

    switch (rc) {
      case Z_OK:
        break;
      case Z_STREAM_END: {
        const size_t consumed = input.size() - remaining - zs.avail_in;
        const std::string_view rest = input.substr(consumed);
        if (rest.empty()) {
          out.resize(produced);
          return absl::OkStatus();
        }
        // RFC 1952 allows several members back to back (e.g. `cat a.gz b.gz`); anything else
        // after the end is rejected rather than silently dropped.
        if (format != ZlibFormat::kGzip || !isGzipMagic(rest)) {
          return absl::InvalidArgumentError(absl::StrCat(
              rest.size(), " bytes of trailing data after the ", formatName(format), " stream"));
        }
        rc = inflateReset(&zs);
        if (rc != Z_OK) return absl::InternalError("zlib inflateReset failed");
        break;
      }
      case Z_BUF_ERROR:
        // No progress: either the output is full (grown on the next turn) or input ran out.
        if (zs.avail_out != 0 && zs.avail_in == 0 && remaining == 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("truncated ", formatName(format), " stream"));
        }
        break;
      case Z_NEED_DICT:
        return absl::InvalidArgumentError(
            absl::StrCat(formatName(format), " stream requires a preset dictionary"));
      case Z_DATA_ERROR:
        return absl::InvalidArgumentError(
            absl::StrCat("corrupt ", formatName(format), " data: ", zs.msg ? zs.msg : "bad data"));
      case Z_MEM_ERROR:
        return absl::ResourceExhaustedError("zlib: out of memory");
      default:
        return absl::InternalError(absl::StrCat("zlib inflate failed: ", rc));
    }
  }
}

absl::Status inflateDeflate(std::string_view input, size_t limit, std::string& out) {
  if (!looksLikeZlibHeader(input)) return inflateInto(ZlibFormat::kRawDeflate, input, limit, out);
  absl::Status zlib_status = inflateInto(ZlibFormat::kZlib, input, limit, out);
  if (zlib_status.ok() || !absl::IsInvalidArgument(zlib_status)) return zlib_status;
  // A raw stream can begin with two bytes that pass the zlib header check by chance.
  if (inflateInto(ZlibFormat::kRawDeflate, input, limit, out).ok()) return absl::OkStatus();
  return zlib_status;
}

absl::Status decompressZstd(std::string_view input, size_t limit, std::string& out) {
  out.clear();
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return absl::ResourceExhaustedError("zstd: out of memory");
  absl::Cleanup free_ctx = [dctx] { ZSTD_freeDCtx(dctx); };
  size_t rc = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kZstdWindowLogMax);
  if (ZSTD_isError(rc)) {
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
  }

  const size_t cap = hardCap(limit);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap) return tooLarge(limit);
      growOutput(out, produced, nextOutputSize(out, input.size(), cap));
    }
    ZSTD_outBuffer dst{out.data(), out.size(), produced};
    rc = ZSTD_decompressStream(dctx, &dst, &in);
    produced = dst.pos;
    if (produced > limit) return tooLarge(limit);
    if (ZSTD_isError(rc)) {
      switch (ZSTD_getErrorCode(rc)) {
        case ZSTD_error_frameParameter_windowTooLarge:
          return absl::InvalidArgumentError(
              absl::StrCat("zstd frame window exceeds ", size_t{1} << kZstdWindowLogMax, " bytes"));
        case ZSTD_error_memory_allocation:
          return absl::ResourceExhaustedError("zstd: out of memory");
        default:
          return absl::InvalidArgumentError(
              absl::StrCat("corrupt zstd data: ", ZSTD_getErrorName(rc)));
      }
    }
    // rc == 0: a frame ended and is fully flushed; the next input byte starts a new frame.
    if (in.pos == in.size) {
      if (rc == 0) {
        out.resize(produced);
        return absl::OkStatus();
      }
      if (dst.pos < dst.size) return absl::InvalidArgumentError("truncated zstd stream");
    }
  }
}

absl::StatusOr<std::string> deflateAll(ZlibFormat format, std::string_view input) {
  z_stream zs{};
  int rc = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits(format), 8,
                        Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    return rc == Z_MEM_ERROR ? absl::ResourceExhaustedError("zlib: out of memory")
                             : absl::InternalError(absl::StrCat("zlib deflateInit2 failed: ", rc));
  }
  absl::Cleanup end_stream = [&zs] { deflateEnd(&zs); };

  std::string out;
  out.resize(deflateBound(&zs, input.size()));
  const char* next_in = input.data();
  size_t remaining = input.size();
  size_t produced = 0;
  while (true) {
    if (zs.avail_in == 0 && remaining > 0) {
      const size_t n = std::min(remaining, kMaxZlibChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next_in));
      zs.avail_in = static_cast<uInt>(n);
      next_in += n;
      remaining -= n;
    }
    if (produced == out.size()) out.resize(out.size() * 2 + 64);
    const size_t window = std::min(out.size() - produced, kMaxZlibChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(window);
    rc = deflate(&zs, remaining == 0 ? Z_FINISH : Z_NO_FLUSH);
    produced += window - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return absl::InternalError(absl::StrCat("zlib deflate failed: ", rc));
    }
  }
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> compressZstd(std::string_view input) {
  std::string out;
  out.resize(ZSTD_compressBound(input.size()));
  const size_t rc =
      ZSTD_compress(out.data(), out.size(), input.data(), input.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(rc)) {
    return absl::InternalError(absl::StrCat("zstd compress failed: ", ZSTD_getErrorName(rc)));
  }
  out.resize(rc);
  return out;
}

}  // namespace

std::optional<Compression> parseContentEncoding(std::string_view value) {
  const std::string v = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size())));
  if (v.empty() || v == "identity") return Compression::kNone;
  // "x-gzip" is the legacy alias RFC 9110 still asks recipients to treat as gzip.
  if (v == "gzip" || v == "x-gzip") return Compression::kGzip;
  if (v == "deflate") return Compression::kDeflate;
  if (v == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::string_view compressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kDeflate:
      return "deflate";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::Status decompress(Compression c, std::string_view input, size_t max_output_bytes,
                        std::string& out) try {
  out.clear();
  if (c == Compression::kNone || input.empty()) {
    if (input.size() > max_output_bytes) return tooLarge(max_output_bytes);
    out.assign(input.data(), input.size());
    return absl::OkStatus();
  }
  absl::Status status;
  switch (c) {
    case Compression::kGzip:
      status = inflateInto(ZlibFormat::kGzip, input, max_output_bytes, out);
      break;
    case Compression::kDeflate:
      status = inflateDeflate(input, max_output_bytes, out);
      break;
    case Compression::kZstd:
      status = decompressZstd(input, max_output_bytes, out);
      break;
    case Compression::kNone:
      break;
  }
  // Partial output of a rejected body must not be mistaken for data.
  if (!status.ok()) out.clear();
  return status;
} catch (const std::bad_alloc&) {
  out.clear();
  return absl::ResourceExhaustedError("out of memory while decompressing");
}

absl::StatusOr<std::string> compress(Compression c, std::string_view input) try {
  switch (c) {
    case Compression::kNone:
      return std::string(input);
    case Compression::kGzip:
      return deflateAll(ZlibFormat::kGzip, input);
    case Compression::kDeflate:
      return deflateAll(ZlibFormat::kZlib, input);
    case Compression::kZstd:
      return compressZstd(input);
  }
  return absl::InvalidArgumentError("unknown compression");
} catch (const std::bad_alloc&) {
  return absl::ResourceExhaustedError("out of memory while compressing");
}

}  // namespace otlpd::common
