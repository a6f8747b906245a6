// The `spanmetrics` connector (the OpenTelemetry Collector's, keys and defaults alike): the
// exporter end of traces pipelines, the receiver end of metrics pipelines. Every span it is given
// counts in R.E.D. metrics — `<namespace>.calls` and `<namespace>.duration` per service, span
// name, kind, status code and configured dimensions — which a flush thread hands to the metrics
// pipelines every metrics_flush_interval, and once more at shutdown.
//
// Placed before a sampler, the metrics count every span while only some traces are kept.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "connectors/spanmetrics/aggregator.h"
#include "connectors/spanmetrics/config.h"
#include "pipeline/factory.h"

namespace otlpd::connectors::spanmetrics {

std::unique_ptr<pipeline::ConnectorFactory> makeSpanMetricsFactory();

class SpanMetricsConnector final : public pipeline::Connector {
 public:
  using Clock = std::function<absl::Time()>;

  SpanMetricsConnector(const pipeline::CreateSettings& settings, Config config,
                       std::vector<pipeline::ConnectorOutput> outputs, Clock clock = &absl::Now);
  ~SpanMetricsConnector() override;

  std::shared_ptr<pipeline::Consumer> input(pipeline::Signal signal) override;
  absl::Status start(pipeline::Host& host) override;
  // Stops the flush thread, then flushes once so the last interval's spans are not lost.
  absl::Status shutdown() override;

  // Builds the metrics as of now and hands them to every output pipeline: what the flush thread
  // does each interval. The first output's error, if any, is returned (each output is tried).
  absl::Status flushNow();

  const Aggregator& aggregator() const { return *aggregator_; }

 private:
  class TracesInput;
  void run();

  std::string id_;
  Config config_;
  std::vector<pipeline::ConnectorOutput> outputs_;
  Clock clock_;
  common::MetricsRegistry& metrics_;
  std::vector<uint64_t> callbacks_;
  common::Counter* flushes_;
  common::Counter* flush_failures_;
  std::shared_ptr<Aggregator> aggregator_;
  std::shared_ptr<TracesInput> input_;

  std::mutex flush_mu_;  // one flush at a time, so cumulative points go out in order
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread flusher_;
};

}  // namespace otlpd::connectors::spanmetrics
