#include "common/compression.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/string_buffer.h"

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

// The caller's may_hold of the decompress() call running on this thread, if it gave one.
thread_local const absl::FunctionRef<bool(size_t)>* t_may_hold = nullptr;

absl::Status overBudget() {
  return absl::UnavailableError(
      "not enough memory to decompress the body (the memory budget is spent); retry later");
}

// Resizes `out` to new_size keeping its first `keep` bytes. Capacity is set exactly rather than
// through std::string's own growth, which may double past the caller's memory limit. False (and
// `out` unchanged): the caller's memory budget refused the growth.
[[nodiscard]] bool growOutput(std::string& out, size_t keep, size_t new_size) {
  if (new_size > out.capacity() && t_may_hold != nullptr && !(*t_may_hold)(new_size)) return false;
  if (new_size > out.capacity()) {
    std::string next;
    next.reserve(new_size);
    next.append(out.data(), keep);
    out.swap(next);
  }
  out.resize(new_size);
  return true;
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
      const size_t next = nextOutputSize(out, input.size(), cap);
      if (!growOutput(out, produced, next)) return overBudget();
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

// libdeflate decodes whole buffers ~3× faster than zlib's streaming inflate (docs/BENCHMARKS.md,
// "#18 gzip and OTLP/JSON"); each thread keeps its decompressor.
class ThreadDeflateCodecs {
 public:
  ~ThreadDeflateCodecs() {
    if (decompressor_ != nullptr) libdeflate_free_decompressor(decompressor_);
  }
  libdeflate_decompressor* decompressor() {
    if (decompressor_ == nullptr) decompressor_ = libdeflate_alloc_decompressor();
    return decompressor_;
  }

 private:
  libdeflate_decompressor* decompressor_ = nullptr;
};

ThreadDeflateCodecs& threadCodecs() {
  thread_local ThreadDeflateCodecs codecs;
  return codecs;
}

// DEFLATE cannot expand past ~1032:1 (a 258-byte match per two bits); beyond that an output size
// hint is a lie, so it never makes us allocate more than the input could produce.
constexpr size_t kMaxDeflateRatio = 1032;
constexpr size_t kMinFastRoom = 4096;

using LibdeflateDecodeFn = libdeflate_result (*)(libdeflate_decompressor*, const void*, size_t,
                                                 void*, size_t, size_t*, size_t*);

enum class FastInflate { kOk, kTooLarge, kRejected, kOverBudget };

// Decodes one stream at the start of `input` into out[produced, ...), never writing past `cap`
// bytes of output in all. libdeflate needs its output space up front: `size_hint` (a declared
// size, untrusted) only picks the first try; when the space is short the stream is decoded again
// into twice the room, up to `cap` — bounded work (at most ~2 × cap bytes written) and bounded
// memory, whatever the stream declares. kRejected hands the input to zlib for the verdict.
FastInflate inflateOneFast(LibdeflateDecodeFn decode, std::string_view input, size_t size_hint,
                           size_t cap, std::string& out, size_t& produced, size_t& consumed) {
  libdeflate_decompressor* decompressor = threadCodecs().decompressor();
  if (decompressor == nullptr) return FastInflate::kRejected;
  const size_t most_possible =
      input.size() > (std::numeric_limits<size_t>::max() - 64) / kMaxDeflateRatio
          ? std::numeric_limits<size_t>::max()
          : input.size() * kMaxDeflateRatio + 64;
  const size_t left = cap - produced;
  size_t room = std::min({std::max(size_hint, kMinFastRoom), most_possible, left});
  while (true) {
    if (!growOutput(out, produced, produced + room)) return FastInflate::kOverBudget;
    size_t in_used = 0;
    size_t out_used = 0;
    const libdeflate_result rc = decode(decompressor, input.data(), input.size(),
                                        out.data() + produced, room, &in_used, &out_used);
    if (rc == LIBDEFLATE_SUCCESS) {
      produced += out_used;
      consumed = in_used;
      return FastInflate::kOk;
    }
    if (rc != LIBDEFLATE_INSUFFICIENT_SPACE) return FastInflate::kRejected;
    if (room >= left) return FastInflate::kTooLarge;
    room = room > left / 2 ? left : room * 2;
  }
}

uint32_t gzipDeclaredSize(std::string_view member) {
  if (member.size() < 4) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(member.data() + member.size() - 4);
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// gzip through libdeflate, member by member. nullopt: libdeflate refused something (corrupt,
// truncated, trailing bytes, ...) and zlib's streaming decoder gives the verdict and its message.
std::optional<absl::Status> gunzipFast(std::string_view input, size_t limit, std::string& out) {
  out.clear();
  const size_t cap = hardCap(limit);
  size_t produced = 0;
  size_t pos = 0;
  while (pos < input.size()) {
    const std::string_view member = input.substr(pos);
    if (pos > 0 && !isGzipMagic(member)) return std::nullopt;
    // ISIZE (the last four bytes) is the last member's size mod 2^32: right for the usual single
    // member, a hint at best otherwise.
    const size_t hint = pos == 0 ? gzipDeclaredSize(member) : member.size() * 4;
    size_t consumed = 0;
    switch (
        inflateOneFast(libdeflate_gzip_decompress_ex, member, hint, cap, out, produced, consumed)) {
      case FastInflate::kOk:
        break;
      case FastInflate::kTooLarge:
        return tooLarge(limit);
      case FastInflate::kOverBudget:
        return overBudget();
      case FastInflate::kRejected:
        return std::nullopt;
    }
    if (produced > limit) return tooLarge(limit);
    if (consumed == 0) return std::nullopt;
    pos += consumed;
  }
  out.resize(produced);
  return absl::OkStatus();
}

// A zlib-format or raw deflate stream through libdeflate; nullopt as for gunzipFast.
std::optional<absl::Status> inflateDeflateFast(std::string_view input, size_t limit,
                                               std::string& out) {
  out.clear();
  size_t produced = 0;
  size_t consumed = 0;
  const FastInflate rc = inflateOneFast(
      looksLikeZlibHeader(input) ? libdeflate_zlib_decompress_ex : libdeflate_deflate_decompress_ex,
      input, input.size() * 4, hardCap(limit), out, produced, consumed);
  if (rc == FastInflate::kTooLarge) return tooLarge(limit);
  if (rc == FastInflate::kOverBudget) return overBudget();
  if (rc != FastInflate::kOk || consumed != input.size()) return std::nullopt;
  if (produced > limit) return tooLarge(limit);
  out.resize(produced);
  return absl::OkStatus();
}

absl::Status inflateDeflate(std::string_view input, size_t limit, std::string& out) {
  if (!looksLikeZlibHeader(input)) return inflateInto(ZlibFormat::kRawDeflate, input, limit, out);
  absl::Status zlib_status = inflateInto(ZlibFormat::kZlib, input, limit, out);
  if (zlib_status.ok() || !absl::IsInvalidArgument(zlib_status)) return zlib_status;
  // A raw stream can begin with two bytes that pass the zlib header check by chance.
  if (inflateInto(ZlibFormat::kRawDeflate, input, limit, out).ok()) return absl::OkStatus();
  return zlib_status;
}

// zstd's contexts are kept per thread: creating one per request allocated and freed their
// buffers (about the frame's window, ~1 MiB for a 1 MiB body) each time. The decompressor's
// window limit is set once, when it is made. A context that grew past kMaxRetainedZstdContext
// (a large frame, up to the 8 MiB window we accept) is freed after its call, so that what a
// thread keeps between requests stays small.
constexpr size_t kMaxRetainedZstdContext = size_t{4} << 20;

class ThreadZstdContexts {
 public:
  ThreadZstdContexts() = default;
  ThreadZstdContexts(const ThreadZstdContexts&) = delete;
  ThreadZstdContexts& operator=(const ThreadZstdContexts&) = delete;
  ~ThreadZstdContexts() {
    ZSTD_freeDCtx(decompressor_);
    ZSTD_freeCCtx(compressor_);
  }
  ZSTD_DCtx* decompressor() {
    if (decompressor_ == nullptr) {
      decompressor_ = ZSTD_createDCtx();
      if (decompressor_ != nullptr && ZSTD_isError(ZSTD_DCtx_setParameter(
                                          decompressor_, ZSTD_d_windowLogMax, kZstdWindowLogMax))) {
        ZSTD_freeDCtx(decompressor_);
        decompressor_ = nullptr;
      }
    }
    return decompressor_;
  }
  ZSTD_CCtx* compressor() {
    if (compressor_ == nullptr) compressor_ = ZSTD_createCCtx();
    return compressor_;
  }
  void trim() {
    if (decompressor_ != nullptr && ZSTD_sizeof_DCtx(decompressor_) > kMaxRetainedZstdContext) {
      ZSTD_freeDCtx(decompressor_);
      decompressor_ = nullptr;
    }
    if (compressor_ != nullptr && ZSTD_sizeof_CCtx(compressor_) > kMaxRetainedZstdContext) {
      ZSTD_freeCCtx(compressor_);
      compressor_ = nullptr;
    }
  }

 private:
  ZSTD_DCtx* decompressor_ = nullptr;
  ZSTD_CCtx* compressor_ = nullptr;
};

ThreadZstdContexts& threadZstdContexts() {
  thread_local ThreadZstdContexts contexts;
  return contexts;
}

absl::Status decompressZstd(std::string_view input, size_t limit, std::string& out) {
  out.clear();
  ThreadZstdContexts& contexts = threadZstdContexts();
  ZSTD_DCtx* dctx = contexts.decompressor();
  if (dctx == nullptr) return absl::ResourceExhaustedError("zstd: out of memory");
  absl::Cleanup trim = [&contexts] { contexts.trim(); };
  // A stream that failed or stopped midway leaves state behind; the parameters stay.
  size_t rc = ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  if (ZSTD_isError(rc)) {
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
  }

  const size_t cap = hardCap(limit);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= cap) return tooLarge(limit);
      const size_t next = nextOutputSize(out, input.size(), cap);
      if (!growOutput(out, produced, next)) return overBudget();
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

// Compression through ISA-L's igzip at level 1: on loadgen's requests ~12× zlib's level 6 and
// ~12× libdeflate's level 6, for ~17% more bytes (docs/BENCHMARKS.md, "#18 gzip and OTLP/JSON").
// Forwarding with gzip is bound by compression, so speed wins. The stream state (~100 KiB with
// its level buffer) is kept per thread.
constexpr uint32_t kIsalLevel = 1;

struct IsalDeflateState {
  isal_zstream stream;
  std::vector<uint8_t> level_buffer = std::vector<uint8_t>(ISAL_DEF_LVL1_DEFAULT);
};

absl::StatusOr<std::string> compressIsal(std::string_view input, uint16_t format) {
  thread_local IsalDeflateState state;
  isal_zstream& zs = state.stream;
  isal_deflate_init(&zs);
  zs.gzip_flag = format;
  zs.level = kIsalLevel;
  zs.level_buf = state.level_buffer.data();
  zs.level_buf_size = static_cast<uint32_t>(state.level_buffer.size());
  zs.flush = NO_FLUSH;

  // Stored blocks bound the output: 5 bytes per 64 KiB plus the header and trailer.
  std::string out;
  out.resize(input.size() + input.size() / 4096 + 1024);
  size_t produced = 0;
  const char* next_in = input.data();
  size_t remaining = input.size();
  while (true) {
    if (zs.avail_in == 0) {
      const size_t n = std::min(remaining, kMaxZlibChunk);
      zs.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(next_in));
      zs.avail_in = static_cast<uint32_t>(n);
      next_in += n;
      remaining -= n;
      zs.end_of_stream = remaining == 0 ? 1 : 0;
    }
    if (produced == out.size()) out.resize(out.size() + out.size() / 2 + 1024);
    const size_t window = std::min(out.size() - produced, kMaxZlibChunk);
    zs.next_out = reinterpret_cast<uint8_t*>(out.data() + produced);
    zs.avail_out = static_cast<uint32_t>(window);
    const int rc = isal_deflate(&zs);
    produced += window - zs.avail_out;
    if (rc != COMP_OK) return absl::InternalError(absl::StrCat("isal_deflate failed: ", rc));
    if (zs.internal_state.state == ZSTATE_END) break;
  }
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> compressZstd(std::string_view input) {
  ThreadZstdContexts& contexts = threadZstdContexts();
  ZSTD_CCtx* cctx = contexts.compressor();
  if (cctx == nullptr) return absl::ResourceExhaustedError("zstd: out of memory");
  absl::Cleanup trim = [&contexts] { contexts.trim(); };
  std::string out;
  common::resizeUninitialized(out, ZSTD_compressBound(input.size()));
  const size_t rc = ZSTD_compressCCtx(cctx, out.data(), out.size(), input.data(), input.size(),
                                      ZSTD_CLEVEL_DEFAULT);
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
    case Compression::kGzip: {
      std::optional<absl::Status> fast = gunzipFast(input, max_output_bytes, out);
      status =
          fast ? *std::move(fast) : inflateInto(ZlibFormat::kGzip, input, max_output_bytes, out);
      break;
    }
    case Compression::kDeflate: {
      std::optional<absl::Status> fast = inflateDeflateFast(input, max_output_bytes, out);
      status = fast ? *std::move(fast) : inflateDeflate(input, max_output_bytes, out);
      break;
    }
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

absl::Status decompress(Compression c, std::string_view input, size_t max_output_bytes,
                        std::string& out, absl::FunctionRef<bool(size_t)> may_hold) {
  // An empty `out` so that every byte of output is asked for (its capacity counts as held).
  std::string().swap(out);
  t_may_hold = &may_hold;
  absl::Cleanup forget = [] { t_may_hold = nullptr; };
  if ((c == Compression::kNone || input.empty()) && input.size() <= max_output_bytes &&
      !may_hold(input.size())) {
    return overBudget();
  }
  return decompress(c, input, max_output_bytes, out);
}

absl::StatusOr<std::string> compress(Compression c, std::string_view input) try {
  switch (c) {
    case Compression::kNone:
      return std::string(input);
    case Compression::kGzip:
      return compressIsal(input, IGZIP_GZIP);
    case Compression::kDeflate:
      return compressIsal(input, IGZIP_ZLIB);
    case Compression::kZstd:
      return compressZstd(input);
  }
  return absl::InvalidArgumentError("unknown compression");
} catch (const std::bad_alloc&) {
  return absl::ResourceExhaustedError("out of memory while compressing");
}

}  // namespace otlpd::common
