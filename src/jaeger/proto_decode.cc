// jaeger.api_v2's PostSpansRequest (proto/jaeger/api_v2/*.proto, written from Jaeger's
// published IDL) read from the protobuf wire format in place into the flat model.
#include <cstring>

#include "common/strings.h"
#include "jaeger/model.h"
#include "otlp/wire_reader.h"

namespace otlpd::jaeger {
namespace {

namespace wire = ::otlpd::otlp::wire;

// The .proto's ValueType numbering (STRING, BOOL, INT64, FLOAT64, BINARY) in Thrift's.
int32_t tagTypeFromProto(uint64_t v) {
  switch (v) {
    case 0:
      return static_cast<int32_t>(TagType::kString);
    case 1:
      return static_cast<int32_t>(TagType::kBool);
    case 2:
      return static_cast<int32_t>(TagType::kLong);
    case 3:
      return static_cast<int32_t>(TagType::kDouble);
    case 4:
      return static_cast<int32_t>(TagType::kBinary);
    default:
      return 1000 + static_cast<int32_t>(v & 0xffff);  // unknown: kept as such
  }
}

class ProtoBatchDecoder {
 public:
  explicit ProtoBatchDecoder(Batch& out) : out_(out) {}

  absl::Status request(std::string_view bytes) {
    // PostSpansRequest { Batch batch = 1; }: protobuf keeps the last occurrence of a message
    // field merged; senders write it once.
    return walk(bytes, [&](const wire::Field& f) {
      if (f.number == 1 && f.type == wire::kLengthDelimited) return batch(f.bytes);
      return absl::OkStatus();
    });
  }

