// Growing a std::string that is about to be overwritten without paying for zeros first.
//
// std::string::resize() writes every new byte, which for the buffers of the ingest path (an HTTP
// body read from a socket, the wire bytes a decoder writes) is a memset of a megabyte per request
// (~3% of the CPU of a JSON or Thrift request end to end, ~6% of an OTLP/protobuf one) that is
// overwritten right after. C++23 has resize_and_overwrite for this; until we build as C++23, the
// libstdc++ string's own length setter is reached here (the standard's rule that explicit
// instantiations may name private members makes that legal), and other libraries fall back to
// resize().
#pragma once

#include <cstddef>
#include <string>

namespace otlpd::common {

// Sets s.size() to n. Bytes up to the old size keep their value; bytes beyond it are left
// unspecified (the caller writes them before reading them), and this call does not touch them.
void resizeUninitialized(std::string& s, size_t n);

}  // namespace otlpd::common
