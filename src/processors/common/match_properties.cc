#include "processors/common/match_properties.h"

#include <re2/re2.h>

#include <array>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "processors/common/config_value.h"

namespace otlpd::processors {
namespace {

using otlp::AttributeList;
using otlp::MessageEdit;
using otlp::Value;
namespace fields = otlp::fields;

constexpr std::string_view kNilServiceName = "<nil-service-name>";

// The attribute as filtermatcher's regexp matching reads it; nullopt for kinds it does not match.
std::optional<std::string> attributeAsMatchString(const AttributeList& attributes, size_t i) {
  if (auto s = attributes.stringValue(i)) return std::string(*s);
  const Value v = attributes.value(i);
  switch (v.kind()) {
    case Value::Kind::kBool:
      return std::string(v.boolean() ? "true" : "false");
    case Value::Kind::kInt:
      return std::to_string(v.integer());
    case Value::Kind::kDouble: {
      // Go's strconv.FormatFloat(d, 'f', -1, 64): the shortest digits that round-trip, no exponent.
      const double d = v.dbl();
      if (std::isnan(d)) return std::string("NaN");
      if (std::isinf(d)) return std::string(d > 0 ? "+Inf" : "-Inf");
      std::array<char, 400> buf;
      auto [end, ec] =
          std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::fixed);
      if (ec != std::errc()) return std::nullopt;
      return std::string(buf.data(), end);
    }
    default:
      return std::nullopt;
  }
}

std::string serviceName(const MessageEdit& resource) {
  const AttributeList& attributes = resource.attributes();
  const std::optional<size_t> i = attributes.find("service.name");
  if (!i) return std::string(kNilServiceName);
  if (auto s = attributes.stringValue(*i)) return std::string(*s);
  return otlp::valueAsString(attributes.value(*i));
}

constexpr std::array<std::string_view, 24> kSeverityNames = {
    "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
    "INFO",  "INFO2",  "INFO3",  "INFO4",  "WARN",  "WARN2",  "WARN3",  "WARN4",
    "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4"};

}  // namespace

std::string_view spanKindName(uint64_t kind) {
  switch (kind) {
    case 0:
      return "SPAN_KIND_UNSPECIFIED";
    case 1:
      return "SPAN_KIND_INTERNAL";
    case 2:
      return "SPAN_KIND_SERVER";
    case 3:
      return "SPAN_KIND_CLIENT";
    case 4:
      return "SPAN_KIND_PRODUCER";
    case 5:
      return "SPAN_KIND_CONSUMER";
    default:
      return "";
  }
}

std::optional<int32_t> parseSeverityNumber(std::string_view text) {
  int32_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && ptr == text.data() + text.size()) {
    if (n < 0 || n > 24) return std::nullopt;
    return n;
  }
  const std::string upper = absl::AsciiStrToUpper(std::string(text));
  if (upper == "UNSPECIFIED" || upper == "UNDEFINED") return 0;
  for (size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (upper == kSeverityNames[i]) return static_cast<int32_t>(i + 1);
  }
  return std::nullopt;
}

StringMatcher StringMatcher::strict(std::vector<std::string> values) {
  StringMatcher m;
  m.strict_ = std::move(values);
  return m;
}

std::optional<StringMatcher> StringMatcher::regexp(const std::vector<std::string>& patterns,
                                                   std::string* error) {
  StringMatcher m;
  m.regexp_ = true;
  RE2::Options options;
  options.set_log_errors(false);
  for (const std::string& p : patterns) {
    auto re = std::make_shared<const RE2>(p, options);
    if (!re->ok()) {
      *error = strCat("invalid regexp \"", p, "\": ", re->error());
      return std::nullopt;
    }
    m.regexes_.push_back(std::move(re));
  }
  return m;
}

bool StringMatcher::matches(std::string_view s) const {
  if (regexp_) {
    for (const auto& re : regexes_) {
      if (RE2::PartialMatch(s, *re)) return true;
    }
    return false;
  }
  for (const std::string& v : strict_) {
    if (v == s) return true;
  }
  return false;
}

