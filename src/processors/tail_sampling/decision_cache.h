// The decision caches: the ids of recently decided traces, so spans that arrive after the
// decision follow it. A fixed number of ids, the oldest forgotten first; capacity 0 remembers
// nothing (a late span then starts a new trace, as in the Collector without caches).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "processors/tail_sampling/trace_key.h"

namespace otlpd::processors::tail_sampling {

class DecisionCache {
 public:
  explicit DecisionCache(size_t capacity) : capacity_(capacity) {}

  bool contains(const TraceKey& key) const { return capacity_ != 0 && ids_.contains(key); }

  void insert(const TraceKey& key) {
    if (capacity_ == 0 || !ids_.insert(key).second) return;
    if (order_.size() < capacity_) {
      order_.push_back(key);
      return;
    }
    ids_.erase(order_[next_]);
    order_[next_] = key;
    next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
  }

  size_t size() const { return ids_.size(); }

 private:
  size_t capacity_;
  std::vector<TraceKey> order_;  // a ring once full; order_[next_] is the oldest
  size_t next_ = 0;
  absl::flat_hash_set<TraceKey, TraceKeyHash> ids_;
};

}  // namespace otlpd::processors::tail_sampling
