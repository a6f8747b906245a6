// Prometheus relabeling (`relabel_configs`, `metric_relabel_configs`): rules applied in order to
// a label set, each able to rewrite it or drop it. Regexes are RE2, anchored at both ends as
// Prometheus anchors them; replacements expand `$1`, `${1}`, `$name`, `${name}` as Go's
// regexp.Expand does. Pure.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_node.h"

namespace re2 {
class RE2;
}

namespace otlpd::prometheus {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
  kKeepEqual,
  kDropEqual,
};

struct RelabelRule {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string target_label;
  std::shared_ptr<const re2::RE2> regex;  // never null once read
  uint64_t modulus = 0;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
};

// Reads the list of relabel_config mappings under `key` (absent: none). Every problem (unknown
// action, bad regex, a missing target_label or modulus, keys an action does not take) is reported
// on the node with its path.
std::vector<RelabelRule> readRelabelRules(config::ConfigNode& parent, std::string_view key);

// A label set being relabeled: names and values are views (into a parsed body, a target's labels)
// or strings the builder owns, so the common case copies nothing.
class RelabelLabels {
 public:
  // Forgets the labels; strings it made stay valid until clearStorage().
  void clear() { labels_.clear(); }
  void clearStorage() {
    labels_.clear();
    owned_.clear();
  }
  // Adds without checking for an existing name (the caller's labels are unique).
  void add(std::string_view name, std::string_view value) { labels_.emplace_back(name, value); }
  // "" when absent, as Prometheus reads a missing label.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  // An empty value deletes, as in Prometheus.
  void set(std::string_view name, std::string_view value);
  void setOwned(std::string name, std::string value);
  void del(std::string_view name);
  // The labels, sorted by name (views valid until the next change).
  const std::vector<std::pair<std::string_view, std::string_view>>& sorted();
  const std::vector<std::pair<std::string_view, std::string_view>>& labels() const {
    return labels_;
  }

 private:
  std::string_view keep(std::string s) { return owned_.emplace_back(std::move(s)); }
  std::vector<std::pair<std::string_view, std::string_view>> labels_;
  std::deque<std::string> owned_;
};

// Applies `rules` in order; false when a rule dropped the set (the labels are then meaningless).
bool relabel(const std::vector<RelabelRule>& rules, RelabelLabels& labels);

// Prometheus's label name grammar: [a-zA-Z_][a-zA-Z0-9_]*.
bool validLabelName(std::string_view name);

// The hashmod value of `text`: the low 8 bytes of its MD5, big-endian, modulo `modulus`.
uint64_t hashMod(std::string_view text, uint64_t modulus);

}  // namespace otlpd::prometheus
