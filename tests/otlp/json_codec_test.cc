#include "otlp/json_codec.h"

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "otlp/proto.h"

namespace otlpd::otlp {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// Parses JSON that the test expects to be valid.
template <typename T>
T parseOk(const std::string& json) {
  T message;
  const absl::Status status = parseOtlpJson(json, message);
  EXPECT_TRUE(status.ok()) << status << "\n" << json;
  return message;
}

// Serialises, parses back and requires equality with the original.
template <typename T>
void expectRoundTrip(const T& original) {
  const std::string json = toOtlpJson(original);
  T decoded;
  const absl::Status status = parseOtlpJson(json, decoded);
  ASSERT_TRUE(status.ok()) << status << "\n" << json;
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(original, decoded)) << diff << "\n" << json;
}

template <typename T>
absl::Status parseStatus(const std::string& json) {
  T message;
  return parseOtlpJson(json, message);
}

std::string bytesOf(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

const std::string kTraceIdBytes = bytesOf({0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2,
                                           0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c});
const std::string kSpanIdBytes = bytesOf({0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74});

TEST(JsonCodecTest, HexIdsAcceptBothCasesAndEncodeLowercase) {
  const auto request = parseOk<TracesRequest>(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
      "parentSpanId":"EeE19b7eC3c1B174","name":"op"}]}]}]})");
  const pb_trace::Span& span = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id(), kTraceIdBytes);
  EXPECT_EQ(span.span_id(), kSpanIdBytes);
  EXPECT_EQ(span.parent_span_id(), kSpanIdBytes);

  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("traceId":"5b8efff798038103d269b633813fc60c")"));
  EXPECT_THAT(json, HasSubstr(R"("spanId":"eee19b7ec3c1b174")"));
  EXPECT_THAT(json, HasSubstr(R"("parentSpanId":"eee19b7ec3c1b174")"));
  expectRoundTrip(request);
}

TEST(JsonCodecTest, HexIdsInLinksLogsAndExemplars) {
  const auto traces = parseOk<TracesRequest>(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"EEE19B7EC3C1B174"}]}]}]}]})");
  const auto& link = traces.resource_spans(0).scope_spans(0).spans(0).links(0);
  EXPECT_EQ(link.trace_id(), kTraceIdBytes);
  EXPECT_EQ(link.span_id(), kSpanIdBytes);

  const auto metrics = parseOk<MetricsRequest>(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{
      "gauge":{"dataPoints":[{"asInt":"1","exemplars":[{"asDouble":2.5,
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}}]}]}]})");
  const auto& exemplar =
      metrics.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(0).exemplars(0);
  EXPECT_EQ(exemplar.trace_id(), kTraceIdBytes);
  EXPECT_EQ(exemplar.span_id(), kSpanIdBytes);
  expectRoundTrip(metrics);
}

TEST(JsonCodecTest, InvalidHexIsAnErrorNamingThePath) {
  const absl::Status bad_digit = parseStatus<TracesRequest>(R"({"resourceSpans":[{},{"scopeSpans":[
      {},{"spans":[{},{},{},{"traceId":"5b8efff798038103d269b633813fc6zz"}]}]}]})");
  EXPECT_EQ(bad_digit.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_digit.message()),
              HasSubstr("resourceSpans[1].scopeSpans[1].spans[3].traceId: "));

  const absl::Status odd_length = parseStatus<TracesRequest>(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b17"}]}]}]})");
  EXPECT_EQ(odd_length.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(odd_length.message()),
              HasSubstr("resourceSpans[0].scopeSpans[0].spans[0].spanId: "));
}

TEST(JsonCodecTest, HexIdsOfAnyEvenLengthAndEmptyDecode) {
  // Length checks belong to validation, so the codec decodes whatever even length it is given.
  const auto request = parseOk<TracesRequest>(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd","spanId":""}]}]}]})");
  const auto& span = request.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id(), bytesOf({0xab, 0xcd}));
  EXPECT_TRUE(span.span_id().empty());
}

