#include "loadgen/payloads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "jaeger/model.h"
#include "jaeger/to_otlp.h"
#include "otlp/counts.h"
#include "otlp/json_codec.h"
#include "otlp/proto.h"
#include "otlp/validation.h"
#include "zipkin/readers.h"

namespace otlpd::loadgen {
namespace {

using pipeline::Signal;

constexpr uint64_t kBase = 1'750'000'000'000'000'000ULL;

struct SizeCase {
  Signal signal;
  double target_bytes;
};

class PayloadSizeTest : public ::testing::TestWithParam<SizeCase> {};

// The shapes: spans ~800 bytes, log records ~350, metric points ~200 on the wire.
TEST_P(PayloadSizeTest, RealisticItemsAreWithin15PercentOfTarget) {
  RequestSetOptions o;
  o.signal = GetParam().signal;
  o.batch = 1000;
  o.variants = 2;
  o.base_time_unix_nano = kBase;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok()) << set.status();
  const double per_item = set->encodedBytesPerItem();
  EXPECT_NEAR(per_item, GetParam().target_bytes, GetParam().target_bytes * 0.15)
      << pipeline::signalName(o.signal);
  EXPECT_EQ(set->bodyBytesPerItem(), per_item);  // gRPC bodies are not compressed by us
}

INSTANTIATE_TEST_SUITE_P(Signals, PayloadSizeTest,
                         ::testing::Values(SizeCase{Signal::kTraces, 800},
                                           SizeCase{Signal::kLogs, 350},
                                           SizeCase{Signal::kMetrics, 200}),
                         [](const auto& info) {
                           return std::string(pipeline::signalName(info.param.signal));
                         });

size_t countItems(Signal signal, const std::string& body, bool json) {
  auto parse = [&](google::protobuf::Message& m) {
    if (json) return otlp::parseOtlpJson(body, m).ok();
    return m.ParseFromString(body);
  };
  switch (signal) {
    case Signal::kTraces: {
      otlp::TracesRequest r;
      return parse(r) ? otlp::countSpans(r) : 0;
    }
    case Signal::kMetrics: {
      otlp::MetricsRequest r;
      return parse(r) ? otlp::countDataPoints(r) : 0;
    }
    case Signal::kLogs: {
      otlp::LogsRequest r;
      return parse(r) ? otlp::countLogRecords(r) : 0;
    }
  }
  return 0;
}

TEST(PayloadsTest, RequestsOfEverySignalShapeAndProtocolDecodeWithTheirItemCount) {
  for (Signal signal : pipeline::kAllSignals) {
    for (Shape shape : {Shape::kRealistic, Shape::kMinimal}) {
      for (Protocol protocol : {Protocol::kGrpc, Protocol::kHttpProtobuf, Protocol::kHttpJson}) {
        RequestSetOptions o;
        o.signal = signal;
        o.shape = shape;
        o.protocol = protocol;
        o.batch = 37;
        o.variants = 3;
        o.tail_items = 5;
        o.base_time_unix_nano = kBase;
        auto set = buildRequestSet(o);
        ASSERT_TRUE(set.ok()) << set.status();
        ASSERT_EQ(set->variants.size(), 3u);
        const bool json = protocol == Protocol::kHttpJson;
        for (const EncodedRequest& r : set->variants) {
          EXPECT_EQ(r.items, 37u);
          EXPECT_EQ(countItems(signal, r.body, json), 37u)
              << pipeline::signalName(signal) << " " << shapeName(shape) << " "
              << protocolName(protocol);
        }
        ASSERT_TRUE(set->tail.has_value());
        EXPECT_EQ(countItems(signal, set->tail->body, json), 5u);
      }
    }
  }
}

// A receiver drops invalid items (all-zero ids, missing names...), which would make acknowledged
// counts differ from what was sent.
TEST(PayloadsTest, GeneratedItemsPassValidation) {
  for (Shape shape : {Shape::kRealistic, Shape::kMinimal}) {
    auto traces = makeRequest(Signal::kTraces, shape, 200, 7, kBase);
    auto metrics = makeRequest(Signal::kMetrics, shape, 200, 7, kBase);
    auto logs = makeRequest(Signal::kLogs, shape, 200, 7, kBase);
    otlp::TracesRequest t = static_cast<const otlp::TracesRequest&>(*traces);
    otlp::MetricsRequest m = static_cast<const otlp::MetricsRequest&>(*metrics);
    otlp::LogsRequest l = static_cast<const otlp::LogsRequest&>(*logs);
    EXPECT_EQ(otlp::validateTraces(t).rejected, 0u);
    EXPECT_EQ(otlp::validateMetrics(m).rejected, 0u);
    EXPECT_EQ(otlp::validateLogs(l).rejected, 0u);
  }
}

TEST(PayloadsTest, VariantsHaveDifferentIds) {
  RequestSetOptions o;
  o.batch = 10;
  o.variants = 2;
  o.base_time_unix_nano = kBase;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok());
  otlp::TracesRequest a, b;
  ASSERT_TRUE(a.ParseFromString(set->variants[0].body));
  ASSERT_TRUE(b.ParseFromString(set->variants[1].body));
  EXPECT_NE(a.resource_spans(0).scope_spans(0).spans(0).span_id(),
            b.resource_spans(0).scope_spans(0).spans(0).span_id());
}

