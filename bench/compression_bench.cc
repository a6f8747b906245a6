// Compression of request bodies (src/common/compression.h): what the HTTP receiver does with
// gzip/deflate/zstd input and what exporters do before sending. Payload: the request `otlpd
// loadgen` sends, 1000 realistic spans in protobuf. Items/s are spans; bytes/s are uncompressed
// protobuf bytes; the `ratio` counter is compressed size / uncompressed size.
#include <benchmark/benchmark.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "common/compression.h"
#include "loadgen/payloads.h"

namespace otlpd::bench {
namespace {

constexpr size_t kSpans = 1000;

const std::string& plainRequest() {
  static const std::string bytes =
      loadgen::makeRequest(pipeline::Signal::kTraces, loadgen::Shape::kRealistic, kSpans, 1, 0)
          ->SerializeAsString();
  return bytes;
}

common::Compression codec(int64_t arg) {
  switch (arg) {
    case 0:
      return common::Compression::kGzip;
    case 1:
      return common::Compression::kDeflate;
    default:
      return common::Compression::kZstd;
  }
}

void setCounters(benchmark::State& state, size_t compressed) {
  const std::string& plain = plainRequest();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(plain.size());
  state.SetLabel(std::string(common::compressionName(codec(state.range(0)))));
}

// arg: 0 gzip, 1 deflate, 2 zstd (the libraries' default levels, as otlpd uses them)
void BM_Compress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  size_t compressed = 0;
  for (auto _ : state) {
    auto out = common::compress(codec(state.range(0)), plain);
    if (!out.ok()) {
      state.SkipWithError("compress failed");
      return;
    }
    compressed = out->size();
    benchmark::DoNotOptimize(out->data());
  }
  setCounters(state, compressed);
}
BENCHMARK(BM_Compress)->ArgName("codec")->DenseRange(0, 2);

// What the HTTP receiver does with a compressed body: decompress into a reused buffer, bounded.
void BM_Decompress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  auto compressed = common::compress(codec(state.range(0)), plain);
  if (!compressed.ok()) {
    state.SkipWithError("compress failed");
    return;
  }
  std::string out;
  for (auto _ : state) {
    if (!common::decompress(codec(state.range(0)), *compressed, 64 << 20, out).ok()) {
      state.SkipWithError("decompress failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (out != plain) state.SkipWithError("round trip differs");
  setCounters(state, compressed->size());
}
BENCHMARK(BM_Decompress)->ArgName("codec")->DenseRange(0, 2);

// The gzip libraries side by side on the same request (issue #18 chose among them): zlib as
// otlpd used it before (level 6, streaming), libdeflate (what compression.cc uses now) and
// ISA-L's igzip. Arg: 0 zlib-6, 1 libdeflate-1, 2 libdeflate-6, 3-5 isal-1..3 (compress); the
// decompress benchmark decodes zlib-6's output with 0 zlib, 1 libdeflate, 3 isal.
const char* gzipLibName(int64_t arg) {
  static const char* kNames[] = {"zlib-6", "libdeflate-1", "libdeflate-6",
                                 "isal-1", "isal-2",       "isal-3"};
  return kNames[arg];
}

std::string zlibGzip(std::string_view in, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void BM_GzipLibCompress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  const int64_t lib = state.range(0);
  libdeflate_compressor* ld = lib == 1   ? libdeflate_alloc_compressor(1)
                              : lib == 2 ? libdeflate_alloc_compressor(6)
                                         : nullptr;
  std::vector<uint8_t> isal_level_buf(ISAL_DEF_LVL3_DEFAULT);
  std::string out(plain.size() + plain.size() / 2 + 1024, '\0');
  size_t compressed = 0;
  for (auto _ : state) {
    if (lib == 0) {
      compressed = zlibGzip(plain, 6).size();
    } else if (lib >= 3) {
      isal_zstream zs;
      isal_deflate_init(&zs);
      zs.gzip_flag = IGZIP_GZIP;
      zs.level = static_cast<uint32_t>(lib - 2);
      zs.level_buf = isal_level_buf.data();
      zs.level_buf_size = static_cast<uint32_t>(isal_level_buf.size());
      zs.end_of_stream = 1;
      zs.flush = NO_FLUSH;
      zs.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(plain.data()));
      zs.avail_in = static_cast<uint32_t>(plain.size());
      zs.next_out = reinterpret_cast<uint8_t*>(out.data());
      zs.avail_out = static_cast<uint32_t>(out.size());
      if (isal_deflate(&zs) != COMP_OK || zs.internal_state.state != ZSTATE_END) {
        state.SkipWithError("isal_deflate failed");
        break;
      }
      compressed = zs.total_out;
    } else {
      compressed = libdeflate_gzip_compress(ld, plain.data(), plain.size(), out.data(), out.size());
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (ld != nullptr) libdeflate_free_compressor(ld);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
  state.counters["ratio"] = static_cast<double>(compressed) / static_cast<double>(plain.size());
  state.SetLabel(gzipLibName(lib));
}
BENCHMARK(BM_GzipLibCompress)->ArgName("lib")->DenseRange(0, 5);

void BM_GzipLibDecompress(benchmark::State& state) {
  const std::string& plain = plainRequest();
  const std::string compressed = zlibGzip(plain, 6);
  const int64_t lib = state.range(0);
  libdeflate_decompressor* ld = libdeflate_alloc_decompressor();
  std::string out(plain.size(), '\0');
  for (auto _ : state) {
    size_t produced = 0;
    if (lib == 0) {
      z_stream zs{};
      inflateInit2(&zs, 31);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
      zs.avail_in = static_cast<uInt>(compressed.size());
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      inflate(&zs, Z_FINISH);
      produced = zs.total_out;
      inflateEnd(&zs);
    } else if (lib == 3) {
      inflate_state is;
      isal_inflate_init(&is);
      is.crc_flag = ISAL_GZIP;
      is.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(compressed.data()));
      is.avail_in = static_cast<uint32_t>(compressed.size());
      is.next_out = reinterpret_cast<uint8_t*>(out.data());
      is.avail_out = static_cast<uint32_t>(out.size());
      isal_inflate(&is);
      produced = is.total_out;
    } else {
      libdeflate_gzip_decompress(ld, compressed.data(), compressed.size(), out.data(), out.size(),
                                 &produced);
    }
    if (produced != plain.size()) {
      state.SkipWithError("decompress failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  libdeflate_free_decompressor(ld);
  if (out != plain) state.SkipWithError("round trip differs");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSpans));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * plain.size()));
  state.SetLabel(gzipLibName(lib));
}
BENCHMARK(BM_GzipLibDecompress)->ArgName("lib")->Arg(0)->Arg(1)->Arg(3);

}  // namespace
}  // namespace otlpd::bench
