#include "extensions/auth/htpasswd.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <memory>

#include "absl/strings/escaping.h"

namespace otlpd::extensions::auth {
namespace {

// A hash made the way `htpasswd -B` makes one, through the system's crypt; cost 4 keeps the
// tests fast (the cost is in the hash, so verify uses it).
std::string hashWith(const char* prefix, const std::string& password, unsigned long cost = 0) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof setting) == nullptr) return "";
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_rn(password.c_str(), setting, data.get(), sizeof *data);
  return hashed == nullptr ? "" : hashed;
}

std::string bcrypt(const std::string& password) {
  return hashWith("$2b$", password, 4);
}

TEST(Htpasswd, BcryptEntriesVerify) {
  const std::string alice = bcrypt("wonderland");
  ASSERT_EQ(alice.rfind("$2b$04$", 0), 0u) << alice;
  // `$2y$` is what Apache's htpasswd -B writes; libxcrypt reads it as bcrypt too.
  std::string bob = bcrypt("builder");
  bob[2] = 'y';
  auto h = Htpasswd::parse("alice:" + alice + "\nbob:" + bob + "\n", "test");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->size(), 2u);
  EXPECT_TRUE(h->verify("alice", "wonderland"));
  EXPECT_FALSE(h->verify("alice", "Wonderland"));
  EXPECT_FALSE(h->verify("alice", ""));
  EXPECT_TRUE(h->verify("bob", "builder"));
  EXPECT_FALSE(h->verify("bob", "wonderland"));
  EXPECT_FALSE(h->verify("carol", "wonderland"));
  EXPECT_FALSE(h->verify("", "wonderland"));
  // crypt reads C strings: a NUL must not cut the password short.
  EXPECT_FALSE(h->verify("alice", std::string("wonderland\0extra", 16)));
  EXPECT_EQ(h->plainTextEntries(), 0u);
}

TEST(Htpasswd, ShaCryptShaAndPlainEntriesVerify) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  const std::string pw = "secret";
  SHA1(reinterpret_cast<const unsigned char*>(pw.data()), pw.size(), digest);
  const std::string sha =
      "{SHA}" + absl::Base64Escape(std::string(reinterpret_cast<char*>(digest), sizeof digest));
  const std::string sha512 = hashWith("$6$", "sixes");
  ASSERT_EQ(sha512.rfind("$6$", 0), 0u);
  auto h = Htpasswd::parse("# users\n\nsha:" + sha + "\ncrypt6:" + sha512 + "\nplain:opensesame\n",
                           "test");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->verify("sha", "secret"));
  EXPECT_FALSE(h->verify("sha", "secreT"));
  EXPECT_TRUE(h->verify("crypt6", "sixes"));
  EXPECT_FALSE(h->verify("crypt6", "sevens"));
  EXPECT_TRUE(h->verify("plain", "opensesame"));
  EXPECT_FALSE(h->verify("plain", "opensesame "));
  EXPECT_EQ(h->plainTextEntries(), 1u);
}

TEST(Htpasswd, LaterLinesAndMergedEntriesReplaceEarlierOnes) {
  auto file = Htpasswd::parse("alice:" + bcrypt("old") + "\ncarol:" + bcrypt("c"), "file");
  ASSERT_TRUE(file.ok());
  auto inline_entries = Htpasswd::parse("alice:" + bcrypt("new") + "\r\n", "inline");
  ASSERT_TRUE(inline_entries.ok());
  file->merge(*inline_entries);
  EXPECT_TRUE(file->verify("alice", "new"));
  EXPECT_FALSE(file->verify("alice", "old"));
  EXPECT_TRUE(file->verify("carol", "c"));
  auto twice = Htpasswd::parse("dave:one\ndave:two", "");
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->verify("dave", "two"));
  EXPECT_FALSE(twice->verify("dave", "one"));
}

TEST(Htpasswd, UncheckableOrMalformedLinesAreErrorsWithTheirLine) {
  auto apr1 = Htpasswd::parse("ok:plain\nalice:$apr1$abcdefgh$0123456789abcdefghijkl\n", "users");
  ASSERT_FALSE(apr1.ok());
  EXPECT_EQ(apr1.status().message(),
            "users line 2: Apache MD5 ($apr1$) entries cannot be checked here; use bcrypt "
            "(htpasswd -B)");
  auto unknown = Htpasswd::parse("alice:$9$nothing", "users");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "users line 1: this system's crypt cannot check this hash; use bcrypt (htpasswd -B)");
  auto no_colon = Htpasswd::parse("\n\nalice", "");
  ASSERT_FALSE(no_colon.ok());
  EXPECT_EQ(no_colon.status().message(), "line 3: expected user:hash");
  auto no_user = Htpasswd::parse(":hash", "");
  EXPECT_FALSE(no_user.ok());
  auto bad_sha = Htpasswd::parse("u:{SHA}abc", "");
  ASSERT_FALSE(bad_sha.ok());
  EXPECT_EQ(bad_sha.status().message(),
            "line 1: a {SHA} entry must be the base64 of a SHA-1 digest");
}

TEST(Htpasswd, EmptyFileAcceptsNobody) {
  auto h = Htpasswd::parse("# nobody yet\n", "");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size(), 0u);
  EXPECT_FALSE(h->verify("alice", ""));
}

}  // namespace
}  // namespace otlpd::extensions::auth
