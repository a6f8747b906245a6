#include "extensions/jaeger_query/jaeger_query.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <variant>

#include "common/fnv1a.h"
#include "common/http_server.h"
#include "common/logging.h"
#include "common/strings.h"
#include "extensions/http_endpoint_extension.h"
#include "pipeline/authenticator.h"
#include "query/jaeger_api.h"
#include "selftrace/tracer.h"
#include "ui/assets.h"

namespace otlpd::extensions::jaeger_query {
namespace {

namespace http = boost::beast::http;

// Queries can take a while (up to the scan limit); more than one I/O thread keeps the UI's
// parallel requests and the API's quick answers from queueing behind one slow search.
constexpr size_t kQueryThreads = 4;

// A validator of a file's bytes that stays the same across restarts, quoted as ETag wants.
std::string contentTag(std::string_view bytes) {
  char out[21];
  std::snprintf(out, sizeof out, "\"%016llx\"",
                static_cast<unsigned long long>(common::fnv1a64(bytes)));
  return out;
}

int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A live search polled by the HTTP server; a failure ends the stream.
class LiveStream final : public common::ResponseStream {
 public:
  explicit LiveStream(std::unique_ptr<query::LiveSearch> search) : search_(std::move(search)) {}
  std::optional<std::string> next() override {
    try {
      return search_->poll(nowMicros());
    } catch (const std::exception& e) {
      logging::warn("jaeger_query live view failed", {{"error", e.what()}});
      return std::nullopt;
    }
  }

 private:
  std::unique_ptr<query::LiveSearch> search_;
};

class JaegerQueryHandler final : public common::HttpHandler {
 public:
  JaegerQueryHandler(query::JaegerApiOptions options, std::string ui_directory,
                     pipeline::ServerAuthRef auth, common::Counter* unauthenticated)
      : api_(std::move(options)),
        ui_directory_(std::move(ui_directory)),
        auth_(std::move(auth)),
        unauthenticated_(unauthenticated) {}

  // Every request (the API and the UI's files) shows its credentials before anything is read or
  // answered. A browser meets the Basic challenge with its login dialog.
  std::optional<common::HttpResponse> admit(const common::HttpRequest& request,
                                            std::shared_ptr<void>&) override {
    if (!auth_) return std::nullopt;
    if (auth_->authenticator != nullptr) {
      auto verdict = auth_->authenticator->authenticate(
          [&](std::string_view name) -> std::optional<std::string_view> {
            auto it = request.find(name);
            if (it == request.end()) return std::nullopt;
            return it->value();
          });
      if (verdict.ok()) return std::nullopt;
    }
    unauthenticated_->add();
    auto res = common::makeResponse(request, http::status::unauthorized, "application/json",
                                    R"({"data":null,"total":0,"limit":0,"offset":0,)"
                                    R"("errors":[{"code":401,"msg":"unauthenticated"}]})");
    if (auth_->authenticator != nullptr) {
      res.set(http::field::www_authenticate, auth_->authenticator->challenge());
    }
    res.set(http::field::cache_control, "no-store");
    return res;
  }

  // The live view: Server-Sent Events (a bad request falls through to handle(), which answers
  // its error).
  std::optional<common::StreamingResponse> stream(const common::HttpRequest& request) override {
    const std::string_view target = request.target();
    constexpr std::string_view kLive = "/api/otlpd/live";
    if (request.method() != http::verb::get || !target.starts_with(kLive) ||
        (target.size() > kLive.size() && target[kLive.size()] != '?')) {
      return std::nullopt;
    }
    const std::string_view query =
        target.size() > kLive.size() ? target.substr(kLive.size() + 1) : std::string_view();
    auto live = api_.openLive(query, nowMicros());
    auto* feed = std::get_if<std::unique_ptr<query::LiveSearch>>(&live);
    if (feed == nullptr) return std::nullopt;
    (*feed)->prime(nowMicros());
    common::StreamingResponse out;
    out.head = common::makeResponse(request, http::status::ok, "text/event-stream", "");
    out.head.set(http::field::cache_control, "no-store");
    out.body = std::make_shared<LiveStream>(std::move(*feed));
    return out;
  }

