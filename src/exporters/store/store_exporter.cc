#include "exporters/store/store_exporter.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "common/metrics_registry.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "pipeline/deferred_ack.h"
#include "pipeline/exporter_queue.h"
#include "store/signal_store.h"

namespace otlpd::exporters::store {
namespace {

using otlpd::store::SignalStore;
using otlpd::store::StoreOptions;
using otlpd::store::StoreStats;

// When the client's OK is sent: `interval` once the rows are in memory (durable within
// write_interval), `sync` once they are written and fdatasync'ed (group commit).
enum class Durability { kInterval, kSync };
// How long a request waits for the sync that covers it before the client is told to retry.
constexpr absl::Duration kMaxSyncWait = absl::Seconds(5);

class StoreExporter final : public pipeline::Exporter, public pipeline::Flushable {
 public:
  StoreExporter(const pipeline::CreateSettings& settings, pipeline::Signal signal,
                StoreOptions options, absl::Duration write_interval, Durability durability)
      : id_(settings.id.toString()),
        signal_(signal),
        options_(std::move(options)),
        write_interval_(write_interval),
        durability_(durability) {
    const common::Labels labels{{"exporter", id_},
                                {"signal", std::string(pipeline::signalName(signal))}};
    auto& m = settings.metrics;
    rows_ = &m.counter("otlpd_store_rows_written_total", "Rows written to store files.", labels);
    bytes_ = &m.counter("otlpd_store_bytes_written_total", "Bytes written to store files.", labels);
    batches_ = &m.counter("otlpd_store_batches_written_total", "Record batches written.", labels);
    sealed_ = &m.counter("otlpd_store_files_sealed_total", "Store files sealed.", labels);
    deleted_ =
        &m.counter("otlpd_store_files_deleted_total", "Store files deleted by retention.", labels);
    recovered_ = &m.counter("otlpd_store_files_recovered_total",
                            "Store files repaired after a crash.", labels);
    failures_ = &m.counter("otlpd_store_write_failures_total",
                           "Failed writes to store files (e.g. disk full).", labels);
    rollup_frames_ = &m.counter("otlpd_store_rollup_frames_written_total",
                                "Rollup frames (per-minute span rollups) written.", labels);
    rollup_failures_ = &m.counter("otlpd_store_rollup_write_failures_total",
                                  "Failed rollup frame writes (kept in memory, retried).", labels);
    rollup_replayed_ = &m.counter("otlpd_store_rollup_batches_replayed_total",
                                  "Span batches read again at start for the rollups.", labels);
    rollup_late_ = &m.counter("otlpd_store_rollup_late_children_total",
                              "Child spans whose parent did not arrive within the join window "
                              "(their dependency edge is not counted).",
                              labels);
    rollup_folded_ = &m.counter(
        "otlpd_store_rollup_folded_names_total",
        "Service or operation names the rollups counted under \"(other services)\" or "
        "\"(other operations)\": past 2,000 services, 2,000 operations per service or 50,000 "
        "operations per rollup interval (the span files keep every name).",
        labels);
    refused_ = &m.counter("otlpd_store_refused_items_total",
                          "Items refused as retryable because writes were failing.", labels);
    writer_waits_ = &m.counter(
        "otlpd_store_writer_waits_total",
        "Full batches that waited for the store's writer thread (backpressure: writing is "
        "slower than converting).",
        labels);
    sync_rounds_ = &m.counter(
        "otlpd_store_sync_rounds_total",
        "durability: sync: rounds of write + fdatasync, each covering every request waiting.",
        labels);
  }

  absl::Status start(pipeline::Host&) override {
    auto s = SignalStore::open(signal_, options_, otlpd::store::SystemClock::instance());
    if (!s.ok()) return s.status();
    store_ = *std::move(s);
    syncMetrics();
    flusher_ = std::thread([this] { run(); });
    if (durability_ == Durability::kSync) syncer_ = std::thread([this] { syncLoop(); });
    return absl::OkStatus();
  }

  absl::Status shutdown() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (flusher_.joinable()) flusher_.join();
    {
      std::lock_guard lock(sync_mu_);
      sync_stopping_ = true;
    }
    sync_cv_.notify_all();
    if (syncer_.joinable()) syncer_.join();  // answers every request still waiting first
    absl::Status st;
    if (store_) {
      st = store_->close();
      syncMetrics();
      store_.reset();
    }
    if (!st.ok()) {
      logging::error("store exporter could not write its last rows",
                     {{"exporter", id_}, {"error", st}});
    }
    return st;
  }

  // Writes the rows appended so far as a record batch now, not at the next write_interval: the
  // store's readers see them once this returns.
  absl::Status flush(absl::Time) override {
    if (!store_) return absl::FailedPreconditionError("the store is not open");
    absl::Status st = store_->flush();
    noteResult(st);
    syncMetrics();
    return st;
  }

