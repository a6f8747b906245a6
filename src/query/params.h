// Query-string parameters of the query API, parsed and checked one by one so that every bad
// parameter is answered with a 400 that names it. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
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
  // Every value of `name`, in order (repeated parameters like traceID=A&traceID=B).
  std::vector<std::string> all(std::string_view name) const;
  // true/false (also 1/0).
  std::optional<bool> boolean(std::string_view name);
  // Makes `old_name` another spelling of `name` (Jaeger's deprecated snake_case names): its values
  // are read as `name`'s when `name` itself is absent.
  void alias(std::string_view name, std::string_view old_name);
  // Fails on the first parameter no read asked for: an unknown parameter is an error, never
  // silently ignored. Call after every read.
  void rejectUnknown();
  // Records a problem with `name` (for checks across parameters).
  void fail(std::string_view name, std::string_view value, std::string_view why);

  // The parameter named in the first problem, and the message; empty when all were good.
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

 private:
  std::multimap<std::string, std::string, std::less<>> values_;
  // Names asked for (read or aliased), for rejectUnknown().
  mutable std::set<std::string, std::less<>> asked_;
  // Canonical name → the alias the client wrote, so that errors name what was sent.
  std::map<std::string, std::string, std::less<>> written_as_;
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
