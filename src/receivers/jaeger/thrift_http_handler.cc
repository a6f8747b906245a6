#include "receivers/jaeger/thrift_http_handler.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/compression.h"
#include "common/strings.h"
#include "selftrace/tracer.h"

namespace otlpd::receivers::jaeger {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kTracesPath = "/api/traces";

struct HttpAdmission {
  pipeline::MemoryBudget::Reservation memory;
  pipeline::AuthAttributes auth;
};

std::optional<std::string_view> findHeader(const common::HttpRequest& request,
                                           std::string_view name) {
  auto it = request.find(name);
  if (it == request.end()) return std::nullopt;
  return it->value();
}

// Jaeger answers errors as Go's http.Error does: the reason as plain text and a newline.
common::HttpResponse textResponse(const common::HttpRequest& request, http::status status,
                                  std::string_view message) {
  return common::makeResponse(request, status, "text/plain; charset=utf-8", strCat(message, "\n"));
}

bool thriftContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = toStd(absl::StripAsciiWhitespace(toAbsl(media)));
  return absl::EqualsIgnoreCase(toAbsl(media), "application/x-thrift") ||
         absl::EqualsIgnoreCase(toAbsl(media), "application/vnd.apache.thrift.binary");
}

}  // namespace

ThriftHttpHandler::ThriftHttpHandler(std::shared_ptr<Ingestor> ingestor, size_t max_body_bytes,
                                     bool include_metadata, common::CorsPolicy cors)
    : ingestor_(std::move(ingestor)),
      max_body_bytes_(max_body_bytes),
      include_metadata_(include_metadata),
      cors_(std::move(cors)) {}

common::HttpResponse ThriftHttpHandler::withCors(std::string_view origin,
                                                 common::HttpResponse response) const {
  if (!origin.empty() && cors_.originAllowed(origin)) {
    response.set(http::field::access_control_allow_origin, origin);
    response.set(http::field::vary, "Origin");
  }
  return response;
}

common::HttpResponse ThriftHttpHandler::bodyTooLarge(const common::HttpRequest& request,
                                                     size_t limit) {
  ingestor_->countMalformed(Transport::kHttp);
  common::HttpResponse res =
      textResponse(request, http::status::payload_too_large,
                   strCat("request body exceeds the limit of ", limit, " bytes"));
  cors_.addHeaders(request, res);
  return res;
}

common::HttpResponse ThriftHttpHandler::unavailable(const common::HttpRequest& request,
                                                    const std::string& why) {
  common::HttpResponse res = textResponse(request, http::status::service_unavailable, why);
  res.set(http::field::retry_after, "1");
  return res;
}

std::optional<common::HttpResponse> ThriftHttpHandler::admit(const common::HttpRequest& headers,
                                                             std::shared_ptr<void>& admission) {
  std::optional<common::HttpResponse> refused = admitChecked(headers, admission);
  if (refused) cors_.addHeaders(headers, *refused);
  return refused;
}

std::optional<common::HttpResponse> ThriftHttpHandler::admitChecked(
    const common::HttpRequest& headers, std::shared_ptr<void>& admission) {
  if (headers.method() != http::verb::post) return std::nullopt;
  std::optional<size_t> length;
  if (auto cl = headers.find(http::field::content_length); cl != headers.end()) {
    size_t n = 0;
    const std::string_view v = cl->value();
    if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) length = n;
  }
  if (length) length = std::min(*length, kFirstBodyReservation);
  otlp::Authentication auth = ingestor_->authenticate(
      Transport::kHttp, [&](std::string_view name) { return findHeader(headers, name); });
  if (!auth.accepted) {
    common::HttpResponse res = textResponse(headers, http::status::unauthorized, "unauthenticated");
    res.set(http::field::www_authenticate, ingestor_->challenge(Transport::kHttp));
    return res;
  }
  std::string refusal;
  auto reservation =
      ingestor_->admit(Transport::kHttp, pipeline::Signal::kTraces, &refusal, length);
  if (!reservation) return unavailable(headers, refusal);
  admission = std::make_shared<HttpAdmission>(
      HttpAdmission{*std::move(reservation), std::move(auth.attributes)});
  return std::nullopt;
}

std::optional<common::HttpResponse> ThriftHttpHandler::growAdmission(
    const common::HttpRequest& headers, std::shared_ptr<void>& admission, size_t body_bytes) {
  if (!admission) return std::nullopt;
  auto& reservation = std::static_pointer_cast<HttpAdmission>(admission)->memory;
  if (reservation.tryResize(2 * body_bytes)) return std::nullopt;
  if (auto most = ingestor_->largestAdmissibleBody(); most && body_bytes > *most) {
    return bodyTooLarge(headers, *most);  // with CORS headers
  }
  std::string refusal;
  ingestor_->refuseForMemory(Transport::kHttp, &refusal);
  common::HttpResponse res = unavailable(headers, refusal);
  cors_.addHeaders(headers, res);
  return res;
}

common::HttpResponse ThriftHttpHandler::handleAdmitted(common::HttpRequest&& request,
                                                       std::shared_ptr<void> admission) {
  std::optional<pipeline::MemoryBudget::Reservation> admitted;
  std::optional<pipeline::AuthAttributes> auth;
  if (admission) {
    auto& a = *std::static_pointer_cast<HttpAdmission>(admission);
    admitted = std::move(a.memory);
    auth = std::move(a.auth);
  }
  const std::string origin(findHeader(request, "origin").value_or(""));
  return withCors(origin, post(std::move(request), std::move(admitted), std::move(auth)));
}

