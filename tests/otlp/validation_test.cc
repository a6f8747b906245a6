#include "otlp/validation.h"

#include <gtest/gtest.h>

#include "otlp/counts.h"

namespace otlpd::otlp {
namespace {

const std::string kTraceId(16, '\x01');
const std::string kSpanId(8, '\x02');

pb_trace::Span* addSpan(TracesRequest& req, const std::string& name) {
  if (req.resource_spans_size() == 0) req.add_resource_spans()->add_scope_spans();
  auto* span = req.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  span->set_name(name);
  span->set_trace_id(kTraceId);
  span->set_span_id(kSpanId);
  span->set_start_time_unix_nano(100);
  span->set_end_time_unix_nano(200);
  return span;
}

std::vector<std::string> spanNames(const TracesRequest& req) {
  std::vector<std::string> names;
  for (const auto& s : req.resource_spans(0).scope_spans(0).spans()) names.push_back(s.name());
  return names;
}

TEST(ValidateTraces, ValidRequestIsUntouchedAndReportsNothing) {
  TracesRequest req;
  addSpan(req, "a");
  addSpan(req, "b")->set_parent_span_id(kSpanId);
  const ValidationResult r = validateTraces(req);
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_TRUE(r.error_message.empty());
  EXPECT_EQ(spanNames(req), (std::vector<std::string>{"a", "b"}));
}

TEST(ValidateTraces, RemovesEachKindOfInvalidSpanAndKeepsOrderOfTheRest) {
  TracesRequest req;
  addSpan(req, "ok1");
  addSpan(req, "zero-trace")->set_trace_id(std::string(16, '\0'));
  addSpan(req, "short-trace")->set_trace_id("abc");
  addSpan(req, "zero-span")->set_span_id(std::string(8, '\0'));
  addSpan(req, "long-span")->set_span_id(std::string(9, 'x'));
  addSpan(req, "bad-parent")->set_parent_span_id("1234");
  addSpan(req, "ok2");
  auto* backwards = addSpan(req, "end-before-start");
  backwards->set_start_time_unix_nano(500);
  backwards->set_end_time_unix_nano(400);
  addSpan(req, "bad-link")->add_links()->set_trace_id(kTraceId);  // link without span id
  addSpan(req, "ok3");

  const ValidationResult r = validateTraces(req);
  EXPECT_EQ(r.rejected, 7u);
  EXPECT_EQ(spanNames(req), (std::vector<std::string>{"ok1", "ok2", "ok3"}));
  EXPECT_NE(r.error_message.find("rejected 7 of 10 spans"), std::string::npos) << r.error_message;
  EXPECT_NE(r.error_message.find("2 spans with an invalid trace_id"), std::string::npos);
  EXPECT_NE(r.error_message.find("end time is before"), std::string::npos);
  EXPECT_NE(r.error_message.find("parent_span_id"), std::string::npos);
  EXPECT_NE(r.error_message.find("first at resourceSpans[0].scopeSpans[0].spans[1]"),
            std::string::npos)
      << r.error_message;
}

TEST(ValidateTraces, EqualStartAndEndIsValid) {
  TracesRequest req;
  auto* s = addSpan(req, "instant");
  s->set_end_time_unix_nano(s->start_time_unix_nano());
  EXPECT_EQ(validateTraces(req).rejected, 0u);
}

pb_metrics::HistogramDataPoint* addHistogramPoint(MetricsRequest& req) {
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("latency");
  auto* p = m->mutable_histogram()->add_data_points();
  p->add_explicit_bounds(1);
  p->add_explicit_bounds(5);
  p->add_bucket_counts(1);
  p->add_bucket_counts(2);
  p->add_bucket_counts(3);
  p->set_count(6);
  return p;
}

TEST(ValidateMetrics, HistogramBucketCountMustBeBoundsPlusOne) {
  MetricsRequest req;
  addHistogramPoint(req);
  EXPECT_EQ(validateMetrics(req).rejected, 0u);

  MetricsRequest bad;
  addHistogramPoint(bad)->add_bucket_counts(0);
  const ValidationResult r = validateMetrics(bad);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_NE(r.error_message.find("explicit_bounds + 1"), std::string::npos) << r.error_message;
  EXPECT_EQ(bad.resource_metrics(0).scope_metrics(0).metrics(0).histogram().data_points_size(), 0);
}

TEST(ValidateMetrics, HistogramCountsMustAddUpAndBoundsIncrease) {
  MetricsRequest wrong_count;
  addHistogramPoint(wrong_count)->set_count(7);
  EXPECT_EQ(validateMetrics(wrong_count).rejected, 1u);

  MetricsRequest unsorted;
  addHistogramPoint(unsorted)->set_explicit_bounds(1, 0.5);
  EXPECT_EQ(validateMetrics(unsorted).rejected, 1u);
}

TEST(ValidateMetrics, ExponentialHistogramSummaryAndNamelessMetrics) {
  MetricsRequest req;
  auto* sm = req.add_resource_metrics()->add_scope_metrics();
  auto* exp = sm->add_metrics();
  exp->set_name("exp");
  auto* ep = exp->mutable_exponential_histogram()->add_data_points();
  ep->set_zero_count(1);
  ep->mutable_positive()->add_bucket_counts(2);
  ep->mutable_negative()->add_bucket_counts(3);
  ep->set_count(6);  // valid
  auto* ep_bad = exp->mutable_exponential_histogram()->add_data_points();
  ep_bad->set_count(1);  // no buckets add up to 1
  auto* summary = sm->add_metrics();
  summary->set_name("summary");
  summary->mutable_summary()->add_data_points()->add_quantile_values()->set_quantile(1.5);
  auto* nameless = sm->add_metrics();
  nameless->mutable_gauge()->add_data_points()->set_as_int(1);
  nameless->mutable_gauge()->add_data_points()->set_as_int(2);

  const ValidationResult r = validateMetrics(req);
  EXPECT_EQ(r.rejected, 4u);
  EXPECT_NE(r.error_message.find("rejected 4 of 5 data points"), std::string::npos)
      << r.error_message;
  EXPECT_EQ(countDataPoints(req), 1u);
}

TEST(ValidateLogs, IdsMayBeEmptyButNotWrongLength) {
  LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  sl->add_log_records()->set_severity_text("no ids");
  auto* with_ids = sl->add_log_records();
  with_ids->set_trace_id(kTraceId);
  with_ids->set_span_id(kSpanId);
  sl->add_log_records()->set_trace_id("short");
  sl->add_log_records()->set_span_id("short");
  const ValidationResult r = validateLogs(req);
  EXPECT_EQ(r.rejected, 2u);
  EXPECT_EQ(sl->log_records_size(), 2);
  EXPECT_EQ(sl->log_records(0).severity_text(), "no ids");
}

}  // namespace
}  // namespace otlpd::otlp
