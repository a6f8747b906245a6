#include "processors/redaction/redactor.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace otlpd::processors::redaction {
namespace {

re2::StringPiece toRe2(std::string_view s) {
  return {s.data(), s.size()};
}

// Bytes of the UTF-8 sequence starting at text[pos] (1 for an invalid byte), as Go steps.
size_t runeWidth(std::string_view text, size_t pos) {
  const auto c = static_cast<unsigned char>(text[pos]);
  size_t width = 1;
  if (c >= 0xF0 && c < 0xF8) {
    width = 4;
  } else if (c >= 0xE0) {
    width = c < 0xF0 ? 3 : 1;
  } else if (c >= 0xC2) {
    width = 2;
  }
  if (pos + width > text.size()) return 1;
  for (size_t i = 1; i < width; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return width;
}

std::string hexDigest(std::string_view data, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr) != 1) return "****";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PatternList>> PatternList::compile(
    const std::vector<std::string>& patterns) {
  auto list = std::make_unique<PatternList>();
  if (patterns.empty()) return list;
  RE2::Options options;
  options.set_log_errors(false);
  list->set_ = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (size_t i = 0; i < patterns.size(); ++i) {
    auto re = std::make_unique<RE2>(toRe2(patterns[i]), options);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          strCat("[", i, "] '", patterns[i], "' is not a valid regular expression: ", re->error()));
    }
    std::string error;
    if (list->set_->Add(toRe2(patterns[i]), &error) < 0) {
      return absl::InvalidArgumentError(strCat("[", i, "] '", patterns[i], "': ", error));
    }
    list->patterns_.push_back(std::move(re));
  }
  if (!list->set_->Compile()) {
    return absl::ResourceExhaustedError("the patterns together are too large to compile");
  }
  // The joined test: a value's matches are matches inside the joined text too, as long as ^ and $
  // may hold at each '\n' (multi-line mode) and no pattern needs the very start or end of the
  // text. \b is unaffected: '\n' is not a word character, like a text's edge.
  bool joinable = true;
  for (const std::string& pattern : patterns) {
    joinable &=
        pattern.find("\\A") == std::string::npos && pattern.find("\\z") == std::string::npos;
  }
  if (joinable) {
    auto joined = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    bool ok = true;
    for (const std::string& pattern : patterns) {
      ok &= joined->Add(toRe2(strCat("(?m:", pattern, ")")), nullptr) >= 0;
    }
    if (ok && joined->Compile()) list->joined_ = std::move(joined);
  }
  return list;
}

bool PatternList::mayMatchJoined(std::string_view joined) const {
  return joined_ == nullptr || joined_->Match(toRe2(joined), nullptr);
}

bool PatternList::matchesAny(std::string_view text) const {
  return set_ != nullptr && set_->Match(toRe2(text), nullptr);
}

