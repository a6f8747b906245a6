// The prometheus receiver: config → scrape manager. Creating it reads and checks the config only;
// start() resolves targets and begins scraping.
#include "common/logging.h"
#include "receivers/prometheus/config.h"
#include "receivers/prometheus/factory.h"
#include "receivers/prometheus/scrape_manager.h"

namespace otlpd::receivers::prometheus {
namespace {

class PrometheusReceiver final : public pipeline::Receiver {
 public:
  PrometheusReceiver(const pipeline::CreateSettings& settings, PrometheusReceiverConfig config,
                     std::shared_ptr<pipeline::Consumer> next)
      : id_(settings.id.toString()),
        config_(std::move(config)),
        metrics_(settings.metrics),
        memory_(settings.memory),
        next_(std::move(next)) {}

  ~PrometheusReceiver() override { (void)shutdown(); }

  absl::Status start(pipeline::Host&) override {
    ScrapeManagerOptions options;
    options.receiver_id = id_;
    options.next = next_;
    options.metrics = &metrics_;
    options.memory = memory_;
    auto manager = ScrapeManager::start(std::move(options), config_);
    if (!manager.ok()) return manager.status();
    manager_ = *std::move(manager);
    size_t static_targets = 0;
    for (const ScrapeConfig& c : config_.scrape_configs) {
      for (const TargetGroup& g : c.static_configs) static_targets += g.targets.size();
    }
    logging::info("receiver scraping", {{"receiver", id_},
                                        {"jobs", config_.scrape_configs.size()},
                                        {"static_targets", static_targets}});
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    if (manager_) {
      manager_->stop();
      manager_.reset();
    }
    return absl::OkStatus();
  }

 private:
  std::string id_;
  PrometheusReceiverConfig config_;
  common::MetricsRegistry& metrics_;
  pipeline::MemoryBudget* memory_;
  std::shared_ptr<pipeline::Consumer> next_;
  std::unique_ptr<ScrapeManager> manager_;
};

class PrometheusReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "prometheus"; }
  bool supports(pipeline::Signal signal) const override {
    return signal == pipeline::Signal::kMetrics;
  }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    PrometheusReceiverConfig cfg = parsePrometheusReceiverConfig(config);
    return std::make_unique<PrometheusReceiver>(settings, std::move(cfg), next.metrics);
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makePrometheusReceiverFactory() {
  return std::make_unique<PrometheusReceiverFactory>();
}

}  // namespace otlpd::receivers::prometheus
