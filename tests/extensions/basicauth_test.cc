#include "extensions/basicauth/basicauth.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auth_test_support.h"
#include "extensions/auth/credentials.h"

namespace otlpd::extensions::basicauth {
namespace {

using testing::authenticate;
using testing::makeExtension;

std::string bcrypt(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting), nullptr);
  auto data = std::make_unique<crypt_data>();
  return crypt_rn(password.c_str(), setting, data.get(), sizeof *data);
}

std::map<std::string, std::string> basic(const std::string& user, const std::string& password) {
  return {{"authorization", auth::basicAuthorization(user, password)}};
}

TEST(BasicAuth, ServerChecksHtpasswdEntries) {
  auto made = makeExtension(*makeBasicAuthFactory(),
                            "htpasswd:\n  inline: |\n    alice:" + bcrypt("wonderland") +
                                "\n    bob:" + bcrypt("builder") + "\n");
  ASSERT_EQ(made.errors, "");
  auto* server = dynamic_cast<pipeline::ServerAuthenticator*>(made.extension.get());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(dynamic_cast<pipeline::ClientAuthenticator*>(made.extension.get()), nullptr);
  testing::NullHost host;
  ASSERT_TRUE(made.extension->start(host).ok());
  EXPECT_EQ(authenticate(*server, basic("alice", "wonderland")), "ok username=alice subject=alice");
  // Again: remembered, same answer.
  EXPECT_EQ(authenticate(*server, basic("alice", "wonderland")), "ok username=alice subject=alice");
  EXPECT_EQ(authenticate(*server, basic("bob", "builder")), "ok username=bob subject=bob");
  EXPECT_EQ(authenticate(*server, basic("alice", "builder")), "refused");
  EXPECT_EQ(authenticate(*server, basic("carol", "builder")), "refused");
  EXPECT_EQ(authenticate(*server, {{"authorization", "Bearer wonderland"}}), "refused");
  EXPECT_EQ(authenticate(*server, {{"authorization", "Basic !!!"}}), "refused");
  EXPECT_EQ(authenticate(*server, {}), "refused");
  EXPECT_EQ(server->challenge(), "Basic realm=\"otlpd\", charset=\"UTF-8\"");
  EXPECT_TRUE(made.extension->shutdown().ok());
}

TEST(BasicAuth, FileEntriesWithInlineOnesOverThem) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("otlpd-basicauth-" + std::to_string(::getpid()) + ".htpasswd");
  std::ofstream(path) << "alice:" << bcrypt("from-file") << "\ncarol:" << bcrypt("c") << "\n";
  auto made = makeExtension(*makeBasicAuthFactory(),
                            "htpasswd:\n  file: " + path.string() +
                                "\n  inline: |\n    alice:" + bcrypt("from-inline") + "\n");
  ASSERT_EQ(made.errors, "");
  auto* server = dynamic_cast<pipeline::ServerAuthenticator*>(made.extension.get());
  testing::NullHost host;
  ASSERT_TRUE(made.extension->start(host).ok());
  EXPECT_EQ(authenticate(*server, basic("alice", "from-inline")),
            "ok username=alice subject=alice");
  EXPECT_EQ(authenticate(*server, basic("alice", "from-file")), "refused");
  EXPECT_EQ(authenticate(*server, basic("carol", "c")), "ok username=carol subject=carol");
  EXPECT_EQ(authenticate(*server, basic("carol", "changed")), "refused");

  // The file changes: re-read (polled every second), verdicts remembered before are forgotten.
  {
    const std::string tmp = path.string() + ".tmp";
    std::ofstream(tmp) << "carol:" << bcrypt("changed") << "\n";
    std::filesystem::rename(tmp, path);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (authenticate(*server, basic("carol", "changed")) == "refused" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(authenticate(*server, basic("carol", "changed")), "ok username=carol subject=carol");
  EXPECT_EQ(authenticate(*server, basic("carol", "c")), "refused");
  // Inline entries still come on top of the file's.
  EXPECT_EQ(authenticate(*server, basic("alice", "from-inline")),
            "ok username=alice subject=alice");
  EXPECT_TRUE(made.extension->shutdown().ok());

  // A file that cannot be checked fails start, naming the line.
  std::ofstream(path, std::ios::trunc) << "dave:$apr1$abcdefgh$0123456789abcdefghijkl\n";
  auto bad = makeExtension(*makeBasicAuthFactory(), "htpasswd: {file: " + path.string() + "}");
  absl::Status s = bad.extension->start(host);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(path.string() + " line 1: Apache MD5"), std::string_view::npos) << s;
  std::filesystem::remove(path);
  auto missing = makeExtension(*makeBasicAuthFactory(), "htpasswd: {file: " + path.string() + "}");
  EXPECT_FALSE(missing.extension->start(host).ok());
}

