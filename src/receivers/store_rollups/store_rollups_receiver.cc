#include "receivers/store_rollups/store_rollups_receiver.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"

namespace otlpd::receivers::store_rollups {

namespace {

void readHistogram(config::ConfigNode histogram, store::SpanMetricsOptions& o) {
  o.histogram_disabled = histogram.getBool("disable", false);
  const std::string unit = histogram.getString("unit", "ms");
  if (unit == "s") {
    o.seconds = true;
  } else if (unit != "ms") {
    histogram.addError("unit", strCat("must be ms or s, got '", unit, "'"));
  }
  if (histogram.has("exponential")) {
    // The rollups' own buckets are logarithmic but not on OTLP's base-2 scales: re-bucketing
    // them into an exponential histogram would add a second error for no gain.
    histogram.addError("exponential",
                       "not supported by store_rollups: use explicit buckets (the rollups are "
                       "re-bucketed into them within 1%, docs/CONNECTORS.md)");
    (void)histogram.child("exponential");
  }
  if (histogram.has("explicit")) {
    config::ConfigNode explicit_node = histogram.child("explicit");
    if (explicit_node.has("buckets")) {
      const std::vector<std::string> texts = explicit_node.getStringList("buckets");
      std::vector<uint64_t> bounds;
      bool ok = true;
      for (size_t i = 0; i < texts.size(); ++i) {
        absl::StatusOr<absl::Duration> d = config::parseDuration(texts[i]);
        const std::string key = strCat("buckets[", i, "]");
        if (!d.ok()) {
          explicit_node.addError(key, std::string(d.status().message()));
          ok = false;
          continue;
        }
        const int64_t ns = absl::ToInt64Nanoseconds(*d);
        if (ns < 0 || (!bounds.empty() && static_cast<uint64_t>(ns) <= bounds.back())) {
          explicit_node.addError(key, "buckets must be in increasing order without repeats");
          ok = false;
        }
        bounds.push_back(static_cast<uint64_t>(ns));
      }
      if (ok) o.explicit_bounds_ns = std::move(bounds);
    }
    explicit_node.rejectUnknownKeys();
  }
  histogram.rejectUnknownKeys();
}

}  // namespace

Config parseConfig(config::ConfigNode& config) {
  Config c;
  c.directory = config.getString("directory", c.directory);
  if (c.directory.empty()) config.addError("directory", "must not be empty");
  c.collection_interval = config.getDuration("collection_interval", c.collection_interval);
  if (c.collection_interval < absl::Seconds(1)) {
    config.addError("collection_interval", "must be at least 1s");
  }
  c.metrics.metrics_namespace = config.getString("namespace", c.metrics.metrics_namespace);
  readHistogram(config.child("histogram"), c.metrics);
  const std::string temporality =
      config.getString("aggregation_temporality", "AGGREGATION_TEMPORALITY_CUMULATIVE");
  if (temporality == "AGGREGATION_TEMPORALITY_DELTA") {
    c.metrics.delta = true;
  } else if (temporality != "AGGREGATION_TEMPORALITY_CUMULATIVE") {
    config.addError("aggregation_temporality",
                    "must be AGGREGATION_TEMPORALITY_CUMULATIVE or AGGREGATION_TEMPORALITY_DELTA");
  }
  for (const std::string& name : config.getStringList("exclude_dimensions")) {
    if (name == "span.name") {
      c.metrics.exclude_span_name = true;
    } else if (name == "span.kind") {
      c.metrics.exclude_span_kind = true;
    } else if (name == "status.code") {
      c.metrics.exclude_status_code = true;
    } else {
      config.addError("exclude_dimensions",
                      strCat("'", name,
                             "': only span.name, span.kind and status.code can be "
                             "excluded (the rollups are kept per service)"));
    }
  }
  config.rejectUnknownKeys();
  return c;
}

StoreRollupsReceiver::StoreRollupsReceiver(const pipeline::CreateSettings& settings, Config config,
                                           std::shared_ptr<pipeline::Consumer> next, Clock clock)
    : id_(settings.id.toString()),
      config_(std::move(config)),
      next_(std::move(next)),
      clock_(std::move(clock)),
      exports_(&settings.metrics.counter("otlpd_receiver_store_rollups_exports_total",
                                         "Span metrics from the store's rollups a metrics "
                                         "pipeline accepted.",
                                         {{"receiver", id_}})),
      export_failures_(&settings.metrics.counter(
          "otlpd_receiver_store_rollups_export_failures_total",
          "Span metrics from the store's rollups a metrics pipeline refused (the next export "
          "carries them again).",
          {{"receiver", id_}})),
      read_failures_(&settings.metrics.counter("otlpd_receiver_store_rollups_read_failures_total",
                                               "Failed or partly corrupt reads of rollup files.",
                                               {{"receiver", id_}})),
      points_(&settings.metrics.counter("otlpd_receiver_store_rollups_data_points_total",
                                        "Data points handed to the metrics pipeline.",
                                        {{"receiver", id_}})),
      follower_(config_.directory) {}

StoreRollupsReceiver::~StoreRollupsReceiver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable()) timer_.join();
}

