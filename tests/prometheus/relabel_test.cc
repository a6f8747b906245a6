#include "prometheus/relabel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>

namespace otlpd::prometheus {
namespace {

using ::testing::HasSubstr;
using Labels = std::map<std::string, std::string>;

std::vector<RelabelRule> rules(const std::string& yaml, config::ConfigErrors& errors) {
  config::ConfigNode node(YAML::Load("rules: " + yaml), "relabel", errors);
  return readRelabelRules(node, "rules");
}

std::vector<RelabelRule> rules(const std::string& yaml) {
  config::ConfigErrors errors;
  auto r = rules(yaml, errors);
  EXPECT_TRUE(errors.empty()) << errors.toString();
  return r;
}

// nullopt when the set was dropped.
std::optional<Labels> applyRules(const std::vector<RelabelRule>& r, const Labels& in) {
  RelabelLabels b;
  for (const auto& [n, v] : in) b.add(n, v);
  if (!relabel(r, b)) return std::nullopt;
  Labels out;
  for (const auto& [n, v] : b.sorted()) out[std::string(n)] = std::string(v);
  return out;
}

TEST(RelabelTest, ReplaceWithGroupsAndDefaults) {
  auto r = rules(R"y([{source_labels: [a, b], regex: "(.*);(.*)", target_label: c,
                    replacement: "${2}-${1}"}])y");
  EXPECT_EQ(applyRules(r, {{"a", "x"}, {"b", "y"}}),
            (Labels{{"a", "x"}, {"b", "y"}, {"c", "y-x"}}));
  // The default regex (.*) and replacement $1 copy the joined value.
  EXPECT_EQ(
      applyRules(rules("[{source_labels: [a, b], target_label: c}]"), {{"a", "x"}, {"b", "y"}}),
      (Labels{{"a", "x"}, {"b", "y"}, {"c", "x;y"}}));
  // A custom separator.
  EXPECT_EQ(applyRules(rules("[{source_labels: [a, b], separator: '/', target_label: c}]"),
                       {{"a", "x"}, {"b", "y"}}),
            (Labels{{"a", "x"}, {"b", "y"}, {"c", "x/y"}}));
}

TEST(RelabelTest, RegexIsAnchoredAtBothEnds) {
  auto r = rules("[{source_labels: [a], regex: 'o+', target_label: b, replacement: hit}]");
  EXPECT_EQ(applyRules(r, {{"a", "foo"}}), (Labels{{"a", "foo"}}));  // no match: unchanged
  EXPECT_EQ(applyRules(r, {{"a", "oo"}}), (Labels{{"a", "oo"}, {"b", "hit"}}));
}

TEST(RelabelTest, ReplaceToEmptyDeletesAndTargetTemplates) {
  EXPECT_EQ(applyRules(rules("[{source_labels: [missing], target_label: a}]"), {{"a", "x"}}),
            (Labels{}));
  // The target name from a group.
  EXPECT_EQ(applyRules(rules("[{source_labels: [a], regex: '(\\w+)=(\\w+)', target_label: '$1', "
                             "replacement: '$2'}]"),
                       {{"a", "env=prod"}}),
            (Labels{{"a", "env=prod"}, {"env", "prod"}}));
  // An expansion that is not a label name changes nothing.
  EXPECT_EQ(applyRules(rules("[{source_labels: [a], regex: '(.*)', target_label: '$1'}]"),
                       {{"a", "1bad"}}),
            (Labels{{"a", "1bad"}}));
}

TEST(RelabelTest, GoExpandSemantics) {
  const Labels in = {{"a", "foo"}};
  auto with = [&](const std::string& replacement) {
    return applyRules(rules("[{source_labels: [a], regex: '(?P<word>f)(o+)', target_label: b, "
                            "replacement: '" +
                            replacement + "'}]"),
                      in)
        ->at("b");
  };
  EXPECT_EQ(with("${1}x"), "fx");
  EXPECT_EQ(with("${word}-$2"), "f-oo");
  EXPECT_EQ(with("$$1"), "$1");
  EXPECT_EQ(with("a$"), "a$");
  EXPECT_EQ(with("<$1x>"), "<>");  // $1x names the group "1x", which does not exist
  EXPECT_EQ(with("${9}z"), "z");
}

TEST(RelabelTest, KeepAndDrop) {
  auto keep = rules("[{source_labels: [env], regex: 'prod|staging', action: keep}]");
  EXPECT_TRUE(applyRules(keep, {{"env", "prod"}}).has_value());
  EXPECT_FALSE(applyRules(keep, {{"env", "dev"}}).has_value());
  EXPECT_FALSE(applyRules(keep, {}).has_value());  // a missing label is ""
  auto drop = rules("[{source_labels: [__name__], regex: 'go_.*', action: DROP}]");
  EXPECT_FALSE(applyRules(drop, {{"__name__", "go_goroutines"}}).has_value());
  EXPECT_TRUE(applyRules(drop, {{"__name__", "up"}}).has_value());
}

