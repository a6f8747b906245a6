#include "pipeline/backpressure.h"

#include <algorithm>

namespace otlpd::pipeline {

void BackpressureSource::setFullSlow(bool full) {
  std::lock_guard lock(mu_);
  if (full_.load(std::memory_order_relaxed) == full) return;
  full_.store(full, std::memory_order_relaxed);
  for (const auto& gate : gates_) {
    gate->full_sources_.fetch_add(full ? 1 : -1, std::memory_order_relaxed);
  }
}

void BackpressureSource::connect(std::shared_ptr<BackpressureGate> gate) {
  std::lock_guard lock(mu_);
  if (std::find(gates_.begin(), gates_.end(), gate) != gates_.end()) return;
  if (full_.load(std::memory_order_relaxed)) {
    gate->full_sources_.fetch_add(1, std::memory_order_relaxed);
  }
  gates_.push_back(std::move(gate));
}

void BackpressureSet::add(BackpressureSource* source) {
  if (source == nullptr) return;
  if (std::find(sources_.begin(), sources_.end(), source) != sources_.end()) return;
  sources_.push_back(source);
}

void BackpressureSet::addAll(const BackpressureSet& other) {
  for (BackpressureSource* source : other.sources_) add(source);
}

std::shared_ptr<const BackpressureGate> BackpressureSet::makeGate() const {
  if (sources_.empty()) return nullptr;
  auto gate = std::make_shared<BackpressureGate>();
  for (BackpressureSource* source : sources_) source->connect(gate);
  return gate;
}

void RecentMinimum::add(size_t size) {
  sizes_[next_] = size;
  next_ = (next_ + 1) % kWindow;
  count_ = std::min(count_ + 1, kWindow);
  minimum_ = *std::min_element(sizes_, sizes_ + count_);
  minimum_ = std::max<size_t>(minimum_, 1);
}

}  // namespace otlpd::pipeline
