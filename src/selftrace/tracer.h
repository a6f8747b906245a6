// otlpd's traces of its own work (`service.telemetry.traces`): spans of query API requests and
// other operations, parent-based on an incoming W3C `traceparent`, sampled at a ratio for new
// traces, handed to a bounded queue that an exporter thread drains as OTLP. Ending a span never
// blocks and never waits for the network: when the queue is full the span is dropped and counted.
// Off (no tracer installed) a span costs one pointer check.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/metrics_registry.h"
#include "selftrace/trace_context.h"

namespace otlpd::selftrace {

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3 };

struct SpanData {
  SpanContext context;
  std::optional<std::array<uint8_t, 8>> parent_span_id;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  std::vector<std::pair<std::string, std::variant<std::string, int64_t, bool>>> attributes;
  bool error = false;
  std::string status_message;
};

// Encodes finished spans as one ExportTraceServiceRequest of resource service.name = otlpd.
std::string encodeSpans(const std::vector<SpanData>& spans, std::string_view service_version);

struct TracerOptions {
  double sampling_ratio = 1.0;  // for traces that start here; a parent's flag decides otherwise
  // `level: detailed`: ScopedSpan::detail() records too (spans inside sampled operations: each
  // processor and exporter of an ingest request, the phases of a query). `basic` leaves them out.
  bool detailed = false;
  size_t max_queued_spans = 2048;
  size_t max_export_batch = 512;
  std::chrono::milliseconds export_interval{1000};
  // Sends one encoded ExportTraceServiceRequest; called on the exporter thread only.
  std::function<absl::Status(const std::string& body)> send;
};

class Tracer {
 public:
  Tracer(TracerOptions options, common::MetricsRegistry& metrics);
  ~Tracer();  // exports what is queued (bounded by the sender's own deadline), then stops
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // The process's tracer, or null when self-tracing is off. Set by the service.
  static Tracer* installed() { return installed_.load(std::memory_order_acquire); }
  static void install(Tracer* tracer) { installed_.store(tracer, std::memory_order_release); }

  // A context for a new span: a child of `parent` (its trace, its sampled flag) or a new trace
  // sampled at the ratio.
  SpanContext newContext(const SpanContext* parent);
  void finish(SpanData&& span);  // queues a sampled span; never blocks
  bool detailed() const { return options_.detailed; }

 private:
  void exportLoop();

  static std::atomic<Tracer*> installed_;
  TracerOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  common::Counter* exported_;
  common::Counter* dropped_full_;
  common::Counter* export_failed_;
  std::thread thread_;
};

// A span of the calling thread's current operation: started from the installed tracer, current
// for this thread while it lives (children and log lines see it), ended by its destructor.
// Without an installed tracer it records nothing.
class ScopedSpan {
 public:
  // A server span whose parent comes from the request's `traceparent` / `tracestate` headers
  // when they are valid; else a child of the thread's current span, or a new trace.
  // `header` finds a request header (lower-case name) and is called only when tracing is on.
  static ScopedSpan server(
      std::string_view name,
      absl::FunctionRef<std::optional<std::string_view>(std::string_view)> header);
  // A span that records nothing (for requests that must not be traced: otlpd's own exports).
  static ScopedSpan none() { return ScopedSpan(); }
  // The header otlpd's own span exports carry, so that an otlpd receiving them does not trace
  // their ingest (no loops).
  static constexpr std::string_view kSelfTelemetryHeader = "x-otlpd-self-telemetry";
  // An internal or client span, a child of the thread's current span (or a new trace).
  static ScopedSpan child(std::string_view name, SpanKind kind = SpanKind::kInternal);
  // A span of `level: detailed` only: an internal child of the thread's current span when that
  // one is sampled and the tracer is detailed; otherwise nothing is recorded and nothing is
  // allocated (a pointer check and a flag), so hot paths may open one per stage.
  static ScopedSpan detail(std::string_view name);

  ScopedSpan(ScopedSpan&& other) noexcept;
  ScopedSpan& operator=(ScopedSpan&&) = delete;
  ~ScopedSpan();

  bool recording() const { return data_ != nullptr; }
  // The `traceparent` to send downstream from inside this span; empty when not recording.
  std::string traceparent() const;
  const std::string& tracestate() const;
  void setAttribute(std::string key, std::string value);
  void setAttribute(std::string key, int64_t value);
  void setError(std::string message);

  // The thread's current span context, or null.
  static const SpanContext* current();

 private:
  ScopedSpan() = default;
  void activate();

  Tracer* tracer_ = nullptr;
  std::unique_ptr<SpanData> data_;
  const SpanContext* previous_ = nullptr;
  bool active_ = false;
};

}  // namespace otlpd::selftrace
