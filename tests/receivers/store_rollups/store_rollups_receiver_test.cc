#include "receivers/store_rollups/store_rollups_receiver.h"

#include <gtest/gtest.h>

#include <mutex>

#include "../../connectors/spanmetrics/spanmetrics_test_support.h"
#include "../../store/rollup_metrics_test_support.h"
#include "../../store/store_test_support.h"
#include "common/metrics_registry.h"
#include "config/loader.h"
#include "connectors/spanmetrics/aggregator.h"
#include "store/signal_store.h"

namespace otlpd::receivers::store_rollups {
namespace {

using store::testing::readSpanMetrics;
using store::testing::SeriesName;
using store::testing::SeriesNumbers;
using store::testing::spanMetricsRequests;

constexpr int64_t kBase = 1'700'000'000'000'000'000;

class Sink final : public pipeline::Consumer {
 public:
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(mu_);
    if (!refuse_.ok()) return refuse_;
    batches_.push_back(std::move(batch));
    return absl::OkStatus();
  }
  std::vector<pipeline::Batch> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  void refuse(absl::Status s) {
    std::lock_guard lock(mu_);
    refuse_ = std::move(s);
  }

 private:
  std::mutex mu_;
  std::vector<pipeline::Batch> batches_;
  absl::Status refuse_;
};

struct NoHost final : pipeline::Host {
  void publishEndpoint(const std::string&, const std::string&) override {}
};

store::StoreOptions storeOptions(const std::string& dir) {
  store::StoreOptions o;
  o.directory = dir;
  o.max_file_bytes = 64 << 10;  // rotates every few batches
  o.fsync = store::FsyncPolicy::kNever;
  o.rollups.interval = absl::Minutes(1);
  return o;
}

struct Fixture {
  common::MetricsRegistry metrics{common::MetricsRegistry::ProcessMetrics::kExclude};
  std::shared_ptr<Sink> sink = std::make_shared<Sink>();
  config::ConfigErrors errors;
  absl::Time now = absl::FromUnixNanos(kBase);

  std::unique_ptr<StoreRollupsReceiver> create(const std::string& yaml) {
    auto root = config::parseYaml(yaml, "test");
    EXPECT_TRUE(root.ok());
    config::ConfigNode node(*root, "receivers.store_rollups", errors);
    Config c = parseConfig(node);
    EXPECT_TRUE(errors.empty()) << errors.toString();
    return std::make_unique<StoreRollupsReceiver>(
        pipeline::CreateSettings{{"store_rollups", ""}, metrics}, std::move(c), sink,
        [this] { return now; });
  }
};

std::map<SeriesName, SeriesNumbers> fromConnector(
    const std::vector<otlp::TracesRequest>& requests) {
  connectors::spanmetrics::Aggregator aggregator(connectors::spanmetrics::testing::configFrom(""));
  for (const auto& r : requests) {
    EXPECT_TRUE(aggregator.add(r.SerializeAsString(), absl::FromUnixNanos(kBase)).ok());
  }
  otlp::MetricsRequest out;
  EXPECT_TRUE(out.ParseFromString(aggregator.flush(absl::FromUnixNanos(kBase)).request));
  return readSpanMetrics(out);
}

// The metrics of the sink's last batch (cumulative) or of all its batches added up (delta).
std::map<SeriesName, SeriesNumbers> received(Sink& sink, bool all) {
  std::map<SeriesName, SeriesNumbers> out;
  const auto batches = sink.batches();
  for (size_t i = all ? 0 : batches.size() - 1; i < batches.size(); ++i) {
    for (auto& [name, n] : readSpanMetrics(batches[i].metrics())) {
      SeriesNumbers& o = out[name];
      o.calls += n.calls;
      o.count += n.count;
      o.sum += n.sum;
      o.buckets.resize(n.buckets.size(), 0);
      for (size_t b = 0; b < n.buckets.size(); ++b) o.buckets[b] += n.buckets[b];
    }
  }
  return out;
}

void expectSame(const std::map<SeriesName, SeriesNumbers>& got,
                const std::map<SeriesName, SeriesNumbers>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << std::get<0>(name) << " " << std::get<1>(name);
    EXPECT_EQ(it->second.calls, w.calls);
    EXPECT_EQ(it->second.buckets, w.buckets);
    EXPECT_NEAR(it->second.sum, w.sum, 1e-9 * w.sum + 1e-9);
  }
}