TEST(RelabelTest, HashMod) {
  // MD5's low 8 bytes as a big-endian integer, modulo: the value Prometheus computes.
  EXPECT_EQ(hashMod("baz", 1000), 976u);
  auto r = rules("[{source_labels: [c], target_label: d, modulus: 1000, action: hashmod}]");
  EXPECT_EQ(applyRules(r, {{"c", "baz"}})->at("d"), "976");
}

TEST(RelabelTest, LabelMapDropKeep) {
  EXPECT_EQ(applyRules(rules("[{regex: '__meta_(.+)', replacement: 'm_$1', action: labelmap}]"),
                       {{"__meta_zone", "a"}, {"__meta_rack", "7"}, {"x", "1"}}),
            (Labels{{"__meta_rack", "7"},
                    {"__meta_zone", "a"},
                    {"m_rack", "7"},
                    {"m_zone", "a"},
                    {"x", "1"}}));
  EXPECT_EQ(applyRules(rules("[{regex: 'tmp_.*', action: labeldrop}]"),
                       {{"tmp_a", "1"}, {"tmp_b", "2"}, {"keep", "3"}}),
            (Labels{{"keep", "3"}}));
  EXPECT_EQ(applyRules(rules("[{regex: '__name__|job', action: labelkeep}]"),
                       {{"__name__", "m"}, {"job", "j"}, {"pod", "p"}}),
            (Labels{{"__name__", "m"}, {"job", "j"}}));
}

TEST(RelabelTest, CaseAndEquality) {
  EXPECT_EQ(applyRules(rules("[{source_labels: [a], target_label: b, action: lowercase}]"),
                       {{"a", "MiXed"}})
                ->at("b"),
            "mixed");
  EXPECT_EQ(applyRules(rules("[{source_labels: [a], target_label: b, action: uppercase}]"),
                       {{"a", "MiXed"}})
                ->at("b"),
            "MIXED");
  auto keepequal = rules("[{source_labels: [a], target_label: b, action: keepequal}]");
  EXPECT_TRUE(applyRules(keepequal, {{"a", "1"}, {"b", "1"}}).has_value());
  EXPECT_FALSE(applyRules(keepequal, {{"a", "1"}, {"b", "2"}}).has_value());
  auto dropequal = rules("[{source_labels: [a], target_label: b, action: dropequal}]");
  EXPECT_FALSE(applyRules(dropequal, {{"a", "1"}, {"b", "1"}}).has_value());
}

TEST(RelabelTest, RulesApplyInOrderAndStopAtADrop) {
  auto r = rules(R"([{source_labels: [a], target_label: b},
                     {source_labels: [b], regex: x, action: drop},
                     {source_labels: [a], target_label: c}])");
  EXPECT_FALSE(applyRules(r, {{"a", "x"}}).has_value());
  EXPECT_EQ(applyRules(r, {{"a", "y"}}), (Labels{{"a", "y"}, {"b", "y"}, {"c", "y"}}));
}

TEST(RelabelTest, ConfigErrorsNameTheirPath) {
  config::ConfigErrors errors;
  rules(R"([{action: explode},
           {action: replace},
           {action: hashmod, target_label: t},
           {regex: '(unclosed', target_label: t},
           {action: labeldrop, regex: x, target_label: t},
           {source_labels: ['1x'], target_label: t},
           {target_label: t, bogus: 1}])",
        errors);
  // Each error on its own line: the path, its position in the YAML, the message.
  auto has = [&](const std::string& path, const std::string& message) {
    for (const auto& e : errors.all()) {
      if (e.path == path && e.message.find(message) != std::string::npos && e.line > 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("relabel.rules[0].action", "unknown relabel action \"explode\""))
      << errors.toString();
  EXPECT_TRUE(has("relabel.rules[1].target_label", "replace needs a target_label"));
  EXPECT_TRUE(has("relabel.rules[2].modulus", "hashmod needs a modulus above 0"));
  EXPECT_TRUE(has("relabel.rules[3].regex", "invalid regular expression"));
  EXPECT_TRUE(has("relabel.rules[4].action", "labeldrop takes only a regex"));
  EXPECT_TRUE(has("relabel.rules[5].source_labels", "\"1x\" is not a label name"));
  EXPECT_TRUE(has("relabel.rules[6].bogus", "unknown key"));
  EXPECT_EQ(errors.size(), 7u);
}

}  // namespace
}  // namespace otlpd::prometheus
