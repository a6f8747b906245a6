// A hand-written single-pass parser over the body: a cursor, a character table, and no copies on
// the common path (label values without escapes, ASCII text). Everything rare — escapes, UTF-8
// checks, unknown comments, a sample outside its family's run — is out of the inner loop.
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/strings.h"
#include "prometheus/exposition.h"

namespace otlpd::prometheus {
namespace {

enum : uint8_t {
  kNameStart = 1,   // [a-zA-Z_:]
  kNameChar = 2,    // [a-zA-Z0-9_:]
  kLabelStart = 4,  // [a-zA-Z_]
  kLabelChar = 8,   // [a-zA-Z0-9_]
  kBlank = 16,      // space, tab
  kValueEnd = 32,   // space, tab, newline
};

struct CharTable {
  uint8_t bits[256] = {};
  constexpr CharTable() {
    for (int c = 0; c < 256; ++c) {
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool digit = c >= '0' && c <= '9';
      if (alpha || c == '_' || c == ':') bits[c] |= kNameStart;
      if (alpha || digit || c == '_' || c == ':') bits[c] |= kNameChar;
      if (alpha || c == '_') bits[c] |= kLabelStart;
      if (alpha || digit || c == '_') bits[c] |= kLabelChar;
      if (c == ' ' || c == '\t') bits[c] |= kBlank | kValueEnd;
      if (c == '\n') bits[c] |= kValueEnd;
    }
  }
};
constexpr CharTable kChars;

inline bool is(char c, uint8_t cls) {
  return (kChars.bits[static_cast<uint8_t>(c)] & cls) != 0;
}

bool validUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

bool equalsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The suffixes a family's samples may carry, by type.
bool suffixAllowed(MetricType type, bool declared, std::string_view suffix) {
  if (suffix.empty()) return type != MetricType::kHistogram && type != MetricType::kGaugeHistogram;
  if (!declared) return false;
  switch (type) {
    case MetricType::kCounter:
      return suffix == "_total" || suffix == "_created";
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_count" || suffix == "_sum" || suffix == "_created";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gcount" || suffix == "_gsum";
    case MetricType::kSummary:
      return suffix == "_count" || suffix == "_sum" || suffix == "_created";
    case MetricType::kInfo:
      return suffix == "_info";
    default:
      return false;
  }
}

constexpr std::string_view kKnownSuffixes[] = {"_total", "_created", "_bucket", "_count",
                                               "_sum",   "_gcount",  "_gsum",   "_info"};

}  // namespace

Format formatFromContentType(std::string_view content_type) {
  // Media types are case-insensitive; parameters (version, charset) do not change the parser.
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return equalsIgnoreCase(type, "application/openmetrics-text") ? Format::kOpenMetrics
                                                                : Format::kText;
}

std::string_view metricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
  }
  return "unknown";
}

void ParsedExposition::clear() {
  families.clear();
  samples.clear();
  labels.clear();
  exemplars.clear();
  unescaped.clear();
}

bool parseFloat(std::string_view text, double& out) {
  // Most values are small non-negative integers (counts, bucket counts): no library call.
  if (!text.empty() && text.size() <= 15) {
    uint64_t v = 0;
    size_t i = 0;
    for (; i < text.size(); ++i) {
      const unsigned d = static_cast<unsigned char>(text[i]) - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    if (i == text.size()) {
      out = static_cast<double>(v);
      return true;
    }
  }
  const char* b = text.data();
  const char* e = b + text.size();
  bool negative = false;
  if (b < e && (*b == '+' || *b == '-')) {
    negative = *b == '-';
    ++b;
  }
  if (b == e) return false;
  const std::string_view rest(b, static_cast<size_t>(e - b));
  double v;
  if (equalsIgnoreCase(rest, "inf") || equalsIgnoreCase(rest, "infinity")) {
    v = std::numeric_limits<double>::infinity();
  } else if (equalsIgnoreCase(rest, "nan")) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) {
    auto r = std::from_chars(b + 2, e, v, std::chars_format::hex);
    if (r.ec != std::errc() || r.ptr != e) return false;
  } else {
    // from_chars would also take "inf"/"nan" spellings Go does not; they were handled above.
    if (!((*b >= '0' && *b <= '9') || *b == '.')) return false;
    auto r = std::from_chars(b, e, v, std::chars_format::general);
    if (r.ec != std::errc() || r.ptr != e) return false;
  }
  out = negative ? -v : v;
  return true;
}