std::optional<MatchProperties> MatchProperties::read(config::ConfigNode& node,
                                                     pipeline::Signal signal) {
  const std::string match_type = node.getString("match_type", "");
  {
    config::ConfigNode regexp = node.child("regexp");
    // The Collector's result cache for regexps; RE2 needs none, so the keys are accepted and
    // unused.
    (void)regexp.getBool("cacheenabled", false);
    (void)regexp.getInt("cachemaxnumentries", 0, 0);
    regexp.rejectUnknownKeys();
  }
  const std::vector<std::string> services = node.getStringList("services");
  const std::vector<std::string> span_names = node.getStringList("span_names");
  const std::vector<std::string> span_kinds = node.getStringList("span_kinds");
  const std::vector<std::string> log_bodies = node.getStringList("log_bodies");
  const std::vector<std::string> log_severity_texts = node.getStringList("log_severity_texts");
  const std::vector<std::string> metric_names = node.getStringList("metric_names");
  std::optional<SeverityNumber> severity_number;
  if (node.has("log_severity_number")) {
    config::ConfigNode sn = node.child("log_severity_number");
    SeverityNumber s;
    const std::string min = sn.getString("min", "0");
    if (auto n = parseSeverityNumber(min)) {
      s.min = *n;
    } else {
      sn.addError("min",
                  strCat("unknown severity '", min,
                         "' (a number from 0 to 24, or TRACE, DEBUG2, INFO, WARN, ERROR...)"));
    }
    s.match_undefined = sn.getBool("match_undefined", false);
    sn.rejectUnknownKeys();
    severity_number = s;
  } else {
    (void)node.child("log_severity_number");  // null is allowed and means none
  }

  struct RawAttribute {
    std::string key;
    std::optional<Value> value;
    config::ConfigNode node;
  };
  auto readAttributes = [&](std::string_view key) {
    std::vector<RawAttribute> out;
    for (config::ConfigNode& a : node.getMappingList(key)) {
      RawAttribute raw{a.getString("key", ""), std::nullopt, a};
      if (auto v = a.getYaml("value")) raw.value = valueFromYaml(*v);
      a.rejectUnknownKeys();
      raw.node = a;
      out.push_back(std::move(raw));
    }
    return out;
  };
  std::vector<RawAttribute> attributes = readAttributes("attributes");
  std::vector<RawAttribute> resources = readAttributes("resources");
  struct RawLibrary {
    std::string name;
    std::optional<std::string> version;
  };
  std::vector<RawLibrary> libraries;
  for (config::ConfigNode& l : node.getMappingList("libraries")) {
    RawLibrary raw{l.getString("name", ""), std::nullopt};
    if (l.has("version")) raw.version = l.getString("version", "");
    l.rejectUnknownKeys();
    libraries.push_back(std::move(raw));
  }
  node.rejectUnknownKeys();

  const YAML::Mark mark = node.yaml().Mark();
  auto fail = [&](std::string message) -> std::optional<MatchProperties> {
    node.errors().add(node.path(), mark, std::move(message));
    return std::nullopt;
  };
  // Which properties each signal takes, as filterconfig's ValidateForSpans/Logs/Metrics say.
  switch (signal) {
    case pipeline::Signal::kTraces:
      if (!log_bodies.empty()) return fail("log_bodies should not be specified for trace spans");
      if (!log_severity_texts.empty()) {
        return fail("log_severity_texts should not be specified for trace spans");
      }
      if (severity_number) {
        return fail("log_severity_number should not be specified for trace spans");
      }
      if (!metric_names.empty()) {
        return fail("metric_names should not be specified for trace spans");
      }
      if (services.empty() && span_names.empty() && attributes.empty() && libraries.empty() &&
          resources.empty() && span_kinds.empty()) {
        return fail(
            "at least one of \"services\", \"span_names\", \"span_kinds\", \"attributes\", "
            "\"libraries\" or \"resources\" must be specified");
      }
      if (match_type == "strict") {
        for (const std::string& kind : span_kinds) {
          bool known = false;
          for (uint64_t k = 1; k <= 5; ++k) known = known || kind == spanKindName(k);
          if (!known) {
            return fail(
                "span_kinds string must match one of the standard span kinds when "
                "match_type=strict: [SPAN_KIND_CLIENT SPAN_KIND_CONSUMER SPAN_KIND_INTERNAL "
                "SPAN_KIND_PRODUCER SPAN_KIND_SERVER]");
          }
        }
      }
      break;
    case pipeline::Signal::kLogs:
      if (!span_names.empty() || !services.empty() || !span_kinds.empty() ||
          !metric_names.empty()) {
        return fail(
            "services, span_names, span_kinds and metric_names are not valid for log records");
      }
      if (attributes.empty() && libraries.empty() && resources.empty() && log_bodies.empty() &&
          log_severity_texts.empty() && !severity_number) {
        return fail(
            "at least one of \"attributes\", \"libraries\", \"resources\", \"log_bodies\", "
            "\"log_severity_texts\" or \"log_severity_number\" must be specified");
      }
      break;
    case pipeline::Signal::kMetrics:
      if (!log_bodies.empty() || !log_severity_texts.empty() || !span_names.empty() ||
          !services.empty() || !span_kinds.empty() || !attributes.empty() || !libraries.empty() ||
          severity_number) {
        return fail(
            "\"span_names\", \"span_kinds\", \"log_bodies\", \"log_severity_texts\", "
            "\"log_severity_number\", \"services\", \"attributes\" and \"libraries\" are not "
            "valid for metrics");
      }
      if (metric_names.empty() && resources.empty()) {
        return fail("at least one of \"metric_names\" or \"resources\" must be specified");
      }
      break;
  }

  // Each string list becomes a filterset of the match_type, which must then be known.
  bool ok = true;
  auto makeSet = [&](std::string_view field,
                     const std::vector<std::string>& values) -> std::optional<StringMatcher> {
    if (match_type == "strict") return StringMatcher::strict(values);
    if (match_type == "regexp") {
      std::string error;
      std::optional<StringMatcher> m = StringMatcher::regexp(values, &error);
      if (!m) {
        node.addError(field, error);
        ok = false;
      }
      return m;
    }
    node.addError("match_type", strCat("unrecognized match_type: '", match_type,
                                       "', valid types are: [regexp strict]"));
    ok = false;
    return std::nullopt;
  };
  auto setOf = [&](std::string_view field, const std::vector<std::string>& values) {
    return values.empty() || !ok ? std::nullopt : makeSet(field, values);
  };

  MatchProperties mp;
  mp.services_ = setOf("services", services);
  mp.span_names_ = setOf("span_names", span_names);
  mp.span_kinds_ = setOf("span_kinds", span_kinds);
  mp.log_bodies_ = setOf("log_bodies", log_bodies);
  mp.log_severity_texts_ = setOf("log_severity_texts", log_severity_texts);
  mp.metric_names_ = setOf("metric_names", metric_names);
  mp.severity_number_ = severity_number;
  auto buildAttributes = [&](std::string_view field, std::vector<RawAttribute>& raw,
                             std::vector<AttributeMatcher>& out) {
    for (RawAttribute& a : raw) {
      if (!ok) return;
      if (a.key.empty()) {
        a.node.addError("key", "can't have empty key in the list of " + std::string(field));
        ok = false;
        return;
      }
      AttributeMatcher m{a.key, std::nullopt, std::nullopt};
      if (a.value) {
        if (match_type == "regexp") {
          if (a.value->kind() != Value::Kind::kString) {
            a.node.addError(
                "value", strCat("match_type=regexp for \"", a.key, "\" only supports Str values"));
            ok = false;
            return;
          }
          m.pattern = makeSet(field, {a.value->str()});
        } else if (match_type == "strict") {
          m.value = std::move(a.value);
        } else {
          (void)makeSet(field, {});  // reports the match_type
        }
      }
      out.push_back(std::move(m));
    }
  };
  buildAttributes("attributes", attributes, mp.attributes_);
  buildAttributes("resources", resources, mp.resources_);
  for (RawLibrary& l : libraries) {
    if (!ok) break;
    std::optional<StringMatcher> name = makeSet("libraries", {l.name});
    std::optional<StringMatcher> version;
    if (l.version) version = makeSet("libraries", {*l.version});
    if (name) mp.libraries_.push_back(LibraryMatcher{std::move(*name), std::move(version)});
  }
  if (!ok) return std::nullopt;
  return mp;
}

