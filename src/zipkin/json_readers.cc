// Zipkin JSON (v2 and v1) with simdjson's On Demand API: one pass over the bytes, strings kept as
// views into the parser's buffer, no DOM.

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "common/simdjson.h"
#include "common/strings.h"
#include "zipkin/limits.h"
#include "zipkin/literal.h"
#include "zipkin/readers.h"
#include "zipkin/v1_span.h"

namespace otlpd::zipkin {
namespace {

namespace od = simdjson::ondemand;
using simdjson::SUCCESS;

absl::Status bad(size_t index, std::string_view what) {
  return absl::InvalidArgumentError(strCat("span ", index, ": ", what));
}

absl::Status syntax(simdjson::error_code e) {
  return absl::InvalidArgumentError(
      strCat("request body is not valid JSON: ", simdjson::error_message(e)));
}

od::parser& parser() {
  thread_local od::parser p;
  return p;
}

// Bodies without room for simdjson's padding behind them are copied into this buffer, kept per
// thread so that its memory is reused (a fresh megabyte per request costs page faults).
simdjson::padded_string_view padded(std::string_view json, size_t capacity) {
  if (capacity >= json.size() + simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(json.data(), json.size(), capacity);
  }
  thread_local std::string copy;
  if (copy.capacity() < json.size() + simdjson::SIMDJSON_PADDING) {
    copy.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  }
  copy.assign(json);
  return simdjson::padded_string_view(copy.data(), copy.size(), copy.capacity());
}

bool isJsonBlank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

bool isNull(od::value& v) {
  od::json_type t;
  return v.type().get(t) == SUCCESS && t == od::json_type::null;
}

// A non-negative number of microseconds; floats are rounded (some clients write 1.5e15).
std::optional<uint64_t> readMicros(od::value& v) {
  uint64_t u;
  if (v.get_uint64().get(u) == SUCCESS) return u;
  double d;
  if (v.get_double().get(d) == SUCCESS && std::isfinite(d) && d >= 0 && d < 1.8e19) {
    return static_cast<uint64_t>(std::llround(d));
  }
  return std::nullopt;
}

// The offset of the first '"' or '\\' in [p, p + limit), or `limit` when there is none. Eight bytes
// at a time: the bytes behind a token are the document's or its padding (SIMDJSON_PADDING), so
// reading up to 7 past `limit` stays inside the buffer. Strings and keys are short and mostly
// without escapes: this beats a call to memchr and a byte loop.
size_t quoteOrBackslash(const char* p, size_t limit) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  for (size_t i = 0; i < limit; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    const uint64_t quote = word ^ (kOnes * '"');
    const uint64_t backslash = word ^ (kOnes * '\\');
    // A zero byte of either sets its high bit here; the lowest set bit is exact (borrows only
    // run upwards from a true zero).
    const uint64_t hits =
        ((quote - kOnes) & ~quote & kHighs) | ((backslash - kOnes) & ~backslash & kHighs);
    if (hits != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctzll(hits)) / 8;
      return at < limit ? at : limit;
    }
  }
  return limit;
}

// Strings without escapes (nearly all of them) are taken as views of the request itself instead
// of being copied into the parser's string buffer; the rest are unescaped as usual.
// A string token runs to the next structural character, so its closing quote is its last
// non-blank byte: one pass (for a backslash) over the text instead of two.
std::optional<std::string_view> readString(od::value& v) {
  std::string_view token = v.raw_json_token();
  while (token.size() > 2 && isJsonBlank(token.back())) token.remove_suffix(1);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    const std::string_view text = token.substr(1, token.size() - 2);
    // Short texts (keys, ids, most values) are checked inline; memchr pays off on longer ones.
    const bool escaped = text.size() <= 16
                             ? quoteOrBackslash(text.data(), text.size()) < text.size()
                             : std::memchr(text.data(), '\\', text.size()) != nullptr;
    if (!escaped) {
      od::raw_json_string raw;
      if (v.get_raw_json_string().get(raw) != SUCCESS) return std::nullopt;
      return text;
    }
  }
  std::string_view s;
  if (v.get_string().get(s) != SUCCESS) return std::nullopt;
  return s;
}