class ExpositionParser::Impl {
 public:
  Impl(std::string_view body, Format format, ParsedExposition& out,
       absl::flat_hash_map<std::string_view, uint32_t>& index)
      : p_(body.data()),
        end_(body.data() + body.size()),
        om_(format == Format::kOpenMetrics),
        out_(out),
        index_(index) {
    line_start_ = p_;
  }

  absl::Status run() {
    while (p_ < end_) {
      line_start_ = p_;
      if (!om_) {
        while (p_ < end_ && is(*p_, kBlank)) ++p_;
        if (p_ == end_) break;
        if (*p_ == '\n') {
          ++p_;
          ++line_;
          continue;
        }
      }
      absl::Status s;
      if (is(*p_, kNameStart)) {
        s = sample();
      } else if (*p_ == '#') {
        s = comment();
        if (s.ok() && eof_) {
          if (p_ < end_ && *p_ == '\n') ++p_;
          if (p_ != end_) return error("content after # EOF");
          return absl::OkStatus();
        }
      } else {
        s = error("expected a metric name or a comment");
      }
      if (!s.ok()) return s;
      ++line_;
    }
    if (om_ && !eof_) return error("OpenMetrics body does not end with # EOF");
    return absl::OkStatus();
  }

 private:
  absl::Status error(std::string_view what) const {
    // The line being read; for a body that ends before any line (an empty OpenMetrics body), the
    // empty rest of it (line_start_ starts at the body: found by the prometheus_exposition fuzz
    // target, where a null line start made memchr read from address 0).
    const std::string_view rest(line_start_, static_cast<size_t>(end_ - line_start_));
    std::string_view text = rest.substr(0, rest.find('\n'));
    if (text.size() > 120) text = text.substr(0, 120);
    return absl::InvalidArgumentError(
        strCat("line ", line_, ": ", what, " in \"",
               validUtf8(text) ? text : std::string_view("<not UTF-8>"), "\""));
  }

  void skipBlanks() {
    if (om_) return;
    while (p_ < end_ && is(*p_, kBlank)) ++p_;
  }

  // One separator: any run of blanks in the text format, exactly one space in OpenMetrics.
  bool separator() {
    if (om_) {
      if (p_ < end_ && *p_ == ' ') {
        ++p_;
        return true;
      }
      return false;
    }
    if (p_ == end_ || !is(*p_, kBlank)) return false;
    while (p_ < end_ && is(*p_, kBlank)) ++p_;
    return true;
  }

  bool atLineEnd() const { return p_ == end_ || *p_ == '\n'; }
  absl::Status endLine() {
    if (p_ < end_) {
      if (*p_ != '\n') return error("unexpected characters at the end of the line");
      ++p_;
    }
    return absl::OkStatus();
  }

  std::string_view token() {
    const char* b = p_;
    while (p_ < end_ && !is(*p_, kValueEnd)) ++p_;
    return {b, static_cast<size_t>(p_ - b)};
  }

  std::string_view metricName() {
    const char* b = p_;
    if (p_ < end_ && is(*p_, kNameStart)) {
      ++p_;
      while (p_ < end_ && is(*p_, kNameChar)) ++p_;
    }
    return {b, static_cast<size_t>(p_ - b)};
  }

