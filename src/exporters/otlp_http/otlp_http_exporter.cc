#include "exporters/otlp_http/otlp_http_exporter.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "common/logging.h"
#include "common/strings.h"
#include "exporters/helper/queued_exporter.h"
#include "exporters/otlp_http/http_client.h"
#include "otlp/proto.h"
#include "pipeline/authenticator.h"
#include "pipeline/batch_json.h"
#include "pipeline/self_telemetry.h"
#include "selftrace/tracer.h"

namespace otlpd::exporters::otlp_http {
namespace {

using pipeline::Signal;

// An OTLP response body is small; one far larger after decompression is not one.
constexpr size_t kMaxDecompressedResponse = 4u << 20;

const google::protobuf::Message& requestOf(const pipeline::Batch& batch) {
  switch (batch.signal()) {
    case Signal::kTraces:
      return batch.traces();
    case Signal::kMetrics:
      return batch.metrics();
    case Signal::kLogs:
      return batch.logs();
  }
  return batch.traces();
}

class HttpSender final : public helper::Sender {
 public:
  HttpSender(const OtlpHttpConfig& c, Signal signal, std::shared_ptr<ConnectionPool> pool,
             std::shared_ptr<pipeline::ClientAuthenticator> auth = nullptr)
      : signal_(signal),
        auth_(std::move(auth)),
        pool_(std::move(pool)),
        url_(c.url),
        encoding_(c.encoding),
        compression_(c.client.compression) {
    headers_.emplace_back("content-type", encoding_ == Encoding::kJson ? "application/json"
                                                                       : "application/x-protobuf");
    if (compression_ != common::Compression::kNone) {
      headers_.emplace_back("content-encoding", std::string(common::compressionName(compression_)));
    }
    // User headers after ours: a vendor that wants its own User-Agent gets it.
    for (const auto& [k, v] : c.client.headers) headers_.emplace_back(k, v);
  }

  std::string destination() const override { return url_.toString(); }

  helper::SendResult send(const pipeline::Batch& batch, absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    helper::SendResult result;
    std::string payload;
    if (encoding_ == Encoding::kJson) {
      pipeline::appendBatchJson(batch, payload);
    } else if (auto wire = batch.wireBytes()) {
      payload.assign(*wire);  // still the bytes the client sent: no re-encoding
    } else if (!requestOf(batch).SerializeToString(&payload)) {
      result.status = absl::InvalidArgumentError("request does not serialize as protobuf");
      return result;
    }
    if (compression_ != common::Compression::kNone) {
      auto compressed = common::compress(compression_, payload);
      if (!compressed.ok()) {
        // Not the data's fault (memory, a library error): worth another try.
        result.status = absl::UnavailableError(
            strCat("compressing the request: ", compressed.status().message()));
        return result;
      }
      payload = *std::move(compressed);
    }
    HeaderList with_credentials;
    if (auth_) {
      // Asked per attempt: a retry after the credentials were rotated sends the new ones.
      // The authenticator's headers replace configured ones of the same name.
      std::vector<std::pair<std::string, std::string>> credentials = auth_->requestHeaders();
      for (const auto& header : headers_) {
        const bool replaced =
            std::any_of(credentials.begin(), credentials.end(), [&](const auto& c) {
              return absl::EqualsIgnoreCase(toAbsl(c.first), toAbsl(header.first));
            });
        if (!replaced) with_credentials.push_back(header);
      }
      for (auto& header : credentials) with_credentials.push_back(std::move(header));
    }
    // A client span per attempt when otlpd traces itself; the downstream continues the trace.
    // Never for otlpd's own telemetry, which says so downstream too (no loops).
    const bool self_telemetry = pipeline::isSelfTelemetry(batch.metadata());
    auto span = self_telemetry
                    ? selftrace::ScopedSpan::none()
                    : selftrace::ScopedSpan::child(strCat("export ", pipeline::signalName(signal_)),
                                                   selftrace::SpanKind::kClient);
    const HeaderList* headers = auth_ ? &with_credentials : &headers_;
    HeaderList traced;
    if (self_telemetry) {
      traced = *headers;
      traced.emplace_back(std::string(pipeline::kSelfTelemetryKey), "1");
      headers = &traced;
    } else if (span.recording()) {
      traced = *headers;
      traced.emplace_back("traceparent", span.traceparent());
      if (!span.tracestate().empty()) traced.emplace_back("tracestate", span.tracestate());
      headers = &traced;
      span.setAttribute("server.address", url_.origin());
      span.setAttribute("otlpd.items", static_cast<int64_t>(batch.itemCount()));
    }
    auto answer = pool_->post(url_.target, *headers, payload, deadline);
    if (!answer.ok()) {
      span.setError(std::string(answer.status().message()));
      result.status = absl::UnavailableError(answer.status().message());
      return result;
    }
    if (span.recording()) {
      span.setAttribute("http.response.status_code", static_cast<int64_t>(answer->status));
      if (answer->status >= 300) span.setError(strCat("HTTP ", answer->status));
    }
    std::string decompressed;
    std::string_view body = answer->body;
    if (auto ce = common::parseContentEncoding(answer->content_encoding);
        ce && *ce != common::Compression::kNone) {
      // A body we cannot inflate only loses its partial-success detail or error message.
      body = common::decompress(*ce, body, kMaxDecompressedResponse, decompressed).ok()
                 ? std::string_view(decompressed)
                 : std::string_view();
    }
    return classifyResponse(signal_, answer->status, answer->content_type, body,
                            answer->retry_after, encoding_, absl::Now());
  }