bool MatchProperties::matchAttributes(const std::vector<AttributeMatcher>& matchers,
                                      const AttributeList& attributes) {
  if (matchers.empty()) return true;
  if (attributes.empty()) return false;
  for (const AttributeMatcher& m : matchers) {
    const std::optional<size_t> i = attributes.find(m.key);
    if (!i) return false;
    if (m.pattern) {
      const std::optional<std::string_view> s = attributes.stringValue(*i);
      if (s) {
        if (!m.pattern->matches(*s)) return false;
      } else {
        const std::optional<std::string> text = attributeAsMatchString(attributes, *i);
        if (!text || !m.pattern->matches(*text)) return false;
      }
    } else if (m.value) {
      if (m.value->kind() == Value::Kind::kString) {
        const std::optional<std::string_view> s = attributes.stringValue(*i);
        if (!s || *s != m.value->str()) return false;
      } else if (!(attributes.value(*i) == *m.value)) {
        return false;
      }
    }
  }
  return true;
}

bool MatchProperties::matchesResource(const MessageEdit& resource) const {
  if (services_ && !services_->matches(serviceName(resource))) return false;
  return resources_.empty() || matchAttributes(resources_, resource.attributes());
}

bool MatchProperties::matchesScope(const MessageEdit& scope) const {
  // Every library listed must match (filtermatcher checks them all).
  for (const LibraryMatcher& l : libraries_) {
    if (!l.name.matches(scope.lengthDelimited(fields::kScopeName))) return false;
    if (l.version && !l.version->matches(scope.lengthDelimited(fields::kScopeVersion))) {
      return false;
    }
  }
  return true;
}

