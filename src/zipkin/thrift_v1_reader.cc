// Zipkin v1 spans in Thrift (POST /api/v1/spans, application/x-thrift): a `list<Span>` (or one
// `Span`) in Thrift's binary protocol, with the field ids and types of Zipkin's published
// zipkinCore.thrift (proto/zipkin/zipkinCore.thrift, written from it), read in place with the
// Thrift reader the Jaeger receiver uses (jaeger/thrift_protocol.h: lengths and counts checked
// against what remains, nesting capped) and converted to v2 spans like v1 JSON. Pure.
#include <arpa/inet.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "jaeger/thrift_protocol.h"
#include "otlp/wire_reader.h"
#include "zipkin/limits.h"
#include "zipkin/readers.h"
#include "zipkin/v1_span.h"

namespace otlpd::zipkin {
namespace {

namespace t = jaeger::thrift;

// zipkinCore.thrift's AnnotationType.
enum AnnotationType : int32_t {
  kBool = 0,
  kBytes = 1,
  kI16 = 2,
  kI32 = 3,
  kI64 = 4,
  kDouble = 5,
  kString = 6
};

class ThriftV1Reader {
 public:
  ThriftV1Reader(std::string_view bytes, SpanList& out)
      : bytes_(bytes), reader_(bytes, t::Protocol::kBinary), out_(out) {}

