#include "receivers/otlp/http_handler.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/compression.h"
#include "common/strings.h"
#include "otlp/json_wire.h"
#include "otlp/proto.h"
#include "pipeline/batch_json.h"
#include "selftrace/tracer.h"

namespace otlpd::receivers::otlp {
namespace {

namespace http = boost::beast::http;
using pipeline::Signal;

constexpr std::string_view kProtobufType = "application/x-protobuf";
constexpr std::string_view kJsonType = "application/json";

// grpc status codes used in google.rpc.Status bodies, as the OTLP/HTTP spec maps them.
constexpr int kInvalidArgument = 3;
constexpr int kResourceExhausted = 8;
constexpr int kUnimplemented = 12;
constexpr int kUnavailable = 14;

std::optional<Encoding> encodingOf(std::string_view content_type) {
  // Parameters such as "; charset=utf-8" do not change the encoding.
  std::string_view media = content_type.substr(0, content_type.find(';'));
  media = toStd(absl::StripAsciiWhitespace(toAbsl(media)));
  if (absl::EqualsIgnoreCase(toAbsl(media), toAbsl(kProtobufType))) return Encoding::kProtobuf;
  if (absl::EqualsIgnoreCase(toAbsl(media), toAbsl(kJsonType))) return Encoding::kJson;
  return std::nullopt;
}

// Error bodies are google.rpc.Status in the request's encoding; for a request whose encoding
// we do not know, JSON is the readable choice.
common::HttpResponse statusResponse(const common::HttpRequest& request, http::status http_status,
                                    int rpc_code, std::string_view message,
                                    std::optional<Encoding> encoding) {
  const Encoding e = encoding.value_or(Encoding::kJson);
  return common::makeResponse(request, http_status,
                              std::string(e == Encoding::kJson ? kJsonType : kProtobufType),
                              encodeRpcStatus(rpc_code, message, e));
}

bool wildcardMatch(std::string_view pattern, std::string_view value) {
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == value;
  std::string_view prefix = pattern.substr(0, star), suffix = pattern.substr(star + 1);
  return value.size() >= prefix.size() + suffix.size() && value.starts_with(prefix) &&
         value.ends_with(suffix);
}

constexpr int kUnauthenticated = 16;

// What admit() hands to handleAdmitted(): the memory reserved, and who the client is.
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

}  // namespace

// The headers (with `include_metadata`, less the credentials) and what the authenticator said.
std::shared_ptr<const pipeline::RequestMetadata> OtlpHttpHandler::requestMetadata(
    const common::HttpRequest& request, const pipeline::AuthAttributes& auth) const {
  if (!include_metadata_ && auth.empty()) return nullptr;
  auto metadata = std::make_shared<pipeline::RequestMetadata>();
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
  for (const auto& [name, value] : auth) metadata->addAuth(name, value);
  return metadata;
}

common::HttpResponse OtlpHttpHandler::unauthenticated(const common::HttpRequest& request) const {
  auto ct = request.find(http::field::content_type);
  common::HttpResponse res =
      statusResponse(request, http::status::unauthorized, kUnauthenticated, "unauthenticated",
                     ct == request.end() ? std::nullopt : encodingOf(ct->value()));
  res.set(http::field::www_authenticate, ingestor_->challenge(Transport::kHttp));
  addCorsHeaders(request, res);
  return res;
}

namespace {}  // namespace

OtlpHttpHandler::OtlpHttpHandler(std::shared_ptr<Ingestor> ingestor, HttpPaths paths,
                                 CorsConfig cors, size_t max_body_bytes, bool include_metadata)
    : ingestor_(std::move(ingestor)),
      paths_(std::move(paths)),
      cors_(std::move(cors)),
      max_body_bytes_(max_body_bytes),
      include_metadata_(include_metadata) {}

std::optional<Signal> OtlpHttpHandler::signalForTarget(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == paths_.traces) return Signal::kTraces;
  if (path == paths_.metrics) return Signal::kMetrics;
  if (path == paths_.logs) return Signal::kLogs;
  return std::nullopt;
}

bool OtlpHttpHandler::originAllowed(std::string_view origin) const {
  for (const auto& pattern : cors_.allowed_origins) {
    if (wildcardMatch(pattern, origin)) return true;
  }
  return false;
}

