#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace otlpd::pipeline {

enum class Signal { kTraces = 0, kMetrics = 1, kLogs = 2 };

inline constexpr std::array<Signal, 3> kAllSignals = {Signal::kTraces, Signal::kMetrics,
                                                      Signal::kLogs};

// "traces", "metrics", "logs": the spelling of service.pipelines keys.
std::string_view signalName(Signal signal);
std::optional<Signal> parseSignal(std::string_view name);

// What one item of the signal is called in metric names and messages: "spans", "metric_points",
// "log_records" (the Collector's names).
std::string_view itemName(Signal signal);

}  // namespace otlpd::pipeline
