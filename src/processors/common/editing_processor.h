// What every processor that changes telemetry shares: it edits the batch's encoded request
// (otlp/wire_edit.h) instead of decoding it, hands a new wire batch downstream only when something
// changed, and counts and logs its errors the same way (the Collector's `error_mode`).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics_registry.h"
#include "config/config_node.h"
#include "otlp/wire_edit.h"
#include "pipeline/component.h"

namespace otlpd::processors {

// The Collector's `error_mode` of filter and transform: `propagate` refuses the batch (the client
// sees the error), `ignore` logs and goes on with the next item, `silent` goes on without logging.
enum class ErrorMode { kIgnore, kSilent, kPropagate };
// Reads `error_mode` (default `propagate`, as the Collector's transform and filter have).
ErrorMode readErrorMode(config::ConfigNode& config, ErrorMode default_mode = ErrorMode::kPropagate);

// Counts a processor's errors in /metrics (otlpd_processor_errors_total{processor}) and logs the
// first of each interval (so a bad statement on every span writes one line per interval, not one
// per span).
class ErrorReporter {
 public:
  ErrorReporter(const pipeline::CreateSettings& settings, ErrorMode mode,
                absl::Duration log_interval = absl::Seconds(10));
  ErrorMode mode() const { return mode_; }
  void report(std::string_view message);

 private:
  std::string id_;
  ErrorMode mode_;
  common::Counter* errors_;
  int64_t log_interval_ns_;
  std::atomic<int64_t> next_log_ns_{0};
};

// One processor's edits of one batch: the editor of its signal, and what to do once the walk is
// over (add up counters; report the error a `propagate` editor met).
class BatchEdit {
 public:
  virtual ~BatchEdit() = default;
  virtual otlp::TracesEditor* traces() { return nullptr; }
  virtual otlp::LogsEditor* logs() { return nullptr; }
  virtual otlp::MetricsEditor* metrics() { return nullptr; }
  virtual absl::Status finish() { return absl::OkStatus(); }
};

// A BatchEdit over an editor type that serves all three signals (or the one in use).
template <class E>
class BatchEditOf : public BatchEdit {
 public:
  template <class... Args>
  explicit BatchEditOf(Args&&... args) : editor(std::forward<Args>(args)...) {}
  otlp::TracesEditor* traces() override {
    if constexpr (std::is_base_of_v<otlp::TracesEditor, E>) return &editor;
    return nullptr;
  }
  otlp::LogsEditor* logs() override {
    if constexpr (std::is_base_of_v<otlp::LogsEditor, E>) return &editor;
    return nullptr;
  }
  otlp::MetricsEditor* metrics() override {
    if constexpr (std::is_base_of_v<otlp::MetricsEditor, E>) return &editor;
    return nullptr;
  }
  E editor;
};

// A BatchEdit whose editor keeps the first error a `propagate` editor met (its failure()).
template <class E>
class FailingBatchEditOf final : public BatchEditOf<E> {
 public:
  using BatchEditOf<E>::BatchEditOf;
  absl::Status finish() override { return this->editor.failure(); }
};

// Consecutive editing processors of a pipeline share one walk of the request (and one copy): the
// first of a run collects every neighbour's BatchEdit and rewrites once, with the result of
// running them one after the other (otlp::rewriteTraces over several editors).
class EditingProcessor : public pipeline::Processor {
 public:
  EditingProcessor(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                   std::shared_ptr<pipeline::Consumer> next);

  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }
  absl::Status consume(pipeline::Batch&& batch) final;
  // The input batch is never changed in place: the result is a new batch.
  bool mutatesData() const final { return false; }

 protected:
  // This processor's edits of the batch about to be walked, or null when it has none for it (the
  // batch passes unchanged). Processors that edit in one walk implement this.
  virtual std::unique_ptr<BatchEdit> beginEdit() { return nullptr; }
  // Whether beginEdit() describes everything this processor does; when false, it is never fused
  // and rewrite() runs on its own.
  virtual bool editsInOneWalk() const { return false; }
  // Rewrites one encoded request of this processor's signal. An error refuses the batch: an
  // InvalidArgument permanently, anything else retryably. By default: beginEdit() in one walk.
  virtual absl::StatusOr<otlp::RewriteResult> rewrite(std::string_view request);

  // The metadata of the batch being rewritten on this thread (null when the receiver kept none);
  // valid only during rewrite().
  static const pipeline::RequestMetadata* batchMetadata();

  pipeline::Signal signal() const { return signal_; }
  const std::string& id() const { return id_; }

 private:
  std::string id_;
  pipeline::Signal signal_;
  // Runs `edits` (this processor's and its fused neighbours') in one walk.
  absl::StatusOr<otlp::RewriteResult> rewriteFused(std::string_view request,
                                                   std::vector<std::unique_ptr<BatchEdit>>& edits,
                                                   std::optional<size_t> items);

  std::shared_ptr<pipeline::Consumer> next_;
  common::Counter* dropped_items_;
};

}  // namespace otlpd::processors
