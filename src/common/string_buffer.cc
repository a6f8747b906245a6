#include "common/string_buffer.h"

namespace otlpd::common {
namespace {

#if defined(__GLIBCXX__) && _GLIBCXX_USE_CXX11_ABI
// libstdc++'s std::string::_M_set_length(n) sets the length and writes the terminating zero.
// Private members may be named in an explicit instantiation's arguments; the friend defined by
// that instantiation is how the rest of this file reaches it.
using SetLength = void (std::string::*)(std::string::size_type);

void setStringLength(std::string& s, std::string::size_type n);

template <SetLength kSetLength>
struct LengthSetter {
  friend void setStringLength(std::string& s, std::string::size_type n) { (s.*kSetLength)(n); }
};
template struct LengthSetter<&std::string::_M_set_length>;
#endif

}  // namespace

void resizeUninitialized(std::string& s, size_t n) {
#if defined(__GLIBCXX__) && _GLIBCXX_USE_CXX11_ABI
  if (n > s.capacity()) s.reserve(n);
  setStringLength(s, n);
#else
  s.resize(n);
#endif
}

}  // namespace otlpd::common
