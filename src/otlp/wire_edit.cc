#include "otlp/wire_edit.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "common/strings.h"
#include "otlp/wire_writer.h"

namespace otlpd::otlp {
namespace {

using wire::Field;
using wire::Reader;
using wire::Stop;

// The string member of an encoded AnyValue when that is what it holds (the oneof's last member).
std::optional<std::string_view> anyValueString(std::string_view any) {
  Reader reader(any);
  Field f;
  std::optional<std::string_view> result;
  while (!reader.done()) {
    if (reader.next(f) != Stop::kNone) return std::nullopt;
    if (f.number == 1 && f.type == wire::kLengthDelimited) {
      result = f.bytes;
    } else if (f.number >= 2 && f.number <= 7) {
      result.reset();
    }
  }
  return result;
}

}  // namespace

// --- ByteArena ----------------------------------------------------------------------------------

std::string_view ByteArena::copy(std::string_view bytes) {
  while (block_ < blocks_.size() && blocks_[block_].size - used_ < bytes.size()) {
    ++block_;
    used_ = 0;
  }
  if (block_ == blocks_.size()) {
    const size_t size = std::max(kBlockSize, bytes.size());
    blocks_.push_back(Block{std::make_unique<char[]>(size), size});
    used_ = 0;
  }
  char* p = blocks_[block_].data.get() + used_;
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  used_ += bytes.size();
  return std::string_view(p, bytes.size());
}

// --- AttributeList ------------------------------------------------------------------------------

std::string_view AttributeList::ownValue(const Value& value) {
  encode_buffer_.clear();
  encodeValue(value, encode_buffer_);
  return storage_.copy(encode_buffer_);
}

void AttributeList::reset() {
  entries_.clear();
  storage_.reset();
  changed_ = false;
}

bool AttributeList::decodeEntry(Entry& e, std::string_view kv, std::string_view raw) {
  e.original = kv;
  e.raw = raw;
  e.key = {};
  e.value = {};
  // What every SDK writes: key (field 1) then value (field 2), each shorter than 128 bytes.
  const auto* p = reinterpret_cast<const uint8_t*>(kv.data());
  const size_t n = kv.size();
  if (n >= 2 && p[0] == 0x0A && p[1] < 0x80 && size_t{2} + p[1] <= n) {
    const size_t key_end = size_t{2} + p[1];
    if (key_end == n) {
      e.key = std::string_view(kv.data() + 2, p[1]);
      return true;
    }
    if (key_end + 2 <= n && p[key_end] == 0x12 && p[key_end + 1] < 0x80 &&
        key_end + 2 + p[key_end + 1] == n) {
      e.key = std::string_view(kv.data() + 2, p[1]);
      e.value = std::string_view(kv.data() + key_end + 2, n - key_end - 2);
      return true;
    }
  }
  Reader reader(kv);
  Field f;
  while (!reader.done()) {
    if (reader.next(f) != Stop::kNone) return false;
    if (f.type != wire::kLengthDelimited) continue;
    if (f.number == 1) e.key = f.bytes;
    if (f.number == 2) e.value = f.bytes;
  }
  // A KeyValue with no bytes at all is still an entry; keep `original` non-null to say unchanged.
  static constexpr std::string_view kNonNullEmpty = "";
  if (e.original.data() == nullptr) e.original = kNonNullEmpty;
  return true;
}

bool AttributeList::addEncoded(std::string_view kv, std::string_view raw) {
  Entry e;
  if (!decodeEntry(e, kv, raw)) return false;
  entries_.push_back(e);
  return true;
}

bool AttributeList::parse(const std::vector<std::string_view>& keyvalues) {
  reset();
  entries_.reserve(keyvalues.size());
  for (std::string_view kv : keyvalues) {
    if (!addEncoded(kv)) {
      entries_.clear();
      return false;
    }
  }
  return true;
}

Value AttributeList::value(size_t i) const {
  Value v;
  if (!decodeValue(entries_[i].value, v)) return Value();
  return v;
}

std::optional<std::string_view> AttributeList::stringValue(size_t i) const {
  return anyValueString(entries_[i].value);
}

std::optional<size_t> AttributeList::find(std::string_view key) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) return i;
  }
  return std::nullopt;
}

void AttributeList::set(size_t i, const Value& value) {
  entries_[i].value = ownValue(value);
  entries_[i].original = {};
  entries_[i].raw = {};
  changed_ = true;
}

void AttributeList::setString(size_t i, std::string_view value) {
  encode_buffer_.clear();
  wire::appendLengthDelimited(1, value, encode_buffer_);
  entries_[i].value = storage_.copy(encode_buffer_);
  entries_[i].original = {};
  entries_[i].raw = {};
  changed_ = true;
}

void AttributeList::append(std::string_view key, const Value& value) {
  Entry e;
  e.key = storage_.copy(key);
  e.value = ownValue(value);
  e.original = {};
  e.raw = {};
  entries_.push_back(e);
  changed_ = true;
}

