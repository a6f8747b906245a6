#include "otlp/wire_split.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <map>

#include "otlp/proto.h"

namespace otlpd::otlp {
namespace {

using TracesRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

TracesRequest twoResources() {
  TracesRequest request;
  for (int r = 0; r < 2; ++r) {
    auto* rs = request.add_resource_spans();
    auto* attr = rs->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value("svc-" + std::to_string(r));
    rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
    for (int s = 0; s < 2; ++s) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("lib-" + std::to_string(s));
      for (int i = 0; i < 3; ++i) {
        auto* span = ss->add_spans();
        span->set_trace_id(std::string(15, '\x01') + static_cast<char>(i));
        span->set_span_id(std::string(8, static_cast<char>(r * 10 + s * 3 + i + 1)));
        span->set_name("op");
      }
    }
  }
  return request;
}

TEST(WireSplitTest, WalkAndRebuildGiveTheSameRequest) {
  const TracesRequest request = twoResources();
  const std::string bytes = request.SerializeAsString();
  ItemWalker walker;
  RequestBuilder builder;
  std::vector<uint32_t> scope_indexes;
  ASSERT_TRUE(walker
                  .walk(bytes,
                        [&](const ItemSlice& slice) {
                          builder.add(slice);
                          scope_indexes.push_back(slice.scope_index);
                        })
                  .ok());
  EXPECT_EQ(builder.items(), 12u);
  EXPECT_EQ(scope_indexes, (std::vector<uint32_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}));
  TracesRequest rebuilt;
  ASSERT_TRUE(rebuilt.ParseFromString(builder.finish()));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(request, rebuilt))
      << rebuilt.DebugString();
  EXPECT_TRUE(builder.empty());
}

TEST(WireSplitTest, RegroupsByTraceIdKeepingEnvelopes) {
  const std::string bytes = twoResources().SerializeAsString();
  ItemWalker walker;
  std::map<std::string, RequestBuilder> by_trace;
  ASSERT_TRUE(
      walker
          .walk(bytes,
                [&](const ItemSlice& s) { by_trace[std::string(spanTraceId(s.item))].add(s); })
          .ok());
  ASSERT_EQ(by_trace.size(), 3u);
  for (auto& [trace_id, builder] : by_trace) {
    TracesRequest part;
    ASSERT_TRUE(part.ParseFromString(builder.finish()));
    // Each trace has one span per (resource, scope): both resources, both scopes kept.
    ASSERT_EQ(part.resource_spans_size(), 2);
    for (const auto& rs : part.resource_spans()) {
      EXPECT_EQ(rs.schema_url(), "https://opentelemetry.io/schemas/1.21.0");
      ASSERT_EQ(rs.scope_spans_size(), 2);
      for (const auto& ss : rs.scope_spans()) {
        ASSERT_EQ(ss.spans_size(), 1);
        EXPECT_EQ(ss.spans(0).trace_id(), trace_id);
      }
    }
  }
}

TEST(WireSplitTest, EnvelopeFieldsAroundTheChildrenAreJoined) {
  // schema_url written before the scopes and the resource after them: not one slice.
  LogsRequest request;
  auto* rl = request.add_resource_logs();
  rl->set_schema_url("s");
  rl->add_scope_logs()->add_log_records()->set_severity_text("WARN");
  std::string resource_logs;
  {
    std::string inner;
    // field 3 (schema_url), field 2 (scope_logs), field 1 (resource): reverse order.
    opentelemetry::proto::logs::v1::ResourceLogs only_url;
    only_url.set_schema_url("s");
    opentelemetry::proto::logs::v1::ResourceLogs only_scopes;
    *only_scopes.add_scope_logs() = rl->scope_logs(0);
    opentelemetry::proto::logs::v1::ResourceLogs only_resource;
    auto* a = only_resource.mutable_resource()->add_attributes();
    a->set_key("service.name");
    a->mutable_value()->set_string_value("checkout");
    inner = only_url.SerializeAsString() + only_scopes.SerializeAsString() +
            only_resource.SerializeAsString();
    resource_logs = std::string(1, '\x0a') + static_cast<char>(inner.size()) + inner;
  }
  ItemWalker walker;
  RequestBuilder builder;
  std::string_view service;
  ASSERT_TRUE(walker
                  .walk(resource_logs,
                        [&](const ItemSlice& s) {
                          builder.add(s);
                          service = resourceStringAttribute(s.resource_envelope, "service.name");
                        })
                  .ok());
  EXPECT_EQ(service, "checkout");
  LogsRequest rebuilt;
  ASSERT_TRUE(rebuilt.ParseFromString(builder.finish()));
  ASSERT_EQ(rebuilt.resource_logs_size(), 1);
  EXPECT_EQ(rebuilt.resource_logs(0).schema_url(), "s");
  EXPECT_EQ(rebuilt.resource_logs(0).resource().attributes(0).value().string_value(), "checkout");
  EXPECT_EQ(rebuilt.resource_logs(0).scope_logs(0).log_records(0).severity_text(), "WARN");
}

TEST(WireSplitTest, MalformedBytesAreRefused) {
  std::string bytes = twoResources().SerializeAsString();
  bytes.resize(bytes.size() - 5);
  ItemWalker walker;
  size_t visited = 0;
  EXPECT_EQ(walker.walk(bytes, [&](const ItemSlice&) { ++visited; }).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WireSplitTest, ResourceAttributeOnlyWhenString) {
  TracesRequest request = twoResources();
  auto* a = request.mutable_resource_spans(0)->mutable_resource()->add_attributes();
  a->set_key("replicas");
  a->mutable_value()->set_int_value(3);
  ItemWalker walker;
  std::vector<std::string> seen;
  ASSERT_TRUE(
      walker
          .walk(request.SerializeAsString(),
                [&](const ItemSlice& s) {
                  seen.emplace_back(resourceStringAttribute(s.resource_envelope, "replicas"));
                  seen.emplace_back(resourceStringAttribute(s.resource_envelope, "service.name"));
                })
          .ok());
  EXPECT_EQ(seen[0], "");
  EXPECT_EQ(seen[1], "svc-0");
  EXPECT_EQ(seen.back(), "svc-1");
}

// A data member that occurs twice is merged by protobuf, so its points add up; another member
// after it replaces it (a oneof). Found by the otlp_wire_split fuzz target (1 point counted of 2).
TEST(WireSplitTest, MetricPointsCountAsProtobufMergesTheDataMember) {
  pb_metrics::Metric first, second, other;
  first.mutable_gauge()->add_data_points()->set_as_int(1);
  second.mutable_gauge()->add_data_points()->set_as_int(2);
  second.mutable_gauge()->add_data_points()->set_as_int(3);
  other.mutable_sum()->add_data_points()->set_as_int(4);
  const std::string twice = first.SerializeAsString() + second.SerializeAsString();
  pb_metrics::Metric merged;
  ASSERT_TRUE(merged.ParseFromString(twice));
  EXPECT_EQ(merged.gauge().data_points_size(), 3);
  EXPECT_EQ(metricPointCount(twice), 3u);
  const std::string replaced = twice + other.SerializeAsString();
  ASSERT_TRUE(merged.ParseFromString(replaced));
  EXPECT_EQ(merged.sum().data_points_size(), 1);
  EXPECT_EQ(metricPointCount(replaced), 1u);
}

}  // namespace
}  // namespace otlpd::otlp
