// numeric_attribute, string_attribute and boolean_attribute: like the Collector, they look at the
// attributes of each span's resource and of each span itself (not scopes, not events). An
// attribute is found by scanning the encoded KeyValues for its key; only that value is decoded.
//
// A trace where no resource or span has the key is "not sampled" by the policy; with
// invert_match it is "inverted sampled" (the Collector's semantics: nothing matched, so the
// inverted policy keeps it).
#include <re2/re2.h>

#include <limits>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "common/strings.h"
#include "processors/tail_sampling/policies.h"

namespace otlpd::processors::tail_sampling {
namespace {

// Whether a resource or span attribute `key` of the trace satisfies `match`. A resource shared by
// consecutive spans (same envelope bytes) is looked at once.
template <class Match>
bool anyResourceOrSpanMatches(const TraceView& trace, std::string_view key, Match&& match) {
  std::string_view last_resource;
  bool first = true;
  std::string_view value;
  for (const SpanPiece& piece : trace.spans) {
    if (first || piece.resource_envelope.data() != last_resource.data() ||
        piece.resource_envelope.size() != last_resource.size()) {
      first = false;
      last_resource = piece.resource_envelope;
      if (findAttribute(envelopeMessage(piece.resource_envelope), otlp::fields::kResourceAttributes,
                        key, value) &&
          match(decodeScalar(value))) {
        return true;
      }
    }
    if (findAttribute(piece.span, otlp::fields::kSpanAttributes, key, value) &&
        match(decodeScalar(value))) {
      return true;
    }
  }
  return false;
}

Decision attributeDecision(bool matched, bool invert) {
  if (invert) return matched ? Decision::kInvertNotSampled : Decision::kInvertSampled;
  return matched ? Decision::kSampled : Decision::kNotSampled;
}

// Int values compare as they are, double values by their value (the Collector reads every value
// as an int, so a double or a string there counts as 0; here they do not match).
class NumericAttribute final : public Policy {
 public:
  NumericAttribute(std::string key, int64_t min, int64_t max, bool invert)
      : key_(std::move(key)), min_(min), max_(max), invert_(invert) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    const bool matched = anyResourceOrSpanMatches(trace, key_, [&](const AttributeScalar& v) {
      if (v.kind == AttributeScalar::Kind::kInt) return v.integer >= min_ && v.integer <= max_;
      if (v.kind == AttributeScalar::Kind::kDouble) {
        return v.dbl >= static_cast<double>(min_) && v.dbl <= static_cast<double>(max_);
      }
      return false;
    });
    return attributeDecision(matched, invert_);
  }

 private:
  std::string key_;
  int64_t min_;
  int64_t max_;
  bool invert_;
};

// String values only; exact matches against the values, or (enabled_regex_matching) a match of
// any of the patterns anywhere in the value, as Go's regexp.MatchString does. The patterns are
// RE2 (linear time, the syntax Go uses) joined into one alternation, so a value is scanned once.
class StringAttribute final : public Policy {
 public:
  StringAttribute(std::string key, std::vector<std::string> values,
                  std::unique_ptr<const RE2> regex, bool invert)
      : key_(std::move(key)),
        values_(std::move(values)),
        regex_(std::move(regex)),
        invert_(invert) {
    if (regex_ == nullptr && values_.size() > kLinearValues) {
      for (const std::string& v : values_) value_set_.insert(v);
    }
  }

  Decision evaluate(const TraceView& trace, int64_t) override {
    const bool matched = anyResourceOrSpanMatches(trace, key_, [&](const AttributeScalar& v) {
      return v.kind == AttributeScalar::Kind::kString && matches(v.str);
    });
    return attributeDecision(matched, invert_);
  }

 private:
  static constexpr size_t kLinearValues = 8;

  bool matches(std::string_view s) const {
    if (regex_ != nullptr) return RE2::PartialMatch(s, *regex_);
    if (!value_set_.empty()) return value_set_.contains(s);
    for (const std::string& v : values_) {
      if (v == s) return true;
    }
    return false;
  }

