#include "common/logging.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include "common/json_escape.h"

namespace otlpd::logging {
namespace {

using common::appendEscaped;
using common::appendJsonString;
using common::Escape;

struct State {
  std::atomic<Level> level{Level::kInfo};
  std::atomic<Format> format{Format::kJson};
  // Serialises writers so lines from different threads never interleave.
  std::mutex mu;
  std::function<void(std::string_view)> sink;
};

// The current thread's trace ids (setThreadTraceIds), copied: empty when none.
struct ThreadTraceIds {
  char trace_id[33] = {};
  char span_id[17] = {};
};
thread_local ThreadTraceIds t_trace_ids;

// Never destroyed: threads and static destructors may still log during shutdown.
State& state() {
  static State* s = new State;
  return *s;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void appendTimestamp(std::string& out, int fraction_digits) {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  const int fraction = static_cast<int>(micros % 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const int n = fraction_digits == 6
                    ? std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                    tm.tm_min, tm.tm_sec, fraction)
                    : std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                    tm.tm_min, tm.tm_sec, fraction / 1000);
  if (n > 0) out.append(buf, static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

template <typename T>
void appendNumber(std::string& out, T value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

// JSON has no NaN or infinities; these spellings match what other collectors log.
const char* nonFiniteName(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

void appendJsonValue(std::string& out, const Field& field) {
  switch (field.kind()) {
    case Field::Kind::kString:
      appendJsonString(out, field.stringValue());
      return;
    case Field::Kind::kInt:
      appendNumber(out, field.intValue());
      return;
    case Field::Kind::kUint:
      appendNumber(out, field.uintValue());
      return;
    case Field::Kind::kDouble:
      if (std::isfinite(field.doubleValue())) {
        appendNumber(out, field.doubleValue());
      } else {
        appendJsonString(out, nonFiniteName(field.doubleValue()));
      }
      return;
    case Field::Kind::kBool:
      out += field.boolValue() ? "true" : "false";
      return;
    case Field::Kind::kStatus:
      appendJsonString(out, field.statusValue().ToString());
      return;
    case Field::Kind::kNull:
      out += "null";
      return;
  }
}

std::string formatJson(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(128 + message.size());
  out += "{\"ts\":\"";
  appendTimestamp(out, 6);
  out += "\",\"level\":\"";
  out += levelName(level);
  out += "\",\"msg\":";
  appendJsonString(out, message);
  for (const Field& field : fields) {
    out.push_back(',');
    appendJsonString(out, field.key());
    out.push_back(':');
    appendJsonValue(out, field);
  }
  if (t_trace_ids.trace_id[0] != '\0') {
    out += ",\"trace_id\":\"";
    out += t_trace_ids.trace_id;
    out += "\",\"span_id\":\"";
    out += t_trace_ids.span_id;
    out += '"';
  }
  out.push_back('}');
  return out;
}

// Console values stay bare when that is unambiguous and are JSON-quoted otherwise.
void appendConsoleString(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
      quote = true;
      break;
    }
  }
  if (quote) {
    appendJsonString(out, s);
  } else {
    appendEscaped(out, s, Escape::kControl);
  }
}

std::string formatConsole(Level level, std::string_view message,
                          std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(96 + message.size());
  appendTimestamp(out, 3);
  out.push_back(' ');
  const std::string_view name = levelName(level);
  out += name;
  out.append(6 - name.size(), ' ');
  appendEscaped(out, message, Escape::kControl);
  for (const Field& field : fields) {
    out.push_back(' ');
    appendEscaped(out, field.key(), Escape::kControl);
    out.push_back('=');
    switch (field.kind()) {
      case Field::Kind::kString:
        appendConsoleString(out, field.stringValue());
        break;
      case Field::Kind::kStatus:
        appendConsoleString(out, field.statusValue().ToString());
        break;
      case Field::Kind::kDouble:
        if (!std::isfinite(field.doubleValue())) {
          out += nonFiniteName(field.doubleValue());
          break;
        }
        [[fallthrough]];
      default:
        appendJsonValue(out, field);
    }
  }
  if (t_trace_ids.trace_id[0] != '\0') {
    out += " trace_id=";
    out += t_trace_ids.trace_id;
    out += " span_id=";
    out += t_trace_ids.span_id;
  }
  return out;
}

void writeToStderr(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing stderr
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

absl::StatusOr<Level> parseLevel(std::string_view s) {
  const std::string v = toLower(s);
  if (v == "debug") return Level::kDebug;
  if (v == "info") return Level::kInfo;
  if (v == "warn" || v == "warning") return Level::kWarn;
  if (v == "error") return Level::kError;
  return absl::InvalidArgumentError("unknown log level \"" + std::string(s) +
                                    "\"; expected debug, info, warn or error");
}

void init(Level level, Format format) {
  state().level.store(level, std::memory_order_relaxed);
  state().format.store(format, std::memory_order_relaxed);
}

void setSinkForTesting(std::function<void(std::string_view line)> sink) {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.sink = std::move(sink);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= static_cast<int>(state().level.load(std::memory_order_relaxed));
}

void setThreadTraceIds(std::string_view trace_id_hex, std::string_view span_id_hex) {
  const size_t t = std::min(trace_id_hex.size(), sizeof(t_trace_ids.trace_id) - 1);
  const size_t sp = std::min(span_id_hex.size(), sizeof(t_trace_ids.span_id) - 1);
  // An empty view may have no data at all, which memcpy must not be given even for 0 bytes.
  if (t > 0) std::memcpy(t_trace_ids.trace_id, trace_id_hex.data(), t);
  t_trace_ids.trace_id[t] = '\0';
  if (sp > 0) std::memcpy(t_trace_ids.span_id, span_id_hex.data(), sp);
  t_trace_ids.span_id[sp] = '\0';
}

void log(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  State& s = state();
  try {
    std::string line = s.format.load(std::memory_order_relaxed) == Format::kJson
                           ? formatJson(level, message, fields)
                           : formatConsole(level, message, fields);
    std::lock_guard lock(s.mu);
    if (s.sink) {
      s.sink(line);
    } else {
      line.push_back('\n');
      writeToStderr(line);
    }
  } catch (...) {
    // Logging must never take the process down; the line is lost.
  }
}

}  // namespace otlpd::logging
