#include "receivers/zipkin/http_handler.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/compression.h"
#include "common/logging.h"
#include "common/strings.h"
#include "selftrace/tracer.h"
#include "zipkin/readers.h"

namespace otlpd::receivers::zipkin {
namespace {

namespace http = boost::beast::http;
namespace zk = ::otlpd::zipkin;

// The body bytes admit() reserves for before the server reads more (its first read is 1 MiB at
// most), as the OTLP receiver does.
constexpr size_t kFirstBodyReservation = 1 << 20;

enum class Format { kJsonV2, kProtoV2, kJsonV1, kThriftV1 };

common::HttpResponse text(const common::HttpRequest& request, http::status status,
                          std::string message) {
  if (!message.empty() && message.back() != '\n') message += '\n';
  return common::makeResponse(request, status, "text/plain; charset=utf-8", std::move(message));
}

// 503 with Retry-After: the request may succeed later (memory, backpressure, a queue).
common::HttpResponse retryLater(const common::HttpRequest& request, std::string message) {
  common::HttpResponse res = text(request, http::status::service_unavailable, std::move(message));
  res.set(http::field::retry_after, "1");
  return res;
}

std::string_view mediaType(const common::HttpRequest& request) {
  auto ct = request.find(http::field::content_type);
  if (ct == request.end()) return {};
  std::string_view media = ct->value();
  media = media.substr(0, media.find(';'));
  return toStd(absl::StripAsciiWhitespace(toAbsl(media)));
}

std::optional<std::string_view> findHeader(const common::HttpRequest& request,
                                           std::string_view name) {
  auto it = request.find(name);
  if (it == request.end()) return std::nullopt;
  return it->value();
}

struct Admission {
  pipeline::MemoryBudget::Reservation memory;
  pipeline::AuthAttributes auth;
};

bool wildcardMatch(std::string_view pattern, std::string_view value) {
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == value;
  std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  return value.size() >= prefix.size() + suffix.size() && value.starts_with(prefix) &&
         value.ends_with(suffix);
}

// Per thread: the spans of the request being read (views into its body and parser buffers).
zk::SpanList& scratchSpans() {
  thread_local zk::SpanList spans;
  return spans;
}

}  // namespace

ZipkinHttpHandler::ZipkinHttpHandler(std::shared_ptr<otlp::Ingestor> ingestor,
                                     zk::ToOtlpOptions options, size_t max_body_bytes,
                                     ZipkinCors cors, bool include_metadata,
                                     std::string receiver_id)
    : ingestor_(std::move(ingestor)),
      options_(options),
      max_body_bytes_(max_body_bytes),
      cors_(std::move(cors)),
      include_metadata_(include_metadata),
      receiver_id_(std::move(receiver_id)) {}

void ZipkinHttpHandler::warnMalformed(std::string_view path, std::string_view why) {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_warning_ns_.load(std::memory_order_relaxed);
  if (now - last < 1'000'000'000 ||
      !last_warning_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;
  }
  logging::warn("malformed Zipkin request",
                {{"receiver", receiver_id_}, {"path", path}, {"error", why}});
}

bool ZipkinHttpHandler::originAllowed(std::string_view origin) const {
  for (const auto& pattern : cors_.allowed_origins) {
    if (wildcardMatch(pattern, origin)) return true;
  }
  return false;
}

// Every answer passes here: the CORS headers for an allowed origin.
common::HttpResponse ZipkinHttpHandler::answer(const common::HttpRequest& request,
                                               common::HttpResponse response) const {
  auto origin = request.find(http::field::origin);
  if (origin != request.end() && originAllowed(origin->value())) {
    response.set(http::field::access_control_allow_origin, origin->value());
    response.set(http::field::vary, "Origin");
  }
  return response;
}

common::HttpResponse ZipkinHttpHandler::preflight(const common::HttpRequest& request) const {
  auto origin = request.find(http::field::origin);
  if (origin == request.end() || !originAllowed(origin->value())) {
    return text(request, http::status::method_not_allowed, "CORS origin not allowed");
  }
  common::HttpResponse res = common::makeResponse(request, http::status::no_content, "", "");
  res.erase(http::field::content_type);
  res.set(http::field::access_control_allow_methods, "POST");
  std::string headers = "Content-Type, Content-Encoding, Accept";
  for (const auto& h : cors_.allowed_headers) headers += ", " + h;
  res.set(http::field::access_control_allow_headers, headers);
  if (cors_.max_age_seconds > 0) {
    res.set(http::field::access_control_max_age, std::to_string(cors_.max_age_seconds));
  }
  return answer(request, std::move(res));
}

// The headers (with `include_metadata`, less the credentials) and what the authenticator said.
std::shared_ptr<const pipeline::RequestMetadata> ZipkinHttpHandler::requestMetadata(
    const common::HttpRequest& request, const pipeline::AuthAttributes& auth) const {
  if (!include_metadata_ && auth.empty()) return nullptr;
  auto metadata = std::make_shared<pipeline::RequestMetadata>();
  if (include_metadata_) {
    for (const auto& header : request) {
      const std::string_view name(header.name_string().data(), header.name_string().size());
      if (ingestor_->isCredentialsHeader(otlp::Transport::kHttp,
                                         toStd(absl::AsciiStrToLower(toAbsl(name))))) {
        continue;
      }
      metadata->add(name, std::string_view(header.value().data(), header.value().size()));
    }
  }
  for (const auto& [name, value] : auth) metadata->addAuth(name, value);
  return metadata;
}

common::HttpResponse ZipkinHttpHandler::bodyTooLarge(const common::HttpRequest& request,
                                                     size_t limit) {
  ingestor_->countMalformed(otlp::Transport::kHttp);
  return answer(request, text(request, http::status::payload_too_large,
                              strCat("request body exceeds the limit of ", limit, " bytes")));
}

std::optional<common::HttpResponse> ZipkinHttpHandler::admit(const common::HttpRequest& headers,
                                                             std::shared_ptr<void>& admission) {
  if (headers.method() != http::verb::post) return std::nullopt;
  std::optional<size_t> length;
  if (auto cl = headers.find(http::field::content_length); cl != headers.end()) {
    size_t n = 0;
    const std::string_view v = cl->value();
    if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) length = n;
  }
  if (length) length = std::min(*length, kFirstBodyReservation);
  // Credentials before memory: a client that is not let in holds nothing.
  otlp::Authentication auth = ingestor_->authenticate(
      otlp::Transport::kHttp, [&](std::string_view name) { return findHeader(headers, name); });
  if (!auth.accepted) {
    common::HttpResponse res = text(headers, http::status::unauthorized, "unauthenticated");
    res.set(http::field::www_authenticate, ingestor_->challenge(otlp::Transport::kHttp));
    return res;
  }
  std::string refusal;
  auto reservation =
      ingestor_->admit(otlp::Transport::kHttp, pipeline::Signal::kTraces, &refusal, length);
  if (!reservation) {
    return retryLater(headers, refusal);
  }
  admission =
      std::make_shared<Admission>(Admission{*std::move(reservation), std::move(auth.attributes)});
  return std::nullopt;
}

