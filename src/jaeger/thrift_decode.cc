// jaeger.thrift's structs (written from Jaeger's published IDL, docs/INTEROP.md ("Jaeger")) read
// into the flat model. Required fields are required, as Thrift's generated readers require them;
// fields of unknown id or of another type than the IDL's are skipped, as they skip them.
#include "common/strings.h"
#include "jaeger/model.h"
#include "jaeger/thrift_protocol.h"

namespace otlpd::jaeger {
namespace {

using thrift::Reader;
using thrift::Type;

class ThriftBatchDecoder {
 public:
  ThriftBatchDecoder(Reader& in, Batch& out) : in_(in), out_(out) {}

  absl::Status batch() {
    enum : uint32_t { kProcess = 1, kSpans = 2 };
    uint32_t seen = 0;
    in_.structBegin();
    int16_t id = 0;
    for (Type t = in_.readField(id); t != thrift::kStop; t = in_.readField(id)) {
      if (id == 1 && t == thrift::kStruct) {
        process(out_.process);
        seen |= kProcess;
      } else if (id == 2 && t == thrift::kList) {
        Type element;
        uint32_t count = 0;
        if (!in_.readListBegin(element, count)) break;
        if (element != thrift::kStruct) {
          in_.fail("Batch.spans is not a list of structs");
          break;
        }
        out_.spans.reserve(out_.spans.size() + count);
        for (uint32_t i = 0; i < count && in_.ok(); ++i) span();
        seen |= kSpans;
      } else {
        in_.skip(t);
      }
    }
    in_.structEnd();
    if (!in_.ok()) return absl::InvalidArgumentError(in_.error());
    if (required_missing_ != nullptr) {
      return absl::InvalidArgumentError(
          strCat("required field ", required_missing_, " is not set"));
    }
    if ((seen & kProcess) == 0) return missing("Batch.process");
    if ((seen & kSpans) == 0) return missing("Batch.spans");
    return absl::OkStatus();
  }

 private:
  static absl::Status missing(const char* field) {
    return absl::InvalidArgumentError(strCat("required field ", field, " is not set"));
  }
  void requireAll(uint32_t seen, uint32_t all, const char* const* names) {
    if (seen == all || required_missing_ != nullptr) return;
    for (int bit = 0; (all >> bit) != 0; ++bit) {
      if ((all & (1u << bit)) != 0 && (seen & (1u << bit)) == 0) {
        required_missing_ = names[bit];
        return;
      }
    }
  }

  void process(Process& p) {
    p.present = true;
    uint32_t seen = 0;
    in_.structBegin();
    int16_t id = 0;
    for (Type t = in_.readField(id); t != thrift::kStop; t = in_.readField(id)) {
      if (id == 1 && t == thrift::kString) {
        p.service_name = in_.readBinary();
        seen |= 1;
      } else if (id == 2 && t == thrift::kList) {
        p.tags = tags();
      } else {
        in_.skip(t);
      }
    }
    in_.structEnd();
    static const char* const kNames[] = {"Process.serviceName"};
    requireAll(seen, 1, kNames);
  }

  Range tags() {
    Range r{static_cast<uint32_t>(out_.tags.size()), 0};
    Type element;
    uint32_t count = 0;
    if (!in_.readListBegin(element, count)) return r;
    if (element != thrift::kStruct) {
      in_.fail("a list of tags is not a list of structs");
      return r;
    }
    for (uint32_t i = 0; i < count && in_.ok(); ++i) tag(out_.tags.emplace_back());
    r.count = static_cast<uint32_t>(out_.tags.size()) - r.begin;
    return r;
  }

