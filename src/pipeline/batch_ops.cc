#include "pipeline/batch_ops.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "otlp/counts.h"

namespace otlpd::pipeline {
namespace {

namespace pb = ::otlpd::otlp;

// Appends items to size-limited output batches. `Group` adds the resource/scope headers of the
// current item to the output being filled, once per output.
class Splitter {
 public:
  Splitter(Signal signal, size_t max_items) : signal_(signal), max_items_(max_items) {}

  // Ensures room for one more item; returns true if a new output batch was started.
  bool makeRoom() {
    if (!out_.empty() && count_ < max_items_) return false;
    out_.push_back(Batch::create(signal_));
    count_ = 0;
    return true;
  }
  void counted(size_t n = 1) { count_ += n; }
  Batch& current() { return out_.back(); }
  std::vector<Batch> take() { return std::move(out_); }

 private:
  Signal signal_;
  size_t max_items_;
  size_t count_ = 0;
  std::vector<Batch> out_;
};

std::vector<Batch> splitTraces(const pb::TracesRequest& req, size_t max_items) {
  Splitter s(Signal::kTraces, max_items);
  for (const auto& rs : req.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      pb::pb_trace::ScopeSpans* target = nullptr;
      for (const auto& span : ss.spans()) {
        if (s.makeRoom() || target == nullptr) {
          auto* out_rs = s.current().mutableTraces().add_resource_spans();
          *out_rs->mutable_resource() = rs.resource();
          out_rs->set_schema_url(rs.schema_url());
          target = out_rs->add_scope_spans();
          *target->mutable_scope() = ss.scope();
          target->set_schema_url(ss.schema_url());
        }
        *target->add_spans() = span;
        s.counted();
      }
    }
  }
  return s.take();
}

std::vector<Batch> splitLogs(const pb::LogsRequest& req, size_t max_items) {
  Splitter s(Signal::kLogs, max_items);
  for (const auto& rl : req.resource_logs()) {
    for (const auto& sl : rl.scope_logs()) {
      pb::pb_logs::ScopeLogs* target = nullptr;
      for (const auto& log : sl.log_records()) {
        if (s.makeRoom() || target == nullptr) {
          auto* out_rl = s.current().mutableLogs().add_resource_logs();
          *out_rl->mutable_resource() = rl.resource();
          out_rl->set_schema_url(rl.schema_url());
          target = out_rl->add_scope_logs();
          *target->mutable_scope() = sl.scope();
          target->set_schema_url(sl.schema_url());
        }
        *target->add_log_records() = log;
        s.counted();
      }
    }
  }
  return s.take();
}

// A copy of `metric` without its data points, to which chosen points are added.
pb::pb_metrics::Metric* addMetricShell(pb::pb_metrics::ScopeMetrics* scope,
                                       const pb::pb_metrics::Metric& metric) {
  auto* out = scope->add_metrics();
  *out = metric;
  switch (out->data_case()) {
    case pb::pb_metrics::Metric::kGauge:
      out->mutable_gauge()->clear_data_points();
      break;
    case pb::pb_metrics::Metric::kSum:
      out->mutable_sum()->clear_data_points();
      break;
    case pb::pb_metrics::Metric::kHistogram:
      out->mutable_histogram()->clear_data_points();
      break;
    case pb::pb_metrics::Metric::kExponentialHistogram:
      out->mutable_exponential_histogram()->clear_data_points();
      break;
    case pb::pb_metrics::Metric::kSummary:
      out->mutable_summary()->clear_data_points();
      break;
    case pb::pb_metrics::Metric::DATA_NOT_SET:
      break;
  }
  return out;
}

void copyPoint(const pb::pb_metrics::Metric& from, int i, pb::pb_metrics::Metric* to) {
  switch (from.data_case()) {
    case pb::pb_metrics::Metric::kGauge:
      *to->mutable_gauge()->add_data_points() = from.gauge().data_points(i);
      break;
    case pb::pb_metrics::Metric::kSum:
      *to->mutable_sum()->add_data_points() = from.sum().data_points(i);
      break;
    case pb::pb_metrics::Metric::kHistogram:
      *to->mutable_histogram()->add_data_points() = from.histogram().data_points(i);
      break;
    case pb::pb_metrics::Metric::kExponentialHistogram:
      *to->mutable_exponential_histogram()->add_data_points() =
          from.exponential_histogram().data_points(i);
      break;
    case pb::pb_metrics::Metric::kSummary:
      *to->mutable_summary()->add_data_points() = from.summary().data_points(i);
      break;
    case pb::pb_metrics::Metric::DATA_NOT_SET:
      break;
  }
}

std::vector<Batch> splitMetrics(const pb::MetricsRequest& req, size_t max_items) {
  Splitter s(Signal::kMetrics, max_items);
  for (const auto& rm : req.resource_metrics()) {
    for (const auto& sm : rm.scope_metrics()) {
      pb::pb_metrics::ScopeMetrics* target = nullptr;
      for (const auto& metric : sm.metrics()) {
        pb::pb_metrics::Metric* out_metric = nullptr;
        const int points = static_cast<int>(pb::countDataPoints(metric));
        for (int i = 0; i < points; ++i) {
          if (s.makeRoom() || target == nullptr) {
            auto* out_rm = s.current().mutableMetrics().add_resource_metrics();
            *out_rm->mutable_resource() = rm.resource();
            out_rm->set_schema_url(rm.schema_url());
            target = out_rm->add_scope_metrics();
            *target->mutable_scope() = sm.scope();
            target->set_schema_url(sm.schema_url());
            out_metric = nullptr;
          }
          if (out_metric == nullptr) out_metric = addMetricShell(target, metric);
          copyPoint(metric, i, out_metric);
          s.counted();
        }
      }
    }
  }
  return s.take();
}

Batch mergeRequests(const std::vector<Batch>& batches);

}  // namespace

