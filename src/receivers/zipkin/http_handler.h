// The Zipkin collector's HTTP API: POST /api/v2/spans (JSON or protobuf) and POST /api/v1/spans
// (JSON), optionally compressed. Bodies are read into Zipkin spans (zipkin/readers.h), written as
// an OTLP request (zipkin/to_otlp.h) and handed to the pipeline through the OTLP receiver's
// Ingestor (admission, memory budget, counting). Answers as Zipkin does: 202 with no body, 400
// with a plain-text message for a body it cannot read, 503 with Retry-After when the pipeline
// cannot take it now.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "receivers/otlp/held_answers.h"
#include "receivers/otlp/ingest.h"
#include "zipkin/to_otlp.h"

namespace otlpd::receivers::zipkin {

// The Collector's confighttp `cors` (browsers running zipkin-js post across origins).
struct ZipkinCors {
  std::vector<std::string> allowed_origins;  // exact, "*", or with one "*" wildcard
  std::vector<std::string> allowed_headers;
  int max_age_seconds = 0;
};

class ZipkinHttpHandler final : public common::HttpHandler {
 public:
  ZipkinHttpHandler(std::shared_ptr<otlp::Ingestor> ingestor,
                    ::otlpd::zipkin::ToOtlpOptions options, size_t max_body_bytes,
                    ZipkinCors cors = {}, bool include_metadata = false,
                    std::string receiver_id = "zipkin");

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
  common::HttpResponse receive(common::HttpRequest&& request,
                               std::optional<pipeline::MemoryBudget::Reservation> admitted,
                               std::optional<pipeline::AuthAttributes> auth);
  common::HttpResponse receiveBody(common::HttpRequest& request,
                                   std::optional<pipeline::MemoryBudget::Reservation> admitted,
                                   std::optional<pipeline::AuthAttributes> auth);
  common::HttpResponse answer(const common::HttpRequest& request,
                              common::HttpResponse response) const;
  common::HttpResponse preflight(const common::HttpRequest& request) const;
  bool originAllowed(std::string_view origin) const;
  std::shared_ptr<const pipeline::RequestMetadata> requestMetadata(
      const common::HttpRequest& request, const pipeline::AuthAttributes& auth) const;

  std::shared_ptr<otlp::Ingestor> ingestor_;
  ::otlpd::zipkin::ToOtlpOptions options_;
  size_t max_body_bytes_;
  ZipkinCors cors_;
  bool include_metadata_;  // each batch keeps the request's headers (RequestMetadata)
  std::string receiver_id_;
  std::atomic<int64_t> last_warning_ns_{0};
  otlp::HeldAnswers held_answers_;
  // A body refused as unreadable: logged at most once a second (a broken client must not flood
  // the log); every one is counted as malformed.
  void warnMalformed(std::string_view path, std::string_view why);
};

}  // namespace otlpd::receivers::zipkin