  // A quoted label value after its opening quote; unescapes into `out_.unescaped` when needed.
  absl::Status labelValue(std::string_view& value) {
    const char* b = p_;
    unsigned char high = 0;
    while (p_ < end_) {
      const char c = *p_;
      if (c == '"' || c == '\\' || c == '\n') break;
      high |= static_cast<unsigned char>(c);
      ++p_;
    }
    if (p_ == end_ || *p_ == '\n') return error("unterminated label value");
    if (*p_ == '"') {
      value = std::string_view(b, static_cast<size_t>(p_ - b));
      ++p_;
      if ((high & 0x80) && !validUtf8(value)) return error("label value is not valid UTF-8");
      return absl::OkStatus();
    }
    std::string& s = out_.unescaped.emplace_back(b, static_cast<size_t>(p_ - b));
    while (p_ < end_ && *p_ != '"') {
      char c = *p_;
      if (c == '\n') return error("unterminated label value");
      if (c == '\\') {
        if (++p_ == end_) return error("unterminated label value");
        c = *p_;
        if (c == 'n') {
          s.push_back('\n');
        } else if (c == '"' || c == '\\') {
          s.push_back(c);
        } else {
          // Prometheus keeps an unknown escape as written.
          s.push_back('\\');
          s.push_back(c);
        }
      } else {
        s.push_back(c);
      }
      ++p_;
    }
    if (p_ == end_) return error("unterminated label value");
    ++p_;
    if (!validUtf8(s)) return error("label value is not valid UTF-8");
    value = s;
    return absl::OkStatus();
  }

