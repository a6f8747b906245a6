#include "common/string_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace otlpd::common {
namespace {

TEST(StringBufferTest, ResizeUninitializedKeepsTheContentAndTerminates) {
  std::string s = "abc";
  resizeUninitialized(s, 5000);
  ASSERT_EQ(s.size(), 5000u);
  EXPECT_GE(s.capacity(), 5000u);
  EXPECT_EQ(s.substr(0, 3), "abc");
  EXPECT_EQ(s.c_str()[5000], '\0');
  for (size_t i = 3; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(s[4999], static_cast<char>('a' + 4999 % 26));

  // Shrinking and growing within the capacity: no reallocation, earlier bytes kept.
  const char* data = s.data();
  resizeUninitialized(s, 10);
  EXPECT_EQ(s.size(), 10u);
  EXPECT_EQ(s.c_str()[10], '\0');
  EXPECT_EQ(s.substr(0, 3), "abc");
  resizeUninitialized(s, 4000);
  EXPECT_EQ(s.data(), data);
  EXPECT_EQ(s.substr(0, 3), "abc");
  EXPECT_EQ(s[3], static_cast<char>('a' + 3 % 26));

  // The string stays an ordinary string afterwards.
  s.resize(3);
  s += "def";
  EXPECT_EQ(s, "abcdef");
  std::string empty;
  resizeUninitialized(empty, 0);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.c_str()[0], '\0');
}

}  // namespace
}  // namespace otlpd::common