void OtlpHttpHandler::addCorsHeaders(const common::HttpRequest& request,
                                     common::HttpResponse& response) const {
  auto origin = request.find(http::field::origin);
  if (origin == request.end() || !originAllowed(origin->value())) return;
  response.set(http::field::access_control_allow_origin, origin->value());
  response.set(http::field::vary, "Origin");
}

common::HttpResponse OtlpHttpHandler::preflight(const common::HttpRequest& request) const {
  auto origin = request.find(http::field::origin);
  if (origin == request.end() || !originAllowed(origin->value())) {
    return common::makeResponse(request, http::status::method_not_allowed, "text/plain",
                                "CORS origin not allowed\n");
  }
  common::HttpResponse res = common::makeResponse(request, http::status::no_content, "", "");
  res.erase(http::field::content_type);
  addCorsHeaders(request, res);
  res.set(http::field::access_control_allow_methods, "POST");
  std::vector<std::string> headers = {"Content-Type", "Content-Encoding", "Accept"};
  headers.insert(headers.end(), cors_.allowed_headers.begin(), cors_.allowed_headers.end());
  res.set(http::field::access_control_allow_headers, absl::StrJoin(headers, ", "));
  if (cors_.max_age_seconds > 0) {
    res.set(http::field::access_control_max_age, std::to_string(cors_.max_age_seconds));
  }
  return res;
}

common::HttpResponse OtlpHttpHandler::bodyTooLarge(const common::HttpRequest& request,
                                                   size_t limit) {
  ingestor_->countMalformed(Transport::kHttp);
  auto ct = request.find(http::field::content_type);
  common::HttpResponse res =
      statusResponse(request, http::status::payload_too_large, kResourceExhausted,
                     strCat("request body exceeds the limit of ", limit, " bytes"),
                     ct == request.end() ? std::nullopt : encodingOf(ct->value()));
  addCorsHeaders(request, res);
  return res;
}

std::optional<common::HttpResponse> OtlpHttpHandler::admit(const common::HttpRequest& headers,
                                                           std::shared_ptr<void>& admission) {
  if (headers.method() != http::verb::post) return std::nullopt;
  std::optional<size_t> length;
  if (auto cl = headers.find(http::field::content_length); cl != headers.end()) {
    size_t n = 0;
    const std::string_view v = cl->value();
    if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) length = n;
  }
  // What is reserved now is what the server reads before it asks for more (growAdmission): an
  // announced length is not memory yet, and reserving it would let stalled clients hold the
  // budget.
  if (length) length = std::min(*length, kFirstBodyReservation);
  // Credentials before memory: a client that is not let in holds nothing, and learns nothing
  // about the budget.
  Authentication auth = ingestor_->authenticate(
      Transport::kHttp, [&](std::string_view name) { return findHeader(headers, name); });
  if (!auth.accepted) return unauthenticated(headers);
  // Refused here, the body is never read: the server answers and then closes the connection
  // (common/http_server.h, admit()), since the unread body would otherwise be taken for the next
  // request. The client reconnects for its retry. A path that is no OTLP endpoint (no signal) is
  // answered 404 once read, whatever the pipelines' state; only memory applies to it.
  std::string refusal;
  auto reservation =
      ingestor_->admit(Transport::kHttp, signalForTarget(headers.target()), &refusal, length);
  if (!reservation) return retryLater(headers, refusal);
  admission = std::make_shared<HttpAdmission>(
      HttpAdmission{*std::move(reservation), std::move(auth.attributes)});
  return std::nullopt;
}

std::optional<common::HttpResponse> OtlpHttpHandler::growAdmission(
    const common::HttpRequest& headers, std::shared_ptr<void>& admission, size_t body_bytes) {
  if (!admission) return std::nullopt;
  auto& reservation = std::static_pointer_cast<HttpAdmission>(admission)->memory;
  // Reading a request and decoding it takes about twice its wire size (as admit() counts).
  if (reservation.tryResize(2 * body_bytes)) return std::nullopt;
  if (auto most = ingestor_->largestAdmissibleBody(); most && body_bytes > *most) {
    return bodyTooLarge(headers, *most);
  }
  std::string refusal;
  ingestor_->refuseForMemory(Transport::kHttp, &refusal);
  return retryLater(headers, refusal);
}

