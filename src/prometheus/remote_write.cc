#include "prometheus/remote_write.h"

#include <snappy.h>

#include <cstring>

#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::prometheus::remote_write {
namespace {

namespace wire = otlp::wire;

// WriteRequest.timeseries, TimeSeries.labels / samples, Label.name / value, Sample.value /
// timestamp.
constexpr uint32_t kTimeseries = 1, kLabels = 1, kSamples = 2, kLabelName = 1, kLabelValue = 2,
                   kSampleValue = 1, kSampleTimestamp = 2;

// A Sample message's body: value (tag + 8 bytes) and timestamp (tag + varint; omitted when 0, as
// proto3 does).
size_t sampleBodyBytes(const Sample& s) {
  return 9 +
         (s.timestamp_ms != 0 ? 1 + wire::varintSize(static_cast<uint64_t>(s.timestamp_ms)) : 0);
}

size_t seriesBodyBytes(const std::vector<Series>& series, const Chunk& c) {
  const Series& s = series[c.series];
  size_t n = s.encoded_labels.size();
  for (uint32_t i = c.begin; i < c.end; ++i) {
    n += wire::lengthDelimitedSize(kSamples, sampleBodyBytes(s.samples[i]));
  }
  return n;
}

}  // namespace

void appendLabel(std::string_view name, std::string_view value, std::string& out) {
  wire::appendTag(kLabels, wire::kLengthDelimited, out);
  wire::appendVarint(wire::lengthDelimitedSize(kLabelName, name.size()) +
                         wire::lengthDelimitedSize(kLabelValue, value.size()),
                     out);
  wire::appendLengthDelimited(kLabelName, name, out);
  wire::appendLengthDelimited(kLabelValue, value, out);
}

size_t chunkBytes(const std::vector<Series>& series, const Chunk& chunk) {
  return wire::lengthDelimitedSize(kTimeseries, seriesBodyBytes(series, chunk));
}

void appendChunk(const std::vector<Series>& series, const Chunk& chunk, std::string& out) {
  const Series& s = series[chunk.series];
  wire::appendTag(kTimeseries, wire::kLengthDelimited, out);
  wire::appendVarint(seriesBodyBytes(series, chunk), out);
  out.append(s.encoded_labels);
  for (uint32_t i = chunk.begin; i < chunk.end; ++i) {
    const Sample& sample = s.samples[i];
    wire::appendTag(kSamples, wire::kLengthDelimited, out);
    wire::appendVarint(sampleBodyBytes(sample), out);
    wire::appendTag(kSampleValue, wire::kFixed64, out);
    uint64_t bits;
    std::memcpy(&bits, &sample.value, 8);
    wire::appendFixed64(bits, out);
    if (sample.timestamp_ms != 0) {
      wire::appendTag(kSampleTimestamp, wire::kVarint, out);
      wire::appendVarint(static_cast<uint64_t>(sample.timestamp_ms), out);
    }
  }
}

std::vector<std::vector<Chunk>> packRequests(const std::vector<Series>& series, size_t max_bytes) {
  std::vector<std::vector<Chunk>> requests;
  std::vector<Chunk> current;
  size_t used = 0;
  auto flush = [&] {
    if (!current.empty()) requests.push_back(std::move(current));
    current.clear();
    used = 0;
  };
  for (uint32_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.samples.empty()) continue;
    Chunk whole{i, 0, static_cast<uint32_t>(s.samples.size())};
    const size_t bytes = chunkBytes(series, whole);
    if (used + bytes <= max_bytes) {
      current.push_back(whole);
      used += bytes;
      continue;
    }
    if (bytes <= max_bytes) {
      flush();
      current.push_back(whole);
      used = bytes;
      continue;
    }
    // Larger than a request: cut between samples into requests of its own (the last piece
    // shares its request with the series that follow), in timestamp order.
    flush();
    const size_t overhead = s.encoded_labels.size() + 11;  // tag + the longest length varint
    uint32_t begin = 0;
    while (begin < whole.end) {
      size_t chunk_bytes = overhead;
      uint32_t end = begin;
      while (end < whole.end) {
        const size_t add = wire::lengthDelimitedSize(kSamples, sampleBodyBytes(s.samples[end]));
        if (chunk_bytes + add > max_bytes && end > begin) break;
        chunk_bytes += add;
        ++end;
      }
      current.push_back({i, begin, end});
      used = chunk_bytes;
      begin = end;
      if (begin < whole.end) flush();
    }
  }
  flush();
  return requests;
}

std::string encodeRequest(const std::vector<Series>& series, const std::vector<Chunk>& chunks) {
  std::string out;
  encodeRequest(series, chunks, out);
  return out;
}

void encodeRequest(const std::vector<Series>& series, const std::vector<Chunk>& chunks,
                   std::string& out) {
  size_t total = 0;
  for (const Chunk& c : chunks) total += chunkBytes(series, c);
  out.clear();
  out.reserve(total);
  for (const Chunk& c : chunks) appendChunk(series, c, out);
}

std::string snappyCompress(std::string_view raw) {
  std::string out;
  snappyCompress(raw, out);
  return out;
}

void snappyCompress(std::string_view raw, std::string& out) {
  // resize() zeroes only what the buffer did not hold before: a reused buffer costs no memset.
  out.resize(snappy::MaxCompressedLength(raw.size()));
  size_t length = 0;
  snappy::RawCompress(raw.data(), raw.size(), out.data(), &length);
  out.resize(length);
}

absl::StatusOr<std::string> snappyUncompress(std::string_view compressed, size_t max_bytes) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length)) {
    return absl::InvalidArgumentError("not snappy block data");
  }
  if (length > max_bytes) {
    return absl::InvalidArgumentError("snappy data inflates beyond the limit");
  }
  std::string out;
  out.resize(length);
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out.data())) {
    return absl::InvalidArgumentError("corrupt snappy data");
  }
  return out;
}

absl::StatusOr<std::vector<DecodedSeries>> decodeRequest(std::string_view bytes) {
  std::vector<DecodedSeries> out;
  wire::Reader r(bytes);
  wire::Field f;
  auto malformed = [] { return absl::InvalidArgumentError("malformed WriteRequest"); };
  while (!r.done()) {
    if (r.next(f) != wire::Stop::kNone) return malformed();
    if (f.number != kTimeseries || f.type != wire::kLengthDelimited) continue;
    DecodedSeries& series = out.emplace_back();
    wire::Reader ts(f.bytes);
    wire::Field g;
    while (!ts.done()) {
      if (ts.next(g) != wire::Stop::kNone) return malformed();
      if (g.type != wire::kLengthDelimited) continue;
      wire::Reader inner(g.bytes);
      wire::Field h;
      if (g.number == kLabels) {
        std::pair<std::string, std::string> label;
        while (!inner.done()) {
          if (inner.next(h) != wire::Stop::kNone) return malformed();
          if (h.number == kLabelName) label.first = std::string(h.bytes);
          if (h.number == kLabelValue) label.second = std::string(h.bytes);
        }
        series.labels.push_back(std::move(label));
      } else if (g.number == kSamples) {
        Sample s;
        while (!inner.done()) {
          if (inner.next(h) != wire::Stop::kNone) return malformed();
          if (h.number == kSampleValue && h.type == wire::kFixed64) {
            std::memcpy(&s.value, &h.value, 8);
          }
          if (h.number == kSampleTimestamp && h.type == wire::kVarint) {
            s.timestamp_ms = static_cast<int64_t>(h.value);
          }
        }
        series.samples.push_back(s);
      }
    }
  }
  return out;
}

}  // namespace otlpd::prometheus::remote_write