void AttributeList::put(std::string_view key, const Value& value) {
  if (auto i = find(key)) {
    set(*i, value);
  } else {
    append(key, value);
  }
}

void AttributeList::erase(size_t i) {
  entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(i));
  changed_ = true;
}

void AttributeList::clear() {
  if (!entries_.empty()) changed_ = true;
  entries_.clear();
}

size_t AttributeList::encode(uint32_t field_number, std::string& out) const {
  const size_t start = out.size();
  // Runs of unchanged entries that sit next to each other in the input go out in one append.
  const char* run_begin = nullptr;
  const char* run_end = nullptr;
  auto flush = [&] {
    if (run_begin != nullptr) out.append(run_begin, static_cast<size_t>(run_end - run_begin));
    run_begin = run_end = nullptr;
  };
  for (const Entry& e : entries_) {
    if (e.raw.data() != nullptr) {
      if (e.raw.data() != run_end) {
        flush();
        run_begin = e.raw.data();
      }
      run_end = e.raw.data() + e.raw.size();
      continue;
    }
    flush();
    if (e.original.data() != nullptr) {
      wire::appendLengthDelimited(field_number, e.original, out);
      continue;
    }
    const size_t content =
        wire::lengthDelimitedSize(1, e.key.size()) + wire::lengthDelimitedSize(2, e.value.size());
    wire::appendTag(field_number, wire::kLengthDelimited, out);
    wire::appendVarint(content, out);
    wire::appendLengthDelimited(1, e.key, out);
    wire::appendLengthDelimited(2, e.value, out);
  }
  flush();
  return out.size() - start;
}

// --- MessageEdit --------------------------------------------------------------------------------

wire::Stop MessageEdit::open(std::string_view bytes, uint32_t attributes_field) {
  bytes_ = bytes;
  attributes_field_ = attributes_field;
  field_count_ = 0;
  attribute_count_ = 0;
  overrides_.clear();
  attributes_parsed_ = false;
  attributes_malformed_ = false;
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p != end) {
    // Most fields of telemetry have a one-byte tag and, if length-delimited, a one-byte length.
    const auto tag = static_cast<uint8_t>(*p);
    if (tag < 0x80 && tag >= 8 && (tag & 7) == wire::kLengthDelimited && end - p >= 2 &&
        static_cast<uint8_t>(p[1]) < 0x80 && end - p - 2 >= static_cast<uint8_t>(p[1])) {
      const size_t length = static_cast<uint8_t>(p[1]);
      RawField& f = nextField();
      f.number = tag >> 3;
      f.type = wire::kLengthDelimited;
      f.value = 0;
      f.bytes = std::string_view(p + 2, length);
      f.raw = std::string_view(p, length + 2);
      if (f.number == attributes_field) ++attribute_count_;
      p += length + 2;
      continue;
    }
    // Then one-byte varints (a span's kind), fixed64 (its times) and fixed32 with a one-byte tag.
    if (tag < 0x80 && tag >= 8) {
      const auto type = static_cast<wire::WireType>(tag & 7);
      size_t size = 0;
      uint64_t value = 0;
      if (type == wire::kVarint && end - p >= 2 && static_cast<uint8_t>(p[1]) < 0x80) {
        size = 2;
        value = static_cast<uint8_t>(p[1]);
      } else if (type == wire::kFixed64 && end - p >= 9) {
        size = 9;
        std::memcpy(&value, p + 1, 8);
      } else if (type == wire::kFixed32 && end - p >= 5) {
        uint32_t v32;
        std::memcpy(&v32, p + 1, 4);
        size = 5;
        value = v32;
      }
      if (size != 0) {
        RawField& f = nextField();
        f.number = tag >> 3;
        f.type = type;
        f.value = value;
        f.bytes = {};
        f.raw = std::string_view(p, size);
        p += size;
        continue;
      }
    }
    Reader reader(std::string_view(p, static_cast<size_t>(end - p)));
    Field field;
    if (Stop s = reader.next(field); s != Stop::kNone) {
      field_count_ = 0;
      attribute_count_ = 0;
      return s;
    }
    RawField& f = nextField();
    f.number = field.number;
    f.type = field.type;
    f.value = field.value;
    f.bytes = field.bytes;
    f.raw = std::string_view(p, static_cast<size_t>(reader.position() - p));
    if (f.number == attributes_field && f.type == wire::kLengthDelimited) ++attribute_count_;
    p = reader.position();
  }
  return Stop::kNone;
}

bool MessageEdit::changed() const {
  return !overrides_.empty() || (attributes_parsed_ && attributes_.changed());
}

const MessageEdit::RawField* MessageEdit::last(uint32_t field) const {
  for (size_t i = field_count_; i-- > 0;) {
    if (fields_[i].number == field) return &fields_[i];
  }
  return nullptr;
}

const MessageEdit::Override* MessageEdit::findOverride(uint32_t field) const {
  for (const Override& o : overrides_) {
    if (o.number == field) return &o;
  }
  return nullptr;
}

