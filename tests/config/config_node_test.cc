#include "config/config_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"

namespace otlpd::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ConfigNode nodeFor(const std::string& yaml, ConfigErrors& errors) {
  auto root = parseYaml(yaml, "test");
  EXPECT_TRUE(root.ok()) << root.status();
  return ConfigNode(*root, "receivers.x", errors);
}

TEST(ConfigNode, ReadsTypedValuesWithDefaults) {
  ConfigErrors errors;
  ConfigNode n = nodeFor("a: hello\nb: 42\nc: true\nd: 250ms\ne: [x, y]\nf: 1.5\ng: 7\n", errors);
  EXPECT_EQ(n.getString("a", ""), "hello");
  EXPECT_EQ(n.getInt("b", 0), 42);
  EXPECT_TRUE(n.getBool("c", false));
  EXPECT_EQ(n.getDuration("d", absl::ZeroDuration()), absl::Milliseconds(250));
  EXPECT_THAT(n.getStringList("e"), ElementsAre("x", "y"));
  EXPECT_DOUBLE_EQ(n.getDouble("f", 0), 1.5);
  EXPECT_EQ(n.getDuration("g", absl::ZeroDuration()), absl::Seconds(7));
  EXPECT_EQ(n.getString("missing", "dflt"), "dflt");
  EXPECT_EQ(n.getInt("also_missing", -3), -3);
  n.rejectUnknownKeys();
  EXPECT_TRUE(errors.empty()) << errors.toString();
}

TEST(ConfigNode, NullValuesCountAsAbsent) {
  ConfigErrors errors;
  ConfigNode n = nodeFor("a:\nb: ~\n", errors);
  EXPECT_EQ(n.getString("a", "dflt"), "dflt");
  EXPECT_EQ(n.getInt("b", 5), 5);
  EXPECT_TRUE(errors.empty());
}

TEST(ConfigNode, WrongTypesAreReportedWithPathAndPosition) {
  ConfigErrors errors;
  ConfigNode n =
      nodeFor("port: abc\nsize: 99\nflag: maybe\nwait: soon\nlist: 3\nnested: [1]\n", errors);
  n.getInt("port", 0);
  n.getInt("size", 0, 0, 10);
  n.getBool("flag", false);
  n.getDuration("wait", absl::ZeroDuration());
  n.getStringList("list");
  n.child("nested");
  ASSERT_EQ(errors.size(), 6u) << errors.toString();
  EXPECT_EQ(errors.all()[0].toString(),
            "receivers.x.port (line 1:7): must be an integer, got 'abc'");
  EXPECT_EQ(errors.all()[1].toString(),
            "receivers.x.size (line 2:7): must be between 0 and 10, got 99");
  EXPECT_THAT(errors.all()[2].toString(), HasSubstr("flag (line 3:7): must be true or false"));
  EXPECT_THAT(errors.all()[3].toString(), HasSubstr("invalid duration 'soon'"));
  EXPECT_THAT(errors.all()[4].toString(), HasSubstr("list (line 5:7): must be a list"));
  EXPECT_THAT(errors.all()[5].toString(), HasSubstr("nested (line 6:9): must be a mapping"));
}

TEST(ConfigNode, UnknownKeysAreReported) {
  ConfigErrors errors;
  ConfigNode n = nodeFor("endpoint: x\nendpiont: y\n", errors);
  n.getString("endpoint", "");
  n.rejectUnknownKeys();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.all()[0].toString(), "receivers.x.endpiont (line 2:1): unknown key");
  EXPECT_FALSE(errors.toStatus().ok());
}

TEST(ParseDuration, GoSyntax) {
  EXPECT_EQ(*parseDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*parseDuration("200ms"), absl::Milliseconds(200));
  EXPECT_EQ(*parseDuration("10"), absl::Seconds(10));
  EXPECT_FALSE(parseDuration("-1s").ok());
  EXPECT_FALSE(parseDuration("").ok());
  EXPECT_FALSE(parseDuration("5 parsecs").ok());
}