absl::StatusOr<std::unique_ptr<Redactor>> Redactor::create(RedactionConfig config) {
  std::unique_ptr<Redactor> r(new Redactor(std::move(config)));
  const RedactionConfig& c = r->config_;
  for (const std::string& key : c.allowed_keys) r->allowed_keys_.insert(key);
  // The summary attributes stay, so that data passing a second redaction keeps the first's.
  for (std::string_view key :
       {summary_keys::kRedactedKeys, summary_keys::kRedactedCount, summary_keys::kMaskedKeys,
        summary_keys::kMaskedCount, summary_keys::kAllowedKeys, summary_keys::kAllowedCount,
        summary_keys::kIgnoredCount, summary_keys::kBodyRedactedKeys,
        summary_keys::kBodyRedactedCount, summary_keys::kBodyMaskedKeys,
        summary_keys::kBodyMaskedCount, summary_keys::kBodyAllowedKeys,
        summary_keys::kBodyAllowedCount, summary_keys::kBodyIgnoredCount}) {
    r->allowed_keys_.insert(std::string(key));
  }
  for (const std::string& key : c.ignored_keys) r->ignored_keys_.insert(key);
  struct {
    const std::vector<std::string>* patterns;
    std::unique_ptr<PatternList>* out;
    std::string_view name;
  } lists[] = {{&c.ignored_key_patterns, &r->ignored_key_patterns_, "ignored_key_patterns"},
               {&c.blocked_key_patterns, &r->blocked_key_patterns_, "blocked_key_patterns"},
               {&c.blocked_values, &r->blocked_values_, "blocked_values"},
               {&c.allowed_values, &r->allowed_values_, "allowed_values"}};
  for (auto& list : lists) {
    absl::StatusOr<std::unique_ptr<PatternList>> compiled = PatternList::compile(*list.patterns);
    if (!compiled.ok()) {
      return absl::InvalidArgumentError(strCat(list.name, ": ", compiled.status().message()));
    }
    *list.out = *std::move(compiled);
  }
  r->mask_all_ = std::make_unique<RE2>(".*");
  r->has_ignored_ = !r->ignored_keys_.empty() || !r->ignored_key_patterns_->empty();
  r->only_values_matter_ = c.allow_all_keys && !r->has_ignored_ &&
                           r->blocked_key_patterns_->empty() && r->allowed_values_->empty();
  return r;
}

bool Redactor::ignoredKeySlow(std::string_view key) const {
  return ignored_keys_.contains(toAbsl(key)) || ignored_key_patterns_->matchesAny(key);
}

bool Redactor::isRemovedKey(std::string_view key) const {
  return !config_.allow_all_keys && !allowed_keys_.contains(toAbsl(key));
}

std::string Redactor::replacement(std::string_view match) const {
  switch (config_.hash_function) {
    case HashFunction::kMd5:
      return hexDigest(match, EVP_md5());
    case HashFunction::kSha1:
      return hexDigest(match, EVP_sha1());
    case HashFunction::kSha3:
      return hexDigest(match, EVP_sha3_256());
    case HashFunction::kNone:
      break;
  }
  return "****";
}

std::string Redactor::replaceAll(std::string_view text, const RE2& pattern) const {
  std::string out;
  size_t last_match_end = 0;
  size_t search = 0;
  re2::StringPiece subject = toRe2(text);
  re2::StringPiece match;
  while (search <= text.size()) {
    if (!pattern.Match(subject, search, text.size(), RE2::UNANCHORED, &match, 1)) break;
    const size_t begin = static_cast<size_t>(match.data() - text.data());
    const size_t end = begin + match.size();
    out.append(text.substr(last_match_end, begin - last_match_end));
    // An empty match right after another match is not replaced (Go's rule, which keeps ".*"
    // from replacing twice).
    if (end > last_match_end || begin == 0) {
      out += replacement(text.substr(begin, end - begin));
    }
    last_match_end = end;
    const size_t width = search < text.size() ? runeWidth(text, search) : 1;
    search = search + width > end ? search + width : end;
  }
  out.append(text.substr(std::min(last_match_end, text.size())));
  return out;
}

std::optional<std::string> Redactor::maskBlockedValues(std::string_view text) const {
  if (!blocked_values_->matchesAny(text)) return std::nullopt;
  std::string current(text);
  for (const auto& pattern : blocked_values_->patterns()) {
    if (RE2::PartialMatch(current, *pattern)) current = replaceAll(current, *pattern);
  }
  if (current == text) return std::nullopt;
  return current;
}