  common::HttpResponse handle(common::HttpRequest&& request) override {
    const bool head = request.method() == http::verb::head;
    if (request.method() != http::verb::get && !head) {
      auto res = common::makeResponse(request, http::status::method_not_allowed, "application/json",
                                      R"({"data":null,"total":0,"limit":0,"offset":0,)"
                                      R"("errors":[{"code":405,"msg":"use GET"}]})");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    const std::string_view target = request.target();
    const bool is_api = target.starts_with("/api/") || target.starts_with("/zipkin/api/");
    // A server span per request when otlpd traces itself, continuing the caller's trace
    // (W3C traceparent). UI files share one name: their paths are not a useful dimension.
    const std::string_view path = target.substr(0, target.find_first_of("?#"));
    auto span = selftrace::ScopedSpan::server(
        is_api ? strCat(request.method_string(), " ", path) : std::string("GET (ui)"),
        [&](std::string_view name) -> std::optional<std::string_view> {
          auto it = request.find(name);
          if (it == request.end()) return std::nullopt;
          return it->value();
        });
    common::HttpResponse res = is_api ? api(request) : ui(request);
    if (span.recording()) {
      span.setAttribute("http.request.method", std::string(request.method_string()));
      span.setAttribute("url.path", std::string(path));
      span.setAttribute("http.response.status_code", static_cast<int64_t>(res.result_int()));
      if (res.result_int() >= 500) span.setError(strCat("HTTP ", res.result_int()));
    }
    // Inside the span: with self-tracing the line carries its trace_id and span_id.
    logging::debug("query request", {{"path", path}, {"status", res.result_int()}});
    // HEAD answers the headers of GET, its Content-Length included, without the body.
    if (head) {
      const size_t length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    return res;
  }

 private:
  common::HttpResponse api(const common::HttpRequest& request) {
    query::ApiResponse response;
    try {
      const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      response = api_.handle(request.target(), now_us);
    } catch (const std::exception& e) {
      response = {500, std::string(R"({"data":null,"total":0,"limit":0,"offset":0,)"
                                   R"("errors":[{"code":500,"msg":"internal error"}]})")};
      logging::warn("jaeger_query request failed", {{"error", e.what()}});
    }
    auto res = common::makeResponse(request, static_cast<http::status>(response.status),
                                    "application/json", std::move(response.body));
    res.set(http::field::cache_control, "no-store");
    return res;
  }

  common::HttpResponse ui(const common::HttpRequest& request) {
    std::string_view path = request.target();
    path = path.substr(0, path.find_first_of("?#"));
    std::optional<ui::Asset> asset;
    try {
      asset = ui::findAsset(path, ui_directory_);
    } catch (const std::exception& e) {
      logging::warn("jaeger_query asset lookup failed", {{"error", e.what()}});
    }
    if (!asset) {
      return common::makeResponse(request, http::status::not_found, "text/plain; charset=utf-8",
                                  "not found\n");
    }
    // Files are revalidated on every load (cheap: 304 without a body), so a browser never mixes
    // the modules of two otlpd versions after an upgrade.
    const std::string etag = contentTag(asset->body);
    if (request[http::field::if_none_match] == etag) {
      auto res = common::makeResponse(request, http::status::not_modified, "", "");
      res.set(http::field::etag, etag);
      res.set(http::field::cache_control, "no-cache");
      return res;
    }
    auto res = common::makeResponse(request, http::status::ok, std::string(asset->content_type),
                                    std::move(asset->body));
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, "no-cache");
    return res;
  }

  query::JaegerApi api_;
  std::string ui_directory_;
  pipeline::ServerAuthRef auth_;  // null: no authentication
  common::Counter* unauthenticated_;
};

class JaegerQuery final : public HttpEndpointExtension {
 public:
  JaegerQuery(std::string id, std::string endpoint, query::JaegerApiOptions options,
              std::string ui_directory, std::optional<common::TlsServerConfig> tls,
              common::MetricsRegistry& metrics, pipeline::ServerAuthRef auth,
              common::Counter* unauthenticated)
      : HttpEndpointExtension(
            std::move(id), std::move(endpoint),
            std::make_shared<JaegerQueryHandler>(std::move(options), std::move(ui_directory), auth,
                                                 unauthenticated),
            kQueryThreads, std::move(tls), &metrics),
        auth_(std::move(auth)) {}

  absl::Status start(pipeline::Host& host) override {
    if (auth_ && auth_->authenticator == nullptr) {
      return absl::FailedPreconditionError(
          strCat("authenticator '", auth_->id.toString(), "' is not available"));
    }
    return HttpEndpointExtension::start(host);
  }

 private:
  pipeline::ServerAuthRef auth_;
};

class JaegerQueryFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "jaeger_query"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    std::string endpoint = config.getString("endpoint", "localhost:16686");
    query::JaegerApiOptions options;
    options.max_traces = config.getInt("max_traces", 20, 1, 10000);
    options.max_results = config.getInt("max_results", 1000, 1, 100000);
    // Fractions are allowed (0.5 = 512 KiB), which also lets tests hit the limit with little data.
    const double max_scan_mib = config.getDouble("max_scan_mib", 512);
    if (!(max_scan_mib > 0 && max_scan_mib <= 1 << 20)) {
      config.addError("max_scan_mib", "must be more than 0 and at most 1048576");
    } else {
      options.max_scan_bytes = static_cast<uint64_t>(max_scan_mib * 1024 * 1024);
      if (options.max_scan_bytes == 0) options.max_scan_bytes = 1;
    }
    config::ConfigNode store = config.child("store");
    options.store_directory = store.getString("directory", "./otlpd-data");
    store.rejectUnknownKeys();
    config::ConfigNode ui = config.child("ui");
    std::string ui_directory = ui.getString("directory", "");
    ui.rejectUnknownKeys();
    std::optional<common::TlsServerConfig> tls = common::readTlsServerConfig(config);
    pipeline::ServerAuthRef auth = pipeline::readServerAuthenticator(config, settings);
    common::Counter* unauthenticated = &settings.metrics.counter(
        "otlpd_query_unauthenticated_requests_total",
        "Query API and UI requests refused because the authenticator did not accept their "
        "credentials (HTTP 401).",
        {{"extension", settings.id.toString()}});
    return std::make_unique<JaegerQuery>(
        settings.id.toString(), std::move(endpoint), std::move(options), std::move(ui_directory),
        std::move(tls), settings.metrics, std::move(auth), unauthenticated);
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeJaegerQueryFactory() {
  return std::make_unique<JaegerQueryFactory>();
}

}  // namespace otlpd::extensions::jaeger_query
