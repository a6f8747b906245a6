#include "receivers/otlp/held_answers.h"

#include <vector>

namespace otlpd::receivers::otlp {

void HeldAnswers::answer(const Handle& handle, Retry retry,
                         const common::HttpHandler::Respond& respond) {
  auto deferred = std::make_shared<pipeline::DeferredAck>();
  common::HttpResponse response;
  {
    pipeline::DeferredAck::Scope scope(*deferred);
    response = handle();
  }
  // Only a success waits for its holds; any other answer is given at once (as over gRPC).
  if (!deferred->held() || response.result_int() / 100 != 2) {
    respond(std::move(response));
    return;
  }
  {
    std::lock_guard lock(mu_);
    held_.emplace(deferred.get(), deferred);
  }
  deferred->whenReleased([this, held = deferred.get(), respond, retry = std::move(retry),
                          ok = std::make_shared<common::HttpResponse>(std::move(response))](
                             const absl::Status& status) {
    forget(held);
    respond(status.ok() ? std::move(*ok) : retry(status));
  });
}

void HeldAnswers::answerNow() {
  std::vector<std::shared_ptr<pipeline::DeferredAck>> held;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, ack] : held_) held.push_back(ack);
  }
  for (const auto& ack : held) {
    ack->answerNow(absl::UnavailableError("the receiver is shutting down; retry"));
  }
}

void HeldAnswers::forget(const pipeline::DeferredAck* held) {
  std::lock_guard lock(mu_);
  held_.erase(held);
}

}  // namespace otlpd::receivers::otlp
