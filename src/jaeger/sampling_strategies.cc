#include "jaeger/sampling_strategies.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace otlpd::jaeger {
namespace {

using nlohmann::json;

absl::Status bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(strCat("sampling strategies: ", where, ": ", what));
}

absl::Status readOperations(const json& list, std::string_view where,
                            std::vector<OperationStrategy>& out) {
  if (!list.is_array()) return bad(where, "operation_strategies must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& op = list[i];
    const std::string at = strCat(where, ".operation_strategies[", i, "]");
    if (!op.is_object()) return bad(at, "must be an object");
    const auto name = op.find("operation");
    if (name == op.end() || !name->is_string()) return bad(at, "operation must be a string");
    const auto type = op.find("type");
    if (type != op.end() && (!type->is_string() || type->get<std::string>() != "probabilistic")) {
      return bad(at, "operations take type probabilistic only");
    }
    const auto param = op.find("param");
    if (param == op.end() || !param->is_number()) return bad(at, "param must be a number");
    const double rate = param->get<double>();
    if (!(rate >= 0 && rate <= 1)) return bad(at, "param must be between 0 and 1");
    out.push_back({name->get<std::string>(), rate});
  }
  return absl::OkStatus();
}

absl::Status readStrategy(const json& object, std::string_view where, Strategy& out) {
  if (!object.is_object()) return bad(where, "must be an object");
  const auto type = object.find("type");
  if (type != object.end()) {
    const std::string name = type->is_string() ? type->get<std::string>() : "";
    if (name == "probabilistic") {
      out.type = Strategy::Type::kProbabilistic;
    } else if (name == "ratelimiting") {
      out.type = Strategy::Type::kRateLimiting;
    } else {
      return bad(where, "type must be probabilistic or ratelimiting");
    }
  }
  const auto param = object.find("param");
  if (param != object.end()) {
    if (!param->is_number()) return bad(where, "param must be a number");
    out.param = param->get<double>();
  }
  if (out.type == Strategy::Type::kProbabilistic && !(out.param >= 0 && out.param <= 1)) {
    return bad(where, "a probabilistic param must be between 0 and 1");
  }
  if (out.type == Strategy::Type::kRateLimiting && !(out.param >= 0 && out.param <= 1e9)) {
    return bad(where, "a ratelimiting param must be a non-negative number of traces per second");
  }
  if (const auto ops = object.find("operation_strategies"); ops != object.end()) {
    if (absl::Status s = readOperations(*ops, where, out.operations); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SamplingStrategies> SamplingStrategies::parse(std::string_view text) {
  const json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return bad("file", "not valid JSON");
  if (!root.is_object()) return bad("file", "must be a JSON object");
  SamplingStrategies out;
  if (const auto d = root.find("default_strategy"); d != root.end()) {
    if (absl::Status s = readStrategy(*d, "default_strategy", out.default_); !s.ok()) return s;
  }
  if (const auto list = root.find("service_strategies"); list != root.end()) {
    if (!list->is_array()) return bad("service_strategies", "must be a list");
    for (size_t i = 0; i < list->size(); ++i) {
      const json& entry = (*list)[i];
      const std::string at = strCat("service_strategies[", i, "]");
      if (!entry.is_object()) return bad(at, "must be an object");
      const auto service = entry.find("service");
      if (service == entry.end() || !service->is_string()) return bad(at, "service is required");
      Strategy strategy;
      if (absl::Status s = readStrategy(entry, at, strategy); !s.ok()) return s;
      out.services_[service->get<std::string>()] = std::move(strategy);
    }
  }
  return out;
}

std::string SamplingStrategies::responseFor(std::string_view service) const {
  const auto it = services_.find(service);
  const Strategy& s = it == services_.end() ? default_ : it->second;
  json response = json::object();
  if (s.type == Strategy::Type::kRateLimiting) {
    response["strategyType"] = "RATE_LIMITING";
    response["rateLimitingSampling"] = {{"maxTracesPerSecond", static_cast<int64_t>(s.param)}};
  } else {
    response["strategyType"] = "PROBABILISTIC";
    response["probabilisticSampling"] = {{"samplingRate", s.param}};
  }
  // Per-operation rates, as Jaeger adds them: a service's own operations, or the default
  // strategy's for a service without a strategy of its own.
  if (!s.operations.empty() && s.type == Strategy::Type::kProbabilistic) {
    json operations = json::array();
    for (const OperationStrategy& op : s.operations) {
      operations.push_back({{"operation", op.operation},
                            {"probabilisticSampling", {{"samplingRate", op.sampling_rate}}}});
    }
    response["operationSampling"] = {{"defaultSamplingProbability", s.param},
                                     {"defaultLowerBoundTracesPerSecond", 0},
                                     {"perOperationStrategies", std::move(operations)}};
  }
  return response.dump();
}

}  // namespace otlpd::jaeger
