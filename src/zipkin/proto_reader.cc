// zipkin.proto's ListOfSpans, read in place with the wire reader (otlp/wire_reader.h): field
// numbers and types from the Zipkin API's zipkin.proto (proto3).
#include <arpa/inet.h>

#include <cstring>

#include "common/strings.h"
#include "otlp/wire_reader.h"
#include "zipkin/limits.h"
#include "zipkin/readers.h"

namespace otlpd::zipkin {
namespace {

namespace w = otlp::wire;

absl::Status bad(size_t index, std::string_view what) {
  return absl::InvalidArgumentError(strCat("span ", index, ": ", what));
}

absl::Status malformed(size_t index) {
  return bad(index, "malformed protobuf (not a zipkin.proto3.Span)");
}

bool wrongType(const w::Field& f, w::WireType expected) {
  return f.type != expected;
}

absl::Status readString(const w::Field& f, size_t index, std::string_view name,
                        std::string_view& out) {
  if (wrongType(f, w::kLengthDelimited)) return malformed(index);
  if (!w::validUtf8(f.bytes)) return bad(index, strCat(name, " is not valid UTF-8"));
  out = f.bytes;
  return absl::OkStatus();
}

std::string_view addressText(std::string_view bytes, SpanList& out) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = bytes.size() == 4 ? AF_INET : AF_INET6;
  if (inet_ntop(family, bytes.data(), text, sizeof text) == nullptr) return {};
  return out.own(text);
}

absl::Status readEndpoint(std::string_view bytes, size_t index, Endpoint& out, SpanList& list) {
  out.present = true;
  w::Reader reader(bytes);
  w::Field f;
  while (!reader.done()) {
    if (reader.next(f) != w::Stop::kNone) return malformed(index);
    switch (f.number) {
      case 1:
        if (absl::Status s = readString(f, index, "service_name", out.service_name); !s.ok()) {
          return s;
        }
        break;
      case 2:
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        if (f.bytes.empty()) break;
        if (f.bytes.size() != 4) return bad(index, "endpoint ipv4 must be 4 bytes");
        out.ipv4 = addressText(f.bytes, list);
        break;
      case 3:
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        if (f.bytes.empty()) break;
        if (f.bytes.size() != 16) return bad(index, "endpoint ipv6 must be 16 bytes");
        out.ipv6 = addressText(f.bytes, list);
        break;
      case 4:
        if (wrongType(f, w::kVarint)) return malformed(index);
        if (f.value > 65535) return bad(index, "endpoint port must be from 0 to 65535");
        out.port = static_cast<int32_t>(f.value);
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status readId(const w::Field& f, size_t index, std::string_view name, uint8_t* out,
                    size_t allowed_a, size_t allowed_b) {
  if (wrongType(f, w::kLengthDelimited)) return malformed(index);
  const size_t n = f.bytes.size();
  if (n != allowed_a && n != allowed_b) {
    return bad(index,
               strCat(name, " must be ", allowed_a,
                      allowed_a == allowed_b ? "" : strCat(" or ", allowed_b), " bytes, not ", n));
  }
  const size_t width = std::max(allowed_a, allowed_b);
  std::memset(out, 0, width);
  std::memcpy(out + (width - n), f.bytes.data(), n);
  return absl::OkStatus();
}

absl::Status readSpan(std::string_view bytes, size_t index, SpanList& out) {
  Span span;
  span.tags_first = static_cast<uint32_t>(out.tags.size());
  span.annotations_first = static_cast<uint32_t>(out.annotations.size());
  bool has_trace_id = false, has_id = false;
  w::Reader reader(bytes);
  w::Field f;
  while (!reader.done()) {
    if (reader.next(f) != w::Stop::kNone) return malformed(index);
    absl::Status s;
    switch (f.number) {
      case 1:
        s = readId(f, index, "trace_id", span.trace_id.data(), 8, 16);
        has_trace_id = true;
        break;
      case 2:
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        if (!f.bytes.empty()) {
          s = readId(f, index, "parent_id", span.parent_id.data(), 8, 8);
          span.has_parent = true;
        }
        break;
      case 3:
        s = readId(f, index, "id", span.id.data(), 8, 8);
        has_id = true;
        break;
      case 4:
        if (wrongType(f, w::kVarint)) return malformed(index);
        if (f.value > 4) return bad(index, strCat("kind ", f.value, " is not a zipkin.proto kind"));
        span.kind = static_cast<Kind>(f.value);
        break;
      case 5:
        s = readString(f, index, "name", span.name);
        break;
      case 6:
      case 7:
        if (wrongType(f, f.number == 6 ? w::kFixed64 : w::kVarint)) return malformed(index);
        if (f.value > kMaxMicros) {
          return bad(index, strCat(f.number == 6 ? "timestamp " : "duration ", f.value,
                                   " is not in microseconds (it would be after the year 2255)"));
        }
        (f.number == 6 ? span.timestamp_us : span.duration_us) = f.value;
        break;
      case 8:
      case 9:
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        s = readEndpoint(f.bytes, index, f.number == 8 ? span.local : span.remote, out);
        break;
      case 10: {
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        Annotation annotation;
        w::Reader ar(f.bytes);
        w::Field af;
        while (!ar.done()) {
          if (ar.next(af) != w::Stop::kNone) return malformed(index);
          if (af.number == 1) {
            if (wrongType(af, w::kFixed64)) return malformed(index);
            if (af.value > kMaxMicros) return bad(index, "annotation timestamp out of range");
            annotation.timestamp_us = af.value;
          } else if (af.number == 2) {
            if (absl::Status as = readString(af, index, "annotation value", annotation.value);
                !as.ok()) {
              return as;
            }
          }
        }
        out.annotations.push_back(annotation);
        break;
      }
      case 11: {
        if (wrongType(f, w::kLengthDelimited)) return malformed(index);
        std::string_view key, value;
        w::Reader tr(f.bytes);
        w::Field tf;
        while (!tr.done()) {
          if (tr.next(tf) != w::Stop::kNone) return malformed(index);
          if (tf.number == 1 || tf.number == 2) {
            if (absl::Status ts = readString(tf, index, "tag", tf.number == 1 ? key : value);
                !ts.ok()) {
              return ts;
            }
          }
        }
        out.tags.emplace_back(key, value);
        break;
      }
      case 12:
      case 13:
        if (wrongType(f, w::kVarint)) return malformed(index);
        (f.number == 12 ? span.debug : span.shared) = f.value != 0;
        break;
      default:
        break;
    }
    if (!s.ok()) return s;
  }
  if (!has_trace_id) return bad(index, "trace_id is required");
  if (!has_id) return bad(index, "id is required");
  span.tags_count = static_cast<uint32_t>(out.tags.size()) - span.tags_first;
  span.annotations_count = static_cast<uint32_t>(out.annotations.size()) - span.annotations_first;
  out.spans.push_back(span);
  return absl::OkStatus();
}

}  // namespace

absl::Status readProto(std::string_view bytes, SpanList& out) {
  out.clear();
  w::Reader reader(bytes);
  w::Field f;
  size_t index = 0;
  while (!reader.done()) {
    if (reader.next(f) != w::Stop::kNone) {
      return absl::InvalidArgumentError("request body is not a zipkin.proto3.ListOfSpans");
    }
    if (f.number != 1) continue;
    if (f.type != w::kLengthDelimited) {
      return absl::InvalidArgumentError("request body is not a zipkin.proto3.ListOfSpans");
    }
    if (absl::Status s = readSpan(f.bytes, index, out); !s.ok()) return s;
    ++index;
  }
  return absl::OkStatus();
}

}  // namespace otlpd::zipkin