MessageEdit::Override& MessageEdit::override(uint32_t field, wire::WireType type) {
  for (Override& o : overrides_) {
    if (o.number == field) {
      o = Override{field, type, 0, {}, false};
      return o;
    }
  }
  overrides_.push_back(Override{field, type, 0, {}, false});
  return overrides_.back();
}

bool MessageEdit::has(uint32_t field) const {
  if (const Override* o = findOverride(field)) return !o->cleared;
  if (field == attributes_field_ && attributes_parsed_) return !attributes_.empty();
  return last(field) != nullptr;
}

uint64_t MessageEdit::varint(uint32_t field, uint64_t default_value) const {
  if (const Override* o = findOverride(field)) return o->cleared ? default_value : o->value;
  const RawField* f = last(field);
  return f != nullptr && f->type == wire::kVarint ? f->value : default_value;
}

uint64_t MessageEdit::fixed64(uint32_t field, uint64_t default_value) const {
  if (const Override* o = findOverride(field)) return o->cleared ? default_value : o->value;
  const RawField* f = last(field);
  return f != nullptr && f->type == wire::kFixed64 ? f->value : default_value;
}

uint32_t MessageEdit::fixed32(uint32_t field, uint32_t default_value) const {
  if (const Override* o = findOverride(field)) {
    return o->cleared ? default_value : static_cast<uint32_t>(o->value);
  }
  const RawField* f = last(field);
  return f != nullptr && f->type == wire::kFixed32 ? static_cast<uint32_t>(f->value)
                                                   : default_value;
}

std::string_view MessageEdit::lengthDelimited(uint32_t field) const {
  if (const Override* o = findOverride(field)) {
    return o->cleared || o->items.empty() ? std::string_view() : std::string_view(o->items.back());
  }
  const RawField* f = last(field);
  return f != nullptr && f->type == wire::kLengthDelimited ? f->bytes : std::string_view();
}

std::vector<std::string_view> MessageEdit::repeated(uint32_t field) const {
  std::vector<std::string_view> out;
  if (const Override* o = findOverride(field)) {
    if (!o->cleared) {
      for (const std::string& item : o->items) out.push_back(item);
    }
    return out;
  }
  for (const RawField& f : rawFields()) {
    if (f.number == field && f.type == wire::kLengthDelimited) out.push_back(f.bytes);
  }
  return out;
}

void MessageEdit::setVarint(uint32_t field, uint64_t value) {
  override(field, wire::kVarint).value = value;
}

void MessageEdit::setFixed64(uint32_t field, uint64_t value) {
  override(field, wire::kFixed64).value = value;
}

void MessageEdit::setFixed32(uint32_t field, uint32_t value) {
  override(field, wire::kFixed32).value = value;
}

void MessageEdit::setLengthDelimited(uint32_t field, std::string_view bytes) {
  override(field, wire::kLengthDelimited).items.emplace_back(bytes);
}

void MessageEdit::setRepeated(uint32_t field, std::vector<std::string> items) {
  override(field, wire::kLengthDelimited).items = std::move(items);
}

void MessageEdit::clearField(uint32_t field) {
  if (field == attributes_field_ && field != 0) {
    attributes().clear();
    return;
  }
  override(field, wire::kVarint).cleared = true;
}

AttributeList& MessageEdit::attributes() {
  if (!attributes_parsed_) {
    attributes_parsed_ = true;
    attributes_.reset();
    if (attributes_field_ != 0 && attribute_count_ != 0) {
      // Sized once and filled in place: no growth checks per entry.
      attributes_.entries_.resize(attribute_count_);
      size_t i = 0;
      for (const RawField& f : rawFields()) {
        if (f.number != attributes_field_ || f.type != wire::kLengthDelimited) continue;
        if (!AttributeList::decodeEntry(attributes_.entries_[i++], f.bytes, f.raw)) {
          attributes_.reset();
          attributes_malformed_ = true;
          break;
        }
      }
    }
  }
  return attributes_;
}

namespace {

void encodeOverride(uint32_t number, wire::WireType type, uint64_t value,
                    const std::vector<std::string>& items, std::string& out) {
  switch (type) {
    case wire::kVarint:
      wire::appendTag(number, wire::kVarint, out);
      wire::appendVarint(value, out);
      break;
    case wire::kFixed64:
      wire::appendTag(number, wire::kFixed64, out);
      wire::appendFixed64(value, out);
      break;
    case wire::kFixed32:
      wire::appendTag(number, wire::kFixed32, out);
      wire::appendFixed32(static_cast<uint32_t>(value), out);
      break;
    case wire::kLengthDelimited:
      for (const std::string& item : items) wire::appendLengthDelimited(number, item, out);
      break;
    default:
      break;
  }
}

}  // namespace