void ThriftHttpHandler::handleAdmittedLater(common::HttpRequest&& request,
                                            std::shared_ptr<void> admission,
                                            const Respond& respond) {
  held_answers_.answer(
      [&] { return handleAdmitted(std::move(request), std::move(admission)); },
      [this, headers = common::HttpRequest(common::HttpRequest::header_type(request.base()))](
          const absl::Status& status) {
        const std::string origin(findHeader(headers, "origin").value_or(""));
        return withCors(origin, unavailable(headers, std::string(status.message())));
      },
      respond);
}

void ThriftHttpHandler::answerOwedNow() {
  held_answers_.answerNow();
}

common::HttpResponse ThriftHttpHandler::handle(common::HttpRequest&& request) {
  const std::string origin(findHeader(request, "origin").value_or(""));
  return withCors(origin, post(std::move(request), std::nullopt, std::nullopt));
}

common::HttpResponse ThriftHttpHandler::post(
    common::HttpRequest&& request, std::optional<pipeline::MemoryBudget::Reservation> admitted,
    std::optional<pipeline::AuthAttributes> auth) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != kTracesPath) {
    return textResponse(request, http::status::not_found,
                        strCat("no Jaeger endpoint at ", path, " (use ", kTracesPath, ")"));
  }
  if (request.method() == http::verb::options) return cors_.preflight(request, "POST");
  if (request.method() != http::verb::post) {
    common::HttpResponse r =
        textResponse(request, http::status::method_not_allowed, "method not allowed, use POST");
    r.set(http::field::allow, "POST");
    return r;
  }
  if (!auth) {
    otlp::Authentication checked = ingestor_->authenticate(
        Transport::kHttp, [&](std::string_view name) { return findHeader(request, name); });
    if (!checked.accepted) {
      common::HttpResponse res =
          textResponse(request, http::status::unauthorized, "unauthenticated");
      res.set(http::field::www_authenticate, ingestor_->challenge(Transport::kHttp));
      return res;
    }
    auth = std::move(checked.attributes);
  }
  const std::optional<std::string_view> content_type = findHeader(request, "content-type");
  if (!content_type || !thriftContentType(*content_type)) {
    ingestor_->countMalformed(Transport::kHttp);
    return textResponse(request, http::status::bad_request,
                        strCat("Unsupported content type: ", content_type.value_or("")));
  }
  const std::string_view encoding = findHeader(request, "content-encoding").value_or("");
  std::optional<common::Compression> compression = common::parseContentEncoding(encoding);
  if (!compression) {
    ingestor_->countMalformed(Transport::kHttp);
    return textResponse(request, http::status::unsupported_media_type,
                        strCat("unsupported Content-Encoding '", encoding, "'"));
  }
  std::string decompressed;
  std::string_view body = request.body();
  if (*compression != common::Compression::kNone) {
    absl::Status s = ingestor_->decompressAdmitted(Transport::kHttp, *compression, body,
                                                   max_body_bytes_, decompressed, admitted);
    if (absl::IsUnavailable(s)) return unavailable(request, std::string(s.message()));
    if (!s.ok()) {
      ingestor_->countMalformed(Transport::kHttp);
      const bool too_large = s.code() == absl::StatusCode::kResourceExhausted;
      return textResponse(request,
                          too_large ? http::status::payload_too_large : http::status::bad_request,
                          toStd(s.message()));
    }
    body = decompressed;
  }
  ::otlpd::jaeger::Batch& batch = threadBatch();
  if (absl::Status s = ::otlpd::jaeger::decodeThriftBatch(body, /*compact=*/false, batch);
      !s.ok()) {
    ingestor_->countMalformed(Transport::kHttp);
    return textResponse(request, http::status::bad_request,
                        strCat("Unable to process request body: ", s.message()));
  }
  std::shared_ptr<pipeline::RequestMetadata> metadata;
  if (include_metadata_ || !auth->empty()) {
    metadata = std::make_shared<pipeline::RequestMetadata>();
    if (include_metadata_) {
      for (const auto& header : request) {
        const std::string_view name(header.name_string().data(), header.name_string().size());
        if (ingestor_->isCredentialsHeader(Transport::kHttp,
                                           toStd(absl::AsciiStrToLower(toAbsl(name))))) {
          continue;
        }
        metadata->add(name, std::string_view(header.value().data(), header.value().size()));
      }
    }
    for (const auto& [name, value] : *auth) metadata->addAuth(name, value);
  }
  // A server span when otlpd traces itself, continuing the client's trace (W3C traceparent).
  auto span = selftrace::Tracer::installed() == nullptr ||
                      request.find(selftrace::ScopedSpan::kSelfTelemetryHeader) != request.end()
                  ? selftrace::ScopedSpan::none()
                  : selftrace::ScopedSpan::server("ingest traces", [&](std::string_view name) {
                      return findHeader(request, name);
                    });
  ExportOutcome outcome =
      ingestBatch(*ingestor_, Transport::kHttp, batch, std::move(admitted), std::move(metadata));
  if (span.recording()) {
    span.setAttribute("otlpd.transport", std::string("jaeger.thrift_http"));
    span.setAttribute("otlpd.items", static_cast<int64_t>(outcome.accepted_items));
    if (outcome.kind != ExportOutcome::Kind::kOk) span.setError(outcome.message);
  }
  switch (outcome.kind) {
    case ExportOutcome::Kind::kOk: {
      common::HttpResponse r = common::makeResponse(request, http::status::accepted, "", "");
      r.erase(http::field::content_type);
      return r;
    }
    case ExportOutcome::Kind::kBadRequest:
      return textResponse(request, http::status::bad_request,
                          strCat("Cannot submit Jaeger batch: ", outcome.message));
    case ExportOutcome::Kind::kRetryable:
      return unavailable(request, strCat("Cannot submit Jaeger batch: ", outcome.message));
  }
  return textResponse(request, http::status::internal_server_error, "unexpected outcome");
}

}  // namespace otlpd::receivers::jaeger
