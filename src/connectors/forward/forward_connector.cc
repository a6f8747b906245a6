#include "connectors/forward/forward_connector.h"

#include <map>

#include "pipeline/fanout.h"

namespace otlpd::connectors::forward {
namespace {

class ForwardConnector final : public pipeline::Connector {
 public:
  explicit ForwardConnector(const std::vector<pipeline::ConnectorOutput>& outputs) {
    std::map<pipeline::Signal, std::vector<std::shared_ptr<pipeline::Consumer>>> by_signal;
    for (const auto& output : outputs) by_signal[output.signal].push_back(output.head);
    for (auto& [signal, heads] : by_signal) next_[signal] = pipeline::fanOut(std::move(heads));
  }

  absl::Status start(pipeline::Host&) override { return absl::OkStatus(); }
  absl::Status shutdown() override { return absl::OkStatus(); }

  // The pipelines fed are the consumer itself: a batch passes without a hop or a copy. Null when
  // none of the pipelines of `signal` it feeds could be built (their config errors are reported).
  std::shared_ptr<pipeline::Consumer> input(pipeline::Signal signal) override {
    auto it = next_.find(signal);
    return it == next_.end() ? nullptr : it->second;
  }

 private:
  std::map<pipeline::Signal, std::shared_ptr<pipeline::Consumer>> next_;
};

class ForwardConnectorFactory final : public pipeline::ConnectorFactory {
 public:
  std::string_view type() const override { return "forward"; }
  bool supportsPair(pipeline::Signal from, pipeline::Signal to) const override {
    return from == to;
  }
  absl::StatusOr<std::unique_ptr<pipeline::Connector>> create(
      const pipeline::CreateSettings&, config::ConfigNode&, std::vector<pipeline::Signal>,
      std::vector<pipeline::ConnectorOutput> outputs) const override {
    return std::make_unique<ForwardConnector>(outputs);
  }
};

}  // namespace

std::unique_ptr<pipeline::ConnectorFactory> makeForwardConnectorFactory() {
  return std::make_unique<ForwardConnectorFactory>();
}

}  // namespace otlpd::connectors::forward
