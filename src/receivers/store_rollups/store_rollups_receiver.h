// The `store_rollups` receiver: the per-minute span rollups a `store` exporter keeps
// (docs/STORAGE.md, "Rollups") as spanmetrics-named OTLP metrics in a metrics pipeline, so that
// the numbers the Services page shows can also go to Prometheus (prometheus,
// prometheusremotewrite) or any OTLP backend without a second aggregation of the spans.
//
// It reads the store's directory (never the exporter): every `collection_interval` it adds the
// rollup frames written since the last time (each frame once, by its number) and, when the store
// is written by this process, the rows the writer holds in memory. Counting starts when the
// receiver starts, as the spanmetrics connector's does; with cumulative temporality a point
// carries the totals since then, with delta those since the previous accepted export.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "pipeline/factory.h"
#include "store/rollup_metrics.h"
#include "store/rollup_store.h"

namespace otlpd::common {
class Counter;
}

namespace otlpd::receivers::store_rollups {

struct Config {
  std::string directory = "./otlpd-data";  // the store exporter's `directory`
  absl::Duration collection_interval = absl::Seconds(60);
  store::SpanMetricsOptions metrics;
};

Config parseConfig(config::ConfigNode& config);

class StoreRollupsReceiver final : public pipeline::Receiver {
 public:
  using Clock = std::function<absl::Time()>;
  StoreRollupsReceiver(const pipeline::CreateSettings& settings, Config config,
                       std::shared_ptr<pipeline::Consumer> next, Clock clock = absl::Now);
  ~StoreRollupsReceiver() override;

  absl::Status start(pipeline::Host& host) override;
  absl::Status shutdown() override;

  // Reads what is new and hands the metrics to the pipeline (what the timer does; tests call it).
  absl::Status collectNow();

 private:
  void run();
  store::SpanMetricsTotals readTotals();

  const std::string id_;
  const Config config_;
  std::shared_ptr<pipeline::Consumer> next_;
  Clock clock_;
  common::Counter* exports_;
  common::Counter* export_failures_;
  common::Counter* read_failures_;
  common::Counter* points_;

  std::mutex collect_mu_;  // one collection at a time
  store::RollupFrameFollower follower_;
  store::SpanMetricsTotals frames_;            // the frames given since start
  store::SpanMetricsTotals pending_at_start_;  // rows in memory at start (not counted)
  std::map<store::SpanSeriesKey, store::SpanSeriesTotals> exported_;  // delta: last accepted
  std::map<store::SpanSeriesKey, int64_t> first_seen_;
  int64_t start_ns_ = 0;
  int64_t last_export_ns_ = 0;
  bool failing_ = false;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread timer_;
};

std::unique_ptr<pipeline::ReceiverFactory> makeStoreRollupsReceiverFactory();

}  // namespace otlpd::receivers::store_rollups