void MessageEdit::encode(std::string& out) const {
  if (!changed()) {
    out.append(bytes_);
    return;
  }
  const bool rewrite_attributes = attributes_parsed_ && attributes_.changed() &&
                                  attributes_field_ != 0 && !attributes_malformed_;
  bool attributes_written = false;
  // Overrides are written where their field first appeared; the others at the end.
  absl::InlinedVector<bool, 8> override_written(overrides_.size(), false);
  // Unchanged fields next to each other in the input go out in one append.
  const char* run_begin = nullptr;
  const char* run_end = nullptr;
  auto flush = [&] {
    if (run_begin != nullptr) out.append(run_begin, static_cast<size_t>(run_end - run_begin));
    run_begin = run_end = nullptr;
  };
  for (const RawField& f : rawFields()) {
    if (rewrite_attributes && f.number == attributes_field_) {
      flush();
      if (!attributes_written) attributes_.encode(attributes_field_, out);
      attributes_written = true;
      continue;
    }
    bool overridden = false;
    for (size_t i = 0; i < overrides_.size(); ++i) {
      const Override& o = overrides_[i];
      if (o.number != f.number) continue;
      if (!overridden) flush();
      overridden = true;
      if (!override_written[i] && !o.cleared) {
        encodeOverride(o.number, o.type, o.value, o.items, out);
      }
      override_written[i] = true;
    }
    if (overridden) continue;
    if (f.raw.data() != run_end) {
      flush();
      run_begin = f.raw.data();
    }
    run_end = f.raw.data() + f.raw.size();
  }
  flush();
  if (rewrite_attributes && !attributes_written) attributes_.encode(attributes_field_, out);
  for (size_t i = 0; i < overrides_.size(); ++i) {
    const Override& o = overrides_[i];
    if (!override_written[i] && !o.cleared) encodeOverride(o.number, o.type, o.value, o.items, out);
  }
}

MetricType metricTypeOf(const MessageEdit& metric) {
  for (uint32_t f : {fields::kMetricGauge, fields::kMetricSum, fields::kMetricHistogram,
                     fields::kMetricExponentialHistogram, fields::kMetricSummary}) {
    if (metric.has(f)) return static_cast<MetricType>(f);
  }
  return MetricType::kNone;
}

// --- Rewriting ----------------------------------------------------------------------------------

namespace {

// The output, written once: while nothing differs from the input it is only a position in the
// input (a request no editor changes costs no copy); at the first difference the input up to there
// is copied, and from then on unchanged bytes are appended and changed messages encoded straight
// into the one output buffer. A container (resource, scope) is written before its length is known:
// its length field gets the size the input's length took, and is fixed once the container closes
// (moving its content only in the rare case that the size needs another number of bytes).
class OutputWriter {
 public:
  explicit OutputWriter(std::string_view input) : input_(input), cursor_(input.data()) {}

  void copy(std::string_view slice) {
    if (!materialized_) {
      if (slice.data() == cursor_) {
        cursor_ += slice.size();
        return;
      }
      materialize();
    }
    out_.append(slice);
  }

  // A length-delimited field whose content is `message` encoded.
  void message(uint32_t field, const MessageEdit& message) {
    if (!materialized_) materialize();
    wire::appendTag(field, wire::kLengthDelimited, out_);
    const size_t length_at = out_.size();
    const size_t reserved = wire::varintSize(message.bytes().size());
    out_.append(reserved, '\0');
    message.encode(out_);
    fixLength(length_at, reserved);
  }

  struct Container {
    size_t index;  // in open_
  };
  // Opens the length-delimited field `raw` (tag and length included) whose content is `content`:
  // what follows until close() is written inside it.
  Container open(uint32_t field, std::string_view raw, std::string_view content) {
    OpenContainer c;
    c.field = field;
    c.header_begin = raw.data();
    c.content_begin = content.data();
    c.content_end = content.data() + content.size();
    c.reserved = wire::varintSize(content.size());
    if (!materialized_ && raw.data() == cursor_) {
      cursor_ = content.data();
    } else {
      if (!materialized_) materialize();
      writeHeader(c);
    }
    open_.push_back(c);
    return Container{open_.size() - 1};
  }
  void close(const Container& c) {
    const OpenContainer& open = open_[c.index];
    if (!materialized_ && cursor_ == open.content_end) {
      open_.pop_back();  // as it was in the input
      return;
    }
    if (!materialized_) materialize();
    fixLength(open.length_at, open.reserved);
    open_.pop_back();
  }
  // Forgets the container and everything written inside it.
  void discard(const Container& c) {
    if (!materialized_) materialize();
    out_.resize(open_[c.index].header_at);
    open_.pop_back();
  }

  std::string take() {
    if (!materialized_) materialize();
    return std::move(out_);
  }

 private:
  struct OpenContainer {
    uint32_t field;
    const char* header_begin;  // in the input
    const char* content_begin;
    const char* content_end;
    size_t reserved;       // bytes set aside for the length
    size_t header_at = 0;  // in out_, once written
    size_t length_at = 0;
  };

  void writeHeader(OpenContainer& c) {
    c.header_at = out_.size();
    wire::appendTag(c.field, wire::kLengthDelimited, out_);
    c.length_at = out_.size();
    out_.append(c.reserved, '\0');
  }