TEST(JsonCodecTest, Int64AcceptsStringsAndNumbers) {
  const auto from_string = parseOk<TracesRequest>(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1700000000123456789",
      "endTimeUnixNano":1700000000123456790}]}]}]})");
  const auto& span = from_string.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.start_time_unix_nano(), 1700000000123456789u);
  EXPECT_EQ(span.end_time_unix_nano(), 1700000000123456790u);

  const auto any = parseOk<pb_common::AnyValue>(R"({"intValue":"-9223372036854775808"})");
  EXPECT_EQ(any.int_value(), std::numeric_limits<int64_t>::min());
  const auto any_number = parseOk<pb_common::AnyValue>(R"({"intValue":-42})");
  EXPECT_EQ(any_number.int_value(), -42);
  // Integral values written with an exponent are still integers.
  const auto exponent = parseOk<pb_common::AnyValue>(R"({"intValue":1e3})");
  EXPECT_EQ(exponent.int_value(), 1000);

  // Output is always a decimal string.
  EXPECT_EQ(toOtlpJson(any_number), R"({"intValue":"-42"})");
  EXPECT_THAT(toOtlpJson(from_string), HasSubstr(R"("startTimeUnixNano":"1700000000123456789")"));
}

TEST(JsonCodecTest, IntegersRejectFractionsGarbageAndOutOfRange) {
  for (const char* json : {R"({"intValue":1.5})", R"({"intValue":"1.5"})", R"({"intValue":"12a"})",
                           R"({"intValue":" 12"})", R"({"intValue":"9223372036854775808"})",
                           R"({"intValue":true})", R"({"intValue":""})"}) {
    const absl::Status status = parseStatus<pb_common::AnyValue>(json);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(std::string(status.message()), HasSubstr("intValue: ")) << json;
  }
  // fixed64 (unsigned) rejects negatives; uint32 rejects values above 2^32-1.
  EXPECT_FALSE(parseStatus<pb_trace::Span>(R"({"startTimeUnixNano":"-1"})").ok());
  EXPECT_FALSE(parseStatus<pb_trace::Span>(R"({"startTimeUnixNano":-1})").ok());
  EXPECT_FALSE(parseStatus<pb_trace::Span>(R"({"droppedAttributesCount":4294967296})").ok());
  EXPECT_TRUE(parseStatus<pb_trace::Span>(R"({"droppedAttributesCount":4294967295})").ok());
  EXPECT_TRUE(parseStatus<pb_trace::Span>(R"({"startTimeUnixNano":"18446744073709551615"})").ok());
  EXPECT_FALSE(parseStatus<pb_trace::Span>(R"({"startTimeUnixNano":"18446744073709551616"})").ok());
}

TEST(JsonCodecTest, UnknownFieldsAreIgnoredAtAnyDepth) {
  const auto request = parseOk<TracesRequest>(R"({
      "futureScalar": 1, "futureObject": {"a": {"b": [1, 2, {"c": null}]}}, "futureArray": [[], {}],
      "resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"stringValue": "v"},
                                                      "extra": {"x": [1]}}], "newThing": "y"},
        "scopeSpans": [{"scope": {"name": "lib", "unknownList": [1, "2", null]},
          "spans": [{"name": "op", "mystery": {"deep": [[[]]]}, "alsoUnknown": 3.5}]}]}]})");
  ASSERT_EQ(request.resource_spans_size(), 1);
  const auto& rs = request.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "v");
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "lib");
  EXPECT_EQ(rs.scope_spans(0).spans(0).name(), "op");
  EXPECT_TRUE(rs.scope_spans(0)
                  .spans(0)
                  .GetReflection()
                  ->GetUnknownFields(rs.scope_spans(0).spans(0))
                  .empty());
}

TEST(JsonCodecTest, EveryAnyValueKindRoundTrips) {
  pb_common::KeyValueList attrs;
  auto add = [&](const std::string& key) {
    auto* kv = attrs.add_values();
    kv->set_key(key);
    return kv->mutable_value();
  };
  add("string")->set_string_value("hé \"quoted\"\n\t\x01 back\\slash");
  add("bool")->set_bool_value(true);
  add("false_bool")->set_bool_value(false);  // a set oneof member is written even when false
  add("int")->set_int_value(-1234567890123);
  add("zero_int")->set_int_value(0);
  add("double")->set_double_value(3.141592653589793);
  add("bytes")->set_bytes_value(bytesOf({0x00, 0xff, 0x10, 0x80, 0x7f}));
  auto* array = add("array")->mutable_array_value();
  array->add_values()->set_string_value("a");
  array->add_values()->set_int_value(7);
  array->add_values()->mutable_array_value();  // empty nested array
  auto* kvlist = add("kvlist")->mutable_kvlist_value();
  auto* nested = kvlist->add_values();
  nested->set_key("inner");
  nested->mutable_value()->mutable_kvlist_value()->add_values()->set_key("leaf");
  add("empty");  // an AnyValue with no member set

  const std::string json = toOtlpJson(attrs);
  EXPECT_THAT(json, HasSubstr(R"("boolValue":false)"));
  EXPECT_THAT(json, HasSubstr(R"("intValue":"0")"));
  EXPECT_THAT(json, HasSubstr(R"("bytesValue":"AP8QgH8=")"));
  EXPECT_THAT(json, HasSubstr(R"(\"quoted\"\n\t\u0001 back\\slash)"));
  expectRoundTrip(attrs);
}