 private:
  template <class OnField>
  absl::Status walk(std::string_view bytes, OnField&& on_field) {
    wire::Reader reader(bytes);
    wire::Field f;
    while (!reader.done()) {
      if (reader.next(f) != wire::Stop::kNone) {
        return absl::InvalidArgumentError("request is not a valid protobuf PostSpansRequest");
      }
      if (absl::Status s = on_field(f); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status batch(std::string_view bytes) {
    return walk(bytes, [&](const wire::Field& f) {
      if (f.type != wire::kLengthDelimited) return absl::OkStatus();
      if (f.number == 1) return span(f.bytes);
      if (f.number == 2) return process(f.bytes, out_.process);
      return absl::OkStatus();
    });
  }

  absl::Status process(std::string_view bytes, Process& p) {
    p.present = true;
    p.tags.begin = static_cast<uint32_t>(out_.tags.size());
    absl::Status s = walk(bytes, [&](const wire::Field& f) {
      if (f.type != wire::kLengthDelimited) return absl::OkStatus();
      if (f.number == 1) p.service_name = f.bytes;
      if (f.number == 2) return keyValue(f.bytes);
      return absl::OkStatus();
    });
    p.tags.count = static_cast<uint32_t>(out_.tags.size()) - p.tags.begin;
    return s;
  }

  absl::Status keyValue(std::string_view bytes) {
    Tag& tag = out_.tags.emplace_back();
    std::string_view str, binary;
    uint64_t type = 0;
    absl::Status s = walk(bytes, [&](const wire::Field& f) {
      switch (f.number) {
        case 1:
          if (f.type == wire::kLengthDelimited) tag.key = f.bytes;
          break;
        case 2:
          if (f.type == wire::kVarint) type = f.value;
          break;
        case 3:
          if (f.type == wire::kLengthDelimited) str = f.bytes;
          break;
        case 4:
          if (f.type == wire::kVarint) tag.b = f.value != 0;
          break;
        case 5:
          if (f.type == wire::kVarint) tag.i64 = static_cast<int64_t>(f.value);
          break;
        case 6:
          if (f.type == wire::kFixed64) std::memcpy(&tag.dbl, &f.value, 8);
          break;
        case 7:
          if (f.type == wire::kLengthDelimited) binary = f.bytes;
          break;
        default:
          break;
      }
      return absl::OkStatus();
    });
    tag.type = tagTypeFromProto(type);
    tag.str = tag.type == static_cast<int32_t>(TagType::kBinary) ? binary : str;
    return s;
  }

  // google.protobuf.Timestamp or Duration, in nanoseconds.
  absl::Status nanos(std::string_view bytes, int64_t& out) {
    int64_t seconds = 0, ns = 0;
    absl::Status s = walk(bytes, [&](const wire::Field& f) {
      if (f.type == wire::kVarint && f.number == 1) seconds = static_cast<int64_t>(f.value);
      if (f.type == wire::kVarint && f.number == 2) {
        ns = static_cast<int32_t>(static_cast<uint32_t>(f.value));
      }
      return absl::OkStatus();
    });
    out = static_cast<int64_t>(static_cast<uint64_t>(seconds) * 1'000'000'000u +
                               static_cast<uint64_t>(ns));
    return s;
  }

  static absl::Status traceId(std::string_view bytes, uint64_t& high, uint64_t& low) {
    if (bytes.size() != 16) {
      return absl::InvalidArgumentError(
          strCat("trace_id of ", bytes.size(), " bytes (must be 16)"));
    }
    high = loadBigEndian64(bytes.data());
    low = loadBigEndian64(bytes.data() + 8);
    return absl::OkStatus();
  }
  static absl::Status spanId(std::string_view bytes, uint64_t& id) {
    if (bytes.size() != 8) {
      return absl::InvalidArgumentError(strCat("span_id of ", bytes.size(), " bytes (must be 8)"));
    }
    id = loadBigEndian64(bytes.data());
    return absl::OkStatus();
  }
  static uint64_t loadBigEndian64(const char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
    return v;
  }

  absl::Status spanRef(std::string_view bytes) {
    SpanRef& ref = out_.refs.emplace_back();
    return walk(bytes, [&](const wire::Field& f) {
      if (f.number == 1 && f.type == wire::kLengthDelimited) {
        return traceId(f.bytes, ref.trace_id_high, ref.trace_id_low);
      }
      if (f.number == 2 && f.type == wire::kLengthDelimited) return spanId(f.bytes, ref.span_id);
      if (f.number == 3 && f.type == wire::kVarint) ref.follows_from = f.value == 1;
      return absl::OkStatus();
    });
  }

  absl::Status log(std::string_view bytes) {
    Log& log = out_.logs.emplace_back();
    Log value;
    value.fields.begin = static_cast<uint32_t>(out_.tags.size());
    int64_t time = 0;
    absl::Status s = walk(bytes, [&](const wire::Field& f) {
      if (f.type != wire::kLengthDelimited) return absl::OkStatus();
      if (f.number == 1) return nanos(f.bytes, time);
      if (f.number == 2) return keyValue(f.bytes);
      return absl::OkStatus();
    });
    value.time_unix_nano = static_cast<uint64_t>(time);
    value.fields.count = static_cast<uint32_t>(out_.tags.size()) - value.fields.begin;
    log = value;
    return s;
  }

  absl::Status span(std::string_view bytes) {
    Span s;
    s.blank = bytes.empty();
    int64_t start = 0, duration = 0;
    // Two passes, so that the span's tags, its logs' fields and its process's tags each stay
    // one run in the tag pool however the sender ordered the fields.
    s.tags.begin = static_cast<uint32_t>(out_.tags.size());
    s.refs.begin = static_cast<uint32_t>(out_.refs.size());
    absl::Status status = walk(bytes, [&](const wire::Field& f) -> absl::Status {
      switch (f.number) {
        case 1:
          if (f.type == wire::kLengthDelimited) {
            return traceId(f.bytes, s.trace_id_high, s.trace_id_low);
          }
          break;
        case 2:
          if (f.type == wire::kLengthDelimited) return spanId(f.bytes, s.span_id);
          break;
        case 3:
          if (f.type == wire::kLengthDelimited) s.operation_name = f.bytes;
          break;
        case 4:
          if (f.type == wire::kLengthDelimited) return spanRef(f.bytes);
          break;
        case 5:
          if (f.type == wire::kVarint) s.flags = static_cast<uint32_t>(f.value);
          break;
        case 6:
          if (f.type == wire::kLengthDelimited) return nanos(f.bytes, start);
          break;
        case 7:
          if (f.type == wire::kLengthDelimited) return nanos(f.bytes, duration);
          break;
        case 8:
          if (f.type == wire::kLengthDelimited) return keyValue(f.bytes);
          break;
        default:
          break;
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    s.tags.count = static_cast<uint32_t>(out_.tags.size()) - s.tags.begin;
    s.refs.count = static_cast<uint32_t>(out_.refs.size()) - s.refs.begin;
    s.logs.begin = static_cast<uint32_t>(out_.logs.size());
    status = walk(bytes, [&](const wire::Field& f) -> absl::Status {
      if (f.type != wire::kLengthDelimited) return absl::OkStatus();
      if (f.number == 9) return log(f.bytes);
      if (f.number == 10) {
        // Protobuf merges repeated occurrences of a message field; a sender writes one.
        if (s.process < 0) {
          s.process = static_cast<int32_t>(out_.span_processes.size());
          out_.span_processes.emplace_back();
        }
        Process p;
        absl::Status ps = process(f.bytes, p);
        out_.span_processes[static_cast<size_t>(s.process)] = p;
        return ps;
      }
      return absl::OkStatus();
    });
    s.logs.count = static_cast<uint32_t>(out_.logs.size()) - s.logs.begin;
    s.start_unix_nano = static_cast<uint64_t>(start);
    // Unsigned, as the Collector's arithmetic: a hostile start + duration wraps instead of
    // overflowing.
    s.end_unix_nano = static_cast<uint64_t>(start) + static_cast<uint64_t>(duration);
    out_.spans.push_back(s);
    return status;
  }

  Batch& out_;
};

}  // namespace

absl::Status decodePostSpansRequest(std::string_view bytes, Batch& batch) {
  batch.clear();
  return ProtoBatchDecoder(batch).request(bytes);
}

}  // namespace otlpd::jaeger
