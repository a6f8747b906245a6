// Jaeger's sampling strategies file (the `--sampling.strategies-file` format, which the
// Collector's jaegerremotesampling extension serves from `source.file`): per-service and default
// strategies, probabilistic or rate limiting, with per-operation probabilistic overrides. Parsed
// once per (re)load; answers a service's strategy as the JSON of Jaeger's
// SamplingStrategyResponse (api_v2/sampling.proto in proto3 JSON, what `/sampling?service=`
// answers). Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace otlpd::jaeger {

struct OperationStrategy {
  std::string operation;
  double sampling_rate = 0;  // operations are probabilistic only
};

struct Strategy {
  enum class Type { kProbabilistic, kRateLimiting } type = Type::kProbabilistic;
  double param = 0.001;  // sampling rate, or max traces per second
  std::vector<OperationStrategy> operations;
};

class SamplingStrategies {
 public:
  // Jaeger's default without a file: probabilistic at 0.001.
  SamplingStrategies() = default;
  // The file's text; InvalidArgument naming the first problem.
  static absl::StatusOr<SamplingStrategies> parse(std::string_view json);

  // The SamplingStrategyResponse JSON for `service` (the default strategy for unknown ones).
  std::string responseFor(std::string_view service) const;

 private:
  std::map<std::string, Strategy, std::less<>> services_;
  Strategy default_;
};

}  // namespace otlpd::jaeger
