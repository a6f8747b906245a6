// W3C Trace Context cases, written from the specification's rules for `traceparent` and
// `tracestate` (versions, lengths, lowercase hex, zero ids, list members, keys, values).
#include "selftrace/trace_context.h"

#include <gtest/gtest.h>

namespace otlpd::selftrace {
namespace {

// Concatenation through append: g++ 12 warns (-Wrestrict) about `"lit" + std::string(n, c)`.
std::string cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out.append(p);
  return out;
}

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheSpecificationsExample) {
  auto c = parseTraceparent(kValid);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(toHex(c->trace_id.data(), 16), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(toHex(c->span_id.data(), 8), "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(formatTraceparent(*c), kValid);
  auto unsampled = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled());
  // Optional whitespace around a header value is not part of it.
  EXPECT_TRUE(parseTraceparent(std::string(" \t") + kValid + " ").has_value());
}

TEST(Traceparent, InvalidValuesAreRefused) {
  for (const char* bad : {
           "", "00",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0G",  // not hex
           "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // misplaced dash
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 with more
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",   // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",  // short trace id
       }) {
    EXPECT_FALSE(parseTraceparent(bad).has_value()) << bad;
  }
}

TEST(Traceparent, LaterVersionsAreReadAsFarAsVersion00Goes) {
  // A version we do not know: its first four fields as 00's, more after a '-' ignored.
  auto c = parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-ever");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->flags, 0x01);  // flags we do not know are not passed on
  EXPECT_TRUE(
      parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").has_value());
  // ... but not when what follows is not separated by '-'.
  EXPECT_FALSE(
      parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x").has_value());
}

TEST(Tracestate, ValidListsAreNormalised) {
  EXPECT_EQ(parseTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(parseTracestate(" rojo=1 ,\t, congo=2,"), "rojo=1,congo=2");  // OWS, empty members
  EXPECT_EQ(parseTracestate(""), "");
  EXPECT_EQ(parseTracestate("fw529a3039@dt=abc"), "fw529a3039@dt=abc");  // multi-tenant key
  EXPECT_EQ(parseTracestate("a_-*/9=x y"), "a_-*/9=x y");                // a space inside a value
  EXPECT_EQ(parseTracestate(cat({std::string(256, 'k'), "=v"})),
            cat({std::string(256, 'k'), "=v"}));
  EXPECT_EQ(parseTracestate(cat({"k=", std::string(256, 'v')})),
            cat({"k=", std::string(256, 'v')}));
}

TEST(Tracestate, InvalidListsAreRefused) {
  for (const std::string& bad : {
           std::string("Rojo=1"),         // uppercase key
           std::string("1abc=1"),         // a simple key starts with a letter
           std::string("rojo"),           // no '='
           std::string("rojo=1,rojo=2"),  // a key twice
           std::string("rojo=a,b"),       // ',' would end the value: "b" alone
           std::string("rojo=a=b"),       // '=' inside a value
           std::string("rojo=a\tb"),      // a tab inside a value
           std::string("rojo="),          // an empty value
           std::string("ro jo=1"),
           cat({std::string(257, 'k'), "=v"}),       // key over 256
           cat({"k=", std::string(257, 'v')}),       // value over 256
           cat({"t@", std::string(15, 's'), "=1"}),  // system id over 14
           std::string("@sys=1"),                    // empty tenant
           std::string("k=\x7f"),
       }) {
    EXPECT_FALSE(parseTracestate(bad).has_value()) << bad;
  }
  std::string members;
  for (int i = 0; i < 33; ++i) members += cat({"k", std::to_string(i), "=v,"});
  EXPECT_FALSE(parseTracestate(members).has_value()) << "33 members";
  members.clear();
  for (int i = 0; i < 32; ++i) members += cat({"k", std::to_string(i), "=v,"});
  EXPECT_TRUE(parseTracestate(members).has_value()) << "32 members";
}

TEST(Tracestate, LimitedTo512CharactersLongMembersFirst) {
  const std::string long_member = "long=" + std::string(200, 'x');
  std::string state = "a=" + std::string(100, '1') + "," + long_member +
                      ",b=" + std::string(100, '2') + ",c=" + std::string(150, '3');
  ASSERT_GT(state.size(), 512u);
  const std::string limited = limitTracestate(state);
  EXPECT_LE(limited.size(), 512u);
  // Members over 128 characters go first (both), which is enough here.
  EXPECT_EQ(limited.find("long="), std::string::npos);
  EXPECT_EQ(limited.find("c="), std::string::npos);
  EXPECT_EQ(limited, cat({"a=", std::string(100, '1'), ",b=", std::string(100, '2')}));
  EXPECT_EQ(limitTracestate("a=1,b=2"), "a=1,b=2");
}

}  // namespace
}  // namespace otlpd::selftrace
