#pragma once

#include <memory>
#include <vector>

#include "pipeline/component.h"

namespace otlpd::pipeline {

// Hands one batch to several consumers. Readers share the batch (copies of a Batch share its
// request); a mutating consumer's first change clones it, so nobody sees another's edits.
class FanOutConsumer final : public Consumer {
 public:
  explicit FanOutConsumer(std::vector<std::shared_ptr<Consumer>> consumers);
  absl::Status consume(Batch&& batch) override;
  bool mutatesData() const override;

 private:
  std::vector<std::shared_ptr<Consumer>> consumers_;
};

// One consumer when there is one, a fan-out when there are more.
std::shared_ptr<Consumer> fanOut(std::vector<std::shared_ptr<Consumer>> consumers);

}  // namespace otlpd::pipeline