common::HttpResponse OtlpHttpHandler::retryLater(const common::HttpRequest& headers,
                                                 const std::string& refusal) {
  auto ct = headers.find(http::field::content_type);
  common::HttpResponse res =
      statusResponse(headers, http::status::service_unavailable, kUnavailable, refusal,
                     ct == headers.end() ? std::nullopt : encodingOf(ct->value()));
  res.set(http::field::retry_after, "1");
  addCorsHeaders(headers, res);
  return res;
}

common::HttpResponse OtlpHttpHandler::handleAdmitted(common::HttpRequest&& request,
                                                     std::shared_ptr<void> admission) {
  std::optional<pipeline::MemoryBudget::Reservation> admitted;
  std::optional<pipeline::AuthAttributes> auth;
  if (admission) {
    auto& admitted_request = *std::static_pointer_cast<HttpAdmission>(admission);
    admitted = std::move(admitted_request.memory);
    auth = std::move(admitted_request.auth);
  }
  return exportRequest(std::move(request), std::move(admitted), std::move(auth));
}

void OtlpHttpHandler::handleAdmittedLater(common::HttpRequest&& request,
                                          std::shared_ptr<void> admission, const Respond& respond) {
  // The request moves into the pipeline: a 503 later is built from a copy of its headers.
  held_answers_.answer([&] { return handleAdmitted(std::move(request), std::move(admission)); },
                       [this, headers = common::HttpRequest(common::HttpRequest::header_type(
                                  request.base()))](const absl::Status& status) {
                         return retryLater(headers, std::string(status.message()));
                       },
                       respond);
}

void OtlpHttpHandler::answerOwedNow() {
  held_answers_.answerNow();
}

common::HttpResponse OtlpHttpHandler::handle(common::HttpRequest&& request) {
  return exportRequest(std::move(request), std::nullopt, std::nullopt);
}