// Two runs with different seeds share no id; runs with the same seed send the same bytes (the
// default seed is 0).
TEST(PayloadsTest, SeedsGiveRunsIdsOfTheirOwn) {
  auto spanIdsOf = [](uint32_t seed) {
    RequestSetOptions o;
    o.batch = 50;
    o.variants = 3;
    o.base_time_unix_nano = kBase;
    o.seed = seed;
    auto set = buildRequestSet(o);
    EXPECT_TRUE(set.ok());
    std::set<std::string> ids;
    for (const auto& v : set->variants) {
      otlp::TracesRequest r;
      EXPECT_TRUE(r.ParseFromString(v.body));
      for (const auto& rs : r.resource_spans()) {
        for (const auto& ss : rs.scope_spans()) {
          for (const auto& span : ss.spans()) ids.insert(span.trace_id() + span.span_id());
        }
      }
    }
    return ids;
  };
  const std::set<std::string> a = spanIdsOf(0), again = spanIdsOf(0), b = spanIdsOf(1);
  ASSERT_EQ(a.size(), 150u);
  EXPECT_EQ(a, again);
  ASSERT_EQ(b.size(), 150u);
  std::vector<std::string> shared;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
  EXPECT_TRUE(shared.empty());
}

// --unique-ids: the places found are every span's ids and url.full's order id; renewing them
// with a mask gives ids of their own (ids, parents and URLs all new), keeps every child's
// parent, and leaves a request that validates; mask 0 changes nothing.
TEST(PayloadsTest, RenewedIdsAreNewAndKeepParents) {
  RequestSetOptions o;
  o.batch = 40;
  o.variants = 1;
  o.base_time_unix_nano = kBase;
  o.unique_ids = true;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok()) << set.status();
  const EncodedRequest& original = set->variants[0];
  otlp::TracesRequest before;
  ASSERT_TRUE(before.ParseFromString(original.body));
  size_t ids = 0;
  for (const auto& span : before.resource_spans(0).scope_spans(0).spans()) {
    ids += 2 + (span.parent_span_id().empty() ? 0 : 1);
  }
  EXPECT_EQ(original.id_places.ids.size(), ids);
  EXPECT_EQ(original.id_places.hex_ids.size(), 40u);

  std::string body = original.body;
  renewIds(body, original.id_places, 0);
  EXPECT_EQ(body, original.body);
  renewIds(body, original.id_places, 0x0123456789abcdefULL);
  otlp::TracesRequest after;
  ASSERT_TRUE(after.ParseFromString(body));
  EXPECT_EQ(otlp::validateTraces(after).rejected, 0u);
  const auto& old_spans = before.resource_spans(0).scope_spans(0).spans();
  const auto& new_spans = after.resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(new_spans.size(), old_spans.size());
  std::map<std::string, std::string> renewed_span_id;  // old span id -> new
  for (int i = 0; i < new_spans.size(); ++i) {
    EXPECT_NE(new_spans[i].trace_id(), old_spans[i].trace_id());
    EXPECT_EQ(new_spans[i].trace_id().substr(8), old_spans[i].trace_id().substr(8));
    EXPECT_NE(new_spans[i].span_id(), old_spans[i].span_id());
    EXPECT_EQ(new_spans[i].name(), old_spans[i].name());
    renewed_span_id[old_spans[i].span_id()] = new_spans[i].span_id();
    const auto url = [](const auto& span) {
      for (const auto& kv : span.attributes()) {
        if (kv.key() == "url.full") return kv.value().string_value();
      }
      return std::string();
    };
    EXPECT_NE(url(new_spans[i]), url(old_spans[i]));
    EXPECT_EQ(url(new_spans[i]).size(), url(old_spans[i]).size());
    EXPECT_TRUE(absl::StartsWith(url(new_spans[i]), "https://shop.example.com/api/v1/orders/"));
  }
  for (int i = 0; i < new_spans.size(); ++i) {
    if (old_spans[i].parent_span_id().empty()) continue;
    EXPECT_EQ(new_spans[i].parent_span_id(), renewed_span_id[old_spans[i].parent_span_id()]);
  }
}

