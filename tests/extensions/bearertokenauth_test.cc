#include "extensions/bearertokenauth/bearertokenauth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auth_test_support.h"

namespace otlpd::extensions::bearertokenauth {
namespace {

using testing::authenticate;
using testing::makeExtension;

struct Bearer {
  std::unique_ptr<pipeline::Extension> extension;
  pipeline::ServerAuthenticator* server = nullptr;
  pipeline::ClientAuthenticator* client = nullptr;
};

Bearer make(const std::string& yaml) {
  auto made = makeExtension(*makeBearerTokenAuthFactory(), yaml);
  EXPECT_EQ(made.errors, "") << yaml;
  Bearer b;
  b.extension = std::move(made.extension);
  b.server = dynamic_cast<pipeline::ServerAuthenticator*>(b.extension.get());
  b.client = dynamic_cast<pipeline::ClientAuthenticator*>(b.extension.get());
  return b;
}

std::string errorsOf(const std::string& yaml) {
  return makeExtension(*makeBearerTokenAuthFactory(), yaml).errors;
}

TEST(BearerTokenAuth, AcceptsTheTokenWithItsSchemeAndNothingElse) {
  Bearer b = make("token: s3cr3t");
  ASSERT_NE(b.server, nullptr);
  ASSERT_NE(b.client, nullptr);
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer s3cr3t"}}), "ok");
  // The scheme is matched without regard to case (RFC 9110); the token exactly.
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "bearer s3cr3t"}}), "ok");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer S3CR3T"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer s3cr3"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer s3cr3tX"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Basic s3cr3t"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "s3cr3t"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer"}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {}), "refused");
  EXPECT_EQ(b.server->challenge(), "Bearer realm=\"otlpd\"");
  EXPECT_EQ(b.server->credentialsHeader(), "authorization");
  EXPECT_EQ(b.client->requestHeaders(),
            (std::vector<std::pair<std::string, std::string>>{{"authorization", "Bearer s3cr3t"}}));
}

TEST(BearerTokenAuth, NamedTokensGiveTheClientASubject) {
  Bearer b = make(R"(tokens:
  - {token: tok-a, name: tenant-a}
  - tok-plain
  - {token: tok-b, name: tenant-b}
)");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer tok-a"}}), "ok subject=tenant-a");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer tok-b"}}), "ok subject=tenant-b");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer tok-plain"}}), "ok");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer tenant-a"}}), "refused");
  // A client sends the first token.
  EXPECT_EQ(b.client->requestHeaders()[0].second, "Bearer tok-a");
}

TEST(BearerTokenAuth, CustomHeaderAndSchemes) {
  Bearer raw = make("{token: abc, header: X-Api-Key, scheme: ''}");
  EXPECT_EQ(raw.server->credentialsHeader(), "x-api-key");
  EXPECT_EQ(authenticate(*raw.server, {{"x-api-key", " abc "}}), "ok");
  EXPECT_EQ(authenticate(*raw.server, {{"x-api-key", "Bearer abc"}}), "refused");
  EXPECT_EQ(authenticate(*raw.server, {{"authorization", "abc"}}), "refused");
  EXPECT_EQ(raw.client->requestHeaders(),
            (std::vector<std::pair<std::string, std::string>>{{"x-api-key", "abc"}}));
  Bearer custom = make("{token: abc, scheme: Token}");
  EXPECT_EQ(authenticate(*custom.server, {{"authorization", "Token abc"}}), "ok");
  EXPECT_EQ(authenticate(*custom.server, {{"authorization", "Bearer abc"}}), "refused");
  EXPECT_EQ(custom.server->challenge(), "Token realm=\"otlpd\"");
}

TEST(BearerTokenAuth, ConfigErrors) {
  EXPECT_EQ(errorsOf("{}"),
            "extensions.auth.token (line 1:1): one of token, tokens or filename is required");
  EXPECT_EQ(errorsOf("{token: a, tokens: [b]}"),
            "extensions.auth.tokens (line 1:20): set either token or tokens, not both");
  EXPECT_EQ(errorsOf("{tokens: [a, {name: x}, [1]]}"),
            "extensions.auth.tokens[1] (line 1:14): must be a token, or a mapping with a token and "
            "a name\n"
            "extensions.auth.tokens[2] (line 1:25): must be a token, or a mapping with a token and "
            "a name");
  EXPECT_EQ(errorsOf("{tokens: [{token: a, tenant: x}]}"),
            "extensions.auth.tokens[0].tenant (line 1:22): unknown key");
  EXPECT_EQ(errorsOf("{token: a, header: ''}"),
            "extensions.auth.header (line 1:20): must not be empty");
  EXPECT_EQ(errorsOf("{token: a, tokn: b}"), "extensions.auth.tokn (line 1:12): unknown key");
}

class BearerTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("otlpd-bearer-" + std::to_string(::getpid()) + ".token");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& text) {
    const auto tmp = path_.string() + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << text;
    std::filesystem::rename(tmp, path_);
  }
  std::filesystem::path path_;
};

TEST_F(BearerTokenFileTest, TokensFromTheFileAreReloadedWhenItChanges) {
  write("first\nsecond\n");
  Bearer b = make("filename: " + path_.string());
  testing::NullHost host;
  ASSERT_TRUE(b.extension->start(host).ok());
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer first"}}), "ok");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer second"}}), "ok");
  EXPECT_EQ(b.client->requestHeaders()[0].second, "Bearer first");

  write("rotated\n");
  // Polled every second, taken once it held still for a poll: within a few seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (authenticate(*b.server, {{"authorization", "Bearer rotated"}}) != "ok" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer rotated"}}), "ok");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer first"}}), "refused");
  EXPECT_EQ(b.client->requestHeaders()[0].second, "Bearer rotated");
  EXPECT_TRUE(b.extension->shutdown().ok());
}

TEST_F(BearerTokenFileTest, AMissingFileFailsStart) {
  Bearer b = make("filename: " + path_.string());
  testing::NullHost host;
  absl::Status s = b.extension->start(host);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(b.extension->shutdown().ok());
}

TEST_F(BearerTokenFileTest, AnEmptyFileRefusesEveryone) {
  write("\n\n");
  Bearer b = make("filename: " + path_.string());
  testing::NullHost host;
  ASSERT_TRUE(b.extension->start(host).ok());
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer "}}), "refused");
  EXPECT_EQ(authenticate(*b.server, {{"authorization", "Bearer x"}}), "refused");
  EXPECT_TRUE(b.client->requestHeaders().empty());
  EXPECT_TRUE(b.extension->shutdown().ok());
}

}  // namespace
}  // namespace otlpd::extensions::bearertokenauth