TEST(JsonCodecTest, BytesAcceptStandardAndUrlSafeBase64WithOrWithoutPadding) {
  const std::string expected = bytesOf({0xfb, 0xff, 0xfe});
  for (const char* json : {R"({"bytesValue":"+//+"})", R"({"bytesValue":"-__-"})"}) {
    EXPECT_EQ(parseOk<pb_common::AnyValue>(json).bytes_value(), expected) << json;
  }
  EXPECT_EQ(parseOk<pb_common::AnyValue>(R"({"bytesValue":"AP8QgH8="})").bytes_value(),
            bytesOf({0x00, 0xff, 0x10, 0x80, 0x7f}));
  EXPECT_EQ(parseOk<pb_common::AnyValue>(R"({"bytesValue":"AP8QgH8"})").bytes_value(),
            bytesOf({0x00, 0xff, 0x10, 0x80, 0x7f}));
  EXPECT_EQ(parseOk<pb_common::AnyValue>(R"({"bytesValue":"AA=="})").bytes_value(), bytesOf({0}));
  EXPECT_TRUE(parseOk<pb_common::AnyValue>(R"({"bytesValue":""})").has_bytes_value());
  for (const char* json : {R"({"bytesValue":"A"})", R"({"bytesValue":"AA="})",
                           R"({"bytesValue":"A*=="})", R"({"bytesValue":"AA==AA=="})"}) {
    const absl::Status status = parseStatus<pb_common::AnyValue>(json);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(std::string(status.message()), HasSubstr("bytesValue: ")) << json;
  }
}

TEST(JsonCodecTest, GaugeAndSumRoundTrip) {
  MetricsRequest request;
  auto* scope = request.add_resource_metrics()->add_scope_metrics();
  auto* gauge = scope->add_metrics();
  gauge->set_name("temperature");
  gauge->set_unit("Cel");
  auto* point = gauge->mutable_gauge()->add_data_points();
  point->set_time_unix_nano(1700000000000000000u);
  point->set_as_double(0.0);  // oneof member set to its default must survive
  gauge->mutable_gauge()->add_data_points()->set_as_int(-5);

  auto* sum = scope->add_metrics();
  sum->set_name("requests");
  sum->mutable_sum()->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  sum->mutable_sum()->set_is_monotonic(true);
  auto* sum_point = sum->mutable_sum()->add_data_points();
  sum_point->set_start_time_unix_nano(1);
  sum_point->set_as_int(std::numeric_limits<int64_t>::max());
  sum_point->set_flags(pb_metrics::DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK);
  auto* kv = sum_point->add_attributes();
  kv->set_key("route");
  kv->mutable_value()->set_string_value("/a");
  auto* meta = sum->add_metadata();
  meta->set_key("origin");
  meta->mutable_value()->set_string_value("prometheus");

  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("asDouble":0)"));
  EXPECT_THAT(json, HasSubstr(R"("aggregationTemporality":2,"isMonotonic":true)"));
  EXPECT_THAT(json, HasSubstr(R"("asInt":"9223372036854775807")"));
  expectRoundTrip(request);
}

TEST(JsonCodecTest, HistogramRoundTripKeepsOptionalFieldsEvenWhenZero) {
  MetricsRequest request;
  auto* metric = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("latency");
  metric->mutable_histogram()->set_aggregation_temporality(
      pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  auto* point = metric->mutable_histogram()->add_data_points();
  point->set_count(6);
  point->set_sum(0.0);
  point->set_min(0.0);
  point->set_max(12.5);
  for (uint64_t c : {1u, 0u, 5u}) point->add_bucket_counts(c);
  for (double b : {0.5, 10.0}) point->add_explicit_bounds(b);
  auto* without_sum = metric->mutable_histogram()->add_data_points();
  without_sum->set_count(0);

  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("sum":0)"));
  EXPECT_THAT(json, HasSubstr(R"("min":0)"));
  EXPECT_THAT(json, HasSubstr(R"("bucketCounts":["1","0","5"],"explicitBounds":[0.5,10])"));
  expectRoundTrip(request);

  MetricsRequest decoded;
  ASSERT_TRUE(parseOtlpJson(json, decoded).ok());
  const auto& points = decoded.resource_metrics(0).scope_metrics(0).metrics(0).histogram();
  EXPECT_TRUE(points.data_points(0).has_sum());
  EXPECT_TRUE(points.data_points(0).has_min());
  EXPECT_FALSE(points.data_points(1).has_sum());
  EXPECT_FALSE(points.data_points(1).has_max());
}

TEST(JsonCodecTest, ExponentialHistogramRoundTrip) {
  MetricsRequest request;
  auto* metric = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("sizes");
  metric->mutable_exponential_histogram()->set_aggregation_temporality(
      pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* point = metric->mutable_exponential_histogram()->add_data_points();
  point->set_count(10);
  point->set_sum(42.5);
  point->set_scale(-3);
  point->set_zero_count(2);
  point->set_zero_threshold(1e-9);
  point->mutable_positive()->set_offset(-2);
  for (uint64_t c : {1u, 0u, 3u}) point->mutable_positive()->add_bucket_counts(c);
  point->mutable_negative()->set_offset(5);
  point->mutable_negative()->add_bucket_counts(4);
  point->set_min(-7.0);
  point->set_max(9.0);

  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("scale":-3,"zeroCount":"2")"));
  EXPECT_THAT(json, HasSubstr(R"("positive":{"offset":-2,"bucketCounts":["1","0","3"]})"));
  expectRoundTrip(request);
}

TEST(JsonCodecTest, SummaryRoundTrip) {
  MetricsRequest request;
  auto* metric = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("rpc_duration");
  auto* point = metric->mutable_summary()->add_data_points();
  point->set_count(100);
  point->set_sum(512.25);
  for (auto [q, v] : {std::pair{0.0, 0.1}, std::pair{0.5, 4.0}, std::pair{1.0, 30.0}}) {
    auto* quantile = point->add_quantile_values();
    quantile->set_quantile(q);
    quantile->set_value(v);
  }
  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("quantileValues":[{"value":0.1},{"quantile":0.5,"value":4})"));
  expectRoundTrip(request);
}

TEST(JsonCodecTest, LogsWithKvlistBodyAndIds) {
  const auto request = parseOk<LogsRequest>(R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"checkout"}}]},
      "scopeLogs":[{"scope":{"name":"app"},"logRecords":[{
        "timeUnixNano":"1700000000000000001","observedTimeUnixNano":"1700000000000000002",
        "severityNumber":17,"severityText":"ERROR","eventName":"payment.failed","flags":1,
        "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
        "body":{"kvlistValue":{"values":[{"key":"amount","value":{"doubleValue":12.5}},
          {"key":"items","value":{"arrayValue":{"values":[{"intValue":"1"},{"boolValue":true}]}}}]}}
      }]}]}]})");
  const auto& log = request.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(log.severity_number(), pb_logs::SEVERITY_NUMBER_ERROR);
  EXPECT_EQ(log.event_name(), "payment.failed");
  EXPECT_EQ(log.trace_id(), kTraceIdBytes);
  EXPECT_EQ(log.span_id(), kSpanIdBytes);
  EXPECT_EQ(log.observed_time_unix_nano(), 1700000000000000002u);
  ASSERT_TRUE(log.body().has_kvlist_value());
  EXPECT_EQ(log.body().kvlist_value().values(0).value().double_value(), 12.5);
  EXPECT_TRUE(log.body().kvlist_value().values(1).value().array_value().values(1).bool_value());

  const std::string json = toOtlpJson(request);
  EXPECT_THAT(json, HasSubstr(R"("traceId":"5b8efff798038103d269b633813fc60c")"));
  EXPECT_THAT(json, HasSubstr(R"("severityNumber":17)"));
  expectRoundTrip(request);
}

