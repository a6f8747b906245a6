// Acknowledgement that waits for something slow without holding a thread. A receiver that can
// send its answer later (the OTLP gRPC receiver, through gRPC's asynchronous API) opens a scope
// around its consume() call; a consumer whose OK must wait (the store's fdatasync with `durability:
// sync`) takes a hold instead of blocking, and releases it when done. The receiver answers once
// every hold is released (the first error wins). Where no scope is open (OTLP/HTTP, whose
// handlers return a whole response; processors that consume on their own threads), consumers wait
// in place, as before.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace otlpd::pipeline {

class DeferredAck : public std::enable_shared_from_this<DeferredAck> {
 public:
  using Done = std::function<void(absl::Status)>;

  // The scope open on this thread, or null.
  static DeferredAck* current();

  class Scope {
   public:
    explicit Scope(DeferredAck& ack);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    DeferredAck* previous_;
  };

  // For a consumer: the callback to call (once, from any thread) when its part is done.
  Done hold();
  // Whether a consumer took a hold during the scope.
  bool held() const;
  // For the receiver, after consume() returned: `done` is called once every hold is released
  // (at once if they already are), with the first error a hold reported.
  void whenReleased(Done done);
  // For the receiver that cannot wait any longer (it is shutting down, and what holds the answer
  // may let go only once the pipeline behind stops): the callback given to whenReleased() is
  // called now with `status`, unless it was called already; releases after it answer nothing.
  void answerNow(const absl::Status& status);

 private:
  void release(const absl::Status& status);

  mutable std::mutex mu_;
  int holds_taken_ = 0;
  int pending_ = 0;
  absl::Status error_;
  Done done_;
};

// The acknowledgements a receiver has open (whenReleased() given, not answered yet), so that it
// can answer them all at once when it stops: what holds them may let go only once the pipeline
// behind the receiver stops, which is after it.
class HeldAcks {
 public:
  void add(const std::shared_ptr<DeferredAck>& ack);
  // From the whenReleased() callback: answered.
  void remove(const DeferredAck* ack);
  // DeferredAck::answerNow(status) for every one still open.
  void answerAllNow(const absl::Status& status);

 private:
  std::mutex mu_;
  absl::flat_hash_map<const DeferredAck*, std::shared_ptr<DeferredAck>> open_;
};

}  // namespace otlpd::pipeline