TEST(Loader, SyntaxErrorsNameTheSourceAndPosition) {
  auto r = parseYaml("a: [1, 2\nb: 3\n", "my.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("my.yaml (line "));
  EXPECT_FALSE(parseYaml("- a\n- b\n", "list.yaml").ok());
}

TEST(Loader, MergeReplacesScalarsAndListsAndMergesMaps) {
  auto base = *parseYaml("a: {x: 1, y: [1, 2]}\nb: 2\n", "base");
  auto over = *parseYaml("a: {y: [3], z: 4}\nc: 5\n", "over");
  YAML::Node m = mergeYaml(base, over);
  EXPECT_EQ(m["a"]["x"].as<int>(), 1);
  EXPECT_EQ(m["a"]["y"].size(), 1u);
  EXPECT_EQ(m["a"]["y"][0].as<int>(), 3);
  EXPECT_EQ(m["a"]["z"].as<int>(), 4);
  EXPECT_EQ(m["b"].as<int>(), 2);
  EXPECT_EQ(m["c"].as<int>(), 5);
  // The inputs are not modified.
  EXPECT_EQ(base["a"]["y"].size(), 2u);
}

TEST(Loader, SetOverridesNestedValues) {
  YAML::Node root = *parseYaml("receivers: {otlp: {protocols: {grpc: {endpoint: a:1}}}}", "t");
  ASSERT_TRUE(applySet(root, "receivers.otlp.protocols.grpc.endpoint=0.0.0.0:4317").ok());
  ASSERT_TRUE(applySet(root, "exporters.debug.verbosity=detailed").ok());
  EXPECT_EQ(root["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].as<std::string>(),
            "0.0.0.0:4317");
  EXPECT_EQ(root["exporters"]["debug"]["verbosity"].as<std::string>(), "detailed");
  EXPECT_FALSE(applySet(root, "no-equals-sign").ok());
  EXPECT_FALSE(applySet(root, "a..b=1").ok());
}

TEST(Loader, NoFilesMeansTheEmbeddedDefault) {
  auto r = loadConfig({}, "service: {}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)["service"].IsMap());
  EXPECT_FALSE(loadConfig({"/nonexistent/otlpd.yaml"}, "").ok());
}

}  // namespace
}  // namespace otlpd::config

namespace otlpd::config {
namespace {

std::optional<std::string> fakeEnv(const std::string& name) {
  if (name == "PORT") return "4317";
  if (name == "EMPTY") return "";
  return std::nullopt;
}

TEST(ExpandEnv, AllReferenceFormsInValuesNotKeys) {
  YAML::Node root = *parseYaml(R"(
a: ${env:PORT}
b: host:${PORT}
c: ${env:MISSING:-fallback}
d: ${env:EMPTY:-used-when-empty}
e: ${env:MISSING}
f: cost $$5 and $HOME stays
${env:PORT}: key-not-expanded
list: ["x-${env:PORT}"]
)",
                               "t");
  ASSERT_TRUE(expandEnv(root, fakeEnv).ok());
  EXPECT_EQ(root["a"].as<std::string>(), "4317");
  EXPECT_EQ(root["b"].as<std::string>(), "host:4317");
  EXPECT_EQ(root["c"].as<std::string>(), "fallback");
  EXPECT_EQ(root["d"].as<std::string>(), "used-when-empty");
  EXPECT_EQ(root["e"].as<std::string>(), "");
  EXPECT_EQ(root["f"].as<std::string>(), "cost $5 and $HOME stays");
  EXPECT_EQ(root["${env:PORT}"].as<std::string>(), "key-not-expanded");
  EXPECT_EQ(root["list"][0].as<std::string>(), "x-4317");
}

TEST(ExpandEnv, MalformedReferencesNameThePath) {
  YAML::Node unterminated = *parseYaml("a:\n  b: ${env:PORT\n", "t");
  absl::Status s = expandEnv(unterminated, fakeEnv);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("a.b (line 2:6): unterminated '${'"));
  YAML::Node bad_name = *parseYaml("a: ${env:1X}\n", "t");
  EXPECT_FALSE(expandEnv(bad_name, fakeEnv).ok());
}

}  // namespace
}  // namespace otlpd::config