// A member's field, its key read as readString does it (the key's closing quote is followed by
// its colon, and the document's padding after that: the scan needs no limit); nullptr when the
// member is not valid JSON. The field is used where the iterator holds it: copying it out costs a
// store-forwarding stall per member.
od::field* fieldOf(simdjson::simdjson_result<od::field>& member, std::string_view& key) {
  if (member.error() != SUCCESS) return nullptr;
  od::field& f = member.value_unsafe();
  const char* begin = f.key().raw();
  const size_t end = quoteOrBackslash(begin, std::numeric_limits<size_t>::max() / 2);
  if (begin[end] == '"') {
    key = std::string_view(begin, end);
    return &f;
  }
  return f.unescaped_key().get(key) == SUCCESS ? &f : nullptr;
}

absl::Status readHex(od::value& v, size_t index, std::string_view field, uint8_t* out,
                     size_t bytes) {
  auto s = readString(v);
  if (!s || !parseHexId(*s, out, bytes)) {
    return bad(index, strCat(field, " must be a string of 1 to ", bytes * 2, " hex digits"));
  }
  return absl::OkStatus();
}

absl::Status readEndpoint(od::value& v, size_t index, std::string_view field, Endpoint& out) {
  if (isNull(v)) return absl::OkStatus();
  od::object object;
  if (v.get_object().get(object) != SUCCESS) return bad(index, strCat(field, " must be an object"));
  out.present = true;
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, strCat(field, " is not valid JSON"));
    }
    od::value& value = f->value();
    if (isNull(value)) continue;
    if (equals(key, "serviceName") || equals(key, "ipv4") || equals(key, "ipv6")) {
      auto s = readString(value);
      if (!s) return bad(index, strCat(field, ".", key, " must be a string"));
      (equals(key, "serviceName") ? out.service_name
       : equals(key, "ipv4")      ? out.ipv4
                                  : out.ipv6) = *s;
    } else if (equals(key, "port")) {
      int64_t port;
      if (value.get_int64().get(port) != SUCCESS || port < 0 || port > 65535) {
        return bad(index, strCat(field, ".port must be an integer from 0 to 65535"));
      }
      out.port = static_cast<int32_t>(port);
    }
  }
  return absl::OkStatus();
}

// A tag's value: Zipkin's are strings; numbers and booleans are taken as their JSON text.
absl::Status readTagValue(od::value& v, size_t index, std::string_view key,
                          std::optional<std::string_view>& out) {
  // Nearly every tag is a string: its first byte says so without asking for the type.
  if (const char* first = v.raw_json_token().data(); *first == '"') {
    auto s = readString(v);
    if (!s) return bad(index, "tags is not valid JSON");
    out = *s;
    return absl::OkStatus();
  }
  od::json_type type;
  if (v.type().get(type) != SUCCESS) return bad(index, "tags is not valid JSON");
  switch (type) {
    case od::json_type::string: {
      auto s = readString(v);
      if (!s) return bad(index, "tags is not valid JSON");
      out = *s;
      return absl::OkStatus();
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b) != SUCCESS) return bad(index, "tags is not valid JSON");
      out = b ? "true" : "false";
      return absl::OkStatus();
    }
    case od::json_type::number: {
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && isJsonBlank(raw.back())) raw.remove_suffix(1);
      out = raw;
      return absl::OkStatus();
    }
    case od::json_type::null:
      return absl::OkStatus();
    default:
      return bad(index, strCat("tag '", key, "' must be a string"));
  }
}