  std::string key_;
  std::vector<std::string> values_;
  absl::flat_hash_set<std::string_view> value_set_;  // views of values_, when there are many
  std::unique_ptr<const RE2> regex_;
  bool invert_;
};

// Bool values equal to `value`; other kinds do not match.
class BooleanAttribute final : public Policy {
 public:
  BooleanAttribute(std::string key, bool value, bool invert)
      : key_(std::move(key)), value_(value), invert_(invert) {}

  Decision evaluate(const TraceView& trace, int64_t) override {
    const bool matched = anyResourceOrSpanMatches(trace, key_, [&](const AttributeScalar& v) {
      return v.kind == AttributeScalar::Kind::kBool && (v.integer != 0) == value_;
    });
    return attributeDecision(matched, invert_);
  }

 private:
  std::string key_;
  bool value_;
  bool invert_;
};

std::string readKey(config::ConfigNode& section) {
  std::string key = section.getString("key", "");
  if (key.empty()) section.addError("key", "missing: the attribute to look at");
  return key;
}

}  // namespace

std::unique_ptr<Policy> readNumericAttribute(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  std::string key = readKey(section);
  const bool has_min = section.has("min_value");
  const bool has_max = section.has("max_value");
  const int64_t min = section.getInt("min_value", std::numeric_limits<int64_t>::min());
  const int64_t max = section.getInt("max_value", std::numeric_limits<int64_t>::max());
  const bool invert = section.getBool("invert_match", false);
  if (!has_min && !has_max) {
    section.addError("min_value", "missing: give min_value and/or max_value");
  } else if (min > max) {
    section.addError("max_value", strCat("must be at least min_value (", min, "), got ", max));
  }
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<NumericAttribute>(std::move(key), min, max, invert);
}

std::unique_ptr<Policy> readStringAttribute(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  std::string key = readKey(section);
  std::vector<std::string> values = section.getStringList("values");
  const bool regex = section.getBool("enabled_regex_matching", false);
  // The Collector caches regexp results per value; RE2 matches in linear time without one, so the
  // key is accepted (and checked) but needs no cache behind it.
  (void)section.getInt("cache_max_size", 0, 0);
  const bool invert = section.getBool("invert_match", false);
  if (values.empty() && section.errors().size() == errors) {
    section.addError("values", "missing: the values (or patterns) to match");
  }
  std::unique_ptr<const RE2> combined;
  if (regex && !values.empty()) {
    RE2::Options options;
    options.set_log_errors(false);
    std::string alternation;
    for (size_t i = 0; i < values.size(); ++i) {
      const RE2 one(values[i], options);
      if (!one.ok()) {
        addListError(section, "values", i,
                     strCat("invalid regular expression \"", values[i], "\": ", one.error()));
        continue;
      }
      if (!alternation.empty()) alternation += '|';
      strAppend(&alternation, "(?:", values[i], ")");
    }
    combined = std::make_unique<const RE2>(alternation, options);
  }
  if (section.errors().size() != errors) return nullptr;
  if (combined != nullptr && !combined->ok()) {
    section.addError("values", strCat("invalid regular expressions: ", combined->error()));
    return nullptr;
  }
  return std::make_unique<StringAttribute>(std::move(key), std::move(values), std::move(combined),
                                           invert);
}

std::unique_ptr<Policy> readBooleanAttribute(config::ConfigNode& section) {
  const size_t errors = section.errors().size();
  std::string key = readKey(section);
  if (!section.has("value")) section.addError("value", "missing: true or false");
  const bool value = section.getBool("value", false);
  const bool invert = section.getBool("invert_match", false);
  if (section.errors().size() != errors) return nullptr;
  return std::make_unique<BooleanAttribute>(std::move(key), value, invert);
}

}  // namespace otlpd::processors::tail_sampling
