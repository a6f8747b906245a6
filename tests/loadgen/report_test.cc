#include "loadgen/report.h"

#include <gtest/gtest.h>

#include "common/simdjson.h"

namespace otlpd::loadgen {
namespace {

Report sampleReport() {
  Report r;
  r.signal = "traces";
  r.protocol = "grpc";
  r.endpoint = "127.0.0.1:4317";
  r.compression = "none";
  r.shape = "realistic";
  r.batch = 100;
  r.concurrency = 4;
  r.elapsed_seconds = 2.0;
  r.encoded_bytes_per_item = 812.75;
  r.body_bytes_per_item = 812.75;
  r.counters.requests_sent = 12;
  r.counters.requests_acknowledged = 10;
  r.counters.requests_refused = 1;
  r.counters.requests_failed = 1;
  r.counters.items_sent = 1200;
  r.counters.items_acknowledged = 997;
  r.counters.items_rejected = 3;
  r.counters.items_refused = 100;
  r.counters.items_failed = 100;
  for (uint64_t ms = 1; ms <= 11; ++ms) r.latency.record(ms * 1'000'000);
  r.errors["gRPC 14: \"down\"\n"] = 1;
  return r;
}

TEST(ReportTest, JsonHasTheDocumentedShape) {
  const std::string json = toJson(sampleReport());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["signal"].get_string().value()), "traces");
  EXPECT_EQ(std::string_view(doc["protocol"].get_string().value()), "grpc");
  EXPECT_EQ(doc["batch"].get_int64().value(), 100);
  EXPECT_EQ(doc["concurrency"].get_int64().value(), 4);
  EXPECT_TRUE(doc["rate_limit"].is_null());
  EXPECT_DOUBLE_EQ(doc["elapsed_seconds"].get_double().value(), 2.0);
  EXPECT_DOUBLE_EQ(doc["payload"]["encoded_bytes_per_item"].get_double().value(), 812.75);
  auto items = doc["items"];
  EXPECT_EQ(items["sent"].get_int64().value(), 1200);
  EXPECT_EQ(items["acknowledged"].get_int64().value(), 997);
  EXPECT_EQ(items["rejected"].get_int64().value(), 3);
  EXPECT_EQ(items["refused"].get_int64().value(), 100);
  EXPECT_EQ(items["failed"].get_int64().value(), 100);
  auto requests = doc["requests"];
  EXPECT_EQ(requests["sent"].get_int64().value(), 12);
  EXPECT_EQ(requests["acknowledged"].get_int64().value(), 10);
  EXPECT_EQ(requests["refused"].get_int64().value(), 1);
  EXPECT_EQ(requests["failed"].get_int64().value(), 1);
  EXPECT_DOUBLE_EQ(doc["rate"]["items_per_second"].get_double().value(), 498.5);
  EXPECT_DOUBLE_EQ(doc["rate"]["requests_per_second"].get_double().value(), 5.0);
  auto latency = doc["latency_ms"];
  EXPECT_EQ(latency["count"].get_int64().value(), 11);
  EXPECT_NEAR(latency["p50"].get_double().value(), 6.0, 6.0 / 64);
  EXPECT_NEAR(latency["p99"].get_double().value(), 11.0, 11.0 / 64);
  EXPECT_NEAR(latency["p999"].get_double().value(), 11.0, 11.0 / 64);
  EXPECT_DOUBLE_EQ(latency["max"].get_double().value(), 11.0);
  simdjson::dom::array errors;
  ASSERT_EQ(doc["errors"].get_array().get(errors), simdjson::SUCCESS);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(std::string_view(errors.at(0)["message"].get_string().value()), "gRPC 14: \"down\"\n");
  EXPECT_EQ(errors.at(0)["count"].get_int64().value(), 1);
}

TEST(ReportTest, RateLimitIsANumberWhenSet) {
  Report r = sampleReport();
  r.rate_limit = 5000;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(toJson(r)).get(doc), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(doc["rate_limit"].get_double().value(), 5000);
}

TEST(ReportTest, TextNamesEveryCount) {
  const std::string text = toText(sampleReport());
  for (std::string_view s : {"1200 sent", "997 acknowledged", "3 rejected", "100 refused",
                             "100 failed", "p50", "p99", "p999", "813 bytes/item"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
}

TEST(ReportTest, ProgressLineIsOneLine) {
  Counters c;
  c.items_sent = 2'500'000;
  c.items_acknowledged = 2'400'000;
  c.requests_sent = 10;
  c.requests_acknowledged = 8;
  const std::string line = progressLine(c, 3.0, 812'345);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("2.50M"), std::string::npos) << line;
  EXPECT_NE(line.find("812.3k items/s"), std::string::npos) << line;
  EXPECT_NE(line.find("2 in flight"), std::string::npos) << line;
}

TEST(ReportTest, OutcomeClassification) {
  EXPECT_EQ(classifyGrpcStatus(0, true), Outcome::kAcknowledged);
  EXPECT_EQ(classifyGrpcStatus(14, true), Outcome::kRefused);  // UNAVAILABLE from the server
  EXPECT_EQ(classifyGrpcStatus(8, true), Outcome::kRefused);   // RESOURCE_EXHAUSTED
  EXPECT_EQ(classifyGrpcStatus(14, false), Outcome::kFailed);  // no connection
  EXPECT_EQ(classifyGrpcStatus(3, true), Outcome::kFailed);    // INVALID_ARGUMENT
  EXPECT_EQ(classifyHttpStatus(200), Outcome::kAcknowledged);
  EXPECT_EQ(classifyHttpStatus(429), Outcome::kRefused);
  EXPECT_EQ(classifyHttpStatus(503), Outcome::kRefused);
  EXPECT_EQ(classifyHttpStatus(400), Outcome::kFailed);
  EXPECT_EQ(classifyHttpStatus(500), Outcome::kFailed);
}

}  // namespace
}  // namespace otlpd::loadgen
