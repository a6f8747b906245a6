#include "processors/common/editing_processor.h"

#include "common/logging.h"
#include "common/strings.h"
#include "pipeline/traced_consumer.h"

namespace otlpd::processors {
namespace {
thread_local const pipeline::RequestMetadata* current_metadata = nullptr;
}  // namespace

const pipeline::RequestMetadata* EditingProcessor::batchMetadata() {
  return current_metadata;
}

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
  logging::warn("processor error",
                {{"processor", id_},
                 {"error", message},
                 {"error_mode", mode_ == ErrorMode::kIgnore ? "ignore" : "propagate"}});
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

absl::StatusOr<otlp::RewriteResult> EditingProcessor::rewrite(std::string_view request) {
  std::vector<std::unique_ptr<BatchEdit>> edits;
  if (std::unique_ptr<BatchEdit> edit = beginEdit()) edits.push_back(std::move(edit));
  if (edits.empty()) return otlp::RewriteResult{};
  return rewriteFused(request, edits, std::nullopt);
}

absl::StatusOr<otlp::RewriteResult> EditingProcessor::rewriteFused(
    std::string_view request, std::vector<std::unique_ptr<BatchEdit>>& edits,
    std::optional<size_t> items) {
  auto editorsOf = [&](auto get) {
    std::vector<std::remove_pointer_t<decltype(get(*edits.front()))>*> editors;
    editors.reserve(edits.size());
    for (auto& edit : edits) editors.push_back(get(*edit));
    return editors;
  };
  absl::StatusOr<otlp::RewriteResult> result;
  switch (signal_) {
    case pipeline::Signal::kTraces: {
      auto editors = editorsOf([](BatchEdit& e) { return e.traces(); });
      result = otlp::rewriteTraces(request, editors, items);
      break;
    }
    case pipeline::Signal::kLogs: {
      auto editors = editorsOf([](BatchEdit& e) { return e.logs(); });
      result = otlp::rewriteLogs(request, editors, items);
      break;
    }
    case pipeline::Signal::kMetrics: {
      auto editors = editorsOf([](BatchEdit& e) { return e.metrics(); });
      result = otlp::rewriteMetrics(request, editors, items);
      break;
    }
  }
  // Every edit adds up what it counted, also when another one failed.
  absl::Status failure;
  for (auto& edit : edits) {
    if (absl::Status s = edit->finish(); !s.ok() && failure.ok()) failure = s;
  }
  if (!failure.ok()) return failure;
  return result;
}

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
  // The run of editing processors that starts here walks the request once.
  std::vector<EditingProcessor*> run{this};
  if (editsInOneWalk()) {
    for (auto* p = dynamic_cast<EditingProcessor*>(pipeline::untraced(next_.get()));
         p != nullptr && p->editsInOneWalk() && p->signal_ == signal_;
         p = dynamic_cast<EditingProcessor*>(pipeline::untraced(p->next_.get()))) {
      run.push_back(p);
    }
  }
  current_metadata = batch.metadata();
  absl::StatusOr<otlp::RewriteResult> result;
  std::vector<EditingProcessor*> editing;  // the processors of the run with edits for this batch
  if (run.size() == 1) {
    result = rewrite(request);
    editing.push_back(this);
  } else {
    std::vector<std::unique_ptr<BatchEdit>> edits;
    for (EditingProcessor* p : run) {
      if (std::unique_ptr<BatchEdit> edit = p->beginEdit()) {
        edits.push_back(std::move(edit));
        editing.push_back(p);
      }
    }
    // A batch that does not know its count (0) gets it counted by the walk, so that "all
    // dropped" is never concluded from a missing count.
    const size_t known = batch.itemCount();
    result = edits.empty() ? otlp::RewriteResult{}
                           : rewriteFused(request, edits,
                                          known > 0 ? std::optional<size_t>(known) : std::nullopt);
  }
  current_metadata = nullptr;
  if (!result.ok()) return result.status();
  if (result->dropped_by_editor.size() == editing.size()) {
    for (size_t i = 0; i < editing.size(); ++i) {
      if (result->dropped_by_editor[i] != 0) {
        editing[i]->dropped_items_->add(result->dropped_by_editor[i]);
      }
    }
  } else if (result->dropped != 0) {
    dropped_items_->add(result->dropped);
  }
  pipeline::Consumer& downstream = *run.back()->next_;
  if (!result->changed) return downstream.consume(std::move(batch));
  if (result->items == 0 && result->dropped != 0)
    return absl::OkStatus();  // all dropped on purpose
  pipeline::Batch edited = pipeline::Batch::fromWire(
      signal_, pipeline::WireBytes::fromString(std::move(result->bytes)), result->items);
  edited.reserveLike(batch);
  edited.setMetadata(batch.sharedMetadata());
  return downstream.consume(std::move(edited));
}

}  // namespace otlpd::processors
