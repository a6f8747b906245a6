#pragma once

#include <memory>

#include "common/http_cors.h"
#include "common/http_server.h"
#include "receivers/jaeger/ingest.h"
#include "receivers/otlp/held_answers.h"

namespace otlpd::receivers::jaeger {

// thrift_http: `POST /api/traces` with a `jaeger.Batch` in Thrift's binary protocol
// (Content-Type application/x-thrift or application/vnd.apache.thrift.binary), what Jaeger
// clients' HTTP senders post to a Jaeger collector. Answers 202 Accepted with no body, as Jaeger
// does; 400 with a plain-text reason for a body that is not a batch; 503 with Retry-After when
// the pipeline cannot take it now. With `cors` (the Collector's confighttp keys), browsers of the
// allowed origins may post (preflight answered, the origin echoed on every answer).
class ThriftHttpHandler final : public common::HttpHandler {
 public:
  ThriftHttpHandler(std::shared_ptr<Ingestor> ingestor, size_t max_body_bytes,
                    bool include_metadata, common::CorsPolicy cors = {});

  common::HttpResponse handle(common::HttpRequest&& request) override;
  std::optional<common::HttpResponse> admit(const common::HttpRequest& headers,
                                            std::shared_ptr<void>& admission) override;
  std::optional<common::HttpResponse> growAdmission(const common::HttpRequest& headers,
                                                    std::shared_ptr<void>& admission,
                                                    size_t body_bytes) override;
  common::HttpResponse handleAdmitted(common::HttpRequest&& request,
                                      std::shared_ptr<void> admission) override;
  // An OK a consumer holds is sent when it lets go, with no I/O thread waiting (otlp::HeldAnswers).
  void handleAdmittedLater(common::HttpRequest&& request, std::shared_ptr<void> admission,
                           const Respond& respond) override;
  void answerOwedNow() override;
  common::HttpResponse bodyTooLarge(const common::HttpRequest& request, size_t limit) override;

 private:
  static constexpr size_t kFirstBodyReservation = 1 << 20;
  common::HttpResponse post(common::HttpRequest&& request,
                            std::optional<pipeline::MemoryBudget::Reservation> admitted,
                            std::optional<pipeline::AuthAttributes> auth);
  common::HttpResponse unavailable(const common::HttpRequest& request, const std::string& why);
  std::optional<common::HttpResponse> admitChecked(const common::HttpRequest& headers,
                                                   std::shared_ptr<void>& admission);
  // The answer with the CORS headers for `origin` (the request's, taken before it was moved).
  common::HttpResponse withCors(std::string_view origin, common::HttpResponse response) const;

  std::shared_ptr<Ingestor> ingestor_;
  size_t max_body_bytes_;
  bool include_metadata_;
  common::CorsPolicy cors_;
  otlp::HeldAnswers held_answers_;
};

}  // namespace otlpd::receivers::jaeger
