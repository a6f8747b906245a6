// findAsset: embedded files, the app's routes, content types, and the development override
// directory refusing every way out of itself.
#include "ui/assets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace otlpd::ui {
namespace {

namespace fs = std::filesystem;

TEST(UiAssets, RootAndAppRoutesAnswerIndexHtmlThatIsNeverCached) {
  for (const char* path : {"/", "/index.html", "/search", "/search?service=a",
                           "/trace/0af7651916cd43dd8448eb211c80319c", "/logs", "/metrics",
                           "/dependencies", "/services", "/#/search"}) {
    SCOPED_TRACE(path);
    const std::optional<Asset> asset = findAsset(path);
    ASSERT_TRUE(asset.has_value());
    EXPECT_EQ(asset->content_type, "text/html; charset=utf-8");
    EXPECT_NE(asset->body.find("<!doctype html>"), std::string::npos);
    EXPECT_NE(asset->body.find("/static/app.js"), std::string::npos);
  }
}

TEST(UiAssets, StaticFilesHaveTheirContentType) {
  const std::optional<Asset> js = findAsset("/static/app.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("import"), std::string::npos);

  const std::optional<Asset> css = findAsset("/static/style.css?v=1");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");

  const std::optional<Asset> svg = findAsset("/static/favicon.svg");
  ASSERT_TRUE(svg.has_value());
  EXPECT_EQ(svg->content_type, "image/svg+xml");
}

TEST(UiAssets, EmbeddedCopyMatchesTheSourceTree) {
  std::ifstream in(fs::path(OTLPD_SOURCE_DIR) / "ui" / "app.js", std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::optional<Asset> js = findAsset("/static/app.js");
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->body, on_disk);
}

TEST(UiAssets, UnknownPathsAndTraversalAreRefused) {
  for (const char* path :
       {"", "nothing", "/api/services", "/unknown", "/static/", "/static/nope.js",
        "/static/../CMakeLists.txt", "/static/./app.js", "/static//app.js",
        "/static/%2e%2e/CMakeLists.txt", "/static/..\\CMakeLists.txt", "/static/.hidden",
        "/../ui/index.html", "/static/app.js/"}) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(findAsset(path).has_value());
  }
}

class UiAssetsOverride : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("otlpd-ui-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "ui" / "sub");
    write(root_ / "ui" / "index.html", "<!doctype html>dev index");
    write(root_ / "ui" / "app.js", "// dev app");
    write(root_ / "ui" / "sub" / "x.css", "a{}");
    write(root_ / "secret.txt", "secret");
    fs::create_symlink(root_ / "secret.txt", root_ / "ui" / "link.txt");
    fs::create_directory_symlink(root_, root_ / "ui" / "up");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  std::string dir() const { return (root_ / "ui").string(); }

  fs::path root_;
};

TEST_F(UiAssetsOverride, ServesFilesFromTheDirectory) {
  const std::optional<Asset> index = findAsset("/trace/abc", dir());
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->body, "<!doctype html>dev index");
  const std::optional<Asset> js = findAsset("/static/app.js", dir());
  ASSERT_TRUE(js.has_value());
  EXPECT_EQ(js->body, "// dev app");
  const std::optional<Asset> css = findAsset("/static/sub/x.css", dir());
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(findAsset("/static/sub", dir()).has_value());  // a directory is not a file
  EXPECT_FALSE(findAsset("/static/missing.js", dir()).has_value());
}

TEST_F(UiAssetsOverride, RefusesEscapesThroughDotsAndSymlinks) {
  EXPECT_FALSE(findAsset("/static/../secret.txt", dir()).has_value());
  EXPECT_FALSE(findAsset("/static/sub/../../secret.txt", dir()).has_value());
  EXPECT_FALSE(findAsset("/static/link.txt", dir()).has_value());
  EXPECT_FALSE(findAsset("/static/up/secret.txt", dir()).has_value());
  EXPECT_FALSE(findAsset("/", (root_ / "missing").string()).has_value());
}

}  // namespace
}  // namespace otlpd::ui
