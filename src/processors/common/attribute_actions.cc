#include "processors/common/attribute_actions.h"

// The low-level SHA-256 calls are deprecated in OpenSSL 3 (see Sha256 below for why they are used).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <re2/re2.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "processors/common/config_value.h"

namespace otlpd::processors {
namespace {

using otlp::AttributeList;
using otlp::Value;
using Kind = AttributeActions::Kind;

std::optional<Kind> parseKind(std::string_view name) {
  if (name == "insert") return Kind::kInsert;
  if (name == "update") return Kind::kUpdate;
  if (name == "upsert") return Kind::kUpsert;
  if (name == "delete") return Kind::kDelete;
  if (name == "hash") return Kind::kHash;
  if (name == "extract") return Kind::kExtract;
  if (name == "convert") return Kind::kConvert;
  return std::nullopt;
}

// One digest context per thread, made once: OpenSSL 3 looks algorithms up by name, which costs
// more than hashing a short attribute, so the algorithm is fetched once too.
// SHA-256 through OpenSSL's low-level interface: for the short values attributes hold it measured
// 67 ns against 117 ns through EVP (EVP_DigestInit_ex2 + Update + Final with a fetched digest and a
// reused context) on our machines, and hashing sits on the per-span path. The interface is
// deprecated in OpenSSL 3 but kept there; should it go, EVP with a reused context replaces it.
class Sha256 {
 public:
  bool digest(std::string_view data, unsigned char out[32]) {
    SHA256_CTX ctx;
    return SHA256_Init(&ctx) == 1 && SHA256_Update(&ctx, data.data(), data.size()) == 1 &&
           SHA256_Final(out, &ctx) == 1;
  }
};

void putLittleEndian(uint64_t v, char out[8]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Go's int64(f) on amd64: values it cannot represent (NaN, out of range) become the minimum.
int64_t goFloatToInt(double d) {
  if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(d);
}

void putString(AttributeList& attributes, std::string_view key, std::string_view value) {
  if (auto i = attributes.find(key)) {
    attributes.setString(*i, value);
  } else {
    attributes.append(key, Value::ofString(std::string(value)));
  }
}

void hashAt(AttributeList& attributes, size_t i) {
  char hex[64];
  if (std::optional<std::string_view> s = attributes.stringValue(i)) {
    sha256Hex(*s, hex);
    attributes.setString(i, std::string_view(hex, sizeof(hex)));
    return;
  }
  const bool hashed = hashValueHex(attributes.value(i), hex);
  attributes.setString(i, hashed ? std::string_view(hex, sizeof(hex)) : std::string_view());
}

void convertAt(AttributeList& attributes, size_t i, AttributeActions::ConvertTo to) {
  const Value v = attributes.value(i);
  using To = AttributeActions::ConvertTo;
  switch (to) {
    case To::kString:
      if (v.kind() != Value::Kind::kString) attributes.setString(i, otlp::valueAsString(v));
      return;
    case To::kInt:
      switch (v.kind()) {
        case Value::Kind::kDouble:
          attributes.set(i, Value::ofInt(goFloatToInt(v.dbl())));
          return;
        case Value::Kind::kBool:
          attributes.set(i, Value::ofInt(v.boolean() ? 1 : 0));
          return;
        case Value::Kind::kString:
          if (auto n = goParseInt(v.str())) attributes.set(i, Value::ofInt(*n));
          return;
        default:  // ints stay; other kinds cannot be converted and stay as they are
          return;
      }
    case To::kDouble:
      switch (v.kind()) {
        case Value::Kind::kInt:
          attributes.set(i, Value::ofDouble(static_cast<double>(v.integer())));
          return;
        case Value::Kind::kBool:
          attributes.set(i, Value::ofDouble(v.boolean() ? 1 : 0));
          return;
        case Value::Kind::kString:
          if (auto d = goParseFloat(v.str())) attributes.set(i, Value::ofDouble(*d));
          return;
        default:
          return;
      }
  }
}

}  // namespace

namespace {

void computeSha256Hex(std::string_view data, char hex[64]) {
  thread_local Sha256 sha;
  unsigned char digest[32] = {};
  sha.digest(data, digest);
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
}

// The values users hash (client addresses, user ids, e-mail addresses) repeat from span to span,
// and a digest (~70 ns) costs several times a look-up: the last digests of short values are kept
// per thread, in a direct-mapped table (a value displaces the one in its slot). A pure function
// memoized: the result is the same with or without the table.
class Sha256HexCache {
 public:
  static constexpr size_t kMaxValue = 46;  // longer values are hashed every time
  // The digest of `data` when the table has it.
  bool find(std::string_view data, char hex[64]) {
    Slot& slot = slotFor(data);
    if (slot.size != data.size() + 1 || std::memcmp(slot.value, data.data(), data.size()) != 0) {
      return false;
    }
    std::memcpy(hex, slot.hex, 64);
    return true;
  }
  void put(std::string_view data, const char hex[64]) {
    Slot& slot = slotFor(data);
    slot.size = static_cast<uint8_t>(data.size() + 1);
    std::memcpy(slot.value, data.data(), data.size());
    std::memcpy(slot.hex, hex, 64);
  }

