// Reading the few fields the policies need from span, resource and attribute bytes.
#include <cmath>
#include <cstring>

#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {

using otlp::wire::Field;
using otlp::wire::Reader;
using otlp::wire::Stop;

AttributeScalar decodeScalar(std::string_view any_value) {
  AttributeScalar out;
  Reader reader(any_value);
  Field f;
  while (!reader.done() && reader.next(f) == Stop::kNone) {
    switch (f.number) {
      case wirefields::kAnyString:
        if (f.type != otlp::wire::kLengthDelimited) break;
        out.kind = AttributeScalar::Kind::kString;
        out.str = f.bytes;
        break;
      case wirefields::kAnyBool:
        if (f.type != otlp::wire::kVarint) break;
        out.kind = AttributeScalar::Kind::kBool;
        out.integer = f.value != 0 ? 1 : 0;
        break;
      case wirefields::kAnyInt:
        if (f.type != otlp::wire::kVarint) break;
        out.kind = AttributeScalar::Kind::kInt;
        out.integer = static_cast<int64_t>(f.value);
        break;
      case wirefields::kAnyDouble:
        if (f.type != otlp::wire::kFixed64) break;
        out.kind = AttributeScalar::Kind::kDouble;
        std::memcpy(&out.dbl, &f.value, sizeof(out.dbl));
        break;
      case wirefields::kAnyArray:
      case wirefields::kAnyKvList:
      case wirefields::kAnyBytes:
        out.kind = AttributeScalar::Kind::kOther;
        break;
      default:
        break;
    }
  }
  return out;
}

bool findAttribute(std::string_view message, uint32_t attributes_field, std::string_view key,
                   std::string_view& any_value) {
  Reader reader(message);
  Field f;
  while (!reader.done() && reader.next(f) == Stop::kNone) {
    if (f.number != attributes_field || f.type != otlp::wire::kLengthDelimited) continue;
    // A KeyValue is two fields; protobuf keeps the last occurrence of each.
    Reader kv(f.bytes);
    Field e;
    std::string_view found_key;
    std::string_view value;
    while (!kv.done() && kv.next(e) == Stop::kNone) {
      if (e.type != otlp::wire::kLengthDelimited) continue;
      if (e.number == wirefields::kKeyValueKey) {
        found_key = e.bytes;
      } else if (e.number == wirefields::kKeyValueValue) {
        value = e.bytes;
      }
    }
    if (found_key == key) {
      any_value = value;
      return true;
    }
  }
  return false;
}

bool traceStateValue(std::string_view trace_state, std::string_view key, std::string_view& value) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  while (!trace_state.empty()) {
    const size_t comma = trace_state.find(',');
    const std::string_view member = trim(trace_state.substr(0, comma));
    trace_state =
        comma == std::string_view::npos ? std::string_view() : trace_state.substr(comma + 1);
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) continue;
    if (member.substr(0, eq) == key) {
      value = member.substr(eq + 1);
      return true;
    }
  }
  return false;
}

uint64_t probabilityThreshold(double ratio) {
  if (!(ratio > 0)) return 0;  // also NaN
  if (ratio >= 1) return UINT64_MAX;
  // ratio = mantissa * 2^exponent exactly, with a 53-bit integer mantissa.
  int e = 0;
  const double m = std::frexp(ratio, &e);
  const uint64_t mantissa = static_cast<uint64_t>(std::ldexp(m, 53));
  int exponent = e - 53;
  unsigned __int128 product = static_cast<unsigned __int128>(UINT64_MAX) * mantissa;
  // Round the exact product to 64 significant bits, to nearest with ties to even.
  int bits = 0;
  for (unsigned __int128 p = product; p != 0; p >>= 1) ++bits;
  if (bits > 64) {
    const int shift = bits - 64;
    const unsigned __int128 one = 1;
    const unsigned __int128 rest = product & ((one << shift) - 1);
    const unsigned __int128 half = one << (shift - 1);
    product >>= shift;
    if (rest > half || (rest == half && (product & 1) != 0)) product += 1;
    exponent += shift;
  }
  // Truncate product * 2^exponent to an integer.
  unsigned __int128 value;
  if (exponent >= 0) {
    if (exponent >= 64) return UINT64_MAX;
    value = product << exponent;
  } else {
    if (exponent <= -128) return 0;
    value = product >> -exponent;
  }
  return value > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(value);
}

}  // namespace otlpd::processors::tail_sampling
