#include "pipeline/signal.h"

namespace otlpd::pipeline {

std::string_view signalName(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return "traces";
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
  }
  return "unknown";
}

std::optional<Signal> parseSignal(std::string_view name) {
  for (Signal s : kAllSignals) {
    if (signalName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view itemName(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return "spans";
    case Signal::kMetrics:
      return "metric_points";
    case Signal::kLogs:
      return "log_records";
  }
  return "items";
}

}  // namespace otlpd::pipeline
