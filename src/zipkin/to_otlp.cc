#include "zipkin/to_otlp.h"

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/simdjson.h"
#include "common/string_buffer.h"
#include "common/strings.h"
#include "otlp/value.h"
#include "otlp/wire_writer.h"
#include "zipkin/limits.h"
#include "zipkin/literal.h"

namespace otlpd::zipkin {
namespace {

namespace w = otlp::wire;
using otlp::Value;

// What a tag carries back into OTLP.
enum class TagClass : uint8_t {
  kAttribute,
  kPeerService,  // an attribute; its presence keeps the remote endpoint's name from being one
  kResource,
  kScopeName,
  kScopeVersion,
  kStatusCode,
  kStatusDescription,
  kError,
  kSpanKind,
  kTraceState,
  kLink,
  kDroppedAttributes,
  kDroppedEvents,
  kDroppedLinks,
  kStartTimeAbsent,
};

TagClass classify(std::string_view key) {
  // Called for every tag: dispatch on the first byte before comparing whole names.
  if (key.empty()) return TagClass::kAttribute;
  switch (key[0]) {
    case 'o':
      if (startsWith(key, "otel.")) {
        const std::string_view rest = key.substr(5);
        switch (rest.size()) {
          case 10:
            if (equals(rest, "scope.name")) return TagClass::kScopeName;
            break;
          case 11:
            if (equals(rest, "status_code")) return TagClass::kStatusCode;
            break;
          case 12:
            if (equals(rest, "library.name")) return TagClass::kScopeName;
            break;
          case 13:
            if (equals(rest, "scope.version")) return TagClass::kScopeVersion;
            break;
          case 15:
            if (equals(rest, "library.version")) return TagClass::kScopeVersion;
            break;
          case 18:
            if (equals(rest, "status_description")) return TagClass::kStatusDescription;
            break;
          case 19:
            if (equals(rest, "dropped_links_count")) return TagClass::kDroppedLinks;
            break;
          case 20:
            if (equals(rest, "dropped_events_count")) return TagClass::kDroppedEvents;
            break;
          case 24:
            if (equals(rest, "dropped_attributes_count")) return TagClass::kDroppedAttributes;
            break;
          default:
            if (key == kStartTimeAbsentAttribute) return TagClass::kStartTimeAbsent;
            break;
        }
        return TagClass::kAttribute;
      }
      if (startsWith(key, "otlp.link.")) return TagClass::kLink;
      break;
    case 'e':
      if (equals(key, "error")) return TagClass::kError;
      break;
    case 'p':
      if (equals(key, "peer.service")) return TagClass::kPeerService;
      break;
    case 's':
      if (equals(key, "span.kind")) return TagClass::kSpanKind;
      break;
    case 'w':
      if (equals(key, "w3c.tracestate")) return TagClass::kTraceState;
      break;
    default:
      break;
  }
  return isResourceAttribute(key) ? TagClass::kResource : TagClass::kAttribute;
}

// A length-delimited field whose length is known only once its content is written: room for a
// length of `guess` bytes is left and fixed up in close(), moving the content when it needed
// another size (rare when the guess fits the usual size).
class OpenMessage {
 public:
  OpenMessage(uint32_t field, size_t guess, std::string& out) : out_(out), guess_(guess) {
    w::appendTag(field, w::kLengthDelimited, out);
    at_ = out.size();
    out.append(guess, '\0');
  }
  void close() {
    const size_t length = out_.size() - at_ - guess_;
    const size_t need = w::varintSize(length);
    if (need > guess_) {
      out_.insert(at_, need - guess_, '\0');
    } else if (need < guess_) {
      out_.erase(at_, guess_ - need);
    }
    uint64_t v = length;
    char* p = out_.data() + at_;
    for (size_t i = 0; i + 1 < need; ++i) {
      *p++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p = static_cast<char>(v);
  }

 private:
  std::string& out_;
  size_t guess_;
  size_t at_;
};

void appendString(uint32_t field, std::string_view value, std::string& out) {
  w::appendTag(field, w::kLengthDelimited, out);
  w::appendVarint(value.size(), out);
  out.append(value);
}

// Writing into bytes already allocated behind `p` (RawWriter below reserves an upper bound first):
// a span's fixed fields and string attributes are most of the output, and std::string's
// append-per-field pays a capacity check and a call for each of its many small pieces.
char* putVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Fields below 16: their tag is one byte.
constexpr char tagByte(uint32_t field, w::WireType type) {
  return static_cast<char>((field << 3) | type);
}

char* putBytes(char* p, char tag, std::string_view value) {
  *p++ = tag;
  p = putVarint(p, value.size());
  // An empty view may have no data at all: memcpy must not see its null pointer.
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return p + value.size();
}

char* putFixed64(char* p, char tag, uint64_t v) {
  *p++ = tag;
  std::memcpy(p, &v, 8);
  return p + 8;
}

// KeyValue{key, AnyValue{string_value}} as field `field`: at most kStringKvOverhead bytes besides
// the key and the value (four tags, four lengths of at most 5 bytes: requests are far below 4 GiB).
constexpr size_t kStringKvOverhead = 24;

char* putStringKv(char* p, char tag, std::string_view key, std::string_view value) {
  const size_t any = 1 + w::varintSize(value.size()) + value.size();
  const size_t kv = 1 + w::varintSize(key.size()) + key.size() + 1 + w::varintSize(any) + any;
  *p++ = tag;
  p = putVarint(p, kv);
  p = putBytes(p, tagByte(1, w::kLengthDelimited), key);
  *p++ = tagByte(2, w::kLengthDelimited);
  p = putVarint(p, any);
  return putBytes(p, tagByte(1, w::kLengthDelimited), value);
}

// A stretch of output written through a pointer: begin() grows `out` by an upper bound of what
// follows, without writing it; end() takes the bytes back that were not used.
class RawWriter {
 public:
  static char* begin(std::string& out, size_t bound) {
    const size_t at = out.size();
    common::resizeUninitialized(out, at + bound);
    return out.data() + at;
  }
  static void end(std::string& out, const char* p) {
    out.resize(static_cast<size_t>(p - out.data()));
  }
};

// KeyValue{key, AnyValue{string_value}} as field `field`.
void appendStringKv(uint32_t field, std::string_view key, std::string_view value,
                    std::string& out) {
  const size_t any = 1 + w::varintSize(value.size()) + value.size();
  const size_t kv = 1 + w::varintSize(key.size()) + key.size() + 1 + w::varintSize(any) + any;
  w::appendTag(field, w::kLengthDelimited, out);
  w::appendVarint(kv, out);
  appendString(1, key, out);
  w::appendTag(2, w::kLengthDelimited, out);
  w::appendVarint(any, out);
  appendString(1, value, out);
}

void appendValueKv(uint32_t field, std::string_view key, const Value& value, std::string& out) {
  const size_t any = otlp::encodedValueSize(value);
  const size_t kv = 1 + w::varintSize(key.size()) + key.size() + 1 + w::varintSize(any) + any;
  w::appendTag(field, w::kLengthDelimited, out);
  w::appendVarint(kv, out);
  appendString(1, key, out);
  w::appendTag(2, w::kLengthDelimited, out);
  w::appendVarint(any, out);
  otlp::encodeValue(value, out);
}

void appendIntKv(uint32_t field, std::string_view key, int64_t value, std::string& out) {
  appendValueKv(field, key, Value::ofInt(value), out);
}

// An attribute `key` = true as field 9 of a span.
std::string boolKv(std::string_view key) {
  std::string out;
  appendValueKv(9, key, Value::ofBool(true), out);
  return out;
}

std::optional<int64_t> parseInt(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<uint32_t> parseCount(std::string_view text) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// parse_string_tags: "12" → int, "1.5" → double, "true" → bool; anything else stays a string.
Value typedTag(std::string_view text) {
  if (auto i = parseInt(text)) return Value::ofInt(*i);
  if (!text.empty() && (absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
                        text[0] == '-' || text[0] == '.')) {
    double d = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && p == text.data() + text.size()) return Value::ofDouble(d);
  }
  if (absl::EqualsIgnoreCase(toAbsl(text), "true")) return Value::ofBool(true);
  if (absl::EqualsIgnoreCase(toAbsl(text), "false")) return Value::ofBool(false);
  return Value::ofString(std::string(text));
}

// A JSON value of an event's or link's attributes, as the exporters write them.
std::optional<Value> jsonToValue(simdjson::dom::element e, int depth) {
  if (depth > otlp::kMaxValueDepth) return std::nullopt;
  switch (e.type()) {
    case simdjson::dom::element_type::STRING:
      return Value::ofString(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::INT64:
      return Value::ofInt(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return Value::ofDouble(static_cast<double>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      // Go's encoding/json writes 3.0 as 3: a whole double reads back as an int (lossy, and
      // documented), as the Collector's receiver does it.
      if (d == static_cast<double>(static_cast<int64_t>(d)) && d < 9.2e18 && d > -9.2e18) {
        return Value::ofInt(static_cast<int64_t>(d));
      }
      return Value::ofDouble(d);
    }
    case simdjson::dom::element_type::BOOL:
      return Value::ofBool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::ARRAY: {
      Value::Array a;
      simdjson::dom::array array;
      if (e.get_array().get(array) != simdjson::SUCCESS) return std::nullopt;
      for (simdjson::dom::element item : array) {
        auto v = jsonToValue(item, depth + 1);
        if (!v) return std::nullopt;
        a.push_back(*std::move(v));
      }
      return Value::ofArray(std::move(a));
    }
    case simdjson::dom::element_type::OBJECT: {
      Value::Map m;
      simdjson::dom::object object;
      if (e.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
      for (auto field : object) {
        auto v = jsonToValue(field.value, depth + 1);
        if (!v) return std::nullopt;
        m.emplace_back(std::string(field.key), *std::move(v));
      }
      return Value::ofMap(std::move(m));
    }
    case simdjson::dom::element_type::NULL_VALUE:
      return Value();
  }
  return std::nullopt;
}

simdjson::dom::parser& domParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A JSON object's members as attributes; nullopt when `text` is not a JSON object.
std::optional<Value::Map> jsonObjectAttributes(std::string_view text) {
  simdjson::dom::element root;
  if (domParser().parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) return std::nullopt;
  auto v = jsonToValue(root, 0);
  if (!v) return std::nullopt;
  return std::move(v->mutableMap());
}

struct EventParts {
  std::string_view name;
  Value::Map attributes;
  uint32_t dropped = 0;
  std::string owned_name;
};

// Annotation value → event. Two encodings of attributes are recognised: the Collector's
// `name|{json}|dropped` and the OpenTelemetry specification's `{"name": {json}}`; anything else
// is the event's name.
void parseAnnotation(std::string_view value, EventParts& out) {
  out.name = value;
  if (value.find('{') == std::string_view::npos) return;
  const size_t first_bar = value.find('|');
  const size_t last_bar = value.rfind('|');
  if (first_bar != std::string_view::npos && last_bar > first_bar) {
    auto dropped = parseCount(value.substr(last_bar + 1));
    auto attrs = jsonObjectAttributes(value.substr(first_bar + 1, last_bar - first_bar - 1));
    if (dropped && attrs) {
      out.name = value.substr(0, first_bar);
      out.attributes = *std::move(attrs);
      out.dropped = *dropped;
      return;
    }
  }
  if (value.front() == '{' && value.back() == '}') {
    auto attrs = jsonObjectAttributes(value);
    if (attrs && attrs->size() == 1 && attrs->front().second.kind() == Value::Kind::kMap) {
      out.owned_name = attrs->front().first;
      out.name = out.owned_name;
      out.attributes = std::move(attrs->front().second.mutableMap());
    }
  }
}

struct LinkParts {
  uint8_t trace_id[16];
  uint8_t span_id[8];
  std::string_view trace_state;
  Value::Map attributes;
  uint32_t dropped = 0;
};

// The Collector's link tag: `traceid|spanid|tracestate|{json}|dropped`.
bool parseLink(std::string_view value, LinkParts& out) {
  const size_t a = value.find('|');
  if (a == std::string_view::npos) return false;
  const size_t b = value.find('|', a + 1);
  if (b == std::string_view::npos) return false;
  const size_t c = value.find('|', b + 1);
  const size_t last = value.rfind('|');
  if (c == std::string_view::npos || last <= c) return false;
  if (!parseHexId(value.substr(0, a), out.trace_id, 16)) return false;
  if (!parseHexId(value.substr(a + 1, b - a - 1), out.span_id, 8)) return false;
  out.trace_state = value.substr(b + 1, c - b - 1);
  auto attrs = jsonObjectAttributes(value.substr(c + 1, last - c - 1));
  auto dropped = parseCount(value.substr(last + 1));
  if (!attrs || !dropped) return false;
  out.attributes = *std::move(attrs);
  out.dropped = *dropped;
  return true;
}

int statusCodeOf(std::string_view text) {
  if (absl::EqualsIgnoreCase(toAbsl(text), "ERROR") || text == "STATUS_CODE_ERROR") return 2;
  if (absl::EqualsIgnoreCase(toAbsl(text), "OK") || text == "STATUS_CODE_OK") return 1;
  return 0;
}

int otlpKind(Kind kind) {
  switch (kind) {
    case Kind::kClient:
      return 3;
    case Kind::kServer:
      return 2;
    case Kind::kProducer:
      return 4;
    case Kind::kConsumer:
      return 5;
    case Kind::kUnset:
      return 0;
  }
  return 0;
}

int otlpKindOfTag(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(toAbsl(text));
  if (lower == "internal") return 1;
  if (lower == "server") return 2;
  if (lower == "client") return 3;
  if (lower == "producer") return 4;
  if (lower == "consumer") return 5;
  return -1;
}

struct ScopeGroup {
  std::string_view name, version;
  std::vector<uint32_t> spans;
};

struct ResourceGroup {
  std::string_view service;
  uint32_t first_span = 0;  // the span whose resource tags describe the group
  std::vector<ScopeGroup> scopes;
};

class Encoder {
 public:
  Encoder(const SpanList& list, const ToOtlpOptions& options) : list_(list), options_(options) {}

  absl::Status encode(std::string& out) {
    classes_.resize(list_.tags.size());
    for (size_t i = 0; i < list_.tags.size(); ++i) classes_[i] = classify(list_.tags[i].first);
    for (uint32_t i = 0; i < list_.spans.size(); ++i) {
      if (absl::Status s = check(list_.spans[i], i); !s.ok()) return s;
      group(i);
    }
    for (const ResourceGroup& r : resources_) writeResource(r, out);
    return absl::OkStatus();
  }

 private:
  absl::Status check(const Span& span, uint32_t index) const {
    auto zero = [](const auto& id) {
      for (uint8_t b : id) {
        if (b != 0) return false;
      }
      return true;
    };
    if (zero(span.trace_id)) {
      return absl::InvalidArgumentError(strCat("span ", index, ": traceId is zero"));
    }
    if (zero(span.id)) return absl::InvalidArgumentError(strCat("span ", index, ": id is zero"));
    if (span.timestamp_us > kMaxMicros || span.duration_us > kMaxMicros) {
      return absl::InvalidArgumentError(
          strCat("span ", index, ": timestamp or duration is not in microseconds (over ",
                 kMaxMicros, ")"));
    }
    return absl::OkStatus();
  }

  // Resource tags of a span in order, as a key; empty when it has none.
  bool sameResourceTags(const Span& a, const Span& b) const {
    size_t ia = a.tags_first, ea = a.tags_first + a.tags_count;
    size_t ib = b.tags_first, eb = b.tags_first + b.tags_count;
    while (true) {
      while (ia < ea && classes_[ia] != TagClass::kResource) ++ia;
      while (ib < eb && classes_[ib] != TagClass::kResource) ++ib;
      if (ia == ea || ib == eb) return ia == ea && ib == eb;
      if (list_.tags[ia] != list_.tags[ib]) return false;
      ++ia;
      ++ib;
    }
  }

  void group(uint32_t index) {
    const Span& span = list_.spans[index];
    std::string_view scope_name, scope_version;
    for (size_t t = span.tags_first; t < span.tags_first + span.tags_count; ++t) {
      if (classes_[t] == TagClass::kScopeName) scope_name = list_.tags[t].second;
      if (classes_[t] == TagClass::kScopeVersion) scope_version = list_.tags[t].second;
    }
    ResourceGroup* resource = nullptr;
    // Spans of one request mostly share their service: the last group is tried first.
    if (last_resource_ < resources_.size() && matches(resources_[last_resource_], span)) {
      resource = &resources_[last_resource_];
    } else {
      for (size_t r = 0; r < resources_.size(); ++r) {
        if (matches(resources_[r], span)) {
          resource = &resources_[r];
          last_resource_ = r;
          break;
        }
      }
    }
    if (resource == nullptr) {
      last_resource_ = resources_.size();
      resource = &resources_.emplace_back();
      resource->service = span.local.service_name;
      resource->first_span = index;
    }
    for (auto it = resource->scopes.rbegin(); it != resource->scopes.rend(); ++it) {
      if (it->name == scope_name && it->version == scope_version) {
        it->spans.push_back(index);
        return;
      }
    }
    ScopeGroup& scope = resource->scopes.emplace_back();
    scope.name = scope_name;
    scope.version = scope_version;
    scope.spans.push_back(index);
  }

  bool matches(const ResourceGroup& r, const Span& span) const {
    return r.service == span.local.service_name &&
           sameResourceTags(list_.spans[r.first_span], span);
  }

  void writeResource(const ResourceGroup& r, std::string& out) {
    OpenMessage resource_spans(1, 3, out);
    {
      OpenMessage resource(1, 1, out);
      if (!r.service.empty()) appendStringKv(1, "service.name", r.service, out);
      const Span& first = list_.spans[r.first_span];
      for (size_t t = first.tags_first; t < first.tags_first + first.tags_count; ++t) {
        if (classes_[t] != TagClass::kResource) continue;
        // A service.name tag does not override the local endpoint's.
        if (list_.tags[t].first == "service.name" && !r.service.empty()) continue;
        appendStringKv(1, list_.tags[t].first, list_.tags[t].second, out);
      }
      resource.close();
    }
    for (const ScopeGroup& s : r.scopes) {
      OpenMessage scope_spans(2, 3, out);
      if (!s.name.empty() || !s.version.empty()) {
        OpenMessage scope(1, 1, out);
        if (!s.name.empty()) appendString(1, s.name, out);
        if (!s.version.empty()) appendString(2, s.version, out);
        scope.close();
      }
      for (uint32_t index : s.spans) writeSpan(list_.spans[index], out);
      scope_spans.close();
    }
    resource_spans.close();
  }

  void writeSpan(const Span& span, std::string& out) {
    OpenMessage message(2, 2, out);

    std::string_view trace_state, status_code_text, status_description, error_text, kind_tag;
    bool has_status_code = false, has_error = false, has_kind_tag = false, has_peer_service = false;
    bool start_absent_tag = false;
    uint32_t dropped_attributes = 0, dropped_events = 0, dropped_links = 0;
    size_t tag_bytes = 0;  // an upper bound of the tags written as string attributes
    const size_t tags_end = span.tags_first + span.tags_count;
    for (size_t t = span.tags_first; t < tags_end; ++t) {
      const auto& [key, value] = list_.tags[t];
      tag_bytes += key.size() + value.size() + kStringKvOverhead;
      switch (classes_[t]) {
        case TagClass::kTraceState:
          trace_state = value;
          break;
        case TagClass::kStatusCode:
          has_status_code = true;
          status_code_text = value;
          break;
        case TagClass::kStatusDescription:
          status_description = value;
          break;
        case TagClass::kError:
          has_error = true;
          error_text = value;
          break;
        case TagClass::kSpanKind:
          has_kind_tag = true;
          kind_tag = value;
          break;
        case TagClass::kDroppedAttributes:
          if (auto n = parseCount(value)) dropped_attributes = *n;
          break;
        case TagClass::kDroppedEvents:
          if (auto n = parseCount(value)) dropped_events = *n;
          break;
        case TagClass::kDroppedLinks:
          if (auto n = parseCount(value)) dropped_links = *n;
          break;
        case TagClass::kStartTimeAbsent:
          start_absent_tag = true;
          break;
        case TagClass::kPeerService:
          has_peer_service = true;
          break;
        default:
          break;
      }
    }
    int kind = otlpKind(span.kind);
    bool kind_tag_used = false;
    if (kind == 0 && has_kind_tag) {
      const int from_tag = otlpKindOfTag(kind_tag);
      if (from_tag > 0) {
        kind = from_tag;
        kind_tag_used = true;
      }
    }

    // Status: otel.status_code says it; without it, an `error` tag (Zipkin's only notion of a
    // failed span) makes the span an error whose message is the tag's value.
    int status_code = 0;
    std::string_view status_message;
    bool error_tag_used = false;
    if (has_status_code) {
      status_code = statusCodeOf(status_code_text);
      status_message = status_description;
      if (status_code == 2 && has_error) {
        error_tag_used = true;
        if (status_message.empty() && error_text != "true") status_message = error_text;
      }
    } else if (has_error && !absl::EqualsIgnoreCase(toAbsl(error_text), "false")) {
      status_code = 2;
      error_tag_used = true;
      if (error_text != "true") status_message = error_text;
    }
    auto is_attribute = [&](TagClass c) {
      return c == TagClass::kAttribute || c == TagClass::kPeerService ||
             (c == TagClass::kError && !error_tag_used) ||
             (c == TagClass::kSpanKind && !kind_tag_used) ||
             (c == TagClass::kStatusDescription && !has_status_code);
    };

    // Ids, trace state, parent, name, kind, times (at most 2 × 10 + 6 + 6 + 10 + 2 + 2 × 9 bytes
    // besides the texts) and, unless they are typed, the string attributes: through a pointer.
    const bool raw_attributes = !options_.parse_string_tags;
    char* p = RawWriter::begin(
        out, 80 + trace_state.size() + span.name.size() + (raw_attributes ? tag_bytes : 0));
    p = putBytes(p, tagByte(1, w::kLengthDelimited),
                 std::string_view(reinterpret_cast<const char*>(span.trace_id.data()), 16));
    p = putBytes(p, tagByte(2, w::kLengthDelimited),
                 std::string_view(reinterpret_cast<const char*>(span.id.data()), 8));
    if (!trace_state.empty()) p = putBytes(p, tagByte(3, w::kLengthDelimited), trace_state);
    if (span.has_parent && span.parent_id != span.id) {
      p = putBytes(p, tagByte(4, w::kLengthDelimited),
                   std::string_view(reinterpret_cast<const char*>(span.parent_id.data()), 8));
    }
    if (!span.name.empty()) p = putBytes(p, tagByte(5, w::kLengthDelimited), span.name);
    if (kind != 0) {
      *p++ = tagByte(6, w::kVarint);
      *p++ = static_cast<char>(kind);
    }
    const uint64_t start = span.timestamp_us * 1000;
    const uint64_t end = start + span.duration_us * 1000;
    if (start != 0) p = putFixed64(p, tagByte(7, w::kFixed64), start);
    if (end != 0) p = putFixed64(p, tagByte(8, w::kFixed64), end);
    if (raw_attributes) {
      for (size_t t = span.tags_first; t < tags_end; ++t) {
        const auto& [key, value] = list_.tags[t];
        const TagClass c = classes_[t];
        if (c == TagClass::kLink) {
          LinkParts link;
          if (!parseLink(value, link))
            p = putStringKv(p, tagByte(9, w::kLengthDelimited), key, value);
        } else if (is_attribute(c)) {
          p = putStringKv(p, tagByte(9, w::kLengthDelimited), key, value);
        }
      }
    }
    RawWriter::end(out, p);
    if (!raw_attributes) {
      for (size_t t = span.tags_first; t < tags_end; ++t) {
        const auto& [key, value] = list_.tags[t];
        const TagClass c = classes_[t];
        if (c == TagClass::kLink) {
          LinkParts link;
          if (!parseLink(value, link)) appendStringKv(9, key, value, out);
        } else if (is_attribute(c)) {
          appendValueKv(9, key, typedTag(value), out);
        }
      }
    }
    writeEndpointAttributes(span, has_peer_service, out);
    // Encoded once: nearly every span of some clients lacks a timestamp.
    static const std::string kStartTimeAbsentKv = boolKv(kStartTimeAbsentAttribute);
    static const std::string kSharedKv = boolKv(kSharedAttribute);
    if (span.timestamp_us == 0 || start_absent_tag) out.append(kStartTimeAbsentKv);
    if (span.shared) out.append(kSharedKv);
    if (dropped_attributes != 0) {
      w::appendTag(10, w::kVarint, out);
      w::appendVarint(dropped_attributes, out);
    }
    for (uint32_t a = span.annotations_first; a < span.annotations_first + span.annotations_count;
         ++a) {
      writeEvent(list_.annotations[a], out);
    }
    if (dropped_events != 0) {
      w::appendTag(12, w::kVarint, out);
      w::appendVarint(dropped_events, out);
    }
    for (size_t t = span.tags_first; t < tags_end; ++t) {
      if (classes_[t] != TagClass::kLink) continue;
      LinkParts link;
      if (parseLink(list_.tags[t].second, link)) writeLink(link, out);
    }
    if (dropped_links != 0) {
      w::appendTag(14, w::kVarint, out);
      w::appendVarint(dropped_links, out);
    }
    if (status_code != 0 || !status_message.empty()) {
      OpenMessage status(15, 1, out);
      if (!status_message.empty()) appendString(2, status_message, out);
      if (status_code != 0) {
        w::appendTag(3, w::kVarint, out);
        w::appendVarint(static_cast<uint64_t>(status_code), out);
      }
      status.close();
    }
    message.close();
  }

  void writeEndpointAttributes(const Span& span, bool has_peer_service, std::string& out) {
    if (span.local.present) {
      const std::string_view ip = !span.local.ipv4.empty() ? span.local.ipv4 : span.local.ipv6;
      if (!ip.empty()) appendStringKv(9, "network.local.address", ip, out);
      if (span.local.port > 0) appendIntKv(9, "network.local.port", span.local.port, out);
    }
    if (span.remote.present) {
      if (!span.remote.service_name.empty() && !has_peer_service) {
        appendStringKv(9, "peer.service", span.remote.service_name, out);
      }
      const std::string_view ip = !span.remote.ipv4.empty() ? span.remote.ipv4 : span.remote.ipv6;
      if (!ip.empty()) appendStringKv(9, "network.peer.address", ip, out);
      if (span.remote.port > 0) appendIntKv(9, "network.peer.port", span.remote.port, out);
    }
  }

  void writeEvent(const Annotation& annotation, std::string& out) {
    EventParts parts;
    parseAnnotation(annotation.value, parts);
    OpenMessage event(11, 1, out);
    w::appendTag(1, w::kFixed64, out);
    w::appendFixed64(annotation.timestamp_us * 1000, out);
    if (!parts.name.empty()) appendString(2, parts.name, out);
    for (const auto& [key, value] : parts.attributes) appendValueKv(3, key, value, out);
    if (parts.dropped != 0) {
      w::appendTag(4, w::kVarint, out);
      w::appendVarint(parts.dropped, out);
    }
    event.close();
  }

  void writeLink(const LinkParts& link, std::string& out) {
    OpenMessage message(13, 1, out);
    appendString(1, std::string_view(reinterpret_cast<const char*>(link.trace_id), 16), out);
    appendString(2, std::string_view(reinterpret_cast<const char*>(link.span_id), 8), out);
    if (!link.trace_state.empty()) appendString(3, link.trace_state, out);
    for (const auto& [key, value] : link.attributes) appendValueKv(4, key, value, out);
    if (link.dropped != 0) {
      w::appendTag(5, w::kVarint, out);
      w::appendVarint(link.dropped, out);
    }
    message.close();
  }

  const SpanList& list_;
  const ToOtlpOptions& options_;
  std::vector<TagClass> classes_;
  std::vector<ResourceGroup> resources_;
  size_t last_resource_ = 0;
};

}  // namespace

bool isResourceAttribute(std::string_view key) {
  if (key.size() < 3) return false;
  switch (key[0]) {
    case 'a':
      return startsWith(key, "aws.ecs.") || startsWith(key, "aws.eks.") ||
             startsWith(key, "aws.log.");
    case 'b':
      return startsWith(key, "browser.");
    case 'c':
      return startsWith(key, "cloud.") || startsWith(key, "container.");
    case 'd':
      return startsWith(key, "deployment.") || startsWith(key, "device.");
    case 'f':
      return equals(key, "faas.name") || equals(key, "faas.version") ||
             equals(key, "faas.instance") || equals(key, "faas.max_memory") ||
             equals(key, "faas.id");
    case 'g':
      return startsWith(key, "gcp.cloud_run.") || startsWith(key, "gcp.gce.");
    case 'h':
      return startsWith(key, "host.") || startsWith(key, "heroku.");
    case 'k':
      return startsWith(key, "k8s.");
    case 'o':
      return startsWith(key, "os.");
    case 'p':
      return startsWith(key, "process.");
    case 's':
      // service.peer.* names the other side of a call: a span attribute.
      return startsWith(key, "service.") && !startsWith(key, "service.peer.");
    case 't':
      return startsWith(key, "telemetry.");
    case 'w':
      return startsWith(key, "webengine.");
    default:
      return false;
  }
}

absl::Status appendOtlpTraces(const SpanList& spans, const ToOtlpOptions& options,
                              std::string& out) {
  const size_t start = out.size();
  Encoder encoder(spans, options);
  absl::Status s = encoder.encode(out);
  if (!s.ok()) out.resize(start);
  return s;
}

bool parseHexId(std::string_view hex, uint8_t* out, size_t out_bytes) {
  // 0xff: not a hex digit.
  static constexpr auto kNibble = [] {
    std::array<uint8_t, 256> table{};
    table.fill(0xff);
    for (int c = 0; c < 10; ++c) table['0' + c] = static_cast<uint8_t>(c);
    for (int c = 0; c < 6; ++c) {
      table['a' + c] = static_cast<uint8_t>(10 + c);
      table['A' + c] = static_cast<uint8_t>(10 + c);
    }
    return table;
  }();
  if (hex.empty() || hex.size() > out_bytes * 2) return false;
  if (hex.size() == out_bytes * 2) {
    // Full-length ids (nearly all of them): two digits per byte, no padding.
    uint8_t bad = 0;
    for (size_t i = 0; i < out_bytes; ++i) {
      const uint8_t high = kNibble[static_cast<unsigned char>(hex[2 * i])];
      const uint8_t low = kNibble[static_cast<unsigned char>(hex[2 * i + 1])];
      bad |= high | low;
      out[i] = static_cast<uint8_t>((high << 4) | (low & 15));
    }
    return (bad & 0xf0) == 0;
  }
  std::memset(out, 0, out_bytes);
  // Right-aligned: the last digit is the low nibble of the last byte.
  size_t nibble = out_bytes * 2 - hex.size();
  uint8_t bad = 0;
  for (char c : hex) {
    const uint8_t v = kNibble[static_cast<unsigned char>(c)];
    bad |= v;
    out[nibble / 2] |= static_cast<uint8_t>((v & 15) << (nibble % 2 == 0 ? 4 : 0));
    ++nibble;
  }
  return (bad & 0xf0) == 0;
}

void appendHex(const uint8_t* bytes, size_t size, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
}

}  // namespace otlpd::zipkin
