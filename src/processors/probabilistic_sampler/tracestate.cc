#include "processors/probabilistic_sampler/tracestate.h"

namespace otlpd::processors::probabilistic_sampler {
namespace {

constexpr size_t kMaxW3CLength = 1024;
constexpr size_t kMaxW3CEntries = 32;
constexpr size_t kMaxKeyLength = 256;
constexpr size_t kMaxTenantLength = 241;
constexpr size_t kMaxSystemLength = 14;
constexpr size_t kMaxValueLength = 256;
constexpr size_t kMaxOtelLength = 256;

bool isLcAlpha(char c) {
  return c >= 'a' && c <= 'z';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isLcAlphaNum(char c) {
  return isLcAlpha(c) || isDigit(c);
}
bool isKeyChar(char c) {
  return isLcAlphaNum(c) || c == '_' || c == '-' || c == '*' || c == '/';
}
// W3C value characters: printable ASCII but ',' and '='; blank only inside.
bool isNonBlankValueChar(char c) {
  return (c >= 0x21 && c <= 0x2b) || (c >= 0x2d && c <= 0x3c) || (c >= 0x3e && c <= 0x7e);
}
bool isValueChar(char c) {
  return c == 0x20 || isNonBlankValueChar(c);
}

bool keyCharsValid(std::string_view s) {
  for (char c : s) {
    if (!isKeyChar(c)) return false;
  }
  return true;
}

// key = simple-key / tenant-id "@" system-id
TraceStateError checkKey(std::string_view key) {
  if (key.empty()) return TraceStateError::kSyntax;
  if (const size_t at = key.find('@'); at != std::string_view::npos) {
    const std::string_view tenant = key.substr(0, at);
    const std::string_view system = key.substr(at + 1);
    if (tenant.empty() || system.empty() || !isLcAlphaNum(tenant[0]) || !isLcAlpha(system[0]) ||
        !keyCharsValid(tenant.substr(1)) || !keyCharsValid(system.substr(1))) {
      return TraceStateError::kSyntax;
    }
    if (key.size() > kMaxKeyLength || tenant.size() > kMaxTenantLength ||
        system.size() > kMaxSystemLength) {
      return TraceStateError::kSize;
    }
    return TraceStateError::kNone;
  }
  if (!isLcAlpha(key[0]) || !keyCharsValid(key.substr(1))) return TraceStateError::kSyntax;
  if (key.size() > kMaxKeyLength) return TraceStateError::kSize;
  return TraceStateError::kNone;
}

bool valueValid(std::string_view value) {
  if (value.empty() || value.size() > kMaxValueLength) return false;
  if (!isNonBlankValueChar(value.back())) return false;
  for (size_t i = 0; i + 1 < value.size(); ++i) {
    if (!isValueChar(value[i])) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool otelKeyValid(std::string_view key) {
  if (key.empty() || !isLcAlpha(key[0])) return false;
  for (char c : key.substr(1)) {
    if (!isLcAlphaNum(c)) return false;
  }
  return true;
}

bool otelValueValid(std::string_view value) {
  for (char c : value) {
    if (!(isLcAlphaNum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view traceStateErrorMessage(TraceStateError error) {
  switch (error) {
    case TraceStateError::kNone:
      return "";
    case TraceStateError::kSize:
      return "invalid tracestate size";
    case TraceStateError::kSyntax:
      return "invalid tracestate syntax";
    case TraceStateError::kTValue:
      return "invalid th value in tracestate";
    case TraceStateError::kRValue:
      return "invalid rv value in tracestate";
  }
  return "";
}

TraceStateError TraceState::parse(std::string_view text) {
  threshold_.reset();
  randomness_.reset();
  threshold_text_ = {};
  randomness_text_ = {};
  otel_extra_.clear();
  vendors_.clear();
  if (text.empty()) return TraceStateError::kNone;
  if (text.size() > kMaxW3CLength) return TraceStateError::kSize;
  size_t entries = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view member = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    member = trimOws(member);
    if (member.empty()) continue;  // W3C allows empty list members
    if (++entries > kMaxW3CEntries) return TraceStateError::kSize;
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) return TraceStateError::kSyntax;
    const std::string_view key = member.substr(0, eq);
    const std::string_view value = member.substr(eq + 1);
    if (TraceStateError e = checkKey(key); e != TraceStateError::kNone) return e;
    if (!valueValid(value)) return TraceStateError::kSyntax;
    if (key == "ot") {
      if (TraceStateError e = parseOtel(value); e != TraceStateError::kNone) return e;
    } else {
      vendors_.emplace_back(key, value);
    }
  }
  return TraceStateError::kNone;
}

TraceStateError TraceState::parseOtel(std::string_view value) {
  // A repeated `ot` entry replaces the earlier one.
  threshold_.reset();
  randomness_.reset();
  threshold_text_ = {};
  randomness_text_ = {};
  otel_extra_.clear();
  if (value.size() > kMaxOtelLength) return TraceStateError::kSize;
  while (true) {
    const size_t semicolon = value.find(';');
    const std::string_view member = value.substr(0, semicolon);
    const size_t colon = member.find(':');
    if (colon == std::string_view::npos) return TraceStateError::kSyntax;
    const std::string_view key = member.substr(0, colon);
    const std::string_view v = member.substr(colon + 1);
    if (!otelKeyValid(key) || !otelValueValid(v)) return TraceStateError::kSyntax;
    if (key == "rv") {
      Randomness r;
      if (parseRValue(v, r) != ValueError::kNone) return TraceStateError::kRValue;
      randomness_ = r;
      randomness_text_ = v;
    } else if (key == "th") {
      Threshold t;
      if (parseTValue(v, t) != ValueError::kNone) return TraceStateError::kTValue;
      threshold_ = t;
      threshold_text_ = v;
    } else {
      otel_extra_.emplace_back(key, v);
    }
    if (semicolon == std::string_view::npos) break;
    value = value.substr(semicolon + 1);
  }
  return TraceStateError::kNone;
}

void TraceState::setThreshold(Threshold t) {
  threshold_ = t;
  threshold_text_ = {};
}

void TraceState::setRandomness(Randomness r) {
  randomness_ = r;
  randomness_text_ = {};
}

void TraceState::serialize(std::string& out) const {
  bool first = true;
  if (threshold_ || randomness_ || !otel_extra_.empty()) {
    out.append("ot=");
    bool first_otel = true;
    auto separate = [&] {
      if (!first_otel) out.push_back(';');
      first_otel = false;
    };
    if (randomness_) {
      separate();
      out.append("rv:");
      if (!randomness_text_.empty()) {
        out.append(randomness_text_);
      } else {
        appendRValue(*randomness_, out);
      }
    }
    if (threshold_) {
      separate();
      out.append("th:");
      if (!threshold_text_.empty()) {
        out.append(threshold_text_);
      } else {
        threshold_->appendTValue(out);
      }
    }
    for (const auto& [k, v] : otel_extra_) {
      separate();
      out.append(k);
      out.push_back(':');
      out.append(v);
    }
    first = false;
  }
  for (const auto& [k, v] : vendors_) {
    if (!first) out.push_back(',');
    first = false;
    out.append(k);
    out.push_back('=');
    out.append(v);
  }
}

}  // namespace otlpd::processors::probabilistic_sampler
