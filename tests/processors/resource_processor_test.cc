#include "processors/resource/resource_processor.h"

#include <gtest/gtest.h>

#include "editing_test_support.h"
#include "pipeline/factory.h"
#include "server/builtin_components.h"

namespace otlpd::processors {
namespace {

using namespace testing;  // NOLINT: the test support's builders

// The Collector README's example.
constexpr char kReadmeExample[] = R"(attributes:
  - key: cloud.availability_zone
    value: "zone-1"
    action: upsert
  - key: k8s.cluster.name
    from_attribute: k8s-cluster
    action: insert
  - key: redundant-attribute
    action: delete
)";
const Attrs kResourceIn = {{"service.name", str("checkout")},
                           {"k8s-cluster", str("prod-eu")},
                           {"redundant-attribute", str("x")}};
constexpr char kResourceOut[] =
    "service.name=\"checkout\" k8s-cluster=\"prod-eu\" cloud.availability_zone=\"zone-1\" "
    "k8s.cluster.name=\"prod-eu\"";

class ResourceProcessorTest : public ::testing::Test {
 protected:
  std::unique_ptr<pipeline::ProcessorFactory> factory_ = resource::makeResourceProcessorFactory();
};

TEST_F(ResourceProcessorTest, ReadmeExampleOnTraces) {
  Made made = makeProcessor(*factory_, kReadmeExample, Signal::kTraces);
  otlp::TracesRequest in;
  for (int r = 0; r < 2; ++r) {
    auto* rs = in.add_resource_spans();
    setAttributes(rs->mutable_resource()->mutable_attributes(), kResourceIn);
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("lib");
    for (int i = 0; i < 3; ++i) {
      auto* span = ss->add_spans();
      span->set_name("op" + std::to_string(i));
      setAttributes(span->mutable_attributes(), {{"redundant-attribute", i64(i)}});
      setAttributes(span->add_events()->mutable_attributes(), {{"k8s-cluster", str("e")}});
    }
  }
  otlp::TracesRequest out = runTraces(made, in);
  ASSERT_EQ(out.resource_spans_size(), 2);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(render(out.resource_spans(r).resource().attributes()), kResourceOut);
    // Only the resource changes: scopes, spans and events are the bytes they were.
    EXPECT_EQ(out.resource_spans(r).scope_spans(0).SerializeAsString(),
              in.resource_spans(r).scope_spans(0).SerializeAsString());
  }
}

TEST_F(ResourceProcessorTest, ReadmeExampleOnLogs) {
  Made made = makeProcessor(*factory_, kReadmeExample, Signal::kLogs);
  otlp::LogsRequest in;
  auto* rl = in.add_resource_logs();
  setAttributes(rl->mutable_resource()->mutable_attributes(), kResourceIn);
  auto* record = rl->add_scope_logs()->add_log_records();
  record->mutable_body()->set_string_value("hello");
  setAttributes(record->mutable_attributes(), {{"redundant-attribute", str("stays")}});
  otlp::LogsRequest out = runLogs(made, in);
  ASSERT_EQ(out.resource_logs_size(), 1);
  EXPECT_EQ(render(out.resource_logs(0).resource().attributes()), kResourceOut);
  EXPECT_EQ(render(out.resource_logs(0).scope_logs(0).log_records(0).attributes()),
            "redundant-attribute=\"stays\"");
}

TEST_F(ResourceProcessorTest, ReadmeExampleOnMetrics) {
  Made made = makeProcessor(*factory_, kReadmeExample, Signal::kMetrics);
  otlp::MetricsRequest in;
  auto* rm = in.add_resource_metrics();
  setAttributes(rm->mutable_resource()->mutable_attributes(), kResourceIn);
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name("requests");
  auto* dp = m->mutable_sum()->add_data_points();
  dp->set_as_int(5);
  setAttributes(dp->mutable_attributes(), {{"redundant-attribute", str("stays")}});
  otlp::MetricsRequest out = runMetrics(made, in);
  ASSERT_EQ(out.resource_metrics_size(), 1);
  EXPECT_EQ(render(out.resource_metrics(0).resource().attributes()), kResourceOut);
  EXPECT_EQ(out.resource_metrics(0).scope_metrics(0).SerializeAsString(),
            in.resource_metrics(0).scope_metrics(0).SerializeAsString());
}

