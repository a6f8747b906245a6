// The one place that includes the flatc-generated Arrow IPC metadata headers; their warnings
// are silenced here so our code keeps -Werror.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#include "Message_generated.h"
#include "Schema_generated.h"
#pragma GCC diagnostic pop

#include <cstring>

namespace otlpd::store {
namespace fb = ::org::apache::arrow::flatbuf;

// The i-th struct of a record batch's nodes or buffers, copied out. Flatbuffers' verifier checks
// only the 4-byte alignment of a vector, so in a corrupt file these 8-byte structs may lie
// misaligned and must not be read in place (found by the store_file fuzz target under UBSan).
// The caller has checked `i` against the vector's size.
template <class Struct>
Struct structAt(const flatbuffers::Vector<const Struct*>& vector, size_t i) {
  Struct out;
  std::memcpy(static_cast<void*>(&out), vector.Data() + i * sizeof(Struct), sizeof(Struct));
  return out;
}
}  // namespace otlpd::store
