#include "common/json_escape.h"

#include <gtest/gtest.h>

namespace otlpd::common {
namespace {

TEST(JsonEscape, QuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(jsonString("a\"b\\c\n\x01\t"), "\"a\\\"b\\\\c\\n\\u0001\\t\"");
  EXPECT_EQ(jsonString(""), "\"\"");
}

TEST(JsonEscape, KeepsValidUtf8AndRepairsInvalid) {
  EXPECT_EQ(jsonString("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(jsonString("bad\xFF"), "\"bad\xEF\xBF\xBD\"");
}

TEST(JsonEscape, ConsoleModeOnlyEscapesControlCharacters) {
  std::string out;
  appendEscaped(out, "say \"hi\"\nnow", Escape::kControl);
  EXPECT_EQ(out, "say \"hi\"\\nnow");
}

}  // namespace
}  // namespace otlpd::common
