#include "common/endpoint.h"

#include <gtest/gtest.h>

namespace otlpd::common {
namespace {

TEST(HostPort, ParsesTheForms) {
  auto a = HostPort::parse("localhost:4317");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 4317);
  auto b = HostPort::parse("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->toString(), "[::1]:0");
  auto c = HostPort::parse(":4318");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->host.empty());
  EXPECT_EQ(c->port, 4318);
}

TEST(HostPort, RejectsMalformed) {
  for (const char* bad :
       {"localhost", "host:", "host:70000", "host:12a", "::1:4317", "[::1]4317"}) {
    EXPECT_FALSE(HostPort::parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace otlpd::common