TEST(JsonCodecTest, EnumsAcceptIntegersAndNamesAndAreWrittenAsIntegers) {
  const auto by_name = parseOk<pb_trace::Span>(
      R"({"kind":"SPAN_KIND_SERVER","status":{"code":"STATUS_CODE_ERROR","message":"boom"}})");
  const auto by_number =
      parseOk<pb_trace::Span>(R"({"kind":2,"status":{"code":2,"message":"boom"}})");
  EXPECT_EQ(by_name.kind(), pb_trace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(by_name.status().code(), pb_trace::Status::STATUS_CODE_ERROR);
  EXPECT_TRUE(MessageDifferencer::Equals(by_name, by_number));
  EXPECT_EQ(toOtlpJson(by_name), R"({"kind":2,"status":{"message":"boom","code":2}})");

  // proto3 enums are open: an unknown number is kept, an unknown name is an error.
  EXPECT_EQ(parseOk<pb_trace::Span>(R"({"kind":42})").kind(), 42);
  const absl::Status status = parseStatus<pb_trace::Span>(R"({"kind":"SPAN_KIND_NOPE"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("kind: "));
}

TEST(JsonCodecTest, MalformedJsonIsInvalidArgument) {
  for (const char* json : {"", "{", R"({"resourceSpans":[})", R"({"a":1,})", "nul", "[1,2]",
                           R"("just a string")", "{\"a\":\"\xff\"}"}) {
    const absl::Status status = parseStatus<TracesRequest>(json);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << json;
  }
}

TEST(JsonCodecTest, WrongJsonTypesAreErrorsNamingThePath) {
  const absl::Status not_array =
      parseStatus<TracesRequest>(R"({"resourceSpans":[{"scopeSpans":{"spans":[]}}]})");
  EXPECT_EQ(not_array.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(not_array.message()), HasSubstr("resourceSpans[0].scopeSpans: "));

  const absl::Status not_string =
      parseStatus<TracesRequest>(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]})");
  EXPECT_THAT(std::string(not_string.message()),
              HasSubstr("resourceSpans[0].scopeSpans[0].spans[0].name: expected string"));

  const absl::Status oneof_conflict =
      parseStatus<pb_common::AnyValue>(R"({"stringValue":"a","intValue":1})");
  EXPECT_EQ(oneof_conflict.code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonCodecTest, SnakeCaseKeysAreAccepted) {
  const auto snake = parseOk<TracesRequest>(R"({"resource_spans":[{"scope_spans":[{"spans":[{
      "trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174",
      "start_time_unix_nano":"5","dropped_attributes_count":3,
      "attributes":[{"key":"k","value":{"string_value":"v"}}]}]}]}]})");
  const auto camel = parseOk<TracesRequest>(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "startTimeUnixNano":"5","droppedAttributesCount":3,
      "attributes":[{"key":"k","value":{"stringValue":"v"}}]}]}]}]})");
  EXPECT_EQ(snake.resource_spans(0).scope_spans(0).spans(0).dropped_attributes_count(), 3u);
  EXPECT_TRUE(MessageDifferencer::Equals(snake, camel));
}

