#include "pipeline/fanout.h"

#include <cassert>

namespace otlpd::pipeline {

FanOutConsumer::FanOutConsumer(std::vector<std::shared_ptr<Consumer>> consumers)
    : consumers_(std::move(consumers)) {
  assert(!consumers_.empty());
}

absl::Status FanOutConsumer::consume(Batch&& batch) {
  // Every consumer gets the data even when one fails; the first failure is reported so the
  // receiver can tell the client. Retryable failures are only returned when no consumer failed
  // permanently, since a retry cannot fix permanent ones.
  absl::Status result;
  for (size_t i = 0; i < consumers_.size(); ++i) {
    absl::Status s = (i + 1 == consumers_.size()) ? consumers_[i]->consume(std::move(batch))
                                                  : consumers_[i]->consume(Batch(batch));
    if (s.ok()) continue;
    if (result.ok() || (s.code() == absl::StatusCode::kInvalidArgument &&
                        result.code() != absl::StatusCode::kInvalidArgument)) {
      result = std::move(s);
    }
  }
  return result;
}

bool FanOutConsumer::mutatesData() const {
  for (const auto& c : consumers_) {
    if (c->mutatesData()) return true;
  }
  return false;
}

std::shared_ptr<Consumer> fanOut(std::vector<std::shared_ptr<Consumer>> consumers) {
  if (consumers.size() == 1) return std::move(consumers.front());
  return std::make_shared<FanOutConsumer>(std::move(consumers));
}

}  // namespace otlpd::pipeline