std::optional<common::HttpResponse> ZipkinHttpHandler::growAdmission(
    const common::HttpRequest& headers, std::shared_ptr<void>& admission, size_t body_bytes) {
  if (!admission) return std::nullopt;
  auto& reservation = std::static_pointer_cast<Admission>(admission)->memory;
  if (reservation.tryResize(2 * body_bytes)) return std::nullopt;
  if (auto most = ingestor_->largestAdmissibleBody(); most && body_bytes > *most) {
    return bodyTooLarge(headers, *most);
  }
  std::string refusal;
  ingestor_->refuseForMemory(otlp::Transport::kHttp, &refusal);
  return retryLater(headers, refusal);
}

common::HttpResponse ZipkinHttpHandler::handleAdmitted(common::HttpRequest&& request,
                                                       std::shared_ptr<void> admission) {
  std::optional<pipeline::MemoryBudget::Reservation> admitted;
  std::optional<pipeline::AuthAttributes> auth;
  if (admission) {
    auto& a = *std::static_pointer_cast<Admission>(admission);
    admitted = std::move(a.memory);
    auth = std::move(a.auth);
  }
  return receive(std::move(request), std::move(admitted), std::move(auth));
}

void ZipkinHttpHandler::handleAdmittedLater(common::HttpRequest&& request,
                                            std::shared_ptr<void> admission,
                                            const Respond& respond) {
  held_answers_.answer([&] { return handleAdmitted(std::move(request), std::move(admission)); },
                       [this, headers = common::HttpRequest(common::HttpRequest::header_type(
                                  request.base()))](const absl::Status& status) {
                         return answer(headers, retryLater(headers, std::string(status.message())));
                       },
                       respond);
}

