// The redaction rules of the Collector's redaction processor over one attribute list or log body:
// keys not allowed are removed, values matching blocked patterns are masked ("****") or hashed,
// and a summary of what happened is written as redaction.* attributes. Pure and thread-safe: one
// Redactor serves every batch at once.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "otlp/value.h"
#include "otlp/wire_edit.h"

namespace otlpd::processors::redaction {

enum class HashFunction { kNone, kMd5, kSha1, kSha3 };
enum class Summary { kSilent, kInfo, kDebug };

struct RedactionConfig {
  bool allow_all_keys = false;
  std::vector<std::string> allowed_keys;
  std::vector<std::string> ignored_keys;
  std::vector<std::string> ignored_key_patterns;
  std::vector<std::string> blocked_key_patterns;
  std::vector<std::string> blocked_values;
  std::vector<std::string> allowed_values;
  bool redact_all_types = false;
  HashFunction hash_function = HashFunction::kNone;
  Summary summary = Summary::kSilent;
};

// The attribute names the Collector writes.
namespace summary_keys {
inline constexpr std::string_view kRedactedKeys = "redaction.redacted.keys";
inline constexpr std::string_view kRedactedCount = "redaction.redacted.count";
inline constexpr std::string_view kMaskedKeys = "redaction.masked.keys";
inline constexpr std::string_view kMaskedCount = "redaction.masked.count";
inline constexpr std::string_view kAllowedKeys = "redaction.allowed.keys";
inline constexpr std::string_view kAllowedCount = "redaction.allowed.count";
inline constexpr std::string_view kIgnoredCount = "redaction.ignored.count";
inline constexpr std::string_view kBodyRedactedKeys = "redaction.body.redacted.keys";
inline constexpr std::string_view kBodyRedactedCount = "redaction.body.redacted.count";
inline constexpr std::string_view kBodyMaskedKeys = "redaction.body.masked.keys";
inline constexpr std::string_view kBodyMaskedCount = "redaction.body.masked.count";
inline constexpr std::string_view kBodyAllowedKeys = "redaction.body.allowed.keys";
inline constexpr std::string_view kBodyAllowedCount = "redaction.body.allowed.count";
inline constexpr std::string_view kBodyIgnoredCount = "redaction.body.ignored.count";
}  // namespace summary_keys

// A list of RE2 patterns tested together: one pass over a text says whether any matches (an
// RE2::Set), and each pattern stays available for replacing in the Collector's order.
class PatternList {
 public:
  // The first pattern that does not compile is the error, with its index.
  static absl::StatusOr<std::unique_ptr<PatternList>> compile(
      const std::vector<std::string>& patterns);
  bool empty() const { return patterns_.empty(); }
  bool matchesAny(std::string_view text) const;
  // Whether any pattern may match inside any of several texts joined by '\n': no false
  // negatives (the patterns are tested in multi-line mode, so ^ and $ also hold at the joints),
  // possibly false positives. False when a pattern cannot be tested so (\A, \z).
  bool canTestJoined() const { return joined_ != nullptr; }
  bool mayMatchJoined(std::string_view joined) const;
  const std::vector<std::unique_ptr<RE2>>& patterns() const { return patterns_; }

 private:
  std::vector<std::unique_ptr<RE2>> patterns_;
  std::unique_ptr<RE2::Set> set_;
  std::unique_ptr<RE2::Set> joined_;
};

class Redactor {
 public:
  static absl::StatusOr<std::unique_ptr<Redactor>> create(RedactionConfig config);

  // Redacts span, span event, log record or data point attributes. Returns whether any changed.
  bool redactAttributes(otlp::AttributeList& attributes) const;
  // Redacts a log record's body (string, map and array bodies, recursively), writing the
  // redaction.body.* summary into the record's attributes. Returns whether the body changed.
  bool redactBody(otlp::Value& body, otlp::AttributeList& attributes) const;

  // Every match of the blocked values in `text` masked or hashed, pattern after pattern as the
  // Collector applies them; nullopt when nothing matched.
  std::optional<std::string> maskBlockedValues(std::string_view text) const;
  // What a matched text is replaced with: "****", or its hash (lowercase hex).
  std::string replacement(std::string_view match) const;

 private:
  explicit Redactor(RedactionConfig config) : config_(std::move(config)) {}
  bool isIgnoredKey(std::string_view key) const { return has_ignored_ && ignoredKeySlow(key); }
  bool ignoredKeySlow(std::string_view key) const;
  bool isRemovedKey(std::string_view key) const;  // not allowed (and not ignored)
  // Go's regexp.ReplaceAllStringFunc(text, replacement) for one pattern.
  std::string replaceAll(std::string_view text, const RE2& pattern) const;
  std::string maskWhole(std::string_view text) const { return replaceAll(text, *mask_all_); }
  void redactBodyValue(const std::string& path, otlp::Value& value,
                       std::vector<std::string>& redacted, std::vector<std::string>& masked,
                       std::vector<std::string>& allowed, std::vector<std::string>& ignored,
                       bool& changed) const;
  void addSummary(std::vector<std::string> keys, otlp::AttributeList& attributes,
                  std::string_view keys_attribute, std::string_view count_attribute) const;

  RedactionConfig config_;
  bool has_ignored_ = false;
  bool only_values_matter_ = false;
  absl::flat_hash_set<std::string> allowed_keys_;
  absl::flat_hash_set<std::string> ignored_keys_;
  std::unique_ptr<PatternList> ignored_key_patterns_;
  std::unique_ptr<PatternList> blocked_key_patterns_;
  std::unique_ptr<PatternList> blocked_values_;
  std::unique_ptr<PatternList> allowed_values_;
  std::unique_ptr<RE2> mask_all_;  // ".*": a blocked key's whole value, as the Collector masks it
};

}  // namespace otlpd::processors::redaction