  absl::Status read() {
    // Zipkin's own decoder: a body that starts with the STRUCT type id is a list of spans.
    const bool list =
        !bytes_.empty() && static_cast<uint8_t>(bytes_[0]) == static_cast<uint8_t>(t::kStruct);
    uint32_t count = 1;
    if (list) {
      t::Type element;
      if (!reader_.readListBegin(element, count)) return fault();
      if (element != t::kStruct) return absl::InvalidArgumentError("not a list of spans");
    }
    for (uint32_t i = 0; i < count; ++i) {
      index_ = i;
      V1Span v1;
      if (absl::Status s = span(v1); !s.ok()) return s;
      convertV1(v1, out_);
    }
    if (!reader_.ok()) return fault();
    if (!reader_.atEnd()) {
      return absl::InvalidArgumentError("request body has data after the spans");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status fault() {
    return absl::InvalidArgumentError(strCat("span ", index_, ": ", reader_.error()));
  }
  absl::Status bad(std::string_view what) {
    return absl::InvalidArgumentError(strCat("span ", index_, ": ", what));
  }

  bool expect(t::Type got, t::Type want) {
    if (got == want) return true;
    reader_.skip(got);
    return false;
  }

  absl::Status text(std::string_view& out, std::string_view field) {
    out = reader_.readBinary();
    if (!reader_.ok()) return fault();
    if (!otlp::wire::validUtf8(out)) return bad(strCat(field, " is not valid UTF-8"));
    return absl::OkStatus();
  }

  absl::Status micros(uint64_t& out, std::string_view field) {
    const int64_t v = reader_.readI64();
    if (!reader_.ok()) return fault();
    if (v < 0 || static_cast<uint64_t>(v) > kMaxMicros) {
      return bad(strCat(field, " ", v, " is not epoch microseconds"));
    }
    out = static_cast<uint64_t>(v);
    return absl::OkStatus();
  }

  absl::Status endpoint(Endpoint& out) {
    out.present = true;
    reader_.structBegin();
    int16_t id;
    for (t::Type type; (type = reader_.readField(id)) != t::kStop;) {
      if (id == 1 && expect(type, t::kI32)) {
        const uint32_t ipv4 = static_cast<uint32_t>(reader_.readI32());
        if (ipv4 != 0) {
          const uint32_t network = htonl(ipv4);
          char buf[INET_ADDRSTRLEN] = {};
          if (inet_ntop(AF_INET, &network, buf, sizeof buf) != nullptr) out.ipv4 = out_.own(buf);
        }
      } else if (id == 2 && expect(type, t::kI16)) {
        out.port = static_cast<uint16_t>(reader_.readI16());
      } else if (id == 3 && expect(type, t::kString)) {
        if (absl::Status s = text(out.service_name, "endpoint service_name"); !s.ok()) return s;
      } else if (id == 4 && expect(type, t::kString)) {
        const std::string_view ipv6 = reader_.readBinary();
        if (reader_.ok() && !ipv6.empty()) {
          if (ipv6.size() != 16) return bad("endpoint ipv6 must be 16 bytes");
          char buf[INET6_ADDRSTRLEN] = {};
          if (inet_ntop(AF_INET6, ipv6.data(), buf, sizeof buf) != nullptr) {
            out.ipv6 = out_.own(buf);
          }
        }
      } else if (id < 1 || id > 4) {
        reader_.skip(type);
      }
    }
    reader_.structEnd();
    return reader_.ok() ? absl::OkStatus() : fault();
  }

  absl::Status annotation(Annotation& out, Endpoint& host) {
    reader_.structBegin();
    int16_t id;
    bool has_value = false;
    for (t::Type type; (type = reader_.readField(id)) != t::kStop;) {
      absl::Status s;
      if (id == 1 && expect(type, t::kI64)) {
        s = micros(out.timestamp_us, "annotation timestamp");
      } else if (id == 2 && expect(type, t::kString)) {
        s = text(out.value, "annotation value");
        has_value = true;
      } else if (id == 3 && expect(type, t::kStruct)) {
        s = endpoint(host);
      } else if (id < 1 || id > 3) {
        reader_.skip(type);
      }
      if (!s.ok()) return s;
    }
    reader_.structEnd();
    if (!reader_.ok()) return fault();
    if (!has_value) return bad("annotation without a value");
    return absl::OkStatus();
  }

  // A binary annotation's value as the tag text v1 JSON would carry: strings as they are,
  // booleans "true"/"false", numbers in decimal (big-endian on the wire), bytes in base64.
  absl::Status binaryAnnotation(V1BinaryAnnotation& out) {
    reader_.structBegin();
    int16_t id;
    std::string_view raw;
    int32_t type_id = kString;
    for (t::Type type; (type = reader_.readField(id)) != t::kStop;) {
      absl::Status s;
      if (id == 1 && expect(type, t::kString)) {
        s = text(out.key, "binary annotation key");
      } else if (id == 2 && expect(type, t::kString)) {
        raw = reader_.readBinary();
      } else if (id == 3 && expect(type, t::kI32)) {
        type_id = reader_.readI32();
      } else if (id == 4 && expect(type, t::kStruct)) {
        s = endpoint(out.endpoint);
      } else if (id < 1 || id > 4) {
        reader_.skip(type);
      }
      if (!s.ok()) return s;
    }
    reader_.structEnd();
    if (!reader_.ok()) return fault();
    auto bigEndian = [&](size_t n) -> std::optional<uint64_t> {
      if (raw.size() != n) return std::nullopt;
      uint64_t v = 0;
      for (char c : raw) v = (v << 8) | static_cast<uint8_t>(c);
      return v;
    };
    switch (type_id) {
      case kString:
        if (!otlp::wire::validUtf8(raw)) return bad("binary annotation value is not valid UTF-8");
        out.value = raw;
        return absl::OkStatus();
      case kBool:
        if (raw.size() != 1) return bad("a BOOL binary annotation must be 1 byte");
        out.bool_true = raw[0] != 0;
        out.value = out.bool_true ? "true" : "false";
        return absl::OkStatus();
      case kBytes:
        out.value = out_.own(absl::Base64Escape(toAbsl(raw)));
        return absl::OkStatus();
      case kI16:
      case kI32:
      case kI64: {
        const size_t n = type_id == kI16 ? 2 : type_id == kI32 ? 4 : 8;
        auto v = bigEndian(n);
        if (!v)
          return bad(strCat("binary annotation '", out.key, "' has ", raw.size(),
                            " bytes for its integer type"));
        const int64_t value = n == 2   ? static_cast<int16_t>(*v)
                              : n == 4 ? static_cast<int32_t>(*v)
                                       : static_cast<int64_t>(*v);
        out.value = out_.own(std::to_string(value));
        return absl::OkStatus();
      }
      case kDouble: {
        auto v = bigEndian(8);
        if (!v) return bad(strCat("binary annotation '", out.key, "' is not an 8-byte DOUBLE"));
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::bit_cast<double>(*v));
        if (ec != std::errc()) return bad("binary annotation DOUBLE cannot be written");
        out.value = out_.own(std::string(buf, end));
        return absl::OkStatus();
      }
      default:
        return bad(strCat("binary annotation '", out.key, "' has unknown type ", type_id));
    }
  }

  template <class ReadOne>
  absl::Status list(t::Type type, ReadOne read_one) {
    t::Type element;
    uint32_t count = 0;
    if (type != t::kList || !reader_.readListBegin(element, count)) {
      if (type != t::kList) reader_.skip(type);
      return reader_.ok() ? bad("annotations must be lists") : fault();
    }
    if (element != t::kStruct) return bad("annotations must be lists of structs");
    for (uint32_t i = 0; i < count; ++i) {
      if (absl::Status s = read_one(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status span(V1Span& v1) {
    Span& span = v1.base;
    bool has_trace_id = false, has_id = false;
    uint64_t trace_low = 0, trace_high = 0;
    reader_.structBegin();
    int16_t id;
    for (t::Type type; (type = reader_.readField(id)) != t::kStop;) {
      absl::Status s;
      switch (id) {
        case 1:
          if (expect(type, t::kI64)) {
            trace_low = static_cast<uint64_t>(reader_.readI64());
            has_trace_id = true;
          }
          break;
        case 3:
          if (expect(type, t::kString)) s = text(span.name, "name");
          break;
        case 4:
          if (expect(type, t::kI64)) {
            putBigEndian(static_cast<uint64_t>(reader_.readI64()), span.id.data());
            has_id = true;
          }
          break;
        case 5:
          if (expect(type, t::kI64)) {
            putBigEndian(static_cast<uint64_t>(reader_.readI64()), span.parent_id.data());
            span.has_parent = true;
          }
          break;
        case 6:
          s = list(type, [&] {
            auto& [annotation_value, host] = v1.annotations.emplace_back();
            return annotation(annotation_value, host);
          });
          break;
        case 8:
          s = list(type, [&] { return binaryAnnotation(v1.binary.emplace_back()); });
          break;
        case 9:
          if (expect(type, t::kBool)) span.debug = reader_.readBool();
          break;
        case 10:
          if (expect(type, t::kI64)) s = micros(span.timestamp_us, "timestamp");
          break;
        case 11:
          if (expect(type, t::kI64)) s = micros(span.duration_us, "duration");
          break;
        case 12:
          if (expect(type, t::kI64)) trace_high = static_cast<uint64_t>(reader_.readI64());
          break;
        default:
          reader_.skip(type);
          break;
      }
      if (!s.ok()) return s;
      if (!reader_.ok()) return fault();
    }
    reader_.structEnd();
    if (!reader_.ok()) return fault();
    if (!has_trace_id) return bad("trace_id is required");
    if (!has_id) return bad("id is required");
    putBigEndian(trace_high, span.trace_id.data());
    putBigEndian(trace_low, span.trace_id.data() + 8);
    return absl::OkStatus();
  }

  static void putBigEndian(uint64_t v, uint8_t* out) {
    for (int i = 7; i >= 0; --i) {
      out[i] = static_cast<uint8_t>(v);
      v >>= 8;
    }
  }

  const std::string_view bytes_;
  t::Reader reader_;
  SpanList& out_;
  uint32_t index_ = 0;
};

}  // namespace

absl::Status readThriftV1(std::string_view bytes, SpanList& out) {
  out.clear();
  if (bytes.empty()) return absl::OkStatus();
  ThriftV1Reader reader(bytes, out);
  return reader.read();
}

}  // namespace otlpd::zipkin