  void tag(Tag& tag) {
    uint32_t seen = 0;
    std::string_view binary;
    in_.structBegin();
    int16_t id = 0;
    Type t = in_.readField(id);
    // Senders write the key and the type first: read in that order, they cost no jump through
    // the switch below (mispredicted jumps were a third of the decoding).
    if (t == thrift::kString && id == 1) {
      tag.key = in_.readBinary();
      seen |= 1;
      t = in_.readField(id);
    }
    if (t == thrift::kI32 && id == 2) {
      tag.type = in_.readI32();
      seen |= 2;
      t = in_.readField(id);
    }
    for (; t != thrift::kStop; t = in_.readField(id)) {
      switch (id) {
        case 1:
          if (t != thrift::kString) break;
          tag.key = in_.readBinary();
          seen |= 1;
          continue;
        case 2:
          if (t != thrift::kI32) break;
          tag.type = in_.readI32();
          seen |= 2;
          continue;
        case 3:
          if (t != thrift::kString) break;
          tag.str = in_.readBinary();
          continue;
        case 4:
          if (t != thrift::kDouble) break;
          tag.dbl = in_.readDouble();
          continue;
        case 5:
          if (t != thrift::kBool) break;
          tag.b = in_.readBool();
          continue;
        case 6:
          if (t != thrift::kI64) break;
          tag.i64 = in_.readI64();
          continue;
        case 7:
          if (t != thrift::kString) break;
          binary = in_.readBinary();
          continue;
        default:
          break;
      }
      in_.skip(t);
    }
    in_.structEnd();
    if (tag.type == static_cast<int32_t>(TagType::kBinary)) tag.str = binary;
    static const char* const kNames[] = {"Tag.key", "Tag.vType"};
    requireAll(seen, 3, kNames);
  }

  Range logs() {
    Range r{static_cast<uint32_t>(out_.logs.size()), 0};
    Type element;
    uint32_t count = 0;
    if (!in_.readListBegin(element, count)) return r;
    if (element != thrift::kStruct) {
      in_.fail("Span.logs is not a list of structs");
      return r;
    }
    for (uint32_t i = 0; i < count && in_.ok(); ++i) {
      // The log's fields go to the tag pool after the span's tags: remember the slot first.
      out_.logs.emplace_back();
      const size_t index = out_.logs.size() - 1;
      uint32_t seen = 0;
      Log log;
      in_.structBegin();
      int16_t id = 0;
      for (Type t = in_.readField(id); t != thrift::kStop; t = in_.readField(id)) {
        if (id == 1 && t == thrift::kI64) {
          log.time_unix_nano = static_cast<uint64_t>(in_.readI64()) * 1000;
          seen |= 1;
        } else if (id == 2 && t == thrift::kList) {
          log.fields = tags();
          seen |= 2;
        } else {
          in_.skip(t);
        }
      }
      in_.structEnd();
      out_.logs[index] = log;
      static const char* const kNames[] = {"Log.timestamp", "Log.fields"};
      requireAll(seen, 3, kNames);
    }
    r.count = static_cast<uint32_t>(out_.logs.size()) - r.begin;
    return r;
  }

  Range refs() {
    Range r{static_cast<uint32_t>(out_.refs.size()), 0};
    Type element;
    uint32_t count = 0;
    if (!in_.readListBegin(element, count)) return r;
    if (element != thrift::kStruct) {
      in_.fail("Span.references is not a list of structs");
      return r;
    }
    for (uint32_t i = 0; i < count && in_.ok(); ++i) {
      SpanRef& ref = out_.refs.emplace_back();
      uint32_t seen = 0;
      in_.structBegin();
      int16_t id = 0;
      for (Type t = in_.readField(id); t != thrift::kStop; t = in_.readField(id)) {
        if (id == 1 && t == thrift::kI32) {
          ref.follows_from = in_.readI32() == 1;
          seen |= 1;
        } else if (id >= 2 && id <= 4 && t == thrift::kI64) {
          const auto v = static_cast<uint64_t>(in_.readI64());
          (id == 2 ? ref.trace_id_low : id == 3 ? ref.trace_id_high : ref.span_id) = v;
          seen |= 1u << (id - 1);
        } else {
          in_.skip(t);
        }
      }
      in_.structEnd();
      static const char* const kNames[] = {"SpanRef.refType", "SpanRef.traceIdLow",
                                           "SpanRef.traceIdHigh", "SpanRef.spanId"};
      requireAll(seen, 15, kNames);
    }
    r.count = static_cast<uint32_t>(out_.refs.size()) - r.begin;
    return r;
  }