void ZipkinHttpHandler::answerOwedNow() {
  held_answers_.answerNow();
}

common::HttpResponse ZipkinHttpHandler::handle(common::HttpRequest&& request) {
  return receive(std::move(request), std::nullopt, std::nullopt);
}

common::HttpResponse ZipkinHttpHandler::receive(
    common::HttpRequest&& request, std::optional<pipeline::MemoryBudget::Reservation> admitted,
    std::optional<pipeline::AuthAttributes> auth) {
  common::HttpResponse response = receiveBody(request, std::move(admitted), std::move(auth));
  return answer(request, std::move(response));
}

common::HttpResponse ZipkinHttpHandler::receiveBody(
    common::HttpRequest& request, std::optional<pipeline::MemoryBudget::Reservation> admitted,
    std::optional<pipeline::AuthAttributes> auth) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool v2 = path == "/api/v2/spans";
  const bool v1 = path == "/api/v1/spans";
  if (!v1 && !v2) {
    return text(
        request, http::status::not_found,
        strCat("no Zipkin endpoint at ", path, " (use POST /api/v2/spans or /api/v1/spans)"));
  }
  if (request.method() == http::verb::options) return preflight(request);
  if (request.method() != http::verb::post) {
    common::HttpResponse r =
        text(request, http::status::method_not_allowed,
             strCat("method ", std::string(request.method_string()), " not allowed, use POST"));
    r.set(http::field::allow, "POST");
    return r;
  }
  if (!auth) {
    // Not through admit() (a direct call): the credentials are checked here, never skipped.
    otlp::Authentication checked = ingestor_->authenticate(
        otlp::Transport::kHttp, [&](std::string_view name) { return findHeader(request, name); });
    if (!checked.accepted) {
      common::HttpResponse res = text(request, http::status::unauthorized, "unauthenticated");
      res.set(http::field::www_authenticate, ingestor_->challenge(otlp::Transport::kHttp));
      return res;
    }
    auth = std::move(checked.attributes);
  }
  // Zipkin's reporters send JSON without a Content-Type now and then; Zipkin reads it as JSON.
  const std::string_view media = mediaType(request);
  Format format;
  if (media.empty() || absl::EqualsIgnoreCase(toAbsl(media), "application/json")) {
    format = v2 ? Format::kJsonV2 : Format::kJsonV1;
  } else if (v2 && absl::EqualsIgnoreCase(toAbsl(media), "application/x-protobuf")) {
    format = Format::kProtoV2;
  } else if (v1 && absl::EqualsIgnoreCase(toAbsl(media), "application/x-thrift")) {
    format = Format::kThriftV1;
  } else {
    ingestor_->countMalformed(otlp::Transport::kHttp);
    return text(request, http::status::unsupported_media_type,
                strCat("unsupported Content-Type '", media, "' for ", path, ", use ",
                       v2 ? "application/json or application/x-protobuf"
                          : "application/json or application/x-thrift"));
  }

  auto ce = request.find(http::field::content_encoding);
  const std::string_view ce_value = ce == request.end() ? std::string_view() : ce->value();
  std::optional<common::Compression> compression = common::parseContentEncoding(ce_value);
  if (!compression) {
    ingestor_->countMalformed(otlp::Transport::kHttp);
    return text(
        request, http::status::unsupported_media_type,
        strCat("unsupported Content-Encoding '", ce_value, "', use gzip, deflate, zstd or none"));
  }
  std::string decompressed;
  std::string* body = &request.body();
  if (*compression != common::Compression::kNone) {
    absl::Status s =
        ingestor_->decompressAdmitted(otlp::Transport::kHttp, *compression, request.body(),
                                      max_body_bytes_, decompressed, admitted);
    if (absl::IsUnavailable(s)) return retryLater(request, std::string(s.message()));
    if (!s.ok()) {
      ingestor_->countMalformed(otlp::Transport::kHttp);
      const bool too_large = s.code() == absl::StatusCode::kResourceExhausted;
      return text(request, too_large ? http::status::payload_too_large : http::status::bad_request,
                  std::string(s.message()));
    }
    body = &decompressed;
  }

  zk::SpanList& spans = scratchSpans();
  absl::Status read;
  switch (format) {
    case Format::kJsonV2:
      read = zk::readJsonV2(*body, body->capacity(), spans);
      break;
    case Format::kJsonV1:
      read = zk::readJsonV1(*body, body->capacity(), spans);
      break;
    case Format::kThriftV1:
      read = zk::readThriftV1(*body, spans);
      break;
    case Format::kProtoV2:
      read = zk::readProto(*body, spans);
      break;
  }
  std::string otlp_bytes;
  if (read.ok() && !spans.spans.empty()) {
    otlp_bytes.reserve(body->size() + body->size() / 4);
    read = zk::appendOtlpTraces(spans, options_, otlp_bytes);
  }
  if (!read.ok()) {
    ingestor_->countMalformed(otlp::Transport::kHttp);
    warnMalformed(path, toStd(read.message()));
    return text(request, http::status::bad_request, std::string(read.message()));
  }
  if (spans.spans.empty()) {
    return common::makeResponse(request, http::status::accepted, "text/plain", "");
  }

  const size_t wire_size = otlp_bytes.size();
  auto wire = pipeline::WireBytes::fromString(std::move(otlp_bytes));
  const std::string_view bytes = wire.bytes;
  // A server span when otlpd traces itself, continuing the client's trace (W3C traceparent;
  // Zipkin's B3 headers are not read); never for otlpd's own exports (no loops).
  auto span = selftrace::Tracer::installed() == nullptr ||
                      request.find(selftrace::ScopedSpan::kSelfTelemetryHeader) != request.end()
                  ? selftrace::ScopedSpan::none()
                  : selftrace::ScopedSpan::server("ingest traces", [&](std::string_view name) {
                      return findHeader(request, name);
                    });
  otlp::ExportOutcome outcome = ingestor_->exportRequest(
      pipeline::Signal::kTraces, otlp::Transport::kHttp, otlp::Encoding::kProtobuf, wire_size,
      [&](google::protobuf::Message& message) -> absl::Status {
        if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return absl::InvalidArgumentError("the spans do not make a valid OTLP request");
        }
        return absl::OkStatus();
      },
      std::move(admitted), std::move(wire), requestMetadata(request, *auth),
      // What zipkin/to_otlp.h writes is a valid request of exactly these spans (ids of the right
      // sizes and never zero, end after start, UTF-8 strings: tests/zipkin/codec_test.cc checks
      // every body it accepts, hostile ones included, against the wire view).
      spans.spans.size());
  if (span.recording()) {
    span.setAttribute("otlpd.transport", std::string(v2 ? "zipkin.v2" : "zipkin.v1"));
    span.setAttribute("otlpd.items", static_cast<int64_t>(outcome.accepted_items));
    if (outcome.kind != otlp::ExportOutcome::Kind::kOk) span.setError(outcome.message);
  }
  switch (outcome.kind) {
    case otlp::ExportOutcome::Kind::kOk:
      return common::makeResponse(request, http::status::accepted, "text/plain", "");
    case otlp::ExportOutcome::Kind::kBadRequest:
      return text(request, http::status::bad_request, outcome.message);
    case otlp::ExportOutcome::Kind::kRetryable:
      return retryLater(request, outcome.message);
  }
  return text(request, http::status::internal_server_error, "unexpected outcome");
}

}  // namespace otlpd::receivers::zipkin
