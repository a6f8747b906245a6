// Routing and answer shapes of the query API, over a store that does not exist yet (no data is
// no error). The answers over real data are tested against the binary (tests/integration).
#include "query/jaeger_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace otlpd::query {
namespace {

using json = nlohmann::json;

class JaegerApiTest : public ::testing::Test {
 protected:
  json get(std::string_view target, int expected_status) {
    const ApiResponse r = api_.handle(target, 1'700'000'000'000'000);
    EXPECT_EQ(r.status, expected_status) << target << ": " << r.body;
    json out = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << r.body;
    return out;
  }

  JaegerApi api_{[] {
    JaegerApiOptions o;
    o.store_directory = "/nonexistent/otlpd-store";
    return o;
  }()};
};

TEST_F(JaegerApiTest, EmptyStoreAnswersEmptyShapes) {
  EXPECT_EQ(get("/api/services", 200),
            json::parse(R"({"data":[],"total":0,"limit":0,"offset":0,"errors":null})"));
  EXPECT_EQ(get("/api/v3/services", 200), json::parse(R"({"services":[]})"));
  EXPECT_EQ(get("/api/v3/operations?service=x", 200), json::parse(R"({"operations":[]})"));
  EXPECT_EQ(get("/api/otlpd/trace-summaries", 200),
            json::parse(R"({"data":[],"total":0,"limit":20,"truncated":false,"scannedBytes":0,
                            "errors":null})"));
  EXPECT_EQ(get("/api/otlpd/logs?limit=5", 200)["limit"], 5);
  EXPECT_EQ(get("/api/otlpd/metrics", 200)["data"], json::array());
  EXPECT_EQ(get("/api/otlpd/metrics/series?name=m", 200)["data"], json::array());
  EXPECT_EQ(get("/api/otlpd/red?service=s", 200)["data"], json::array());
  EXPECT_EQ(get("/api/dependencies", 200)["data"], json::array());
  EXPECT_EQ(get("/api/traces?service=s", 200)["data"], json::array());
  EXPECT_EQ(get("/api/traces/abc", 404)["errors"][0]["code"], 404);
  EXPECT_EQ(get("/api/v3/traces/abc", 404),
            json::parse(R"({"error":{"httpCode":404,"message":"trace not found"}})"));
  EXPECT_EQ(get("/api/v3/traces?query.service_name=s", 404)["error"]["message"], "No traces found");
}

TEST_F(JaegerApiTest, UnknownEndpointsAnswerInTheirFamilysShape) {
  EXPECT_EQ(get("/api/nope", 404)["errors"][0]["code"], 404);
  EXPECT_EQ(get("/api/v3/nope", 404)["error"]["httpCode"], 404);
  const json otlpd = get("/api/otlpd/nope", 404);
  EXPECT_TRUE(otlpd["data"].is_null());
  EXPECT_EQ(otlpd["truncated"], false);
  EXPECT_EQ(otlpd["errors"][0]["code"], 404);
}

TEST_F(JaegerApiTest, BadParameterShapes) {
  EXPECT_EQ(get("/api/otlpd/logs?limit=x", 400),
            json::parse(R"({"data":null,"total":0,"limit":0,"truncated":false,"scannedBytes":0,
              "errors":[{"code":400,"msg":"malformed parameter 'limit': 'x' is not an integer between 1 and 2147483647"}]})"));
  EXPECT_EQ(
      get("/api/v3/traces?query.service_name=s&query.start_time_min=x", 400),
      json::parse(
          R"({"error":{"httpCode":400,"message":"malformed parameter 'query.start_time_min': 'x' is not an RFC 3339 time like 2024-01-02T03:04:05Z"}})"));
  EXPECT_EQ(get("/api/traces", 400)["errors"][0]["msg"], "parameter 'service' is required");
  EXPECT_EQ(get("/api/otlpd/metrics/series", 400)["errors"][0]["msg"],
            "parameter 'name' is required");
}

TEST_F(JaegerApiTest, LimitsAreCappedByConfiguration) {
  EXPECT_EQ(get("/api/otlpd/trace-summaries?limit=999999", 200)["limit"], 1000);
  EXPECT_EQ(get("/api/otlpd/logs?limit=2000", 200)["limit"], 1000);
  EXPECT_EQ(get("/api/otlpd/metrics/series?name=m&limit=5000", 200)["limit"], 1000);
}

}  // namespace
}  // namespace otlpd::query