  void span() {
    Span s;
    bool lists = false;
    int64_t start = 0, duration = 0;
    uint32_t seen = 0;
    in_.structBegin();
    int16_t id = 0;
    for (Type t = in_.readField(id); t != thrift::kStop; t = in_.readField(id)) {
      switch (id) {
        case 1:
        case 2:
        case 3:
        case 4:
        case 8:
        case 9: {
          if (t != thrift::kI64) break;
          const int64_t v = in_.readI64();
          switch (id) {
            case 1:
              s.trace_id_low = static_cast<uint64_t>(v);
              break;
            case 2:
              s.trace_id_high = static_cast<uint64_t>(v);
              break;
            case 3:
              s.span_id = static_cast<uint64_t>(v);
              break;
            case 4:
              s.parent_span_id = static_cast<uint64_t>(v);
              break;
            case 8:
              start = v;
              break;
            default:
              duration = v;
              break;
          }
          seen |= 1u << (id - 1);
          continue;
        }
        case 5:
          if (t != thrift::kString) break;
          s.operation_name = in_.readBinary();
          seen |= 1u << 4;
          continue;
        case 6:
          if (t != thrift::kList) break;
          s.refs = refs();
          lists = true;
          continue;
        case 7:
          if (t != thrift::kI32) break;
          s.flags = static_cast<uint32_t>(in_.readI32());
          seen |= 1u << 6;
          continue;
        case 10:
          if (t != thrift::kList) break;
          s.tags = tags();
          lists = true;
          continue;
        case 11:
          if (t != thrift::kList) break;
          s.logs = logs();
          lists = true;
          continue;
        default:
          break;
      }
      in_.skip(t);
    }
    in_.structEnd();
    // Microseconds since the epoch, made nanoseconds with the Collector's unsigned arithmetic.
    s.start_unix_nano = static_cast<uint64_t>(start) * 1000;
    s.end_unix_nano = (static_cast<uint64_t>(start) + static_cast<uint64_t>(duration)) * 1000;
    s.blank = !lists && s.trace_id_low == 0 && s.trace_id_high == 0 && s.span_id == 0 &&
              s.parent_span_id == 0 && s.operation_name.empty() && s.flags == 0 && start == 0 &&
              duration == 0;
    out_.spans.push_back(s);
    static const char* const kNames[] = {
        "Span.traceIdLow",   "Span.traceIdHigh",   "Span.spanId",
        "Span.parentSpanId", "Span.operationName", nullptr,
        "Span.flags",        "Span.startTime",     "Span.duration"};
    requireAll(seen, 0x1df, kNames);
  }

  Reader& in_;
  Batch& out_;
  const char* required_missing_ = nullptr;  // the first required field found missing
};

}  // namespace

absl::Status decodeThriftBatch(std::string_view bytes, bool compact, Batch& batch) {
  batch.clear();
  Reader in(bytes, compact ? thrift::Protocol::kCompact : thrift::Protocol::kBinary);
  return ThriftBatchDecoder(in, batch).batch();
}

absl::Status decodeAgentPacket(std::string_view packet, bool compact, Batch& batch) {
  batch.clear();
  Reader in(packet, compact ? thrift::Protocol::kCompact : thrift::Protocol::kBinary);
  std::string_view name;
  thrift::MessageType type{};
  int32_t seqid = 0;
  if (!in.readMessageBegin(name, type, seqid)) return absl::InvalidArgumentError(in.error());
  if (type != thrift::kCall && type != thrift::kOneway) {
    return absl::InvalidArgumentError("agent packet is not a call");
  }
  if (name != "emitBatch") {
    return absl::InvalidArgumentError(
        strCat("agent method '", name.substr(0, 64), "' is not supported (only emitBatch)"));
  }
  // The arguments struct: field 1 is the batch.
  bool found = false;
  in.structBegin();
  int16_t id = 0;
  for (Type t = in.readField(id); t != thrift::kStop; t = in.readField(id)) {
    if (id == 1 && t == thrift::kStruct && !found) {
      if (absl::Status s = ThriftBatchDecoder(in, batch).batch(); !s.ok()) return s;
      found = true;
    } else {
      in.skip(t);
    }
  }
  in.structEnd();
  if (!in.ok()) return absl::InvalidArgumentError(in.error());
  if (!found) return absl::InvalidArgumentError("emitBatch without a batch");
  return absl::OkStatus();
}

}  // namespace otlpd::jaeger
