// Status and Result of the otlpd library API: std types only, no exceptions thrown by otlpd.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace otlpd {

// Stable numbers: the C API (otlpd.h) returns the same codes.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,   // bad data or a bad argument: retrying the same call cannot help
  kConfigError = 2,       // the config does not validate; the message lists every error
  kRetryable = 3,         // refused for now (memory budget spent, pipeline busy): retry later
  kNotRunning = 4,        // the collector is not started, or already shut down
  kNotFound = 5,          // no such trace, receiver, ...
  kIoError = 6,           // a file or store could not be read or written
  kDeadlineExceeded = 7,  // shutdown did not finish in time (it goes on in the background)
  kInternal = 8,          // a bug, or an exception of an embedder's callback
};

const char* statusCodeName(StatusCode code);  // "ok", "invalid_argument", ...

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status okStatus() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "config_error: ..." or "ok".
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like absl::StatusOr
  Result(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result made from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return *std::move(value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return *std::move(value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace otlpd
