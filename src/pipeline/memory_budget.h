// Byte-accurate admission control. Every batch in flight or queued holds a reservation for the
// memory its request occupies; a receiver reserves before decoding and refuses the request when
// the budget is spent, so memory stays bounded however slow the exporters are.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace otlpd::pipeline {

class MemoryBudget {
  struct State {
    std::atomic<size_t> in_use{0};
    std::atomic<size_t> limit{0};  // 0: unlimited
  };

 public:
  // Returns its bytes to the budget when destroyed; move-only.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation() { release(); }

    size_t bytes() const { return bytes_; }
    // Adjusts to the real size once known (e.g. after decoding); never refused, since the
    // memory is already in use.
    void resize(size_t bytes);
    // Grows to `bytes` if the budget has room (a request body still arriving); false leaves it
    // as it was. Shrinking always succeeds.
    bool tryResize(size_t bytes);
    // Another reservation of `bytes` on the same budget, never refused (copy-on-write clones).
    Reservation forceSibling(size_t bytes) const;
    void release();

   private:
    friend class MemoryBudget;
    Reservation(std::shared_ptr<State> state, size_t bytes)
        : state_(std::move(state)), bytes_(bytes) {}
    std::shared_ptr<State> state_;
    size_t bytes_ = 0;
  };

  MemoryBudget() : state_(std::make_shared<State>()) {}

  void setLimit(size_t bytes) {
    state_->limit.store(bytes, std::memory_order_relaxed);
    explicit_limit_ = bytes != 0;
  }
  // The service's safety net when nothing configured a limit: it bounds memory but is not an
  // operating limit, so transports keep their fast settings (see the otlp receiver's gRPC).
  void setDefaultLimit(size_t bytes) {
    state_->limit.store(bytes, std::memory_order_relaxed);
    explicit_limit_ = false;
  }
  bool limitIsExplicit() const { return explicit_limit_; }
  size_t limit() const { return state_->limit.load(std::memory_order_relaxed); }
  size_t inUse() const { return state_->in_use.load(std::memory_order_relaxed); }

  // nullopt when taking `bytes` would go over the limit.
  std::optional<Reservation> tryReserve(size_t bytes);
  Reservation forceReserve(size_t bytes);

 private:
  std::shared_ptr<State> state_;
  bool explicit_limit_ = false;  // set while the graph is built, read when it starts
};

}  // namespace otlpd::pipeline