  // From here on the output is written: the input up to the cursor, with the headers of the
  // containers open at this point (their lengths fixed when they close).
  void materialize() {
    materialized_ = true;
    // Edits change sizes by a little (hashes, added attributes): room for that, so the buffer
    // is seldom moved while being written.
    out_.reserve(input_.size() + input_.size() / 8 + 4096);
    const char* from = input_.data();
    for (OpenContainer& c : open_) {
      out_.append(from, static_cast<size_t>(c.header_begin - from));
      writeHeader(c);
      from = c.content_begin;
    }
    out_.append(from, static_cast<size_t>(cursor_ - from));
  }

  // Writes the length of the content that follows the `reserved` bytes at `length_at`.
  void fixLength(size_t length_at, size_t reserved) {
    const size_t size = out_.size() - length_at - reserved;
    const size_t needed = wire::varintSize(size);
    if (needed > reserved) {
      out_.insert(length_at, needed - reserved, '\0');
    } else if (needed < reserved) {
      out_.erase(length_at, reserved - needed);
    }
    uint64_t v = size;
    char* p = out_.data() + length_at;
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p = static_cast<char>(v);
  }

  std::string_view input_;
  const char* cursor_;  // while not materialized: the input before it is the output so far
  bool materialized_ = false;
  std::string out_;
  std::vector<OpenContainer> open_;
};

absl::Status malformed(std::string_view what) {
  return absl::InvalidArgumentError(strCat("malformed request: ", what));
}

#define OTLPD_EDIT_TRY(expr)                            \
  do {                                                  \
    if ((expr) != Stop::kNone) return malformed(#expr); \
  } while (0)

// Counts the repeated length-delimited fields `field` of a message.
size_t countField(std::string_view message, uint32_t field) {
  Reader reader(message);
  Field f;
  size_t n = 0;
  while (!reader.done()) {
    if (reader.next(f) != Stop::kNone) return n;
    if (f.number == field && f.type == wire::kLengthDelimited) ++n;
  }
  return n;
}

// The points a metric's data holds as the rewrite edits them (MetricsHooks::editSubItems): the
// data member metricTypeOf picks, its last occurrence. Counting every occurrence of every member
// instead made a metric whose last data message was empty look emptied by a read-only editor, and
// it was removed (found by the otlp_wire_edit fuzz target).
size_t countMetricPoints(std::string_view metric) {
  constexpr uint32_t kMembers[] = {fields::kMetricGauge, fields::kMetricSum,
                                   fields::kMetricHistogram, fields::kMetricExponentialHistogram,
                                   fields::kMetricSummary};
  std::string_view last_of[std::size(kMembers)];
  bool present[std::size(kMembers)] = {};
  Reader reader(metric);
  Field f;
  while (!reader.done() && reader.next(f) == Stop::kNone) {
    for (size_t m = 0; m < std::size(kMembers); ++m) {
      if (f.number != kMembers[m]) continue;
      // MessageEdit::has counts an occurrence of any wire type; lengthDelimited only this one.
      present[m] = true;
      last_of[m] = f.type == wire::kLengthDelimited ? f.bytes : std::string_view();
    }
  }
  for (size_t m = 0; m < std::size(kMembers); ++m) {
    if (present[m]) return countField(last_of[m], fields::kDataPoints);
  }
  return 0;
}

// Items in one ScopeSpans / ScopeLogs / ScopeMetrics.
size_t countScopeItems(pipeline::Signal signal, std::string_view scope) {
  if (signal != pipeline::Signal::kMetrics) return countField(scope, 2);
  Reader reader(scope);
  Field f;
  size_t n = 0;
  while (!reader.done()) {
    if (reader.next(f) != Stop::kNone) return n;
    if (f.number == 2 && f.type == wire::kLengthDelimited) n += countMetricPoints(f.bytes);
  }
  return n;
}

size_t countResourceItems(pipeline::Signal signal, std::string_view resource) {
  Reader reader(resource);
  Field f;
  size_t n = 0;
  while (!reader.done()) {
    if (reader.next(f) != Stop::kNone) return n;
    if (f.number == 2 && f.type == wire::kLengthDelimited) n += countScopeItems(signal, f.bytes);
  }
  return n;
}

uint32_t pointAttributesField(MetricType type) {
  switch (type) {
    case MetricType::kGauge:
    case MetricType::kSum:
      return fields::kNumberAttributes;
    case MetricType::kHistogram:
      return fields::kHistogramAttributes;
    case MetricType::kExponentialHistogram:
      return fields::kExponentialHistogramAttributes;
    case MetricType::kSummary:
      return fields::kSummaryAttributes;
    case MetricType::kNone:
      break;
  }
  return 0;
}

// The walk shared by the three signals: request → resource container → scope container → items,
// with one or more editors. `Hooks` knows the signal's editor type and item level.
template <class Hooks>
class Rewriter {
 public:
  using Editor = typename Hooks::Editor;

  Rewriter(pipeline::Signal signal, std::string_view input, const std::vector<Editor*>& editors,
           std::optional<size_t> known_items)
      : signal_(signal),
        input_(input),
        editors_(editors),
        out_(input),
        known_items_(known_items),
        dropped_by_(editors.size(), 0) {
    for (Editor* e : editors_) {
      EditDepth d = e->depth();
      if (signal == pipeline::Signal::kLogs) d = std::min(d, EditDepth::kItem);
      depths_.push_back(d);
      depth_ = std::max(depth_, d);
    }
    if (editors_.size() > 1) {
      for (size_t k = 0; k < editors_.size(); ++k) {
        resource_views_.push_back(std::make_unique<MessageEdit>());
        scope_views_.push_back(std::make_unique<MessageEdit>());
      }
      resource_buffers_.resize(editors_.size());
      scope_buffers_.resize(editors_.size());
    }
  }

  absl::StatusOr<RewriteResult> run() {
    Reader reader(input_);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      OTLPD_EDIT_TRY(reader.next(f));
      const std::string_view raw(begin, static_cast<size_t>(reader.position() - begin));
      if (f.number == 1 && f.type == wire::kLengthDelimited) {
        if (absl::Status s = resource(f.bytes, raw); !s.ok()) return s;
      } else {
        out_.copy(raw);
      }
    }
    RewriteResult result;
    result.changed = changed_;
    result.dropped = dropped_;
    result.items = known_items_ ? (*known_items_ > dropped_ ? *known_items_ - dropped_ : 0) : kept_;
    result.dropped_by_editor = std::move(dropped_by_);
    if (changed_) result.bytes = out_.take();
    return result;
  }

 private:
  bool counting() const { return !known_items_.has_value(); }

  void drop(size_t k, size_t items) {
    changed_ = true;
    dropped_ += items;
    dropped_by_[k] += items;
  }

  // What editor k sees of an ancestor: the message as it was after editor k's own hook.
  const MessageEdit& resourceView(size_t k) const {
    return editors_.size() == 1 ? resource_ : *resource_views_[k];
  }
  const MessageEdit& scopeView(size_t k) const {
    return editors_.size() == 1 ? scope_ : *scope_views_[k];
  }
  static wire::Stop snapshot(const MessageEdit& from, std::string& buffer, MessageEdit& view,
                             uint32_t attributes_field) {
    buffer.clear();
    from.encode(buffer);
    return view.open(buffer, attributes_field);
  }

  absl::Status resource(std::string_view content, std::string_view raw) {
    OTLPD_EDIT_TRY(
        resource_.open(wire::lastLengthDelimited(content, 1), fields::kResourceAttributes));
    for (size_t k = 0; k < editors_.size(); ++k) {
      if (!Hooks::editResource(*editors_[k], resource_)) {
        drop(k, countResourceItems(signal_, content));
        return absl::OkStatus();
      }
      if (editors_.size() > 1) {
        OTLPD_EDIT_TRY(snapshot(resource_, resource_buffers_[k], *resource_views_[k],
                                fields::kResourceAttributes));
      }
    }
    if (depth_ == EditDepth::kResource && !resource_.changed()) {
      out_.copy(raw);
      if (counting()) kept_ += countResourceItems(signal_, content);
      return absl::OkStatus();
    }
    const auto container = out_.open(1, raw, content);
    bool had_items = false;
    bool kept_any = false;
    bool resource_written = false;
    Reader reader(content);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      OTLPD_EDIT_TRY(reader.next(f));
      const std::string_view field_raw(begin, static_cast<size_t>(reader.position() - begin));
      if (f.number == 1 && f.type == wire::kLengthDelimited) {
        if (resource_written) continue;  // the last occurrence was opened and is written once
        resource_written = true;
        writeMessage(1, resource_, field_raw);
      } else if (f.number == 2 && f.type == wire::kLengthDelimited) {
        if (depth_ == EditDepth::kResource) {
          out_.copy(field_raw);
          if (counting()) kept_ += countScopeItems(signal_, f.bytes);
          had_items = kept_any = true;
        } else {
          bool scope_had_items = false;
          bool scope_kept_any = false;
          if (absl::Status s = scope(f.bytes, field_raw, scope_had_items, scope_kept_any);
              !s.ok()) {
            return s;
          }
          had_items |= scope_had_items;
          kept_any |= scope_kept_any;
        }
      } else {
        out_.copy(field_raw);
      }
    }
    if (!resource_written && resource_.changed()) writeMessage(1, resource_, {});
    if (had_items && !kept_any) {
      out_.discard(container);  // every item of the resource was dropped
    } else {
      out_.close(container);
    }
    return absl::OkStatus();
  }

