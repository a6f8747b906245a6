#include "pipeline/memory_budget.h"

namespace otlpd::pipeline {

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    bytes_ = other.bytes_;
    other.bytes_ = 0;
  }
  return *this;
}

void MemoryBudget::Reservation::release() {
  if (state_ && bytes_ > 0) state_->in_use.fetch_sub(bytes_, std::memory_order_relaxed);
  bytes_ = 0;
  state_.reset();
}

void MemoryBudget::Reservation::resize(size_t bytes) {
  if (!state_) return;
  if (bytes > bytes_) {
    state_->in_use.fetch_add(bytes - bytes_, std::memory_order_relaxed);
  } else {
    state_->in_use.fetch_sub(bytes_ - bytes, std::memory_order_relaxed);
  }
  bytes_ = bytes;
}

bool MemoryBudget::Reservation::tryResize(size_t bytes) {
  if (!state_ || bytes <= bytes_) {
    resize(bytes);
    return true;
  }
  const size_t more = bytes - bytes_;
  const size_t limit = state_->limit.load(std::memory_order_relaxed);
  size_t current = state_->in_use.load(std::memory_order_relaxed);
  do {
    if (limit != 0 && current + more > limit) return false;
  } while (
      !state_->in_use.compare_exchange_weak(current, current + more, std::memory_order_relaxed));
  bytes_ = bytes;
  return true;
}

MemoryBudget::Reservation MemoryBudget::Reservation::forceSibling(size_t bytes) const {
  if (!state_) return Reservation();
  state_->in_use.fetch_add(bytes, std::memory_order_relaxed);
  return Reservation(state_, bytes);
}

std::optional<MemoryBudget::Reservation> MemoryBudget::tryReserve(size_t bytes) {
  const size_t limit = state_->limit.load(std::memory_order_relaxed);
  size_t current = state_->in_use.load(std::memory_order_relaxed);
  do {
    if (limit != 0 && current + bytes > limit) return std::nullopt;
  } while (
      !state_->in_use.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
  return Reservation(state_, bytes);
}

MemoryBudget::Reservation MemoryBudget::forceReserve(size_t bytes) {
  state_->in_use.fetch_add(bytes, std::memory_order_relaxed);
  return Reservation(state_, bytes);
}

}  // namespace otlpd::pipeline
