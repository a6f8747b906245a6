#include "extensions/jaeger_query/jaeger_query.h"

#include <chrono>

#include "common/http_server.h"
#include "common/logging.h"
#include "extensions/http_endpoint_extension.h"
#include "query/jaeger_api.h"

namespace otlpd::extensions::jaeger_query {
namespace {

namespace http = boost::beast::http;

class JaegerQueryHandler final : public common::HttpHandler {
 public:
  explicit JaegerQueryHandler(query::JaegerApiOptions options) : api_(std::move(options)) {}

  common::HttpResponse handle(common::HttpRequest&& request) override {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return common::makeResponse(request, http::status::method_not_allowed, "application/json",
                                  R"({"data":null,"total":0,"limit":0,"offset":0,)"
                                  R"("errors":[{"code":405,"msg":"use GET"}]})");
    }
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
    return common::makeResponse(request, static_cast<http::status>(response.status),
                                "application/json", std::move(response.body));
  }

 private:
  query::JaegerApi api_;
};

class JaegerQuery final : public HttpEndpointExtension {
 public:
  JaegerQuery(std::string id, std::string endpoint, query::JaegerApiOptions options)
      : HttpEndpointExtension(std::move(id), std::move(endpoint),
                              std::make_shared<JaegerQueryHandler>(std::move(options))) {}
};

class JaegerQueryFactory final : public pipeline::ExtensionFactory {
 public:
  std::string_view type() const override { return "jaeger_query"; }
  absl::StatusOr<std::unique_ptr<pipeline::Extension>> create(
      const pipeline::CreateSettings& settings, config::ConfigNode& config) const override {
    std::string endpoint = config.getString("endpoint", "localhost:16686");
    query::JaegerApiOptions options;
    options.max_traces = config.getInt("max_traces", 20, 1, 10000);
    config::ConfigNode store = config.child("store");
    options.store_directory = store.getString("directory", "./otlpd-data");
    store.rejectUnknownKeys();
    return std::make_unique<JaegerQuery>(settings.id.toString(), std::move(endpoint),
                                         std::move(options));
  }
};

}  // namespace

std::unique_ptr<pipeline::ExtensionFactory> makeJaegerQueryFactory() {
  return std::make_unique<JaegerQueryFactory>();
}

}  // namespace otlpd::extensions::jaeger_query
