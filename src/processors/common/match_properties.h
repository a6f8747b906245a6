// The Collector's `include` / `exclude` match properties (internal/filter/filterconfig with
// filterset, filterspan, filterlog and filtermetric), shared by processors that act on some items
// only. An item is processed when it matches `include` (if given) and does not match `exclude`
// (if given). Evaluated on the wire-edit views of resource, scope and item, split by level so an
// editor checks resource and scope properties once per resource and scope, not per item. Pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_node.h"
#include "otlp/value.h"
#include "otlp/wire_edit.h"
#include "pipeline/signal.h"

namespace re2 {
class RE2;
}

namespace otlpd::processors {

// A list of strings to match a value against (filterset): equal to one of them (`strict`), or
// found by one of the regular expressions (`regexp`; unanchored, as Go's MatchString is).
class StringMatcher {
 public:
  StringMatcher() = default;
  static StringMatcher strict(std::vector<std::string> values);
  // nullopt (and `error` set) when a pattern does not compile.
  static std::optional<StringMatcher> regexp(const std::vector<std::string>& patterns,
                                             std::string* error);
  bool matches(std::string_view s) const;

 private:
  bool regexp_ = false;
  std::vector<std::string> strict_;
  std::vector<std::shared_ptr<const re2::RE2>> regexes_;
};

class MatchProperties {
 public:
  // Reads one `include` or `exclude` block and checks it for `signal` as the Collector does (which
  // properties are valid for which signal, at least one property, known span kinds, compilable
  // patterns, a match_type). Problems are recorded in the config's errors; nullopt then.
  static std::optional<MatchProperties> read(config::ConfigNode& node, pipeline::Signal signal);

  // The properties of each level; a level without properties matches.
  bool matchesResource(const otlp::MessageEdit& resource) const;
  bool matchesScope(const otlp::MessageEdit& scope) const;
  bool matchesSpan(const otlp::MessageEdit& span) const;
  bool matchesLogRecord(const otlp::MessageEdit& record) const;
  bool matchesMetric(const otlp::MessageEdit& metric) const;

 private:
  struct AttributeMatcher {
    std::string key;
    std::optional<otlp::Value> value;      // strict: equal value, same type
    std::optional<StringMatcher> pattern;  // regexp: the value as a string matches
  };
  struct LibraryMatcher {
    StringMatcher name;
    std::optional<StringMatcher> version;
  };
  struct SeverityNumber {
    int32_t min = 0;
    bool match_undefined = false;
  };
  static bool matchAttributes(const std::vector<AttributeMatcher>& matchers,
                              const otlp::AttributeList& attributes);

  std::optional<StringMatcher> services_, span_names_, span_kinds_, log_bodies_,
      log_severity_texts_, metric_names_;
  std::optional<SeverityNumber> severity_number_;
  std::vector<AttributeMatcher> attributes_, resources_;
  std::vector<LibraryMatcher> libraries_;
};

// `include` and `exclude` of one processor config.
class MatchConfig {
 public:
  static MatchConfig read(config::ConfigNode& config, pipeline::Signal signal);
  // Neither block: every item is processed.
  bool empty() const { return !include_ && !exclude_; }

  // Walks one request alongside an editor: told each resource and scope, it answers for each item.
  class Cursor {
   public:
    explicit Cursor(const MatchConfig& config) : config_(config) {}
    void enterResource(const otlp::MessageEdit& resource);
    void enterScope(const otlp::MessageEdit& scope);
    // Whether the processor acts on this item.
    bool processSpan(const otlp::MessageEdit& span) const;
    bool processLogRecord(const otlp::MessageEdit& record) const;
    bool processMetric(const otlp::MessageEdit& metric) const;

   private:
    template <class ItemMatch>
    bool process(ItemMatch&& item_matches) const;

    const MatchConfig& config_;
    bool include_resource_ = true, exclude_resource_ = true;
    bool include_scope_ = true, exclude_scope_ = true;
  };

 private:
  std::optional<MatchProperties> include_, exclude_;
};

// The span kind as the Collector's traceutil names it ("SPAN_KIND_SERVER"...), "" when unknown.
std::string_view spanKindName(uint64_t kind);
// The severity number a `log_severity_number.min` names ("INFO", "warn2", or 0 to 24).
std::optional<int32_t> parseSeverityNumber(std::string_view text);

}  // namespace otlpd::processors
