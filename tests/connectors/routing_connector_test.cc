#include "connectors/routing/routing_connector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../processors/editing_test_support.h"
#include "pipeline/request_metadata.h"

namespace otlpd::connectors::routing {
namespace {

using processors::testing::CapturingConsumer;
using processors::testing::testMetrics;
using ::testing::HasSubstr;
namespace pbt = otlp::pb_trace;
namespace pbm = otlp::pb_metrics;
using pipeline::Batch;
using pipeline::Signal;

struct Wired {
  std::unique_ptr<pipeline::Connector> connector;
  std::map<std::string, std::shared_ptr<CapturingConsumer>> pipelines;
  std::string errors;
};

Wired wire(std::string_view yaml, Signal signal, std::vector<std::string> names) {
  Wired wired;
  std::vector<pipeline::ConnectorOutput> outputs;
  for (const std::string& name : names) {
    auto sink = std::make_shared<CapturingConsumer>();
    wired.pipelines[name] = sink;
    outputs.push_back({name, signal, sink});
  }
  config::ConfigErrors errors;
  auto node = config::parseYaml(yaml, "test");
  EXPECT_TRUE(node.ok());
  config::ConfigNode cfg(*node, "connectors.routing", errors);
  auto factory = makeRoutingConnectorFactory();
  auto created = factory->create(pipeline::CreateSettings{{"routing", ""}, testMetrics()}, cfg,
                                 {signal}, std::move(outputs));
  cfg.rejectUnknownKeys();
  wired.errors = errors.toString();
  if (created.ok() && errors.size() == 0) wired.connector = std::move(*created);
  return wired;
}

void addResourceSpans(otlp::TracesRequest& request, const std::string& service,
                      const std::vector<std::string>& tiers) {
  auto* rs = request.add_resource_spans();
  auto* a = rs->mutable_resource()->add_attributes();
  a->set_key("service.name");
  a->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  for (const std::string& tier : tiers) {
    auto* span = ss->add_spans();
    span->set_trace_id(std::string(16, 'a'));
    span->set_span_id(std::string(8, 'b'));
    span->set_name(service + "-" + tier);
    auto* t = span->add_attributes();
    t->set_key("tier");
    t->mutable_value()->set_string_value(tier);
  }
}

Batch wireBatch(const google::protobuf::Message& request, Signal signal, size_t items) {
  return Batch::fromWire(signal, pipeline::WireBytes::fromString(request.SerializeAsString()),
                         items);
}

std::vector<std::string> spanNames(const CapturingConsumer& sink) {
  std::vector<std::string> names;
  for (const Batch& b : sink.batches) {
    for (const auto& rs : b.traces().resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) names.push_back(s.name());
      }
    }
  }
  return names;
}

TEST(RoutingConnectorTest, RoutesResourcesByTheFirstMatchingRouteOrToTheDefault) {
  Wired w = wire(R"(
default_pipelines: [traces/other]
table:
  - statement: route() where attributes["service.name"] == "checkout"
    pipelines: [traces/checkout]
  - condition: attributes["service.name"] == "cart" or attributes["service.name"] == "checkout"
    pipelines: [traces/cart, traces/other]
)",
                 Signal::kTraces, {"traces/checkout", "traces/cart", "traces/other"});
  ASSERT_NE(w.connector, nullptr) << w.errors;
  otlp::TracesRequest request;
  addResourceSpans(request, "checkout", {"web", "db"});
  addResourceSpans(request, "cart", {"web"});
  addResourceSpans(request, "search", {"web"});
  ASSERT_TRUE(
      w.connector->input(Signal::kTraces)->consume(wireBatch(request, Signal::kTraces, 4)).ok());
  EXPECT_THAT(spanNames(*w.pipelines["traces/checkout"]),
              ::testing::ElementsAre("checkout-web", "checkout-db"));
  EXPECT_THAT(spanNames(*w.pipelines["traces/cart"]), ::testing::ElementsAre("cart-web"));
  // The second route also lists traces/other: cart and the unmatched search go there.
  EXPECT_THAT(spanNames(*w.pipelines["traces/other"]),
              ::testing::UnorderedElementsAre("cart-web", "search-web"));
  ASSERT_EQ(w.pipelines["traces/checkout"]->batches.size(), 1u);
  EXPECT_EQ(w.pipelines["traces/checkout"]->batches[0].itemCount(), 2u);
}

