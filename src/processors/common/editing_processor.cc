#include "processors/common/editing_processor.h"

#include "common/logging.h"
#include "common/strings.h"

namespace otlpd::processors {
namespace {
thread_local const pipeline::RequestMetadata* current_metadata = nullptr;
}  // namespace

const pipeline::RequestMetadata* EditingProcessor::batchMetadata() { return current_metadata; }

ErrorMode readErrorMode(config::ConfigNode& config, ErrorMode default_mode) {
  const std::string fallback = default_mode == ErrorMode::kIgnore   ? "ignore"
                               : default_mode == ErrorMode::kSilent ? "silent"
                                                                    : "propagate";
  const std::string mode = config.getString("error_mode", fallback);
  if (mode == "ignore") return ErrorMode::kIgnore;
  if (mode == "silent") return ErrorMode::kSilent;
  if (mode == "propagate") return ErrorMode::kPropagate;
  config.addError("error_mode", strCat("unknown error mode \"", mode,
                                       "\" (expected ignore, silent or propagate)"));
  return default_mode;
}

ErrorReporter::ErrorReporter(const pipeline::CreateSettings& settings, ErrorMode mode,
                             absl::Duration log_interval)
    : id_(settings.id.toString()),
      mode_(mode),
      errors_(&settings.metrics.counter("otlpd_processor_errors_total",
                                        "Errors processors met while processing telemetry "
                                        "(handled as their error_mode says).",
                                        {{"processor", id_}})),
      log_interval_ns_(absl::ToInt64Nanoseconds(log_interval)) {}

void ErrorReporter::report(std::string_view message) {
  errors_->add();
  if (mode_ == ErrorMode::kSilent) return;
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t next = next_log_ns_.load(std::memory_order_relaxed);
  if (now < next) return;
  if (!next_log_ns_.compare_exchange_strong(next, now + log_interval_ns_)) return;
  logging::warn("processor error", {{"processor", id_},
                                     {"error", message},
                                     {"error_mode", mode_ == ErrorMode::kIgnore ? "ignore"
                                                                                : "propagate"}});
}

EditingProcessor::EditingProcessor(const pipeline::CreateSettings& settings,
                                   pipeline::Signal signal,
                                   std::shared_ptr<pipeline::Consumer> next)
    : id_(settings.id.toString()),
      signal_(signal),
      next_(std::move(next)),
      dropped_items_(&settings.metrics.counter(
          "otlpd_processor_dropped_items_total",
          "Spans, data points and log records processors removed on purpose (filters, samplers).",
          {{"processor", id_}, {"signal", std::string(pipeline::signalName(signal))}})) {}

absl::Status EditingProcessor::consume(pipeline::Batch&& batch) {
  std::string serialized;
  std::string_view request;
  if (auto wire = batch.wireBytes()) {
    request = *wire;
  } else {
    // Decoded batches (OTLP/JSON, merged and split ones) are edited in their encoded form too.
    if (!batch.request().SerializeToString(&serialized)) {
      return absl::InternalError("cannot encode the batch for editing");
    }
    request = serialized;
  }
  current_metadata = batch.metadata();
  absl::StatusOr<otlp::RewriteResult> result = rewrite(request);
  current_metadata = nullptr;
  if (!result.ok()) return result.status();
  if (result->dropped != 0) dropped_items_->add(result->dropped);
  if (!result->changed) return next_->consume(std::move(batch));
  if (result->items == 0 && result->dropped != 0) return absl::OkStatus();  // all dropped on purpose
  pipeline::Batch edited = pipeline::Batch::fromWire(
      signal_, pipeline::WireBytes::fromString(std::move(result->bytes)), result->items);
  edited.reserveLike(batch);
  edited.setMetadata(batch.sharedMetadata());
  return next_->consume(std::move(edited));
}

}  // namespace otlpd::processors
