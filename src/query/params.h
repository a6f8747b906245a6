// Query-string parameters of the query API, parsed and checked one by one so that every bad
// parameter is answered with a 400 that names it. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otlpd::query {

// Percent-decoding of a URL component ('+' as space when `plus_is_space`); bad escapes are kept
// as they are.
std::string urlDecode(std::string_view text, bool plus_is_space);

// RFC 3339 date-times ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789+01:00") → ns
// since the Unix epoch; nullopt when malformed.
std::optional<int64_t> parseRfc3339Nanos(std::string_view text);

// Log severity thresholds: a number 1..24 or a level name (TRACE, DEBUG, INFO, WARN, ERROR,
// FATAL, any case) → the lowest severity_number of that level.
std::optional<int32_t> parseSeverity(std::string_view text);

// Reads typed parameters; the first problem is kept in error() ("malformed parameter 'limit':
// 'x' is not an integer between 1 and 1000") and later reads return nullopt.
class Params {
 public:
  explicit Params(std::string_view query_string);

  // The value of `name` when present and non-empty (the first when repeated).
  std::optional<std::string> text(std::string_view name) const;
  std::optional<int64_t> integer(std::string_view name, int64_t min, int64_t max);
  // µs since the epoch (≥ 0).
  std::optional<int64_t> micros(std::string_view name);
  // A Go duration, in µs.
  std::optional<int64_t> duration(std::string_view name);
  // RFC 3339, in ns.
  std::optional<int64_t> rfc3339(std::string_view name);
  // A JSON object of attribute filters; values that are not strings compare as their JSON
  // ({"http.status_code":200} matches the int 200).
  std::vector<std::pair<std::string, std::string>> tags(std::string_view name);
  std::optional<int32_t> severity(std::string_view name);
  // Records a problem with `name` (for checks across parameters).
  void fail(std::string_view name, std::string_view value, std::string_view why);

  // The parameter named in the first problem, and the message; empty when all were good.
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

 private:
  std::multimap<std::string, std::string, std::less<>> values_;
  std::string error_;
};

// [start, end) in ns from the µs parameters `start`, `end` (inclusive, as Jaeger's) and the
// duration `lookback` (start = end − lookback; end defaults to now). `default_lookback_us` (0 =
// none: unbounded) applies when neither `start` nor `lookback` is given.
struct TimeWindow {
  int64_t start_unix_nano;
  int64_t end_unix_nano;
};
TimeWindow readTimeWindow(Params& params, int64_t now_unix_micros, int64_t default_lookback_us);

}  // namespace otlpd::query