TEST(PayloadsTest, UniqueIdsNeedAnOtlpProtobufBodyWithIds) {
  RequestSetOptions o;
  o.batch = 10;
  o.variants = 1;
  o.unique_ids = true;
  o.protocol = Protocol::kHttpJson;
  EXPECT_FALSE(buildRequestSet(o).ok());
  o.protocol = Protocol::kHttpProtobuf;
  o.compression = common::Compression::kGzip;
  EXPECT_FALSE(buildRequestSet(o).ok());
  o.compression = common::Compression::kNone;
  o.signal = Signal::kMetrics;
  EXPECT_FALSE(buildRequestSet(o).ok());
  o.signal = Signal::kLogs;
  auto logs = buildRequestSet(o);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(logs->variants[0].id_places.ids.size(), 20u);  // trace and span id of 10 records
}

// A store batches 10,000 rows: by default loadgen sends more distinct spans than that in turn,
// so that no record batch holds a span twice, and keeps its memory bounded for large batches.
TEST(PayloadsTest, DefaultVariantsHoldMoreDistinctItemsThanAStoreBatch) {
  EXPECT_EQ(defaultVariants(1000), 16u);
  EXPECT_EQ(defaultVariants(100), 160u);
  EXPECT_EQ(defaultVariants(3000), 6u);
  EXPECT_EQ(defaultVariants(60000), 1u);
  EXPECT_EQ(RequestSetOptions{}.variants, 16u);
  for (size_t batch : {1u, 7u, 100u, 1000u, 3000u, 9999u, 16000u, 60000u}) {
    EXPECT_GE(defaultVariants(batch) * batch, std::min<size_t>(16'000, batch * 16'000)) << batch;
    EXPECT_LE(defaultVariants(batch) * batch, std::max<size_t>(batch, 16'000 + batch)) << batch;
  }
}

TEST(PayloadsTest, HttpBodiesAreCompressedAndGrpcZstdIsRefused) {
  RequestSetOptions o;
  o.protocol = Protocol::kHttpProtobuf;
  o.compression = common::Compression::kZstd;
  o.batch = 100;
  o.variants = 1;
  o.base_time_unix_nano = kBase;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_LT(set->bodyBytesPerItem(), set->encodedBytesPerItem());
  std::string plain;
  ASSERT_TRUE(
      common::decompress(common::Compression::kZstd, set->variants[0].body, 1 << 24, plain).ok());
  EXPECT_EQ(countItems(Signal::kTraces, plain, false), 100u);

  o.protocol = Protocol::kGrpc;
  EXPECT_FALSE(buildRequestSet(o).ok());
}

TEST(PayloadsTest, RejectedItemsReadsPartialSuccessInBothEncodings) {
  otlp::LogsResponse response;
  response.mutable_partial_success()->set_rejected_log_records(3);
  auto pb = rejectedItems(Signal::kLogs, false, response.SerializeAsString());
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ(*pb, 3);
  auto json = rejectedItems(Signal::kLogs, true, otlp::toOtlpJson(response));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, 3);
  EXPECT_EQ(*rejectedItems(Signal::kTraces, false, ""), 0);
  EXPECT_EQ(*rejectedItems(Signal::kMetrics, true, "{}"), 0);
  EXPECT_FALSE(rejectedItems(Signal::kTraces, true, "not json").ok());
}

TEST(PayloadsTest, ProtocolAndShapeNamesRoundTrip) {
  for (Protocol p : kAllProtocols) EXPECT_EQ(parseProtocol(protocolName(p)), p);
  EXPECT_EQ(parseProtocol("jaeger/thrift_http"), Protocol::kJaegerThriftHttp);
  EXPECT_EQ(parseShape("minimal"), Shape::kMinimal);
  EXPECT_FALSE(parseProtocol("http").has_value());
}

// zipkin/json: the realistic spans as a Zipkin v2 JSON list, which the zipkin receiver's reader
// takes whole; other signals are refused.
TEST(PayloadsTest, ZipkinJsonCarriesTheSpans) {
  RequestSetOptions o;
  o.protocol = Protocol::kZipkinJson;
  o.batch = 50;
  o.variants = 1;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok()) << set.status();
  const std::string& body = set->variants[0].body;
  zipkin::SpanList spans;
  ASSERT_TRUE(zipkin::readJsonV2(body, body.size(), spans).ok());
  EXPECT_EQ(spans.spans.size(), 50u);
  o.signal = Signal::kLogs;
  EXPECT_FALSE(buildRequestSet(o).ok());
}

