// Test doubles for the loadbalancing exporter: a resolver the test drives, and in-process
// backends that keep what they were handed (or refuse it on demand).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exporters/helper/queued_exporter.h"
#include "exporters/loadbalancing/loadbalancing_exporter.h"
#include "otlp/proto.h"

namespace otlpd::exporters::loadbalancing::testing {

// Reports what the test sets, on the test's thread.
class ManualResolver final : public Resolver {
 public:
  explicit ManualResolver(std::optional<std::vector<std::string>> initial = std::nullopt)
      : initial_(std::move(initial)) {}
  void start(Callback on_change) override {
    on_change_ = std::move(on_change);
    if (initial_) on_change_(*initial_);
  }
  void shutdown() override { stopped = true; }
  std::string_view type() const override { return "manual"; }
  void set(std::vector<std::string> endpoints) { on_change_(std::move(endpoints)); }

  bool stopped = false;

 private:
  std::optional<std::vector<std::string>> initial_;
  Callback on_change_;
};

// What one backend was handed.
struct SinkState {
  std::mutex mu;
  std::vector<std::string> requests;  // encoded requests, in arrival order
  size_t items = 0;
  int created = 0, started = 0, stopped = 0;
  int consumed_after_shutdown = 0;   // by the same exporter instance: must never happen
  absl::Status refuse;               // returned by consume() when not OK
  std::atomic<bool> failing{false};  // what the backend's helper::Failover reports
  std::function<absl::Status(pipeline::Batch&&)> take_over;  // what the exporter was given

  size_t requestCount() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

class SinkExporter final : public pipeline::Exporter, public helper::Failover {
 public:
  explicit SinkExporter(std::shared_ptr<SinkState> state) : state_(std::move(state)) {}
  void setFailover(std::function<absl::Status(pipeline::Batch&&)> take_over) override {
    state_->take_over = std::move(take_over);
  }
  bool failing() const override { return state_->failing.load(); }
  absl::Status start(pipeline::Host&) override {
    std::lock_guard lock(state_->mu);
    ++state_->started;
    return absl::OkStatus();
  }
  absl::Status shutdown() override {
    std::lock_guard lock(state_->mu);
    ++state_->stopped;
    stopped_ = true;
    return absl::OkStatus();
  }
  absl::Status consume(pipeline::Batch&& batch) override {
    std::lock_guard lock(state_->mu);
    if (stopped_) ++state_->consumed_after_shutdown;
    if (!state_->refuse.ok()) return state_->refuse;
    if (auto wire = batch.wireBytes()) {
      state_->requests.emplace_back(*wire);
    } else {
      state_->requests.push_back(batch.request().SerializeAsString());
    }
    state_->items += batch.itemCount();
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<SinkState> state_;
  bool stopped_ = false;  // guarded by state_->mu
};

// Backends by endpoint; endpoints listed in `broken` cannot be created.
class Sinks {
 public:
  std::shared_ptr<SinkState> get(const std::string& endpoint) {
    std::lock_guard lock(mu_);
    auto& s = sinks_[endpoint];
    if (!s) s = std::make_shared<SinkState>();
    return s;
  }
  BackendFactory factory(std::vector<std::string> broken = {}) {
    return [this, broken](
               const std::string& endpoint) -> absl::StatusOr<std::unique_ptr<pipeline::Exporter>> {
      for (const std::string& b : broken) {
        if (b == endpoint) return absl::FailedPreconditionError("cannot read tls.ca_file");
      }
      auto state = get(endpoint);
      {
        std::lock_guard lock(state->mu);
        ++state->created;
      }
      return std::make_unique<SinkExporter>(state);
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<SinkState>> sinks_;
};

}  // namespace otlpd::exporters::loadbalancing::testing