// Spans the store takes before the receiver starts are not counted; every span after is counted
// once, whether it is still in the writer's memory or in a frame, across frames and rotation —
// and the totals are the spanmetrics connector's for the same spans.
void runLiveStore(bool delta) {
  store::testing::TempDir dir("store-rollups");
  store::testing::FakeClock clock;
  auto store =
      store::SignalStore::open(pipeline::Signal::kTraces, storeOptions(dir.path()), &clock);
  ASSERT_TRUE(store.ok()) << store.status();
  const auto before = spanMetricsRequests(7, 12, 50, kBase, 5, /*clear_of_bounds=*/true);
  const auto after = spanMetricsRequests(8, 48, 50, kBase, 5, /*clear_of_bounds=*/true);
  for (size_t i = 0; i < before.size(); ++i) {
    ASSERT_TRUE((*store)->append(before[i]).ok());
    if (i == 5) {  // a frame, then rows left in memory at the receiver's start
      clock.advance(absl::Minutes(2));
      ASSERT_TRUE((*store)->flush().ok());
    }
  }
  ASSERT_TRUE((*store)->flush().ok());

  Fixture f;
  auto receiver = f.create(std::string(delta ? "aggregation_temporality: "
                                               "AGGREGATION_TEMPORALITY_DELTA\n"
                                             : "") +
                           "collection_interval: 1h\ndirectory: " + dir.path());
  NoHost host;
  ASSERT_TRUE(receiver->start(host).ok());
  ASSERT_TRUE(receiver->collectNow().ok());
  EXPECT_TRUE(f.sink->batches().empty());  // nothing since start

  std::vector<otlp::TracesRequest> sent;
  for (size_t i = 0; i < after.size(); ++i) {
    ASSERT_TRUE((*store)->append(after[i]).ok());
    sent.push_back(after[i]);
    if (i % 5 == 4) {
      clock.advance(absl::Seconds(40));  // a frame every other flush
      ASSERT_TRUE((*store)->flush().ok());
    }
    if (i % 7 == 6) {
      ASSERT_TRUE((*store)->flush().ok());  // written (and accounted), no frame yet
      f.now += absl::Seconds(30);
      ASSERT_TRUE(receiver->collectNow().ok());
      SCOPED_TRACE(i);
      expectSame(received(*f.sink, delta), fromConnector(sent));
    }
  }
  EXPECT_GT((*store)->stats().rollups.frames_written, 3u);
  EXPECT_GT((*store)->stats().files_sealed, 0u);
  ASSERT_TRUE((*store)->flush().ok());
  f.now += absl::Seconds(30);
  ASSERT_TRUE(receiver->shutdown().ok());  // the last totals
  expectSame(received(*f.sink, delta), fromConnector(after));
  const auto last = f.sink->batches().back().metrics();
  const auto& sum = last.resource_metrics(0).scope_metrics(0).metrics(0).sum();
  EXPECT_EQ(sum.aggregation_temporality(),
            delta ? otlp::pb_metrics::AGGREGATION_TEMPORALITY_DELTA
                  : otlp::pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  ASSERT_TRUE((*store)->close().ok());
}

TEST(StoreRollupsReceiver, CumulativeEqualsTheConnectorOverALiveStore) {
  runLiveStore(false);
}
TEST(StoreRollupsReceiver, DeltasAddUpToTheConnectorOverALiveStore) {
  runLiveStore(true);
}

// A store written by another process (no writer here): frames only, each once.
TEST(StoreRollupsReceiver, FollowsTheFramesOfAStoreWrittenElsewhere) {
  store::testing::TempDir dir("store-rollups");
  store::testing::FakeClock clock;
  const auto before = spanMetricsRequests(9, 8, 40, kBase, 3, true);
  const auto after = spanMetricsRequests(10, 8, 40, kBase, 3, true);
  {
    auto store =
        store::SignalStore::open(pipeline::Signal::kTraces, storeOptions(dir.path()), &clock);
    ASSERT_TRUE(store.ok());
    for (const auto& r : before) ASSERT_TRUE((*store)->append(r).ok());
    ASSERT_TRUE((*store)->close().ok());  // writes the last frame
  }
  Fixture f;
  auto receiver = f.create("collection_interval: 1h\ndirectory: " + dir.path());
  NoHost host;
  ASSERT_TRUE(receiver->start(host).ok());
  ASSERT_TRUE(receiver->collectNow().ok());
  EXPECT_TRUE(f.sink->batches().empty());
  {
    // "Another process": the receiver runs in this one, so the writer must be gone before the
    // receiver reads (while it lives, its memory would be read too).
    auto store =
        store::SignalStore::open(pipeline::Signal::kTraces, storeOptions(dir.path()), &clock);
    ASSERT_TRUE(store.ok());
    for (const auto& r : after) ASSERT_TRUE((*store)->append(r).ok());
    ASSERT_TRUE((*store)->close().ok());
  }
  ASSERT_TRUE(receiver->collectNow().ok());
  ASSERT_TRUE(receiver->collectNow().ok());  // nothing new: the same totals again
  expectSame(received(*f.sink, false), fromConnector(after));
  ASSERT_TRUE(receiver->shutdown().ok());
}

TEST(StoreRollupsReceiver, ARefusedDeltaIsCarriedIntoTheNextExport) {
  store::testing::TempDir dir("store-rollups");
  store::testing::FakeClock clock;
  auto store =
      store::SignalStore::open(pipeline::Signal::kTraces, storeOptions(dir.path()), &clock);
  ASSERT_TRUE(store.ok());
  Fixture f;
  auto receiver = f.create(
      "collection_interval: 1h\naggregation_temporality: "
      "AGGREGATION_TEMPORALITY_DELTA\ndirectory: " +
      dir.path());
  NoHost host;
  ASSERT_TRUE(receiver->start(host).ok());
  const auto requests = spanMetricsRequests(11, 6, 30, kBase, 2, true);
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE((*store)->append(requests[i]).ok());
  ASSERT_TRUE((*store)->flush().ok());
  f.sink->refuse(absl::UnavailableError("full"));
  EXPECT_FALSE(receiver->collectNow().ok());
  f.sink->refuse(absl::OkStatus());
  for (size_t i = 3; i < requests.size(); ++i) ASSERT_TRUE((*store)->append(requests[i]).ok());
  ASSERT_TRUE((*store)->flush().ok());
  ASSERT_TRUE(receiver->collectNow().ok());
  ASSERT_EQ(f.sink->batches().size(), 1u);
  expectSame(received(*f.sink, true), fromConnector(requests));
  EXPECT_EQ(f.metrics
                .counter("otlpd_receiver_store_rollups_export_failures_total", "",
                         {{"receiver", "store_rollups"}})
                .value(),
            1u);
  ASSERT_TRUE(receiver->shutdown().ok());
  ASSERT_TRUE((*store)->close().ok());
}

TEST(StoreRollupsReceiver, ConfigErrors) {
  for (const char* yaml :
       {"histogram: { exponential: { max_size: 10 } }", "exclude_dimensions: [service.name]",
        "collection_interval: 10ms", "aggregation_temporality: SOMETIMES",
        "dimensions: [{name: a}]", "histogram: { explicit: { buckets: [10ms, 5ms] } }"}) {
    config::ConfigErrors errors;
    auto root = config::parseYaml(yaml, "test");
    ASSERT_TRUE(root.ok());
    config::ConfigNode node(*root, "receivers.store_rollups", errors);
    (void)parseConfig(node);
    EXPECT_FALSE(errors.empty()) << yaml;
  }
}

}  // namespace
}  // namespace otlpd::receivers::store_rollups
