#include "common/process_memory.h"

#include <unistd.h>

#include <fstream>
#include <string>

namespace otlpd::common {

std::optional<size_t> residentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return std::nullopt;
  const long page = ::sysconf(_SC_PAGESIZE);
  return resident_pages * static_cast<size_t>(page > 0 ? page : 4096);
}

std::optional<size_t> availableMemoryBytes() {
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::string value;
  if (cgroup >> value && value != "max") {
    try {
      return static_cast<size_t>(std::stoull(value));
    } catch (...) {
      // Unparsable: fall through to the machine's total.
    }
  }
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  size_t kib = 0;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") return kib * 1024;
  }
  return std::nullopt;
}

}  // namespace otlpd::common
