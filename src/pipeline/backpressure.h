// Backpressure known before a request is read. A bounded stage (an exporter's queue, the
// memory_limiter) raises a flag while it would refuse any request; the graph joins, per receiver
// and signal, the flags of every stage a request would reach into one gate, and a receiver asks
// that gate right after a request's headers arrive: closed means the request is refused (as
// retryable) without reading or decoding its body. Flags change only when a stage's state does,
// so the receiver's check is one relaxed atomic load.
//
// How flags combine follows the consumer contract: a fan-out answers with the first failure, so
// it refuses when any of its consumers would (any flag up); a processor passes its next
// consumer's refusal on only if it hands every batch to it (pipeline::Processor::
// passesBackpressure) — a filter or sampler may drop a whole batch and answer OK, so what lies
// beyond it is not its answer and is left out. A gate never closes for a request that every stage
// could have taken: its sources raise their flags only when they would refuse (see each source).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace otlpd::pipeline {

// What a receiver reads: closed while at least one of its sources is full.
class BackpressureGate {
 public:
  bool closed() const { return full_sources_.load(std::memory_order_relaxed) > 0; }

 private:
  friend class BackpressureSource;
  std::atomic<int> full_sources_{0};
};

// A stage's flag, and the gates it closes while it is up.
class BackpressureSource {
 public:
  // Raises or lowers the flag; gates are told only on a change. Calls must not race each other
  // (a stage calls it under its own lock, or from one thread), so every gate counts exactly.
  void setFull(bool full) {
    if (full_.load(std::memory_order_relaxed) == full) return;
    setFullSlow(full);
  }
  bool full() const { return full_.load(std::memory_order_relaxed); }
  // The graph connects gates while it builds the pipelines; a gate connected while the flag is
  // up starts closed.
  void connect(std::shared_ptr<BackpressureGate> gate);

 private:
  void setFullSlow(bool full);

  std::mutex mu_;  // orders setFull against connect
  std::atomic<bool> full_{false};
  std::vector<std::shared_ptr<BackpressureGate>> gates_;
};

// Optional, for consumers that own a source (like Flushable): the graph asks exporters and
// processors for it.
class BackpressureReporter {
 public:
  virtual ~BackpressureReporter() = default;
  virtual BackpressureSource& backpressure() = 0;
};

// The distinct sources a consumer's refusals depend on, collected while the graph builds a
// pipeline from its exporters up to its receivers.
class BackpressureSet {
 public:
  void add(BackpressureSource* source);
  // A fan-out, or several pipelines fed by one receiver: any of them refusing refuses.
  void addAll(const BackpressureSet& other);
  bool empty() const { return sources_.empty(); }
  size_t size() const { return sources_.size(); }
  // A gate closed while any source of the set is full; null for an empty set (nothing can say
  // ahead that a request would be refused).
  std::shared_ptr<const BackpressureGate> makeGate() const;

 private:
  std::vector<BackpressureSource*> sources_;
};

// The smallest of the last kWindow sizes seen: a queue measured in bytes or items calls itself
// full when the room it has left is smaller than every recent request, so a request of the usual
// sizes is never refused early while it would have fit (a request smaller than all of the recent
// ones may be). 1 before any size was seen.
class RecentMinimum {
 public:
  static constexpr size_t kWindow = 16;
  void add(size_t size);
  size_t value() const { return minimum_; }

 private:
  size_t sizes_[kWindow] = {};
  size_t count_ = 0;  // sizes seen, capped at kWindow
  size_t next_ = 0;   // where the next size goes
  size_t minimum_ = 1;
};

}  // namespace otlpd::pipeline