TEST_F(ResourceProcessorTest, EveryActionOnResourceAttributes) {
  Made made = makeProcessor(*factory_, R"(attributes:
  - {key: deployment.environment, value: prod, action: insert}
  - {key: host.name, value: redacted-host, action: update}
  - {key: service.namespace, from_attribute: k8s.namespace.name, action: upsert}
  - {pattern: '^tmp\.', action: delete}
  - {key: user.email, action: hash}
  - {key: k8s.pod.name, pattern: '^(?P<k8s_deployment>[a-z-]+)-[a-z0-9]+-[a-z0-9]+$', action: extract}
  - {key: process.pid, action: convert, converted_type: string}
)",
                            Signal::kTraces);
  otlp::TracesRequest in;
  auto* rs = in.add_resource_spans();
  setAttributes(rs->mutable_resource()->mutable_attributes(),
                {{"host.name", str("ip-10-0-0-1")},
                 {"k8s.namespace.name", str("shop")},
                 {"tmp.debug", boolean(true)},
                 {"user.email", str("john.doe@example.com")},
                 {"k8s.pod.name", str("checkout-7d9f8b6c5d-x2k4q")},
                 {"process.pid", i64(4127)}});
  rs->add_scope_spans()->add_spans()->set_name("op");
  otlp::TracesRequest out = runTraces(made, in);
  EXPECT_EQ(render(out.resource_spans(0).resource().attributes()),
            "host.name=\"redacted-host\" k8s.namespace.name=\"shop\" "
            "user.email=\"836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f\" "
            "k8s.pod.name=\"checkout-7d9f8b6c5d-x2k4q\" process.pid=\"4127\" "
            "deployment.environment=\"prod\" service.namespace=\"shop\" "
            "k8s_deployment=\"checkout\"");
}

TEST_F(ResourceProcessorTest, ResourceWithoutAttributesGetsThem) {
  Made made =
      makeProcessor(*factory_, "attributes: [{key: a, value: 1, action: upsert}]", Signal::kTraces);
  otlp::TracesRequest in;
  in.add_resource_spans()->add_scope_spans()->add_spans()->set_name("op");
  otlp::TracesRequest out = runTraces(made, in);
  ASSERT_EQ(out.resource_spans_size(), 1);
  EXPECT_EQ(render(out.resource_spans(0).resource().attributes()), "a=1");
  EXPECT_EQ(out.resource_spans(0).scope_spans(0).spans(0).name(), "op");
}

TEST_F(ResourceProcessorTest, ConfigErrors) {
  EXPECT_EQ(configErrors(*factory_, "{}"),
            "processors.resource.attributes (line 1:1): missing required field \"attributes\"");
  EXPECT_NE(configErrors(*factory_, "attributes: [{key: a, action: insert}]").find("needs one of"),
            std::string::npos);
  EXPECT_NE(configErrors(*factory_, "attributes: [{key: a, value: 1, action: upsert}]\nactions: []")
                .find("processors.resource.actions (line 2:1): unknown key"),
            std::string::npos);
}

TEST_F(ResourceProcessorTest, RegisteredAsABuiltin) {
  pipeline::FactoryRegistry registry;
  server::registerBuiltinComponents(registry);
  const pipeline::Factory* f = registry.find(pipeline::ComponentKind::kProcessor, "resource");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->supports(Signal::kTraces) && f->supports(Signal::kLogs) &&
              f->supports(Signal::kMetrics));
  EXPECT_NE(registry.find(pipeline::ComponentKind::kProcessor, "attributes"), nullptr);
}

}  // namespace
}  // namespace otlpd::processors
