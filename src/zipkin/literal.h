// Comparing text with string literals on the hot paths of the Zipkin codecs (JSON member names,
// tag keys): the literal's length is a constant here, so the compiler compares with a few loads
// instead of calling memcmp, which std::string_view's operator== and starts_with do with a
// length known only at run time. Pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace otlpd::zipkin {

// text == literal.
template <size_t N>
inline bool equals(std::string_view text, const char (&literal)[N]) {
  return text.size() == N - 1 && __builtin_memcmp(text.data(), literal, N - 1) == 0;
}

// text starts with literal.
template <size_t N>
inline bool startsWith(std::string_view text, const char (&literal)[N]) {
  return text.size() >= N - 1 && __builtin_memcmp(text.data(), literal, N - 1) == 0;
}

}  // namespace otlpd::zipkin