bool MatchProperties::matchesSpan(const MessageEdit& span) const {
  if (span_names_ && !span_names_->matches(span.lengthDelimited(fields::kSpanName))) return false;
  if (span_kinds_ && !span_kinds_->matches(spanKindName(span.varint(fields::kSpanKind)))) {
    return false;
  }
  return attributes_.empty() || matchAttributes(attributes_, span.attributes());
}

bool MatchProperties::matchesLogRecord(const MessageEdit& record) const {
  if (log_bodies_) {
    Value body;
    if (record.has(fields::kLogBody) &&
        !otlp::decodeValue(record.lengthDelimited(fields::kLogBody), body)) {
      body = Value();
    }
    if (!log_bodies_->matches(otlp::valueAsString(body))) return false;
  }
  if (log_severity_texts_ &&
      !log_severity_texts_->matches(record.lengthDelimited(fields::kLogSeverityText))) {
    return false;
  }
  if (severity_number_) {
    const auto n = static_cast<int32_t>(record.varint(fields::kLogSeverityNumber));
    if (n == 0 ? !severity_number_->match_undefined : n < severity_number_->min) return false;
  }
  return attributes_.empty() || matchAttributes(attributes_, record.attributes());
}

bool MatchProperties::matchesMetric(const MessageEdit& metric) const {
  return !metric_names_ || metric_names_->matches(metric.lengthDelimited(fields::kMetricName));
}

MatchConfig MatchConfig::read(config::ConfigNode& config, pipeline::Signal signal) {
  MatchConfig out;
  if (config.has("include")) {
    config::ConfigNode include = config.child("include");
    out.include_ = MatchProperties::read(include, signal);
  } else {
    (void)config.child("include");
  }
  if (config.has("exclude")) {
    config::ConfigNode exclude = config.child("exclude");
    out.exclude_ = MatchProperties::read(exclude, signal);
  } else {
    (void)config.child("exclude");
  }
  return out;
}

void MatchConfig::Cursor::enterResource(const MessageEdit& resource) {
  include_resource_ = !config_.include_ || config_.include_->matchesResource(resource);
  exclude_resource_ = !config_.exclude_ || config_.exclude_->matchesResource(resource);
}

void MatchConfig::Cursor::enterScope(const MessageEdit& scope) {
  include_scope_ = !config_.include_ || config_.include_->matchesScope(scope);
  exclude_scope_ = !config_.exclude_ || config_.exclude_->matchesScope(scope);
}

template <class ItemMatch>
bool MatchConfig::Cursor::process(ItemMatch&& item_matches) const {
  if (config_.include_ &&
      !(include_resource_ && include_scope_ && item_matches(*config_.include_))) {
    return false;
  }
  return !(config_.exclude_ && exclude_resource_ && exclude_scope_ &&
           item_matches(*config_.exclude_));
}

bool MatchConfig::Cursor::processSpan(const MessageEdit& span) const {
  return process([&](const MatchProperties& mp) { return mp.matchesSpan(span); });
}

bool MatchConfig::Cursor::processLogRecord(const MessageEdit& record) const {
  return process([&](const MatchProperties& mp) { return mp.matchesLogRecord(record); });
}

bool MatchConfig::Cursor::processMetric(const MessageEdit& metric) const {
  return process([&](const MatchProperties& mp) { return mp.matchesMetric(metric); });
}

}  // namespace otlpd::processors