TEST(JsonCodecTest, NullMeansUnset) {
  const auto span = parseOk<pb_trace::Span>(
      R"({"name":null,"status":null,"attributes":null,"traceId":null,"kind":null})");
  EXPECT_FALSE(span.has_status());
  EXPECT_EQ(span.attributes_size(), 0);
  EXPECT_EQ(toOtlpJson(span), "{}");
  const auto any = parseOk<pb_common::AnyValue>(R"({"intValue":null,"stringValue":"x"})");
  EXPECT_EQ(any.string_value(), "x");
}

TEST(JsonCodecTest, NonFiniteDoubles) {
  const auto array = parseOk<pb_common::ArrayValue>(R"({"values":[{"doubleValue":"NaN"},
      {"doubleValue":"Infinity"},{"doubleValue":"-Infinity"},{"doubleValue":"2.5"},
      {"doubleValue":-0.125}]})");
  ASSERT_EQ(array.values_size(), 5);
  EXPECT_TRUE(std::isnan(array.values(0).double_value()));
  EXPECT_EQ(array.values(1).double_value(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(array.values(2).double_value(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(array.values(3).double_value(), 2.5);
  EXPECT_EQ(array.values(4).double_value(), -0.125);
  EXPECT_EQ(toOtlpJson(array),
            R"({"values":[{"doubleValue":"NaN"},{"doubleValue":"Infinity"},)"
            R"({"doubleValue":"-Infinity"},{"doubleValue":2.5},{"doubleValue":-0.125}]})");
  EXPECT_FALSE(parseStatus<pb_common::AnyValue>(R"({"doubleValue":"nan"})").ok());
  EXPECT_FALSE(parseStatus<pb_common::AnyValue>(R"({"doubleValue":"inf"})").ok());

  pb_metrics::HistogramDataPoint point;
  point.set_max(std::numeric_limits<double>::infinity());
  point.add_explicit_bounds(std::numeric_limits<double>::quiet_NaN());
  const std::string json = toOtlpJson(point);
  EXPECT_EQ(json, R"({"explicitBounds":["NaN"],"max":"Infinity"})");
  pb_metrics::HistogramDataPoint decoded;
  ASSERT_TRUE(parseOtlpJson(json, decoded).ok());
  EXPECT_TRUE(std::isnan(decoded.explicit_bounds(0)));
  EXPECT_EQ(decoded.max(), std::numeric_limits<double>::infinity());
}

std::string nestedArrays(int levels) {
  std::string json;
  for (int i = 0; i < levels; ++i) json += R"({"arrayValue":{"values":[)";
  json += R"({"intValue":"1"})";
  for (int i = 0; i < levels; ++i) json += "]}}";
  return json;
}

TEST(JsonCodecTest, DeepNestingIsAnErrorNotACrash) {
  // Each AnyValue level is two messages (AnyValue, ArrayValue).
  EXPECT_TRUE(parseStatus<pb_common::AnyValue>(nestedArrays(40)).ok());
  const absl::Status deep = parseStatus<pb_common::AnyValue>(nestedArrays(64));
  EXPECT_EQ(deep.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(deep.message()), HasSubstr("nested deeper"));
  // Far past any limit, still an error rather than a stack overflow.
  EXPECT_EQ(parseStatus<pb_common::AnyValue>(nestedArrays(100000)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JsonCodecTest, ParseClearsTheTargetAndAppendReusesTheBuffer) {
  pb_trace::Span span;
  span.set_name("old");
  span.set_dropped_links_count(9);
  ASSERT_TRUE(parseOtlpJson(R"({"name":"new"})", span).ok());
  EXPECT_EQ(span.name(), "new");
  EXPECT_EQ(span.dropped_links_count(), 0u);

  std::string out = "prefix:";
  appendOtlpJson(span, out);
  EXPECT_EQ(out, R"(prefix:{"name":"new"})");
}

TEST(JsonCodecTest, ExportResponsesWithPartialSuccess) {
  TracesResponse response;
  response.mutable_partial_success()->set_rejected_spans(3);
  response.mutable_partial_success()->set_error_message("bad ids");
  EXPECT_EQ(toOtlpJson(response),
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad ids"}})");
  expectRoundTrip(response);
}

TEST(JsonCodecTest, FullTraceRequestRoundTrip) {
  TracesRequest request;
  auto* rs = request.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.26.0");
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("svc");
  auto* entity = rs->mutable_resource()->add_entity_refs();
  entity->set_type("service");
  entity->add_id_keys("service.name");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  ss->mutable_scope()->set_version("1.0");
  auto* span = ss->add_spans();
  span->set_trace_id(kTraceIdBytes);
  span->set_span_id(kSpanIdBytes);
  span->set_trace_state("k=v");
  span->set_flags(0x301);
  span->set_name("GET /");
  span->set_kind(pb_trace::Span::SPAN_KIND_CLIENT);
  span->set_start_time_unix_nano(1700000000000000000u);
  span->set_end_time_unix_nano(1700000000500000000u);
  auto* event = span->add_events();
  event->set_name("retry");
  event->set_time_unix_nano(1700000000100000000u);
  auto* link = span->add_links();
  link->set_trace_id(kTraceIdBytes);
  link->set_span_id(kSpanIdBytes);
  link->set_flags(1);
  span->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_OK);
  expectRoundTrip(request);
}

// No OTLP message has a map field, so a message with maps is built at run time; this also shows the
// codec working on dynamic messages.
TEST(JsonCodecTest, MapFieldsAreJsonObjects) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "maps_test.proto"
        package: "otlpd.test"
        syntax: "proto3"
        message_type {
          name: "WithMaps"
          field {
            name: "labels"
            number: 1
            label: LABEL_REPEATED
            type: TYPE_MESSAGE
            type_name: ".otlpd.test.WithMaps.LabelsEntry"
            json_name: "labels"
          }
          field {
            name: "by_id"
            number: 2
            label: LABEL_REPEATED
            type: TYPE_MESSAGE
            type_name: ".otlpd.test.WithMaps.ByIdEntry"
            json_name: "byId"
          }
          nested_type {
            name: "LabelsEntry"
            options { map_entry: true }
            field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
            field {
              name: "value"
              number: 2
              label: LABEL_OPTIONAL
              type: TYPE_STRING
              json_name: "value"
            }
          }
          nested_type {
            name: "ByIdEntry"
            options { map_entry: true }
            field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "key" }
            field {
              name: "value"
              number: 2
              label: LABEL_OPTIONAL
              type: TYPE_INT64
              json_name: "value"
            }
          }
        })pb",
      &file));
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const google::protobuf::Message* prototype =
      factory.GetPrototype(built->FindMessageTypeByName("WithMaps"));
  std::unique_ptr<google::protobuf::Message> message(prototype->New());

  ASSERT_TRUE(parseOtlpJson(R"({"labels":{"a":"1"},"byId":{"-7":"70"}})", *message).ok());
  EXPECT_EQ(toOtlpJson(*message), R"({"labels":{"a":"1"},"byId":{"-7":"70"}})");
  std::unique_ptr<google::protobuf::Message> copy(prototype->New());
  ASSERT_TRUE(parseOtlpJson(toOtlpJson(*message), *copy).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(*message, *copy));

  const absl::Status bad_value = parseOtlpJson(R"({"labels":{"a":3}})", *message);
  EXPECT_THAT(std::string(bad_value.message()), HasSubstr(R"(labels["a"]: expected string)"));
  const absl::Status bad_key = parseOtlpJson(R"({"byId":{"x":"1"}})", *message);
  EXPECT_THAT(std::string(bad_key.message()), HasSubstr(R"(byId["x"]: )"));
}