  absl::Status scope(std::string_view content, std::string_view raw, bool& had_items,
                     bool& kept_any) {
    OTLPD_EDIT_TRY(scope_.open(wire::lastLengthDelimited(content, 1), fields::kScopeAttributes));
    for (size_t k = 0; k < editors_.size(); ++k) {
      if (depths_[k] < EditDepth::kScope) {
        if (editors_.size() > 1) {
          OTLPD_EDIT_TRY(
              snapshot(scope_, scope_buffers_[k], *scope_views_[k], fields::kScopeAttributes));
        }
        continue;
      }
      if (!Hooks::editScope(*editors_[k], resourceView(k), scope_)) {
        const size_t n = countScopeItems(signal_, content);
        drop(k, n);
        had_items = n != 0;
        return absl::OkStatus();
      }
      if (editors_.size() > 1) {
        OTLPD_EDIT_TRY(
            snapshot(scope_, scope_buffers_[k], *scope_views_[k], fields::kScopeAttributes));
      }
    }
    if (depth_ == EditDepth::kScope && !scope_.changed()) {
      out_.copy(raw);
      if (counting()) kept_ += countScopeItems(signal_, content);
      had_items = kept_any = true;
      return absl::OkStatus();
    }
    const auto container = out_.open(2, raw, content);
    bool scope_written = false;
    Reader reader(content);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      OTLPD_EDIT_TRY(reader.next(f));
      const std::string_view field_raw(begin, static_cast<size_t>(reader.position() - begin));
      if (f.number == 1 && f.type == wire::kLengthDelimited) {
        if (scope_written) continue;
        scope_written = true;
        writeMessage(1, scope_, field_raw);
      } else if (f.number == 2 && f.type == wire::kLengthDelimited) {
        had_items = true;
        if (depth_ == EditDepth::kScope) {
          out_.copy(field_raw);
          if (counting()) {
            kept_ += signal_ == pipeline::Signal::kMetrics ? countMetricPoints(f.bytes) : 1;
          }
          kept_any = true;
        } else {
          bool kept = false;
          if (absl::Status s = item(f.bytes, field_raw, kept); !s.ok()) return s;
          kept_any |= kept;
        }
      } else {
        out_.copy(field_raw);
      }
    }
    if (!scope_written && scope_.changed()) writeMessage(1, scope_, {});
    if (had_items && !kept_any) {
      out_.discard(container);
    } else {
      out_.close(container);
    }
    return absl::OkStatus();
  }

  // One span / log record / metric (field 2 of its scope container).
  absl::Status item(std::string_view content, std::string_view raw, bool& kept) {
    OTLPD_EDIT_TRY(item_.open(content, Hooks::itemAttributesField()));
    const bool metrics = signal_ == pipeline::Signal::kMetrics;
    size_t points = metrics ? countMetricPoints(content) : 1;
    for (size_t k = 0; k < editors_.size(); ++k) {
      if (depths_[k] < EditDepth::kItem) continue;
      if (!Hooks::editItem(*editors_[k], resourceView(k), scopeView(k), item_)) {
        drop(k, points);
        return absl::OkStatus();
      }
      if (depths_[k] == EditDepth::kSubItem) {
        size_t dropped_here = 0;
        auto left = Hooks::editSubItems(*editors_[k], resourceView(k), scopeView(k), item_, sub_,
                                        dropped_here);
        if (!left.ok()) return left.status();
        if (dropped_here != 0) drop(k, dropped_here);
        if (metrics) {
          if (*left == 0 && points != 0) {
            changed_ = true;  // a metric left without data points is removed
            return absl::OkStatus();
          }
          points = *left;
        }
      }
    }
    if (counting()) kept_ += points;
    kept = true;
    writeMessage(2, item_, raw);
    return absl::OkStatus();
  }

  void writeMessage(uint32_t field, const MessageEdit& message, std::string_view raw) {
    if (message.changed() || raw.data() == nullptr) {
      changed_ = true;
      out_.message(field, message);
    } else {
      out_.copy(raw);
    }
  }

  pipeline::Signal signal_;
  std::string_view input_;
  const std::vector<Editor*>& editors_;
  std::vector<EditDepth> depths_;
  EditDepth depth_ = EditDepth::kResource;
  OutputWriter out_;
  std::optional<size_t> known_items_;
  MessageEdit resource_;
  MessageEdit scope_;
  MessageEdit item_;
  MessageEdit sub_;
  // Fused rewrites: what each editor saw of the resource and scope after its own hook.
  std::vector<std::unique_ptr<MessageEdit>> resource_views_;
  std::vector<std::unique_ptr<MessageEdit>> scope_views_;
  std::vector<std::string> resource_buffers_;
  std::vector<std::string> scope_buffers_;
  size_t kept_ = 0;
  size_t dropped_ = 0;
  std::vector<size_t> dropped_by_;
  bool changed_ = false;
};

