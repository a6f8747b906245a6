// Prometheus Remote Write 1.0: the `prometheus.WriteRequest` protobuf written from the
// specification (WriteRequest { repeated TimeSeries timeseries = 1; }, TimeSeries { repeated
// Label labels = 1; repeated Sample samples = 2; }, Label { string name = 1; string value = 2; },
// Sample { double value = 1; int64 timestamp = 2; } in milliseconds), encoded by hand with
// otlp/wire_writer.h, snappy block compression, and a decoder for tests and fake endpoints. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/otel_labels.h"

namespace otlpd::prometheus::remote_write {

inline constexpr std::string_view kContentType = "application/x-protobuf";
inline constexpr std::string_view kContentEncoding = "snappy";
inline constexpr std::string_view kVersionHeader = "X-Prometheus-Remote-Write-Version";
inline constexpr std::string_view kVersion = "0.1.0";

struct Sample {
  double value = 0;
  int64_t timestamp_ms = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

// One series being assembled: its labels already encoded as TimeSeries `labels` fields (sorted by
// name, __name__ among them), and its samples.
struct Series {
  std::string encoded_labels;
  std::vector<Sample> samples;
};

// Appends one TimeSeries `labels` field (tag, length, Label message).
void appendLabel(std::string_view name, std::string_view value, std::string& out);

// A run of one series' samples, [begin, end): the unit requests are made of.
struct Chunk {
  uint32_t series = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Bytes of the WriteRequest `timeseries` field the chunk becomes (tag and length included).
size_t chunkBytes(const std::vector<Series>& series, const Chunk& chunk);

// Appends the chunk as a WriteRequest `timeseries` field.
void appendChunk(const std::vector<Series>& series, const Chunk& chunk, std::string& out);

// Groups the series (in order, each series' samples in order) into requests whose encoding stays
// within `max_bytes`; a series too large for one request is cut between samples. A request holds
// at least one sample, whatever `max_bytes` says.
std::vector<std::vector<Chunk>> packRequests(const std::vector<Series>& series, size_t max_bytes);

// The encoded (uncompressed) WriteRequest of these chunks.
std::string encodeRequest(const std::vector<Series>& series, const std::vector<Chunk>& chunks);
// The same into `out` (replaced), whose buffer a sender reuses from request to request.
void encodeRequest(const std::vector<Series>& series, const std::vector<Chunk>& chunks,
                   std::string& out);

// Snappy block format (what remote write uses; not the framed format).
std::string snappyCompress(std::string_view raw);
// The same into `out` (replaced), whose buffer a sender reuses.
void snappyCompress(std::string_view raw, std::string& out);
// Refuses input that would inflate beyond `max_bytes`.
absl::StatusOr<std::string> snappyUncompress(std::string_view compressed, size_t max_bytes);

struct DecodedSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<Sample> samples;
};
// Decodes an uncompressed WriteRequest (fields other than labels and samples are skipped).
absl::StatusOr<std::vector<DecodedSeries>> decodeRequest(std::string_view bytes);

}  // namespace otlpd::prometheus::remote_write
