// Zipkin v2 spans as the decoders read them: views into the request (or into the decoder's own
// buffers), never one allocation per field. Every reader of Zipkin (JSON v2, JSON v1, protobuf)
// fills a SpanList; to_otlp.h turns one into OTLP wire bytes. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::zipkin {

enum class Kind : uint8_t { kUnset, kClient, kServer, kProducer, kConsumer };

struct Endpoint {
  bool present = false;
  std::string_view service_name;
  std::string_view ipv4;  // text ("10.0.0.1"), as in the JSON format
  std::string_view ipv6;  // text ("2001:db8::c001")
  int32_t port = 0;       // 0: absent
};

struct Annotation {
  uint64_t timestamp_us = 0;
  std::string_view value;
};

struct Span {
  std::array<uint8_t, 16> trace_id{};  // big endian; a 64-bit id is left-padded with zeros
  std::array<uint8_t, 8> id{};
  std::array<uint8_t, 8> parent_id{};
  bool has_parent = false;
  Kind kind = Kind::kUnset;
  std::string_view name;
  uint64_t timestamp_us = 0;  // 0: absent
  uint64_t duration_us = 0;   // 0: absent
  Endpoint local, remote;
  bool debug = false;
  bool shared = false;
  // [first, first + count) of SpanList::tags / SpanList::annotations.
  uint32_t tags_first = 0, tags_count = 0;
  uint32_t annotations_first = 0, annotations_count = 0;
};

// The spans of one request. Reused across requests (clear() keeps the capacity).
struct SpanList {
  std::vector<Span> spans;
  std::vector<std::pair<std::string_view, std::string_view>> tags;
  std::vector<Annotation> annotations;
  // Text a decoder had to make (addresses from bytes, v1 conversions): the views point here.
  std::deque<std::string> owned;

  void clear() {
    spans.clear();
    tags.clear();
    annotations.clear();
    owned.clear();
  }
  std::string_view own(std::string text) { return owned.emplace_back(std::move(text)); }
};

// Hex ids as Zipkin accepts them: 1 to 16 (span) or 32 (trace) hex digits of either case,
// left-padded with zeros. False when empty, too long or not hex.
bool parseHexId(std::string_view hex, uint8_t* out, size_t out_bytes);
// Lower-case hex of `bytes`.
void appendHex(const uint8_t* bytes, size_t size, std::string& out);

}  // namespace otlpd::zipkin
