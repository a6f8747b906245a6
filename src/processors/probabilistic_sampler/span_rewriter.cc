#include "processors/probabilistic_sampler/span_rewriter.h"

#include <cstring>
#include <vector>

#include "common/strings.h"
#include "otlp/value.h"
#include "otlp/wire_reader.h"
#include "otlp/wire_writer.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

using otlp::wire::Field;
using otlp::wire::Reader;
using otlp::wire::Stop;
namespace wire = otlp::wire;
namespace fields = otlp::fields;

constexpr std::string_view kPriorityKey = "sampling.priority";

// The output as pieces: slices of the input (adjacent ones merged) and of a scratch buffer (new
// trace_state fields and the tag + length of every message whose length changed), copied once at
// the end.
class PieceWriter {
 public:
  explicit PieceWriter(std::string_view input) : input_(input) { pieces_.reserve(64); }

  void copy(const char* begin, size_t size) {
    if (size == 0) return;
    const size_t offset = static_cast<size_t>(begin - input_.data());
    if (!pieces_.empty()) {
      Piece& last = pieces_.back();
      if (!last.scratch && last.offset + last.size == offset) {
        last.size += size;
        total_ += size;
        return;
      }
    }
    pieces_.push_back(Piece{false, offset, size});
    total_ += size;
  }
  void copy(std::string_view slice) { copy(slice.data(), slice.size()); }

  // Appends to the scratch buffer, then make it a piece with pushScratch().
  std::string& scratch() { return scratch_; }
  void pushScratch(size_t offset) {
    const size_t size = scratch_.size() - offset;
    if (size == 0) return;
    pieces_.push_back(Piece{true, offset, size});
    total_ += size;
  }

  struct Container {
    size_t piece;
    size_t total_before;
    uint32_t field;
  };
  Container open(uint32_t field) {
    pieces_.push_back(Piece{true, 0, 0});  // the header, once the length is known
    return Container{pieces_.size() - 1, total_, field};
  }
  void close(const Container& c) {
    const size_t size = total_ - c.total_before;
    const size_t header = scratch_.size();
    wire::appendTag(c.field, wire::kLengthDelimited, scratch_);
    wire::appendVarint(size, scratch_);
    pieces_[c.piece] = Piece{true, header, scratch_.size() - header};
    total_ += scratch_.size() - header;
  }
  // Forgets the container and everything written inside it.
  void discard(const Container& c) {
    pieces_.resize(c.piece);
    total_ = c.total_before;
  }

  std::string assemble() const {
    std::string out;
    out.reserve(total_);
    for (const Piece& piece : pieces_) {
      out.append((piece.scratch ? scratch_.data() : input_.data()) + piece.offset, piece.size);
    }
    return out;
  }

 private:
  struct Piece {
    bool scratch;
    size_t offset;
    size_t size;
  };
  std::string_view input_;
  std::string scratch_;
  std::vector<Piece> pieces_;
  size_t total_ = 0;
};

// Whether an encoded KeyValue has the key "sampling.priority" (the last key field, as protobuf
// reads it). Encoders write a KeyValue as its key then its value; that layout is recognised
// without a walk, which every attribute of every span would otherwise cost.
bool isPriorityEntry(std::string_view keyvalue) {
  const auto* p = reinterpret_cast<const uint8_t*>(keyvalue.data());
  const size_t n = keyvalue.size();
  if (n >= 2 && p[0] == 0x0a && p[1] < 0x80) {  // key: field 1, length-delimited, short
    const size_t key_end = 2 + size_t{p[1]};
    bool only_value_follows = key_end == n;
    if (key_end < n && p[key_end] == 0x12) {  // then the value (field 2), up to the end
      Reader rest(keyvalue.substr(key_end + 1));
      uint64_t length = 0;
      only_value_follows = rest.readVarint(length) == Stop::kNone &&
                           static_cast<size_t>(rest.position() - keyvalue.data()) + length == n;
    }
    if (only_value_follows) {
      return p[1] == kPriorityKey.size() &&
             std::memcmp(p + 2, kPriorityKey.data(), kPriorityKey.size()) == 0;
    }
  }
  Reader reader(keyvalue);
  Field f;
  std::string_view key;
  while (!reader.done() && reader.next(f) == Stop::kNone) {
    if (f.number == 1 && f.type == wire::kLengthDelimited) key = f.bytes;
  }
  return key == kPriorityKey;
}