void Redactor::addSummary(std::vector<std::string> keys, otlp::AttributeList& attributes,
                          std::string_view keys_attribute, std::string_view count_attribute) const {
  if (keys.empty()) return;
  int64_t count = static_cast<int64_t>(keys.size());
  if (config_.summary == Summary::kDebug && !keys_attribute.empty()) {
    if (std::optional<size_t> existing = attributes.find(keys_attribute)) {
      std::optional<std::string_view> text = attributes.stringValue(*existing);
      if (text && !text->empty()) {
        for (absl::string_view key : absl::StrSplit(toAbsl(*text), ',')) {
          keys.emplace_back(key.data(), key.size());
        }
      }
    }
    std::sort(keys.begin(), keys.end());
    attributes.put(keys_attribute, otlp::Value::ofString(absl::StrJoin(keys, ",")));
  }
  if (config_.summary == Summary::kInfo || config_.summary == Summary::kDebug) {
    if (std::optional<size_t> existing = attributes.find(count_attribute)) {
      const otlp::Value previous = attributes.value(*existing);
      if (previous.kind() == otlp::Value::Kind::kInt) count += previous.integer();
    }
    attributes.put(count_attribute, otlp::Value::ofInt(count));
  }
}

bool Redactor::redactAttributes(otlp::AttributeList& attributes) const {
  if (attributes.empty()) return false;
  const bool summarize = config_.summary != Summary::kSilent;
  std::vector<std::string> redacted, masked, allowed, ignored;
  size_t removed = 0;
  bool changed = false;
  std::string rendered;
  // Most lists hold no blocked value: one pass over all their values joined says so, instead of
  // one search per value (each RE2 search takes a lock and sets up its DFA).
  bool may_block = !blocked_values_->empty();
  if (may_block && attributes.size() > 1 && blocked_values_->canTestJoined()) {
    thread_local std::string joined;
    joined.clear();
    for (size_t i = 0; i < attributes.size(); ++i) {
      if (std::optional<std::string_view> s = attributes.stringValue(i)) {
        joined.append(*s);
      } else if (config_.redact_all_types) {
        joined.append(otlp::valueAsString(attributes.value(i)));
      }
      joined.push_back('\n');
    }
    may_block = blocked_values_->mayMatchJoined(joined);
  }
  // When keys are neither removed, ignored nor masked by name and no value is allowed by pattern,
  // only blocked values can change the list.
  if (!may_block && only_values_matter_) return false;
  for (size_t i = 0; i < attributes.size(); ++i) {
    const std::string_view key = attributes.key(i);
    if (isIgnoredKey(key)) {
      if (summarize) ignored.emplace_back(key);
      continue;
    }
    if (isRemovedKey(key)) {
      redacted.emplace_back(key);
      ++removed;
      continue;
    }
    // The Collector reads the value as a string: other kinds read as "" unless redact_all_types.
    std::string_view text;
    if (std::optional<std::string_view> s = attributes.stringValue(i)) {
      text = *s;
    } else if (config_.redact_all_types) {
      rendered = otlp::valueAsString(attributes.value(i));
      text = rendered;
    }
    if (!allowed_values_->empty() && allowed_values_->matchesAny(text)) {
      if (summarize) allowed.emplace_back(key);
      continue;
    }
    if (!blocked_key_patterns_->empty() && blocked_key_patterns_->matchesAny(key)) {
      masked.emplace_back(key);
      attributes.setString(i, maskWhole(text));
      changed = true;
      continue;
    }
    if (!may_block) continue;
    if (std::optional<std::string> processed = maskBlockedValues(text)) {
      masked.emplace_back(key);
      attributes.setString(i, *processed);
      changed = true;
    }
  }
  if (removed != 0) {
    attributes.eraseIf(
        [this](std::string_view key) { return !isIgnoredKey(key) && isRemovedKey(key); });
    changed = true;
  }
  if (summarize) {
    const size_t before = attributes.size();
    addSummary(std::move(redacted), attributes, summary_keys::kRedactedKeys,
               summary_keys::kRedactedCount);
    addSummary(std::move(masked), attributes, summary_keys::kMaskedKeys,
               summary_keys::kMaskedCount);
    addSummary(std::move(allowed), attributes, summary_keys::kAllowedKeys,
               summary_keys::kAllowedCount);
    addSummary(std::move(ignored), attributes, "", summary_keys::kIgnoredCount);
    changed |= attributes.size() != before || attributes.changed();
  }
  return changed;
}