  absl::Status consume(pipeline::Batch&& batch) override {
    // Batches still in wire form are converted from their bytes: decoding them would cost more
    // than the conversion itself.
    const std::optional<std::string_view> wire = batch.wireBytes();
    absl::Status st = wire ? store_->appendWire(*wire) : store_->append(batch.request());
    if (st.ok() && durability_ == Durability::kSync) {
      if (pipeline::DeferredAck* deferred = pipeline::DeferredAck::current()) {
        // The receiver can answer later: the syncer thread releases the hold after the round
        // that covers these rows, and no receiving thread waits meanwhile.
        {
          std::lock_guard lock(sync_mu_);
          // The syncer is gone once shutdown began: nobody would release the hold.
          if (sync_stopping_) return absl::UnavailableError("store: shutting down");
          sync_waiters_.push_back({deferred->hold(), batch.itemCount()});
        }
        sync_cv_.notify_one();
        return absl::OkStatus();
      }
      // The receiver answers when this returns: only once the rows are on disk. Waiting here
      // (instead of completing asynchronously) holds the receiving thread for one group commit;
      // bounded, so that a disk that hangs answers the client (retryable) instead of holding it.
      st = store_->syncAppended(kMaxSyncWait);
      if (!st.ok()) {
        // The rows stay pending and are written later, but the client is told to retry: it may
        // send them again (at-least-once), never lose them silently.
        st = absl::UnavailableError(strCat("store: rows not durable: ", st.message()));
      }
    }
    if (!st.ok()) {
      refused_->add(batch.itemCount());
      noteResult(st);
    }
    return st;
  }

 private:
  void run() {
    common::nameThisThread("store-flush");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, absl::ToChronoMilliseconds(write_interval_));
      if (stopping_) break;
      lock.unlock();
      noteResult(store_->flush());
      syncMetrics();
      lock.lock();
    }
  }

  // Group commit for receivers that answer later: every request appended before a round is
  // released by it.
  void syncLoop() {
    common::nameThisThread("store-sync");
    std::unique_lock lock(sync_mu_);
    for (;;) {
      sync_cv_.wait(lock, [this] { return !sync_waiters_.empty() || sync_stopping_; });
      if (sync_waiters_.empty()) return;  // stopping, nobody waiting
      std::vector<SyncWaiter> round;
      round.swap(sync_waiters_);
      lock.unlock();
      absl::Status st = store_->syncAppended();
      if (!st.ok()) {
        st = absl::UnavailableError(strCat("store: rows not durable: ", st.message()));
        noteResult(st);
        for (const SyncWaiter& w : round) refused_->add(w.items);
      }
      for (SyncWaiter& w : round) w.release(st);
      lock.lock();
    }
  }

  // One log line when writes start failing and one when they work again, not one per request.
  void noteResult(const absl::Status& st) {
    std::lock_guard lock(episode_mu_);
    if (!st.ok() && !failing_) {
      failing_ = true;
      logging::error("store writes failing; refusing data as retryable until they recover",
                     {{"exporter", id_}, {"signal", pipeline::signalName(signal_)}, {"error", st}});
    } else if (st.ok() && failing_) {
      failing_ = false;
      logging::info("store writes recovered",
                    {{"exporter", id_}, {"signal", pipeline::signalName(signal_)}});
    }
  }

  void syncMetrics() {
    std::lock_guard lock(episode_mu_);
    const StoreStats s = store_->stats();
    rows_->add(s.rows_written - last_.rows_written);
    bytes_->add(s.bytes_written - last_.bytes_written);
    batches_->add(s.batches_written - last_.batches_written);
    sealed_->add(s.files_sealed - last_.files_sealed);
    deleted_->add(s.files_deleted - last_.files_deleted);
    recovered_->add(s.files_recovered - last_.files_recovered);
    failures_->add(s.write_failures - last_.write_failures);
    writer_waits_->add(s.writer_waits - last_.writer_waits);
    rollup_frames_->add(s.rollups.frames_written - last_.rollups.frames_written);
    rollup_failures_->add(s.rollups.write_failures - last_.rollups.write_failures);
    rollup_replayed_->add(s.rollups.batches_replayed - last_.rollups.batches_replayed);
    rollup_late_->add(s.rollups.late_children - last_.rollups.late_children);
    rollup_folded_->add(s.rollups.folded_names - last_.rollups.folded_names);
    // One line per episode of failing rollup writes (their rows wait in memory meanwhile).
    if (s.rollups.write_failures > last_.rollups.write_failures && !rollups_failing_) {
      rollups_failing_ = true;
      logging::error("store rollup writes failing; rollups kept in memory and retried",
                     {{"exporter", id_}});
    } else if (s.rollups.frames_written > last_.rollups.frames_written && rollups_failing_) {
      rollups_failing_ = false;
      logging::info("store rollup writes recovered", {{"exporter", id_}});
    }
    last_ = s;
    const uint64_t rounds = store_->syncRounds();
    sync_rounds_->add(rounds - last_sync_rounds_);
    last_sync_rounds_ = rounds;
  }

  std::string id_;
  pipeline::Signal signal_;
  StoreOptions options_;
  absl::Duration write_interval_;
  Durability durability_;
  std::unique_ptr<SignalStore> store_;
  common::Counter *rows_, *bytes_, *batches_, *sealed_, *deleted_, *recovered_, *failures_,
      *refused_, *rollup_frames_, *rollup_failures_, *rollup_replayed_, *rollup_late_,
      *rollup_folded_, *sync_rounds_, *writer_waits_;
  uint64_t last_sync_rounds_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread flusher_;

  struct SyncWaiter {
    pipeline::DeferredAck::Done release;
    size_t items;
  };
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<SyncWaiter> sync_waiters_;
  bool sync_stopping_ = false;
  std::thread syncer_;

  std::mutex episode_mu_;
  bool failing_ = false;
  bool rollups_failing_ = false;
  StoreStats last_;
};

class StoreExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "store"; }
  bool supports(pipeline::Signal) const override { return true; }
  // With `durability: interval` create() puts the pipeline's in-memory queue in front (its OK is
  // the acknowledgement); with `sync` the receiver waits for the store itself.
  bool queuesInternally() const override { return true; }
  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      pipeline::Signal signal) const override {
    StoreOptions o;
    o.directory = config.getString("directory", "./otlpd-data");
    if (o.directory.empty()) config.addError("directory", "must not be empty");
    const absl::Duration interval = config.getDuration("write_interval", absl::Seconds(1));
    if (interval < absl::Milliseconds(10))
      config.addError("write_interval", "must be at least 10ms");
    o.max_rows_per_batch =
        static_cast<size_t>(config.getInt("max_rows_per_batch", 10000, 1, 1'000'000));
    const std::string codec = config.getString("compression", "zstd");
    if (auto c = otlpd::store::parseBodyCodec(codec)) {
      o.codec = *c;
    } else {
      config.addError("compression", "must be one of zstd, lz4, none");
    }
    const std::string fsync = config.getString("fsync", "batch");
    if (fsync == "batch") {
      o.fsync = otlpd::store::FsyncPolicy::kBatch;
    } else if (fsync == "rotate") {
      o.fsync = otlpd::store::FsyncPolicy::kRotate;
    } else if (fsync == "never") {
      o.fsync = otlpd::store::FsyncPolicy::kNever;
    } else {
      config.addError("fsync", "must be one of batch, rotate, never");
    }
    config::ConfigNode rotation = config.child("rotation");
    o.max_file_bytes = static_cast<uint64_t>(rotation.getInt("max_size_mib", 64, 1, 1 << 20)) << 20;
    o.max_file_age = rotation.getDuration("max_age", absl::Minutes(10));
    rotation.rejectUnknownKeys();
    config::ConfigNode retention = config.child("retention");
    o.retention = retention.getDuration("max_age", absl::Hours(72));
    o.max_total_bytes =
        static_cast<uint64_t>(retention.getInt("max_size_mib", 2048, 1, int64_t{1} << 30)) << 20;
    retention.rejectUnknownKeys();
    config::ConfigNode rollups = config.child("rollups");
    // Rollups are computed from spans: the key is read for every signal (one store exporter
    // may serve several pipelines) and applies to traces.
    o.rollups.enabled = rollups.getBool("enabled", true) && signal == pipeline::Signal::kTraces;
    o.rollups.retention = rollups.getDuration("retention", absl::Hours(24 * 30));
    if (o.rollups.retention < absl::Hours(1)) rollups.addError("retention", "must be at least 1h");
    o.rollups.interval = rollups.getDuration("interval", absl::Minutes(1));
    if (o.rollups.interval < absl::Seconds(1) || o.rollups.interval > absl::Hours(1)) {
      rollups.addError("interval", "must be between 1s and 1h");
    }
    o.rollups.join_window = rollups.getDuration("join_window", absl::Minutes(5));
    if (o.rollups.join_window < absl::ZeroDuration() || o.rollups.join_window > absl::Hours(1)) {
      rollups.addError("join_window", "must be between 0s and 1h");
    }
    o.rollups.max_join_spans =
        static_cast<size_t>(rollups.getInt("max_join_spans", 1'000'000, 1000, 100'000'000));
    rollups.rejectUnknownKeys();
    Durability durability = Durability::kInterval;
    const std::string durability_name = config.getString("durability", "interval");
    if (durability_name == "sync") {
      durability = Durability::kSync;
      if (o.fsync == otlpd::store::FsyncPolicy::kNever) {
        config.addError("durability", "sync needs fsync batch or rotate (fsync: never)");
      }
    } else if (durability_name != "interval") {
      config.addError("durability", "must be interval or sync");
    }
    auto exporter =
        std::make_unique<StoreExporter>(settings, signal, std::move(o), interval, durability);
    // The sending_queue key of the Collector's exporters, with the other default: a store is a
    // sink on this machine, and at saturation a client that waits costs nothing, while one that
    // is refused sends its whole request again (received in full each time: issue #18).
    pipeline::ExporterQueueOptions queue;
    queue.block_on_overflow = config.getBool("block_on_overflow", true);
    if (durability == Durability::kSync) return exporter;
    return pipeline::makeQueuedExporter(std::move(exporter), settings.id.toString(), signal,
                                        settings.metrics, queue);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeStoreExporterFactory() {
  return std::make_unique<StoreExporterFactory>();
}

}  // namespace otlpd::exporters::store