absl::Status readTags(od::value& v, size_t index, SpanList& out) {
  if (isNull(v)) return absl::OkStatus();
  od::object object;
  if (v.get_object().get(object) != SUCCESS) return bad(index, "tags must be an object");
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, "tags is not valid JSON");
    }
    od::value& value = f->value();
    std::optional<std::string_view> text;
    if (absl::Status s = readTagValue(value, index, key, text); !s.ok()) return s;
    if (text) out.tags.emplace_back(key, *text);
  }
  return absl::OkStatus();
}

// One annotation object; v1's also has an endpoint, handed to `endpoint` when asked for.
absl::Status readAnnotation(od::value& v, size_t index, Annotation& out,
                            Endpoint* endpoint = nullptr) {
  od::object object;
  if (v.get_object().get(object) != SUCCESS) {
    return bad(index, "annotations must be a list of objects");
  }
  bool has_value = false;
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, "annotations is not valid JSON");
    }
    od::value& value = f->value();
    if (equals(key, "timestamp")) {
      auto us = readMicros(value);
      if (!us || *us > kMaxMicros) {
        return bad(index, "annotation timestamp must be epoch microseconds");
      }
      out.timestamp_us = *us;
    } else if (equals(key, "value")) {
      auto s = readString(value);
      if (!s) return bad(index, "annotation value must be a string");
      out.value = *s;
      has_value = true;
    } else if (equals(key, "endpoint") && endpoint != nullptr) {
      if (absl::Status s = readEndpoint(value, index, "annotation endpoint", *endpoint); !s.ok()) {
        return s;
      }
    }
  }
  if (!has_value) return bad(index, "annotation without a value");
  return absl::OkStatus();
}

absl::Status readKind(od::value& v, size_t index, Kind& out) {
  if (isNull(v)) return absl::OkStatus();
  auto s = readString(v);
  if (s == "CLIENT") {
    out = Kind::kClient;
  } else if (s == "SERVER") {
    out = Kind::kServer;
  } else if (s == "PRODUCER") {
    out = Kind::kProducer;
  } else if (s == "CONSUMER") {
    out = Kind::kConsumer;
  } else {
    return bad(index, "kind must be one of CLIENT, SERVER, PRODUCER, CONSUMER");
  }
  return absl::OkStatus();
}

absl::Status readBool(od::value& v, size_t index, std::string_view field, bool& out) {
  if (isNull(v)) return absl::OkStatus();
  if (v.get_bool().get(out) != SUCCESS) return bad(index, strCat(field, " must be a boolean"));
  return absl::OkStatus();
}

absl::Status readMicrosField(od::value& v, size_t index, std::string_view field, uint64_t& out) {
  if (isNull(v)) return absl::OkStatus();
  auto us = readMicros(v);
  if (!us) return bad(index, strCat(field, " must be a non-negative number of microseconds"));
  if (*us > kMaxMicros) {
    return bad(index, strCat(field, " ", *us,
                             " is not in microseconds (it would be after the year 2255)"));
  }
  out = *us;
  return absl::OkStatus();
}

// The span fields v1 and v2 spell and read alike. False for any other key; `s` holds the verdict.
bool readSharedField(std::string_view key, od::value& value, size_t index, Span& span,
                     bool& has_trace_id, bool& has_id, absl::Status& s) {
  if (equals(key, "traceId")) {
    s = readHex(value, index, "traceId", span.trace_id.data(), 16);
    has_trace_id = true;
  } else if (equals(key, "id")) {
    s = readHex(value, index, "id", span.id.data(), 8);
    has_id = true;
  } else if (equals(key, "parentId")) {
    if (!isNull(value)) {
      s = readHex(value, index, "parentId", span.parent_id.data(), 8);
      span.has_parent = true;
    }
  } else if (equals(key, "name")) {
    if (!isNull(value)) {
      auto name = readString(value);
      if (!name) {
        s = bad(index, "name must be a string");
      } else {
        span.name = *name;
      }
    }
  } else if (equals(key, "timestamp")) {
    s = readMicrosField(value, index, "timestamp", span.timestamp_us);
  } else if (equals(key, "duration")) {
    s = readMicrosField(value, index, "duration", span.duration_us);
  } else if (equals(key, "debug")) {
    s = readBool(value, index, "debug", span.debug);
  } else {
    return false;
  }
  return true;
}

