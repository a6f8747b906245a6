#include "prometheus/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace otlpd::prometheus {
namespace {

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's regexp.Expand: `$$` is a dollar, `$name`/`${name}` a group by number or name (missing
// groups expand to nothing), and a `$` that starts no reference is kept as written.
void expand(std::string_view tmpl, const re2::RE2& re, const std::vector<re2::StringPiece>& groups,
            std::string& out) {
  out.clear();
  while (!tmpl.empty()) {
    const size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) {
      out.append(tmpl);
      return;
    }
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar);
    if (tmpl.size() > 1 && tmpl[1] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(2);
      continue;
    }
    size_t i = 1;
    const bool brace = i < tmpl.size() && tmpl[i] == '{';
    if (brace) ++i;
    const size_t name_begin = i;
    while (i < tmpl.size() && isWordChar(tmpl[i])) ++i;
    const std::string_view name = tmpl.substr(name_begin, i - name_begin);
    if (name.empty() || (brace && (i >= tmpl.size() || tmpl[i] != '}'))) {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    if (brace) ++i;
    tmpl.remove_prefix(i);
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num < 0) {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it == named.end()) continue;
      num = it->second;
    }
    if (static_cast<size_t>(num) < groups.size() && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
  }
}

bool matchGroups(const re2::RE2& re, std::string_view text, std::vector<re2::StringPiece>& groups) {
  groups.assign(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1, re2::StringPiece());
  return re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::ANCHOR_BOTH,
                  groups.data(), static_cast<int>(groups.size()));
}

bool fullMatch(const re2::RE2& re, std::string_view text) {
  return re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::ANCHOR_BOTH,
                  nullptr, 0);
}

// Prometheus's grammar for replace's target_label: label name characters and `$` references.
bool validTargetTemplate(std::string_view t) {
  static const re2::RE2 kTemplate(R"((?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+)");
  return fullMatch(kTemplate, t);
}

std::optional<RelabelAction> parseAction(std::string_view text) {
  // Prometheus lower-cases the action before matching it.
  const std::string lower = absl::AsciiStrToLower(toAbsl(text));
  static const std::map<std::string, RelabelAction, std::less<>> kActions = {
      {"replace", RelabelAction::kReplace},     {"keep", RelabelAction::kKeep},
      {"drop", RelabelAction::kDrop},           {"hashmod", RelabelAction::kHashMod},
      {"labelmap", RelabelAction::kLabelMap},   {"labeldrop", RelabelAction::kLabelDrop},
      {"labelkeep", RelabelAction::kLabelKeep}, {"lowercase", RelabelAction::kLowercase},
      {"uppercase", RelabelAction::kUppercase}, {"keepequal", RelabelAction::kKeepEqual},
      {"dropequal", RelabelAction::kDropEqual}};
  auto it = kActions.find(lower);
  if (it == kActions.end()) return std::nullopt;
  return it->second;
}

std::string joinSources(const RelabelRule& rule, const RelabelLabels& labels) {
  std::string value;
  for (size_t i = 0; i < rule.source_labels.size(); ++i) {
    if (i > 0) value.append(rule.separator);
    value.append(labels.get(rule.source_labels[i]));
  }
  return value;
}

}  // namespace

bool validLabelName(std::string_view name) {
  if (name.empty()) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
        name[0] == '_')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), isWordChar);
}

uint64_t hashMod(std::string_view text, uint64_t modulus) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | digest[i];
  return modulus == 0 ? 0 : v % modulus;
}

std::string_view RelabelLabels::get(std::string_view name) const {
  for (const auto& [n, v] : labels_) {
    if (n == name) return v;
  }
  return {};
}

bool RelabelLabels::has(std::string_view name) const {
  return std::any_of(labels_.begin(), labels_.end(),
                     [&](const auto& l) { return l.first == name; });
}

void RelabelLabels::set(std::string_view name, std::string_view value) {
  if (value.empty()) {
    del(name);
    return;
  }
  for (auto& [n, v] : labels_) {
    if (n == name) {
      v = value;
      return;
    }
  }
  labels_.emplace_back(name, value);
}

void RelabelLabels::setOwned(std::string name, std::string value) {
  if (value.empty()) {
    del(name);
    return;
  }
  const std::string_view v = keep(std::move(value));
  for (auto& [n, old] : labels_) {
    if (n == name) {
      old = v;
      return;
    }
  }
  labels_.emplace_back(keep(std::move(name)), v);
}

void RelabelLabels::del(std::string_view name) {
  labels_.erase(std::remove_if(labels_.begin(), labels_.end(),
                               [&](const auto& l) { return l.first == name; }),
                labels_.end());
}