// protobuf's own proto3 JSON codec is an independent reference for everything except the hex ids,
// which OTLP encodes differently, so messages here carry none.
TEST(JsonCodecTest, AgreesWithProtobufJsonWhereOtlpDoesNotDiffer) {
  MetricsRequest request;
  auto* scope = request.add_resource_metrics()->add_scope_metrics();
  scope->mutable_scope()->set_name("meter");
  auto* metric = scope->add_metrics();
  metric->set_name("latency");
  metric->mutable_histogram()->set_aggregation_temporality(
      pb_metrics::AGGREGATION_TEMPORALITY_DELTA);
  auto* point = metric->mutable_histogram()->add_data_points();
  point->set_time_unix_nano(1700000000000000000u);
  point->set_count(3);
  point->set_sum(0.0);
  point->set_max(1e300);
  point->add_bucket_counts(3);
  auto* kv = point->add_attributes();
  kv->set_key("blob");
  kv->mutable_value()->set_bytes_value(bytesOf({1, 2, 3, 250}));
  auto* sum = scope->add_metrics();
  sum->mutable_sum()->add_data_points()->set_as_double(-2.5e-7);
  sum->mutable_sum()->set_is_monotonic(true);

  MetricsRequest from_ours;
  const auto status = google::protobuf::util::JsonStringToMessage(toOtlpJson(request), &from_ours);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(request, from_ours));

  std::string reference_json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(request, &reference_json, options).ok());
  const auto from_reference = parseOk<MetricsRequest>(reference_json);
  EXPECT_TRUE(MessageDifferencer::Equals(request, from_reference)) << reference_json;
}

}  // namespace
}  // namespace otlpd::otlp

namespace otlpd::otlp {
namespace {

// Doubles of 2^64 and beyond print as 20+ digits in shortest form, which a JSON reader takes for
// an integer too large to parse: they are written with an exponent and read back unchanged.
TEST(JsonCodecTest, HugeDoublesRoundTrip) {
  MetricsRequest request;
  auto* points =
      request.add_resource_metrics()->add_scope_metrics()->add_metrics()->mutable_gauge();
  for (double v : {18446744073709551616.0, -9223372036854775808.0, 1.7976931348623157e308, 1e18,
                   123456789.0}) {
    points->add_data_points()->set_as_double(v);
  }
  const std::string json = toOtlpJson(request);
  MetricsRequest back;
  absl::Status s = parseOtlpJson(json, back);
  ASSERT_TRUE(s.ok()) << s << "\n" << json;
  ASSERT_EQ(back.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        back.resource_metrics(0).scope_metrics(0).metrics(0).gauge().data_points(i).as_double(),
        points->data_points(i).as_double());
  }
}

}  // namespace
}  // namespace otlpd::otlp
