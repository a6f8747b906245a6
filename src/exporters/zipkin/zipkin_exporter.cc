#include "exporters/zipkin/zipkin_exporter.h"

#include <map>

#include "absl/strings/ascii.h"
#include "common/compression.h"
#include "common/logging.h"
#include "common/strings.h"
#include "exporters/helper/config.h"
#include "exporters/helper/otlp_client_config.h"
#include "exporters/helper/queued_exporter.h"
#include "exporters/otlp_http/config.h"
#include "exporters/otlp_http/http_client.h"
#include "zipkin/from_otlp.h"

namespace otlpd::exporters::zipkin {
namespace {

using pipeline::Signal;
namespace zk = ::otlpd::zipkin;

enum class Format { kJson, kProto };

struct ZipkinExporterConfig {
  helper::HelperConfig helper;
  otlp_http::HttpUrl url;
  std::string endpoint;
  Format format = Format::kJson;
  zk::FromOtlpOptions translation;
  std::map<std::string, std::string> headers;
  common::Compression compression = common::Compression::kNone;
  helper::TlsClientConfig tls;
  int max_idle_conns = 8;
};

// The Collector's confighttp client keys this exporter takes (no OTEL_EXPORTER_OTLP_* defaults:
// those are for OTLP exporters).
ZipkinExporterConfig parseConfig(config::ConfigNode& node) {
  ZipkinExporterConfig c;
  c.helper = helper::parseHelperConfig(node);
  c.endpoint = node.getString("endpoint", "");
  if (c.endpoint.empty()) {
    node.addError("endpoint", "is required (the whole URL, e.g. http://zipkin:9411/api/v2/spans)");
  } else if (auto url = otlp_http::parseHttpUrl(c.endpoint); url.ok()) {
    c.url = *std::move(url);
  } else {
    node.addError("endpoint", std::string(url.status().message()));
  }
  const std::string format = absl::AsciiStrToLower(node.getString("format", "json"));
  if (format == "json") {
    c.format = Format::kJson;
  } else if (format == "proto") {
    c.format = Format::kProto;
  } else {
    node.addError("format", "must be json or proto");
  }
  c.translation.default_service_name =
      node.getString("default_service_name", c.translation.default_service_name);
  if (node.has("headers")) {
    config::ConfigNode h = node.child("headers");
    if (h.yaml().IsMap()) {
      for (const auto& kv : h.yaml()) {
        const std::string key = kv.first.as<std::string>("");
        c.headers[absl::AsciiStrToLower(key)] = h.getString(key, "");
      }
    } else {
      node.addError("headers", "must be a mapping of header names to values");
    }
  }
  const std::string compression = absl::AsciiStrToLower(node.getString("compression", "none"));
  if (compression == "gzip") {
    c.compression = common::Compression::kGzip;
  } else if (compression == "zstd") {
    c.compression = common::Compression::kZstd;
  } else if (compression == "deflate") {
    c.compression = common::Compression::kDeflate;
  } else if (compression == "none" || compression.empty()) {
    c.compression = common::Compression::kNone;
  } else {
    node.addError("compression", "must be gzip, zstd, deflate or none");
  }
  config::ConfigNode t = node.child("tls");
  helper::parseTlsClientConfig(t, c.tls);
  c.max_idle_conns = static_cast<int>(node.getInt("max_idle_conns", c.max_idle_conns, 0, 1024));
  return c;
}

class ZipkinSender final : public helper::Sender {
 public:
  ZipkinSender(const ZipkinExporterConfig& c, std::shared_ptr<otlp_http::ConnectionPool> pool)
      : config_(c), pool_(std::move(pool)) {
    headers_.emplace_back(
        "content-type", c.format == Format::kJson ? "application/json" : "application/x-protobuf");
    if (c.compression != common::Compression::kNone) {
      headers_.emplace_back("content-encoding",
                            std::string(common::compressionName(c.compression)));
    }
    for (const auto& [k, v] : c.headers) headers_.emplace_back(k, v);
  }

  std::string destination() const override { return config_.url.toString(); }

  helper::SendResult send(const pipeline::Batch& batch, absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    helper::SendResult result;
    std::string payload = config_.format == Format::kJson
                              ? zk::toZipkinJson(batch.traces(), config_.translation)
                              : zk::toZipkinProto(batch.traces(), config_.translation);
    if (config_.compression != common::Compression::kNone) {
      auto compressed = common::compress(config_.compression, payload);
      if (!compressed.ok()) {
        result.status = absl::UnavailableError(
            strCat("compressing the request: ", compressed.status().message()));
        return result;
      }
      payload = *std::move(compressed);
    }
    auto answer = pool_->post(config_.url.target, headers_, payload, deadline);
    if (!answer.ok()) {
      result.status = absl::UnavailableError(answer.status().message());
      return result;
    }
    // Zipkin answers 202 with no body; errors as OTLP/HTTP's are classified (429 and 5xx retried,
    // other 4xx permanent).
    if (answer->status >= 200 && answer->status < 300) return result;
    return otlp_http::classifyResponse(Signal::kTraces, answer->status, "text/plain", answer->body,
                                       answer->retry_after, otlp_http::Encoding::kJson,
                                       absl::Now());
  }

 private:
  ZipkinExporterConfig config_;
  std::shared_ptr<otlp_http::ConnectionPool> pool_;
  otlp_http::HeaderList headers_;
};

class ZipkinExporterFactory final : public pipeline::ExporterFactory {
 public:
  std::string_view type() const override { return "zipkin"; }
  bool queuesInternally() const override { return true; }
  bool supports(Signal signal) const override { return signal == Signal::kTraces; }

  absl::StatusOr<std::unique_ptr<pipeline::Exporter>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config,
      Signal signal) const override {
    ZipkinExporterConfig c = parseConfig(config);
    const std::string owner = settings.id.toString();
    auto factory = [c, owner]() -> absl::StatusOr<std::shared_ptr<helper::Sender>> {
      auto pool = otlp_http::ConnectionPool::shared(owner, c.url, c.tls, c.max_idle_conns);
      if (!pool.ok()) return pool.status();
      return std::make_shared<ZipkinSender>(c, *std::move(pool));
    };
    return helper::makeQueuedExporter(settings, signal, c.helper, std::move(factory));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExporterFactory> makeZipkinExporterFactory() {
  return std::make_unique<ZipkinExporterFactory>();
}

}  // namespace otlpd::exporters::zipkin