struct SpanScan {
  SpanFields fields;
  const char* trace_state_begin = nullptr;  // the first trace_state field, tag included
  const char* trace_state_end = nullptr;
  int trace_state_fields = 0;
  bool priority_seen = false;
};

Stop scanSpan(std::string_view span, SpanScan& scan) {
  Reader reader(span);
  Field f;
  while (!reader.done()) {
    const char* begin = reader.position();
    if (Stop s = reader.next(f); s != Stop::kNone) return s;
    if (f.type != wire::kLengthDelimited) continue;
    switch (f.number) {
      case fields::kSpanTraceId:
        scan.fields.trace_id = f.bytes;
        break;
      case fields::kSpanTraceState:
        scan.fields.trace_state = f.bytes;
        if (scan.trace_state_fields++ == 0) {
          scan.trace_state_begin = begin;
          scan.trace_state_end = reader.position();
        }
        break;
      case fields::kSpanAttributes:
        if (!scan.priority_seen && isPriorityEntry(f.bytes)) {
          scan.priority_seen = true;
          scan.fields.priority = spanPriorityOfAttribute(wire::lastLengthDelimited(f.bytes, 2));
        }
        break;
      default:
        break;
    }
  }
  return Stop::kNone;
}

class Rewriter {
 public:
  Rewriter(std::string_view input, absl::FunctionRef<SpanVerdict(const SpanFields&)> decide)
      : input_(input), decide_(decide), out_(input) {}