TEST(RoutingConnectorTest, SpanContextSplitsResources) {
  Wired w = wire(R"(
default_pipelines: [traces/rest]
table:
  - context: span
    condition: attributes["tier"] == "db"
    pipelines: [traces/db]
)",
                 Signal::kTraces, {"traces/db", "traces/rest"});
  ASSERT_NE(w.connector, nullptr) << w.errors;
  otlp::TracesRequest request;
  addResourceSpans(request, "checkout", {"web", "db", "web"});
  ASSERT_TRUE(
      w.connector->input(Signal::kTraces)->consume(wireBatch(request, Signal::kTraces, 3)).ok());
  EXPECT_THAT(spanNames(*w.pipelines["traces/db"]), ::testing::ElementsAre("checkout-db"));
  EXPECT_THAT(spanNames(*w.pipelines["traces/rest"]),
              ::testing::ElementsAre("checkout-web", "checkout-web"));
  // The resource travels with its spans on both sides.
  EXPECT_EQ(w.pipelines["traces/db"]
                ->batches[0]
                .traces()
                .resource_spans(0)
                .resource()
                .attributes(0)
                .value()
                .string_value(),
            "checkout");
}

TEST(RoutingConnectorTest, RequestContextMatchesTheClientsMetadata) {
  Wired w = wire(R"(
default_pipelines: [traces/other]
table:
  - context: request
    condition: request["X-Tenant"] == "acme"
    pipelines: [traces/acme]
)",
                 Signal::kTraces, {"traces/acme", "traces/other"});
  ASSERT_NE(w.connector, nullptr) << w.errors;
  otlp::TracesRequest request;
  addResourceSpans(request, "checkout", {"web"});
  for (const char* tenant : {"acme", "ecorp"}) {
    Batch batch = wireBatch(request, Signal::kTraces, 1);
    auto metadata = std::make_shared<pipeline::RequestMetadata>();
    metadata->add("x-tenant", tenant);
    batch.setMetadata(metadata);
    ASSERT_TRUE(w.connector->input(Signal::kTraces)->consume(std::move(batch)).ok());
  }
  ASSERT_TRUE(
      w.connector->input(Signal::kTraces)->consume(wireBatch(request, Signal::kTraces, 1)).ok());
  EXPECT_EQ(w.pipelines["traces/acme"]->batches.size(), 1u);
  EXPECT_EQ(w.pipelines["traces/other"]->batches.size(), 2u);  // ecorp, and no metadata
}

TEST(RoutingConnectorTest, MetricsCountDataPoints) {
  Wired w = wire(R"(
table:
  - context: metric
    condition: name == "http.requests"
    pipelines: [metrics/http]
)",
                 Signal::kMetrics, {"metrics/http"});
  ASSERT_NE(w.connector, nullptr) << w.errors;
  otlp::MetricsRequest request;
  auto* sm = request.add_resource_metrics()->add_scope_metrics();
  auto* m = sm->add_metrics();
  m->set_name("http.requests");
  for (int i = 0; i < 3; ++i) m->mutable_sum()->add_data_points()->set_as_int(i);
  auto* other = sm->add_metrics();
  other->set_name("cpu");
  other->mutable_gauge()->add_data_points()->set_as_double(1);
  ASSERT_TRUE(
      w.connector->input(Signal::kMetrics)->consume(wireBatch(request, Signal::kMetrics, 4)).ok());
  ASSERT_EQ(w.pipelines["metrics/http"]->batches.size(), 1u);
  EXPECT_EQ(w.pipelines["metrics/http"]->batches[0].itemCount(), 3u);
  // No default pipelines: the cpu metric is not routed anywhere, as in the Collector.
  EXPECT_EQ(w.pipelines["metrics/http"]
                ->batches[0]
                .metrics()
                .resource_metrics(0)
                .scope_metrics(0)
                .metrics_size(),
            1);
}

TEST(RoutingConnectorTest, ConfigErrorsNameTheirPlace) {
  Wired w = wire(R"(
default_pipelines: [traces/nowhere]
table:
  - statement: route() where attributes["a"] == "b"
    condition: attributes["a"] == "b"
    pipelines: [traces/a]
  - context: request
    condition: request["x"] > 3
    pipelines: [traces/a]
  - context: datapoint
    condition: attributes["a"] == "b"
    pipelines: [traces/a]
  - statement: set(attributes["a"], "b")
    pipelines: [traces/a]
  - condition: attributes["a"] == 
    pipelines: [traces/a]
  - context: log
    condition: severity_number > 3
    pipelines: [traces/a]
)",
                 Signal::kTraces, {"traces/a"});
  EXPECT_EQ(w.connector, nullptr);
  EXPECT_THAT(w.errors, HasSubstr("pipeline 'traces/nowhere' does not name this connector"));
  EXPECT_THAT(w.errors, HasSubstr("connectors.routing.table[0].condition"));
  EXPECT_THAT(w.errors, HasSubstr("either a statement or a condition"));
  EXPECT_THAT(w.errors, HasSubstr("request conditions are request[\"key\"] == \"value\""));
  EXPECT_THAT(w.errors, HasSubstr("context 'datapoint' is not supported"));
  EXPECT_THAT(w.errors, HasSubstr("a routing statement is route() where <condition>"));
  EXPECT_THAT(w.errors, HasSubstr("connectors.routing.table[4].condition"));
  EXPECT_THAT(w.errors, HasSubstr("the log context does not apply"));
}

}  // namespace
}  // namespace otlpd::connectors::routing
