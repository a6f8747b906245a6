#include "selftrace/trace_context.h"

#include <algorithm>
#include <vector>

namespace otlpd::selftrace {
namespace {

constexpr size_t kMaxMembers = 32;
constexpr size_t kMaxTracestateLength = 512;
constexpr size_t kLongMember = 128;

int lowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is not HEXDIGLC
}

bool parseHex(std::string_view s, uint8_t* out) {
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = lowerHexValue(s[i]);
    const int lo = lowerHexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool lcalpha(char c) {
  return c >= 'a' && c <= 'z';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool keyChar(char c) {
  return lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@" system-id, tenant-id =
// (lcalpha / DIGIT) 0*240(keychar), system-id = lcalpha 0*13(keychar).
bool validKey(std::string_view key) {
  const size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256 || !lcalpha(key[0])) return false;
    return std::all_of(key.begin() + 1, key.end(), keyChar);
  }
  const std::string_view tenant = key.substr(0, at);
  const std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241 || !(lcalpha(tenant[0]) || digit(tenant[0]))) {
    return false;
  }
  if (system.empty() || system.size() > 14 || !lcalpha(system[0])) return false;
  return std::all_of(tenant.begin() + 1, tenant.end(), keyChar) &&
         std::all_of(system.begin() + 1, system.end(), keyChar);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.
bool validValue(std::string_view value) {
  if (value.empty() || value.size() > 256) return false;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return value.back() != ' ';
}

}  // namespace

bool SpanContext::valid() const {
  const bool trace = std::any_of(trace_id.begin(), trace_id.end(), [](uint8_t b) { return b; });
  const bool span = std::any_of(span_id.begin(), span_id.end(), [](uint8_t b) { return b; });
  return trace && span;
}

std::string toHex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::optional<SpanContext> parseTraceparent(std::string_view header) {
  header = trimOws(header);
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2.
  constexpr size_t kLength = 55;
  if (header.size() < kLength) return std::nullopt;
  uint8_t version = 0;
  if (!parseHex(header.substr(0, 2), &version) || version == 0xff) return std::nullopt;
  if (version == 0 && header.size() != kLength) return std::nullopt;
  // A later version: what follows the flags must start with '-'.
  if (header.size() > kLength && header[kLength] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  SpanContext context;
  if (!parseHex(header.substr(3, 32), context.trace_id.data())) return std::nullopt;
  if (!parseHex(header.substr(36, 16), context.span_id.data())) return std::nullopt;
  if (!parseHex(header.substr(53, 2), &context.flags)) return std::nullopt;
  if (!context.valid()) return std::nullopt;
  // Flags other than `sampled` are defined per version; with one we do not know, keep only it.
  if (version != 0) context.flags &= 0x01;
  return context;
}

std::string formatTraceparent(const SpanContext& context) {
  std::string out = "00-";
  out += toHex(context.trace_id.data(), 16);
  out += '-';
  out += toHex(context.span_id.data(), 8);
  out += '-';
  out += toHex(&context.flags, 1);
  return out;
}

std::optional<std::string> parseTracestate(std::string_view header) {
  std::vector<std::string_view> members;
  std::vector<std::string_view> keys;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    const std::string_view member = trimOws(header.substr(start, comma - start));
    start = comma + 1;
    if (member.empty()) continue;  // empty list members are allowed
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = member.substr(0, eq);
    const std::string_view value = member.substr(eq + 1);
    if (!validKey(key) || !validValue(value)) return std::nullopt;
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return std::nullopt;
    keys.push_back(key);
    members.push_back(member);
    if (members.size() > kMaxMembers) return std::nullopt;
  }
  std::string out;
  for (std::string_view m : members) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

std::string limitTracestate(std::string_view tracestate) {
  std::vector<std::string_view> members;
  size_t start = 0;
  while (start < tracestate.size()) {
    size_t comma = tracestate.find(',', start);
    if (comma == std::string_view::npos) comma = tracestate.size();
    members.push_back(tracestate.substr(start, comma - start));
    start = comma + 1;
  }
  if (members.size() > kMaxMembers) members.resize(kMaxMembers);
  auto length = [&] {
    size_t n = members.empty() ? 0 : members.size() - 1;
    for (auto m : members) n += m.size();
    return n;
  };
  // Over the limit: every member longer than 128 characters goes first, then members from the
  // end.
  if (length() > kMaxTracestateLength) {
    std::erase_if(members, [](std::string_view m) { return m.size() > kLongMember; });
  }
  while (length() > kMaxTracestateLength) members.pop_back();
  std::string out;
  for (std::string_view m : members) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

}  // namespace otlpd::selftrace