// What the three signals' hooks share: the resource and scope hooks every editor type has.
template <class E>
struct HooksBase {
  using Editor = E;
  static bool editResource(Editor& e, MessageEdit& r) { return e.editResource(r); }
  static bool editScope(Editor& e, const MessageEdit& r, MessageEdit& s) {
    return e.editScope(r, s);
  }
};

struct TracesHooks : HooksBase<TracesEditor> {
  static uint32_t itemAttributesField() { return fields::kSpanAttributes; }
  static bool editItem(Editor& e, const MessageEdit& r, const MessageEdit& s, MessageEdit& span) {
    return e.editSpan(r, s, span);
  }
  // Span events: the span's repeated field 11 is rebuilt only when an event changed or went.
  static absl::StatusOr<size_t> editSubItems(Editor& editor, const MessageEdit& r,
                                             const MessageEdit& s, MessageEdit& span,
                                             MessageEdit& event, size_t&) {
    std::vector<std::string_view> events = span.repeated(fields::kSpanEvents);
    if (events.empty()) return 1;
    std::vector<std::string> rebuilt;
    bool any_change = false;
    rebuilt.reserve(events.size());
    for (std::string_view e : events) {
      if (event.open(e, fields::kEventAttributes) != Stop::kNone) {
        return absl::InvalidArgumentError("malformed request: span event");
      }
      if (!editor.editSpanEvent(r, s, span, event)) {
        any_change = true;
        continue;
      }
      if (event.changed()) {
        any_change = true;
        std::string encoded;
        event.encode(encoded);
        rebuilt.push_back(std::move(encoded));
      } else {
        rebuilt.emplace_back(e);
      }
    }
    if (any_change) span.setRepeated(fields::kSpanEvents, std::move(rebuilt));
    return 1;
  }
};