  // `{a="1",b="2"}` after the brace; labels are appended to out_.labels.
  absl::Status labelSet() {
    for (;;) {
      skipBlanks();
      if (p_ == end_) return error("unterminated label set");
      if (*p_ == '}') {
        ++p_;
        return absl::OkStatus();
      }
      if (!is(*p_, kLabelStart)) return error("invalid label name");
      const char* nb = p_++;
      while (p_ < end_ && is(*p_, kLabelChar)) ++p_;
      const std::string_view name(nb, static_cast<size_t>(p_ - nb));
      skipBlanks();
      if (p_ == end_ || *p_ != '=') return error("expected '=' after a label name");
      ++p_;
      skipBlanks();
      if (p_ == end_ || *p_ != '"') return error("expected a quoted label value");
      ++p_;
      std::string_view value;
      if (absl::Status s = labelValue(value); !s.ok()) return s;
      out_.labels.push_back(ExpositionLabel{name, value});
      skipBlanks();
      if (p_ == end_) return error("unterminated label set");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != '}') return error("expected ',' or '}' after a label");
    }
  }

  bool uniqueLabelNames(uint32_t first) const {
    const ExpositionLabel* l = out_.labels.data() + first;
    const size_t n = out_.labels.size() - first;
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (l[i].name == l[j].name) return false;
      }
    }
    return true;
  }

  absl::Status sample() {
    Sample s;
    s.name = metricName();
    s.first_label = static_cast<uint32_t>(out_.labels.size());
    const char* after_name = p_;
    skipBlanks();
    if (p_ < end_ && *p_ == '{') {
      ++p_;
      if (absl::Status st = labelSet(); !st.ok()) return st;
      s.label_count = static_cast<uint32_t>(out_.labels.size()) - s.first_label;
      if (s.label_count > 1 && !uniqueLabelNames(s.first_label)) {
        return error("a label name appears twice");
      }
      if (!separator()) return error("expected a space before the value");
    } else if (om_ ? !separator() : p_ == after_name) {
      return error("expected a space before the value");
    }
    const std::string_view value = token();
    if (!parseFloat(value, s.value)) return error("invalid sample value");
    if (!atLineEnd()) {
      if (!separator()) return error("expected a space after the value");
      if (om_ && p_ < end_ && *p_ == '#') {
        if (absl::Status st = exemplar(s); !st.ok()) return st;
      } else if (!atLineEnd()) {
        if (absl::Status st = timestamp(s); !st.ok()) return st;
        if (!atLineEnd()) {
          if (!separator()) return error("expected the end of the line after the timestamp");
          if (om_ && p_ < end_ && *p_ == '#') {
            if (absl::Status st = exemplar(s); !st.ok()) return st;
          }
        }
      }
    }
    if (absl::Status st = endLine(); !st.ok()) return st;
    s.family = familyOf(s.name);
    ++out_.families[s.family].sample_count;
    out_.samples.push_back(s);
    return absl::OkStatus();
  }

  absl::Status timestamp(Sample& s) {
    const std::string_view t = token();
    if (om_) {
      double seconds;
      if (!parseFloat(t, seconds) || !std::isfinite(seconds)) return error("invalid timestamp");
      // In range before the conversion, which is undefined outside it (found by the
      // prometheus_exposition fuzz target under UBSan).
      const double ms = seconds * 1000;
      if (!(ms > -9.2e18 && ms < 9.2e18)) return error("timestamp out of range");
      s.timestamp_ms = static_cast<int64_t>(ms);
    } else {
      auto r = std::from_chars(t.data(), t.data() + t.size(), s.timestamp_ms);
      if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) {
        return error("invalid timestamp");
      }
    }
    s.has_timestamp = true;
    return absl::OkStatus();
  }

  // ` # {trace_id="..."} 1.0 1520879607.789` after the sample (OpenMetrics only).
  absl::Status exemplar(Sample& s) {
    ++p_;  // '#'
    if (!separator() || p_ == end_ || *p_ != '{') return error("invalid exemplar");
    ++p_;
    Exemplar e;
    e.first_label = static_cast<uint32_t>(out_.labels.size());
    if (absl::Status st = labelSet(); !st.ok()) return st;
    e.label_count = static_cast<uint32_t>(out_.labels.size()) - e.first_label;
    if (!separator()) return error("expected a space before the exemplar value");
    if (!parseFloat(token(), e.value)) return error("invalid exemplar value");
    if (!atLineEnd()) {
      if (!separator()) return error("invalid exemplar");
      if (!parseFloat(token(), e.timestamp_seconds) || !std::isfinite(e.timestamp_seconds)) {
        return error("invalid exemplar timestamp");
      }
      e.has_timestamp = true;
    }
    s.exemplar = static_cast<int32_t>(out_.exemplars.size());
    out_.exemplars.push_back(e);
    return absl::OkStatus();
  }

  // The family a sample belongs to: the current one when the name fits it (the common case, one
  // compare), else one declared earlier, else a new undeclared family of its own.
  uint32_t familyOf(std::string_view name) {
    if (current_ != kNone && fits(out_.families[current_], name)) return current_;
    if (auto it = index_.find(name); it != index_.end() && fits(out_.families[it->second], name)) {
      return current_ = it->second;
    }
    for (std::string_view suffix : kKnownSuffixes) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        auto it = index_.find(name.substr(0, name.size() - suffix.size()));
        if (it != index_.end() && fits(out_.families[it->second], name))
          return current_ = it->second;
      }
    }
    return current_ = addFamily(name);
  }

  static bool fits(const Family& f, std::string_view name) {
    if (!name.starts_with(f.name)) return false;
    return suffixAllowed(f.type, f.declared, name.substr(f.name.size()));
  }

  uint32_t addFamily(std::string_view name) {
    const auto index = static_cast<uint32_t>(out_.families.size());
    out_.families.emplace_back().name = name;
    index_[name] = index;
    return index;
  }

  // The family a HELP/TYPE/UNIT line names, created when new.
  uint32_t declaredFamily(std::string_view name) {
    auto it = index_.find(name);
    if (it == index_.end()) return addFamily(name);
    return it->second;
  }

  absl::Status comment() {
    ++p_;  // '#'
    if (p_ == end_ || *p_ != ' ') {
      if (om_) return error("invalid comment");
      return skipLine();
    }
    ++p_;
    if (!om_) skipBlanks();
    const std::string_view keyword = token();
    if (keyword == "EOF" && om_) {
      eof_ = true;
      return absl::OkStatus();
    }
    const bool help = keyword == "HELP", type = keyword == "TYPE", unit = keyword == "UNIT" && om_;
    if (!help && !type && !unit) {
      if (om_) return error("unknown comment (OpenMetrics allows HELP, TYPE, UNIT and EOF)");
      return skipLine();
    }
    if (!separator()) return error("expected a metric name");
    const std::string_view name = metricName();
    if (name.empty()) return error("invalid metric name");
    if (type) return typeLine(name);
    // The rest of the line is the text (it may be empty).
    std::string_view text;
    if (!atLineEnd()) {
      if (!separator()) return error("expected a space after the metric name");
      const char* b = p_;
      const char* nl =
          static_cast<const char*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
      p_ = nl ? nl : end_;
      text = std::string_view(b, static_cast<size_t>(p_ - b));
    }
    const uint32_t f = declaredFamily(name);
    current_ = f;
    if (unit) {
      if (!validUtf8(text)) return error("unit is not valid UTF-8");
      out_.families[f].unit = text;
    } else {
      if (absl::Status s = helpText(text, out_.families[f].help); !s.ok()) return s;
    }
    return endLine();
  }

  absl::Status helpText(std::string_view text, std::string& out) {
    out.clear();
    if (!validUtf8(text)) return error("help text is not valid UTF-8");
    if (text.find('\\') == std::string_view::npos) {
      out.assign(text);
      return absl::OkStatus();
    }
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        const char c = text[i + 1];
        if (c == 'n') {
          out.push_back('\n');
          ++i;
          continue;
        }
        if (c == '\\' || (c == '"' && om_)) {
          out.push_back(c);
          ++i;
          continue;
        }
      }
      out.push_back(text[i]);
    }
    return absl::OkStatus();
  }

  absl::Status typeLine(std::string_view name) {
    if (!separator()) return error("expected a type");
    const std::string_view word = token();
    MetricType type;
    if (word == "counter") {
      type = MetricType::kCounter;
    } else if (word == "gauge") {
      type = MetricType::kGauge;
    } else if (word == "histogram") {
      type = MetricType::kHistogram;
    } else if (word == "summary") {
      type = MetricType::kSummary;
    } else if (word == (om_ ? "unknown" : "untyped")) {
      type = MetricType::kUnknown;
    } else if (om_ && word == "gaugehistogram") {
      type = MetricType::kGaugeHistogram;
    } else if (om_ && word == "info") {
      type = MetricType::kInfo;
    } else if (om_ && word == "stateset") {
      type = MetricType::kStateSet;
    } else {
      return error("unknown metric type");
    }
    skipBlanks();
    uint32_t f = declaredFamily(name);
    Family* family = &out_.families[f];
    if ((family->declared && family->type != type) || (!family->declared && family->sample_count)) {
      // Declared again with another type, or its samples came before: a family of its own; the
      // translation decides what a conflicting one is worth.
      const bool conflicting = family->declared;
      std::string help = family->help;
      f = addFamily(name);
      family = &out_.families[f];
      family->conflicting = conflicting;
      family->help = std::move(help);
    }
    family->type = type;
    family->declared = true;
    current_ = f;
    return endLine();
  }

  absl::Status skipLine() {
    const char* nl =
        static_cast<const char*>(std::memchr(p_, '\n', static_cast<size_t>(end_ - p_)));
    p_ = nl ? nl + 1 : end_;
    return absl::OkStatus();
  }

  static constexpr uint32_t kNone = UINT32_MAX;

  const char* p_;
  const char* end_;
  const char* line_start_ = nullptr;
  const bool om_;
  bool eof_ = false;
  size_t line_ = 1;
  uint32_t current_ = kNone;
  ParsedExposition& out_;
  absl::flat_hash_map<std::string_view, uint32_t>& index_;
};

absl::Status ExpositionParser::parse(std::string_view body, Format format, ParsedExposition& out) {
  out.clear();
  family_index_.clear();
  Impl impl(body, format, out, family_index_);
  return impl.run();
}

}  // namespace otlpd::prometheus