common::HttpResponse OtlpHttpHandler::exportRequest(
    common::HttpRequest&& request, std::optional<pipeline::MemoryBudget::Reservation> admitted,
    std::optional<pipeline::AuthAttributes> auth) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const std::optional<Signal> signal = signalForTarget(target);

  auto ct = request.find(http::field::content_type);
  const std::optional<Encoding> encoding =
      ct == request.end() ? std::nullopt : encodingOf(ct->value());

  common::HttpResponse res = [&]() -> common::HttpResponse {
    if (!signal) {
      return statusResponse(request, http::status::not_found, kUnimplemented,
                            strCat("no OTLP endpoint at ", path, " (use ", paths_.traces, ", ",
                                   paths_.metrics, " or ", paths_.logs, ")"),
                            encoding);
    }
    if (request.method() == http::verb::options) return preflight(request);
    if (request.method() != http::verb::post) {
      common::HttpResponse r = statusResponse(
          request, http::status::method_not_allowed, kUnimplemented,
          strCat("method ", std::string(request.method_string()), " not allowed, use POST"),
          encoding);
      r.set(http::field::allow, "POST");
      return r;
    }
    if (!auth) {
      // Not through admit() (a direct call): the credentials are checked here, never skipped.
      Authentication checked = ingestor_->authenticate(
          Transport::kHttp, [&](std::string_view name) { return findHeader(request, name); });
      if (!checked.accepted) return unauthenticated(request);
      auth = std::move(checked.attributes);
    }
    if (!encoding) {
      ingestor_->countMalformed(Transport::kHttp);
      return statusResponse(request, http::status::unsupported_media_type, kInvalidArgument,
                            strCat("unsupported Content-Type '",
                                   ct == request.end() ? std::string() : std::string(ct->value()),
                                   "', use application/x-protobuf or application/json"),
                            std::nullopt);
    }
    if (!ingestor_->serves(*signal)) {
      return statusResponse(
          request, http::status::not_found, kUnimplemented,
          strCat("this receiver has no pipeline for ", pipeline::signalName(*signal)), encoding);
    }

    auto ce = request.find(http::field::content_encoding);
    const std::string_view ce_value = ce == request.end() ? std::string_view() : ce->value();
    std::optional<common::Compression> compression = common::parseContentEncoding(ce_value);
    if (!compression) {
      ingestor_->countMalformed(Transport::kHttp);
      return statusResponse(
          request, http::status::unsupported_media_type, kInvalidArgument,
          strCat("unsupported Content-Encoding '", ce_value, "', use gzip, deflate, zstd or none"),
          encoding);
    }
    // The body (or its decompressed form) moves into the batch: a valid protobuf request is
    // kept as it arrived, never copied.
    pipeline::WireBytes body;
    size_t request_bytes = 0;  // as received (decompressed): what the memory budget counts
    size_t body_capacity = 0;  // bytes allocated for the body: the JSON decoder may read them
    if (*compression != common::Compression::kNone) {
      std::string decompressed;
      absl::Status s = ingestor_->decompressAdmitted(Transport::kHttp, *compression, request.body(),
                                                     max_body_bytes_, decompressed, admitted);
      if (absl::IsUnavailable(s)) return retryLater(request, std::string(s.message()));
      if (!s.ok()) {
        ingestor_->countMalformed(Transport::kHttp);
        const bool too_large = s.code() == absl::StatusCode::kResourceExhausted;
        return statusResponse(
            request, too_large ? http::status::payload_too_large : http::status::bad_request,
            too_large ? kResourceExhausted : kInvalidArgument, toStd(s.message()), encoding);
      }
      body_capacity = decompressed.capacity();
      body = pipeline::WireBytes::fromString(std::move(decompressed));
    } else {
      body_capacity = request.body().capacity();
      body = pipeline::WireBytes::fromString(std::move(request.body()));
    }

    // OTLP/JSON is decoded straight into protobuf wire bytes, which then take the protobuf path
    // (the wire view); a decoding error is reported by the ingestor as a malformed request.
    request_bytes = body.bytes.size();
    absl::Status json_status;
    // Traces the decoder vouches for skip the wire view's walk, as the Zipkin receiver's do.
    std::optional<size_t> vouched_items;
    if (*encoding == Encoding::kJson) {
      std::string wire;
      json_status = ::otlpd::otlp::otlpJsonToWire(pipeline::exportRequestDescriptor(*signal),
                                                  body.bytes, body_capacity, wire, &vouched_items);
      body = pipeline::WireBytes::fromString(json_status.ok() ? std::move(wire) : std::string());
    }
    const std::string_view bytes = body.bytes;
    // A server span per request when otlpd traces itself, continuing the client's trace; never
    // for otlpd's own span exports (no loops).
    auto span = selftrace::Tracer::installed() == nullptr ||
                        request.find(selftrace::ScopedSpan::kSelfTelemetryHeader) != request.end()
                    ? selftrace::ScopedSpan::none()
                    : selftrace::ScopedSpan::server(
                          strCat("ingest ", pipeline::signalName(*signal)),
                          [&](std::string_view name) { return findHeader(request, name); });
    ExportOutcome outcome = ingestor_->exportRequest(
        *signal, Transport::kHttp, *encoding, request_bytes,
        [&](google::protobuf::Message& message) -> absl::Status {
          if (!json_status.ok()) return json_status;
          if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            return absl::InvalidArgumentError("request body is not a valid protobuf message");
          }
          return absl::OkStatus();
        },
        std::move(admitted),
        json_status.ok() ? std::optional<pipeline::WireBytes>(std::move(body)) : std::nullopt,
        requestMetadata(request, *auth), vouched_items);
    if (span.recording()) {
      span.setAttribute("otlpd.transport", std::string("http"));
      span.setAttribute("otlpd.items", static_cast<int64_t>(outcome.accepted_items));
      if (outcome.kind != ExportOutcome::Kind::kOk) span.setError(outcome.message);
    }
    switch (outcome.kind) {
      case ExportOutcome::Kind::kOk:
        return common::makeResponse(
            request, http::status::ok,
            std::string(*encoding == Encoding::kJson ? kJsonType : kProtobufType),
            std::move(outcome.body));
      case ExportOutcome::Kind::kBadRequest:
        return statusResponse(request, http::status::bad_request, kInvalidArgument, outcome.message,
                              encoding);
      case ExportOutcome::Kind::kRetryable: {
        common::HttpResponse r = statusResponse(request, http::status::service_unavailable,
                                                kUnavailable, outcome.message, encoding);
        r.set(http::field::retry_after, "1");
        return r;
      }
    }
    return statusResponse(request, http::status::internal_server_error, kUnavailable,
                          "unexpected outcome", encoding);
  }();
  addCorsHeaders(request, res);
  return res;
}

}  // namespace otlpd::receivers::otlp
