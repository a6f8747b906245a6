// Config documents whose tree never ends or explodes once aliases are expanded are refused when
// parsed, before any walk of the config recurses through them (the config fuzz target found an
// alias inside the node it names overflowing the stack in env expansion).
#include "config/loader.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace otlpd::config {
namespace {

TEST(ConfigLoader, AnAliasInsideTheNodeItNamesIsRefused) {
  auto root = parseYaml("receivers: &r\n  otlp: [*r]\n", "self.yaml");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(std::string(root.status().message()).find("self.yaml: nested deeper than"),
            std::string::npos)
      << root.status();
}

TEST(ConfigLoader, AliasesThatGrowExponentiallyAreRefused) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    absl::StrAppend(&yaml, "a", i, ": &a", i, " [*a", i - 1);
    for (int k = 1; k < 10; ++k) absl::StrAppend(&yaml, ", *a", i - 1);
    yaml += "]\n";
  }
  auto root = parseYaml(yaml, "laughs.yaml");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(std::string(root.status().message()).find("nodes once aliases are expanded"),
            std::string::npos)
      << root.status();
}

TEST(ConfigLoader, OrdinaryAnchorsAndDepthAreAccepted) {
  auto root = parseYaml(
      "common: &common {endpoint: localhost:4317}\n"
      "receivers:\n  otlp:\n    protocols:\n      grpc: *common\n      http: *common\n",
      "ok.yaml");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE(expandEnv(*root, [](const std::string&) { return std::nullopt; }).ok());
}

TEST(ConfigLoader, ASetValueIsCheckedToo) {
  auto root = parseYaml("receivers: {}\n", "x.yaml");
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(applySet(*root, "a.b=&x [*x]").ok());
  EXPECT_TRUE(applySet(*root, "a.b=[1, 2]").ok());
}

}  // namespace
}  // namespace otlpd::config