absl::Status StoreRollupsReceiver::start(pipeline::Host&) {
  {
    std::lock_guard collect(collect_mu_);
    // Counting starts now: frames written so far and rows the writer holds are not counted.
    if (auto live = store::liveRollupSnapshot(config_.directory)) {
      follower_.setLastSeq(live->last_seq);
      pending_at_start_.add(live->pending, config_.metrics);
    } else {
      (void)follower_.poll(std::numeric_limits<uint64_t>::max(), nullptr);
    }
    start_ns_ = absl::ToUnixNanos(clock_());
    last_export_ns_ = start_ns_;
  }
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return absl::OkStatus();
  started_ = true;
  timer_ = std::thread([this] { run(); });
  return absl::OkStatus();
}

absl::Status StoreRollupsReceiver::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return absl::OkStatus();
    stopping_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable()) timer_.join();
  // Receivers stop before the pipeline behind them: the last totals still reach it.
  return collectNow();
}

void StoreRollupsReceiver::run() {
  std::unique_lock lock(mu_);
  auto next = std::chrono::steady_clock::now();
  const auto interval = absl::ToChronoNanoseconds(config_.collection_interval);
  while (!stopping_) {
    next += interval;
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    (void)collectNow();  // failures are counted and logged there
    lock.lock();
  }
}

// Everything accounted since start: the frames given so far plus (in this process) the rows not
// in a frame yet, minus the rows that were in memory at start. Those rows are all in the first
// frame written after start, or still in memory, so the difference never goes below zero.
store::SpanMetricsTotals StoreRollupsReceiver::readTotals() {
  const std::optional<store::RollupWriter::Snapshot> live =
      store::liveRollupSnapshot(config_.directory);
  // Frames after the snapshot hold rows the snapshot has: read up to it only.
  const uint64_t up_to = live ? live->last_seq : std::numeric_limits<uint64_t>::max();
  const uint64_t corrupt_before = follower_.corruptFrames();
  const std::string err = follower_.poll(
      up_to, [&](const store::RollupSegment& s) { frames_.add(s, config_.metrics); });
  if (!err.empty() || follower_.corruptFrames() != corrupt_before) {
    read_failures_->add();
    logging::warn("store_rollups: reading the rollup files failed",
                  {{"receiver", id_},
                   {"directory", config_.directory},
                   {"error", err.empty() ? std::string("corrupt frame") : err}});
  }
  store::SpanMetricsTotals totals = frames_;
  if (live) {
    store::SpanMetricsTotals pending;
    pending.add(live->pending, config_.metrics);
    totals.add(pending);
  }
  totals.subtract(pending_at_start_);
  return totals;
}

absl::Status StoreRollupsReceiver::collectNow() {
  std::lock_guard collect(collect_mu_);
  const int64_t now_ns = absl::ToUnixNanos(clock_());
  store::SpanMetricsTotals totals = readTotals();
  std::vector<store::SpanMetricPoint> points;
  for (const auto& [key, t] : totals.series()) {
    if (t.empty()) continue;
    auto seen = first_seen_.try_emplace(key, last_export_ns_).first;
    store::SpanMetricPoint p;
    p.key = key;
    p.time_unix_nano = now_ns;
    if (config_.metrics.delta) {
      auto prev = exported_.find(key);
      p.totals = prev == exported_.end() ? t : t.minus(prev->second);
      // As the connector: a series without spans in the interval is not reported.
      if (p.totals.empty()) continue;
      p.start_unix_nano = last_export_ns_;
    } else {
      p.totals = t;
      p.start_unix_nano = seen->second;
    }
    points.push_back(std::move(p));
  }
  if (points.empty() || !next_) {
    last_export_ns_ = now_ns;
    return absl::OkStatus();
  }
  const otlp::MetricsRequest request = store::spanMetricsRequest(points, config_.metrics);
  const size_t data_points = points.size() * (config_.metrics.histogram_disabled ? 1 : 2);
  const absl::Status s = next_->consume(pipeline::Batch::fromWire(
      pipeline::Signal::kMetrics, pipeline::WireBytes::fromString(request.SerializeAsString()),
      data_points));
  if (!s.ok()) {
    // Cumulative: the next export carries the totals. Delta: the next interval starts where the
    // last accepted one ended, so what this one held is not lost.
    export_failures_->add();
    if (!failing_) {
      failing_ = true;
      logging::warn("store_rollups: span metrics refused by the metrics pipeline",
                    {{"receiver", id_}, {"data_points", data_points}, {"error", s}});
    }
    return s;
  }
  failing_ = false;
  exports_->add();
  points_->add(data_points);
  last_export_ns_ = now_ns;
  if (config_.metrics.delta) exported_ = totals.series();
  return absl::OkStatus();
}

namespace {

class StoreRollupsReceiverFactory final : public pipeline::ReceiverFactory {
 public:
  std::string_view type() const override { return "store_rollups"; }
  bool supports(pipeline::Signal s) const override { return s == pipeline::Signal::kMetrics; }
  absl::StatusOr<std::unique_ptr<pipeline::Receiver>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::SignalConsumers next) const override {
    Config c = parseConfig(config);
    return std::make_unique<StoreRollupsReceiver>(settings, std::move(c), next.metrics);
  }
};

}  // namespace

std::unique_ptr<pipeline::ReceiverFactory> makeStoreRollupsReceiverFactory() {
  return std::make_unique<StoreRollupsReceiverFactory>();
}

}  // namespace otlpd::receivers::store_rollups
