#include "pipeline/deferred_ack.h"

#include <vector>

namespace otlpd::pipeline {
namespace {
thread_local DeferredAck* current_scope = nullptr;
}  // namespace

DeferredAck* DeferredAck::current() {
  return current_scope;
}

DeferredAck::Scope::Scope(DeferredAck& ack) : previous_(current_scope) {
  current_scope = &ack;
}

DeferredAck::Scope::~Scope() {
  current_scope = previous_;
}

DeferredAck::Done DeferredAck::hold() {
  {
    std::lock_guard lock(mu_);
    ++holds_taken_;
    ++pending_;
  }
  // Keeps this alive until released, even after the receiver has answered (e.g. another
  // consumer failed and the client was told to retry).
  return [self = shared_from_this()](absl::Status status) { self->release(status); };
}

bool DeferredAck::held() const {
  std::lock_guard lock(mu_);
  return holds_taken_ > 0;
}

void DeferredAck::whenReleased(Done done) {
  absl::Status status;
  {
    std::lock_guard lock(mu_);
    if (pending_ > 0) {
      done_ = std::move(done);
      return;
    }
    status = error_;
  }
  done(status);
}

void DeferredAck::answerNow(const absl::Status& status) {
  Done done;
  {
    std::lock_guard lock(mu_);
    if (!done_) return;
    done = std::move(done_);
    done_ = nullptr;
  }
  done(status);
}

void DeferredAck::release(const absl::Status& status) {
  Done done;
  absl::Status result;
  {
    std::lock_guard lock(mu_);
    if (!status.ok() && error_.ok()) error_ = status;
    if (--pending_ > 0 || !done_) return;
    done = std::move(done_);
    done_ = nullptr;
    result = error_;
  }
  done(result);
}

void HeldAcks::add(const std::shared_ptr<DeferredAck>& ack) {
  std::lock_guard lock(mu_);
  open_.emplace(ack.get(), ack);
}

void HeldAcks::remove(const DeferredAck* ack) {
  std::lock_guard lock(mu_);
  open_.erase(ack);
}

void HeldAcks::answerAllNow(const absl::Status& status) {
  std::vector<std::shared_ptr<DeferredAck>> open;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, ack] : open_) open.push_back(ack);
  }
  // Without the lock: each answer removes itself.
  for (const auto& ack : open) ack->answerNow(status);
}

}  // namespace otlpd::pipeline