 private:
  static constexpr size_t kSlots = 512;
  struct Slot {
    uint8_t size = 0;  // value size + 1; 0 for an empty slot
    char value[kMaxValue + 1];
    char hex[64];
  };
  Slot& slotFor(std::string_view data) {
    // FNV-1a: values are short, and a weak spread only costs hit rate, never correctness.
    uint32_t h = 2166136261u;
    for (char c : data) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    return slots_[(h ^ (h >> 15)) & (kSlots - 1)];
  }
  std::unique_ptr<Slot[]> slots_ = std::make_unique<Slot[]>(kSlots);
};

}  // namespace

void sha256Hex(std::string_view data, char hex[64]) {
  if (data.size() > Sha256HexCache::kMaxValue) {
    computeSha256Hex(data, hex);
    return;
  }
  thread_local Sha256HexCache cache;
  if (cache.find(data, hex)) return;
  computeSha256Hex(data, hex);
  cache.put(data, hex);
}

bool hashValueHex(const Value& value, char hex[64]) {
  char bytes[8];
  switch (value.kind()) {
    case Value::Kind::kString:
      sha256Hex(value.str(), hex);
      return true;
    case Value::Kind::kBool:
      bytes[0] = value.boolean() ? 1 : 0;
      sha256Hex(std::string_view(bytes, 1), hex);
      return true;
    case Value::Kind::kInt:
      putLittleEndian(static_cast<uint64_t>(value.integer()), bytes);
      sha256Hex(std::string_view(bytes, 8), hex);
      return true;
    case Value::Kind::kDouble:
      putLittleEndian(std::bit_cast<uint64_t>(value.dbl()), bytes);
      sha256Hex(std::string_view(bytes, 8), hex);
      return true;
    default:  // empty, bytes, arrays and maps hash to "" in the Collector
      return false;
  }
}

std::optional<int64_t> goParseInt(std::string_view s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

std::optional<double> goParseFloat(std::string_view s) {
  std::string_view rest = s;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty()) return std::nullopt;
  const std::string lower = absl::AsciiStrToLower(std::string(rest));
  if (lower == "inf" || lower == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") {
    if (rest.size() != s.size()) return std::nullopt;  // Go takes no sign before NaN
    return std::numeric_limits<double>::quiet_NaN();
  }
  double out = 0;
  std::from_chars_result r;
  if (lower.rfind("0x", 0) == 0) {
    // Go's hexadecimal floats need the binary exponent ("0x1.8p1").
    const std::string_view hex = std::string_view(lower).substr(2);
    if (hex.empty() || hex.find('p') == std::string_view::npos) return std::nullopt;
    r = std::from_chars(hex.data(), hex.data() + hex.size(), out, std::chars_format::hex);
    if (r.ptr != hex.data() + hex.size()) return std::nullopt;
  } else {
    // Only decimal syntax is left (from_chars would also take "nan(...)" forms Go refuses).
    if (lower.find_first_not_of("0123456789.e+-") != std::string::npos) return std::nullopt;
    r = std::from_chars(lower.data(), lower.data() + lower.size(), out);
    if (r.ptr != lower.data() + lower.size()) return std::nullopt;
  }
  if (r.ec == std::errc::result_out_of_range) {
    // Go reports overflow (±Inf) as an error but rounds underflow to zero.
    const double approx = std::strtod(std::string(s).c_str(), nullptr);
    if (std::isinf(approx)) return std::nullopt;
    return approx;
  }
  if (r.ec != std::errc()) return std::nullopt;
  return negative ? -out : out;
}

AttributeActions AttributeActions::read(config::ConfigNode& config, std::string_view list_key) {
  AttributeActions out;
  const YAML::Node& root = config.yaml();
  const bool present =
      root.IsMap() && root[std::string(list_key)].IsDefined() &&
      !root[std::string(list_key)].IsNull() &&
      (!root[std::string(list_key)].IsSequence() || root[std::string(list_key)].size() > 0);
  std::vector<config::ConfigNode> items = config.getMappingList(list_key);
  if (!present) {
    config.addError(list_key, strCat("missing required field \"", list_key, "\""));
    return out;
  }
  for (config::ConfigNode& item : items) {
    std::optional<Action> action = readAction(item);
    item.rejectUnknownKeys();
    if (action) out.actions_.push_back(std::move(*action));
  }
  return out;
}

std::optional<AttributeActions::Action> AttributeActions::readAction(config::ConfigNode& node) {
  Action a;
  const std::string action_name = absl::AsciiStrToLower(node.getString("action", ""));
  a.key = node.getString("key", "");
  std::optional<YAML::Node> raw_value = node.getYaml("value");
  if (raw_value) a.value = valueFromYaml(*raw_value);
  a.from_attribute = node.getString("from_attribute", "");
  a.from_context = node.getString("from_context", "");
  std::optional<YAML::Node> raw_default = node.getYaml("default_value");
  if (raw_default) a.default_value = valueFromYaml(*raw_default);
  const std::string pattern = node.getString("pattern", "");
  const std::string converted_type = node.getString("converted_type", "");

  const std::optional<Kind> kind = parseKind(action_name);
  const bool key_or_pattern = kind == Kind::kDelete || kind == Kind::kHash;
  if (key_or_pattern && a.key.empty() && pattern.empty()) {
    node.addError("key", "at least one of \"key\" and \"pattern\" is required for action \"" +
                             action_name + "\"");
    return std::nullopt;
  }
  if (!key_or_pattern && a.key.empty()) {
    node.addError("key", "is required");
    return std::nullopt;
  }
  if (!kind) {
    node.addError("action", "unsupported action \"" + action_name +
                                "\" (insert, update, upsert, delete, hash, extract or convert)");
    return std::nullopt;
  }
  a.kind = *kind;
  const int sources =
      (a.value ? 1 : 0) + (a.from_attribute.empty() ? 0 : 1) + (a.from_context.empty() ? 0 : 1);
  auto refuse = [&](std::string_view field, std::string message) {
    node.addError(field, std::move(message));
    return std::nullopt;
  };
  auto compile = [&](bool need_groups) -> bool {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(pattern, options);
    if (!re->ok()) {
      node.addError("pattern", strCat("invalid pattern \"", pattern, "\": ", re->error()));
      return false;
    }
    if (need_groups) {
      const int groups = re->NumberOfCapturingGroups();
      if (groups == 0) {
        node.addError("pattern", "contains no named matcher groups");
        return false;
      }
      const std::map<int, std::string>& names = re->CapturingGroupNames();
      a.group_names.resize(static_cast<size_t>(groups));
      for (int g = 1; g <= groups; ++g) {
        auto it = names.find(g);
        if (it == names.end()) {
          node.addError("pattern", "contains at least one unnamed matcher group");
          return false;
        }
        a.group_names[static_cast<size_t>(g - 1)] = it->second;
      }
    }
    a.pattern = std::move(re);
    return true;
  };
  if (a.default_value && *kind != Kind::kInsert && *kind != Kind::kUpdate &&
      *kind != Kind::kUpsert) {
    return refuse("default_value", "is only used by insert, update and upsert");
  }

  switch (*kind) {
    case Kind::kInsert:
    case Kind::kUpdate:
    case Kind::kUpsert:
      if (sources == 0 && !a.default_value) {
        return refuse("key", strCat("action \"", action_name,
                                    "\" needs one of \"value\", \"from_attribute\", "
                                    "\"from_context\" or \"default_value\""));
      }
      if (sources > 1) {
        return refuse(a.value ? "value" : "from_attribute",
                      "only one of \"value\", \"from_attribute\" and \"from_context\" may be set");
      }
      if (!pattern.empty()) {
        return refuse("pattern", strCat("is not used by action \"", action_name, "\""));
      }
      if (!converted_type.empty()) {
        return refuse("converted_type", strCat("is not used by action \"", action_name, "\""));
      }
      break;
    case Kind::kDelete:
    case Kind::kHash:
      if (a.value || !a.from_attribute.empty()) {
        return refuse(a.value ? "value" : "from_attribute",
                      strCat("is not used by action \"", action_name, "\""));
      }
      if (!pattern.empty() && !compile(false)) return std::nullopt;
      if (!converted_type.empty()) {
        return refuse("converted_type", strCat("is not used by action \"", action_name, "\""));
      }
      break;
    case Kind::kExtract:
      if (sources > 0) {
        return refuse(a.value                     ? "value"
                      : !a.from_attribute.empty() ? "from_attribute"
                                                  : "from_context",
                      "is not used by action \"extract\"");
      }
      if (pattern.empty()) return refuse("pattern", "is required for action \"extract\"");
      if (!converted_type.empty()) {
        return refuse("converted_type", "is not used by action \"extract\"");
      }
      if (!compile(true)) return std::nullopt;
      break;
    case Kind::kConvert:
      if (sources > 0 || !pattern.empty()) {
        return refuse(!pattern.empty()            ? "pattern"
                      : a.value                   ? "value"
                      : !a.from_attribute.empty() ? "from_attribute"
                                                  : "from_context",
                      "is not used by action \"convert\"");
      }
      if (converted_type == "string") {
        a.convert_to = ConvertTo::kString;
      } else if (converted_type == "int") {
        a.convert_to = ConvertTo::kInt;
      } else if (converted_type == "double") {
        a.convert_to = ConvertTo::kDouble;
      } else if (converted_type.empty()) {
        return refuse("converted_type",
                      "is required for action \"convert\" (int, double or string)");
      } else {
        return refuse("converted_type",
                      strCat("invalid value \"", converted_type, "\" (int, double or string)"));
      }
      break;
  }
  return a;
}

MetadataLookup lookupIn(const pipeline::RequestMetadata& metadata, std::string& joined) {
  return [&metadata, &joined](std::string_view key) -> std::optional<std::string_view> {
    if (key.starts_with("auth.")) return metadata.auth(key.substr(5));
    std::vector<std::string_view> values = metadata.all(key);
    if (values.empty()) return std::nullopt;
    if (values.size() == 1) return values[0];
    joined.clear();
    for (size_t i = 0; i < values.size(); ++i) {
      if (i != 0) joined += ';';
      joined.append(values[i]);
    }
    return std::string_view(joined);
  };
}

void AttributeActions::apply(AttributeList& attributes, const MetadataLookup* metadata) const {
  for (const Action& action : actions_) applyOne(action, attributes, metadata);
}

void AttributeActions::applyOne(const Action& a, AttributeList& attributes,
                                const MetadataLookup* metadata) {
  switch (a.kind) {
    case Kind::kInsert:
    case Kind::kUpdate:
    case Kind::kUpsert: {
      // The value to write: configured, from the request's metadata, from another attribute, or
      // the default when those find nothing.
      Value found;
      const Value* source = nullptr;
      if (a.value) {
        source = &*a.value;
      } else if (!a.from_context.empty()) {
        std::string_view key = a.from_context;
        std::optional<std::string_view> v;
        // `auth.<name>` is what the receiver's authenticator learned about the client;
        // `client.address` comes from the connection, which otlpd does not pass down: absent.
        // `metadata.` (or no prefix) names metadata.
        if (metadata != nullptr && *metadata && key != "client.address") {
          if (key.starts_with("metadata.")) key.remove_prefix(9);
          v = (*metadata)(key);
        }
        if (v) {
          found = Value::ofString(std::string(*v));
          source = &found;
        }
      } else if (!a.from_attribute.empty()) {
        if (auto j = attributes.find(a.from_attribute)) {
          found = attributes.value(*j);
          source = &found;
        }
      }
      if (source == nullptr && a.default_value) source = &*a.default_value;
      if (source == nullptr) return;
      const std::optional<size_t> at = attributes.find(a.key);
      if (a.kind == Kind::kInsert) {
        if (!at) attributes.append(a.key, *source);
      } else if (at) {
        attributes.set(*at, *source);
      } else if (a.kind == Kind::kUpsert) {
        attributes.append(a.key, *source);
      }
      return;
    }
    case Kind::kDelete:
      if (!a.key.empty()) {
        if (auto i = attributes.find(a.key)) attributes.erase(*i);
      }
      if (a.pattern) {
        const RE2& re = *a.pattern;
        attributes.eraseIf([&](std::string_view k) { return RE2::PartialMatch(k, re); });
      }
      return;
    case Kind::kHash:
      if (!a.key.empty()) {
        if (auto i = attributes.find(a.key)) hashAt(attributes, *i);
      }
      // As in the Collector, keys matching the pattern are hashed after `key`, so a key that is
      // both named and matched is hashed twice.
      if (a.pattern) {
        for (size_t i = 0; i < attributes.size(); ++i) {
          if (RE2::PartialMatch(attributes.key(i), *a.pattern)) hashAt(attributes, i);
        }
      }
      return;
    case Kind::kExtract: {
      const std::optional<size_t> i = attributes.find(a.key);
      if (!i) return;
      const std::optional<std::string_view> text = attributes.stringValue(*i);
      if (!text) return;  // only strings are extracted from
      const size_t groups = a.group_names.size();
      std::vector<re2::StringPiece> match(groups + 1);
      if (!a.pattern->Match(*text, 0, text->size(), RE2::UNANCHORED, match.data(),
                            static_cast<int>(groups + 1))) {
        return;
      }
      // Copied first: writing an attribute may replace the one the matches point into.
      std::vector<std::string> values;
      values.reserve(groups);
      for (size_t g = 1; g <= groups; ++g) {
        values.emplace_back(match[g].data() == nullptr ? std::string_view()
                                                       : std::string_view(match[g]));
      }
      for (size_t g = 0; g < groups; ++g) putString(attributes, a.group_names[g], values[g]);
      return;
    }
    case Kind::kConvert:
      if (auto i = attributes.find(a.key)) convertAt(attributes, *i, a.convert_to);
      return;
  }
}

}  // namespace otlpd::processors