  absl::StatusOr<otlp::RewriteResult> run() {
    Reader reader(input_);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      if (Stop s = reader.next(f); s != Stop::kNone) return malformed("request");
      if (f.number == 1 && f.type == wire::kLengthDelimited) {
        if (!resource(f.bytes)) return malformed("resource spans");
      } else {
        out_.copy(begin, static_cast<size_t>(reader.position() - begin));
      }
    }
    otlp::RewriteResult result;
    result.changed = changed_;
    result.items = kept_;
    result.dropped = dropped_;
    result.dropped_by_editor = {dropped_};
    if (changed_) result.bytes = out_.assemble();
    return result;
  }

 private:
  static absl::Status malformed(std::string_view what) {
    return absl::InvalidArgumentError(strCat("malformed request: ", what));
  }

  bool resource(std::string_view content) {
    const auto container = out_.open(1);
    bool had_spans = false;
    bool kept_any = false;
    Reader reader(content);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      if (reader.next(f) != Stop::kNone) return false;
      if (f.number == 2 && f.type == wire::kLengthDelimited) {
        if (!scope(f.bytes, had_spans, kept_any)) return false;
      } else {
        out_.copy(begin, static_cast<size_t>(reader.position() - begin));
      }
    }
    if (had_spans && !kept_any) {
      out_.discard(container);
    } else {
      out_.close(container);
    }
    return true;
  }

  bool scope(std::string_view content, bool& had_spans, bool& kept_any) {
    const auto container = out_.open(2);
    bool scope_had_spans = false;
    bool scope_kept_any = false;
    Reader reader(content);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      if (reader.next(f) != Stop::kNone) return false;
      const size_t raw_size = static_cast<size_t>(reader.position() - begin);
      if (f.number == 2 && f.type == wire::kLengthDelimited) {
        scope_had_spans = true;
        if (!span(f.bytes, begin, raw_size, scope_kept_any)) return false;
      } else {
        out_.copy(begin, raw_size);
      }
    }
    had_spans |= scope_had_spans;
    kept_any |= scope_kept_any;
    if (scope_had_spans && !scope_kept_any) {
      out_.discard(container);
    } else {
      out_.close(container);
    }
    return true;
  }

  bool span(std::string_view content, const char* raw_begin, size_t raw_size, bool& kept_any) {
    SpanScan scan;
    if (scanSpan(content, scan) != Stop::kNone) return false;
    const SpanVerdict verdict = decide_(scan.fields);
    if (!verdict.keep) {
      ++dropped_;
      changed_ = true;
      return true;
    }
    ++kept_;
    kept_any = true;
    if (verdict.new_trace_state == nullptr) {
      out_.copy(raw_begin, raw_size);
      return true;
    }
    changed_ = true;
    const std::string& value = *verdict.new_trace_state;
    const size_t new_field_size =
        value.empty() ? 0 : wire::lengthDelimitedSize(fields::kSpanTraceState, value.size());
    std::string& scratch = out_.scratch();
    if (scan.trace_state_fields <= 1) {
      const size_t old_field_size =
          static_cast<size_t>(scan.trace_state_end - scan.trace_state_begin);
      const size_t size = content.size() - old_field_size + new_field_size;
      const size_t header = scratch.size();
      wire::appendTag(2, wire::kLengthDelimited, scratch);
      wire::appendVarint(size, scratch);
      out_.pushScratch(header);
      const char* split =
          scan.trace_state_fields == 0 ? content.data() + content.size() : scan.trace_state_begin;
      out_.copy(content.data(), static_cast<size_t>(split - content.data()));
      appendTraceState(value);
      if (scan.trace_state_fields == 1) {
        out_.copy(scan.trace_state_end,
                  static_cast<size_t>(content.data() + content.size() - scan.trace_state_end));
      }
      return true;
    }
    // Several trace_state fields (protobuf keeps the last): the new value goes where the first
    // was, the others go.
    size_t kept_bytes = 0;
    {
      Reader reader(content);
      Field f;
      while (!reader.done()) {
        const char* begin = reader.position();
        if (reader.next(f) != Stop::kNone) return false;
        if (!(f.number == fields::kSpanTraceState && f.type == wire::kLengthDelimited)) {
          kept_bytes += static_cast<size_t>(reader.position() - begin);
        }
      }
    }
    const size_t header = scratch.size();
    wire::appendTag(2, wire::kLengthDelimited, scratch);
    wire::appendVarint(kept_bytes + new_field_size, scratch);
    out_.pushScratch(header);
    bool written = false;
    Reader reader(content);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      if (reader.next(f) != Stop::kNone) return false;
      if (f.number == fields::kSpanTraceState && f.type == wire::kLengthDelimited) {
        if (!written) appendTraceState(value);
        written = true;
      } else {
        out_.copy(begin, static_cast<size_t>(reader.position() - begin));
      }
    }
    return true;
  }

  void appendTraceState(const std::string& value) {
    if (value.empty()) return;
    std::string& scratch = out_.scratch();
    const size_t at = scratch.size();
    wire::appendLengthDelimited(fields::kSpanTraceState, value, scratch);
    out_.pushScratch(at);
  }

  std::string_view input_;
  absl::FunctionRef<SpanVerdict(const SpanFields&)> decide_;
  PieceWriter out_;
  size_t kept_ = 0;
  size_t dropped_ = 0;
  bool changed_ = false;
};

}  // namespace

SpanPriority spanPriorityOfAttribute(std::string_view encoded_any_value) {
  otlp::Value value;
  if (!otlp::decodeValue(encoded_any_value, value)) return SpanPriority::kDefer;
  switch (value.kind()) {
    case otlp::Value::Kind::kInt:
      return spanPriorityOfInt(value.integer());
    case otlp::Value::Kind::kDouble:
      return spanPriorityOfDouble(value.dbl());
    case otlp::Value::Kind::kString:
      return spanPriorityOfString(value.str());
    default:
      return SpanPriority::kDefer;
  }
}

bool readSpanFields(std::string_view span, SpanFields& out) {
  SpanScan scan;
  const bool ok = scanSpan(span, scan) == Stop::kNone;
  out = scan.fields;
  return ok;
}

absl::StatusOr<otlp::RewriteResult> rewriteSpans(
    std::string_view request, absl::FunctionRef<SpanVerdict(const SpanFields&)> decide) {
  return Rewriter(request, decide).run();
}

}  // namespace otlpd::processors::probabilistic_sampler
