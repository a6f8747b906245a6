#include "jaeger/sampling_strategies.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace otlpd::jaeger {
namespace {

using nlohmann::json;

// A file in Jaeger's strategies format, as Jaeger's documentation shows it.
constexpr std::string_view kFile = R"({
  "service_strategies": [
    {"service": "foo", "type": "probabilistic", "param": 0.8,
     "operation_strategies": [{"operation": "op1", "type": "probabilistic", "param": 0.2},
                              {"operation": "op2", "type": "probabilistic", "param": 0.4}]},
    {"service": "bar", "type": "ratelimiting", "param": 5}
  ],
  "default_strategy": {"type": "probabilistic", "param": 0.5}
})";

TEST(SamplingStrategies, AnswersEachServiceAndTheDefault) {
  auto strategies = SamplingStrategies::parse(kFile);
  ASSERT_TRUE(strategies.ok()) << strategies.status();
  EXPECT_EQ(json::parse(strategies->responseFor("foo")), json::parse(R"({
    "strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.8},
    "operationSampling": {"defaultSamplingProbability": 0.8, "defaultLowerBoundTracesPerSecond": 0,
      "perOperationStrategies": [
        {"operation": "op1", "probabilisticSampling": {"samplingRate": 0.2}},
        {"operation": "op2", "probabilisticSampling": {"samplingRate": 0.4}}]}})"));
  EXPECT_EQ(json::parse(strategies->responseFor("bar")), json::parse(R"({
    "strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}})"));
  EXPECT_EQ(json::parse(strategies->responseFor("unknown")), json::parse(R"({
    "strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}})"));
  // Without a file: Jaeger's default, probabilistic at 0.001.
  EXPECT_EQ(json::parse(SamplingStrategies().responseFor("x")), json::parse(R"({
    "strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.001}})"));
}

TEST(SamplingStrategies, BadFilesNameTheProblem) {
  for (auto [text, message] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"not json", "not valid JSON"},
           {"[]", "must be a JSON object"},
           {R"({"service_strategies": [{"type": "probabilistic", "param": 0.1}]})",
            "service_strategies[0]: service is required"},
           {R"({"default_strategy": {"type": "always"}})", "type must be probabilistic or"},
           {R"({"default_strategy": {"type": "probabilistic", "param": 2}})", "between 0 and 1"},
           {R"({"service_strategies": [{"service": "a", "param": 0.1,
                "operation_strategies": [{"operation": "x", "param": "high"}]}]})",
            "operation_strategies[0]: param must be a number"}}) {
    auto parsed = SamplingStrategies::parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(std::string(parsed.status().message()).find(message), std::string::npos)
        << parsed.status();
  }
}

}  // namespace
}  // namespace otlpd::jaeger
