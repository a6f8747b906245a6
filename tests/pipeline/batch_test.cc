#include "pipeline/batch.h"

#include <gtest/gtest.h>

namespace otlpd::pipeline {
namespace {

TEST(Batch, CopiesShareTheRequestUntilOneMutates) {
  Batch a = Batch::create(Signal::kTraces);
  a.mutableTraces().add_resource_spans()->add_scope_spans()->add_spans()->set_name("s");
  Batch b = a;  // a fan-out copy
  EXPECT_EQ(&a.request(), &b.request());

  b.mutableTraces().mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name(
      "changed");
  EXPECT_NE(&a.request(), &b.request());
  EXPECT_EQ(a.traces().resource_spans(0).scope_spans(0).spans(0).name(), "s");
  EXPECT_EQ(b.traces().resource_spans(0).scope_spans(0).spans(0).name(), "changed");
}

TEST(Batch, SoleOwnerMutatesInPlace) {
  Batch a = Batch::create(Signal::kLogs);
  const google::protobuf::Message* before = &a.request();
  a.mutableLogs().add_resource_logs();
  EXPECT_EQ(before, &a.request());
}

TEST(Batch, ItemCountPerSignal) {
  Batch traces = Batch::create(Signal::kTraces);
  auto* ss = traces.mutableTraces().add_resource_spans()->add_scope_spans();
  ss->add_spans();
  ss->add_spans();
  EXPECT_EQ(traces.itemCount(), 2u);

  Batch metrics = Batch::create(Signal::kMetrics);
  auto* sm = metrics.mutableMetrics().add_resource_metrics()->add_scope_metrics();
  auto* gauge = sm->add_metrics()->mutable_gauge();
  gauge->add_data_points();
  gauge->add_data_points();
  sm->add_metrics()->mutable_histogram()->add_data_points();
  sm->add_metrics()->mutable_exponential_histogram()->add_data_points();
  sm->add_metrics()->mutable_summary()->add_data_points();
  sm->add_metrics()->mutable_sum()->add_data_points();
  EXPECT_EQ(metrics.itemCount(), 6u);

  Batch logs = Batch::create(Signal::kLogs);
  EXPECT_TRUE(logs.empty());
  logs.mutableLogs().add_resource_logs()->add_scope_logs()->add_log_records();
  EXPECT_EQ(logs.itemCount(), 1u);
}

}  // namespace
}  // namespace otlpd::pipeline
