#pragma once

#include <cstddef>
#include <optional>

namespace otlpd::common {

// Resident set size of this process (from /proc/self/statm); nullopt if unreadable.
std::optional<size_t> residentBytes();
// Memory this process may use: the cgroup v2 limit when one is set, else the machine's total.
std::optional<size_t> availableMemoryBytes();

}  // namespace otlpd::common
