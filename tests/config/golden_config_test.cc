// Golden files: every config under golden/valid must build with no error; every config under
// golden/invalid must produce exactly the errors in its .errors file, which is what
// `otlpd validate` prints. OTLPD_UPDATE_GOLDEN=1 rewrites the .errors files (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.h"
#include "pipeline/factory.h"
#include "server/builtin_components.h"
#include "server/service.h"

namespace otlpd::config {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(OTLPD_SOURCE_DIR) / "tests/config/golden";

// Builds a config the way `otlpd validate` does, with an empty environment so results do not
// depend on the machine.
std::string validate(const fs::path& file) {
  auto root = loadConfig({file.string()}, "");
  if (!root.ok()) return std::string(root.status().message());
  if (absl::Status s = expandEnv(*root, [](const std::string&) { return std::nullopt; }); !s.ok()) {
    return std::string(s.message());
  }
  pipeline::FactoryRegistry factories;
  server::registerBuiltinComponents(factories);
  ConfigErrors errors;
  auto service = server::Service::build(*root, factories, errors);
  EXPECT_EQ(service == nullptr, !errors.empty());
  return errors.toString();
}

std::vector<fs::path> yamlFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(GoldenConfig, ValidConfigsBuild) {
  const auto files = yamlFiles(kGoldenDir / "valid");
  ASSERT_GE(files.size(), 2u);
  for (const auto& file : files) {
    EXPECT_EQ(validate(file), "") << file;
  }
}

TEST(GoldenConfig, InvalidConfigsReportExactlyTheirErrors) {
  const auto files = yamlFiles(kGoldenDir / "invalid");
  ASSERT_GE(files.size(), 3u);
  const bool update = std::getenv("OTLPD_UPDATE_GOLDEN") != nullptr;
  for (const auto& file : files) {
    const std::string actual = validate(file) + "\n";
    fs::path expected_file = file;
    expected_file.replace_extension(".errors");
    if (update) {
      std::ofstream(expected_file) << actual;
      continue;
    }
    std::ifstream in(expected_file);
    ASSERT_TRUE(in.good()) << "missing " << expected_file;
    std::stringstream expected;
    expected << in.rdbuf();
    EXPECT_EQ(actual, expected.str()) << file;
    EXPECT_GT(actual.size(), 1u) << file << " should not be valid";
  }
}

}  // namespace
}  // namespace otlpd::config