void Redactor::redactBodyValue(const std::string& path, otlp::Value& value,
                               std::vector<std::string>& redacted, std::vector<std::string>& masked,
                               std::vector<std::string>& allowed, std::vector<std::string>& ignored,
                               bool& changed) const {
  switch (value.kind()) {
    case otlp::Value::Kind::kMap: {
      otlp::Value::Map& entries = value.mutableMap();
      std::vector<std::string> removed_here;
      for (auto& [key, item] : entries) {
        // At the top of a map body the path is the key itself; below, "parent.key".
        const std::string key_path = path.empty() ? key : strCat(path, ".", key);
        if (isIgnoredKey(key)) {
          ignored.push_back(key_path);
          continue;
        }
        if (isRemovedKey(key)) {
          removed_here.push_back(key);
          continue;
        }
        if (!blocked_key_patterns_->empty() && blocked_key_patterns_->matchesAny(key)) {
          masked.push_back(key_path);
          const std::string text = item.kind() == otlp::Value::Kind::kString ? item.str() : "";
          item = otlp::Value::ofString(maskWhole(text));
          changed = true;
          continue;
        }
        redactBodyValue(key_path, item, redacted, masked, allowed, ignored, changed);
      }
      if (!removed_here.empty()) {
        std::erase_if(entries, [&](const auto& entry) {
          return std::find(removed_here.begin(), removed_here.end(), entry.first) !=
                 removed_here.end();
        });
        for (const std::string& key : removed_here) {
          redacted.push_back(path.empty() ? key : strCat(path, ".", key));
        }
        changed = true;
      }
      return;
    }
    case otlp::Value::Kind::kArray: {
      otlp::Value::Array& items = value.mutableArray();
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string item_path =
            path.empty() ? strCat("[", i, "]") : strCat(path, ".[", i, "]");
        redactBodyValue(item_path, items[i], redacted, masked, allowed, ignored, changed);
      }
      return;
    }
    default: {
      const std::string text = otlp::valueAsString(value);
      if (!allowed_values_->empty() && allowed_values_->matchesAny(text)) {
        allowed.push_back(path);
        return;
      }
      if (std::optional<std::string> processed = maskBlockedValues(text)) {
        masked.push_back(path);
        value = otlp::Value::ofString(*std::move(processed));
        changed = true;
      }
    }
  }
}

bool Redactor::redactBody(otlp::Value& body, otlp::AttributeList& attributes) const {
  std::vector<std::string> redacted, masked, allowed, ignored;
  bool changed = false;
  switch (body.kind()) {
    case otlp::Value::Kind::kMap:
    case otlp::Value::Kind::kArray:
      redactBodyValue("", body, redacted, masked, allowed, ignored, changed);
      break;
    default: {
      const std::string text = otlp::valueAsString(body);
      // The Collector returns here without a summary for an allowed scalar body.
      if (!allowed_values_->empty() && allowed_values_->matchesAny(text)) return false;
      if (std::optional<std::string> processed = maskBlockedValues(text)) {
        masked.push_back("body");
        body = otlp::Value::ofString(*std::move(processed));
        changed = true;
      }
    }
  }
  if (config_.summary != Summary::kSilent) {
    addSummary(std::move(redacted), attributes, summary_keys::kBodyRedactedKeys,
               summary_keys::kBodyRedactedCount);
    addSummary(std::move(masked), attributes, summary_keys::kBodyMaskedKeys,
               summary_keys::kBodyMaskedCount);
    addSummary(std::move(allowed), attributes, summary_keys::kBodyAllowedKeys,
               summary_keys::kBodyAllowedCount);
    addSummary(std::move(ignored), attributes, "", summary_keys::kBodyIgnoredCount);
  }
  return changed;
}

}  // namespace otlpd::processors::redaction
