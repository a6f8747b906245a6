#include "pipeline/batch_ops.h"

#include <gtest/gtest.h>

#include "pipeline/memory_budget.h"
#include "pipeline/self_telemetry.h"

namespace otlpd::pipeline {
namespace {

Batch tracesBatch(const std::string& service, int scopes, int spans_per_scope) {
  Batch b = Batch::create(Signal::kTraces);
  auto* rs = b.mutableTraces().add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value(service);
  for (int s = 0; s < scopes; ++s) {
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("scope" + std::to_string(s));
    for (int i = 0; i < spans_per_scope; ++i) {
      ss->add_spans()->set_name(service + "/" + std::to_string(s) + "/" + std::to_string(i));
    }
  }
  return b;
}

TEST(BatchOps, MergeKeepsEveryResourceInOrder) {
  Batch merged = mergeBatches({tracesBatch("a", 1, 2), tracesBatch("b", 2, 1)});
  EXPECT_EQ(merged.itemCount(), 4u);
  ASSERT_EQ(merged.traces().resource_spans_size(), 2);
  EXPECT_EQ(merged.traces().resource_spans(1).resource().attributes(0).value().string_value(), "b");
}

TEST(BatchOps, WireBatchesMergeByConcatenatingTheirBytes) {
  otlp::LogsRequest a, b;
  a.add_resource_logs()->add_scope_logs()->add_log_records()->set_severity_text("a");
  auto* sl = b.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->set_severity_text("b1");
  sl->add_log_records()->set_severity_text("b2");
  const Batch merged = mergeBatches(
      {Batch::fromWire(Signal::kLogs, WireBytes::fromString(a.SerializeAsString()), 1),
       Batch::fromWire(Signal::kLogs, WireBytes::fromString(b.SerializeAsString()), 2)});
  ASSERT_TRUE(merged.wireBytes());
  EXPECT_EQ(*merged.wireBytes(), a.SerializeAsString() + b.SerializeAsString());
  EXPECT_EQ(merged.itemCount(), 3u);
  ASSERT_EQ(merged.logs().resource_logs_size(), 2);
  EXPECT_EQ(merged.logs().resource_logs(1).scope_logs(0).log_records(1).severity_text(), "b2");

  // With one decoded batch among them, merging decodes.
  Batch decoded = Batch::create(Signal::kLogs);
  decoded.mutableLogs() = a;
  const Batch mixed = mergeBatches(
      {decoded, Batch::fromWire(Signal::kLogs, WireBytes::fromString(b.SerializeAsString()), 2)});
  EXPECT_FALSE(mixed.wireBytes());
  EXPECT_EQ(mixed.itemCount(), 3u);
}

TEST(BatchOps, MergeKeepsMetadataOnlyWhenEveryPartSharesIt) {
  // otlpd's own telemetry shares one metadata object: merged, it stays marked (no loops).
  Batch a = tracesBatch("a", 1, 1), b = tracesBatch("b", 1, 1);
  a.setMetadata(selfTelemetryMetadata());
  b.setMetadata(selfTelemetryMetadata());
  const Batch merged = mergeBatches({a, b});
  EXPECT_TRUE(isSelfTelemetry(merged.metadata()));
  // One unmarked part: the merged batch is not otlpd's own any more.
  const Batch mixed = mergeBatches({a, tracesBatch("c", 1, 1)});
  EXPECT_EQ(mixed.metadata(), nullptr);
  EXPECT_FALSE(isSelfTelemetry(nullptr));
}

TEST(BatchOps, SplitKeepsResourceAndScopeOfEveryItem) {
  Batch big = tracesBatch("svc", 3, 5);  // 15 spans
  std::vector<Batch> parts = splitBatch(big, 4);
  ASSERT_EQ(parts.size(), 4u);
  std::vector<std::string> names;
  for (const Batch& p : parts) {
    EXPECT_LE(p.itemCount(), 4u);
    for (const auto& rs : p.traces().resource_spans()) {
      EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "svc");
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          // Each span stays under its own scope.
          EXPECT_EQ(span.name().substr(4, 1), ss.scope().name().substr(5));
          names.push_back(span.name());
        }
      }
    }
  }
  ASSERT_EQ(names.size(), 15u);
  EXPECT_EQ(names.front(), "svc/0/0");
  EXPECT_EQ(names.back(), "svc/2/4");
}