TEST(PayloadsTest, ZipkinProtoCarriesTheSpans) {
  RequestSetOptions o;
  o.protocol = Protocol::kZipkinProto;
  o.batch = 50;
  o.variants = 1;
  auto set = buildRequestSet(o);
  ASSERT_TRUE(set.ok()) << set.status();
  zipkin::SpanList spans;
  ASSERT_TRUE(zipkin::readProto(set->variants[0].body, spans).ok());
  EXPECT_EQ(spans.spans.size(), 50u);
}

// The realistic spans through each Jaeger format and the receiver's translation back to OTLP:
// the same span count, the same parents (from parentSpanId in Thrift, a CHILD_OF reference in
// proto) and the same attributes as the OTLP request loadgen would send.
TEST(PayloadsTest, JaegerFormatsCarryTheSpansAndTheirParents) {
  constexpr size_t kSpans = 40;
  auto original = makeRequest(Signal::kTraces, Shape::kRealistic, kSpans, 0x5eed0000, kBase);
  const auto& expected =
      static_cast<const otlp::TracesRequest&>(*original).resource_spans(0).scope_spans(0);
  for (Protocol protocol : {Protocol::kJaegerThriftHttp, Protocol::kJaegerGrpc}) {
    SCOPED_TRACE(std::string(protocolName(protocol)));
    RequestSetOptions o;
    o.protocol = protocol;
    o.batch = kSpans;
    o.variants = 1;
    o.base_time_unix_nano = kBase;
    auto set = buildRequestSet(o);
    ASSERT_TRUE(set.ok()) << set.status();
    jaeger::Batch batch;
    const std::string& body = set->variants[0].body;
    ASSERT_TRUE((protocol == Protocol::kJaegerGrpc ? jaeger::decodePostSpansRequest(body, batch)
                                                   : jaeger::decodeThriftBatch(body, false, batch))
                    .ok());
    jaeger::OtlpTranslator translator;
    std::string wire;
    ASSERT_EQ(translator.translate(batch, wire), kSpans);
    EXPECT_EQ(translator.invalidSpans(), 0u);
    otlp::TracesRequest got;
    ASSERT_TRUE(got.ParseFromString(wire));
    ASSERT_EQ(otlp::countSpans(got), kSpans);
    const auto& spans = got.resource_spans(0).scope_spans(0).spans();
    for (int i = 0; i < static_cast<int>(kSpans); ++i) {
      const auto& want = expected.spans(i);
      EXPECT_EQ(spans[i].span_id(), want.span_id());
      EXPECT_EQ(spans[i].trace_id(), want.trace_id());
      EXPECT_EQ(spans[i].parent_span_id(), want.parent_span_id()) << i;
      EXPECT_EQ(spans[i].name(), want.name());
      EXPECT_EQ(spans[i].kind(), want.kind());
      EXPECT_EQ(spans[i].start_time_unix_nano(), want.start_time_unix_nano());
      // Jaeger's Thrift model has microseconds (the documented loss).
      EXPECT_EQ(spans[i].end_time_unix_nano(), want.end_time_unix_nano() / 1000 * 1000);
      EXPECT_EQ(spans[i].attributes_size(), want.attributes_size());
      EXPECT_EQ(spans[i].events_size(), want.events_size());
    }
  }
}

}  // namespace
}  // namespace otlpd::loadgen
