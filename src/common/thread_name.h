// Names the calling thread, so that `top -H`, `ps -L`, perf and gdb tell otlpd's threads apart
// (every thread is otherwise "otlpd"). Linux keeps 15 bytes of a name; longer names are cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace otlpd::common {

inline void nameThisThread(std::string_view name) {
  constexpr size_t kMostBytes = 15;
  const std::string kept(name.substr(0, kMostBytes));
  (void)pthread_setname_np(pthread_self(), kept.c_str());
}

}  // namespace otlpd::common