 private:
  Signal signal_;
  std::shared_ptr<pipeline::ClientAuthenticator> auth_;
  std::shared_ptr<ConnectionPool> pool_;
  HttpUrl url_;
  Encoding encoding_;
  common::Compression compression_;
  HeaderList headers_;
};

class OtlpHttpExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "otlp_http"; }
  bool queuesInternally() const override { return true; }  // the exporter helper's queue
  std::vector<std::string_view> aliases() const override { return {"otlphttp"}; }
  bool supports(Signal) const override { return true; }

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      Signal signal) const override {
    OtlpHttpConfig c = parseOtlpHttpConfig(config, signal);
    pipeline::ClientAuthRef auth = pipeline::readClientAuthenticator(config, settings);
    const std::string owner = settings.id.toString();
    auto factory = [c, signal, owner, auth]() -> absl::StatusOr<std::shared_ptr<helper::Sender>> {
      if (auth && auth->authenticator == nullptr) {
        return absl::FailedPreconditionError(
            strCat("authenticator '", auth->id.toString(), "' is not available"));
      }
      if (auth && !c.url.tls) {
        logging::warn("exporter sends credentials without TLS",
                      {{"exporter", owner}, {"endpoint", c.url.toString()}});
      }
      auto pool = ConnectionPool::shared(owner, c.url, c.client.tls, c.max_idle_conns);
      if (!pool.ok()) return pool.status();
      return std::make_shared<HttpSender>(c, signal, *std::move(pool),
                                          auth ? auth->authenticator : nullptr);
    };
    return helper::makeQueuedExporter(settings, signal, c.helper, std::move(factory));
  }
};

}  // namespace

absl::StatusOr<std::shared_ptr<helper::Sender>> makeOtlpHttpSender(
    Signal signal, const std::string& base_url, Encoding encoding,
    common::Compression compression) {
  OtlpHttpConfig c;
  auto url = parseHttpUrl(appendSignalPath(base_url, signal));
  if (!url.ok()) return url.status();
  c.url = *std::move(url);
  c.encoding = encoding;
  c.client.compression = compression;
  auto pool = ConnectionPool::shared("dlq-replay", c.url, c.client.tls, c.max_idle_conns);
  if (!pool.ok()) return pool.status();
  return std::shared_ptr<helper::Sender>(std::make_shared<HttpSender>(c, signal, *std::move(pool)));
}

std::unique_ptr<pipeline::ExporterFactory> makeOtlpHttpExporterFactory() {
  return std::make_unique<OtlpHttpExporterFactory>();
}

}  // namespace otlpd::exporters::otlp_http
