// The Zipkin collector's HTTP API: POST /api/v2/spans (JSON or protobuf) and POST /api/v1/spans
// (JSON), optionally compressed. Bodies are read into Zipkin spans (zipkin/readers.h), written as
// an OTLP request (zipkin/to_otlp.h) and handed to the pipeline through the OTLP receiver's
// Ingestor (admission, memory budget, counting). Answers as Zipkin does: 202 with no body, 400
// with a plain-text message for a body it cannot read, 503 with Retry-After when the pipeline
// cannot take it now.
#pragma once

#include <memory>

#include "common/http_server.h"
#include "receivers/otlp/ingest.h"
#include "zipkin/to_otlp.h"

namespace otlpd::receivers::zipkin {

class ZipkinHttpHandler final : public common::HttpHandler {
 public:
  ZipkinHttpHandler(std::shared_ptr<otlp::Ingestor> ingestor,
                    ::otlpd::zipkin::ToOtlpOptions options, size_t max_body_bytes);

  common::HttpResponse handle(common::HttpRequest&& request) override;
  std::optional<common::HttpResponse> admit(const common::HttpRequest& headers,
                                            std::shared_ptr<void>& admission) override;
  std::optional<common::HttpResponse> growAdmission(const common::HttpRequest& headers,
                                                    std::shared_ptr<void>& admission,
                                                    size_t body_bytes) override;
  common::HttpResponse handleAdmitted(common::HttpRequest&& request,
                                      std::shared_ptr<void> admission) override;
  common::HttpResponse bodyTooLarge(const common::HttpRequest& request, size_t limit) override;

 private:
  common::HttpResponse receive(common::HttpRequest&& request,
                               std::optional<pipeline::MemoryBudget::Reservation> admitted,
                               bool authenticated);

  std::shared_ptr<otlp::Ingestor> ingestor_;
  ::otlpd::zipkin::ToOtlpOptions options_;
  size_t max_body_bytes_;
};

}  // namespace otlpd::receivers::zipkin