TEST(BasicAuth, VerdictsAreRememberedSoBcryptIsPaidOncePerCredential) {
  // Cost 12: ~0.4 s a hash here, so a remembered verdict (microseconds) cannot be mistaken for
  // a computed one.
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 12, nullptr, 0, setting, sizeof setting), nullptr);
  auto data = std::make_unique<crypt_data>();
  const std::string hash = crypt_rn("slow-but-sure", setting, data.get(), sizeof *data);
  auto made = makeExtension(*makeBasicAuthFactory(), "htpasswd: {inline: 'alice:" + hash + "'}");
  ASSERT_EQ(made.errors, "");
  auto* server = dynamic_cast<pipeline::ServerAuthenticator*>(made.extension.get());
  auto timed = [&](const std::string& password, std::string* verdict) {
    const auto start = std::chrono::steady_clock::now();
    *verdict = authenticate(*server, basic("alice", password));
    return std::chrono::steady_clock::now() - start;
  };
  std::string verdict;
  EXPECT_GT(timed("guess", &verdict), std::chrono::milliseconds(100));
  EXPECT_EQ(verdict, "refused");
  // A client retrying the same wrong password in a loop costs nothing more.
  EXPECT_LT(timed("guess", &verdict), std::chrono::milliseconds(100));
  EXPECT_EQ(verdict, "refused");
  EXPECT_GT(timed("slow-but-sure", &verdict), std::chrono::milliseconds(100));
  EXPECT_EQ(verdict, "ok username=alice subject=alice");
  EXPECT_LT(timed("slow-but-sure", &verdict), std::chrono::milliseconds(100));
  EXPECT_EQ(verdict, "ok username=alice subject=alice");
}

TEST(BasicAuth, ClientSendsBasicCredentials) {
  auto made =
      makeExtension(*makeBasicAuthFactory(), "client_auth: {username: alice, password: 'pa:ss'}");
  ASSERT_EQ(made.errors, "");
  auto* client = dynamic_cast<pipeline::ClientAuthenticator*>(made.extension.get());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(dynamic_cast<pipeline::ServerAuthenticator*>(made.extension.get()), nullptr);
  EXPECT_EQ(client->requestHeaders(), (std::vector<std::pair<std::string, std::string>>{
                                          {"authorization", "Basic YWxpY2U6cGE6c3M="}}));
}

TEST(BasicAuth, ConfigErrors) {
  auto errorsOf = [](const std::string& yaml) {
    return makeExtension(*makeBasicAuthFactory(), yaml).errors;
  };
  EXPECT_EQ(
      errorsOf("{}"),
      "extensions.auth.htpasswd (line 1:1): one of htpasswd (server) or client_auth (client) is "
      "required");
  EXPECT_EQ(errorsOf("{htpasswd: {inline: 'a:b'}, client_auth: {username: a, password: b}}"),
            "extensions.auth.client_auth (line 1:42): one basicauth extension is either a server "
            "(htpasswd) "
            "or a client (client_auth); define two");
  EXPECT_EQ(errorsOf("{client_auth: {username: 'a:b', password: c}}"),
            "extensions.auth.client_auth.username (line 1:26): must not contain ':' (RFC 7617)");
  EXPECT_EQ(errorsOf("{htpasswd: {}}"),
            "extensions.auth.htpasswd.file (line 1:12): one of file or inline is required");
  EXPECT_EQ(errorsOf("{htpasswd: {inline: \"ok:x\\nbad\"}}"),
            "extensions.auth.htpasswd.inline (line 1:21): line 2: expected user:hash");
  EXPECT_EQ(errorsOf("{htpasswd: {inline: 'a:b', files: x}}"),
            "extensions.auth.htpasswd.files (line 1:28): unknown key");
}

// A good password is checked with bcrypt once, then remembered; so is a wrong one. Only new
// credentials cost a check (and those are limited in number at once, see ConcurrencyLimit).
TEST(BasicAuth, EachCredentialIsCheckedOnce) {
  common::MetricsRegistry metrics(common::MetricsRegistry::ProcessMetrics::kExclude);
  config::ConfigErrors errors;
  config::ConfigNode node(
      YAML::Load("htpasswd:\n  inline: |\n    alice:" + bcrypt("wonderland") + "\n"),
      "extensions.basicauth", errors);
  auto made = makeBasicAuthFactory()->create(
      pipeline::CreateSettings{pipeline::ComponentId{"basicauth", ""}, metrics}, node);
  ASSERT_TRUE(made.ok());
  ASSERT_TRUE(errors.empty()) << errors.toString();
  testing::NullHost host;
  ASSERT_TRUE((*made)->start(host).ok());
  auto* server = dynamic_cast<pipeline::ServerAuthenticator*>(made->get());
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(authenticate(*server, basic("alice", "wonderland")),
              "ok username=alice subject=alice");
    EXPECT_EQ(authenticate(*server, basic("alice", "guess")), "refused");
  }
  const common::Labels labels = {{"extension", "basicauth"}};
  EXPECT_EQ(metrics.counter("otlpd_extension_basicauth_password_checks_total", "", labels).value(),
            2u);
  EXPECT_EQ(metrics.counter("otlpd_extension_basicauth_checks_refused_total", "", labels).value(),
            0u);
  EXPECT_TRUE((*made)->shutdown().ok());
}

}  // namespace
}  // namespace otlpd::extensions::basicauth
