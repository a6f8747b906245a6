#include "pipeline/batch.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

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

otlp::TracesRequest twoSpans(const std::string& first_name) {
  otlp::TracesRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  ss->add_spans()->set_name(first_name);
  ss->add_spans()->set_name("second");
  return req;
}

TEST(WireBatch, CountsFromTheSummaryAndDecodesOnFirstRead) {
  const std::string bytes = twoSpans("first").SerializeAsString();
  Batch batch = Batch::fromWire(Signal::kTraces, WireBytes::fromString(bytes), 2);
  EXPECT_EQ(batch.itemCount(), 2u);
  ASSERT_TRUE(batch.wireBytes());
  EXPECT_EQ(*batch.wireBytes(), bytes);
  EXPECT_EQ(batch.arenaBytes(), 0u);  // nothing decoded yet
  EXPECT_EQ(batch.traces().resource_spans(0).scope_spans(0).spans(0).name(), "first");
  EXPECT_GT(batch.arenaBytes(), 0u);
  EXPECT_TRUE(batch.wireBytes());  // reading keeps the bytes: they still describe the request
}

TEST(WireBatch, ReadersOnManyThreadsShareOneDecode) {
  Batch batch =
      Batch::fromWire(Signal::kTraces, WireBytes::fromString(twoSpans("a").SerializeAsString()), 2);
  std::vector<const google::protobuf::Message*> seen(8);
  std::vector<std::thread> readers;
  for (size_t i = 0; i < seen.size(); ++i) {
    readers.emplace_back([copy = batch, &seen, i] { seen[i] = &copy.request(); });
  }
  for (auto& t : readers) t.join();
  for (const auto* m : seen) EXPECT_EQ(m, &batch.request());
}

TEST(WireBatch, MutatingDropsTheBytesAndLeavesOtherCopiesAlone) {
  const std::string bytes = twoSpans("original").SerializeAsString();
  Batch a = Batch::fromWire(Signal::kTraces, WireBytes::fromString(bytes), 2);
  Batch b = a;
  b.mutableTraces().mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  EXPECT_FALSE(b.wireBytes());
  EXPECT_EQ(b.itemCount(), 3u);
  ASSERT_TRUE(a.wireBytes());
  EXPECT_EQ(*a.wireBytes(), bytes);
  EXPECT_EQ(a.itemCount(), 2u);

  a.mutableTraces().clear_resource_spans();  // the sole owner changes it in place
  EXPECT_FALSE(a.wireBytes());
  EXPECT_EQ(a.itemCount(), 0u);
}

TEST(WireBatch, BudgetCountsTheBytesThenTheDecodedRequest) {
  MemoryBudget budget;
  const std::string bytes = twoSpans("x").SerializeAsString();
  {
    Batch batch = Batch::fromWire(Signal::kTraces, WireBytes::fromString(bytes), 2);
    batch.attachReservation(budget.forceReserve(bytes.size()));
    EXPECT_EQ(budget.inUse(), bytes.size());
    EXPECT_EQ(batch.reservedBytes(), bytes.size());
    (void)batch.traces();
    EXPECT_EQ(batch.reservedBytes(), budget.inUse());
    EXPECT_GE(budget.inUse(), 2 * bytes.size() + batch.arenaBytes());
  }
  EXPECT_EQ(budget.inUse(), 0u);
}

}  // namespace
}  // namespace otlpd::pipeline
