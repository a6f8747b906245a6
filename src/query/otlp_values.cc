#include "query/otlp_values.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace otlpd::query {
namespace {

using json = nlohmann::json;
namespace pb_common = otlp::pb_common;

// `hex` (an even number of hex digits, any case) → its bytes; nullopt when a digit is not hex.
std::optional<std::string> hexToBytes(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = absl::ascii_tolower(hex[i]);
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    out[i / 2] = static_cast<char>(static_cast<unsigned char>(out[i / 2]) | (i % 2 ? v : v << 4));
  }
  return out;
}

}  // namespace

std::string hexId(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::optional<std::string> parseTraceIdHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 32) return std::nullopt;
  std::string padded(32 - hex.size(), '0');
  padded.append(hex);
  std::optional<std::string> out = hexToBytes(padded);
  if (!out || out->find_first_not_of('\0') == std::string::npos) return std::nullopt;
  return out;
}

std::optional<std::string> parseSpanIdHex(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  return hexToBytes(hex);
}

std::string serviceNameOf(const otlp::pb_resource::Resource& resource, std::string_view fallback) {
  for (const auto& kv : resource.attributes()) {
    if (kv.key() == "service.name" && kv.value().has_string_value()) {
      return kv.value().string_value();
    }
  }
  return std::string(fallback);
}

json anyValueJson(const pb_common::AnyValue& v, NonFinite non_finite) {
  switch (v.value_case()) {
    case pb_common::AnyValue::kStringValue:
      return v.string_value();
    case pb_common::AnyValue::kBoolValue:
      return v.bool_value();
    case pb_common::AnyValue::kIntValue:
      return v.int_value();
    case pb_common::AnyValue::kDoubleValue: {
      const double d = v.double_value();
      if (std::isfinite(d)) return d;
      if (non_finite == NonFinite::kNull) return nullptr;
      return std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
    }
    case pb_common::AnyValue::kBytesValue: {
      const std::string& b = v.bytes_value();
      return absl::Base64Escape(absl::string_view(b.data(), b.size()));
    }
    case pb_common::AnyValue::kArrayValue: {
      json out = json::array();
      for (const auto& e : v.array_value().values()) out.push_back(anyValueJson(e, non_finite));
      return out;
    }
    case pb_common::AnyValue::kKvlistValue:
      return attributesJson(v.kvlist_value().values(), non_finite);
    default:
      return nullptr;
  }
}

json attributesJson(const google::protobuf::RepeatedPtrField<pb_common::KeyValue>& attributes,
                    NonFinite non_finite) {
  json out = json::object();
  for (const auto& kv : attributes) out[kv.key()] = anyValueJson(kv.value(), non_finite);
  return out;
}

}  // namespace otlpd::query
