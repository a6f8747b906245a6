// A small store written by the real writer (SignalStore), for the store fuzz targets and their
// seed corpus: sealed files with their indexes, of every signal.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fuzz_support.h"
#include "loadgen/payloads.h"
#include "store/signal_store.h"

namespace otlpd::fuzz {

inline constexpr uint64_t kSampleBaseTime = 1'700'000'000'000'000'000ULL;

// Writes `batches` record batches of `items` items each into a new file of `signal` under the
// store root `directory`, seals it (with its index) and returns the file's path.
inline std::string writeSampleFile(const std::string& directory, pipeline::Signal signal,
                                   store::BodyCodec codec, int batches, size_t items,
                                   loadgen::Shape shape = loadgen::Shape::kRealistic) {
  store::StoreOptions options;
  options.directory = directory;
  options.codec = codec;
  options.fsync = store::FsyncPolicy::kNever;
  auto s = store::SignalStore::open(signal, options, store::SystemClock::instance());
  if (!s.ok()) fail("SignalStore::open", s.status().ToString());
  std::string path;
  for (int b = 0; b < batches; ++b) {
    auto request =
        loadgen::makeRequest(signal, shape, items, 7 + b, kSampleBaseTime + b * 1'000'000'000ULL);
    if (absl::Status st = (*s)->append(*request); !st.ok()) fail("append", st.ToString());
    if (absl::Status st = (*s)->flush(); !st.ok()) fail("flush", st.ToString());
    path = (*s)->currentFile();
  }
  if (absl::Status st = (*s)->close(); !st.ok()) fail("close", st.ToString());
  return path;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void writeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail("write", path);
}

}  // namespace otlpd::fuzz
