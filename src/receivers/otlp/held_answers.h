// The HTTP receivers that feed pipelines (OTLP, Zipkin, Jaeger Thrift) answer a request later
// when a consumer holds its OK (pipeline::DeferredAck: the batch processor, a store with
// `durability: sync`, a sending queue blocking on overflow, an exporter without a queue): no I/O
// thread waits for it (common::HttpHandler::handleAdmittedLater).
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "common/http_server.h"
#include "pipeline/deferred_ack.h"

namespace otlpd::receivers::otlp {

class HeldAnswers {
 public:
  using Handle = std::function<common::HttpResponse()>;
  // The answer to a request whose hold failed or was cut short (answerNow()): a 503 to retry.
  using Retry = std::function<common::HttpResponse(const absl::Status&)>;

  // Runs `handle` (the whole request through the pipeline) in a DeferredAck scope. Its response
  // goes to `respond` at once, unless it is a success (2xx) whose OK a consumer holds: then it
  // goes once every hold is released, or `retry`'s answer does if one of them failed.
  void answer(const Handle& handle, Retry retry, const common::HttpHandler::Respond& respond);
  // Answers every request still held with `retry`'s UNAVAILABLE answer, now: the listener stops,
  // and what holds them may let go only once the pipeline behind it stops, after it.
  void answerNow();

 private:
  pipeline::HeldAcks held_;
};

}  // namespace otlpd::receivers::otlp