const std::vector<std::pair<std::string_view, std::string_view>>& RelabelLabels::sorted() {
  std::sort(labels_.begin(), labels_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return labels_;
}

bool relabel(const std::vector<RelabelRule>& rules, RelabelLabels& labels) {
  std::vector<re2::StringPiece> groups;
  std::string scratch;
  for (const RelabelRule& rule : rules) {
    const re2::RE2& re = *rule.regex;
    switch (rule.action) {
      case RelabelAction::kKeep:
        if (!fullMatch(re, joinSources(rule, labels))) return false;
        break;
      case RelabelAction::kDrop:
        if (fullMatch(re, joinSources(rule, labels))) return false;
        break;
      case RelabelAction::kKeepEqual:
        if (joinSources(rule, labels) != labels.get(rule.target_label)) return false;
        break;
      case RelabelAction::kDropEqual:
        if (joinSources(rule, labels) == labels.get(rule.target_label)) return false;
        break;
      case RelabelAction::kReplace: {
        const std::string value = joinSources(rule, labels);
        if (!matchGroups(re, value, groups)) break;
        std::string target;
        expand(rule.target_label, re, groups, target);
        if (!validLabelName(target)) break;
        expand(rule.replacement, re, groups, scratch);
        labels.setOwned(std::move(target), scratch);
        break;
      }
      case RelabelAction::kLowercase:
        labels.setOwned(rule.target_label, absl::AsciiStrToLower(joinSources(rule, labels)));
        break;
      case RelabelAction::kUppercase:
        labels.setOwned(rule.target_label, absl::AsciiStrToUpper(joinSources(rule, labels)));
        break;
      case RelabelAction::kHashMod:
        labels.setOwned(rule.target_label,
                        std::to_string(hashMod(joinSources(rule, labels), rule.modulus)));
        break;
      case RelabelAction::kLabelMap: {
        // Over the labels as they were before this rule, as Prometheus ranges over them.
        const auto before = labels.labels();
        for (const auto& [name, value] : before) {
          if (!matchGroups(re, name, groups)) continue;
          expand(rule.replacement, re, groups, scratch);
          labels.setOwned(scratch, std::string(value));
        }
        break;
      }
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep: {
        const bool keep_matching = rule.action == RelabelAction::kLabelKeep;
        std::vector<std::string_view> doomed;
        for (const auto& [name, value] : labels.labels()) {
          if (fullMatch(re, name) != keep_matching) doomed.push_back(name);
        }
        for (std::string_view name : doomed) labels.del(name);
        break;
      }
    }
  }
  return true;
}

std::vector<RelabelRule> readRelabelRules(config::ConfigNode& parent, std::string_view key) {
  std::vector<RelabelRule> rules;
  for (config::ConfigNode& node : parent.getMappingList(key)) {
    RelabelRule rule;
    const std::string action_text = node.getString("action", "replace");
    const std::optional<RelabelAction> action = parseAction(action_text);
    if (!action) {
      node.addError("action", strCat("unknown relabel action \"", action_text,
                                     "\" (replace, keep, drop, hashmod, labelmap, labeldrop, "
                                     "labelkeep, lowercase, uppercase, keepequal, dropequal)"));
      node.rejectUnknownKeys();
      continue;
    }
    rule.action = *action;
    const bool has_sources = node.has("source_labels"), has_target = node.has("target_label"),
               has_regex = node.has("regex"), has_replacement = node.has("replacement"),
               has_modulus = node.has("modulus"), has_separator = node.has("separator");
    rule.source_labels = node.getStringList("source_labels");
    for (const std::string& name : rule.source_labels) {
      if (!validLabelName(name))
        node.addError("source_labels", strCat("\"", name, "\" is not a label name"));
    }
    rule.separator = node.getString("separator", rule.separator);
    rule.target_label = node.getString("target_label", "");
    rule.replacement = node.getString("replacement", rule.replacement);
    const int64_t modulus = node.getInt("modulus", 0, 0);
    rule.modulus = static_cast<uint64_t>(modulus);
    const std::string pattern = node.getString("regex", "(.*)");
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto regex = std::make_shared<re2::RE2>(pattern, options);
    if (!regex->ok()) {
      node.addError("regex", strCat("invalid regular expression: ", regex->error()));
    }
    rule.regex = std::move(regex);

    switch (rule.action) {
      case RelabelAction::kReplace:
        if (rule.target_label.empty()) {
          node.addError("target_label", "replace needs a target_label");
        } else if (!validTargetTemplate(rule.target_label)) {
          node.addError("target_label",
                        strCat("\"", rule.target_label, "\" is not a label name or template"));
        }
        break;
      case RelabelAction::kHashMod:
      case RelabelAction::kLowercase:
      case RelabelAction::kUppercase:
      case RelabelAction::kKeepEqual:
      case RelabelAction::kDropEqual:
        if (rule.target_label.empty()) {
          node.addError("target_label", strCat(action_text, " needs a target_label"));
        } else if (!validLabelName(rule.target_label)) {
          node.addError("target_label", strCat("\"", rule.target_label, "\" is not a label name"));
        }
        if (rule.action == RelabelAction::kHashMod && modulus == 0) {
          node.addError("modulus", "hashmod needs a modulus above 0");
        }
        if ((rule.action == RelabelAction::kKeepEqual ||
             rule.action == RelabelAction::kDropEqual) &&
            (has_regex || has_replacement || has_modulus)) {
          node.addError("action", strCat(action_text,
                                         " takes only source_labels, separator and "
                                         "target_label"));
        }
        break;
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep:
        if (has_sources || has_target || has_replacement || has_modulus || has_separator) {
          node.addError("action", strCat(action_text, " takes only a regex"));
        }
        break;
      case RelabelAction::kKeep:
      case RelabelAction::kDrop:
      case RelabelAction::kLabelMap:
        break;
    }
    node.rejectUnknownKeys();
    rules.push_back(std::move(rule));
  }
  return rules;
}

}  // namespace otlpd::prometheus