Batch mergeBatches(const std::vector<Batch>& batches) {
  assert(!batches.empty());
  Batch merged = mergeRequests(batches);
  // Parts that share one metadata object (otlpd's own telemetry) keep it; mixed ones drop it.
  const auto& metadata = batches.front().sharedMetadata();
  if (metadata && std::all_of(batches.begin(), batches.end(),
                              [&](const Batch& b) { return b.sharedMetadata() == metadata; })) {
    merged.setMetadata(metadata);
  }
  return merged;
}

namespace {

Batch mergeRequests(const std::vector<Batch>& batches) {
  // Serialized Export*ServiceRequests concatenated are the merged request (repeated fields
  // append), so batches still in wire form merge without decoding.
  if (std::all_of(batches.begin(), batches.end(), [](const Batch& b) { return b.wireBytes(); })) {
    size_t size = 0, items = 0;
    for (const Batch& b : batches) {
      size += b.wireBytes()->size();
      items += b.itemCount();
    }
    std::string bytes;
    bytes.reserve(size);
    for (const Batch& b : batches) bytes.append(*b.wireBytes());
    return Batch::fromWire(batches.front().signal(), WireBytes::fromString(std::move(bytes)),
                           items);
  }
  Batch out = Batch::create(batches.front().signal());
  for (const Batch& b : batches) {
    assert(b.signal() == out.signal());
    switch (out.signal()) {
      case Signal::kTraces:
        for (const auto& rs : b.traces().resource_spans()) {
          *out.mutableTraces().add_resource_spans() = rs;
        }
        break;
      case Signal::kMetrics:
        for (const auto& rm : b.metrics().resource_metrics()) {
          *out.mutableMetrics().add_resource_metrics() = rm;
        }
        break;
      case Signal::kLogs:
        for (const auto& rl : b.logs().resource_logs()) *out.mutableLogs().add_resource_logs() = rl;
        break;
    }
  }
  return out;
}

}  // namespace

std::vector<Batch> splitBatch(const Batch& batch, size_t max_items) {
  assert(max_items > 0);
  if (batch.itemCount() <= max_items) return {batch};
  switch (batch.signal()) {
    case Signal::kTraces:
      return splitTraces(batch.traces(), max_items);
    case Signal::kMetrics:
      return splitMetrics(batch.metrics(), max_items);
    case Signal::kLogs:
      return splitLogs(batch.logs(), max_items);
  }
  return {batch};
}

}  // namespace otlpd::pipeline
