#include "jaeger/to_otlp.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "otlp/wire_writer.h"

namespace otlpd::jaeger {
namespace {

namespace wire = ::otlpd::otlp::wire;

// OTLP field numbers (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto).
namespace f {
constexpr uint32_t kResourceSpans = 1;       // ExportTraceServiceRequest
constexpr uint32_t kResource = 1;            // ResourceSpans
constexpr uint32_t kScopeSpans = 2;          // ResourceSpans
constexpr uint32_t kResourceAttributes = 1;  // Resource
constexpr uint32_t kScope = 1;               // ScopeSpans
constexpr uint32_t kSpans = 2;               // ScopeSpans
constexpr uint32_t kScopeName = 1;           // InstrumentationScope
constexpr uint32_t kScopeVersion = 2;
constexpr uint32_t kTraceId = 1;  // Span
constexpr uint32_t kSpanId = 2;
constexpr uint32_t kTraceState = 3;
constexpr uint32_t kParentSpanId = 4;
constexpr uint32_t kName = 5;
constexpr uint32_t kKind = 6;
constexpr uint32_t kStart = 7;
constexpr uint32_t kEnd = 8;
constexpr uint32_t kAttributes = 9;
constexpr uint32_t kEvents = 11;
constexpr uint32_t kLinks = 13;
constexpr uint32_t kStatus = 15;
constexpr uint32_t kEventTime = 1;  // Span.Event
constexpr uint32_t kEventName = 2;
constexpr uint32_t kEventAttributes = 3;
constexpr uint32_t kLinkTraceId = 1;  // Span.Link
constexpr uint32_t kLinkSpanId = 2;
constexpr uint32_t kLinkAttributes = 4;
constexpr uint32_t kStatusMessage = 2;  // Status
constexpr uint32_t kStatusCode = 3;
constexpr uint32_t kKey = 1;  // KeyValue
constexpr uint32_t kValue = 2;
constexpr uint32_t kStringValue = 1;  // AnyValue
constexpr uint32_t kBoolValue = 2;
constexpr uint32_t kIntValue = 3;
constexpr uint32_t kDoubleValue = 4;
constexpr uint32_t kBytesValue = 7;
}  // namespace f

enum SpanKind : uint32_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum StatusCode : uint32_t { kUnset = 0, kOk = 1, kError = 2 };

// Small writes go straight into the buffer's room, a byte at a time for the short pieces.
inline char* putVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline char* putBigEndian64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
  return p + 8;
}
inline char* putBytes(char* p, std::string_view s) {
  if (s.size() <= 32) {
    for (char c : s) *p++ = c;
    return p;
  }
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
// The tag of a field below 16 (every field written here) is one byte.
inline char fieldTag(uint32_t field, wire::WireType type) {
  return static_cast<char>((field << 3) | type);
}
inline void putFixed64Field(uint32_t field, uint64_t v, WireBuffer& out) {
  char* p = out.room(9);
  *p++ = fieldTag(field, wire::kFixed64);
  std::memcpy(p, &v, 8);  // little-endian, as the wire wants
  out.commit(p + 8);
}
inline void putSmallVarintField(uint32_t field, uint32_t v, WireBuffer& out) {
  char* p = out.room(2);
  *p++ = fieldTag(field, wire::kVarint);
  *p++ = static_cast<char>(v);  // v < 128
  out.commit(p);
}
inline void putLengthDelimited(uint32_t field, std::string_view s, WireBuffer& out) {
  char* p = out.room(11 + s.size());
  *p++ = fieldTag(field, wire::kLengthDelimited);
  p = putVarint(p, s.size());
  out.commit(putBytes(p, s));
}

// Starts a length-delimited field whose length is not known yet: `reserve` bytes are kept for
// it and fixed up by endNested (moving the contents when the guess was wrong).
size_t beginNested(WireBuffer& out, uint32_t field, size_t reserve) {
  char* p = out.room(1 + reserve);
  *p = fieldTag(field, wire::kLengthDelimited);
  out.commit(p + 1 + reserve);
  return out.size() - reserve;
}
void endNested(WireBuffer& out, size_t at, size_t reserve) {
  const size_t length = out.size() - at - reserve;
  const size_t n = wire::varintSize(length);
  if (n != reserve) {
    out.room(n);  // may move the bytes: positions only from here on
    char* body = out.data() + at + reserve;
    std::memmove(out.data() + at + n, body, length);
    out.commit(out.data() + at + n + length);
  }
  char* p = out.data() + at;
  uint64_t v = length;
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p = static_cast<char>(v);
}

// U+FFFD for every byte that does not start a valid UTF-8 sequence.
std::string sanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 1;
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    if (c >= 0xE0 && c <= 0xEF) n = 3;
    if (c >= 0xF0 && c <= 0xF4) n = 4;
    if (c < 0x80 || (n > 1 && i + n <= s.size() && wire::validUtf8(s.substr(i, n)))) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

// Most telemetry strings are short ASCII: checked here without a call, else by validUtf8.
inline bool utf8(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t high = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t chunk;
    std::memcpy(&chunk, p, 8);
    high |= chunk;
  }
  for (; n > 0; ++p, --n) high |= static_cast<uint8_t>(*p);
  return (high & 0x8080808080808080ULL) == 0 || wire::validUtf8(s);
}

void appendString(uint32_t field, std::string_view s, WireBuffer& out) {
  if (utf8(s)) {
    putLengthDelimited(field, s, out);
  } else {
    putLengthDelimited(field, sanitizeUtf8(s), out);
  }
}

void appendId64(uint32_t field, uint64_t id, WireBuffer& out) {
  char* p = out.room(10);
  *p++ = fieldTag(field, wire::kLengthDelimited);
  *p++ = 8;
  out.commit(putBigEndian64(p, id));
}

void appendTraceId(uint32_t field, uint64_t high, uint64_t low, WireBuffer& out) {
  char* p = out.room(18);
  *p++ = fieldTag(field, wire::kLengthDelimited);
  *p++ = 16;
  p = putBigEndian64(p, high);
  out.commit(putBigEndian64(p, low));
}

// pcommon's Value.Str(): a string value, or empty for any other type.
std::string_view strOf(const Tag* tag) {
  return tag != nullptr && tag->type == static_cast<int32_t>(TagType::kString) ? tag->str
                                                                               : std::string_view();
}

// A KeyValue written with its sizes computed up front (no length fix-ups).
void appendKeyValue(uint32_t field, std::string_view key, const Tag& value, WireBuffer& out) {
  std::string fixed_key, fixed_value;
  if (!utf8(key)) {
    fixed_key = sanitizeUtf8(key);
    key = fixed_key;
  }
  // The AnyValue's one field: its tag, and its payload (bytes or a scalar).
  uint32_t value_field = f::kStringValue;
  wire::WireType value_type = wire::kLengthDelimited;
  std::string_view bytes;
  uint64_t scalar = 0;
  switch (static_cast<TagType>(value.type)) {
    case TagType::kString:
      bytes = value.str;
      if (!utf8(bytes)) {
        fixed_value = sanitizeUtf8(bytes);
        bytes = fixed_value;
      }
      break;
    case TagType::kBool:
      value_field = f::kBoolValue;
      value_type = wire::kVarint;
      scalar = value.b ? 1 : 0;
      break;
    case TagType::kLong:
      value_field = f::kIntValue;
      value_type = wire::kVarint;
      scalar = static_cast<uint64_t>(value.i64);
      break;
    case TagType::kDouble:
      value_field = f::kDoubleValue;
      value_type = wire::kFixed64;
      std::memcpy(&scalar, &value.dbl, 8);
      break;
    case TagType::kBinary:
      value_field = f::kBytesValue;
      bytes = value.str;
      break;
    default: {
      // What the Collector writes for a type it does not know.
      const int32_t shown = value.type >= 1000 ? value.type - 1000 : value.type;
      fixed_value = strCat("<Unknown Jaeger TagType \"", shown, "\">");
      bytes = fixed_value;
      break;
    }
  }
  size_t any_size = 1;  // the value field's tag (fields 1..7: one byte)
  if (value_type == wire::kLengthDelimited) {
    any_size += wire::varintSize(bytes.size()) + bytes.size();
  } else if (value_type == wire::kVarint) {
    any_size += wire::varintSize(scalar);
  } else {
    any_size += 8;
  }
  const size_t kv_size =
      1 + wire::varintSize(key.size()) + key.size() + 1 + wire::varintSize(any_size) + any_size;
  // The whole KeyValue in the room made for it: its sizes are known, so nothing is fixed up.
  char* p = out.room(1 + wire::varintSize(kv_size) + kv_size);
  *p++ = fieldTag(field, wire::kLengthDelimited);
  p = putVarint(p, kv_size);
  *p++ = fieldTag(f::kKey, wire::kLengthDelimited);
  p = putVarint(p, key.size());
  p = putBytes(p, key);
  *p++ = fieldTag(f::kValue, wire::kLengthDelimited);
  p = putVarint(p, any_size);
  *p++ = fieldTag(value_field, value_type);
  if (value_type == wire::kLengthDelimited) {
    p = putVarint(p, bytes.size());
    p = putBytes(p, bytes);
  } else if (value_type == wire::kVarint) {
    p = putVarint(p, scalar);
  } else {
    std::memcpy(p, &scalar, 8);  // little-endian, as the wire wants
    p += 8;
  }
  out.commit(p);
}

// A cheap fingerprint of a key: keys with different fingerprints differ.
inline uint32_t keyPrint(std::string_view key) {
  if (key.empty()) return 0;
  return static_cast<uint32_t>(key.size()) << 24 ^
         static_cast<uint32_t>(static_cast<uint8_t>(key.front())) << 16 ^
         static_cast<uint32_t>(static_cast<uint8_t>(key[key.size() / 2])) << 8 ^
         static_cast<uint8_t>(key.back());
}

// Attributes as a map: a key written twice keeps its first place and its last value (pcommon's
// Map.Put*). Keys are compared only when their fingerprints collide.
void appendAttributes(uint32_t field, const std::vector<const Tag*>& tags, WireBuffer& out) {
  const size_t n = tags.size();
  constexpr size_t kPrints = 64;
  uint32_t prints[kPrints];
  // A 256-bit filter of the fingerprints seen: the earlier ones are searched only on a hit.
  uint64_t seen[4] = {0, 0, 0, 0};
  bool maybe_duplicates = n > kPrints;
  for (size_t i = 0; i < n && !maybe_duplicates; ++i) {
    const uint32_t print = keyPrint(tags[i]->key);
    prints[i] = print;
    const uint32_t bit = (print * 0x9E3779B1u) >> 24;
    const uint64_t mask = uint64_t{1} << (bit & 63);
    if ((seen[bit >> 6] & mask) != 0) {
      for (size_t j = 0; j < i; ++j) {
        if (prints[j] == print) {
          maybe_duplicates = true;
          break;
        }
      }
    }
    seen[bit >> 6] |= mask;
  }
  if (!maybe_duplicates) {
    for (const Tag* tag : tags) appendKeyValue(field, tag->key, *tag, out);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string_view key = tags[i]->key;
    bool earlier = false;
    for (size_t j = 0; j < i && !earlier; ++j) earlier = tags[j]->key == key;
    if (earlier) continue;
    const Tag* value = tags[i];
    for (size_t j = i + 1; j < n; ++j) {
      if (tags[j]->key == key) value = tags[j];
    }
    appendKeyValue(field, key, *value, out);
  }
}

// The span tags the translation reads.
enum Special : uint8_t {
  kNotSpecial = 0,
  kSpanKind,
  kErrorTag,
  kStatusCodeTag,
  kStatusDescription,
  kHttpStatusCode,
  kHttpStatusMessage,
  kTraceState,
  kScopeName,
  kScopeVersion,
  kLibraryName,
  kLibraryVersion,
  kSpecialCount,
};

template <size_t N>
inline bool keyIs(std::string_view key, const char (&literal)[N]) {
  return std::memcmp(key.data(), literal, N - 1) == 0;  // the lengths are equal already
}

// Which special key, if any: by length and first byte, then the bytes (most keys are none).
Special classify(std::string_view key) {
  if (key.size() < 5 || key.size() > 23) return kNotSpecial;
  switch (key[0]) {
    case 'e':
      return key.size() == 5 && keyIs(key, "error") ? kErrorTag : kNotSpecial;
    case 's':
      return key.size() == 9 && keyIs(key, "span.kind") ? kSpanKind : kNotSpecial;
    case 'w':
      return key.size() == 14 && keyIs(key, "w3c.tracestate") ? kTraceState : kNotSpecial;
    case 'h':
      if (key.size() == 16) return keyIs(key, "http.status_code") ? kHttpStatusCode : kNotSpecial;
      if (key.size() == 19) {
        return keyIs(key, "http.status_message") ? kHttpStatusMessage : kNotSpecial;
      }
      return kNotSpecial;
    case 'o':
      switch (key.size()) {
        case 15:
          return keyIs(key, "otel.scope.name") ? kScopeName : kNotSpecial;
        case 16:
          return keyIs(key, "otel.status_code") ? kStatusCodeTag : kNotSpecial;
        case 17:
          return keyIs(key, "otel.library.name") ? kLibraryName : kNotSpecial;
        case 18:
          return keyIs(key, "otel.scope.version") ? kScopeVersion : kNotSpecial;
        case 20:
          return keyIs(key, "otel.library.version") ? kLibraryVersion : kNotSpecial;
        case 23:
          return keyIs(key, "otel.status_description") ? kStatusDescription : kNotSpecial;
        default:
          return kNotSpecial;
      }
    default:
      return kNotSpecial;
  }
}

uint32_t kindFromTag(std::string_view v) {
  if (v == "client") return kClient;
  if (v == "server") return kServer;
  if (v == "producer") return kProducer;
  if (v == "consumer") return kConsumer;
  if (v == "internal") return kInternal;
  return kUnspecified;
}

// The HTTP status code tag as the Collector reads it: an integer, or a decimal string.
bool httpCode(const Tag& tag, int64_t& code) {
  if (tag.type == static_cast<int32_t>(TagType::kLong)) {
    code = tag.i64;
    return true;
  }
  if (tag.type != static_cast<int32_t>(TagType::kString)) return false;
  std::string_view s = tag.str;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

}  // namespace

OtlpTranslator::ScopeGroup& OtlpTranslator::scopeGroup(std::string_view name,
                                                       std::string_view version) {
  for (size_t i = 0; i < scopes_used_; ++i) {
    if (scopes_[i].name == name && scopes_[i].version == version) return scopes_[i];
  }
  if (scopes_used_ == scopes_.size()) scopes_.emplace_back();
  ScopeGroup& g = scopes_[scopes_used_++];
  g.name = name;
  g.version = version;
  g.spans.clear();
  return g;
}

void OtlpTranslator::writeResource(const Batch& batch, const Process* process, WireBuffer& out) {
  out.clear();
  if (process == nullptr || !process->present) return;
  if (process->service_name.empty() && process->tags.count == 0) return;
  resource_tags_.clear();
  if (!process->service_name.empty()) {
    Tag service;
    service.key = "service.name";
    service.type = static_cast<int32_t>(TagType::kString);
    service.str = process->service_name;
    resource_tags_.push_back(service);
  }
  const Tag* hostname = nullptr;
  const Tag* jaeger_version = nullptr;
  bool has_host_name = false, has_exporter_version = false;
  for (uint32_t i = 0; i < process->tags.count; ++i) {
    const Tag& tag = batch.tags[process->tags.begin + i];
    resource_tags_.push_back(tag);
    if (tag.key == "hostname") hostname = &tag;
    if (tag.key == "jaeger.version") jaeger_version = &tag;
    if (tag.key == "host.name") has_host_name = true;
    if (tag.key == "opencensus.exporterversion") has_exporter_version = true;
  }
  kept_.clear();
  for (const Tag& tag : resource_tags_) {
    if (hostname != nullptr && !has_host_name && tag.key == "hostname") continue;
    if (jaeger_version != nullptr && !has_exporter_version && tag.key == "jaeger.version") continue;
    kept_.push_back(&tag);
  }
  // The Collector's special process tags: `hostname` becomes host.name, `jaeger.version` the
  // OpenCensus exporter version.
  Tag host_name, exporter_version;
  if (hostname != nullptr && !has_host_name) {
    for (const Tag& tag : resource_tags_) {
      if (tag.key == "hostname") host_name = tag;  // the last one, as a map keeps it
    }
    host_name.key = "host.name";
    kept_.push_back(&host_name);
  }
  if (jaeger_version != nullptr && !has_exporter_version) {
    const Tag* last = nullptr;
    for (const Tag& tag : resource_tags_) {
      if (tag.key == "jaeger.version") last = &tag;
    }
    exporter_version_ = strCat("Jaeger-", strOf(last));
    exporter_version.key = "opencensus.exporterversion";
    exporter_version.type = static_cast<int32_t>(TagType::kString);
    exporter_version.str = exporter_version_;
    kept_.push_back(&exporter_version);
  }
  appendAttributes(f::kResourceAttributes, kept_, out);
}

void OtlpTranslator::writeSpan(const Batch& batch, const Span& span) {
  if ((span.trace_id_high | span.trace_id_low) == 0 || span.span_id == 0 ||
      span.end_unix_nano < span.start_unix_nano) {
    ++invalid_spans_;
  }
  // The special tags by kind (the last of a key wins, as in a map), and each tag's kind.
  const Tag* special[kSpecialCount] = {};
  kept_.clear();
  special_of_.resize(span.tags.count);
  for (uint32_t i = 0; i < span.tags.count; ++i) {
    const Tag& tag = batch.tags[span.tags.begin + i];
    const Special kind_of_key = classify(tag.key);
    special_of_[i] = kind_of_key;
    special[kind_of_key] = &tag;
  }

  // The scope: otel.scope.name / version (otel.library.* from older exporters when absent).
  std::string_view scope_name, scope_version;
  bool scope_from_library = false;
  if (special[kScopeName] != nullptr) {
    scope_name = strOf(special[kScopeName]);
    if (special[kScopeVersion] != nullptr) scope_version = strOf(special[kScopeVersion]);
  } else if (special[kLibraryName] != nullptr) {
    scope_from_library = true;
    scope_name = strOf(special[kLibraryName]);
    if (special[kLibraryVersion] != nullptr) scope_version = strOf(special[kLibraryVersion]);
  }

  // Straight into its scope's buffer, behind a length that is two bytes for spans of 128 bytes
  // to 16 KiB (moved only for the others).
  WireBuffer& out = scopeGroup(scope_name, scope_version).spans;
  const size_t span_at = beginNested(out, f::kSpans, 2);

  appendTraceId(f::kTraceId, span.trace_id_high, span.trace_id_low, out);
  appendId64(f::kSpanId, span.span_id, out);

  // The parent: parentSpanId, else the first CHILD_OF reference in the same trace, else the
  // first FOLLOWS_FROM one (Jaeger's own rule).
  uint64_t parent = span.parent_span_id;
  if (parent == 0) {
    const SpanRef* follows = nullptr;
    for (uint32_t i = 0; i < span.refs.count; ++i) {
      const SpanRef& ref = batch.refs[span.refs.begin + i];
      if (ref.trace_id_high != span.trace_id_high || ref.trace_id_low != span.trace_id_low)
        continue;
      if (!ref.follows_from) {
        parent = ref.span_id;
        break;
      }
      if (follows == nullptr) follows = &ref;
    }
    if (parent == 0 && follows != nullptr) parent = follows->span_id;
  }
  if (parent != 0) appendId64(f::kParentSpanId, parent, out);
  if (special[kTraceState] != nullptr && !strOf(special[kTraceState]).empty()) {
    appendString(f::kTraceState, strOf(special[kTraceState]), out);
  }
  if (!span.operation_name.empty()) appendString(f::kName, span.operation_name, out);

  uint32_t kind = kUnspecified;
  if (special[kSpanKind] != nullptr) kind = kindFromTag(strOf(special[kSpanKind]));
  if (kind != kUnspecified) {
    putSmallVarintField(f::kKind, kind, out);
  }
  if (span.start_unix_nano != 0) {
    putFixed64Field(f::kStart, span.start_unix_nano, out);
  }
  if (span.end_unix_nano != 0) {
    putFixed64Field(f::kEnd, span.end_unix_nano, out);
  }

  // Status, exactly in the Collector's order of precedence: an `error` tag that is true, then
  // `otel.status_code`, then the HTTP status code.
  bool status_exists = false, remove_error = false, remove_description = false;
  uint32_t code = kUnset;
  std::string_view message;
  if (special[kErrorTag] != nullptr &&
      special[kErrorTag]->type == static_cast<int32_t>(TagType::kBool) && special[kErrorTag]->b) {
    code = kError;
    remove_error = true;
    status_exists = true;
    if (special[kStatusDescription] != nullptr) {
      message = strOf(special[kStatusDescription]);
      remove_description = true;
    } else if (special[kHttpStatusMessage] != nullptr) {
      message = strOf(special[kHttpStatusMessage]);
    }
  }
  if (special[kStatusCodeTag] != nullptr) {
    if (!status_exists) {
      status_exists = true;
      const std::string upper = absl::AsciiStrToUpper(toAbsl(strOf(special[kStatusCodeTag])));
      if (upper == "OK") code = kOk;
      if (upper == "ERROR") code = kError;
      if (special[kStatusDescription] != nullptr) {
        message = strOf(special[kStatusDescription]);
        remove_description = true;
      }
    }
  } else if (!status_exists && special[kHttpStatusCode] != nullptr) {
    int64_t http = 0;
    if (httpCode(*special[kHttpStatusCode], http)) {
      uint32_t from_http = http >= 100 && http < 399 ? kUnset : kError;
      // 4xx: an error of the client, not of a server.
      if (http >= 400 && http < 500 && kind == kServer) from_http = kUnset;
      if (http >= 400 && http < 500 && kind == kClient) from_http = kError;
      if (from_http != kUnset) {
        status_exists = true;
        code = from_http;
      }
      if (special[kHttpStatusMessage] != nullptr) message = strOf(special[kHttpStatusMessage]);
    }
  }

  // Which special tags are left out of the attributes (by kind).
  bool dropped[kSpecialCount] = {};
  dropped[kSpanKind] = dropped[kStatusCodeTag] = dropped[kTraceState] = dropped[kScopeName] = true;
  dropped[kScopeVersion] = special[kScopeName] != nullptr;
  dropped[kLibraryName] = dropped[kLibraryVersion] = scope_from_library;
  dropped[kErrorTag] = remove_error;
  dropped[kStatusDescription] = remove_description;
  for (uint32_t i = 0; i < span.tags.count; ++i) {
    if (!dropped[special_of_[i]]) kept_.push_back(&batch.tags[span.tags.begin + i]);
  }
  appendAttributes(f::kAttributes, kept_, out);

  // Logs become events; the `event` field names the event.
  for (uint32_t i = 0; i < span.logs.count; ++i) {
    const Log& log = batch.logs[span.logs.begin + i];
    const size_t at = beginNested(out, f::kEvents, 1);
    if (log.time_unix_nano != 0) {
      putFixed64Field(f::kEventTime, log.time_unix_nano, out);
    }
    const Tag* name = nullptr;
    kept_.clear();
    for (uint32_t j = 0; j < log.fields.count; ++j) {
      const Tag& field = batch.tags[log.fields.begin + j];
      if (field.key == "event") {
        name = &field;
      } else {
        kept_.push_back(&field);
      }
    }
    if (!strOf(name).empty()) appendString(f::kEventName, strOf(name), out);
    appendAttributes(f::kEventAttributes, kept_, out);
    endNested(out, at, 1);
  }

  // References become links, but for the CHILD_OF one that is the parent.
  for (uint32_t i = 0; i < span.refs.count; ++i) {
    const SpanRef& ref = batch.refs[span.refs.begin + i];
    if (ref.span_id == parent && !ref.follows_from) continue;
    const size_t at = beginNested(out, f::kLinks, 1);
    appendTraceId(f::kLinkTraceId, ref.trace_id_high, ref.trace_id_low, out);
    appendId64(f::kLinkSpanId, ref.span_id, out);
    Tag ref_type;
    ref_type.type = static_cast<int32_t>(TagType::kString);
    ref_type.str = ref.follows_from ? "follows_from" : "child_of";
    appendKeyValue(f::kLinkAttributes, "opentracing.ref_type", ref_type, out);
    endNested(out, at, 1);
  }

  if (status_exists && (code != kUnset || !message.empty())) {
    const size_t at = beginNested(out, f::kStatus, 1);
    if (!message.empty()) appendString(f::kStatusMessage, message, out);
    if (code != kUnset) {
      putSmallVarintField(f::kStatusCode, code, out);
    }
    endNested(out, at, 1);
  }
  endNested(out, span_at, 2);
}

size_t OtlpTranslator::translate(const Batch& batch, std::string& out) {
  out.clear();
  invalid_spans_ = 0;
  size_t written = 0;

  // Resource groups: the batch's process (group 0), then each distinct span process (protobuf
  // spans may carry their own, which wins). Equal processes share a group.
  auto sameProcess = [&](const Process& a, const Process& b) {
    if (a.present != b.present || a.service_name != b.service_name ||
        a.tags.count != b.tags.count) {
      return false;
    }
    for (uint32_t i = 0; i < a.tags.count; ++i) {
      const Tag& x = batch.tags[a.tags.begin + i];
      const Tag& y = batch.tags[b.tags.begin + i];
      if (x.key != y.key || x.type != y.type || x.str != y.str || x.i64 != y.i64 || x.b != y.b ||
          std::memcmp(&x.dbl, &y.dbl, 8) != 0) {
        return false;
      }
    }
    return true;
  };
  std::vector<const Process*> groups = {&batch.process};
  group_of_.assign(batch.span_processes.size(), 0);
  for (size_t p = 0; p < batch.span_processes.size(); ++p) {
    const Process& process = batch.span_processes[p];
    size_t g = 0;
    while (g < groups.size() && !sameProcess(*groups[g], process)) ++g;
    if (g == groups.size()) groups.push_back(&process);
    group_of_[p] = static_cast<int32_t>(g);
  }

  for (size_t g = 0; g < groups.size(); ++g) {
    scopes_used_ = 0;
    size_t spans_in_group = 0;
    for (const Span& span : batch.spans) {
      if (span.blank) continue;
      const size_t span_group =
          span.process < 0 ? 0 : static_cast<size_t>(group_of_[static_cast<size_t>(span.process)]);
      if (span_group != g) continue;
      writeSpan(batch, span);
      ++spans_in_group;
    }
    const Process* process = groups[g];
    // The Collector leaves out a process named this way (its own marker for "no resource").
    if (process->service_name == "OTLPResourceNoServiceName") process = nullptr;
    writeResource(batch, process, resource_);
    if (spans_in_group == 0 && resource_.empty()) continue;
    written += spans_in_group;

    // ResourceSpans { resource = 1; scope_spans = 2 }, every length known now.
    size_t resource_spans_size = 0;
    if (!resource_.empty()) {
      resource_spans_size += wire::lengthDelimitedSize(f::kResource, resource_.size());
    }
    // Each scope's InstrumentationScope, encoded first: its size is part of the lengths.
    scope_headers_.resize(std::max(scope_headers_.size(), scopes_used_));
    scope_sizes_.assign(scopes_used_, 0);
    for (size_t s = 0; s < scopes_used_; ++s) {
      WireBuffer& header = scope_headers_[s];
      header.clear();
      if (!scopes_[s].name.empty()) appendString(f::kScopeName, scopes_[s].name, header);
      if (!scopes_[s].version.empty()) appendString(f::kScopeVersion, scopes_[s].version, header);
      size_t size = scopes_[s].spans.size();
      if (!header.empty()) size += wire::lengthDelimitedSize(f::kScope, header.size());
      scope_sizes_[s] = size;
      resource_spans_size += wire::lengthDelimitedSize(f::kScopeSpans, size);
    }
    out.reserve(out.size() + wire::lengthDelimitedSize(f::kResourceSpans, resource_spans_size));
    wire::appendTag(f::kResourceSpans, wire::kLengthDelimited, out);
    wire::appendVarint(resource_spans_size, out);
    if (!resource_.empty()) wire::appendLengthDelimited(f::kResource, resource_.view(), out);
    for (size_t s = 0; s < scopes_used_; ++s) {
      wire::appendTag(f::kScopeSpans, wire::kLengthDelimited, out);
      wire::appendVarint(scope_sizes_[s], out);
      if (!scope_headers_[s].empty())
        wire::appendLengthDelimited(f::kScope, scope_headers_[s].view(), out);
      out.append(scopes_[s].spans.view());
    }
  }
  return written;
}

}  // namespace otlpd::jaeger