TEST(BatchOps, SplitMetricsAtDataPointGranularity) {
  Batch b = Batch::create(Signal::kMetrics);
  auto* sm = b.mutableMetrics().add_resource_metrics()->add_scope_metrics();
  auto* m = sm->add_metrics();
  m->set_name("requests");
  m->mutable_sum()->set_is_monotonic(true);
  for (int i = 0; i < 5; ++i) m->mutable_sum()->add_data_points()->set_as_int(i);
  auto* h = sm->add_metrics();
  h->set_name("latency");
  h->mutable_histogram()->add_data_points()->set_count(3);
  std::vector<Batch> parts = splitBatch(b, 2);
  ASSERT_EQ(parts.size(), 3u);
  size_t points = 0;
  for (const Batch& p : parts) points += p.itemCount();
  EXPECT_EQ(points, 6u);
  const auto& last = parts.back().metrics().resource_metrics(0).scope_metrics(0);
  // The fifth sum point and the histogram share the last part, each under its own metric.
  ASSERT_EQ(last.metrics_size(), 2);
  EXPECT_EQ(last.metrics(0).name(), "requests");
  EXPECT_TRUE(last.metrics(0).sum().is_monotonic());
  EXPECT_EQ(last.metrics(0).sum().data_points(0).as_int(), 4);
  EXPECT_EQ(last.metrics(1).name(), "latency");
}

TEST(BatchOps, SplitLogsAndSmallBatchesPassThrough) {
  Batch logs = Batch::create(Signal::kLogs);
  auto* sl = logs.mutableLogs().add_resource_logs()->add_scope_logs();
  for (int i = 0; i < 3; ++i)
    sl->add_log_records()->set_severity_number(otlp::pb_logs::SEVERITY_NUMBER_INFO);
  EXPECT_EQ(splitBatch(logs, 2).size(), 2u);
  std::vector<Batch> same = splitBatch(logs, 3);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(&same[0].request(), &logs.request());
}

TEST(MemoryBudget, ReservationsAreReturnedWhenTheLastCopyOfABatchDies) {
  MemoryBudget budget;
  budget.setLimit(1000);
  auto r = budget.tryReserve(600);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(budget.tryReserve(500).has_value());
  {
    Batch b = Batch::create(Signal::kTraces);
    b.attachReservation(*std::move(r));
    Batch copy = b;
    EXPECT_EQ(budget.inUse(), 600u);
    b = Batch::create(Signal::kTraces);
    EXPECT_EQ(budget.inUse(), 600u);  // the copy still holds the data
  }
  EXPECT_EQ(budget.inUse(), 0u);
  EXPECT_TRUE(budget.tryReserve(1000).has_value());
}

TEST(MemoryBudget, ResizeAndClonesStayCounted) {
  MemoryBudget budget;  // no limit
  Batch b = Batch::create(Signal::kTraces);
  auto r = budget.tryReserve(100);
  ASSERT_TRUE(r.has_value());
  r->resize(40);
  b.attachReservation(*std::move(r));
  EXPECT_EQ(budget.inUse(), 40u);
  Batch shared = b;
  b.mutableTraces().add_resource_spans();  // copy-on-write: the clone is counted too
  EXPECT_GT(budget.inUse(), 40u);
  shared = Batch::create(Signal::kTraces);
  b = Batch::create(Signal::kTraces);
  EXPECT_EQ(budget.inUse(), 0u);
}

}  // namespace
}  // namespace otlpd::pipeline
