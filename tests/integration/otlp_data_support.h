// OTLP requests for integration tests. Every item carries a name (span name, metric name, log
// body) that starts with the caller's tag, so a test can find exactly its own items in the
// exporter's output even when other tests of the same process wrote to the same file.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/proto.h"
#include "otlpd_process_support.h"

namespace otlpd::integration {

// The bytes of an id written in hex ("0af765..."): two digits a byte.
std::string bytesFromHex(std::string_view hex);

// Ways a span can be invalid; the receiver must drop it and report it in partial_success.
enum class BadSpan { kZeroTraceId, kShortSpanId, kShortParentSpanId, kEndBeforeStart };

// `valid` good spans named "<tag>-<i>", then one bad span per entry of `bad`, named
// "<tag>-bad-<i>".
otlp::TracesRequest makeTraces(std::string_view tag, size_t valid,
                               const std::vector<BadSpan>& bad = {});

// `valid` gauge points in one metric named "<tag>" and, when `bad_histogram_points` > 0, a
// histogram metric "<tag>-hist" with one good point followed by that many points whose
// bucket_counts length is not explicit_bounds + 1. So the request carries
// valid + (bad_histogram_points > 0 ? 1 : 0) + bad_histogram_points points.
otlp::MetricsRequest makeMetrics(std::string_view tag, size_t valid,
                                 size_t bad_histogram_points = 0);

// `valid` log records with body "<tag>-<i>" (the first one with a proper 16-byte trace_id), then
// `bad_trace_id` records whose trace_id is 5 bytes long.
otlp::LogsRequest makeLogs(std::string_view tag, size_t valid, size_t bad_trace_id = 0);

// What a file exporter line holds, counted the way the receiver counts.
struct ItemCounts {
  size_t spans = 0;
  size_t data_points = 0;
  size_t log_records = 0;
  // Items whose name (span name, metric name, log body) starts with the tag asked for.
  size_t tagged = 0;
};

// Parses OTLP/JSON lines of traces/metrics/logs requests and counts items; lines that do not
// parse are counted in `unparsed`.
ItemCounts countTraceLines(const std::vector<std::string>& lines, std::string_view tag,
                           size_t* unparsed = nullptr);
ItemCounts countMetricLines(const std::vector<std::string>& lines, std::string_view tag,
                            size_t* unparsed = nullptr);
ItemCounts countLogLines(const std::vector<std::string>& lines, std::string_view tag,
                         size_t* unparsed = nullptr);

// Names of the spans written for `tag`, in file order (to check that exactly the good ones got
// through a partial success).
std::vector<std::string> taggedSpanNames(const std::vector<std::string>& lines,
                                         std::string_view tag);

enum class SignalFile { kTraces, kMetrics, kLogs };

// The file the standard config's exporter for `signal` writes ("traces.jsonl", ...).
std::string_view fileFor(SignalFile signal);

// Items tagged `tag` in the exporter output of `signal`, polled until there are at least
// `expected` or `timeout` passes. Lines that are not valid OTLP/JSON are added to *unparsed.
size_t waitForTaggedItems(const OtlpdProcess& process, SignalFile signal, std::string_view tag,
                          size_t expected, size_t* unparsed = nullptr,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A traces request whose serialized size is at least `bytes` (one span with a big attribute).
otlp::TracesRequest makeLargeTraces(std::string_view tag, size_t bytes);

}  // namespace otlpd::integration
