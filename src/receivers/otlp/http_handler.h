#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "receivers/otlp/held_answers.h"
#include "receivers/otlp/ingest.h"

namespace otlpd::receivers::otlp {

struct HttpPaths {
  std::string traces = "/v1/traces";
  std::string metrics = "/v1/metrics";
  std::string logs = "/v1/logs";
};

struct CorsConfig {
  std::vector<std::string> allowed_origins;  // exact, "*", or with one "*" wildcard
  std::vector<std::string> allowed_headers;
  int max_age_seconds = 0;
};

// OTLP/HTTP: POST of protobuf or JSON, optionally compressed, answered in the request's encoding
// with the status codes the OTLP spec prescribes.
class OtlpHttpHandler final : public common::HttpHandler {
 public:
  OtlpHttpHandler(std::shared_ptr<Ingestor> ingestor, HttpPaths paths, CorsConfig cors,
                  size_t max_body_bytes, bool include_metadata = false);

  common::HttpResponse handle(common::HttpRequest&& request) override;
  std::optional<common::HttpResponse> admit(const common::HttpRequest& headers,
                                            std::shared_ptr<void>& admission) override;
  std::optional<common::HttpResponse> growAdmission(const common::HttpRequest& headers,
                                                    std::shared_ptr<void>& admission,
                                                    size_t body_bytes) override;
  common::HttpResponse handleAdmitted(common::HttpRequest&& request,
                                      std::shared_ptr<void> admission) override;
  // The OK a consumer holds (pipeline::DeferredAck: the batch processor, a store with
  // `durability: sync`, a sending queue blocking on overflow, an exporter without a queue) is
  // sent when it lets go, with no I/O thread waiting for it; a failed hold is answered 503.
  void handleAdmittedLater(common::HttpRequest&& request, std::shared_ptr<void> admission,
                           const Respond& respond) override;
  // At shutdown: what is still held is answered 503 (retry) now.
  void answerOwedNow() override;
  common::HttpResponse bodyTooLarge(const common::HttpRequest& request, size_t limit) override;

 private:
  // The body bytes admit() reserves for (twice, for decoding) before the server reads more: the
  // HTTP server's first body read is 1 MiB at most.
  static constexpr size_t kFirstBodyReservation = 1 << 20;
  // 503 with Retry-After, before the body is read (memory budget or backpressure).
  common::HttpResponse retryLater(const common::HttpRequest& headers, const std::string& refusal);
  std::optional<pipeline::Signal> signalForTarget(std::string_view target) const;
  bool originAllowed(std::string_view origin) const;
  void addCorsHeaders(const common::HttpRequest& request, common::HttpResponse& response) const;
  common::HttpResponse preflight(const common::HttpRequest& request) const;
  // `auth`: what admit() learned about the client; nullopt when admit() was not called.
  common::HttpResponse exportRequest(common::HttpRequest&& request,
                                     std::optional<pipeline::MemoryBudget::Reservation> admitted,
                                     std::optional<pipeline::AuthAttributes> auth);
  // HTTP 401 with the authenticator's challenge, and nothing about why.
  common::HttpResponse unauthenticated(const common::HttpRequest& request) const;
  std::shared_ptr<const pipeline::RequestMetadata> requestMetadata(
      const common::HttpRequest& request, const pipeline::AuthAttributes& auth) const;

  std::shared_ptr<Ingestor> ingestor_;
  HttpPaths paths_;
  CorsConfig cors_;
  size_t max_body_bytes_;
  bool include_metadata_;  // each batch keeps the request's headers (RequestMetadata)
  HeldAnswers held_answers_;
};

}  // namespace otlpd::receivers::otlp
