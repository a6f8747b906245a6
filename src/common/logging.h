#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace otlpd::logging {

enum class Level { kDebug, kInfo, kWarn, kError };

// debug | info | warn | warning | error, case-insensitive.
absl::StatusOr<Level> parseLevel(std::string_view s);

enum class Format { kJson, kConsole };

// Before init() the level is info and the format JSON, written to stderr.
void init(Level level, Format format = Format::kJson);

// Receives each finished line (without the trailing newline) instead of stderr; nullptr
// restores stderr. Calls are serialised.
void setSinkForTesting(std::function<void(std::string_view line)> sink);

// One key/value of a log line, built in place: {"endpoint", ep}, {"bytes", n}, {"error", st}.
// It refers to its key and value without copying, so it must not outlive the log call.
class Field {
 public:
  enum class Kind { kString, kInt, kUint, kDouble, kBool, kStatus, kNull };

  Field(std::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  // Without this overload a string literal would pick the bool constructor (pointer → bool is
  // a standard conversion, → string_view a user-defined one).
  Field(std::string_view key, const char* value)
      : key_(key), kind_(value != nullptr ? Kind::kString : Kind::kNull) {
    if (value != nullptr) string_ = value;
  }
  Field(std::string_view key, const std::string& value)
      : key_(key), kind_(Kind::kString), string_(value) {}
#ifndef ABSL_USES_STD_STRING_VIEW
  // Debian's Abseil has its own string_view (e.g. Status::message()).
  Field(std::string_view key, absl::string_view value)
      : key_(key), kind_(Kind::kString), string_(value.data(), value.size()) {}
#endif
  Field(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), bool_(value) {}
  template <std::signed_integral T>
  requires(!std::same_as<T, bool>) Field(std::string_view key, T value)
      : key_(key), kind_(Kind::kInt), int_(value) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) Field(std::string_view key, T value)
      : key_(key), kind_(Kind::kUint), uint_(value) {}
  template <std::floating_point T>
  Field(std::string_view key, T value)
      : key_(key), kind_(Kind::kDouble), double_(static_cast<double>(value)) {}
  Field(std::string_view key, const absl::Status& value)
      : key_(key), kind_(Kind::kStatus), status_(&value) {}

  std::string_view key() const {
    return key_;
  }
  Kind kind() const {
    return kind_;
  }
  std::string_view stringValue() const {
    return string_;
  }
  int64_t intValue() const {
    return int_;
  }
  uint64_t uintValue() const {
    return uint_;
  }
  double doubleValue() const {
    return double_;
  }
  bool boolValue() const {
    return bool_;
  }
  const absl::Status& statusValue() const {
    return *status_;
  }

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view string_;
  union {
    int64_t int_ = 0;
    uint64_t uint_;
    double double_;
    bool bool_;
    const absl::Status* status_;
  };
};

// The trace and span of the traced operation this thread is in (otlpd's own traces, selftrace/
// sets them): lines written meanwhile carry them as `trace_id` and `span_id`. Lowercase hex of 32
// and 16 digits; empty strings clear them.
void setThreadTraceIds(std::string_view trace_id_hex, std::string_view span_id_hex);

// Writes one line if `level` is enabled. Never throws; a line that cannot be built is dropped.
void log(Level level, std::string_view message, std::initializer_list<Field> fields = {});

bool enabled(Level level);

inline void debug(std::string_view message, std::initializer_list<Field> fields = {}) {
  log(Level::kDebug, message, fields);
}
inline void info(std::string_view message, std::initializer_list<Field> fields = {}) {
  log(Level::kInfo, message, fields);
}
inline void warn(std::string_view message, std::initializer_list<Field> fields = {}) {
  log(Level::kWarn, message, fields);
}
inline void error(std::string_view message, std::initializer_list<Field> fields = {}) {
  log(Level::kError, message, fields);
}

}  // namespace otlpd::logging
