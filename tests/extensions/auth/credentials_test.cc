#include "extensions/auth/credentials.h"

#include <gtest/gtest.h>

namespace otlpd::extensions::auth {
namespace {

TEST(Credentials, SecretsEqualComparesWholeValuesOfAnyLength) {
  EXPECT_TRUE(secretsEqual("s3cret", "s3cret"));
  EXPECT_TRUE(secretsEqual("", ""));
  EXPECT_FALSE(secretsEqual("s3cret", "s3cre"));
  EXPECT_FALSE(secretsEqual("s3cret", "s3cret "));
  EXPECT_FALSE(secretsEqual("s3cret", "S3cret"));
  EXPECT_FALSE(secretsEqual("", "x"));
  // A NUL is part of the value, not its end.
  EXPECT_FALSE(secretsEqual(std::string_view("ab\0c", 4), "ab"));
}

TEST(Credentials, SecretSetSaysWhichEntryMatched) {
  SecretSet set;
  EXPECT_EQ(set.match("a"), std::nullopt);
  set.add("first");
  set.add("second");
  set.add("first");  // a duplicate: the first index is the answer
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.match("first"), 0u);
  EXPECT_EQ(set.match("second"), 1u);
  EXPECT_EQ(set.match("secon"), std::nullopt);
  EXPECT_EQ(set.match(""), std::nullopt);
}

TEST(Credentials, AuthorizationSplitsSchemeAndCredentials) {
  auto v = parseAuthorization("Bearer abc.def");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->scheme, "Bearer");
  EXPECT_EQ(v->credentials, "abc.def");
  v = parseAuthorization("  bearer \t  tok  ");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->scheme, "bearer");
  EXPECT_EQ(v->credentials, "tok");
  EXPECT_FALSE(parseAuthorization("Bearer"));
  EXPECT_FALSE(parseAuthorization("Bearer   "));
  EXPECT_FALSE(parseAuthorization(""));
  EXPECT_FALSE(parseAuthorization(" abc"));
}

TEST(Credentials, BasicCredentialsDecode) {
  // "alice:pa:ss" in base64: the password may hold colons, the user may not.
  auto c = parseBasicAuthorization("Basic YWxpY2U6cGE6c3M=");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "pa:ss");
  c = parseBasicAuthorization("basic YWxpY2U6");  // "alice:" — an empty password
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "");
  EXPECT_FALSE(parseBasicAuthorization("Bearer YWxpY2U6cGE6c3M="));
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U="));     // "alice": no colon
  EXPECT_FALSE(parseBasicAuthorization("Basic not*base64!"));  // not base64
  EXPECT_FALSE(parseBasicAuthorization("Basic"));
}

TEST(Credentials, BasicAuthorizationRoundTrips) {
  const std::string header = basicAuthorization("bob", "p@ss:w\xc3\xb6rd");
  EXPECT_EQ(header.rfind("Basic ", 0), 0u);
  auto c = parseBasicAuthorization(header);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "bob");
  EXPECT_EQ(c->password, "p@ss:w\xc3\xb6rd");
  EXPECT_EQ(basicAuthorization("alice", "pa:ss"), "Basic YWxpY2U6cGE6c3M=");
}

TEST(Credentials, TokenFileHasOneTokenPerLineAndNoEmptyOnes) {
  EXPECT_EQ(parseTokenFile("abc\n"), (std::vector<std::string>{"abc"}));
  EXPECT_EQ(parseTokenFile("  abc \r\n\n\t\ndef"), (std::vector<std::string>{"abc", "def"}));
  EXPECT_TRUE(parseTokenFile("").empty());
  EXPECT_TRUE(parseTokenFile("\n \n").empty());
}

TEST(ConcurrencyLimit, RefusesBeyondTheLimitAndFreesOnRelease) {
  ConcurrencyLimit limit(2);
  auto a = limit.tryAcquire();
  auto b = limit.tryAcquire();
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(limit.tryAcquire().has_value());
  EXPECT_EQ(limit.inUse(), 2);
  a.reset();
  EXPECT_EQ(limit.inUse(), 1);
  auto c = limit.tryAcquire();
  EXPECT_TRUE(c.has_value());
  EXPECT_FALSE(limit.tryAcquire().has_value());
  {
    std::optional<ConcurrencyLimit::Slot> moved = std::move(c);  // a moved slot frees once
  }
  EXPECT_EQ(limit.inUse(), 1);
  b.reset();
  EXPECT_EQ(limit.inUse(), 0);
  EXPECT_EQ(ConcurrencyLimit(0).limit(), 1);
}

}  // namespace
}  // namespace otlpd::extensions::auth