absl::Status readV2Span(od::value& item, size_t index, SpanList& out) {
  od::object object;
  if (item.get_object().get(object) != SUCCESS) return bad(index, "not a JSON object");
  Span span;
  span.tags_first = static_cast<uint32_t>(out.tags.size());
  span.annotations_first = static_cast<uint32_t>(out.annotations.size());
  bool has_trace_id = false, has_id = false;
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, "not valid JSON");
    }
    od::value& value = f->value();
    absl::Status s;
    if (readSharedField(key, value, index, span, has_trace_id, has_id, s)) {
      // read: s holds the verdict
    } else if (equals(key, "kind")) {
      s = readKind(value, index, span.kind);
    } else if (equals(key, "shared")) {
      s = readBool(value, index, "shared", span.shared);
    } else if (equals(key, "localEndpoint")) {
      s = readEndpoint(value, index, "localEndpoint", span.local);
    } else if (equals(key, "remoteEndpoint")) {
      s = readEndpoint(value, index, "remoteEndpoint", span.remote);
    } else if (equals(key, "annotations")) {
      if (!isNull(value)) {
        od::array array;
        if (value.get_array().get(array) != SUCCESS) {
          return bad(index, "annotations must be a list");
        }
        for (auto element : array) {
          od::value a;
          if (element.get(a) != SUCCESS) return bad(index, "annotations is not valid JSON");
          Annotation annotation;
          if (absl::Status as = readAnnotation(a, index, annotation); !as.ok()) return as;
          out.annotations.push_back(annotation);
        }
      }
    } else if (equals(key, "tags")) {
      s = readTags(value, index, out);
    }
    if (!s.ok()) return s;
  }
  if (!has_trace_id) return bad(index, "traceId is required");
  if (!has_id) return bad(index, "id is required");
  span.tags_count = static_cast<uint32_t>(out.tags.size()) - span.tags_first;
  span.annotations_count = static_cast<uint32_t>(out.annotations.size()) - span.annotations_first;
  out.spans.push_back(span);
  return absl::OkStatus();
}

// Iterates the top-level list, calling `read(value, index)` per element.
template <class ReadSpan>
absl::Status readList(std::string_view json, size_t capacity, ReadSpan read) {
  // Clients send an empty body for "no spans" now and then.
  bool blank = true;
  for (char c : json) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      blank = false;
      break;
    }
  }
  if (blank) return absl::OkStatus();
  od::document doc;
  if (auto e = parser().iterate(padded(json, capacity)).get(doc); e != SUCCESS) return syntax(e);
  od::array array;
  if (auto e = doc.get_array().get(array); e != SUCCESS) {
    return absl::InvalidArgumentError("request body must be a JSON list of spans");
  }
  size_t index = 0;
  for (auto element : array) {
    od::value item;
    if (auto e = element.get(item); e != SUCCESS) return syntax(e);
    if (absl::Status s = read(item, index); !s.ok()) return s;
    ++index;
  }
  // After the list, only whitespace: a location to read from means more content.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == SUCCESS) {
    return absl::InvalidArgumentError("request body has data after the list of spans");
  }
  return absl::OkStatus();
}

// ---- v1 ----------------------------------------------------------------------------------------