struct LogsHooks : HooksBase<LogsEditor> {
  static uint32_t itemAttributesField() { return fields::kLogAttributes; }
  static bool editItem(Editor& e, const MessageEdit& r, const MessageEdit& s, MessageEdit& record) {
    return e.editLogRecord(r, s, record);
  }
  static absl::StatusOr<size_t> editSubItems(Editor&, const MessageEdit&, const MessageEdit&,
                                             MessageEdit&, MessageEdit&, size_t&) {
    return 1;
  }
};

struct MetricsHooks : HooksBase<MetricsEditor> {
  static uint32_t itemAttributesField() { return 0; }
  static bool editItem(Editor& e, const MessageEdit& r, const MessageEdit& s, MessageEdit& metric) {
    return e.editMetric(r, s, metric);
  }
  // Data points: the metric's data message is rebuilt only when a point changed or went.
  static absl::StatusOr<size_t> editSubItems(Editor& editor, const MessageEdit& r,
                                             const MessageEdit& s, MessageEdit& metric,
                                             MessageEdit& point, size_t& dropped) {
    const MetricType type = metricTypeOf(metric);
    if (type == MetricType::kNone) return 0;
    const uint32_t data_field = static_cast<uint32_t>(type);
    const std::string_view data = metric.lengthDelimited(data_field);
    const uint32_t attributes_field = pointAttributesField(type);
    std::string rebuilt;
    bool any_change = false;
    size_t kept = 0;
    Reader reader(data);
    Field f;
    while (!reader.done()) {
      const char* begin = reader.position();
      if (reader.next(f) != Stop::kNone) {
        return absl::InvalidArgumentError("malformed request: metric data");
      }
      const std::string_view raw(begin, static_cast<size_t>(reader.position() - begin));
      if (f.number != fields::kDataPoints || f.type != wire::kLengthDelimited) {
        rebuilt.append(raw);
        continue;
      }
      if (point.open(f.bytes, attributes_field) != Stop::kNone) {
        return absl::InvalidArgumentError("malformed request: data point");
      }
      if (!editor.editDataPoint(r, s, metric, type, point)) {
        any_change = true;
        ++dropped;
        continue;
      }
      ++kept;
      if (point.changed()) {
        any_change = true;
        std::string encoded;
        point.encode(encoded);
        wire::appendLengthDelimited(fields::kDataPoints, encoded, rebuilt);
      } else {
        rebuilt.append(raw);
      }
    }
    if (any_change) metric.setLengthDelimited(data_field, rebuilt);
    return kept;
  }
};

}  // namespace

absl::StatusOr<RewriteResult> rewriteTraces(std::string_view request,
                                            const std::vector<TracesEditor*>& editors,
                                            std::optional<size_t> items) {
  return Rewriter<TracesHooks>(pipeline::Signal::kTraces, request, editors, items).run();
}

absl::StatusOr<RewriteResult> rewriteLogs(std::string_view request,
                                          const std::vector<LogsEditor*>& editors,
                                          std::optional<size_t> items) {
  return Rewriter<LogsHooks>(pipeline::Signal::kLogs, request, editors, items).run();
}

absl::StatusOr<RewriteResult> rewriteMetrics(std::string_view request,
                                             const std::vector<MetricsEditor*>& editors,
                                             std::optional<size_t> items) {
  return Rewriter<MetricsHooks>(pipeline::Signal::kMetrics, request, editors, items).run();
}

absl::StatusOr<RewriteResult> rewriteTraces(std::string_view request, TracesEditor& editor) {
  return rewriteTraces(request, std::vector<TracesEditor*>{&editor});
}

absl::StatusOr<RewriteResult> rewriteLogs(std::string_view request, LogsEditor& editor) {
  return rewriteLogs(request, std::vector<LogsEditor*>{&editor});
}

absl::StatusOr<RewriteResult> rewriteMetrics(std::string_view request, MetricsEditor& editor) {
  return rewriteMetrics(request, std::vector<MetricsEditor*>{&editor});
}

}  // namespace otlpd::otlp
