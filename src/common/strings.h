// Debian's abseil is built with its own absl::string_view (not an alias of std::string_view),
// so absl::StrCat does not take std::string_view. These forward to abseil with the conversion
// done once, here.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace otlpd {
namespace strings_internal {

template <class T>
decltype(auto) toAlphaNumArg(const T& value) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return absl::string_view(value.data(), value.size());
  } else {
    return (value);
  }
}

}  // namespace strings_internal

template <class... Args>
std::string strCat(const Args&... args) {
  return absl::StrCat(strings_internal::toAlphaNumArg(args)...);
}

template <class... Args>
void strAppend(std::string* out, const Args&... args) {
  absl::StrAppend(out, strings_internal::toAlphaNumArg(args)...);
}

inline std::string_view toStd(absl::string_view s) {
  return {s.data(), s.size()};
}
inline absl::string_view toAbsl(std::string_view s) {
  return {s.data(), s.size()};
}

}  // namespace otlpd