absl::Status readV1Binary(od::value& v, size_t index, V1BinaryAnnotation& out) {
  od::object object;
  if (v.get_object().get(object) != SUCCESS) {
    return bad(index, "binaryAnnotations must be a list of objects");
  }
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, "binaryAnnotations is not valid JSON");
    }
    od::value& value = f->value();
    if (equals(key, "key")) {
      auto s = readString(value);
      if (!s) return bad(index, "binaryAnnotation key must be a string");
      out.key = *s;
    } else if (equals(key, "value")) {
      od::json_type type;
      if (value.type().get(type) == SUCCESS && type == od::json_type::boolean) {
        bool b = false;
        if (value.get_bool().get(b) != SUCCESS)
          return bad(index, "binaryAnnotations is not valid JSON");
        out.bool_true = b;
        out.value = b ? "true" : "false";
      } else {
        std::optional<std::string_view> text;
        if (absl::Status s = readTagValue(value, index, out.key, text); !s.ok()) return s;
        out.value = text.value_or("");
      }
    } else if (equals(key, "endpoint")) {
      if (absl::Status s = readEndpoint(value, index, "binaryAnnotation endpoint", out.endpoint);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status readV1(od::value& item, size_t index, V1Span& out) {
  od::object object;
  if (item.get_object().get(object) != SUCCESS) return bad(index, "not a JSON object");
  Span& span = out.base;
  bool has_trace_id = false, has_id = false;
  for (auto member : object) {
    std::string_view key;
    od::field* f = fieldOf(member, key);
    if (f == nullptr) {
      return bad(index, "not valid JSON");
    }
    od::value& value = f->value();
    absl::Status s;
    if (readSharedField(key, value, index, span, has_trace_id, has_id, s)) {
      // read: s holds the verdict
    } else if (equals(key, "annotations") || equals(key, "binaryAnnotations")) {
      if (!isNull(value)) {
        od::array array;
        if (value.get_array().get(array) != SUCCESS)
          return bad(index, strCat(key, " must be a list"));
        for (auto element : array) {
          od::value a;
          if (element.get(a) != SUCCESS) return bad(index, strCat(key, " is not valid JSON"));
          if (equals(key, "annotations")) {
            auto& [annotation, endpoint] = out.annotations.emplace_back();
            if (absl::Status as = readAnnotation(a, index, annotation, &endpoint); !as.ok()) {
              return as;
            }
          } else {
            if (absl::Status bs = readV1Binary(a, index, out.binary.emplace_back()); !bs.ok()) {
              return bs;
            }
          }
        }
      }
    }
    if (!s.ok()) return s;
  }
  if (!has_trace_id) return bad(index, "traceId is required");
  if (!has_id) return bad(index, "id is required");
  return absl::OkStatus();
}

}  // namespace

// v1 → v2 as Zipkin's V1SpanConverter does: the core annotations (cs/cr, sr/ss, ms, mr) say the
// kind, the local endpoint and the timing; a span with both client and server sides becomes two
// spans (the server one `shared`); the address annotations (ca, sa, ma) become remote endpoints;
// other annotations stay annotations and other binary annotations become tags.
void convertV1(const V1Span& v1, SpanList& out) {
  const Annotation* cs = nullptr;
  const Annotation* cr = nullptr;
  const Annotation* sr = nullptr;
  const Annotation* ss = nullptr;
  const Annotation* ms = nullptr;
  const Annotation* mr = nullptr;
  const Endpoint *client_ep = nullptr, *server_ep = nullptr, *message_ep = nullptr;
  for (const auto& [a, ep] : v1.annotations) {
    const Endpoint* e = ep.present ? &ep : nullptr;
    if (a.value == "cs") {
      cs = &a;
      if (e) client_ep = e;
    } else if (a.value == "cr") {
      cr = &a;
      if (e && !client_ep) client_ep = e;
    } else if (a.value == "sr") {
      sr = &a;
      if (e) server_ep = e;
    } else if (a.value == "ss") {
      ss = &a;
      if (e && !server_ep) server_ep = e;
    } else if (a.value == "ms") {
      ms = &a;
      if (e) message_ep = e;
    } else if (a.value == "mr") {
      mr = &a;
      if (e) message_ep = e;
    }
  }
  const bool client = cs || cr;
  const bool server = sr || ss;
  Endpoint ca, sa, ma, fallback;
  for (const auto& b : v1.binary) {
    if (b.bool_true && b.endpoint.present &&
        (equals(b.key, "ca") || equals(b.key, "sa") || equals(b.key, "ma"))) {
      (equals(b.key, "ca") ? ca : equals(b.key, "sa") ? sa : ma) = b.endpoint;
    } else if (b.endpoint.present && !fallback.present) {
      fallback = b.endpoint;
    }
  }
  if (!fallback.present) {
    for (const auto& [a, ep] : v1.annotations) {
      if (ep.present) {
        fallback = ep;
        break;
      }
    }
  }

  auto emit = [&](Kind kind, const Endpoint* local, const Endpoint& remote, uint64_t ts,
                  uint64_t duration, bool shared, bool first) {
    Span span = v1.base;
    span.kind = kind;
    span.local = local ? *local : fallback;
    span.remote = remote;
    span.shared = shared;
    if (!first || span.timestamp_us == 0) span.timestamp_us = ts;
    if (!first || span.duration_us == 0) span.duration_us = duration;
    span.tags_first = static_cast<uint32_t>(out.tags.size());
    span.annotations_first = static_cast<uint32_t>(out.annotations.size());
    if (first) {
      for (const auto& [a, ep] : v1.annotations) {
        if (a.value == "cs" || a.value == "cr" || a.value == "sr" || a.value == "ss" ||
            a.value == "ms" || a.value == "mr") {
          continue;
        }
        out.annotations.push_back(a);
      }
      for (const auto& b : v1.binary) {
        if (b.bool_true && (equals(b.key, "ca") || equals(b.key, "sa") || equals(b.key, "ma")))
          continue;
        out.tags.emplace_back(b.key, b.value);
      }
    }
    span.tags_count = static_cast<uint32_t>(out.tags.size()) - span.tags_first;
    span.annotations_count = static_cast<uint32_t>(out.annotations.size()) - span.annotations_first;
    out.spans.push_back(span);
  };
  auto between = [](const Annotation* a, const Annotation* b) -> uint64_t {
    return a && b && b->timestamp_us > a->timestamp_us ? b->timestamp_us - a->timestamp_us : 0;
  };

  if (client) {
    const uint64_t ts = cs ? cs->timestamp_us : cr->timestamp_us;
    emit(Kind::kClient, client_ep, sa, ts, between(cs, cr), false, true);
    if (server) {
      emit(Kind::kServer, server_ep, ca, sr ? sr->timestamp_us : ss->timestamp_us, between(sr, ss),
           true, false);
    }
  } else if (server) {
    emit(Kind::kServer, server_ep, ca, sr ? sr->timestamp_us : ss->timestamp_us, between(sr, ss),
         false, true);
  } else if (ms) {
    emit(Kind::kProducer, message_ep, ma, ms->timestamp_us, 0, false, true);
  } else if (mr) {
    emit(Kind::kConsumer, message_ep, ma, mr->timestamp_us, 0, false, true);
  } else {
    emit(Kind::kUnset, nullptr, Endpoint{}, v1.base.timestamp_us, v1.base.duration_us, false, true);
  }
}

absl::Status readJsonV2(std::string_view json, size_t capacity, SpanList& out) {
  out.clear();
  return readList(json, capacity,
                  [&](od::value& item, size_t index) { return readV2Span(item, index, out); });
}

absl::Status readJsonV1(std::string_view json, size_t capacity, SpanList& out) {
  out.clear();
  return readList(json, capacity, [&](od::value& item, size_t index) {
    V1Span v1;
    if (absl::Status s = readV1(item, index, v1); !s.ok()) return s;
    convertV1(v1, out);
    return absl::OkStatus();
  });
}

}  // namespace otlpd::zipkin
