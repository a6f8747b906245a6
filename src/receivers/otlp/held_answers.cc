#include "receivers/otlp/held_answers.h"

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
  held_.add(deferred);
  deferred->whenReleased([this, held = deferred.get(), respond, retry = std::move(retry),
                          ok = std::make_shared<common::HttpResponse>(std::move(response))](
                             const absl::Status& status) {
    held_.remove(held);
    respond(status.ok() ? std::move(*ok) : retry(status));
  });
}

void HeldAnswers::answerNow() {
  held_.answerAllNow(absl::UnavailableError("the receiver is shutting down; retry"));
}

}  // namespace otlpd::receivers::otlp
